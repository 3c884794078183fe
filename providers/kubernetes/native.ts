import type { PortMatch, TargetSpec } from '../../src/compile/types.js';
import type { ProviderState, Resource } from '../../src/plan/types.js';
import type {
  EvaluateContext,
  NativeEnd,
  NativeEvaluator,
  NativeProbe,
  NativeRuleRef,
  NativeVerdict,
} from '../../src/reach/native.js';
import { rangesMatch, serviceMatches, type MatchMode } from '../../src/reach/native-match.js';
import {
  NP_TYPE,
  networkPolicyBody,
  type NetworkPolicyJson,
  type PeerJson,
  type PortJson,
  type RuleJson,
} from './canonical.js';
import { selectorMatches } from './evaluate.js';
import { isKubernetesTarget, NAMESPACE_NAME_LABEL, segmentPods, type SegmentPods } from './target.js';

/**
 * `Provider.evaluate` for Kubernetes: the NetworkPolicy semantics of evaluate.ts (per-direction
 * isolation, additive policies, peer AND port inside a rule) decided on native probes. A segment
 * end is a pod with the segment's labels in its namespace; an external end matches `ipBlock`
 * peers only (pods go by selectors, as in evaluate.ts). A probe's service is a range: an allow
 * must cover all of it (`contains`), as for the clouds. Named ports are not resolved (no pod
 * specs are read): they match nothing. CiliumNetworkPolicies and AdminNetworkPolicies are not
 * evaluated (a note says so when the state has them).
 */

interface Policy {
  readonly name: string;
  readonly namespace: string;
  readonly body: NetworkPolicyJson;
  readonly owned: boolean;
  readonly liveId?: string;
}

/** The PortMatches of a rule's `ports` (absent/empty: everything; a named port: nothing known). */
export function rulePortMatches(ports: readonly PortJson[] | null | undefined): PortMatch[] {
  if (!ports || ports.length === 0) return [{ kind: 'all' }];
  const out: PortMatch[] = [];
  for (const p of ports) {
    const protocol = (p.protocol ?? 'TCP').toLowerCase();
    if (protocol !== 'tcp' && protocol !== 'udp' && protocol !== 'sctp') continue;
    const port = typeof p.port === 'string' && /^\d+$/.test(p.port) ? Number(p.port) : p.port;
    if (port === undefined || port === null) out.push({ kind: 'ports', protocol, from: 0, to: 65535 });
    else if (typeof port === 'number')
      out.push({ kind: 'ports', protocol, from: port, to: typeof p.endPort === 'number' ? p.endPort : port });
  }
  return out;
}

function policyTypes(np: NetworkPolicyJson): readonly string[] {
  const t = np.spec?.policyTypes;
  if (t && t.length > 0) return t;
  return ['Ingress', ...(np.spec?.egress && np.spec.egress.length > 0 ? ['Egress'] : [])];
}

