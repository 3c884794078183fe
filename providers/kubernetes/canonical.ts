import { canonicalJson, jsonEqual } from '../../src/plan/diff.js';
import type { Child, Json, Resource } from '../../src/plan/types.js';
import { canonicalCidr } from '../kit/cidr.js';
import { flat } from '../kit/strings.js';
import { MODEL_LABEL, NAMESPACE_NAME_LABEL, ownerLabels } from './target.js';

/**
 * The canonical form of a NetworkPolicy, and the way back to the wire (pure).
 *
 * A NetworkPolicy's rules are additive and each rule is (any of its peers) AND (any of its
 * ports), so a policy means exactly the set of its (direction, peer, port) atoms: `from: [a, b],
 * ports: [p, q]` is a×p, a×q, b×p, b×q. The atoms are the resource's children, which makes the
 * diff semantic (cloud-semantics "Normalization traps", for Kubernetes):
 * - rule order, peer order, port order and how atoms are grouped into rules never matter;
 * - an absent or empty `from`/`to` is "every peer", an absent or empty `ports` "every port";
 * - `protocol` defaults to TCP; `endPort` equal to `port` is no range; a numeric string port is the number;
 * - a `podSelector` without `namespaceSelector` means the policy's own namespace, which is the same as
 *   `namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: <ns>}}` (the label the API server
 *   sets on every namespace); a `namespaceSelector` without `podSelector` means every pod there;
 * - selectors: `matchLabels` and `matchExpressions` sorted, an `In` of one value folded into
 *   `matchLabels`, expression values sorted;
 * - `policyTypes` absent means Ingress, plus Egress when there is an `egress` section.
 * The way back (`networkPolicyBody`) groups atoms into one rule per set of ports, so render,
 * `render --format yaml` and apply write the same object for the same children.
 */

/** Resource type of a NetworkPolicy. */
export const NP_TYPE = 'kubernetes_network_policy';

/** A label selector as the API spells it. */
export interface LabelSelectorJson {
  readonly matchLabels?: { readonly [key: string]: string } | null;
  readonly matchExpressions?:
    | readonly { readonly key: string; readonly operator: string; readonly values?: readonly string[] | null }[]
    | null;
}

/** A NetworkPolicyPeer. */
export interface PeerJson {
  readonly podSelector?: LabelSelectorJson | null;
  readonly namespaceSelector?: LabelSelectorJson | null;
  readonly ipBlock?: { readonly cidr: string; readonly except?: readonly string[] | null } | null;
}

/** A NetworkPolicyPort. */
export interface PortJson {
  readonly protocol?: string | null;
  readonly port?: number | string | null;
  readonly endPort?: number | null;
}

/** A NetworkPolicy ingress or egress rule. */
export interface RuleJson {
  readonly from?: readonly PeerJson[] | null;
  readonly to?: readonly PeerJson[] | null;
  readonly ports?: readonly PortJson[] | null;
}

/** Object metadata, as far as Bulkhead reads and writes it. */
export interface MetadataJson {
  readonly name?: string;
  readonly namespace?: string;
  readonly labels?: { readonly [key: string]: string } | null;
  readonly annotations?: { readonly [key: string]: string } | null;
  readonly resourceVersion?: string;
  readonly uid?: string;
}

/** A NetworkPolicy (networking.k8s.io/v1). */
export interface NetworkPolicyJson {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: MetadataJson;
  readonly spec?: {
    readonly podSelector?: LabelSelectorJson | null;
    readonly policyTypes?: readonly string[] | null;
    readonly ingress?: readonly RuleJson[] | null;
    readonly egress?: readonly RuleJson[] | null;
  };
}

/** A canonical selector: sorted labels and expressions; `{}` selects everything. */
export interface Selector {
  readonly matchLabels?: { readonly [key: string]: string };
  readonly matchExpressions?: readonly {
    readonly key: string;
    readonly operator: string;
    readonly values?: readonly string[];
  }[];
}

/** A canonical peer. */
export type Peer =
  /** No `from`/`to`: every address. */
  | { readonly kind: 'any' }
  /** Pods matching `pods` in the namespaces matching `namespaces` (`{}` = all). */
  | { readonly kind: 'pods'; readonly namespaces: Selector; readonly pods: Selector }
  | { readonly kind: 'ipBlock'; readonly cidr: string; readonly except: readonly string[] };

