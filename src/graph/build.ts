import { compareStrings } from '../compile/canonical.js';
import type { Endpoint, PortMatch, RuleSet } from '../compile/types.js';
import { comparePortMatch, formatPortMatch } from '../model/services.js';
import type { GuardrailDef, SegmentModel } from '../model/types.js';
import { targetDescriptors } from '../targets.js';

/**
 * The graph of a model: what `bulkhead graph` draws, in one provider-neutral, format-neutral
 * shape. Built once from the compiled RuleSet (pure); each output format is a small writer over
 * it (mermaid.ts, dot.ts, json.ts, html.ts). Everything is sorted, so the same model gives the
 * same bytes in every format.
 */

/** What a node stands for. */
export type GraphNodeKind =
  /** A segment of the model. */
  | 'segment'
  /** An entity the model declares (CIDRs, FQDNs, a per-cloud binding). */
  | 'entity'
  /** The built-in `internet`. */
  | 'internet'
  /** Stand-in for "every segment of the model", the side of a guardrail deny that names no segment. */
  | 'all-segments'
  /** Stand-in for "any address", the side of a guardrail deny that names nothing. */
  | 'any'
  /** An `only` guardrail, drawn as a note linked to the segments it protects. */
  | 'note';

/** A node of the graph. */
export interface GraphNode {
  /** Stable id, unique in the graph: `segment:<name>`, `entity:<name>`, `internet`, `note:<guardrail>` … */
  readonly id: string;
  readonly kind: GraphNodeKind;
  /** The text to show: a segment or entity name, or the note's sentence. */
  readonly label: string;
  /** Id of the tier cluster the node is in, when it is in one. */
  readonly parent?: string;
  /** More to show on hover or in a tooltip: CIDRs, FQDNs, cloud bindings. Sorted as the RuleSet has them. */
  readonly detail: readonly string[];
}

/** A tier: a cluster of segment nodes. */
export interface GraphCluster {
  /** `tier:<name>`. */
  readonly id: string;
  /** The tier's name. */
  readonly label: string;
}

/** What an edge means. */
export type GraphEdgeKind =
  /** Flows the model allows from `from` to `to`. */
  | 'allow'
  /** Flows a guardrail `deny` forbids (drawn dashed and red). */
  | 'deny'
  /** The link between an `only` note and a segment it protects (no arrow, no ports). */
  | 'note';

/** An edge: every flow of one kind between one ordered pair of nodes, merged into one label. */
export interface GraphEdge {
  /** `<kind>:<from>-><to>` (for denies with the guardrail's name). */
  readonly id: string;
  readonly kind: GraphEdgeKind;
  readonly from: string;
  readonly to: string;
  /** The ports, canonical (`tcp/443`, `icmp/3/4`, `all`), sorted; empty for a note link. */
  readonly ports: readonly string[];
  /** The label to draw: the ports joined, prefixed with the guardrail for a deny. */
  readonly label: string;
  /** For a deny or a note link: the guardrail's name. */
  readonly guardrail?: string;
}

/** The whole graph. */
export interface SegmentGraph {
  /** Version of the JSON shape (`bulkhead graph --format json`). */
  readonly formatVersion: 1;
  readonly model: { readonly name: string; readonly file: string };
  /** Sorted by id. */
  readonly clusters: readonly GraphCluster[];
  /** Segments (by name), then internet, entities, stand-ins and notes; stable. */
  readonly nodes: readonly GraphNode[];
  /** Allows first, then denies, then note links; each sorted by (from, to). */
  readonly edges: readonly GraphEdge[];
}

/**
 * An `only` guardrail as the graph shows it: the segments it protects and the sources it allows,
 * as written (tiers as `tier:<name>`). The RuleSet does not carry `only` guardrails (they are
 * checked at validation and leave nothing to render), so the caller takes them from the model
 * (`onlyGuardrailsOf`).
 */
export interface OnlyGuardrail {
  readonly name: string;
  /** Segment names it protects, sorted. */
  readonly to: readonly string[];
  /** The allowed sources as written (`tier:backend`, `app`, `office`), sorted. */
  readonly from: readonly string[];
}

/** Options of `buildGraph`. */
export interface GraphOptions {
  /** The `only` guardrails to draw as notes (from `onlyGuardrailsOf(model)`). */
  readonly only?: readonly OnlyGuardrail[];
}

