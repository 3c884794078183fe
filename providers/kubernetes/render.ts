import type { Endpoint, GuardrailDeny, PortMatch, RuleIntent, RuleSet } from '../../src/compile/types.js';
import { error, warning, type Diagnostic, type SourcePos, type SourceRef } from '../../src/diagnostics.js';
import { DEFAULT_INTERNAL_RANGES, internetRanges } from '../../src/model/addresses.js';
import type { Child, Json, Resource } from '../../src/plan/types.js';
import { nameWithHashTail } from '../kit/names.js';
import { ANP_TYPE, canonicalAdmin, type AnpPeerJson, type AnpPortJson, type AnpRuleJson } from './admin.js';
import {
  atomChild,
  canonicalSelector,
  namespaceSelector,
  networkPolicyResource,
  type Atom,
  type Peer,
  type Port,
} from './canonical.js';
import { ciliumChild, ciliumResource, KUBE_DNS_ENDPOINT, type CiliumPort } from './cilium.js';
import { ANP_PRIORITY, KUBE_DNS, MAX_ANP_NAME_LENGTH, MAX_ANP_NETWORKS, MAX_ANP_RULE_NAME } from './limits.js';
import { ownerLabels, segmentPods, type KubernetesSegment, type KubernetesTarget, type SegmentPods } from './target.js';

/**
 * Render (pure): a RuleSet → the desired Kubernetes objects of one target (DESIGN §8).
 *
 * - One NetworkPolicy per segment, `<model>-<segment>` in the segment's namespace, selecting its
 *   pods, `policyTypes: [Ingress, Egress]`: default-deny both ways for those pods and only them.
 *   Each allowed flow is one atom per (peer, port) (canonical.ts): segment peers by `podSelector`,
 *   with `namespaceSelector` on `kubernetes.io/metadata.name` when the peer lives in another
 *   namespace; CIDR entities as `ipBlock`; `internet` as `0.0.0.0/0` and `::/0` with `except` of
 *   the target's internal ranges (DESIGN §5); port ranges with `endPort`.
 * - DNS egress to kube-dns (UDP and TCP 53) for every segment unless the target says `dns: false`.
 * - FQDN egress: a CiliumNetworkPolicy `<model>-<segment>-fqdn` with `toFQDNs` and the DNS rule
 *   Cilium's proxy needs to learn the names' addresses, when the target says `fqdn: cilium`;
 *   otherwise an error (NetworkPolicy matches addresses only).
 * - ICMP and other protocols: an error (NetworkPolicy only defines TCP, UDP and SCTP).
 * - Guardrail denies: AdminNetworkPolicies (one per deny and protected segment, action Deny at
 *   priority ANP_PRIORITY) when the target says `adminNetworkPolicy: true`; otherwise a warning
 *   that they are checked at validation only. What ANP v1alpha1 cannot say (ingress from
 *   addresses, names, ICMP) is a warning naming the guardrail.
 */

/** What render produced for a target, with everything it could not express. */
export interface KubernetesRender {
  /** Sorted by address. */
  readonly resources: Resource[];
  readonly diagnostics: Diagnostic[];
}

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function firstPos(origins: readonly SourceRef[]): SourcePos | undefined {
  return origins[0]?.pos;
}

/** The canonical port of a model match; undefined when NetworkPolicy cannot express it. */
export function portOfMatch(m: PortMatch): Port | undefined {
  if (m.kind === 'all') return { kind: 'all' };
  if (m.kind !== 'ports') return undefined;
  const protocol = m.protocol.toUpperCase();
  if (m.from === 0 && m.to === 65535) return { kind: 'port', protocol };
  // Port 0 is no port a pod listens on, and the API requires 1-65535: 0-N means 1-N.
  const port = Math.max(1, m.from);
  return { kind: 'port', protocol, port, ...(m.to > port ? { endPort: m.to } : {}) };
}

/** The peer of a segment's pods. */
export function podsPeer(pods: SegmentPods): Peer {
  return {
    kind: 'pods',
    namespaces: namespaceSelector(pods.namespace),
    pods: canonicalSelector({ matchLabels: pods.labels }),
  };
}

