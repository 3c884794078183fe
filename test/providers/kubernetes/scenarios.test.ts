import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RuleSet } from '../../../src/compile/types.js';
import type { Plan } from '../../../src/plan/types.js';
import { createPlan } from '../../../src/plan/create-plan.js';
import type { NetworkPolicyJson } from '../../../providers/kubernetes/canonical.js';
import { connectionAllowed, type PodEndpoint } from '../../../providers/kubernetes/evaluate.js';
import { startKubernetesHarness, withTarget, type KubernetesHarness } from '../../helpers/kubernetes/harness.js';
import { kubeTarget } from '../../helpers/kubernetes/targets.js';
import { flow, fqdns, internet, ruleSet, seg, shopRules, tcp } from '../../helpers/rulesets.js';

/**
 * End to end through the real pipeline (createPlan → applyPlan) and the real client-node clients
 * over HTTP against the local API server, which checks every body against the OpenAPI schema.
 */

let h: KubernetesHarness;
const target = kubeTarget('k8s-prod');
const shop = withTarget(shopRules(), target);

beforeEach(async () => {
  h = await startKubernetesHarness();
});

afterEach(async () => {
  const rejected = [...h.server.rejected];
  await h.close();
  expect(rejected).toEqual([]);
});

const changes = (plan: Plan) => plan.targets.flatMap((t) => t.changes).map((c) => `${c.action} ${c.address}`);

async function converge(rules: RuleSet = shop): Promise<void> {
  const plan = await h.plan(rules);
  const report = await h.apply(plan, rules);
  expect(report.outcomes.filter((o) => o.status !== 'done')).toEqual([]);
  expect(changes(await h.plan(rules))).toEqual([]);
}

const writes = () => h.server.requests.filter((r) => r.method !== 'GET');

