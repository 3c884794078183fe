import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { createFakeWorkspace, restoreProviders, TWO_SEGMENT_MODEL as MODEL } from '../helpers/fake-workspace.js';
import type { FakeCloud } from '../helpers/fake-provider.js';

let dir: string;
let cloud: FakeCloud;

beforeEach(async () => {
  ({ dir, cloud } = await createFakeWorkspace('bulkhead-drift-'));
  expect((await runCli(['apply', '--auto-approve'], { cwd: dir })).code).toBe(0);
});

afterEach(restoreProviders);

/** Out of band: SSH opened on the web group, the lb → web rule removed. */
function drift(): void {
  const web = cloud.targets.get('aws-test')!.get('shop-web')!;
  const key = 'ingress tcp/22-22 cidr:0.0.0.0/0';
  web.rules.set(key, { id: 'sgr-x', key, direction: 'ingress', service: 'tcp/22-22', peer: 'cidr:0.0.0.0/0' });
  web.rules.delete('ingress tcp/8080-8080 sg:shop-lb');
}

interface Sarif {
  $schema: string;
  version: string;
  runs: {
    tool: { driver: { name: string; rules: { id: string }[] } };
    results: {
      ruleId: string;
      level: string;
      message: { text: string };
      locations?: {
        physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number; startColumn: number } };
      }[];
    }[];
  }[];
}

describe('bulkhead drift', () => {
  it('exits 0 without drift', async () => {
    const r = await runCli(['drift'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('No drift.');
  });

  it('exits 2 and lists what differs, as text', async () => {
    drift();
    const r = await runCli(['drift'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('aws-test.fake_group.shop-web (bulkhead.yaml:8:3)');
    expect(r.stdout).toMatch(/\+ unexpected-rule +unexpected rule ingress tcp\/22-22 from 0\.0\.0\.0\/0/);
    expect(r.stdout).toMatch(/- missing-rule +missing rule ingress tcp\/8080-8080 from shop-lb/);
  });

  it('reports JSON with the items and the changes', async () => {
    drift();
    const r = await runCli(['drift', '--format', 'json'], { cwd: dir });
    expect(r.code).toBe(2);
    const doc = JSON.parse(r.stdout) as {
      formatVersion: number;
      drift: boolean;
      targets: { items: { kind: string; key?: string }[] }[];
    };
    expect(doc.formatVersion).toBe(1);
    expect(doc.drift).toBe(true);
    expect(doc.targets[0]!.items.map((i) => [i.kind, i.key])).toEqual([
      ['unexpected-rule', 'ingress tcp/22-22 cidr:0.0.0.0/0'],
      ['missing-rule', 'ingress tcp/8080-8080 sg:shop-lb'],
    ]);
  });

  it('reports SARIF 2.1.0 pointing at the model lines', async () => {
    drift();
    const r = await runCli(['drift', '--format', 'sarif'], { cwd: dir });
    expect(r.code).toBe(2);
    const sarif = JSON.parse(r.stdout) as Sarif;
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.$schema).toContain('sarif-2.1.0');
    const run = sarif.runs[0]!;
    expect(run.tool.driver.name).toBe('bulkhead');
    const ruleIds = run.tool.driver.rules.map((x) => x.id);
    for (const res of run.results) expect(ruleIds).toContain(res.ruleId);
    const missing = run.results.find((x) => x.ruleId === 'missing-rule')!;
    // The lb → web flow is written on line 9 of the model.
    expect(missing.locations![0]!.physicalLocation).toEqual({
      artifactLocation: { uri: 'bulkhead.yaml' },
      region: { startLine: 9, startColumn: expect.any(Number) },
    });
    const unexpected = run.results.find((x) => x.ruleId === 'unexpected-rule')!;
    expect(unexpected.level).toBe('error');
    // Owned by the web segment (line 8).
    expect(unexpected.locations![0]!.physicalLocation.region.startLine).toBe(8);
  });

  it("points an owned object that left the model at its target's declaration", async () => {
    await writeFile(join(dir, 'bulkhead.yaml'), MODEL.replace(/ {2}web:\n.*\n/, ''));
    const r = await runCli(['drift', '--format', 'sarif'], { cwd: dir });
    expect(r.code).toBe(2);
    const res = (JSON.parse(r.stdout) as Sarif).runs[0]!.results.find((x) => x.ruleId === 'unexpected-object')!;
    expect(res.message.text).toContain('shop-web');
    // aws-test is declared on line 4.
    expect(res.locations![0]!.physicalLocation.region.startLine).toBe(4);
  });

  it('rejects an unknown format', async () => {
    const r = await runCli(['drift', '--format', 'xml'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('unknown --format "xml"');
  });
});