/** The kube-dns peer. */
export function kubeDnsPeer(): Peer {
  return {
    kind: 'pods',
    namespaces: namespaceSelector(KUBE_DNS.namespace),
    pods: canonicalSelector({ matchLabels: KUBE_DNS.labels }),
  };
}

/** `internet` as ipBlocks: each family's whole space minus the internal ranges of that family. */
export function internetPeers(
  internal: readonly string[],
  families: { readonly ipv4: boolean; readonly ipv6: boolean },
): Peer[] {
  const v4 = internal.filter((c) => !c.includes(':')).sort(byString);
  const v6 = internal.filter((c) => c.includes(':')).sort(byString);
  const out: Peer[] = [];
  if (families.ipv4) out.push({ kind: 'ipBlock', cidr: '0.0.0.0/0', except: v4.includes('0.0.0.0/0') ? [] : v4 });
  if (families.ipv6) out.push({ kind: 'ipBlock', cidr: '::/0', except: v6.includes('::/0') ? [] : v6 });
  return out;
}

/** Render context of one target. */
interface Ctx {
  readonly rules: RuleSet;
  readonly target: KubernetesTarget;
  readonly pods: ReadonlyMap<string, SegmentPods>;
  readonly internal: readonly string[];
  readonly diagnostics: Diagnostic[];
  /**
   * Peers by endpoint, computed once: segment peers by name (compile makes a new endpoint object
   * per intent), the others by identity, then by their JSON. Every atom naming an endpoint then
   * shares its Peer objects (and their printed text, canonical.ts peerText): at 10,000 segments
   * that is ~900,000 atoms that do not each carry three selectors of their own (issue 11).
   */
  readonly segmentPeers: Map<string, Peer[] | undefined>;
  readonly endpointPeers: Map<Endpoint, Peer[]>;
  readonly jsonPeers: Map<string, Peer[]>;
  /** Ports by the model's match, shared the same way (undefined: NetworkPolicy cannot say it). */
  readonly ports: Map<PortMatch, Port | undefined>;
  /** The DNS egress atoms every segment gets: one set for the render. */
  dns?: { readonly atoms: readonly Atom[]; readonly origins: SourceRef[] };
}

/** The NetworkPolicy peers of an endpoint; undefined (with a diagnostic) when it has none. */
function uncachedPeersOf(ctx: Ctx, e: Endpoint, intent: RuleIntent): Peer[] | undefined {
  switch (e.kind) {
    case 'segment': {
      const pods = ctx.pods.get(e.name);
      return pods ? [podsPeer(pods)] : undefined;
    }
    case 'cidrs':
      if (e.builtin === 'internet')
        return internetPeers(ctx.internal, { ipv4: e.ipv4.length > 0, ipv6: e.ipv6.length > 0 });
      return [...e.ipv4, ...e.ipv6].map((cidr): Peer => ({ kind: 'ipBlock', cidr, except: [] }));
    case 'cloud':
      if (e.kubernetes)
        return [...e.kubernetes.ipv4, ...e.kubernetes.ipv6].map(
          (cidr): Peer => ({ kind: 'ipBlock', cidr, except: [] }),
        );
      ctx.diagnostics.push(
        error(
          'kubernetes-entity-unbound',
          `entity ${e.entity} has no Kubernetes binding: give it \`kubernetes: { cidrs: [...] }\` (the addresses the cluster reaches it at)`,
          firstPos(intent.origins),
        ),
      );
      return undefined;
    case 'fqdns':
      return undefined;
  }
}

/**
 * peersOf, once per endpoint (Ctx.segmentPeers). An entity without a Kubernetes binding is not
 * cached: each intent toward it reports its own error, at its own line.
 */