/** The `only` guardrails of a validated model, for `buildGraph`. */
export function onlyGuardrailsOf(model: SegmentModel): OnlyGuardrail[] {
  const out: OnlyGuardrail[] = [];
  for (const g of model.guardrails) {
    if (g.kind !== 'only') continue;
    const to = new Set<string>();
    for (const { ref } of g.to.refs) {
      if (ref.kind === 'segment') to.add(ref.name);
      else if (ref.kind === 'tier') for (const s of ref.segments) to.add(s);
    }
    out.push({ name: g.name, to: [...to].sort(compareStrings), from: refNames(g).sort(compareStrings) });
  }
  return out.sort((a, b) => compareStrings(a.name, b.name));
}

function refNames(g: GuardrailDef & { kind: 'only' }): string[] {
  return [...new Set(g.from.refs.map(({ ref }) => (ref.kind === 'tier' ? `tier:${ref.name}` : ref.name)))];
}

/** Id of a segment's node. */
export function segmentNodeId(name: string): string {
  return `segment:${name}`;
}

const INTERNET = 'internet';
const ALL_SEGMENTS = 'all-segments';
const ANY = 'any';

function endpointNodeId(e: Endpoint | { readonly kind: 'any' }): string {
  switch (e.kind) {
    case 'segment':
      return segmentNodeId(e.name);
    case 'cidrs':
      return e.builtin === 'internet' ? INTERNET : `entity:${e.entity}`;
    case 'fqdns':
    case 'cloud':
      return `entity:${e.entity}`;
    case 'any':
      return ANY;
  }
}

