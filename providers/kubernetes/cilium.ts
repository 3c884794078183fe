import { canonicalJson } from '../../src/plan/diff.js';
import type { Child, Json, Resource } from '../../src/plan/types.js';
import {
  canonicalSelector,
  liveIdOf,
  namespacedAddress,
  selectorText,
  uniqueChildren,
  type LabelSelectorJson,
  type MetadataJson,
  type Selector,
} from './canonical.js';
import { MODEL_LABEL, ownerLabels } from './target.js';

/**
 * CiliumNetworkPolicy (cilium.io/v2) for FQDN egress when the target says `fqdn: cilium`, in
 * canonical form (pure). Like a NetworkPolicy, an egress rule is (any of its L3 peers) AND (any of
 * its ports), so its atoms are the resource's children: `toFQDNs` names and patterns,
 * `toEndpoints` selectors, and any other L3 field (`toCIDR`, `toEntities`, … written by hand) as
 * an opaque peer, so a hand edit is drift and never lost. Ports: protocol `ANY` by default, the
 * port as text (Cilium's schema), L7 `rules` kept with the port they filter. Everything else in
 * the spec (ingress, egressDeny …) is one opaque attribute.
 */

/** Resource type of a CiliumNetworkPolicy. */
export const CNP_TYPE = 'kubernetes_cilium_network_policy';

/** The labels Cilium gives kube-dns pods' identity (namespace and pod label). */
export const KUBE_DNS_ENDPOINT = {
  'k8s:io.kubernetes.pod.namespace': 'kube-system',
  'k8s:k8s-app': 'kube-dns',
} as const;

/** A Cilium egress rule, as far as the canonical form reads it. */
export interface CiliumEgressJson {
  readonly toFQDNs?: readonly { readonly matchName?: string; readonly matchPattern?: string }[] | null;
  readonly toEndpoints?: readonly LabelSelectorJson[] | null;
  readonly toPorts?:
    | readonly {
        readonly ports?:
          | readonly { readonly port?: string; readonly endPort?: number; readonly protocol?: string }[]
          | null;
        readonly rules?: Json;
      }[]
    | null;
  readonly [field: string]: unknown;
}

/** A CiliumNetworkPolicy. */
export interface CiliumNetworkPolicyJson {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: MetadataJson;
  readonly spec?: {
    readonly endpointSelector?: LabelSelectorJson | null;
    readonly egress?: readonly CiliumEgressJson[] | null;
    readonly [field: string]: unknown;
  };
}

/** A canonical L3 peer of a Cilium egress rule. */
export type CiliumPeer =
  | { readonly kind: 'any' }
  | { readonly kind: 'fqdn'; readonly matchName?: string; readonly matchPattern?: string }
  | { readonly kind: 'endpoints'; readonly selector: Selector }
  | { readonly kind: 'other'; readonly field: string; readonly value: Json };

/** A canonical Cilium port. */
export type CiliumPort =
  | { readonly kind: 'all' }
  | {
      readonly kind: 'port';
      readonly protocol: string;
      readonly port: string;
      readonly endPort?: number;
      readonly rules?: Json;
    };

/** One atom of a Cilium egress section. */
export interface CiliumAtom {
  readonly peer: CiliumPeer;
  readonly port: CiliumPort;
}

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function peerText(p: CiliumPeer): string {
  switch (p.kind) {
    case 'any':
      return '*';
    case 'fqdn':
      return p.matchName !== undefined ? `fqdn:${p.matchName}` : `fqdn-pattern:${p.matchPattern}`;
    case 'endpoints':
      return `endpoints${selectorText(p.selector)}`;
    case 'other':
      return `${p.field}:${canonicalJson(p.value)}`;
  }
}

function portText(p: CiliumPort): string {
  if (p.kind === 'all') return '*';
  const base = `${p.protocol}/${p.port}${p.endPort !== undefined ? `-${p.endPort}` : ''}`;
  return p.rules !== undefined ? `${base} rules:${canonicalJson(p.rules)}` : base;
}

/** The child of a Cilium atom. */
export function ciliumChild(a: CiliumAtom, origins?: Child['origins']): Child {
  return {
    key: `egress to ${peerText(a.peer)} ${portText(a.port)}`,
    summary: `egress ${portText(a.port)} to ${peerText(a.peer)}`,
    attributes: { peer: a.peer as unknown as Json, port: a.port as unknown as Json },
    ...(origins && origins.length > 0 ? { origins } : {}),
  };
}

