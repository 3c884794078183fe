import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileFile } from '../../../src/compile/index.js';
import { createPlan } from '../../../src/plan/create-plan.js';
import { createSnapshotResolver } from '../../../src/resolve.js';
import { createKubernetesProvider } from '../../../providers/kubernetes/index.js';
import { runCli } from '../../helpers/cli.js';

/** The shop example's Kubernetes target against its bundled snapshot (policies/snapshots/README.md). */

const repo = join(import.meta.dirname, '../../..');
const dir = join(repo, 'policies/snapshots/shop');

async function shopPlan(snapshots = dir) {
  const r = await compileFile(join(repo, 'policies/shop.yaml'), { cwd: repo });
  if (!r.ok) throw new Error(JSON.stringify(r.diagnostics));
  const provider = createKubernetesProvider();
  return createPlan(r.value, {
    providers: (id) => (id === 'kubernetes' ? provider : undefined),
    source: () => ({ kind: 'snapshot', dir: snapshots }),
    targets: ['k8s-prod'],
    resolver: createSnapshotResolver(dir),
  });
}

describe('the shop on Kubernetes (bundled k8s-prod snapshot)', () => {
  it('creates shop-db, updates shop-web and the FQDN policy, destroys shop-batch, leaves the rest alone', async () => {
    const plan = await shopPlan();
    expect(plan.summary).toEqual({ add: 1, change: 2, destroy: 1 });
    expect(plan.targets[0]!.changes.map((c) => `${c.action} ${c.address}`)).toEqual([
      'update k8s-prod.kubernetes_cilium_network_policy.shop/shop-app-fqdn',
      'delete k8s-prod.kubernetes_network_policy.shop/shop-batch',
      'create k8s-prod.kubernetes_network_policy.shop/shop-db',
      'update k8s-prod.kubernetes_network_policy.shop/shop-web',
    ]);
    expect(plan.targets[0]!.diagnostics.map((d) => d.code)).toEqual(['kubernetes-guardrails-validation-only']);
  });

  it('bulkhead plan --snapshots prints the k8s-prod summary line and never names unowned policies', async () => {
    const res = await runCli(
      ['plan', 'policies/shop.yaml', '--snapshots', 'policies/snapshots/shop', '--target', 'k8s-prod'],
      { cwd: repo },
    );
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('Plan: 1 to add, 2 to change, 1 to destroy.');
    expect(res.stdout).not.toMatch(/default-deny-all|allow-prometheus-scrape/);
  });

  it('a plan from the rendered List read back as a snapshot is empty', async () => {
    const res = await runCli(
      ['render', 'policies/shop.yaml', '--provider', 'kubernetes', '--json', '--snapshots', 'policies/snapshots/shop'],
      { cwd: repo },
    );
    expect(res.code).toBe(0);
    const list = JSON.parse(res.stdout) as { items: { kind: string }[] };
    const tmp = await mkdtemp(join(tmpdir(), 'bulkhead-k8s-shop-'));
    try {
      await mkdir(join(tmp, 'k8s-prod'));
      const file = (kind: string) =>
        JSON.stringify({ apiVersion: 'v1', kind: 'List', items: list.items.filter((i) => i.kind === kind) });
      await writeFile(join(tmp, 'k8s-prod', 'networkpolicies.json'), file('NetworkPolicy'));
      await writeFile(join(tmp, 'k8s-prod', 'ciliumnetworkpolicies.json'), file('CiliumNetworkPolicy'));
      const plan = await shopPlan(tmp);
      expect(plan.targets[0]!.changes).toEqual([]);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
});