function peersOf(ctx: Ctx, e: Endpoint, intent: RuleIntent): Peer[] | undefined {
  if (e.kind === 'segment') {
    if (ctx.segmentPeers.has(e.name)) return ctx.segmentPeers.get(e.name);
    const peers = uncachedPeersOf(ctx, e, intent);
    ctx.segmentPeers.set(e.name, peers);
    return peers;
  }
  if (e.kind === 'fqdns' || (e.kind === 'cloud' && !e.kubernetes)) return uncachedPeersOf(ctx, e, intent);
  let peers = ctx.endpointPeers.get(e);
  if (peers) return peers;
  const json = JSON.stringify(e);
  peers = ctx.jsonPeers.get(json);
  if (!peers) ctx.jsonPeers.set(json, (peers = uncachedPeersOf(ctx, e, intent)!));
  ctx.endpointPeers.set(e, peers);
  return peers;
}

/** portOfMatch, once per match object (Ctx.ports). */
function portOf(ctx: Ctx, m: PortMatch): Port | undefined {
  if (ctx.ports.has(m)) return ctx.ports.get(m);
  const port = portOfMatch(m);
  ctx.ports.set(m, port);
  return port;
}

function protocolRefusal(ctx: Ctx, intent: RuleIntent): void {
  const what =
    intent.service.kind === 'icmp'
      ? intent.service.protocol
      : intent.service.kind === 'protocol'
        ? `IP protocol ${intent.service.number}`
        : 'this service';
  ctx.diagnostics.push(
    error(
      'kubernetes-protocol-unsupported',
      `segment ${intent.segment}: ${what} cannot be allowed by a NetworkPolicy on target ${ctx.target.name}: NetworkPolicy only defines TCP, UDP and SCTP ` +
        `(whether other traffic passes is up to the network plugin), so Bulkhead refuses to plan a rule it cannot enforce; remove it from the flow or from this target's model`,
      firstPos(intent.origins),
    ),
  );
}

/** The DNS egress atoms every segment gets by default. */
export function dnsAtoms(): Atom[] {
  const peer = kubeDnsPeer();
  return ['UDP', 'TCP'].map(
    (protocol): Atom => ({ direction: 'egress', peer, port: { kind: 'port', protocol, port: 53 } }),
  );
}

function networkPolicy(
  ctx: Ctx,
  segment: KubernetesSegment,
  intents: readonly RuleIntent[],
  fqdnIntents: RuleIntent[],
): Resource {
  const pods = ctx.pods.get(segment.name)!;
  const children: Child[] = [];
  for (const intent of intents) {
    if (intent.peer.kind === 'fqdns') {
      fqdnIntents.push(intent);
      continue;
    }
    const port = portOf(ctx, intent.service);
    if (!port) {
      protocolRefusal(ctx, intent);
      continue;
    }
    const peers = peersOf(ctx, intent.peer, intent);
    if (!peers) continue;
    for (const peer of peers)
      children.push(atomChild({ direction: intent.direction, peer, port }, { origins: intent.origins, widens: true }));
  }
  if (ctx.target.kubernetes.dns !== false) {
    ctx.dns ??= {
      atoms: dnsAtoms(),
      origins: [
        { pos: ctx.target.pos, label: `DNS egress to kube-dns (target ${ctx.target.name}; dns: false turns it off)` },
      ],
    };
    for (const a of ctx.dns.atoms) children.push(atomChild(a, { origins: ctx.dns.origins }));
  }
  return networkPolicyResource(
    ctx.target.name,
    `${ctx.rules.model.name}-${segment.name}`,
    {
      model: ctx.rules.model.name,
      namespace: pods.namespace,
      podSelector: canonicalSelector({ matchLabels: pods.labels }),
      policyTypes: ['Ingress', 'Egress'],
    },
    children,
    { origins: [{ pos: segment.pos, label: `segment ${segment.name}` }] },
  );
}

/** The Cilium port of a model match; undefined when the vendored CRD cannot say it (no endPort). */
function ciliumPort(m: PortMatch): CiliumPort | undefined {
  if (m.kind === 'all') return { kind: 'all' };
  if (m.kind !== 'ports') return undefined;
  if (m.from === 0 && m.to === 65535) return { kind: 'port', protocol: m.protocol.toUpperCase(), port: '0' };
  if (m.from !== m.to) return undefined;
  return { kind: 'port', protocol: m.protocol.toUpperCase(), port: String(m.from) };
}