/** `prefixList` → `prefix list`: a binding key as words. */
function keyWords(key: string): string {
  return key.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`);
}

/** What each provider's binding of a cloud entity says (`aws: prefix list com.amazonaws.…`, `gcp: 10.0.0.0/8`). */
function bindingDetails(e: Endpoint & { readonly kind: 'cloud' }): string[] {
  const out: string[] = [];
  const bindings = e as unknown as Readonly<Record<string, Readonly<Record<string, unknown>> | undefined>>;
  for (const { id } of targetDescriptors()) {
    const b = bindings[id];
    if (!b) continue;
    for (const [key, value] of Object.entries(b)) {
      if (key === 'ipv4' || key === 'ipv6') continue;
      if (typeof value === 'string') out.push(`${id}: ${keyWords(key)} ${value}`);
    }
    for (const c of [
      ...((b['ipv4'] as readonly string[] | undefined) ?? []),
      ...((b['ipv6'] as readonly string[] | undefined) ?? []),
    ]) {
      out.push(`${id}: ${c}`);
    }
  }
  return out;
}

function endpointDetail(e: Endpoint): string[] {
  switch (e.kind) {
    case 'segment':
      return [];
    case 'cidrs':
      return e.builtin === 'internet' ? [] : [...e.ipv4, ...e.ipv6];
    case 'fqdns':
      return [...e.fqdns];
    case 'cloud':
      return bindingDetails(e);
  }
}

/** Ports of one edge, merged: unique canonical matches in their total order. */
class PortSet {
  readonly #byText = new Map<string, PortMatch>();
  add(m: PortMatch): void {
    this.#byText.set(formatPortMatch(m), m);
  }
  sorted(): string[] {
    return [...this.#byText.values()].sort(comparePortMatch).map(formatPortMatch);
  }
}

/**
 * Builds the graph of a RuleSet. Both sides of a segment-to-segment flow (the receiver's ingress
 * and the sender's egress intent) are one edge; every service between the same ordered pair is
 * merged into one label. A guardrail deny is one dashed edge per protected segment, or one edge to
 * the "every segment" stand-in when it names no segment side.
 */
export function buildGraph(rules: RuleSet, options: GraphOptions = {}): SegmentGraph {
  const nodes = new Map<string, GraphNode>();
  const clusters = new Map<string, GraphCluster>();
  for (const s of rules.segments) {
    let parent: string | undefined;
    if (s.tier !== undefined) {
      parent = `tier:${s.tier}`;
      clusters.set(parent, { id: parent, label: s.tier });
    }
    nodes.set(segmentNodeId(s.name), {
      id: segmentNodeId(s.name),
      kind: 'segment',
      label: s.name,
      ...(parent ? { parent } : {}),
      detail: [],
    });
  }
  const others = new Map<string, GraphNode>();
  const addEndpoint = (e: Endpoint | { readonly kind: 'any' }): string => {
    const id = endpointNodeId(e);
    if (nodes.has(id) || others.has(id)) return id;
    if (e.kind === 'any') others.set(id, { id, kind: 'any', label: 'any address', detail: [] });
    else if (e.kind === 'cidrs' && e.builtin === 'internet')
      others.set(id, { id, kind: 'internet', label: 'internet', detail: [] });
    else if (e.kind !== 'segment') others.set(id, { id, kind: 'entity', label: e.entity, detail: endpointDetail(e) });
    return id;
  };
  for (const ent of rules.entities ?? []) {
    addEndpoint({ kind: 'cidrs', entity: ent.name, ipv4: ent.ipv4, ipv6: ent.ipv6 });
  }

  const allow = new Map<string, { from: string; to: string; ports: PortSet }>();
  const edgeOf = (map: Map<string, { from: string; to: string; ports: PortSet }>, from: string, to: string) => {
    const key = `${from}\u0000${to}`;
    const found = map.get(key);
    if (found) return found;
    const e = { from, to, ports: new PortSet() };
    map.set(key, e);
    return e;
  };
  for (const r of rules.rules) {
    const self = segmentNodeId(r.segment);
    const peer = addEndpoint(r.peer);
    const [from, to] = r.direction === 'ingress' ? [peer, self] : [self, peer];
    edgeOf(allow, from, to).ports.add(r.service);
  }

  const deny = new Map<string, Map<string, { from: string; to: string; ports: PortSet }>>();
  for (const d of rules.denies) {
    const peer = addEndpoint(d.peer);
    let selves: string[];
    if (d.allSegments) {
      if (!others.has(ALL_SEGMENTS))
        others.set(ALL_SEGMENTS, { id: ALL_SEGMENTS, kind: 'all-segments', label: 'every segment', detail: [] });
      selves = [ALL_SEGMENTS];
    } else selves = d.segments.map(segmentNodeId);
    const byPair = deny.get(d.guardrail) ?? new Map<string, { from: string; to: string; ports: PortSet }>();
    deny.set(d.guardrail, byPair);
    for (const self of selves) {
      const [from, to] = d.direction === 'ingress' ? [peer, self] : [self, peer];
      const e = edgeOf(byPair, from, to);
      for (const m of d.services) e.ports.add(m);
    }
  }

  const notes: GraphNode[] = [];
  const noteEdges: GraphEdge[] = [];
  for (const g of options.only ?? []) {
    const id = `note:${g.name}`;
    notes.push({ id, kind: 'note', label: `${g.name}: only ${g.from.join(', ')}`, detail: [] });
    for (const s of g.to) {
      const to = segmentNodeId(s);
      if (!nodes.has(to)) continue;
      noteEdges.push({
        id: `note:${g.name}->${to}`,
        kind: 'note',
        from: id,
        to,
        ports: [],
        label: '',
        guardrail: g.name,
      });
    }
  }

  const byPair = (a: { from: string; to: string }, b: { from: string; to: string }) =>
    compareStrings(a.from, b.from) || compareStrings(a.to, b.to);
  const edges: GraphEdge[] = [];
  for (const e of [...allow.values()].sort(byPair)) {
    const ports = e.ports.sorted();
    edges.push({
      id: `allow:${e.from}->${e.to}`,
      kind: 'allow',
      from: e.from,
      to: e.to,
      ports,
      label: ports.join(', '),
    });
  }
  for (const [guardrail, pairs] of [...deny.entries()].sort(([a], [b]) => compareStrings(a, b))) {
    for (const e of [...pairs.values()].sort(byPair)) {
      const ports = e.ports.sorted();
      edges.push({
        id: `deny:${guardrail}:${e.from}->${e.to}`,
        kind: 'deny',
        from: e.from,
        to: e.to,
        ports,
        label: `deny ${guardrail}: ${ports.join(', ')}`,
        guardrail,
      });
    }
  }
  edges.push(...noteEdges.sort(byPair));

  const rank: Record<GraphNodeKind, number> = {
    segment: 0,
    internet: 1,
    entity: 2,
    'all-segments': 3,
    any: 4,
    note: 5,
  };
  const rest = [...others.values()].sort((a, b) => rank[a.kind] - rank[b.kind] || compareStrings(a.id, b.id));
  return {
    formatVersion: 1,
    model: { name: rules.model.name, file: rules.model.file },
    clusters: [...clusters.values()].sort((a, b) => compareStrings(a.id, b.id)),
    nodes: [...nodes.values()]
      .sort((a, b) => compareStrings(a.id, b.id))
      .concat(
        rest,
        notes.sort((a, b) => compareStrings(a.id, b.id)),
      ),
    edges,
  };
}