/** A canonical port: `all` (no `ports`), or a protocol with an optional port or range. */
export type Port =
  | { readonly kind: 'all' }
  | { readonly kind: 'port'; readonly protocol: string; readonly port?: number | string; readonly endPort?: number };

/** One (direction, peer, port) atom of a policy. */
export interface Atom {
  readonly direction: 'ingress' | 'egress';
  readonly peer: Peer;
  readonly port: Port;
}

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function sortedMap(m: { readonly [key: string]: string }): { [key: string]: string } {
  const out: { [key: string]: string } = {};
  for (const k of Object.keys(m).sort(byString)) out[k] = m[k]!;
  return out;
}

/** Canonical selector of the API's form (null and absent select everything). */
export function canonicalSelector(sel: LabelSelectorJson | null | undefined): Selector {
  const labels: { [key: string]: string } = { ...(sel?.matchLabels ?? {}) };
  const exprs: { key: string; operator: string; values?: string[] }[] = [];
  for (const e of sel?.matchExpressions ?? []) {
    const values = [...new Set(e.values ?? [])].sort(byString);
    if (e.operator === 'In' && values.length === 1 && !(e.key in labels)) {
      labels[e.key] = values[0]!;
      continue;
    }
    exprs.push({ key: e.key, operator: e.operator, ...(values.length > 0 ? { values } : {}) });
  }
  exprs.sort((a, b) => byString(canonicalJson(a), canonicalJson(b)));
  return {
    ...(Object.keys(labels).length > 0 ? { matchLabels: sortedMap(labels) } : {}),
    ...(exprs.length > 0 ? { matchExpressions: exprs } : {}),
  };
}

/** The selector of one namespace by name. */
export function namespaceSelector(namespace: string): Selector {
  return { matchLabels: { [NAMESPACE_NAME_LABEL]: namespace } };
}