/** Builds the Kubernetes evaluator for one target's state (owned and, when read, unowned policies). */
export function evaluateKubernetes(
  target: TargetSpec,
  state: ProviderState,
  context: EvaluateContext,
): NativeEvaluator {
  if (!isKubernetesTarget(target)) throw new Error(`target ${target.name} is not a Kubernetes target`);
  const policies: Policy[] = [];
  const seen = new Set<string>();
  let other = 0;
  for (const [list, owned] of [
    [state.resources, true],
    [state.unowned ?? [], false],
  ] as const) {
    for (const r of list as readonly Resource[]) {
      if (r.type !== NP_TYPE) {
        other++;
        continue;
      }
      const body = networkPolicyBody(r);
      const namespace = body.metadata?.namespace ?? 'default';
      if (seen.has(`${namespace}/${r.name}`)) continue;
      seen.add(`${namespace}/${r.name}`);
      policies.push({ name: r.name, namespace, body, owned, ...(r.liveId ? { liveId: r.liveId } : {}) });
    }
  }
  policies.sort((a, b) => (a.namespace + '/' + a.name < b.namespace + '/' + b.name ? -1 : 1));
  const pods = new Map<string, SegmentPods>(context.segments.map((s) => [s.name, segmentPods(target.kubernetes, s)]));
  const podOf = (end: NativeEnd): SegmentPods | undefined =>
    end.kind === 'segment'
      ? (pods.get(end.segment) ?? {
          namespace: target.kubernetes.namespace,
          labels: { 'bulkhead.io/segment': end.segment },
        })
      : undefined;

  const peerMatches = (peer: PeerJson, policyNs: string, end: NativeEnd, mode: MatchMode): boolean => {
    if (peer.ipBlock) {
      if (end.kind !== 'external') return false;
      if (!rangesMatch([peer.ipBlock.cidr], end, mode)) return false;
      // An except carves addresses out: an allow must not lose any of the probe's.
      return !(peer.ipBlock.except ?? []).some((e) => rangesMatch([e], end, 'overlaps'));
    }
    const pod = podOf(end);
    if (!pod || (!peer.podSelector && !peer.namespaceSelector)) return false;
    const nsOk = peer.namespaceSelector
      ? selectorMatches(peer.namespaceSelector, { [NAMESPACE_NAME_LABEL]: pod.namespace })
      : pod.namespace === policyNs;
    return nsOk && selectorMatches(peer.podSelector, pod.labels);
  };
  const ruleAllows = (
    rule: RuleJson,
    direction: 'ingress' | 'egress',
    policyNs: string,
    probe: NativeProbe,
  ): boolean => {
    const peers = direction === 'ingress' ? rule.from : rule.to;
    const otherEnd = direction === 'ingress' ? probe.source : probe.destination;
    const peerOk = !peers || peers.length === 0 || peers.some((p) => peerMatches(p, policyNs, otherEnd, 'contains'));
    return peerOk && serviceMatches(rulePortMatches(rule.ports), probe.service, 'contains');
  };
  const ref = (
    p: Policy,
    direction: 'ingress' | 'egress',
    action: 'allow' | 'deny',
    summary: string,
  ): NativeRuleRef => ({
    object: `${p.namespace}/${p.name}`,
    rule: p.name,
    ...(p.liveId ? { id: p.liveId } : {}),
    direction,
    action,
    owned: p.owned,
    kind: 'rule',
    summary,
  });
  const side = (direction: 'ingress' | 'egress', end: NativeEnd, probe: NativeProbe): NativeRuleRef[] => {
    const pod = podOf(end)!;
    const type = direction === 'ingress' ? 'Ingress' : 'Egress';
    const isolating = policies.filter(
      (p) =>
        p.namespace === pod.namespace &&
        selectorMatches(p.body.spec?.podSelector, pod.labels) &&
        policyTypes(p.body).includes(type),
    );
    if (isolating.length === 0) {
      return [
        {
          object: pod.namespace,
          rule: `no-${direction}-policy`,
          direction,
          action: 'allow',
          owned: false,
          kind: 'default',
          summary: `no NetworkPolicy selects these pods for ${type}: all ${direction} allowed`,
        },
      ];
    }
    const allowing = isolating.filter((p) =>
      ((direction === 'ingress' ? p.body.spec?.ingress : p.body.spec?.egress) ?? []).some((r) =>
        ruleAllows(r, direction, p.namespace, probe),
      ),
    );
    if (allowing.length > 0)
      return allowing.map((p) =>
        ref(p, direction, 'allow', `NetworkPolicy ${p.namespace}/${p.name}: one of its ${direction} rules allows it`),
      );
    return isolating.map((p) =>
      ref(
        p,
        direction,
        'deny',
        `NetworkPolicy ${p.namespace}/${p.name} isolates the pods for ${type} and no rule of a selecting policy allows it`,
      ),
    );
  };

  const services = policies.flatMap((p) =>
    [...(p.body.spec?.ingress ?? []), ...(p.body.spec?.egress ?? [])].flatMap((r) => rulePortMatches(r.ports)),
  );
  const notes =
    other > 0
      ? [
          `target ${target.name}: only NetworkPolicies are evaluated (CiliumNetworkPolicies and AdminNetworkPolicies are not)`,
        ]
      : [];
  const evaluate = (probe: NativeProbe): NativeVerdict => {
    const decided: NativeRuleRef[] = [];
    if (probe.source.kind === 'segment') decided.push(...side('egress', probe.source, probe));
    if (probe.destination.kind === 'segment') decided.push(...side('ingress', probe.destination, probe));
    if (decided.length === 0) return { verdict: 'deny', rules: [], notes: ['neither end is a pod of the cluster'] };
    const denied = decided.filter((r) => r.action === 'deny');
    return {
      verdict: denied.length > 0 ? 'deny' : 'allow',
      rules: denied.length > 0 ? denied : decided,
      ...(notes.length ? { notes } : {}),
    };
  };
  return Object.assign(evaluate, { services });
}
