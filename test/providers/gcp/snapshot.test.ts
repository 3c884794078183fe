import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileFile } from '../../../src/compile/index.js';
import { createPlan } from '../../../src/plan/create-plan.js';
import { diffResources } from '../../../src/plan/diff.js';
import { createSnapshotResolver } from '../../../src/resolve.js';
import { createGcpProvider } from '../../../providers/gcp/index.js';
import { parseFirewallRulesJson, parsePolicyJson, SNAPSHOT_FILES } from '../../../providers/gcp/snapshot.js';
import { firewallPolicyRulesCliJson } from '../../../providers/gcp/cli-json.js';
import { runCli } from '../../helpers/cli.js';
import { GCP_FIXTURES } from '../../helpers/gcp/discovery.js';

const repo = join(import.meta.dirname, '../../..');

async function shop() {
  const r = await compileFile(join(repo, 'policies/shop.yaml'), { cwd: repo });
  if (!r.ok) throw new Error(JSON.stringify(r.diagnostics));
  const target = r.value.targets.find((t) => t.name === 'gcp-prod')!;
  return { rules: r.value, target };
}

describe('gcp snapshots', () => {
  it('plans the README quick start against the bundled gcp-prod snapshot: creates, updates and deletes', async () => {
    const { rules } = await shop();
    const provider = createGcpProvider();
    const dir = join(repo, 'policies/snapshots/shop');
    const plan = await createPlan(rules, {
      providers: (id) => (id === 'gcp' ? provider : undefined),
      source: () => ({ kind: 'snapshot', dir }),
      targets: ['gcp-prod'],
      resolver: createSnapshotResolver(dir),
    });
    const changes = plan.targets[0]!.changes;
    expect(plan.summary).toEqual({ add: 2, change: 2, destroy: 1 });
    expect(changes.filter((c) => c.action === 'delete').map((c) => c.name)).toEqual(['shop-batch-in-app-4c1e9a']);
    // Unowned rules never enter the plan.
    const names = changes.map((c) => c.name).join(' ');
    expect(names).not.toMatch(/ops-allow-iap-ssh|default-allow-internal/);
    const policy = changes.find((c) => c.name === 'shop-egress')!;
    expect(policy.childChanges.map((c) => c.key)).toHaveLength(1);
    expect(plan.targets[0]!.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  });

  it('bulkhead plan --snapshots prints the gcp-prod summary line', async () => {
    const res = await runCli(
      ['plan', 'policies/shop.yaml', '--snapshots', 'policies/snapshots/shop', '--target', 'gcp-prod'],
      { cwd: repo },
    );
    expect(res.stdout).toContain('Plan: 2 to add, 2 to change, 1 to destroy.');
    expect(res.stdout).not.toContain('ops-allow-iap-ssh');
  });

  it('render --provider gcp --json prints gcloud-shaped rules that read back as a snapshot with no diff', async () => {
    const res = await runCli(
      ['render', 'policies/shop.yaml', '--provider', 'gcp', '--snapshots', 'policies/snapshots/shop', '--json'],
      { cwd: repo },
    );
    expect(res.code).toBe(0);
    const printed = JSON.parse(res.stdout) as unknown;
    const list = (Array.isArray(printed) ? printed : Object.values(printed as object).flat()) as Record<
      string,
      unknown
    >[];
    expect(list.length).toBeGreaterThan(10);
    for (const fw of list) {
      expect(fw['kind']).toBe('compute#firewall');
      expect(String(fw['network'])).toMatch(
        /^https:\/\/www\.googleapis\.com\/compute\/v1\/projects\/shop-prod\/global\/networks\/shop-vpc$/,
      );
      expect(Object.keys(fw)).toEqual([...Object.keys(fw)].sort());
      expect(fw['allowed'] ?? fw['denied']).toBeTruthy();
    }
    // Round trip: the printed rules (plus the policy in describe shape) as a snapshot → empty plan.
    const { rules, target } = await shop();
    const provider = createGcpProvider();
    const desired = provider.render(rules, target, { resolved: new Map() });
    const dir = await mkdtemp(join(tmpdir(), 'bulkhead-gcp-snap-'));
    try {
      await mkdir(join(dir, 'gcp-prod'));
      await writeFile(join(dir, 'gcp-prod', SNAPSHOT_FILES.firewalls), JSON.stringify(list));
      const [policy] = firewallPolicyRulesCliJson(desired, target) as unknown[];
      await writeFile(join(dir, 'gcp-prod', SNAPSHOT_FILES.policy), JSON.stringify(policy));
      const state = await provider.read(target, { kind: 'snapshot', dir }, { model: 'shop' });
      expect(state.diagnostics).toEqual([]);
      expect(diffResources(desired, state.resources)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('parses the vendor examples (forseti list pages, CAI dump, gcpdiag) and rejects what is not an export', async () => {
    for (const f of ['forseti-firewalls.list.page1.json', 'forseti-firewalls.list.page2.json']) {
      const parsed = parseFirewallRulesJson(await readFile(join(GCP_FIXTURES, f), 'utf8'));
      expect(parsed.ok && parsed.value.map((x) => x.name)).toEqual(
        expect.arrayContaining([expect.stringMatching(/^default-allow-/)]),
      );
    }
    const cai = (await readFile(join(GCP_FIXTURES, 'forseti-cai-firewalls.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { resource: { data: unknown } }).resource.data);
    const fromCai = parseFirewallRulesJson(JSON.stringify(cai));
    expect(fromCai.ok && fromCai.value).toHaveLength(cai.length);
    const gcpdiag = JSON.parse(
      await readFile(join(GCP_FIXTURES, 'gcpdiag-fw-policy.networks.getEffectiveFirewalls.default.json'), 'utf8'),
    ) as {
      firewalls: unknown[];
      firewallPolicys: unknown[];
    };
    expect(parseFirewallRulesJson(JSON.stringify(gcpdiag.firewalls)).ok).toBe(true);
    expect(parsePolicyJson(JSON.stringify(gcpdiag.firewallPolicys[0])).ok).toBe(true);
    expect(parseFirewallRulesJson('{"oops": 1}').ok).toBe(false);
    expect(parseFirewallRulesJson('not json').ok).toBe(false);
    expect(parseFirewallRulesJson('[{"nope": true}]').ok).toBe(false);
    expect(parsePolicyJson('[]').ok).toBe(false);
  });

  it('reports a missing snapshot file and a missing policy as errors that say how to fix them', async () => {
    const { target } = await shop();
    const provider = createGcpProvider();
    const dir = await mkdtemp(join(tmpdir(), 'bulkhead-gcp-snap-'));
    try {
      let state = await provider.read(target, { kind: 'snapshot', dir }, { model: 'shop' });
      expect(state.diagnostics.map((d) => d.code)).toEqual(['gcp-snapshot-missing']);
      expect(state.diagnostics[0]!.message).toContain(
        'gcloud compute firewall-rules list --project shop-prod --format=json',
      );
      await mkdir(join(dir, 'gcp-prod'));
      await writeFile(join(dir, 'gcp-prod', SNAPSHOT_FILES.firewalls), '[]');
      state = await provider.read(target, { kind: 'snapshot', dir }, { model: 'shop' });
      expect(state.diagnostics.map((d) => d.code)).toEqual(['gcp-firewall-policy-missing']);
      expect(state.diagnostics[0]!.message).toContain('network-firewall-policies create shop-egress');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
