import { canonicalJson } from '../../src/plan/diff.js';
import type { Json, Resource } from '../../src/plan/types.js';
import { canonicalSelector, liveIdOf, type LabelSelectorJson, type MetadataJson } from './canonical.js';
import { MODEL_LABEL, ownerLabels } from './target.js';

/**
 * AdminNetworkPolicy (policy.networking.k8s.io/v1alpha1) for guardrail denies when the target sets
 * `adminNetworkPolicy: true`, in canonical form (pure). Unlike a NetworkPolicy, an ANP's rules are
 * ordered (the first match wins inside one ANP), so the rule lists are kept in order; inside one
 * rule, peers and ports are sets (sorted) and selectors canonical. Cluster-scoped: no namespace.
 */

/** Resource type of an AdminNetworkPolicy. */
export const ANP_TYPE = 'kubernetes_admin_network_policy';

/** An ANP peer: namespaces, pods, networks (egress only). */
export interface AnpPeerJson {
  readonly namespaces?: LabelSelectorJson;
  readonly pods?: { readonly namespaceSelector: LabelSelectorJson; readonly podSelector: LabelSelectorJson };
  readonly networks?: readonly string[];
  readonly nodes?: LabelSelectorJson;
}

/** An ANP port. */
export interface AnpPortJson {
  readonly portNumber?: { readonly protocol: string; readonly port: number };
  readonly portRange?: { readonly protocol: string; readonly start: number; readonly end: number };
  readonly namedPort?: string;
}

/** An ANP rule. */
export interface AnpRuleJson {
  readonly name?: string;
  readonly action: string;
  readonly from?: readonly AnpPeerJson[];
  readonly to?: readonly AnpPeerJson[];
  readonly ports?: readonly AnpPortJson[];
}

/** An AdminNetworkPolicy. */
export interface AdminNetworkPolicyJson {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: MetadataJson;
  readonly spec?: {
    readonly priority: number;
    readonly subject: {
      readonly namespaces?: LabelSelectorJson;
      readonly pods?: { readonly namespaceSelector: LabelSelectorJson; readonly podSelector: LabelSelectorJson };
    };
    readonly ingress?: readonly AnpRuleJson[] | null;
    readonly egress?: readonly AnpRuleJson[] | null;
  };
}

const byJson = (a: Json, b: Json) => {
  const x = canonicalJson(a),
    y = canonicalJson(b);
  return x < y ? -1 : x > y ? 1 : 0;
};

function canonicalAnpPeer(p: AnpPeerJson): Json {
  const out: { [k: string]: Json } = {};
  if (p.namespaces) out['namespaces'] = canonicalSelector(p.namespaces) as Json;
  if (p.pods)
    out['pods'] = {
      namespaceSelector: canonicalSelector(p.pods.namespaceSelector) as Json,
      podSelector: canonicalSelector(p.pods.podSelector) as Json,
    };
  if (p.networks) out['networks'] = [...new Set(p.networks)].sort();
  if (p.nodes) out['nodes'] = canonicalSelector(p.nodes) as Json;
  return out;
}

function canonicalAnpPort(p: AnpPortJson): Json {
  if (p.portNumber) return { portNumber: { protocol: p.portNumber.protocol.toUpperCase(), port: p.portNumber.port } };
  if (p.portRange)
    return {
      portRange: { protocol: p.portRange.protocol.toUpperCase(), start: p.portRange.start, end: p.portRange.end },
    };
  return { namedPort: p.namedPort ?? '' };
}

function canonicalRule(r: AnpRuleJson, field: 'from' | 'to'): Json {
  const peers = (r[field] ?? []).map(canonicalAnpPeer).sort(byJson);
  const ports = (r.ports ?? []).map(canonicalAnpPort).sort(byJson);
  return { action: r.action, name: r.name ?? '', [field]: peers, ...(ports.length > 0 ? { ports } : {}) };
}

/** The canonical resource of an ANP; `address` is `<target>.kubernetes_admin_network_policy.<name>`. */
export function canonicalAdmin(
  target: string,
  anp: AdminNetworkPolicyJson,
  extra: { readonly origins?: Resource['origins'] } = {},
): Resource {
  const spec = anp.spec;
  const subject = spec?.subject ?? {};
  const name = anp.metadata?.name ?? '';
  return {
    address: `${target}.${ANP_TYPE}.${name}`,
    target,
    type: ANP_TYPE,
    name,
    attributes: {
      model: anp.metadata?.labels?.[MODEL_LABEL] ?? '',
      priority: spec?.priority ?? 0,
      subject: canonicalAnpPeer(subject),
      ingress: (spec?.ingress ?? []).map((r) => canonicalRule(r, 'from')),
      egress: (spec?.egress ?? []).map((r) => canonicalRule(r, 'to')),
    },
    children: [],
    ...(anp.metadata?.resourceVersion !== undefined ? { liveId: liveIdOf(anp.metadata) } : {}),
    ...(extra.origins && extra.origins.length > 0 ? { origins: extra.origins } : {}),
  };
}

/** The ANP object of a resource (its canonical attributes are already the API's shape). */
export function adminBody(r: Resource, resourceVersion?: string): AdminNetworkPolicyJson {
  const a = r.attributes as unknown as {
    model: string;
    priority: number;
    subject: AdminNetworkPolicyJson['spec'] extends infer S ? (S extends { subject: infer T } ? T : never) : never;
    ingress: AnpRuleJson[];
    egress: AnpRuleJson[];
  };
  const strip = (rules: readonly AnpRuleJson[], field: 'from' | 'to') =>
    rules.map((rule) => ({
      ...(rule.name ? { name: rule.name } : {}),
      action: rule.action,
      [field]: rule[field],
      ...(rule.ports ? { ports: rule.ports } : {}),
    }));
  return {
    apiVersion: 'policy.networking.k8s.io/v1alpha1',
    kind: 'AdminNetworkPolicy',
    metadata: { name: r.name, labels: { ...ownerLabels(a.model) }, ...(resourceVersion ? { resourceVersion } : {}) },
    spec: {
      priority: a.priority,
      subject: a.subject,
      ...(a.ingress.length > 0 ? { ingress: strip(a.ingress, 'from') } : {}),
      ...(a.egress.length > 0 ? { egress: strip(a.egress, 'to') } : {}),
    },
  };
}
