import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

/**
 * audit on a hand-written model: workloads placed by their current security groups (the model's
 * managed names `shop-<segment>`), a guardrail, an unused rule, and the three report formats.
 */
const MODEL = `bulkhead: 1
name: shop
targets:
  aws-prod: { aws: { region: eu-west-1, vpc: vpc-0123456789abcdef0 } }
entities:
  office: { cidrs: [203.0.113.0/24] }
segments:
  web:
    ingress:
      - { from: internet, ports: [tcp/443] }
      - { from: office, ports: [tcp/8443] }
  app:
    ingress:
      - { from: web, ports: [tcp/8080] }
  db:
    ingress:
      - { from: app, ports: [tcp/5432] }
guardrails:
  - name: no-ssh-from-internet
    deny: { from: internet, ports: [tcp/22] }
`;

const eni = (id: string, ip: string, group: string) => ({
  NetworkInterfaceId: id,
  PrivateIpAddress: ip,
  Groups: [{ GroupName: group, GroupId: `sg-${id.slice(4)}` }],
  TagSet: [],
  VpcId: 'vpc-0123456789abcdef0',
  AvailabilityZone: 'eu-west-1b',
});
const INVENTORY = {
  NetworkInterfaces: [
    eni('eni-0001', '10.0.1.10', 'shop-web'),
    eni('eni-0002', '10.0.2.10', 'shop-app'),
    eni('eni-0003', '10.0.3.10', 'shop-db'),
    eni('eni-0004', '10.0.9.9', 'legacy'),
  ],
};
const t0 = 1_790_000_000;
const rec = (src: string, sp: number, dst: string, dp: number, action = 'ACCEPT', t = t0) =>
  `2 123456789012 eni-0001 ${src} ${dst} ${sp} ${dp} 6 5 500 ${t} ${t + 60} ${action} OK`;