/** `k=v,k2 in (a,b)`; `{}` for the selector of everything. */
export function selectorText(s: Selector): string {
  const terms = [
    ...Object.entries(s.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`),
    ...(s.matchExpressions ?? []).map((e) =>
      e.operator === 'Exists'
        ? e.key
        : e.operator === 'DoesNotExist'
          ? `!${e.key}`
          : `${e.key} ${e.operator.toLowerCase()} (${(e.values ?? []).join(',')})`,
    ),
  ];
  return `{${terms.join(',')}}`;
}

/** A canonical CIDR text (host bits zeroed: the API server accepts them and matches the network). */
function cidrText(text: string): string {
  const r = canonicalCidr(text);
  if (r.ok) return r.text;
  if (r.reason === 'host-bits') return r.network;
  return text;
}

/** Canonical peer of the API's form, inside a policy of `namespace`. */
export function canonicalPeer(p: PeerJson, namespace: string): Peer {
  if (p.ipBlock) {
    const except = [...new Set((p.ipBlock.except ?? []).map(cidrText))].sort(byString);
    return { kind: 'ipBlock', cidr: cidrText(p.ipBlock.cidr), except };
  }
  const namespaces = p.namespaceSelector ? canonicalSelector(p.namespaceSelector) : namespaceSelector(namespace);
  return { kind: 'pods', namespaces, pods: canonicalSelector(p.podSelector) };
}

/** Canonical port of the API's form (protocol TCP by default). */
export function canonicalPort(p: PortJson): Port {
  const protocol = (p.protocol ?? 'TCP').toUpperCase();
  let port: number | string | undefined = p.port ?? undefined;
  if (typeof port === 'string' && /^\d+$/.test(port)) port = Number(port);
  const endPort =
    typeof port === 'number' && typeof p.endPort === 'number' && p.endPort !== port ? p.endPort : undefined;
  return {
    kind: 'port',
    protocol,
    ...(port !== undefined ? { port } : {}),
    ...(endPort !== undefined ? { endPort } : {}),
  };
}

/** `*`, `TCP/*`, `TCP/443`, `TCP/8000-8080`, `TCP/http`. */
export function portText(p: Port): string {
  if (p.kind === 'all') return '*';
  if (p.port === undefined) return `${p.protocol}/*`;
  return p.endPort !== undefined ? `${p.protocol}/${p.port}-${p.endPort}` : `${p.protocol}/${p.port}`;
}

/**
 * Texts of the peers already printed. Render shares one Peer object among all the atoms that name
 * it (thousands at estate scale), and each key, summary and output rule prints it: once per object
 * instead of two selector texts per use. Peers are immutable; the map lets go of them with the objects.
 */
const peerTexts = new WeakMap<Peer, string>();

/** A readable peer: `*`, `pods{…} in ns{…}`, `0.0.0.0/0 except 10.0.0.0/8,…`. */
export function peerText(p: Peer): string {
  if (p.kind === 'any') return '*';
  let text = peerTexts.get(p);
  if (text === undefined) {
    text =
      p.kind === 'ipBlock'
        ? p.except.length > 0
          ? `${p.cidr} except ${p.except.join(',')}`
          : p.cidr
        : `pods${selectorText(p.pods)} in ns${selectorText(p.namespaces)}`;
    // Flat once (reading a character flattens a concatenation in place): every key that embeds
    // it then copies one string, not a tree of pieces scattered over a heap of a gigabyte.
    text.charCodeAt(0);
    peerTexts.set(p, text);
  }
  return text;
}

/** Child key of an atom: identity and content at once (an atom is never updated, only added or removed). */
export function atomKey(a: Atom): string {
  return `${a.direction} ${a.direction === 'ingress' ? 'from' : 'to'} ${peerText(a.peer)} ${portText(a.port)}`;
}

/** The atoms of one rule list. */
function atomsOfRules(
  direction: 'ingress' | 'egress',
  rules: readonly RuleJson[] | null | undefined,
  namespace: string,
): Atom[] {
  const out: Atom[] = [];
  for (const r of rules ?? []) {
    const peersJson = direction === 'ingress' ? r.from : r.to;
    const peers: Peer[] =
      peersJson && peersJson.length > 0 ? peersJson.map((p) => canonicalPeer(p, namespace)) : [{ kind: 'any' }];
    const ports: Port[] = r.ports && r.ports.length > 0 ? r.ports.map(canonicalPort) : [{ kind: 'all' }];
    for (const peer of peers) for (const port of ports) out.push({ direction, peer, port });
  }
  return out;
}

/** The child of an atom (origins and `widens` added by render). */
export function atomChild(
  a: Atom,
  extra: { readonly origins?: Child['origins']; readonly widens?: boolean } = {},
): Child {
  const peer = peerText(a.peer);
  const port = portText(a.port);
  const way = a.direction === 'ingress' ? 'from' : 'to';
  const attributes = { direction: a.direction, peer: a.peer as unknown as Json, port: a.port as unknown as Json };
  const origins = extra.origins && extra.origins.length > 0 ? extra.origins : undefined;
  // Literals for the four shapes rather than spreads: render makes one child per atom (~900,000 at
  // 10,000 segments). Field order as before: key, summary, attributes, origins, widens.
  // Flat once here: uniqueChildren hashes and sorts by it.
  const key = flat(`${a.direction} ${way} ${peer} ${port}`);
  const summary = `${a.direction} ${port} ${way} ${peer}`;
  if (origins)
    return extra.widens ? { key, summary, attributes, origins, widens: true } : { key, summary, attributes, origins };
  return extra.widens ? { key, summary, attributes, widens: true } : { key, summary, attributes };
}

/** The atom of a child (the attributes are an Atom). */
export function childAtom(c: Child): Atom {
  return c.attributes as unknown as Atom;
}

/** What a NetworkPolicy resource's attributes are. */
export interface NetworkPolicyAttributes {
  /** The model whose labels the object carries (`bulkhead.io/model`). */
  readonly model: string;
  readonly namespace: string;
  readonly podSelector: Selector;
  readonly policyTypes: readonly string[];
}

/** The address of a namespaced object: `<target>.<type>.<namespace>/<name>` (names repeat across namespaces). */
export function namespacedAddress(target: string, type: string, namespace: string, name: string): string {
  return `${target}.${type}.${namespace}/${name}`;
}

/** Children sorted by key, duplicates merged (their origins joined). */
export function uniqueChildren(children: readonly Child[]): Child[] {
  const byKey = new Map<string, Child>();
  for (const c of children) {
    const seen = byKey.get(c.key);
    if (!seen) byKey.set(c.key, c);
    else {
      const origins = [...(seen.origins ?? []), ...(c.origins ?? [])];
      byKey.set(c.key, {
        ...seen,
        ...(origins.length > 0 ? { origins } : {}),
        ...(seen.widens || c.widens ? { widens: true } : {}),
      });
    }
  }
  return [...byKey.values()].sort((a, b) => byString(a.key, b.key));
}

/** `Ingress` before `Egress` (the order the API documents), anything else after them, sorted. */
function sortPolicyTypes(types: readonly string[]): string[] {
  const rank = (t: string) => (t === 'Ingress' ? 0 : t === 'Egress' ? 1 : 2);
  return [...new Set(types)].sort((a, b) => rank(a) - rank(b) || byString(a, b));
}

/** A NetworkPolicy resource from its parts. */
export function networkPolicyResource(
  target: string,
  name: string,
  attributes: NetworkPolicyAttributes,
  children: readonly Child[],
  extra: { readonly liveId?: string; readonly origins?: Resource['origins'] } = {},
): Resource {
  return {
    address: namespacedAddress(target, NP_TYPE, attributes.namespace, name),
    target,
    type: NP_TYPE,
    name,
    attributes: {
      model: attributes.model,
      namespace: attributes.namespace,
      podSelector: attributes.podSelector as Json,
      policyTypes: sortPolicyTypes(attributes.policyTypes),
    },
    children: uniqueChildren(children),
    ...(extra.liveId ? { liveId: extra.liveId } : {}),
    ...(extra.origins && extra.origins.length > 0 ? { origins: extra.origins } : {}),
  };
}

/** The canonical resource of a NetworkPolicy read from the API or a snapshot. */
export function canonicalNetworkPolicy(target: string, np: NetworkPolicyJson): Resource {
  const namespace = np.metadata?.namespace ?? 'default';
  const spec = np.spec ?? {};
  const policyTypes =
    spec.policyTypes && spec.policyTypes.length > 0
      ? [...new Set(spec.policyTypes)]
      : ['Ingress', ...(spec.egress && spec.egress.length > 0 ? ['Egress'] : [])];
  const atoms = [
    ...atomsOfRules('ingress', spec.ingress, namespace),
    ...atomsOfRules('egress', spec.egress, namespace),
  ];
  return networkPolicyResource(
    target,
    np.metadata?.name ?? '',
    {
      model: np.metadata?.labels?.[MODEL_LABEL] ?? '',
      namespace,
      podSelector: canonicalSelector(spec.podSelector),
      policyTypes,
    },
    atoms.map((a) => atomChild(a)),
    { liveId: liveIdOf(np.metadata) },
  );
}

/** `<namespace>/<name>@<resourceVersion>`: what apply needs to replace or delete exactly what was read. */
export function liveIdOf(meta: MetadataJson | undefined): string {
  return `${meta?.namespace ? `${meta.namespace}/` : ''}${meta?.name ?? ''}@${meta?.resourceVersion ?? ''}`;
}

/** The resourceVersion in a liveId (empty when the object was never read). */
export function resourceVersionOf(liveId: string | undefined): string | undefined {
  const rv = liveId?.split('@')[1];
  return rv ? rv : undefined;
}

/** The API's form of a canonical selector. */
function selectorJson(s: Selector): LabelSelectorJson {
  return {
    ...(s.matchLabels ? { matchLabels: { ...s.matchLabels } } : {}),
    ...(s.matchExpressions
      ? { matchExpressions: s.matchExpressions.map((e) => ({ ...e, ...(e.values ? { values: [...e.values] } : {}) })) }
      : {}),
  };
}

function peerJson(p: Exclude<Peer, { kind: 'any' }>, namespace: string): PeerJson {
  if (p.kind === 'ipBlock')
    return { ipBlock: { cidr: p.cidr, ...(p.except.length > 0 ? { except: [...p.except] } : {}) } };
  const own = jsonEqual(p.namespaces as Json, namespaceSelector(namespace) as Json);
  if (own) return { podSelector: selectorJson(p.pods) };
  const allPods = !p.pods.matchLabels && !p.pods.matchExpressions;
  return { namespaceSelector: selectorJson(p.namespaces), ...(allPods ? {} : { podSelector: selectorJson(p.pods) }) };
}

function portJson(p: Exclude<Port, { kind: 'all' }>): PortJson {
  return {
    protocol: p.protocol,
    ...(p.port !== undefined ? { port: p.port } : {}),
    ...(p.endPort !== undefined ? { endPort: p.endPort } : {}),
  };
}

/**
 * The rules of one direction from its atoms: per peer its set of ports (every port when one atom
 * says `*`), then one rule per distinct port set, with its peers sorted. A peer `*` makes a rule
 * without `from`/`to`. Deterministic for the same set of atoms.
 */
function rulesOf(direction: 'ingress' | 'egress', atoms: readonly Atom[], namespace: string): RuleJson[] {
  // Per peer (by text) its ports by text, in first-seen order; a later port of the same text
  // replaces the earlier (a Map's set). Arrays, not a Map per peer: a peer has one or two ports,
  // and this runs for every policy of `render --json` (10,000 at estate scale).
  const ports = new Map<string, { peer: Peer; texts: string[]; ports: Port[] }>();
  for (const a of atoms) {
    if (a.direction !== direction) continue;
    const k = peerText(a.peer);
    let entry = ports.get(k);
    if (!entry) ports.set(k, (entry = { peer: a.peer, texts: [], ports: [] }));
    const text = portText(a.port);
    const i = entry.texts.indexOf(text);
    if (i < 0) {
      entry.texts.push(text);
      entry.ports.push(a.port);
    } else entry.ports[i] = a.port;
  }
  const groups = new Map<string, { ports: Port[]; peers: Peer[] }>();
  for (const [, entry] of [...ports.entries()].sort((x, y) => byString(x[0], y[0]))) {
    let list: Port[];
    let key: string;
    if (entry.texts.includes('*')) {
      list = [{ kind: 'all' }];
      key = '*';
    } else if (entry.ports.length === 1) {
      list = entry.ports;
      key = entry.texts[0]!;
    } else {
      const order = entry.texts.map((t, i) => i).sort((x, y) => byString(entry.texts[x]!, entry.texts[y]!));
      list = order.map((i) => entry.ports[i]!);
      key = order.map((i) => entry.texts[i]!).join(' ');
    }
    const g = groups.get(key);
    if (g) g.peers.push(entry.peer);
    else groups.set(key, { ports: list, peers: [entry.peer] });
  }
  const field = direction === 'ingress' ? 'from' : 'to';
  return [...groups.entries()]
    .sort((x, y) => byString(x[0], y[0]))
    .map(([, g]) => {
      const anyPeer = g.peers.some((p) => p.kind === 'any');
      const allPorts = g.ports.some((p) => p.kind === 'all');
      // the fields in the order the spreads gave them: the peers, then the ports
      const rule: { from?: PeerJson[]; to?: PeerJson[]; ports?: PortJson[] } = {};
      if (!anyPeer) rule[field] = g.peers.map((p) => peerJson(p as Exclude<Peer, { kind: 'any' }>, namespace));
      if (!allPorts) rule.ports = g.ports.map((p) => portJson(p as Exclude<Port, { kind: 'all' }>));
      return rule;
    });
}

/** The NetworkPolicy object of a resource (its children, or `children` when given: apply's intermediate states). */
export function networkPolicyBody(
  r: Resource,
  children: readonly Child[] = r.children,
  resourceVersion?: string,
): NetworkPolicyJson {
  const attrs = r.attributes as unknown as NetworkPolicyAttributes;
  const model = attrs.model;
  const atoms = children.map(childAtom);
  const ingress = rulesOf('ingress', atoms, attrs.namespace);
  const egress = rulesOf('egress', atoms, attrs.namespace);
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: {
      name: r.name,
      namespace: attrs.namespace,
      labels: { ...ownerLabels(model) },
      ...(resourceVersion ? { resourceVersion } : {}),
    },
    spec: {
      podSelector: selectorJson(attrs.podSelector),
      policyTypes: [...attrs.policyTypes],
      ...(ingress.length > 0 ? { ingress } : {}),
      ...(egress.length > 0 ? { egress } : {}),
    },
  };
}
