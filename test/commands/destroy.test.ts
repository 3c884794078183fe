import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PROVIDERS } from '../../providers/index.js';
import type { Provider } from '../../src/provider.js';
import { runCli } from '../helpers/cli.js';
import { createFakeTerminal } from '../helpers/fake-io.js';
import { createFakeWorkspace, restoreProviders, TWO_SEGMENT_MODEL } from '../helpers/fake-workspace.js';
import { dumpCloud, seedGroup, type FakeCloud } from '../helpers/fake-provider.js';

/** The two-segment model on two AWS targets, so --target has something to leave alone. */
const MODEL = TWO_SEGMENT_MODEL.replace(
  '  aws-test: { aws: { region: eu-west-1, vpc: vpc-0123456789abcdef0 } }\n',
  '  aws-test: { aws: { region: eu-west-1, vpc: vpc-0123456789abcdef0 } }\n  aws-other: { aws: { region: eu-west-1, vpc: vpc-0123456789abcdef1 } }\n',
);

let dir: string;
let cloud: FakeCloud;

const names = (target: string): string[] =>
  ((dumpCloud(cloud) as Record<string, { name: string }[]>)[target] ?? []).map((g) => g.name);

beforeEach(async () => {
  ({ dir, cloud } = await createFakeWorkspace('bulkhead-destroy-', MODEL));
  expect((await runCli(['apply', '--auto-approve'], { cwd: dir })).code).toBe(0);
  // Objects the model does not own: one without a marker, one of another model, one named like ours.
  seedGroup(cloud, 'aws-test', {
    name: 'legacy',
    rules: [{ direction: 'ingress', service: 'tcp/22-22', peer: 'cidr:10.0.0.0/8' }],
  });
  seedGroup(cloud, 'aws-test', { name: 'billing-api', owner: 'billing' });
  seedGroup(cloud, 'aws-test', { name: 'shop-db' });
  cloud.log.length = 0;
});

afterEach(restoreProviders);

describe('bulkhead destroy', () => {
  it('deletes everything the model owns, make-before-break, and nothing else', async () => {
    const r = await runCli(['destroy', '--auto-approve'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('aws-test.fake_group.shop-lb will be destroyed');
    expect(r.stdout).toContain('Destroy complete! Resources: 0 added, 0 changed, 4 destroyed');
    expect(names('aws-test')).toEqual(['billing-api', 'legacy', 'shop-db']);
    expect(names('aws-other')).toEqual([]);
    // shop-web refers to shop-lb: its rule goes before shop-lb is deleted (the fake cloud refuses otherwise).
    expect(cloud.log.every((l) => /^(remove|delete) /.test(l))).toBe(true);
    expect(cloud.log.some((l) => /legacy|billing|shop-db/.test(l))).toBe(false);
    const again = await runCli(['destroy', '--auto-approve'], { cwd: dir });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Nothing to destroy: model shop owns no objects in aws-other, aws-test.');
  });

  it('--target destroys only in the named targets', async () => {
    const r = await runCli(['destroy', '--auto-approve', '--target', 'aws-other'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(names('aws-other')).toEqual([]);
    expect(names('aws-test')).toEqual(['billing-api', 'legacy', 'shop-db', 'shop-lb', 'shop-web']);
    const bad = await runCli(['destroy', '--auto-approve', '--target', 'aws-tset'], { cwd: dir });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('unknown target "aws-tset"');
  });

  it('asks for yes, refuses without a TTY, and Ctrl-C/Ctrl-D at the prompt cancel', async () => {
    const before = JSON.stringify(dumpCloud(cloud));
    const pipe = await runCli(['destroy'], { cwd: dir });
    expect(pipe.code).toBe(1);
    expect(pipe.stderr).toContain('refusing to destroy without confirmation');
    for (const answer of ['y', null]) {
      const r = await createFakeTerminal({ cwd: dir, answers: [answer] }).run(['destroy']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("Only 'yes' will be accepted");
      expect(r.stderr).toContain('Destroy cancelled. Nothing was changed.');
    }
    expect(JSON.stringify(dumpCloud(cloud))).toBe(before);
    const yes = await createFakeTerminal({ cwd: dir, answers: ['yes'] }).run(['destroy']);
    expect(yes.code).toBe(0);
    expect(names('aws-test')).toEqual(['billing-api', 'legacy', 'shop-db']);
  });

  it('honours --max-destroy before any change', async () => {
    const before = JSON.stringify(dumpCloud(cloud));
    const r = await runCli(['destroy', '--auto-approve', '--max-destroy', '3'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'the plan destroys 4 objects (4 resources, 0 rules), more than --max-destroy 3; nothing was changed',
    );
    expect(JSON.stringify(dumpCloud(cloud))).toBe(before);
  });

  it('Ctrl-C mid-destroy lets the running step finish, reports the rest as not started, exits 130', async () => {
    const term = createFakeTerminal({ cwd: dir, tty: false });
    const fake = PROVIDERS.aws!();
    let steps = 0;
    PROVIDERS.aws = (): Provider => ({
      ...fake,
      createApplier: (target, state, options) => {
        const inner = fake.createApplier(target, state, options);
        return {
          run: async (step) => {
            if (++steps === 1) term.interrupt();
            await inner.run(step);
          },
        };
      },
    });
    const r = await term.run(['destroy', '--auto-approve', '--parallelism', '1']);
    expect(r.code).toBe(130);
    expect(steps).toBe(1);
    expect(cloud.log).toHaveLength(1);
    expect(r.stdout).toContain('Destroy interrupted: 1 step done, 0 failed,');
    expect(r.stdout).toContain('not started: the apply was interrupted');
  });
});

describe('bulkhead destroy with a missing model', () => {
  it('is a usage error', async () => {
    await writeFile(join(dir, 'x.yaml'), 'bulkhead: 1\n');
    const r = await runCli(['destroy', 'nope.yaml', '--auto-approve'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('model file not found: nope.yaml');
  });
});