describe('kubernetes scenarios', () => {
  it('applies the shop to an empty namespace, then re-plans empty', async () => {
    const plan = await h.plan(shop);
    expect(changes(plan)).toEqual([
      'create k8s-prod.kubernetes_network_policy.shop/shop-app',
      'create k8s-prod.kubernetes_network_policy.shop/shop-db',
      'create k8s-prod.kubernetes_network_policy.shop/shop-lb',
      'create k8s-prod.kubernetes_network_policy.shop/shop-web',
    ]);
    // Every create comes with its allows at once: one POST per policy, nothing else.
    h.server.requests.length = 0;
    const report = await h.apply(plan, shop);
    expect(report.ok).toBe(true);
    expect(writes().map((r) => `${r.method} ${r.path}`)).toEqual(
      Array(4).fill('POST /apis/networking.k8s.io/v1/namespaces/shop/networkpolicies'),
    );
    const stored = h.server.list('networkpolicies');
    expect(stored.map((o) => (o['metadata'] as { labels: object }).labels)).toEqual(
      Array(4).fill({ 'app.kubernetes.io/managed-by': 'bulkhead', 'bulkhead.io/model': 'shop' }),
    );
    // What the cluster now holds enforces the model (client-node's `_from` renaming cannot drop peers).
    const policies = stored as NetworkPolicyJson[];
    const pod = (segment: string): PodEndpoint => ({
      kind: 'pod',
      namespace: 'shop',
      labels: { 'bulkhead.io/segment': segment },
      ip: '10.244.0.1',
    });
    const tcpTo = (src: PodEndpoint | { kind: 'external'; ip: string }, dst: PodEndpoint, port: number) =>
      connectionAllowed({ policies }, { src, dst, protocol: 'TCP', port });
    expect(tcpTo(pod('lb'), pod('web'), 8080)).toBe(true);
    expect(tcpTo(pod('app'), pod('web'), 8080)).toBe(false);
    expect(tcpTo(pod('web'), pod('db'), 5432)).toBe(false);
    expect(tcpTo({ kind: 'external', ip: '198.51.100.1' }, pod('lb'), 443)).toBe(true);
    expect(tcpTo({ kind: 'external', ip: '10.1.1.1' }, pod('lb'), 443)).toBe(false);
    const replan = await h.plan(shop);
    expect(changes(replan)).toEqual([]);
    // The read used the model's labels and paged (4 objects, pages of 2).
    const lists = h.server.requests.filter(
      (r) => r.method === 'GET' && r.path === '/apis/networking.k8s.io/v1/networkpolicies',
    );
    expect(
      lists.every(
        (r) =>
          r.query['labelSelector'] === 'app.kubernetes.io/managed-by=bulkhead,bulkhead.io/model=shop' &&
          r.query['limit'] === '2',
      ),
    ).toBe(true);
    expect(lists.some((r) => r.query['continue'])).toBe(true);
  });

  it('reports drift after a hand edit and puts it back', async () => {
    await converge();
    const web = structuredClone(h.server.get('networkpolicies', 'shop', 'shop-web')) as {
      spec: { ingress: { ports: { port: number }[] }[] };
    };
    web.spec.ingress[0]!.ports[0]!.port = 22;
    h.server.put('networkpolicies', web as unknown as Record<string, unknown>);
    const plan = await h.plan(shop);
    const [change] = plan.targets[0]!.changes;
    expect(change!.action).toBe('update');
    expect(change!.childChanges.map((c) => `${c.action} ${c.key}`)).toEqual([
      'delete ingress from pods{bulkhead.io/segment=lb} in ns{kubernetes.io/metadata.name=shop} TCP/22',
      'create ingress from pods{bulkhead.io/segment=lb} in ns{kubernetes.io/metadata.name=shop} TCP/8080',
    ]);
    await converge();
  });

  it('leaves an unlabelled policy alone, and refuses to plan over one that has a rendered name', async () => {
    const mine = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'allow-monitoring', namespace: 'shop' },
      spec: { podSelector: {}, ingress: [{}] },
    };
    const before = h.server.put('networkpolicies', mine);
    await converge();
    expect(h.server.get('networkpolicies', 'shop', 'allow-monitoring')).toEqual(before);
    expect(h.server.requests.some((r) => r.path.endsWith('/allow-monitoring') && r.method !== 'GET')).toBe(false);
    // An object without the labels where the model puts shop-db: the plan stops with the adopt hint.
    const other = await startKubernetesHarness();
    try {
      other.server.put('networkpolicies', {
        ...mine,
        metadata: { name: 'shop-db', namespace: 'shop', labels: { team: 'dba' } },
      });
      const plan = await other.plan(shop);
      const errors = plan.diagnostics.filter((d) => d.severity === 'error');
      expect(errors.map((d) => d.code)).toEqual(['kubernetes-unowned-in-the-way']);
      expect(errors[0]!.message).toContain(
        'kubectl label networkpolicy -n shop shop-db app.kubernetes.io/managed-by=bulkhead bulkhead.io/model=shop',
      );
    } finally {
      await other.close();
    }
  });

  it('stops on a conflict mid-apply without overwriting, and a re-run converges', async () => {
    await converge();
    const changed = withTarget(
      ruleSet({
        segments: ['lb', 'web', 'app', 'db'],
        rules: [...shopRules().rules, ...flow(seg('app'), seg('db'), tcp(6432))],
      }),
      target,
    );
    const plan = await h.plan(changed);
    expect(changes(plan)).toEqual([
      'update k8s-prod.kubernetes_network_policy.shop/shop-app',
      'update k8s-prod.kubernetes_network_policy.shop/shop-db',
    ]);
    // Someone edits shop-db between the plan's read and apply's write.
    let edited = false;
    h.server.beforeRequest = (req) => {
      if (req.method === 'PUT' && req.path.endsWith('/shop-db') && !edited) {
        edited = true;
        const db = h.server.get('networkpolicies', 'shop', 'shop-db')!;
        h.server.put('networkpolicies', {
          ...db,
          metadata: { ...(db['metadata'] as object), annotations: { note: 'hand edit' } },
        });
      }
    };
    const report = await h.apply(plan, changed);
    expect(report.ok).toBe(false);
    const failed = report.outcomes.filter((o) => o.status === 'failed');
    expect(failed.map((o) => o.id)).toEqual(['add:k8s-prod.kubernetes_network_policy.shop/shop-db']);
    expect(failed[0]!.error).toMatch(/409 .*the object has been modified.*Plan again/);
    // The hand edit survived (no lost update).
    expect(
      (h.server.get('networkpolicies', 'shop', 'shop-db')!['metadata'] as { annotations?: object }).annotations,
    ).toEqual({ note: 'hand edit' });
    h.server.beforeRequest = undefined;
    await converge(changed);
  });

  it("converges when a create finds its own object from a run that stopped after the write, and refuses someone else's", async () => {
    const plan = await h.plan(shop);
    // The previous run wrote shop-web (labelled) and died before reporting it.
    h.server.put('networkpolicies', {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: {
        name: 'shop-web',
        namespace: 'shop',
        labels: { 'app.kubernetes.io/managed-by': 'bulkhead', 'bulkhead.io/model': 'shop' },
      },
      spec: { podSelector: {} },
    });
    // Someone else created shop-db meanwhile.
    h.server.put('networkpolicies', {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'shop-db', namespace: 'shop' },
      spec: { podSelector: {} },
    });
    const report = await h.apply(plan, shop);
    const failed = report.outcomes.filter((o) => o.status === 'failed');
    expect(failed.map((o) => o.id)).toEqual(['create:k8s-prod.kubernetes_network_policy.shop/shop-db']);
    expect(failed[0]!.error).toContain("does not carry the model's labels");
    expect(
      (h.server.get('networkpolicies', 'shop', 'shop-web')!['spec'] as { ingress?: unknown[] }).ingress,
    ).toHaveLength(1);
    expect(h.server.get('networkpolicies', 'shop', 'shop-db')!['metadata']).not.toHaveProperty('labels');
    // The next plan stops at the unowned object instead of failing mid-apply.
    const next = await h.plan(shop);
    expect(next.diagnostics.map((d) => d.code)).toEqual(['kubernetes-unowned-in-the-way']);
  });

  it('is make-before-break across segments: every new allow lands before any old one goes', async () => {
    await converge();
    // web moves from 8080 to 8443: lb's egress and web's ingress both change.
    const moved = withTarget(
      ruleSet({
        segments: ['lb', 'web', 'app', 'db'],
        rules: shopRules()
          .rules.filter(
            (r) =>
              !(r.segment === 'web' && r.direction === 'ingress') && !(r.segment === 'lb' && r.direction === 'egress'),
          )
          .concat(flow(seg('lb'), seg('web'), tcp(8443))),
      }),
      target,
    );
    const plan = await h.plan(moved);
    h.server.requests.length = 0;
    const report = await h.apply(plan, moved);
    expect(report.ok).toBe(true);
    const puts = writes().map((r) => {
      const body = r.body as NetworkPolicyJson;
      // web's ingress from lb, lb's egress to web (web's own egress to app is on 8080 throughout).
      const side = body.metadata?.name === 'shop-web' ? body.spec?.ingress : body.spec?.egress;
      const ports = JSON.stringify(side).match(/"port":(8080|8443)/g) ?? [];
      return `${body.metadata?.name} ${[...new Set(ports)].sort().join(',')}`;
    });
    // Two unions (old and new port) first, then the two final bodies (new port only).
    expect(puts.slice(0, 2).sort()).toEqual(['shop-lb "port":8080,"port":8443', 'shop-web "port":8080,"port":8443']);
    expect(puts.slice(2).sort()).toEqual(['shop-lb "port":8443', 'shop-web "port":8443']);
    expect(changes(await h.plan(moved))).toEqual([]);
  });

  it('deletes the policy of a removed segment with a resourceVersion precondition', async () => {
    await converge();
    const smaller = withTarget(
      ruleSet({
        segments: ['lb', 'web', 'app'],
        rules: shopRules().rules.filter(
          (r) => r.segment !== 'db' && !(r.peer.kind === 'segment' && r.peer.name === 'db'),
        ),
      }),
      target,
    );
    const plan = await h.plan(smaller);
    expect(changes(plan)).toEqual([
      'update k8s-prod.kubernetes_network_policy.shop/shop-app',
      'delete k8s-prod.kubernetes_network_policy.shop/shop-db',
    ]);
    h.server.requests.length = 0;
    expect((await h.apply(plan, smaller)).ok).toBe(true);
    const del = writes().find((r) => r.method === 'DELETE')!;
    expect(del.path).toBe('/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies/shop-db');
    expect(del.body).toMatchObject({ preconditions: { resourceVersion: expect.stringMatching(/^\d+$/) } });
    expect(h.server.get('networkpolicies', 'shop', 'shop-db')).toBeUndefined();
  });

  it('exports kubectl-shaped snapshots that plan offline to the same result', async () => {
    await converge();
    const files = await h.provider.exportSnapshot(target as never, {});
    expect(files.map((f) => f.path)).toEqual(['networkpolicies.json']);
    const list = JSON.parse(files[0]!.content) as {
      kind: string;
      items: { apiVersion: string; kind: string; metadata: { managedFields?: unknown } }[];
    };
    expect(list.kind).toBe('List');
    expect(list.items.map((i) => `${i.apiVersion} ${i.kind}`)).toEqual(
      Array(4).fill('networking.k8s.io/v1 NetworkPolicy'),
    );
    const dir = await mkdtemp(join(tmpdir(), 'bulkhead-k8s-snap-'));
    try {
      await mkdir(join(dir, 'k8s-prod'));
      await writeFile(join(dir, 'k8s-prod', files[0]!.path), files[0]!.content);
      const offline = await createPlan(shop, {
        providers: (id) => (id === ('kubernetes' as never) ? h.provider : undefined),
        source: () => ({ kind: 'snapshot', dir }),
        resolver: async () => ({ ipv4: [], ipv6: [] }),
        allowUnresolved: true,
      });
      expect(offline.targets[0]!.source).toBe('snapshot');
      expect(changes(offline)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('kubernetes scenarios with Cilium and AdminNetworkPolicy', () => {
  it('creates CiliumNetworkPolicies and AdminNetworkPolicies the CRD schemas accept, and re-plans empty', async () => {
    const full = kubeTarget('k8s-prod', { fqdn: 'cilium', adminNetworkPolicy: true });
    const base = ruleSet({
      segments: ['lb', 'web', 'app', 'db'],
      rules: [...shopRules().rules, ...flow(seg('app'), fqdns('payments', ['api.stripe.com']), tcp(443))],
    });
    const rules = withTarget(
      {
        ...base,
        denies: [
          {
            id: 'd1',
            guardrail: 'no-ssh',
            direction: 'ingress',
            segments: ['db'],
            allSegments: false,
            peer: { kind: 'segment', name: 'lb' },
            services: [tcp(22)],
            origins: [],
          },
          {
            id: 'd2',
            guardrail: 'no-internet',
            direction: 'egress',
            segments: ['db'],
            allSegments: false,
            peer: internet(),
            services: [{ kind: 'all' }],
            origins: [],
          },
        ],
        onlys: [
          {
            guardrail: 'data-only-from-backend',
            segments: ['db'],
            fromSegments: ['app'],
            fromEntities: [],
            origins: [],
          },
        ],
      },
      full,
    );
    const plan = await h.plan(rules);
    expect(changes(plan).filter((c) => !c.includes('kubernetes_network_policy'))).toEqual([
      expect.stringMatching(
        /^create k8s-prod\.kubernetes_admin_network_policy\.shop-data-only-from-backend-db-only-[0-9a-f]{8}$/,
      ),
      expect.stringMatching(/^create k8s-prod\.kubernetes_admin_network_policy\.shop-no-internet-db-out-[0-9a-f]{8}$/),
      expect.stringMatching(/^create k8s-prod\.kubernetes_admin_network_policy\.shop-no-ssh-db-in-[0-9a-f]{8}$/),
      'create k8s-prod.kubernetes_cilium_network_policy.shop/shop-app-fqdn',
    ]);
    expect((await h.apply(plan, rules)).ok).toBe(true);
    expect(h.server.list('ciliumnetworkpolicies')).toHaveLength(1);
    expect(h.server.list('adminnetworkpolicies')).toHaveLength(3);
    expect(changes(await h.plan(rules))).toEqual([]);
    // A hand edit of the CNP is drift like any other.
    const cnp = structuredClone(h.server.get('ciliumnetworkpolicies', 'shop', 'shop-app-fqdn')!) as {
      spec: { egress: { toFQDNs?: { matchName: string }[] }[] };
    };
    cnp.spec.egress.find((e) => e.toFQDNs)!.toFQDNs!.push({ matchName: 'evil.example.com' });
    h.server.put('ciliumnetworkpolicies', cnp as unknown as Record<string, unknown>);
    expect(changes(await h.plan(rules))).toEqual([
      'update k8s-prod.kubernetes_cilium_network_policy.shop/shop-app-fqdn',
    ]);
  });
});
