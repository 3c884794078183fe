import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import {
  awsFiles,
  awsInventory,
  azureFiles,
  azureInventory,
  estateConnections,
  gcpFiles,
  gcpInventory,
} from '../flows/estates.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function workspace(files: Record<string, string | Buffer>, inventory: unknown): { dir: string; flows: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'bulkhead-discover-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  writeFileSync(join(dir, 'inventory.json'), JSON.stringify(inventory, null, 2));
  return { dir, flows: Object.keys(files) };
}

const ESTATES = [
  {
    cloud: 'aws',
    files: awsFiles,
    inventory: awsInventory,
    target: 'aws-eu-west-1: { aws: { region: "eu-west-1", vpc: "vpc-0123456789abcdef0" } }',
  },
  {
    cloud: 'azure',
    files: azureFiles,
    inventory: azureInventory,
    target:
      'azure-westeurope: { azure: { subscription: "00000000-0000-0000-0000-000000000000", resourceGroup: "shop", location: "westeurope", nsg: "shop-nsg" } }',
  },
  {
    cloud: 'gcp',
    files: gcpFiles,
    inventory: gcpInventory,
    target: 'gcp-shop-prod: { gcp: { project: "shop-prod", network: "shop-vpc" } }',
  },
] as const;

/** The rule lines of a model (without the evidence comments). */
function ruleLines(yaml: string): string[] {
  return yaml
    .split('\n')
    .filter(
      (l) => /^\s+- \{ (from|to):/.test(l) || /^ {2}[a-z0-9-]+:( \{\})?$/.test(l) || /^ {4}(ingress|egress):$/.test(l),
    );
}

describe.each(ESTATES)('discover → validate → audit on a synthetic $cloud estate', ({ files, inventory, target }) => {
  const conns = estateConnections(7);
  const { dir, flows } = workspace(files(conns), inventory());

  it('proposes the estate’s segments and rules, with evidence, and the proposal validates', async () => {
    const r = await runCli(
      [
        'discover',
        '--flows',
        ...flows,
        '--inventory',
        'inventory.json',
        '--group-by',
        'tag:tier',
        '--name',
        'shop',
        '--out',
        'proposed.yaml',
      ],
      { cwd: dir },
    );
    expect(r.stderr).toContain('flow-record-skipped');
    expect(r.code, r.stderr).toBe(0);
    const yaml = readFileSync(join(dir, 'proposed.yaml'), 'utf8');
    expect(yaml).toContain(`  ${target}`);
    expect(ruleLines(yaml)).toEqual([
      '  app:',
      '    ingress:',
      '      - { from: web, ports: [tcp/9000-9002] }',
      '    egress:',
      '      - { to: public-192-0-2-10, ports: [tcp/443] }',
      '      - { to: public-192-0-2-11, ports: [tcp/443] }',
      '  db:',
      '    ingress:',
      '      - { from: app, ports: [tcp/5432] }',
      '      - { from: host-10-0-0-5, ports: [tcp/22] }',
      '  lb:',
      '    ingress:',
      '      - { from: internet, ports: [tcp/443] }',
      '  web:',
      '    ingress:',
      '      - { from: host-10-0-0-5, ports: [tcp/22] }',
      '      - { from: lb, ports: [tcp/8080] }',
      '    egress:',
      '      - { to: host-10-200-0-53, ports: [udp/53] }',
    ]);
    // Every rule carries its evidence; the app → db count is the number of such connections.
    const dbConnections = conns.filter((c) => c.server === '10.0.4.10' && c.port === 5432).length;
    expect(yaml).toMatch(
      new RegExp(
        `# ${dbConnections} connections, [\\d.]+ kB, first seen 2026-11-01T[\\d:]+Z, last seen 2026-11-03T[\\d:]+Z\\n\\s+- \\{ from: app, ports: \\[tcp/5432\\] \\}`,
      ),
    );
    const v = await runCli(['validate', 'proposed.yaml'], { cwd: dir });
    expect(v.code, v.stderr).toBe(0);
  });

  it('audit of the discovered model denies nothing (exit 0) and every rule is used', async () => {
    const r = await runCli(
      [
        'audit',
        'proposed.yaml',
        '--flows',
        ...flows,
        '--inventory',
        'inventory.json',
        '--group-by',
        'tag:tier',
        '--format',
        'json',
      ],
      { cwd: dir },
    );
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as {
      flows: { verdict: string }[];
      unusedRules: unknown[];
      summary: { denied: number; rejected: number };
    };
    expect(report.summary.denied).toBe(0);
    expect(report.flows.length).toBeGreaterThan(0);
    expect(report.unusedRules).toEqual([]);
    expect(report.summary.rejected).toBeGreaterThan(0);
  });

  it('audit of the model with one flow removed reports exactly that flow, exit 2', async () => {
    const yaml = readFileSync(join(dir, 'proposed.yaml'), 'utf8');
    const cut = yaml.replace(/\n\s+# [^\n]*\n\s+- \{ from: app, ports: \[tcp\/5432\] \}/, '');
    expect(cut).not.toBe(yaml);
    writeFileSync(join(dir, 'cut.yaml'), cut);
    const r = await runCli(
      [
        'audit',
        'cut.yaml',
        '--flows',
        ...flows,
        '--inventory',
        'inventory.json',
        '--group-by',
        'tag:tier',
        '--format',
        'json',
      ],
      { cwd: dir },
    );
    expect(r.code, r.stderr).toBe(2);
    const report = JSON.parse(r.stdout) as {
      flows: {
        verdict: string;
        source: string;
        destination: string;
        protocol: string;
        port: number;
        count: number;
        rule: string | null;
      }[];
    };
    const denied = report.flows.filter((f) => f.verdict === 'deny');
    const expected = conns.filter((c) => c.server === '10.0.4.10' && c.port === 5432).length;
    expect(denied).toEqual([
      expect.objectContaining({
        source: 'app',
        destination: 'db',
        protocol: 'tcp',
        port: 5432,
        count: expected,
        rule: null,
      }),
    ]);
  });
});

describe('discover: bad input', () => {
  const { dir, flows } = workspace(awsFiles(estateConnections(2, 1)), awsInventory());
  it('exits 1 with a clear message, never a stack trace, and writes nothing', async () => {
    const cases: [string[], RegExp][] = [
      [
        [
          'discover',
          '--flows',
          ...flows,
          '--inventory',
          'inventory.json',
          '--group-by',
          'tag:tier',
          '--out',
          'no/such/dir/m.yaml',
        ],
        /cannot write no\/such\/dir\/m\.yaml/,
      ],
      [
        ['discover', '--flows', ...flows, '--inventory', 'inventory.json', '--group-by', 'color'],
        /--group-by needs tag:KEY/,
      ],
      [
        ['discover', '--flows', ...flows, '--inventory', 'inventory.json', '--group-by', 'tag:tier', '--name', 'Shop!'],
        /--name "Shop!"/,
      ],
      [['discover', '--flows', ...flows, '--group-by', 'tag:tier'], /an inventory is needed/],
    ];
    for (const [argv, message] of cases) {
      const r = await runCli(argv, { cwd: dir });
      expect(r.code, argv.join(' ')).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('refuses logs of one cloud with the inventory of another', async () => {
    writeFileSync(join(dir, 'nics.json'), JSON.stringify(azureInventory()));
    const r = await runCli(['discover', '--flows', ...flows, '--inventory', 'nics.json', '--group-by', 'tag:tier'], {
      cwd: dir,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the flow logs are aws's but the inventory is azure's/);
  });
});