function canonicalRules(rules: Json | undefined): Json | undefined {
  if (rules === undefined || rules === null) return undefined;
  // L7 rule lists are sets for matching purposes: sort them so order is no diff.
  if (typeof rules !== 'object' || Array.isArray(rules)) return rules;
  const out: { [k: string]: Json } = {};
  for (const k of Object.keys(rules).sort(byString)) {
    const v = (rules as { [k: string]: Json })[k]!;
    out[k] = Array.isArray(v) ? [...v].sort((a, b) => byString(canonicalJson(a), canonicalJson(b))) : v;
  }
  return out;
}

/** The atoms of a Cilium egress section. */
export function ciliumAtoms(egress: readonly CiliumEgressJson[] | null | undefined): CiliumAtom[] {
  const out: CiliumAtom[] = [];
  for (const rule of egress ?? []) {
    const peers: CiliumPeer[] = [];
    for (const f of rule.toFQDNs ?? [])
      peers.push(
        f.matchName !== undefined
          ? { kind: 'fqdn', matchName: f.matchName.toLowerCase().replace(/\.$/, '') }
          : { kind: 'fqdn', matchPattern: f.matchPattern ?? '' },
      );
    for (const e of rule.toEndpoints ?? []) peers.push({ kind: 'endpoints', selector: canonicalSelector(e) });
    for (const [field, value] of Object.entries(rule)) {
      if (
        field === 'toFQDNs' ||
        field === 'toEndpoints' ||
        field === 'toPorts' ||
        value === undefined ||
        value === null
      )
        continue;
      peers.push({ kind: 'other', field, value: value as Json });
    }
    if (peers.length === 0) peers.push({ kind: 'any' });
    const ports: CiliumPort[] = [];
    for (const tp of rule.toPorts ?? []) {
      const rules = canonicalRules(tp.rules);
      for (const p of tp.ports ?? []) {
        ports.push({
          kind: 'port',
          protocol: (p.protocol ?? 'ANY').toUpperCase(),
          port: String(p.port ?? '0'),
          ...(typeof p.endPort === 'number' && String(p.endPort) !== String(p.port) ? { endPort: p.endPort } : {}),
          ...(rules !== undefined ? { rules } : {}),
        });
      }
    }
    if (ports.length === 0) ports.push({ kind: 'all' });
    for (const peer of peers) for (const port of ports) out.push({ peer, port });
  }
  return out;
}

/** What a CNP resource's attributes are. */
export interface CiliumAttributes {
  /** The model whose labels the object carries. */
  readonly model: string;
  readonly namespace: string;
  readonly endpointSelector: Selector;
  /** The rest of the spec (canonical JSON text), `{}` for Bulkhead's own. */
  readonly other: string;
}

/** A CNP resource from its parts. */
export function ciliumResource(
  target: string,
  name: string,
  attributes: CiliumAttributes,
  children: readonly Child[],
  liveId?: string,
): Resource {
  return {
    address: namespacedAddress(target, CNP_TYPE, attributes.namespace, name),
    target,
    type: CNP_TYPE,
    name,
    attributes: {
      model: attributes.model,
      namespace: attributes.namespace,
      endpointSelector: attributes.endpointSelector as Json,
      other: attributes.other,
    },
    children: uniqueChildren(children),
    ...(liveId ? { liveId } : {}),
  };
}

/** The canonical resource of a CNP read from the API or a snapshot. */
export function canonicalCilium(target: string, cnp: CiliumNetworkPolicyJson): Resource {
  const { endpointSelector, egress, ...rest } = cnp.spec ?? {};
  return ciliumResource(
    target,
    cnp.metadata?.name ?? '',
    {
      model: cnp.metadata?.labels?.[MODEL_LABEL] ?? '',
      namespace: cnp.metadata?.namespace ?? 'default',
      endpointSelector: canonicalSelector(endpointSelector),
      other: canonicalJson(rest as Json),
    },
    ciliumAtoms(egress).map((a) => ciliumChild(a)),
    liveIdOf(cnp.metadata),
  );
}