function ciliumPolicy(ctx: Ctx, segment: KubernetesSegment, intents: readonly RuleIntent[]): Resource | undefined {
  const pods = ctx.pods.get(segment.name)!;
  const children: Child[] = [];
  for (const intent of intents) {
    if (intent.peer.kind !== 'fqdns') continue;
    const port = ciliumPort(intent.service);
    if (!port) {
      ctx.diagnostics.push(
        error(
          'kubernetes-fqdn-port',
          `segment ${intent.segment}: FQDN egress to ${intent.peer.entity} on target ${ctx.target.name} needs single ports or every port of a protocol: ` +
            `CiliumNetworkPolicy's toPorts has no port ranges (and ICMP is not filtered by name)`,
          firstPos(intent.origins),
        ),
      );
      continue;
    }
    for (const fqdn of intent.peer.fqdns)
      children.push(ciliumChild({ peer: { kind: 'fqdn', matchName: fqdn }, port }, intent.origins));
  }
  if (children.length === 0) return undefined;
  // Cilium learns a name's addresses from the DNS answers its proxy sees: without an L7 DNS rule
  // on the way to kube-dns, toFQDNs never matches anything.
  const dnsOrigins: SourceRef[] = [{ pos: ctx.target.pos, label: 'DNS visibility for toFQDNs (Cilium DNS proxy)' }];
  for (const protocol of ['UDP', 'TCP']) {
    children.push(
      ciliumChild(
        {
          peer: { kind: 'endpoints', selector: canonicalSelector({ matchLabels: KUBE_DNS_ENDPOINT }) },
          port: { kind: 'port', protocol, port: '53', rules: { dns: [{ matchPattern: '*' }] } },
        },
        dnsOrigins,
      ),
    );
  }
  return ciliumResource(
    ctx.target.name,
    `${ctx.rules.model.name}-${segment.name}-fqdn`,
    {
      model: ctx.rules.model.name,
      namespace: pods.namespace,
      endpointSelector: canonicalSelector({ matchLabels: pods.labels }),
      other: '{}',
    },
    children,
  );
}

/** The ANP peers of a deny's peer; undefined with a warning when ANP v1alpha1 cannot say it. */
function anpPeers(ctx: Ctx, deny: GuardrailDeny): AnpPeerJson[] | undefined {
  const p = deny.peer;
  const refuse = (why: string) => {
    ctx.diagnostics.push(
      warning(
        'kubernetes-guardrail-not-rendered',
        `guardrail ${deny.guardrail} (${deny.direction}) is not rendered as an AdminNetworkPolicy on target ${ctx.target.name}: ${why}; it is still checked at validation`,
        firstPos(deny.origins),
      ),
    );
    return undefined;
  };
  if (p.kind === 'any') {
    if (deny.direction === 'ingress') return [{ namespaces: {} }];
    return [{ namespaces: {} }, { networks: ['0.0.0.0/0', '::/0'] }];
  }
  if (p.kind === 'segment') {
    const pods = ctx.pods.get(p.name);
    if (!pods) return undefined;
    return [
      {
        pods: {
          namespaceSelector: namespaceSelector(pods.namespace),
          podSelector: { matchLabels: { ...pods.labels } },
        },
      },
    ];
  }
  if (p.kind === 'cidrs') {
    if (deny.direction === 'ingress')
      return refuse('AdminNetworkPolicy v1alpha1 ingress peers are namespaces and pods only, not addresses');
    const cidrs =
      p.builtin === 'internet'
        ? internetRanges(ctx.internal).filter((c) => (c.includes(':') ? p.ipv6.length > 0 : p.ipv4.length > 0))
        : [...p.ipv4, ...p.ipv6];
    const out: AnpPeerJson[] = [];
    for (let i = 0; i < cidrs.length; i += MAX_ANP_NETWORKS)
      out.push({ networks: cidrs.slice(i, i + MAX_ANP_NETWORKS) });
    return out;
  }
  return refuse(
    `its peer ${p.entity} is ${p.kind === 'fqdns' ? 'a list of names' : 'bound per cloud'}, which AdminNetworkPolicy v1alpha1 cannot match`,
  );
}

