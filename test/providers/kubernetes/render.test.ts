import { describe, expect, it } from 'vitest';
import type { GuardrailDeny } from '../../../src/compile/types.js';
import { ANP_TYPE } from '../../../providers/kubernetes/admin.js';
import { canonicalNetworkPolicy, networkPolicyBody, NP_TYPE } from '../../../providers/kubernetes/canonical.js';
import { ciliumBody, canonicalCilium, CNP_TYPE } from '../../../providers/kubernetes/cilium.js';
import { renderKubernetes } from '../../../providers/kubernetes/render.js';
import { cidrs, flow, fqdns, internet, pos, ruleSet, seg, shopRules, tcp } from '../../helpers/rulesets.js';
import { kubeTarget, withBindings } from '../../helpers/kubernetes/targets.js';

const target = kubeTarget();

function policies(rules = shopRules([])) {
  return renderKubernetes(rules, target).resources.filter((r) => r.type === NP_TYPE);
}

function deny(overrides: Partial<GuardrailDeny> = {}): GuardrailDeny {
  return {
    id: 'd1',
    guardrail: 'no-ssh',
    direction: 'ingress',
    segments: ['db'],
    allSegments: false,
    peer: { kind: 'segment', name: 'lb' },
    services: [tcp(22)],
    origins: [{ pos: pos(40, 5), label: 'guardrail no-ssh' }],
    ...overrides,
  };
}

