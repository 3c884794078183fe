import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PROVIDERS } from '../../providers/index.js';
import { runCli } from '../helpers/cli.js';
import { createFakeWorkspace, restoreProviders, TWO_SEGMENT_MODEL as MODEL } from '../helpers/fake-workspace.js';
import { dumpCloud, seedGroup, setFaults, type FakeCloud } from '../helpers/fake-provider.js';

let dir: string;
let cloud: FakeCloud;

beforeEach(async () => {
  ({ dir, cloud } = await createFakeWorkspace('bulkhead-apply-'));
});

afterEach(restoreProviders);

const state = () => JSON.stringify(dumpCloud(cloud));

describe('bulkhead apply', () => {
  it('refuses without a TTY and without --auto-approve, changing nothing', async () => {
    const r = await runCli(['apply'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--auto-approve');
    expect(cloud.log).toEqual([]);
  });

  it('asks on a TTY and applies only on "yes"', async () => {
    const no = await runCli(['apply'], { cwd: dir, tty: true, answers: ['y'] });
    expect(no.code).toBe(1);
    expect(no.stderr).toContain("Only 'yes' will be accepted");
    expect(no.stderr).toContain('apply cancelled');
    expect(cloud.log).toEqual([]);
    const yes = await runCli(['apply', '--no-color'], { cwd: dir, tty: true, answers: ['yes'] });
    expect(yes.code).toBe(0);
    expect(yes.stdout).toContain('Apply complete! Resources: 2 added, 0 changed, 0 destroyed');
    expect(yes.stdout).toMatch(/done {4}create aws-test\.fake_group\.shop-lb/);
    expect(yes.stderr).toContain('create:aws-test.fake_group.shop-lb: create…');
    const again = await runCli(['plan', '--detailed-exitcode'], { cwd: dir });
    expect(again.code).toBe(0);
  });

  it('applies a saved plan without the model, and refuses it once stale, saying what changed', async () => {
    expect((await runCli(['plan', '--out', 'p1.json'], { cwd: dir })).code).toBe(0);
    expect((await runCli(['plan', '--out', 'p2.json'], { cwd: dir })).code).toBe(0);
    await writeFile(join(dir, 'bulkhead.yaml'), 'not: a model\n'); // the saved plan carries its rules
    const r = await runCli(['apply', 'p1.json'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Apply complete!');
    // p2 was made against the empty cloud: it is stale now.
    const before = state();
    const stale = await runCli(['apply', 'p2.json'], { cwd: dir });
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('Target aws-test: 2 owned objects changed since the plan was made');
    expect(stale.stderr).toContain('aws-test.fake_group.shop-lb appeared');
    expect(stale.stderr).toContain('the saved plan is stale');
    expect(state()).toBe(before);
  });

  it('refuses a stale plan when only objects outside the model changed', async () => {
    await runCli(['plan', '--out', 'p.json'], { cwd: dir });
    seedGroup(cloud, 'aws-test', { name: 'shop-lb' }); // an unowned object now sits where the plan creates one
    const r = await runCli(['apply', 'p.json'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('objects outside the model changed');
  });

  it('rejects a broken plan file as invalid', async () => {
    await writeFile(join(dir, 'p.json'), JSON.stringify({ kind: 'bulkhead-plan', formatVersion: 99 }));
    const r = await runCli(['apply', 'p.json'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('saved plan format 99 is not supported');
  });

  it('--max-destroy refuses before any change', async () => {
    await runCli(['apply', '--auto-approve'], { cwd: dir });
    await writeFile(join(dir, 'bulkhead.yaml'), MODEL.replace(/ {2}web:\n.*\n/, ''));
    const before = state();
    const r = await runCli(['apply', '--auto-approve', '--max-destroy', '0'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('more than --max-destroy 0');
    expect(state()).toBe(before);
    const ok = await runCli(['apply', '--auto-approve', '--max-destroy', '5'], { cwd: dir });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('1 destroyed');
  });

  it('exits 1 with a per-step report when a step fails, and a re-run converges', async () => {
    setFaults(cloud, { failAt: 2 });
    const r = await runCli(['apply', '--auto-approve', '--parallelism', '1'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAILED .*injected failure at call 2/);
    expect(r.stdout).toContain('Apply incomplete:');
    expect(r.stdout).toMatch(/skipped .*: (add|create):aws-test\.fake_group\.shop-\w+ failed/);
    setFaults(cloud, {});
    expect((await runCli(['apply', '--auto-approve'], { cwd: dir })).code).toBe(0);
    expect((await runCli(['plan', '--detailed-exitcode'], { cwd: dir })).code).toBe(0);
  });

  it('validates --parallelism', async () => {
    const r = await runCli(['apply', '--auto-approve', '--parallelism', 'many'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--parallelism needs a whole number');
  });

  it('says so and exits 0 when there is nothing to do', async () => {
    await runCli(['apply', '--auto-approve'], { cwd: dir });
    const r = await runCli(['apply'], { cwd: dir }); // no TTY needed when there is nothing to confirm
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('No changes.');
  });

  it('refuses a plan made against snapshots', async () => {
    await runCli(['export', '--out', 'snap'], { cwd: dir });
    expect((await runCli(['plan', '--snapshots', 'snap', '--out', 'p.json'], { cwd: dir })).code).toBe(0);
    const r = await runCli(['apply', 'p.json'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('made against snapshots');
    expect(cloud.log).toEqual([]);
  });

  it('refuses when the targets change while the prompt waits', async () => {
    const r = await runCli(['apply'], {
      cwd: dir,
      tty: true,
      answers: ['yes'],
    });
    expect(r.code).toBe(0);
    // Now a change sneaks in between the plan and the answer.
    await writeFile(join(dir, 'bulkhead.yaml'), MODEL.replace('tcp/8080', 'tcp/8081'));
    const fake = PROVIDERS.aws!();
    let reads = 0;
    PROVIDERS.aws = () => ({
      ...fake,
      read: async (...args) => {
        reads++;
        if (reads === 2) seedGroup(cloud, 'aws-test', { name: 'intruder' });
        return fake.read(...args);
      },
    });
    const before = JSON.stringify(dumpCloud(cloud));
    const late = await runCli(['apply'], { cwd: dir, tty: true, answers: ['yes'] });
    expect(late.code).toBe(1);
    expect(late.stderr).toContain('the state changed during confirmation');
    const after = JSON.parse(JSON.stringify(dumpCloud(cloud))) as Record<string, { name: string }[]>;
    expect(JSON.stringify({ 'aws-test': after['aws-test']!.filter((g) => g.name !== 'intruder') })).toBe(before);
  });
});
