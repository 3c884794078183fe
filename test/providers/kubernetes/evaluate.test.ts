import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { compileFile } from '../../../src/compile/index.js';
import type { Endpoint, PortMatch, RuleSet } from '../../../src/compile/types.js';
import { cidrContains, DEFAULT_INTERNAL_RANGES, isInternalCidr } from '../../../src/model/addresses.js';
import { networkPolicyBody, NP_TYPE, type NetworkPolicyJson } from '../../../providers/kubernetes/canonical.js';
import {
  connectionAllowed,
  type ClusterEndpoint,
  type Connection,
  type ExternalEndpoint,
  type PodEndpoint,
} from '../../../providers/kubernetes/evaluate.js';
import { renderKubernetes } from '../../../providers/kubernetes/render.js';
import { segmentPods, type KubernetesSegment, type KubernetesTarget } from '../../../providers/kubernetes/target.js';
import { FIXTURES } from '../../helpers/fixtures.js';
import { kubeTarget, withBindings } from '../../helpers/kubernetes/targets.js';
import { cidrs, flow, internet, ruleSet, seg } from '../../helpers/rulesets.js';

const repo = new URL('../../../', import.meta.url).pathname;
const example = (name: string) =>
  parse(readFileSync(join(FIXTURES, 'kubernetes/examples', name), 'utf8')) as NetworkPolicyJson;

const pod = (namespace: string, labels: Record<string, string>, ip = '10.244.0.9'): PodEndpoint => ({
  kind: 'pod',
  namespace,
  labels,
  ip,
});
const ext = (ip: string): ExternalEndpoint => ({ kind: 'external', ip });
const tcp = (src: ClusterEndpoint, dst: ClusterEndpoint, port: number): Connection => ({
  src,
  dst,
  protocol: 'TCP',
  port,
});

describe('NetworkPolicy evaluator, on the Kubernetes documentation examples', () => {
  it('test-network-policy: ingress peers are ORed, ports ANDed, ipBlock minus except, egress isolated', () => {
    const view = { policies: [example('networkpolicy.yaml')], namespaces: { myproject: { project: 'myproject' } } };
    const db = pod('default', { role: 'db' }, '10.244.0.5');
    expect(connectionAllowed(view, tcp(pod('default', { role: 'frontend' }), db, 6379))).toBe(true);
    expect(connectionAllowed(view, tcp(pod('default', { role: 'frontend' }), db, 6380))).toBe(false);
    // A podSelector alone means the policy's namespace; a namespaceSelector alone every pod there.
    expect(connectionAllowed(view, tcp(pod('other', { role: 'frontend' }), db, 6379))).toBe(false);
    expect(connectionAllowed(view, tcp(pod('myproject', { any: 'pod' }), db, 6379))).toBe(true);
    expect(connectionAllowed(view, tcp(ext('172.17.0.7'), db, 6379))).toBe(true);
    expect(connectionAllowed(view, tcp(ext('172.17.1.7'), db, 6379))).toBe(false);
    expect(connectionAllowed(view, tcp(db, ext('10.0.0.7'), 5978))).toBe(true);
    expect(connectionAllowed(view, tcp(db, ext('10.0.1.7'), 5978))).toBe(false);
    // A pod the policy does not select is not isolated.
    expect(connectionAllowed(view, tcp(ext('192.0.2.1'), pod('default', { role: 'web' }), 80))).toBe(true);
  });

  it('multi-port egress: endPort makes a range; an Egress-only policy leaves ingress open', () => {
    const view = { policies: [example('networkpolicy-multiport-egress.yaml')] };
    const db = pod('default', { role: 'db' });
    expect([31999, 32000, 32768, 32769].map((p) => connectionAllowed(view, tcp(db, ext('10.0.0.1'), p)))).toEqual([
      false,
      true,
      true,
      false,
    ]);
    expect(connectionAllowed(view, tcp(ext('192.0.2.1'), db, 22))).toBe(true);
  });

  it('default deny and allow-all examples', () => {
    const a = pod('default', { app: 'x' }),
      b = pod('default', { app: 'y' });
    expect(connectionAllowed({ policies: [example('network-policy-default-deny-all.yaml')] }, tcp(a, b, 80))).toBe(
      false,
    );
    expect(
      connectionAllowed(
        { policies: [example('network-policy-default-deny-ingress.yaml')] },
        tcp(a, ext('192.0.2.1'), 80),
      ),
    ).toBe(true);
    expect(
      connectionAllowed(
        { policies: [example('network-policy-default-deny-ingress.yaml')] },
        tcp(ext('192.0.2.1'), a, 80),
      ),
    ).toBe(false);
    expect(
      connectionAllowed(
        { policies: [example('network-policy-default-deny-egress.yaml')] },
        tcp(a, ext('192.0.2.1'), 80),
      ),
    ).toBe(false);
    // Policies are additive: an allow-all egress next to a default-deny lets egress through.
    const both = {
      policies: [example('network-policy-default-deny-all.yaml'), example('network-policy-allow-all-egress.yaml')],
    };
    expect(connectionAllowed(both, tcp(a, ext('192.0.2.1'), 80))).toBe(true);
    expect(connectionAllowed(both, tcp(ext('192.0.2.1'), a, 80))).toBe(false);
  });
});