function portJson(p: Exclude<CiliumPort, { kind: 'all' }>) {
  return { port: p.port, protocol: p.protocol, ...(p.endPort !== undefined ? { endPort: p.endPort } : {}) };
}

/**
 * The CNP object of a resource: one egress rule per (kind of peer, ports), because Cilium does not
 * let `toFQDNs` share a rule with other L3 selectors; ports with the same L7 rules share a `toPorts` entry.
 */
export function ciliumBody(
  r: Resource,
  children: readonly Child[] = r.children,
  resourceVersion?: string,
): CiliumNetworkPolicyJson {
  const attrs = r.attributes as unknown as CiliumAttributes;
  const model = attrs.model;
  const atoms = children.map((c) => c.attributes as unknown as CiliumAtom);
  const groups = new Map<
    string,
    { kind: CiliumPeer['kind']; peers: Map<string, CiliumPeer>; ports: Map<string, CiliumPort> }
  >();
  // Per peer its ports, then peers of one kind with equal port sets share a rule.
  const perPeer = new Map<string, { peer: CiliumPeer; ports: Map<string, CiliumPort> }>();
  for (const a of atoms) {
    const k = peerText(a.peer);
    const e = perPeer.get(k) ?? { peer: a.peer, ports: new Map() };
    e.ports.set(portText(a.port), a.port);
    perPeer.set(k, e);
  }
  for (const [k, e] of [...perPeer.entries()].sort((x, y) => byString(x[0], y[0]))) {
    const portKey = e.ports.has('*') ? '*' : [...e.ports.keys()].sort(byString).join(' ');
    // `other` peers are one field each: they never share a rule.
    const gk = `${e.peer.kind === 'other' ? k : e.peer.kind}|${portKey}`;
    const g = groups.get(gk) ?? {
      kind: e.peer.kind,
      peers: new Map(),
      ports: e.ports.has('*') ? new Map([['*', { kind: 'all' } as CiliumPort]]) : e.ports,
    };
    g.peers.set(k, e.peer);
    groups.set(gk, g);
  }
  const egress: Record<string, unknown>[] = [];
  for (const [, g] of [...groups.entries()].sort((x, y) => byString(x[0], y[0]))) {
    const peers = [...g.peers.values()];
    const rule: Record<string, unknown> = {};
    if (g.kind === 'fqdn')
      rule['toFQDNs'] = peers.map((p) =>
        p.kind === 'fqdn' && p.matchName !== undefined
          ? { matchName: p.matchName }
          : { matchPattern: (p as { matchPattern?: string }).matchPattern },
      );
    else if (g.kind === 'endpoints') rule['toEndpoints'] = peers.map((p) => (p as { selector: Selector }).selector);
    else if (g.kind === 'other') for (const p of peers) if (p.kind === 'other') rule[p.field] = p.value;
    const ports = [...g.ports.entries()].sort((x, y) => byString(x[0], y[0])).map(([, p]) => p);
    if (!ports.some((p) => p.kind === 'all')) {
      const byRules = new Map<string, { ports: unknown[]; rules?: Json }>();
      for (const p of ports as Exclude<CiliumPort, { kind: 'all' }>[]) {
        const rk = p.rules !== undefined ? canonicalJson(p.rules) : '';
        const e = byRules.get(rk) ?? { ports: [], ...(p.rules !== undefined ? { rules: p.rules } : {}) };
        e.ports.push(portJson(p));
        byRules.set(rk, e);
      }
      rule['toPorts'] = [...byRules.entries()]
        .sort((x, y) => byString(x[0], y[0]))
        .map(([, e]) => ({ ports: e.ports, ...(e.rules !== undefined ? { rules: e.rules } : {}) }));
    }
    egress.push(rule);
  }
  const other = JSON.parse(attrs.other) as Record<string, unknown>;
  return {
    apiVersion: 'cilium.io/v2',
    kind: 'CiliumNetworkPolicy',
    metadata: {
      name: r.name,
      namespace: attrs.namespace,
      labels: { ...ownerLabels(model) },
      ...(resourceVersion ? { resourceVersion } : {}),
    },
    spec: {
      endpointSelector: attrs.endpointSelector as LabelSelectorJson,
      ...other,
      ...(egress.length > 0 ? { egress: egress as CiliumEgressJson[] } : {}),
    },
  };
}