function anpPorts(ctx: Ctx, deny: GuardrailDeny): AnpPortJson[] | undefined | 'all' {
  const out: AnpPortJson[] = [];
  for (const m of deny.services) {
    if (m.kind === 'all') return 'all';
    if (m.kind !== 'ports') {
      ctx.diagnostics.push(
        warning(
          'kubernetes-guardrail-not-rendered',
          `guardrail ${deny.guardrail}: ${m.kind === 'icmp' ? m.protocol : `IP protocol ${m.number}`} cannot be matched by an AdminNetworkPolicy on target ${ctx.target.name}; that part is checked at validation only`,
          firstPos(deny.origins),
        ),
      );
      continue;
    }
    const protocol = m.protocol.toUpperCase();
    if (m.from === 0 && m.to === 65535) out.push({ portRange: { protocol, start: 1, end: 65535 } });
    else if (m.from === m.to) out.push({ portNumber: { protocol, port: Math.max(1, m.from) } });
    else out.push({ portRange: { protocol, start: Math.max(1, m.from), end: m.to } });
  }
  return out.length > 0 ? out : undefined;
}

function adminPolicies(ctx: Ctx): Resource[] {
  const out: Resource[] = [];
  const model = ctx.rules.model.name;
  for (const deny of ctx.rules.denies) {
    const peers = anpPeers(ctx, deny);
    if (!peers) continue;
    const ports = anpPorts(ctx, deny);
    if (ports === undefined) continue;
    const field = deny.direction === 'ingress' ? 'from' : 'to';
    const rule: AnpRuleJson = {
      name: deny.guardrail.slice(0, MAX_ANP_RULE_NAME),
      action: 'Deny',
      [field]: peers,
      ...(ports === 'all' ? {} : { ports }),
    };
    for (const segment of deny.segments) {
      const pods = ctx.pods.get(segment);
      // The name hashes what the ANP is about (guardrail, direction, peer, segment), not its ports:
      // a port change is an in-place update, not a new object.
      if (!pods) continue;
      const name = nameWithHashTail(
        [model, deny.guardrail, segment, deny.direction === 'ingress' ? 'in' : 'out'],
        MAX_ANP_NAME_LENGTH,
        8,
        { identity: `${model}\n${deny.guardrail}\n${deny.direction}\n${JSON.stringify(deny.peer)}\n${segment}` },
      );
      out.push(
        canonicalAdmin(
          ctx.target.name,
          {
            metadata: { name, labels: ownerLabels(model) },
            spec: {
              priority: ANP_PRIORITY,
              subject: {
                pods: {
                  namespaceSelector: namespaceSelector(pods.namespace),
                  podSelector: { matchLabels: { ...pods.labels } },
                },
              },
              ...(deny.direction === 'ingress' ? { ingress: [rule] } : { egress: [rule] }),
            },
          },
          { origins: deny.origins },
        ),
      );
    }
  }
  // `only`: every pod source but the allowed segments' is denied; the allowed ones Pass on to the
  // NetworkPolicies (which allow exactly the model's flows). Addresses outside the cluster cannot be
  // ANP ingress peers: for them the NetworkPolicies' default deny is what holds.
  for (const only of ctx.rules.onlys ?? []) {
    const allowed: AnpPeerJson[] = only.fromSegments.flatMap((s) => {
      const pods = ctx.pods.get(s);
      return pods
        ? [
            {
              pods: {
                namespaceSelector: namespaceSelector(pods.namespace),
                podSelector: { matchLabels: { ...pods.labels } },
              },
            },
          ]
        : [];
    });
    const name = only.guardrail.slice(0, MAX_ANP_RULE_NAME - '-allowed'.length);
    const ingress: AnpRuleJson[] = [
      ...(allowed.length > 0 ? [{ name: `${name}-allowed`, action: 'Pass', from: allowed }] : []),
      { name, action: 'Deny', from: [{ namespaces: {} }] },
    ];
    for (const segment of only.segments) {
      const pods = ctx.pods.get(segment);
      if (!pods) continue;
      const anpName = nameWithHashTail([model, only.guardrail, segment, 'only'], MAX_ANP_NAME_LENGTH, 8, {
        identity: `${model}\n${only.guardrail}\nonly\n${segment}`,
      });
      out.push(
        canonicalAdmin(
          ctx.target.name,
          {
            metadata: { name: anpName, labels: ownerLabels(model) },
            spec: {
              priority: ANP_PRIORITY,
              subject: {
                pods: {
                  namespaceSelector: namespaceSelector(pods.namespace),
                  podSelector: { matchLabels: { ...pods.labels } },
                },
              },
              ingress,
            },
          },
          { origins: only.origins },
        ),
      );
    }
  }
  return out;
}

