import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PROVIDERS } from '../../providers/index.js';
import { runCli } from '../helpers/cli.js';
import { createFakeWorkspace, restoreProviders } from '../helpers/fake-workspace.js';

const MODEL = `bulkhead: 1
name: shop
targets:
  aws-one: { aws: { region: eu-west-1, vpc: vpc-0123456789abcdef0 } }
  aws-two: { aws: { region: eu-west-1, vpc: vpc-0123456789abcdef1 } }
entities:
  payments: { fqdns: [api.example.com] }
segments:
  web:
    ingress: [{ from: internet, ports: [tcp/443] }]
    egress: [{ to: payments, ports: [tcp/443] }]
`;

let dir: string;

beforeEach(async () => {
  const dns = { 'api.example.com': { ipv4: ['192.0.2.10'], ipv6: [] } };
  ({ dir } = await createFakeWorkspace('bulkhead-render-', MODEL, { 'dns.json': JSON.stringify(dns) }));
});

afterEach(restoreProviders);

describe('bulkhead render', () => {
  it("prints the provider's CLI JSON of a target, FQDNs resolved from dns.json", async () => {
    const r = await runCli(['render', '--provider', 'aws', '--target', 'aws-two', '--snapshots', '.', '--json'], {
      cwd: dir,
    });
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { SecurityGroups: { GroupName: string; Rules: { peer: string }[] }[] };
    expect(doc.SecurityGroups.map((g) => g.GroupName)).toEqual(['shop-web']);
    expect(doc.SecurityGroups[0]!.Rules.map((x) => x.peer)).toContain('cidr:192.0.2.10/32');
  });

  it('prints YAML without anchors or aliases where the CLI JSON shares a list between rules', async () => {
    const gcp = await createFakeWorkspace(
      'bulkhead-render-yaml-',
      `bulkhead: 1
name: shop
targets:
  gcp-one: { gcp: { project: shop-prod, network: default } }
segments:
  web:
    ingress: [{ from: internet, ports: [tcp/443] }]
  api:
    ingress: [{ from: internet, ports: [tcp/443] }]
`,
      { 'dns.json': '{}' },
    );
    restoreProviders(); // the real GCP provider, not the workspace's fake cloud
    const yaml = await runCli(['render', '--provider', 'gcp', '--snapshots', '.', '--format', 'yaml'], {
      cwd: gcp.dir,
    });
    const json = await runCli(['render', '--provider', 'gcp', '--snapshots', '.', '--json'], { cwd: gcp.dir });
    expect(yaml.code).toBe(0);
    expect(yaml.stdout).not.toMatch(/[&*][a-z]\d/);
    // The same rules as the JSON, every list in full (web's and api's 443 entries, v4 and v6 rules each).
    const { parse } = await import('yaml');
    expect(parse(yaml.stdout.replace(/^---\n/, ''))).toEqual(JSON.parse(json.stdout));
    expect(yaml.stdout.match(/- IPProtocol: tcp\n\s+ports:\n\s+- "443"/g)?.length).toBe(4);
  });

  it('needs --target when the cloud has several targets, and checks its cloud', async () => {
    const r = await runCli(['render', '--provider', 'aws', '--snapshots', '.', '--json'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('pick one with --target (aws-one, aws-two)');
    const gcp = await runCli(['render', '--provider', 'gcp', '--snapshots', '.', '--json'], { cwd: dir });
    expect(gcp.code).toBe(1);
    expect(gcp.stderr).toMatch(/no gcp target|not available/);
    const azure = await runCli(['render', '--provider', 'azure', '--json'], { cwd: dir });
    expect(azure.code).toBe(1);
    expect(azure.stderr).toContain('provider azure is not available yet');
  });

  it('names the clouds in words: "an AWS target", not "a aws target"', async () => {
    PROVIDERS.gcp = PROVIDERS.aws!;
    const r = await runCli(['render', '--provider', 'gcp', '--target', 'aws-one', '--snapshots', '.'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Error: target aws-one is an AWS target, not GCP');
    const none = await runCli(['render', '--provider', 'gcp', '--snapshots', '.'], { cwd: dir });
    expect(none.stderr).toContain('Error: the model has no GCP target');
  });

  it('stops on an FQDN that resolves to nothing unless --allow-unresolved', async () => {
    await writeFile(join(dir, 'dns.json'), '{}');
    const r = await runCli(['render', '--provider', 'aws', '--target', 'aws-two', '--snapshots', '.', '--json'], {
      cwd: dir,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^bulkhead\.yaml:11:14: error: entity payments: api\.example\.com resolved to no address; .* \[fqdn-unresolved\]$/m,
    );
    expect(r.stdout).toBe('');
    const ok = await runCli(
      ['render', '--provider', 'aws', '--target', 'aws-two', '--snapshots', '.', '--json', '--allow-unresolved'],
      { cwd: dir },
    );
    expect(ok.code).toBe(0);
    expect(ok.stderr).toMatch(
      /warning: entity payments: api\.example\.com resolved to no address.*\[fqdn-unresolved\]/,
    );
  });

  it('rejects an unknown provider', async () => {
    const r = await runCli(['render', '--provider', 'oracle'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('unknown --provider "oracle"');
  });
});
