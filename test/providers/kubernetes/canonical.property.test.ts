import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { diffResources } from '../../../src/plan/diff.js';
import {
  atomChild,
  canonicalNetworkPolicy,
  networkPolicyBody,
  networkPolicyResource,
  type Atom,
  type NetworkPolicyJson,
  type PeerJson,
  type PortJson,
  type RuleJson,
} from '../../../providers/kubernetes/canonical.js';

/**
 * Property: however a set of allows is spelled on the wire (one rule per allow or grouped, any
 * order, TCP left out, the own namespace by name or implied), it reads back as the same resource,
 * so the plan after an apply is empty and a hand edit that changes nothing is no drift.
 */

const LABELS = { 'app.kubernetes.io/managed-by': 'bulkhead', 'bulkhead.io/model': 'm' };
const peerArb = fc.oneof(
  fc.record({
    kind: fc.constant('pods' as const),
    ns: fc.constantFrom('shop', 'data'),
    app: fc.constantFrom('a', 'b', 'c'),
  }),
  fc.record({
    kind: fc.constant('ip' as const),
    cidr: fc.constantFrom('10.8.0.0/16', '203.0.113.0/24', '2001:db8::/32'),
  }),
);
const portArb = fc.record({
  protocol: fc.constantFrom('TCP', 'UDP'),
  port: fc.integer({ min: 1, max: 100 }),
  len: fc.constantFrom(0, 0, 5),
});
const atomArb = fc.record({
  direction: fc.constantFrom('ingress' as const, 'egress' as const),
  peer: peerArb,
  port: portArb,
});

/** One generated allow. */
type A = {
  direction: 'ingress' | 'egress';
  peer: { kind: 'pods'; ns: string; app: string } | { kind: 'ip'; cidr: string };
  port: { protocol: string; port: number; len: number };
};

/** One wire spelling of an atom; `variant` picks the optional spellings. */
function wirePeer(a: A, variant: number): PeerJson {
  if (a.peer.kind === 'ip') return { ipBlock: { cidr: a.peer.cidr, ...(variant % 2 ? { except: [] } : {}) } };
  const pods =
    variant % 3 === 0
      ? { matchLabels: { app: a.peer.app } }
      : { matchExpressions: [{ key: 'app', operator: 'In', values: [a.peer.app] }] };
  // The policy lives in `shop`: a peer there may be spelled with or without the namespace selector.
  if (a.peer.ns === 'shop' && variant % 2 === 0) return { podSelector: pods };
  return { podSelector: pods, namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': a.peer.ns } } };
}
function wirePort(a: A, variant: number): PortJson {
  return {
    ...(a.port.protocol === 'TCP' && variant % 2 ? {} : { protocol: a.port.protocol }),
    port: variant % 5 === 0 ? String(a.port.port) : a.port.port,
    ...(a.port.len > 0 ? { endPort: a.port.port + a.port.len } : {}),
  };
}
function oneRulePerAtom(atoms: readonly A[], order: readonly number[], variant: number): NetworkPolicyJson {
  const rules = order.map((i) => atoms[i]!);
  const rule = (a: A, i: number): RuleJson => ({
    [a.direction === 'ingress' ? 'from' : 'to']: [wirePeer(a, variant + i)],
    ports: [wirePort(a, variant + i)],
  });
  return {
    metadata: { name: 'm-x', namespace: 'shop', labels: LABELS },
    spec: {
      podSelector: { matchLabels: { app: 'x' } },
      policyTypes: variant % 2 ? ['Egress', 'Ingress'] : ['Ingress', 'Egress'],
      ingress: rules.filter((a) => a.direction === 'ingress').map(rule),
      egress: rules.filter((a) => a.direction === 'egress').map(rule),
    },
  };
}

describe('kubernetes canonical form (property)', () => {
  it('every spelling of the same allows reads back as the same resource', () => {
    fc.assert(
      fc.property(
        fc.array(atomArb, { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 0, max: 1000 }),
        (atoms, variant) => {
          const order = atoms.map((_, i) => i).sort((x, y) => ((x * 7 + variant) % 11) - ((y * 7 + variant) % 11));
          const a = canonicalNetworkPolicy('t', oneRulePerAtom(atoms as A[], order, variant));
          const b = canonicalNetworkPolicy('t', oneRulePerAtom(atoms as A[], [...order].reverse(), variant + 1));
          expect(diffResources([a], [b])).toEqual([]);
          // And the grouped body apply writes reads back as the same resource too.
          const grouped = canonicalNetworkPolicy('t', {
            ...networkPolicyBody(a),
            metadata: { ...networkPolicyBody(a).metadata },
          });
          expect(diffResources([a], [grouped])).toEqual([]);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('a real difference (one port) is always a change', () => {
    fc.assert(
      fc.property(fc.array(atomArb, { minLength: 1, maxLength: 6 }), (atoms) => {
        const changed = atoms.map((a, i) => (i === 0 ? { ...a, port: { ...a.port, port: a.port.port + 200 } } : a));
        const x = canonicalNetworkPolicy(
          't',
          oneRulePerAtom(
            atoms as A[],
            atoms.map((_, i) => i),
            0,
          ),
        );
        const y = canonicalNetworkPolicy(
          't',
          oneRulePerAtom(
            changed as A[],
            atoms.map((_, i) => i),
            0,
          ),
        );
        expect(diffResources([x], [y])).toHaveLength(1);
      }),
      { numRuns: 100 },
    );
  });

  it('uses the helpers render uses (sanity: an atom child round-trips)', () => {
    const atom: Atom = { direction: 'ingress', peer: { kind: 'any' }, port: { kind: 'all' } };
    const r = networkPolicyResource(
      't',
      'm-x',
      { model: 'm', namespace: 'shop', podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
      [atomChild(atom)],
    );
    expect(canonicalNetworkPolicy('t', networkPolicyBody(r)).children.map((c) => c.key)).toEqual(['ingress from * *']);
  });
});