describe('kubernetes render', () => {
  it('renders one labelled NetworkPolicy per segment, default-deny both ways, with DNS egress', () => {
    const nps = policies();
    expect(nps.map((r) => r.address)).toEqual([
      'k8s-test.kubernetes_network_policy.shop/shop-app',
      'k8s-test.kubernetes_network_policy.shop/shop-db',
      'k8s-test.kubernetes_network_policy.shop/shop-lb',
      'k8s-test.kubernetes_network_policy.shop/shop-web',
    ]);
    const web = networkPolicyBody(nps.find((r) => r.name === 'shop-web')!);
    expect(web.metadata).toEqual({
      name: 'shop-web',
      namespace: 'shop',
      labels: { 'app.kubernetes.io/managed-by': 'bulkhead', 'bulkhead.io/model': 'shop' },
    });
    expect(web.spec).toEqual({
      podSelector: { matchLabels: { 'bulkhead.io/segment': 'web' } },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [
        {
          from: [{ podSelector: { matchLabels: { 'bulkhead.io/segment': 'lb' } } }],
          ports: [{ protocol: 'TCP', port: 8080 }],
        },
      ],
      egress: [
        {
          to: [
            {
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
              podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
            },
          ],
          ports: [
            { protocol: 'TCP', port: 53 },
            { protocol: 'UDP', port: 53 },
          ],
        },
        {
          to: [{ podSelector: { matchLabels: { 'bulkhead.io/segment': 'app' } } }],
          ports: [{ protocol: 'TCP', port: 8080 }],
        },
      ],
    });
  });

  it('renders internet as ipBlocks with except of the internal ranges, and port ranges with endPort', () => {
    const rules = ruleSet({ segments: ['lb'], rules: [...flow(internet(), seg('lb'), tcp(8000, 8080))] });
    const lb = networkPolicyBody(policies(rules)[0]!);
    expect(lb.spec?.ingress).toEqual([
      {
        from: [
          {
            ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8', '100.64.0.0/10', '172.16.0.0/12', '192.168.0.0/16'] },
          },
          { ipBlock: { cidr: '::/0', except: ['fc00::/7'] } },
        ],
        ports: [{ protocol: 'TCP', port: 8000, endPort: 8080 }],
      },
    ]);
    const custom = renderKubernetes(rules, kubeTarget('k', { internalRanges: ['10.20.0.0/16'] })).resources[0]!;
    expect(networkPolicyBody(custom).spec?.ingress?.[0]?.from).toEqual([
      { ipBlock: { cidr: '0.0.0.0/0', except: ['10.20.0.0/16'] } },
      { ipBlock: { cidr: '::/0' } },
    ]);
  });

  it('selects peers across namespaces with namespaceSelector, and custom pod labels', () => {
    const rules = withBindings(shopRules([]), { db: { namespace: 'data', podSelector: { app: 'postgres' } } });
    const nps = policies(rules);
    const db = nps.find((r) => r.name === 'shop-db')!;
    expect(db.address).toBe('k8s-test.kubernetes_network_policy.data/shop-db');
    const body = networkPolicyBody(db);
    expect(body.spec?.podSelector).toEqual({ matchLabels: { app: 'postgres' } });
    expect(body.spec?.ingress?.[0]?.from).toEqual([
      {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'shop' } },
        podSelector: { matchLabels: { 'bulkhead.io/segment': 'app' } },
      },
    ]);
    const app = networkPolicyBody(nps.find((r) => r.name === 'shop-app')!);
    expect(app.spec?.egress?.find((r) => r.ports?.[0]?.port === 5432)?.to).toEqual([
      {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'data' } },
        podSelector: { matchLabels: { app: 'postgres' } },
      },
    ]);
  });

  it('refuses ICMP and other protocols with a reason at the rule', () => {
    const rules = ruleSet({
      segments: ['a', 'b'],
      rules: [
        ...flow(seg('a'), seg('b'), { kind: 'icmp', protocol: 'icmp', type: 8, code: null }, 12),
        ...flow(seg('a'), seg('b'), { kind: 'protocol', number: 50 }, 13),
      ],
    });
    const { diagnostics } = renderKubernetes(rules, target);
    expect(diagnostics.map((d) => [d.code, d.severity, d.pos?.line])).toContainEqual([
      'kubernetes-protocol-unsupported',
      'error',
      12,
    ]);
    expect(diagnostics.find((d) => d.pos?.line === 13)?.message).toContain('IP protocol 50');
    expect(diagnostics[0]!.message).toContain('only defines TCP, UDP and SCTP');
  });

  it('turns DNS egress off with dns: false', () => {
    const r = renderKubernetes(shopRules([]), kubeTarget('k', { dns: false })).resources.find(
      (x) => x.name === 'shop-db',
    )!;
    expect(r.children).toEqual([expect.objectContaining({ key: expect.stringMatching(/^ingress from/) })]);
  });

  it('refuses FQDN egress without fqdn: cilium, renders toFQDNs and the DNS rule with it', () => {
    const rules = ruleSet({
      segments: ['app'],
      rules: [...flow(seg('app'), fqdns('payments', ['api.stripe.com', 'api.paypal.com']), tcp(443), 17)],
    });
    const refused = renderKubernetes(rules, target);
    expect(refused.diagnostics.map((d) => [d.code, d.pos?.line])).toEqual([['kubernetes-fqdn-unsupported', 17]]);
    expect(refused.diagnostics[0]!.message).toContain('fqdn: cilium');
    const cilium = renderKubernetes(rules, kubeTarget('k', { fqdn: 'cilium' }));
    expect(cilium.diagnostics).toEqual([]);
    const cnp = cilium.resources.find((r) => r.type === CNP_TYPE)!;
    expect(cnp.address).toBe('k.kubernetes_cilium_network_policy.shop/shop-app-fqdn');
    const body = ciliumBody(cnp);
    expect(body.spec).toEqual({
      endpointSelector: { matchLabels: { 'bulkhead.io/segment': 'app' } },
      egress: [
        {
          toEndpoints: [
            { matchLabels: { 'k8s:io.kubernetes.pod.namespace': 'kube-system', 'k8s:k8s-app': 'kube-dns' } },
          ],
          toPorts: [
            {
              ports: [
                { port: '53', protocol: 'TCP' },
                { port: '53', protocol: 'UDP' },
              ],
              rules: { dns: [{ matchPattern: '*' }] },
            },
          ],
        },
        {
          toFQDNs: [{ matchName: 'api.paypal.com' }, { matchName: 'api.stripe.com' }],
          toPorts: [{ ports: [{ port: '443', protocol: 'TCP' }] }],
        },
      ],
    });
    // Read back, the body is the same resource (no perpetual diff).
    expect(canonicalCilium('k', { ...body, metadata: { ...body.metadata } }).children).toEqual(
      cnp.children.map(({ origins: _o, ...c }) => c),
    );
  });

  it('warns that guardrails are checked at validation only, or renders them as AdminNetworkPolicy', () => {
    const rules = { ...shopRules([]), denies: [deny()] };
    const plain = renderKubernetes(rules, target);
    expect(plain.resources.some((r) => r.type === ANP_TYPE)).toBe(false);
    expect(plain.diagnostics.map((d) => [d.code, d.severity])).toEqual([
      ['kubernetes-guardrails-validation-only', 'warning'],
    ]);
    const anp = renderKubernetes(rules, kubeTarget('k', { adminNetworkPolicy: true }));
    const anps = anp.resources.filter((r) => r.type === ANP_TYPE);
    expect(anps).toHaveLength(1);
    expect(anps[0]!.name).toMatch(/^shop-no-ssh-db-in-[0-9a-f]{8}$/);
    expect(anps[0]!.attributes).toEqual({
      model: 'shop',
      priority: 10,
      subject: {
        pods: {
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'shop' } },
          podSelector: { matchLabels: { 'bulkhead.io/segment': 'db' } },
        },
      },
      ingress: [
        {
          action: 'Deny',
          name: 'no-ssh',
          from: [
            {
              pods: {
                namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'shop' } },
                podSelector: { matchLabels: { 'bulkhead.io/segment': 'lb' } },
              },
            },
          ],
          ports: [{ portNumber: { protocol: 'TCP', port: 22 } }],
        },
      ],
      egress: [],
    });
    // The name does not depend on the ports: a port change updates the ANP in place.
    const wider = renderKubernetes(
      { ...rules, denies: [deny({ id: 'd9', services: [tcp(22), tcp(3389)] })] },
      kubeTarget('k', { adminNetworkPolicy: true }),
    );
    expect(wider.resources.find((r) => r.type === ANP_TYPE)!.name).toBe(anps[0]!.name);
    // Egress to internet: the complement of the internal ranges, in peers of at most 25 networks.
    const out = renderKubernetes(
      { ...rules, denies: [deny({ direction: 'egress', peer: internet() })] },
      kubeTarget('k', { adminNetworkPolicy: true }),
    );
    const peers = (
      out.resources.find((r) => r.type === ANP_TYPE)!.attributes['egress'] as { to: { networks: string[] }[] }[]
    )[0]!.to;
    expect(peers.every((p) => p.networks.length <= 25)).toBe(true);
    expect(peers.flatMap((p) => p.networks)).toContain('11.0.0.0/8');
    expect(peers.flatMap((p) => p.networks)).not.toContain('10.0.0.0/8');
    // Ingress from addresses has no ANP v1alpha1 form: a warning naming the guardrail.
    const inet = renderKubernetes(
      { ...rules, denies: [deny({ peer: internet() })] },
      kubeTarget('k', { adminNetworkPolicy: true }),
    );
    expect(inet.diagnostics.map((d) => d.code)).toEqual(['kubernetes-guardrail-not-rendered']);
  });

  it('renders an only guardrail as deny-all-but: Pass for the allowed segments, then Deny every pod', () => {
    const rules = {
      ...shopRules([]),
      onlys: [
        {
          guardrail: 'data-only-from-backend',
          segments: ['db'],
          fromSegments: ['app'],
          fromEntities: [],
          origins: [{ pos: pos(50, 5), label: 'guardrail' }],
        },
      ],
    };
    expect(renderKubernetes(rules, target).diagnostics[0]!.message).toContain(
      'guardrail data-only-from-backend is checked at validation only',
    );
    const [anp] = renderKubernetes(rules, kubeTarget('k', { adminNetworkPolicy: true })).resources.filter(
      (r) => r.type === ANP_TYPE,
    );
    expect(anp!.name).toMatch(/^shop-data-only-from-backend-db-only-[0-9a-f]{8}$/);
    expect(anp!.attributes['ingress']).toEqual([
      {
        action: 'Pass',
        name: 'data-only-from-backend-allowed',
        from: [
          {
            pods: {
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'shop' } },
              podSelector: { matchLabels: { 'bulkhead.io/segment': 'app' } },
            },
          },
        ],
      },
      { action: 'Deny', name: 'data-only-from-backend', from: [{ namespaces: {} }] },
    ]);
  });

  it('is pure and deterministic: the same RuleSet renders the same resources', () => {
    const a = renderKubernetes(shopRules([]), target);
    const b = renderKubernetes(shopRules([]), target);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });

  it('reads its own body back as the same resource (a plan right after apply is empty)', () => {
    const rules = ruleSet({
      segments: ['a', 'b'],
      rules: [
        ...flow(seg('a'), seg('b'), tcp(80)),
        ...flow(seg('a'), seg('b'), tcp(443)),
        ...flow(internet(), seg('b'), tcp(443)),
        ...flow(seg('a'), cidrs('vpn', ['10.8.0.0/16']), { kind: 'all' }),
      ],
    });
    for (const r of renderKubernetes(rules, target).resources) {
      const back = canonicalNetworkPolicy('k8s-test', {
        ...networkPolicyBody(r),
        metadata: { ...networkPolicyBody(r).metadata, resourceVersion: '7' },
      });
      expect(back.attributes).toEqual(r.attributes);
      expect(back.children.map((c) => [c.key, c.attributes])).toEqual(r.children.map((c) => [c.key, c.attributes]));
    }
  });
});
