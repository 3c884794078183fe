import { describe, expect, it } from 'vitest';
import { diffResources } from '../../../src/plan/diff.js';
import {
  canonicalNetworkPolicy,
  canonicalSelector,
  networkPolicyBody,
  type NetworkPolicyJson,
} from '../../../providers/kubernetes/canonical.js';
import { renderKubernetes } from '../../../providers/kubernetes/render.js';
import { flow, internet, ruleSet, seg, tcp } from '../../helpers/rulesets.js';
import { kubeTarget } from '../../helpers/kubernetes/targets.js';

const target = kubeTarget('k', { dns: false });
const rules = ruleSet({
  segments: ['lb', 'web'],
  rules: [
    ...flow(internet(), seg('lb'), tcp(443)),
    ...flow(seg('lb'), seg('web'), tcp(8080)),
    ...flow(seg('lb'), seg('web'), tcp(9000, 9010)),
  ],
});
const desired = renderKubernetes(rules, target).resources;
const web = desired.find((r) => r.name === 'shop-web')!;

/** The web policy as a person (or another tool) might have written it: same meaning, other form. */
const handWritten: NetworkPolicyJson = {
  metadata: {
    name: 'shop-web',
    namespace: 'shop',
    resourceVersion: '42',
    labels: { 'app.kubernetes.io/managed-by': 'bulkhead', 'bulkhead.io/model': 'shop', team: 'web' },
  },
  spec: {
    podSelector: { matchExpressions: [{ key: 'bulkhead.io/segment', operator: 'In', values: ['web'] }] },
    // policyTypes in another order; an empty egress list is no egress rule.
    policyTypes: ['Egress', 'Ingress'],
    ingress: [
      // Split into two rules, ports in another order, protocol left to its default, a string port.
      {
        from: [
          {
            podSelector: { matchLabels: { 'bulkhead.io/segment': 'lb' } },
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'shop' } },
          },
        ],
        ports: [{ port: 9000, endPort: 9010 }],
      },
      {
        from: [{ podSelector: { matchLabels: { 'bulkhead.io/segment': 'lb' } } }],
        ports: [{ protocol: 'TCP', port: '8080', endPort: null }],
      },
    ],
    egress: [],
  },
};

describe('kubernetes canonical form: the diff is semantic', () => {
  it('sees no change between the rendered policy and an equivalent hand-written one', () => {
    const live = canonicalNetworkPolicy('k', handWritten);
    expect(diffResources([web], [live])).toEqual([]);
    expect(live.liveId).toBe('shop/shop-web@42');
  });

  it('absent policyTypes default to Ingress (plus Egress with an egress section)', () => {
    const { policyTypes: _p, ...spec } = handWritten.spec!;
    expect(canonicalNetworkPolicy('k', { ...handWritten, spec }).attributes['policyTypes']).toEqual(['Ingress']);
    expect(
      canonicalNetworkPolicy('k', { ...handWritten, spec: { ...spec, egress: [{}] } }).attributes['policyTypes'],
    ).toEqual(['Ingress', 'Egress']);
    const changes = diffResources([web], [canonicalNetworkPolicy('k', { ...handWritten, spec })]);
    expect(changes.map((c) => [c.action, c.attributeChanges.map((a) => a.name)])).toEqual([
      ['update', ['policyTypes']],
    ]);
  });

  it('an empty or absent from/ports is every peer / every port, not nothing', () => {
    const open = canonicalNetworkPolicy('k', {
      metadata: { name: 'x', namespace: 'shop' },
      spec: { podSelector: {}, ingress: [{ from: [], ports: [] }, {}] },
    });
    expect(open.children.map((c) => c.key)).toEqual(['ingress from * *']);
  });

  it('a widened port or a new peer is a child change: drift is precise', () => {
    const wider = structuredClone(handWritten) as { spec: { ingress: { ports: { port: number | string }[] }[] } };
    wider.spec.ingress[1]!.ports[0]!.port = 8081;
    const [change] = diffResources([web], [canonicalNetworkPolicy('k', wider as NetworkPolicyJson)]);
    expect(change!.childChanges.map((c) => `${c.action} ${c.key}`)).toEqual([
      'create ingress from pods{bulkhead.io/segment=lb} in ns{kubernetes.io/metadata.name=shop} TCP/8080',
      'delete ingress from pods{bulkhead.io/segment=lb} in ns{kubernetes.io/metadata.name=shop} TCP/8081',
    ]);
  });

  it('selectors: In of one value is matchLabels, expressions and values sorted', () => {
    expect(
      canonicalSelector({
        matchExpressions: [
          { key: 'b', operator: 'NotIn', values: ['y', 'x'] },
          { key: 'a', operator: 'In', values: ['v'] },
        ],
      }),
    ).toEqual({
      matchLabels: { a: 'v' },
      matchExpressions: [{ key: 'b', operator: 'NotIn', values: ['x', 'y'] }],
    });
  });

  it('writes the body with one rule per port set, whatever order the atoms came in', () => {
    const body = networkPolicyBody({ ...web, children: [...web.children].reverse() });
    expect(body).toEqual(networkPolicyBody(web));
    expect(body.spec?.ingress).toEqual([
      {
        from: [{ podSelector: { matchLabels: { 'bulkhead.io/segment': 'lb' } } }],
        ports: [
          { protocol: 'TCP', port: 8080 },
          { protocol: 'TCP', port: 9000, endPort: 9010 },
        ],
      },
    ]);
  });
});
