import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { createFakeWorkspace, restoreProviders } from '../helpers/fake-workspace.js';
import { dumpCloud, type FakeCloud } from '../helpers/fake-provider.js';

let dir: string;
let cloud: FakeCloud;

beforeEach(async () => {
  ({ dir, cloud } = await createFakeWorkspace('bulkhead-show-'));
});

afterEach(restoreProviders);

describe('bulkhead show PLAN', () => {
  it('prints a saved plan like plan did, text and --json, without applying or reading anything', async () => {
    const made = await runCli(['plan', '--out', 'p.json'], { cwd: dir });
    const json = await runCli(['plan', '--json'], { cwd: dir });
    const before = JSON.stringify(dumpCloud(cloud));
    const r = await runCli(['show', 'p.json'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(made.stdout);
    expect(r.stdout).toContain('aws-test.fake_group.shop-lb will be created');
    expect(r.stderr).toContain('Saved plan of model shop (bulkhead.yaml)');
    expect(r.stderr).toContain('re-checks it against the model and the live state');
    const j = await runCli(['show', 'p.json', '--json'], { cwd: dir });
    expect(j.code).toBe(0);
    expect(j.stdout).toBe(json.stdout);
    expect(JSON.stringify(dumpCloud(cloud))).toBe(before);
    expect(cloud.log).toEqual([]);
  });

  it('says a snapshot plan cannot be applied', async () => {
    await runCli(['export', '--out', 'snap'], { cwd: dir });
    await runCli(['plan', '--snapshots', 'snap', '--out', 'p.json'], { cwd: dir });
    const r = await runCli(['show', 'p.json'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('snapshot plans cannot be applied');
  });

  it('refuses a damaged or edited plan, a model and a missing file, without a stack trace', async () => {
    await runCli(['plan', '--out', 'p.json'], { cwd: dir });
    const text = await readFile(join(dir, 'p.json'), 'utf8');
    await writeFile(join(dir, 'p.json'), text.replace('"shop-lb"', '"shop-xx"'));
    const edited = await runCli(['show', 'p.json'], { cwd: dir });
    expect(edited.code).toBe(1);
    expect(edited.stderr).toContain('p.json:1:1: error: corrupt plan file: its checksum does not match');
    await writeFile(join(dir, 'p.json'), text.slice(0, 100));
    expect((await runCli(['show', 'p.json'], { cwd: dir })).stderr).toContain('corrupt plan file (truncated');
    const model = await runCli(['show', 'bulkhead.yaml'], { cwd: dir });
    expect(model.code).toBe(1);
    expect(model.stderr).toContain(
      'bulkhead.yaml is not a saved plan (for a model, run `bulkhead plan bulkhead.yaml`)',
    );
    const missing = await runCli(['show', 'nope.json'], { cwd: dir });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('file not found: nope.json');
    for (const r of [edited, model, missing]) expect(r.stderr).not.toContain('Internal error');
  });
});
