import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PROVIDERS } from '../../providers/index.js';
import type { Provider } from '../../src/provider.js';
import { runCli } from '../helpers/cli.js';
import { createFakeWorkspace, restoreProviders } from '../helpers/fake-workspace.js';
import { seedGroup, type FakeCloud } from '../helpers/fake-provider.js';

const MODEL = `bulkhead: 1
name: shop
targets:
  aws-one: { aws: { region: eu-west-1, vpc: vpc-0123456789abcdef0 } }
  aws-two: { aws: { region: eu-west-1, vpc: vpc-0123456789abcdef1 } }
segments:
  web:
    ingress: [{ from: internet, ports: [tcp/443] }]
`;

let dir: string;
let cloud: FakeCloud;
let fake: Provider;

beforeEach(async () => {
  ({ dir, cloud, provider: fake } = await createFakeWorkspace('bulkhead-export-', MODEL));
});

afterEach(restoreProviders);

describe('bulkhead export', () => {
  it('writes <out>/<target>/<file> for the chosen target, which plan --snapshots then reads', async () => {
    seedGroup(cloud, 'aws-one', { name: 'shop-web', owner: 'shop', description: 'bulkhead shop segment web' });
    const r = await runCli(['export', '--target', 'aws-one', '--out', 'snap'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${join('snap', 'aws-one', 'groups.json')}\n`);
    const groups = JSON.parse(await readFile(join(dir, 'snap', 'aws-one', 'groups.json'), 'utf8')) as {
      name: string;
    }[];
    expect(groups.map((g) => g.name)).toEqual(['shop-web']);
    const plan = await runCli(['plan', '--snapshots', 'snap', '--target', 'aws-one', '--json'], { cwd: dir });
    expect(plan.code).toBe(0);
    const doc = JSON.parse(plan.stdout) as { targets: { source: string; changes: { action: string }[] }[] };
    expect(doc.targets[0]!.source).toBe('snapshot');
    expect(doc.targets[0]!.changes.map((c) => c.action)).toEqual(['update']);
  });

  it('exports every target by default and refuses paths that leave the folder', async () => {
    const r = await runCli(['export', '--out', 'snap'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([
      join('snap', 'aws-one', 'groups.json'),
      join('snap', 'aws-two', 'groups.json'),
    ]);
    PROVIDERS.aws = () => ({ ...fake, exportSnapshot: async () => [{ path: '../../evil.json', content: '{}' }] });
    const bad = await runCli(['export', '--out', 'snap2'], { cwd: dir });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('outside the target');
  });

  it('rejects an unknown target with a suggestion', async () => {
    const r = await runCli(['export', '--target', 'aws-on', '--out', 'snap'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('did you mean "aws-one"');
  });

  it('--no-dns leaves dns.json alone for a model with FQDNs (and no DNS query is made)', async () => {
    await writeFile(
      join(dir, 'bulkhead.yaml'),
      `${MODEL}    egress: [{ to: payments, ports: [tcp/443] }]\nentities:\n  payments: { fqdns: [api.example.com] }\n`,
    );
    const r = await runCli(['export', '--out', 'snap', '--no-dns'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('dns.json');
    await expect(readFile(join(dir, 'snap', 'dns.json'), 'utf8')).rejects.toThrow();
  });
});