/** What the model says about a flow: the RuleSet's intents, with DESIGN §5's `internet`. */
function modelAllows(
  rules: RuleSet,
  src: Probe,
  dst: Probe,
  protocol: string,
  port: number,
  internal: readonly string[],
): boolean {
  const covers = (m: PortMatch) =>
    m.kind === 'all' || (m.kind === 'ports' && m.protocol === protocol.toLowerCase() && port >= m.from && port <= m.to);
  const peerIs = (e: Endpoint, p: Probe) => {
    if (e.kind === 'segment') return p.kind === 'segment' && p.name === e.name;
    if (p.kind !== 'address') return false;
    const host = `${p.ip}/${p.ip.includes(':') ? 128 : 32}`;
    if (e.kind === 'cloud')
      return (
        e.kubernetes !== undefined &&
        (p.ip.includes(':') ? e.kubernetes.ipv6 : e.kubernetes.ipv4).some((c) => cidrContains(c, host))
      );
    if (e.kind !== 'cidrs') return false;
    const family = p.ip.includes(':') ? e.ipv6 : e.ipv4;
    if (e.builtin === 'internet') return family.length > 0 && !isInternalCidr(host, internal);
    return family.some((c) => cidrContains(c, host));
  };
  const side = (direction: 'ingress' | 'egress', self: Probe, other: Probe) =>
    self.kind !== 'segment' ||
    rules.rules.some(
      (r) => r.direction === direction && r.segment === self.name && covers(r.service) && peerIs(r.peer, other),
    );
  return side('egress', src, dst) && side('ingress', dst, src);
}

/** The first address after the network address of a CIDR (inside it for any prefix below /31). */
function firstHost(cidr: string): string {
  const [address] = cidr.split('/') as [string];
  const bytes = ipaddr.parse(address).toByteArray();
  bytes[bytes.length - 1]! += 1;
  return ipaddr.fromByteArray(bytes).toString();
}

type Probe = { readonly kind: 'segment'; readonly name: string } | { readonly kind: 'address'; readonly ip: string };

/** Renders, then checks every (src, dst, port) probe: evaluator on the NetworkPolicies = model. */
function agree(rules: RuleSet, target: KubernetesTarget, extraPorts: readonly number[] = []): number {
  const { resources } = renderKubernetes(rules, target);
  const policies = resources.filter((r) => r.type === NP_TYPE).map((r) => networkPolicyBody(r));
  const internal = target.kubernetes.internalRanges ?? DEFAULT_INTERNAL_RANGES;
  const segments = rules.segments as readonly KubernetesSegment[];
  // Pods get addresses in 10.244/16, which no entity of these models covers (pods never match ipBlocks anyway).
  const endpoint = (p: Probe, i: number): ClusterEndpoint => {
    if (p.kind === 'address') return ext(p.ip);
    const s = segmentPods(target.kubernetes, segments.find((x) => x.name === p.name)!);
    return { kind: 'pod', namespace: s.namespace, labels: s.labels, ip: `10.244.0.${i + 1}` };
  };
  const addresses = new Set<string>(['198.51.100.77', '2001:db8:ffff::7', '10.1.2.3', '192.168.7.7', 'fd00::5']);
  const ports = new Set<number>([1, 53, 65535, ...extraPorts]);
  for (const r of rules.rules) {
    if (r.service.kind === 'ports')
      for (const p of [r.service.from, r.service.to, r.service.from - 1, r.service.to + 1])
        if (p >= 1 && p <= 65535) ports.add(p);
    if (r.peer.kind === 'cidrs' && !r.peer.builtin) {
      for (const c of [...r.peer.ipv4, ...r.peer.ipv6]) addresses.add(firstHost(c));
    }
    if (r.peer.kind === 'cloud' && r.peer.kubernetes)
      for (const c of [...r.peer.kubernetes.ipv4, ...r.peer.kubernetes.ipv6]) addresses.add(firstHost(c));
  }
  const probes: Probe[] = [
    ...segments.map((s): Probe => ({ kind: 'segment', name: s.name })),
    ...[...addresses].map((ip): Probe => ({ kind: 'address', ip })),
  ];
  let checked = 0;
  for (const [i, src] of probes.entries()) {
    for (const [j, dst] of probes.entries()) {
      if (src === dst || (src.kind === 'address' && dst.kind === 'address')) continue;
      for (const protocol of ['TCP', 'UDP'] as const) {
        for (const port of ports) {
          const want = modelAllows(rules, src, dst, protocol, port, internal);
          const got = connectionAllowed({ policies }, { src: endpoint(src, i), dst: endpoint(dst, j), protocol, port });
          if (got !== want)
            throw new Error(
              `${JSON.stringify(src)} -> ${JSON.stringify(dst)} ${protocol}/${port}: model ${want}, NetworkPolicy ${got}`,
            );
          checked++;
        }
      }
    }
  }
  return checked;
}

