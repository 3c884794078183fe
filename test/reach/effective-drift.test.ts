import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatPortMatch } from '../../src/model/services.js';
import { probeServices } from '../../src/reach/effective-drift.js';
import { runCli } from '../helpers/cli.js';
import { tcp } from '../helpers/rulesets.js';

const REPO = resolve(import.meta.dirname, '../..');
const SNAP = 'policies/snapshots/shop';

interface Report {
  effective: true;
  targets: Record<
    string,
    {
      source: string;
      flows: {
        source: string;
        destination: string;
        service: string;
        addresses?: string[];
        cause?: string;
        rules: { object: string; rule: string; owned: boolean }[];
      }[];
    }
  >;
}

describe('probeServices: one probe per region between the rules boundaries', () => {
  it('cuts tcp at every range start and end, keeps ICMP types and protocol numbers apart', () => {
    const regions = probeServices([
      tcp(80),
      tcp(8000, 8100),
      { kind: 'icmp', protocol: 'icmp', type: 8, code: null },
      { kind: 'protocol', number: 50 },
      { kind: 'all' },
    ]).map((r) => formatPortMatch(r.region));
    expect(regions.filter((r) => r.startsWith('tcp'))).toEqual([
      'tcp/0-79',
      'tcp/80',
      'tcp/81-7999',
      'tcp/8000-8100',
      'tcp/8101-65535',
    ]);
    expect(regions).toContain('udp');
    expect(regions).toContain('icmp/8');
    expect(regions).toContain('icmp');
    expect(regions).toContain('icmpv6');
    expect(regions).toContain('esp');
  });
});

describe('bulkhead drift --effective', () => {
  it('reports what the live state allows beyond the model, with the opening rule, and exits 2', async () => {
    const r = await runCli(['drift', 'policies/shop.yaml', '--snapshots', SNAP, '--effective', '--format', 'json'], {
      cwd: REPO,
    });
    expect(r.code, r.stderr).toBe(2);
    const report = JSON.parse(r.stdout) as Report;
    expect(Object.keys(report.targets)).toEqual(['aws-prod', 'azure-prod', 'gcp-prod', 'k8s-prod']);
    // The AWS snapshot's lb group has a hand-added tcp/80 from 0.0.0.0/0: every public source reaches lb on 80.
    const aws = report.targets['aws-prod']!.flows;
    expect(aws.map((f) => `${f.source} -> ${f.destination} ${f.service} ${f.cause}`)).toEqual([
      'internet -> lb tcp/80 drift',
      'object-storage -> lb tcp/80 drift',
      'office -> lb tcp/80 drift',
      'payment-apis -> lb tcp/80 drift',
    ]);
    expect(aws[0]!.rules).toEqual([
      expect.objectContaining({ object: 'shop-lb', rule: 'ingress tcp 80-80 cidr:0.0.0.0/0', owned: true }),
    ]);
    // Only office's IPv4 block is open (the rule is IPv4).
    expect(aws[2]!.addresses).toEqual(['203.0.113.0/24']);
    expect(report.targets['azure-prod']!.flows).toEqual([]);
    expect(report.targets['gcp-prod']!.flows).toEqual([]);
    // The unowned allow-prometheus-scrape admits pods of another namespace only: nothing the model names.
    expect(report.targets['k8s-prod']!.flows).toEqual([]);
  });

  it('exits 0 when a target allows nothing more, and prints it', async () => {
    const r = await runCli(
      ['drift', 'policies/shop.yaml', '--snapshots', SNAP, '--effective', '--target', 'azure-prod'],
      { cwd: REPO },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('azure-prod (snapshot): allows nothing beyond the model');
    expect(r.stdout).toContain('No effective drift');
  });

  it('finds the flow a rule of another team opens (GCP, an unowned allow from anywhere to every instance)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bulkhead-effective-'));
    await cp(join(REPO, SNAP), join(dir, 'snap'), { recursive: true });
    await cp(join(REPO, 'policies'), join(dir, 'policies'), { recursive: true });
    const file = join(dir, 'snap/gcp-prod/firewall-rules.json');
    const rules = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>[];
    rules.push({
      name: 'ops-allow-metrics',
      network: 'https://www.googleapis.com/compute/v1/projects/shop-prod/global/networks/shop-vpc',
      direction: 'INGRESS',
      priority: 900,
      sourceRanges: ['0.0.0.0/0'],
      targetTags: ['shop-db'],
      allowed: [{ IPProtocol: 'tcp', ports: ['9100'] }],
    });
    await writeFile(file, JSON.stringify(rules));
    const r = await runCli(
      ['drift', 'policies/shop.yaml', '--snapshots', 'snap', '--effective', '--target', 'gcp-prod'],
      { cwd: dir },
    );
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toContain('internet -> db tcp/9100');
    expect(r.stdout).toContain('[unowned-rule]');
    expect(r.stdout).toContain(
      'VPC firewall rule ops-allow-metrics: allow INGRESS (priority 900) [not owned by the model]',
    );
    // Other segments are not targeted by it.
    expect(r.stdout).not.toContain('-> app tcp/9100');
  });

  it('refuses SARIF and a GCP order without --effective', async () => {
    const a = await runCli(['drift', 'policies/shop.yaml', '--snapshots', SNAP, '--effective', '--format', 'sarif'], {
      cwd: REPO,
    });
    expect(a.code).toBe(1);
    expect(a.stderr).toContain('--effective reports text or json');
    const b = await runCli(
      ['drift', 'policies/shop.yaml', '--snapshots', SNAP, '--policy-enforcement-order', 'BEFORE_CLASSIC_FIREWALL'],
      { cwd: REPO },
    );
    expect(b.code).toBe(1);
    expect(b.stderr).toContain('--policy-enforcement-order needs --effective');
  });
});