/** Renders one Kubernetes target. */
export function renderKubernetes(rules: RuleSet, target: KubernetesTarget): KubernetesRender {
  const segments = rules.segments as readonly KubernetesSegment[];
  const ctx: Ctx = {
    rules,
    target,
    pods: new Map(segments.map((s) => [s.name, segmentPods(target.kubernetes, s)])),
    internal: target.kubernetes.internalRanges ?? DEFAULT_INTERNAL_RANGES,
    diagnostics: [],
    segmentPeers: new Map(),
    endpointPeers: new Map(),
    jsonPeers: new Map(),
    ports: new Map(),
  };
  const bySegment = new Map<string, RuleIntent[]>();
  for (const r of rules.rules) {
    const list = bySegment.get(r.segment);
    if (list) list.push(r);
    else bySegment.set(r.segment, [r]);
  }
  const resources: Resource[] = [];
  for (const segment of segments) {
    const fqdnIntents: RuleIntent[] = [];
    resources.push(networkPolicy(ctx, segment, bySegment.get(segment.name) ?? [], fqdnIntents));
    if (fqdnIntents.length === 0) continue;
    if (target.kubernetes.fqdn === 'cilium') {
      const cnp = ciliumPolicy(ctx, segment, fqdnIntents);
      if (cnp) resources.push(cnp);
      continue;
    }
    for (const intent of fqdnIntents) {
      ctx.diagnostics.push(
        error(
          'kubernetes-fqdn-unsupported',
          `segment ${segment.name}: egress to ${(intent.peer as { entity: string }).entity} (names) cannot be enforced by a NetworkPolicy on target ${target.name}: ` +
            `NetworkPolicy matches addresses only. With Cilium as the network plugin, set \`fqdn: cilium\` on the target to render it as a CiliumNetworkPolicy (toFQDNs)`,
          firstPos(intent.origins),
        ),
      );
    }
  }
  if (rules.denies.length > 0 || (rules.onlys ?? []).length > 0) {
    if (target.kubernetes.adminNetworkPolicy) resources.push(...adminPolicies(ctx));
    else {
      const names = [
        ...new Set([...rules.denies.map((d) => d.guardrail), ...(rules.onlys ?? []).map((o) => o.guardrail)]),
      ].sort(byString);
      ctx.diagnostics.push(
        warning(
          'kubernetes-guardrails-validation-only',
          `target ${target.name}: guardrail${names.length > 1 ? 's' : ''} ${names.join(', ')} ${names.length > 1 ? 'are' : 'is'} checked at validation only: ` +
            `nothing in the cluster stops a NetworkPolicy written by hand from opening what ${names.length > 1 ? 'they close' : 'it closes'}. ` +
            'Set `adminNetworkPolicy: true` on the target to render guardrails as AdminNetworkPolicies (the cluster needs the network-policy-api CRDs and a plugin that implements them)',
          target.pos,
        ),
      );
    }
  }
  resources.sort((a, b) => byString(a.address, b.address));
  return { resources, diagnostics: ctx.diagnostics };
}

/** Types of the objects render writes (read lists exactly these). */
export const RENDERED_TYPES: readonly string[] = [
  'kubernetes_network_policy',
  'kubernetes_cilium_network_policy',
  ANP_TYPE,
];

/** The resources' JSON with origins dropped (what tests compare). */
export function withoutOrigins(resources: readonly Resource[]): Json {
  return resources.map((r) => ({
    address: r.address,
    attributes: r.attributes,
    children: r.children.map((c) => c.key),
  })) as Json;
}