const FLOWS = [
  rec('198.51.100.7', 50001, '10.0.1.10', 443),
  rec('10.0.1.10', 443, '198.51.100.7', 50001),
  rec('10.0.1.10', 40001, '10.0.2.10', 8080),
  rec('10.0.1.10', 40002, '10.0.2.10', 8080, 'ACCEPT', t0 + 86400),
  // web → db is not in the model: applying it would cut this.
  rec('10.0.1.10', 40003, '10.0.3.10', 5432),
  // SSH from the internet: closed by the guardrail.
  rec('198.51.100.9', 50002, '10.0.1.10', 22),
  // Already rejected by the network: only counted.
  rec('45.33.1.7', 50003, '10.0.3.10', 3306, 'REJECT'),
  // Between two non-segments: not the model's business.
  rec('10.0.9.9', 40004, '198.51.100.7', 443),
].join('\n');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bulkhead-audit-'));
  writeFileSync(join(dir, 'bulkhead.yaml'), MODEL);
  writeFileSync(join(dir, 'enis.json'), JSON.stringify(INVENTORY));
  writeFileSync(join(dir, 'flows.log'), `${FLOWS}\n`);
  writeFileSync(join(dir, 'notes.txt'), 'hello\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bulkhead audit', () => {
  it('JSON: each observed connection allowed by its rule (file:line) or denied, unused rules, exit 2', async () => {
    const r = await runCli(['audit', '--flows', 'flows.log', '--inventory', 'enis.json', '--format', 'json'], {
      cwd: dir,
    });
    expect(r.code, r.stderr).toBe(2);
    const report = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(report['flows']).toEqual([
      expect.objectContaining({
        source: 'internet',
        destination: 'web',
        protocol: 'tcp',
        port: 22,
        verdict: 'deny',
        rule: null,
        denial: 'guardrail',
        count: 1,
      }),
      expect.objectContaining({
        source: 'web',
        destination: 'db',
        protocol: 'tcp',
        port: 5432,
        verdict: 'deny',
        rule: null,
        denial: 'default-deny',
        count: 1,
      }),
      expect.objectContaining({
        source: 'internet',
        destination: 'web',
        protocol: 'tcp',
        port: 443,
        verdict: 'allow',
        rule: 'bulkhead.yaml:10:9',
        count: 1,
      }),
      {
        source: 'web',
        destination: 'app',
        protocol: 'tcp',
        port: 8080,
        verdict: 'allow',
        rule: 'bulkhead.yaml:14:9',
        reason: 'app <- web tcp/8080',
        count: 2,
        bytes: 1000,
        firstSeen: '2026-09-21T14:13:20Z',
        lastSeen: '2026-09-22T14:14:20Z',
      },
    ]);
    expect(report['unusedRules']).toEqual([
      { rule: 'bulkhead.yaml:11:9', label: expect.stringContaining('office') },
      { rule: 'bulkhead.yaml:17:9', label: expect.stringContaining('app') },
    ]);
    expect(report['summary']).toEqual({ allowed: 2, denied: 2, outside: 1, rejected: 1, workloadsInSegments: 3 });
  });

  it('text: what would be cut, what is allowed by which rule, what nothing used', async () => {
    const r = await runCli(['audit', '--flows', 'flows.log', '--inventory', 'enis.json'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('Denied: 2 (applying this model would cut these)');
    expect(r.stdout).toContain('  - web -> db tcp/5432: 1 connection, first seen 2026-09-21T14:13:20Z');
    expect(r.stdout).toContain('guardrail "no-ssh-from-internet" (bulkhead.yaml:19:5)');
    expect(r.stdout).toContain('  + web -> app tcp/8080: 2 connections, by bulkhead.yaml:14:9 (app <- web tcp/8080)');
    expect(r.stdout).toContain('  ? bulkhead.yaml:11:9');
  });

  it('SARIF: a denied flow points at its segment, an unused rule at its model line', async () => {
    const r = await runCli(['audit', '--flows', 'flows.log', '--inventory', 'enis.json', '--format', 'sarif'], {
      cwd: dir,
    });
    const sarif = JSON.parse(r.stdout) as {
      version: string;
      runs: {
        results: {
          ruleId: string;
          locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }[];
        }[];
      }[];
    };
    expect(sarif.version).toBe('2.1.0');
    const at = sarif.runs[0]!.results.map(
      (x) =>
        `${x.ruleId} ${x.locations[0]!.physicalLocation.artifactLocation.uri}:${x.locations[0]!.physicalLocation.region.startLine}`,
    );
    expect(at).toEqual([
      'denied-flow bulkhead.yaml:8',
      'denied-flow bulkhead.yaml:15',
      'unused-rule bulkhead.yaml:11',
      'unused-rule bulkhead.yaml:17',
    ]);
  });

  it('exit 0 when nothing observed would be denied', async () => {
    writeFileSync(join(dir, 'ok.log'), `${FLOWS.split('\n').slice(0, 4).join('\n')}\n`);
    const r = await runCli(['audit', '--flows', 'ok.log', '--inventory', 'enis.json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
  });

  it('errors exit 1 with a clear message, never a stack trace', async () => {
    const cases: [string[], RegExp][] = [
      [['audit', '--flows', 'flows.log'], /an inventory is needed: --inventory FILE/],
      [['audit', '--flows', 'missing.log', '--inventory', 'enis.json'], /flow log file not found: missing\.log/],
      [
        ['audit', '--flows', 'notes.txt', '--inventory', 'enis.json'],
        /notes\.txt: not a flow log Bulkhead reads \(tried AWS VPC Flow Logs, Azure VNet\/NSG flow logs, GCP VPC Flow Logs\)/,
      ],
      [['audit', '--flows', 'flows.log', '--inventory', 'notes.txt'], /notes\.txt: not valid JSON/],
      [['audit', '--flows', 'flows.log', '--inventory', 'enis.json', '--format', 'xml'], /unknown --format "xml"/],
      [
        ['audit', '--flows', 'flows.log', '--inventory', 'enis.json', '--target', 'aws-prod'],
        /--inventory FILE or --target NAME, not both/,
      ],
      [['audit', '--flows', 'flows.log', '--inventory', 'enis.json', '--since', 'yesterday'], /--since needs a time/],
      // No workload placed in a segment: a false all-clear is refused.
      [
        ['audit', '--flows', 'flows.log', '--inventory', 'enis.json', '--group-by', 'tag:team'],
        /no workload of the inventory is in a segment of bulkhead\.yaml: no tag:team value names one of its segments/,
      ],
    ];
    for (const [argv, message] of cases) {
      const r = await runCli(argv, { cwd: dir });
      expect(r.code, argv.join(' ')).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('--since/--until replay only the window', async () => {
    const r = await runCli(
      ['audit', '--flows', 'flows.log', '--inventory', 'enis.json', '--format', 'json', '--since', String(t0 + 3600)],
      { cwd: dir },
    );
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { flows: { count: number }[] };
    expect(report.flows).toEqual([expect.objectContaining({ source: 'web', destination: 'app', count: 1 })]);
  });
});
