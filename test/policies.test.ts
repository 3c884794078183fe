import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { collectFqdns } from '../src/resolve.js';
import { compileFile, createPlan, createSnapshotResolver, getProvider, type RuleSet } from '../src/index.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const models = readdirSync(join(repo, 'policies')).filter((f) => f.endsWith('.yaml'));

/** Snapshots of clouds where the model was never applied: nothing owned, policies present but empty. */
function emptySnapshots(rules: RuleSet): string {
  const dir = mkdtempSync(join(tmpdir(), 'bulkhead-empty-'));
  for (const t of rules.targets) {
    const at = join(dir, t.name);
    mkdirSync(at);
    if (t.kind === 'aws') writeFileSync(join(at, 'describe-security-groups.json'), '{"SecurityGroups":[]}');
    if (t.kind === 'kubernetes') {
      writeFileSync(join(at, 'networkpolicies.json'), '{"apiVersion":"v1","kind":"List","items":[]}');
      if (t.kubernetes.fqdn === 'cilium')
        writeFileSync(join(at, 'ciliumnetworkpolicies.json'), '{"apiVersion":"v1","kind":"List","items":[]}');
      if (t.kubernetes.adminNetworkPolicy)
        writeFileSync(join(at, 'adminnetworkpolicies.json'), '{"apiVersion":"v1","kind":"List","items":[]}');
    }
    if (t.kind === 'gcp') {
      writeFileSync(join(at, 'firewall-rules.json'), '[]');
      if (t.gcp.firewallPolicy) {
        const network = `https://www.googleapis.com/compute/v1/projects/${t.gcp.project}/global/networks/${t.gcp.network}`;
        const policy = {
          kind: 'compute#firewallPolicy',
          name: t.gcp.firewallPolicy,
          id: '1',
          fingerprint: 'AA==',
          rules: [],
          associations: [{ name: 'a', attachmentTarget: network }],
        };
        writeFileSync(join(at, 'firewall-policy.json'), JSON.stringify(policy));
      }
    }
  }
  const dns = Object.fromEntries(
    collectFqdns(rules).map((f, i) => [f, { ipv4: [`192.0.2.${i + 1}`], ipv6: [`2001:db8::${i + 1}`] }]),
  );
  writeFileSync(join(dir, 'dns.json'), JSON.stringify(dns));
  return dir;
}

describe('the bundled example policies', () => {
  it.each(models)('%s plans on every one of its targets from an empty cloud, creating only', async (file) => {
    const compiled = await compileFile(`policies/${file}`, { cwd: repo });
    expect(compiled.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const rules = compiled.value!;
    const dir = emptySnapshots(rules);
    const plan = await createPlan(rules, {
      providers: getProvider,
      source: () => ({ kind: 'snapshot', dir }),
      resolver: createSnapshotResolver(dir),
    });
    const errors = [...plan.diagnostics, ...plan.targets.flatMap((t) => t.diagnostics)].filter(
      (d) => d.severity === 'error',
    );
    expect(errors).toEqual([]);
    expect(plan.targets.map((t) => t.target).sort()).toEqual(rules.targets.map((t) => t.name).sort());
    for (const t of plan.targets) {
      expect(t.changes.length).toBeGreaterThan(0);
      // Nothing is owned yet, so nothing can be destroyed; a GCP policy that exists is only updated.
      expect(t.changes.filter((c) => c.action === 'delete' || c.action === 'replace')).toEqual([]);
    }
  });
});
