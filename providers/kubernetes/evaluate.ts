import { cidrContains } from '../../src/model/addresses.js';
import type { LabelSelectorJson, NetworkPolicyJson, PeerJson, PortJson, RuleJson } from './canonical.js';

/**
 * A NetworkPolicy evaluator written from the Kubernetes documentation ("Network Policies",
 * concepts/services-networking/network-policies), independent of render and of the canonical
 * form: it reads the objects as the API stores them. Pure. The rules it implements:
 *
 * - Isolation is per direction: a pod is isolated for ingress when some NetworkPolicy in its
 *   namespace selects it and has `Ingress` in its policyTypes; likewise for egress. A pod that no
 *   policy isolates in a direction allows everything in that direction.
 * - Policies are additive: an isolated pod allows a connection when any rule of any policy that
 *   selects it (for that direction) allows it. A connection needs the source's egress AND the
 *   destination's ingress to allow it (when both are pods).
 * - Inside one rule: any peer AND any port. An absent or empty `from`/`to` matches every peer; an
 *   absent or empty `ports` every port. Inside one peer: `namespaceSelector` AND `podSelector`
 *   (a `podSelector` alone means the policy's own namespace; a `namespaceSelector` alone means
 *   every pod there); `ipBlock` is `cidr` minus `except`.
 * - `policyTypes` absent: Ingress, plus Egress when the policy has an `egress` section.
 * - `protocol` defaults to TCP; `endPort` makes `port`..`endPort` a range; a named port matches a
 *   container port of that name on the destination pod.
 * - ipBlock is meant for cluster-external addresses: the documentation leaves it to the plugin
 *   whether a pod's own IP matches; this evaluator says it does not (pod peers go by selectors).
 */

/** A pod of the cluster. */
export interface PodEndpoint {
  readonly kind: 'pod';
  readonly namespace: string;
  readonly labels: { readonly [key: string]: string };
  readonly ip: string;
  /** Named container ports (`http` → 8080). */
  readonly namedPorts?: { readonly [name: string]: number };
}

/** An address outside the cluster. */
export interface ExternalEndpoint {
  readonly kind: 'external';
  readonly ip: string;
}

/** Either end of a connection. */
export type ClusterEndpoint = PodEndpoint | ExternalEndpoint;

/** A connection attempt. */
export interface Connection {
  readonly src: ClusterEndpoint;
  readonly dst: ClusterEndpoint;
  readonly protocol: 'TCP' | 'UDP' | 'SCTP';
  readonly port: number;
}

/** The cluster the evaluator sees: policies and the namespaces' labels. */
export interface ClusterView {
  readonly policies: readonly NetworkPolicyJson[];
  /** Labels per namespace; `kubernetes.io/metadata.name` is added by the evaluator, as the API server does. */
  readonly namespaces?: { readonly [name: string]: { readonly [key: string]: string } };
}

/** Does a label selector match these labels? (null/absent selector: everything) */
export function selectorMatches(
  sel: LabelSelectorJson | null | undefined,
  labels: { readonly [key: string]: string },
): boolean {
  for (const [k, v] of Object.entries(sel?.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel?.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In':
        if (!has || !values.includes(labels[e.key]!)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[e.key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

function host(ip: string): string {
  return `${ip}/${ip.includes(':') ? 128 : 32}`;
}

function sameFamily(cidr: string, ip: string): boolean {
  return cidr.includes(':') === ip.includes(':');
}

function namespaceLabels(view: ClusterView, ns: string): { readonly [key: string]: string } {
  return { ...(view.namespaces?.[ns] ?? {}), 'kubernetes.io/metadata.name': ns };
}

function peerMatches(view: ClusterView, peer: PeerJson, policyNamespace: string, other: ClusterEndpoint): boolean {
  if (peer.ipBlock) {
    if (other.kind === 'pod') return false;
    const { cidr, except } = peer.ipBlock;
    if (!sameFamily(cidr, other.ip) || !cidrContains(cidr, host(other.ip))) return false;
    return !(except ?? []).some((e) => sameFamily(e, other.ip) && cidrContains(e, host(other.ip)));
  }
  if (other.kind !== 'pod') return false;
  if (!peer.podSelector && !peer.namespaceSelector) return false;
  const nsOk = peer.namespaceSelector
    ? selectorMatches(peer.namespaceSelector, namespaceLabels(view, other.namespace))
    : other.namespace === policyNamespace;
  return nsOk && selectorMatches(peer.podSelector, other.labels);
}

function portMatches(p: PortJson, c: Connection, dst: ClusterEndpoint): boolean {
  if ((p.protocol ?? 'TCP') !== c.protocol) return false;
  if (p.port === undefined || p.port === null) return true;
  let port: number | undefined;
  if (typeof p.port === 'number') port = p.port;
  else if (/^\d+$/.test(p.port)) port = Number(p.port);
  else port = dst.kind === 'pod' ? dst.namedPorts?.[p.port] : undefined;
  if (port === undefined) return false;
  const end = typeof p.endPort === 'number' && typeof p.port === 'number' ? p.endPort : port;
  return c.port >= port && c.port <= end;
}

function ruleAllows(
  view: ClusterView,
  rule: RuleJson,
  direction: 'ingress' | 'egress',
  policyNamespace: string,
  c: Connection,
): boolean {
  const peers = direction === 'ingress' ? rule.from : rule.to;
  const other = direction === 'ingress' ? c.src : c.dst;
  const peerOk = !peers || peers.length === 0 || peers.some((p) => peerMatches(view, p, policyNamespace, other));
  const portOk = !rule.ports || rule.ports.length === 0 || rule.ports.some((p) => portMatches(p, c, c.dst));
  return peerOk && portOk;
}

function policyTypes(np: NetworkPolicyJson): readonly string[] {
  const t = np.spec?.policyTypes;
  if (t && t.length > 0) return t;
  return ['Ingress', ...(np.spec?.egress && np.spec.egress.length > 0 ? ['Egress'] : [])];
}

/** Does the pod's side allow the connection in this direction? (`isolated` says whether any policy applied) */
export function sideVerdict(
  view: ClusterView,
  pod: PodEndpoint,
  direction: 'ingress' | 'egress',
  c: Connection,
): { readonly isolated: boolean; readonly allowed: boolean } {
  const type = direction === 'ingress' ? 'Ingress' : 'Egress';
  let isolated = false;
  for (const np of view.policies) {
    if ((np.metadata?.namespace ?? 'default') !== pod.namespace) continue;
    if (!selectorMatches(np.spec?.podSelector, pod.labels)) continue;
    if (!policyTypes(np).includes(type)) continue;
    isolated = true;
    const rules = (direction === 'ingress' ? np.spec?.ingress : np.spec?.egress) ?? [];
    if (rules.some((r) => ruleAllows(view, r, direction, pod.namespace, c))) return { isolated, allowed: true };
  }
  return { isolated, allowed: !isolated };
}

/** Is the connection allowed by the cluster's NetworkPolicies? */
export function connectionAllowed(view: ClusterView, c: Connection): boolean {
  if (c.src.kind === 'pod' && !sideVerdict(view, c.src, 'egress', c).allowed) return false;
  if (c.dst.kind === 'pod' && !sideVerdict(view, c.dst, 'ingress', c).allowed) return false;
  return true;
}