describe('the evaluator agrees with the model on every segment pair and port probed', () => {
  it("for the shop example (its FQDN egress is Cilium's, the rest exact)", async () => {
    const r = await compileFile('policies/shop.yaml', { cwd: repo });
    expect(agree(r.value!, kubeTarget('k', { dns: false }))).toBeGreaterThan(100);
  });

  it('for the PCI example, with segments spread over namespaces', async () => {
    const r = await compileFile('policies/pci.yaml', { cwd: repo });
    const rules = withBindings(r.value!, {
      'card-vault': { namespace: 'vault', podSelector: { app: 'vault' } },
      'log-collector': { namespace: 'logging' },
    });
    expect(agree(rules, kubeTarget('k', { dns: false, namespace: 'cde' }))).toBeGreaterThan(100);
  });

  it('for random models (segments, internet, CIDR entities, ports and ranges, namespaces)', () => {
    const names = ['a', 'b', 'c', 'd'];
    const peer = fc.oneof(
      fc.constantFrom(...names).map(seg),
      fc.constant(internet()),
      fc.constant(cidrs('vpn', ['10.8.0.0/16'])),
      fc.constant(cidrs('partner', ['203.0.113.0/24'], ['2001:db8:100::/48'])),
    );
    const service = fc.oneof(
      fc
        .record({
          kind: fc.constant('ports' as const),
          protocol: fc.constantFrom('tcp' as const, 'udp' as const),
          from: fc.integer({ min: 1, max: 2000 }),
          len: fc.integer({ min: 0, max: 40 }),
        })
        .map(({ len, ...p }) => ({ ...p, to: p.from + len })),
      fc.constant({ kind: 'all' as const }),
    );
    const flowArb = fc
      .tuple(peer, peer, service)
      .filter(([a, b]) => (a.kind === 'segment' || b.kind === 'segment') && JSON.stringify(a) !== JSON.stringify(b));
    const bindingArb = fc.dictionary(
      fc.constantFrom(...names),
      fc.record({
        namespace: fc.constantFrom('shop', 'other'),
        podSelector: fc.constantFrom(undefined, { tier: 'x' }),
      }),
      { maxKeys: 3 },
    );
    fc.assert(
      fc.property(
        fc.array(flowArb, { maxLength: 8 }),
        bindingArb,
        fc.constantFrom(undefined, ['10.0.0.0/8']),
        (flows, bindings, internalRanges) => {
          // Distinct custom labels per segment, so two segments never select each other's pods.
          const b = Object.fromEntries(
            Object.entries(bindings).map(([k, v]) => [
              k,
              { namespace: v.namespace, ...(v.podSelector ? { podSelector: { tier: k } } : {}) },
            ]),
          );
          const rules = withBindings(
            ruleSet({
              segments: names,
              rules: flows.flatMap(([src, dst, svc], i) => flow(src, dst, svc as PortMatch, i + 10)),
            }),
            b,
          );
          agree(rules, kubeTarget('k', { dns: false, ...(internalRanges ? { internalRanges } : {}) }));
        },
      ),
      { numRuns: 25 },
    );
  });

  it('catches a renderer that drops except from internet (the check can fail)', () => {
    const rules = ruleSet({
      segments: ['lb'],
      rules: flow(internet(), seg('lb'), { kind: 'ports', protocol: 'tcp', from: 443, to: 443 }),
    });
    const { resources } = renderKubernetes(rules, kubeTarget());
    const body = networkPolicyBody(resources[0]!);
    const broken = JSON.parse(JSON.stringify(body).replace(/"except":\[[^\]]*\]/g, '"except":[]')) as NetworkPolicyJson;
    const lb: PodEndpoint = {
      kind: 'pod',
      namespace: 'shop',
      labels: { 'bulkhead.io/segment': 'lb' },
      ip: '10.244.0.1',
    };
    expect(connectionAllowed({ policies: [body] }, tcp(ext('10.1.2.3'), lb, 443))).toBe(false);
    expect(connectionAllowed({ policies: [broken] }, tcp(ext('10.1.2.3'), lb, 443))).toBe(true);
  });
});
