import {
  error,
  hasErrors,
  warning,
  type Diagnostic,
  type Result,
  type SourcePos,
  type SourceRef,
} from '../diagnostics.js';
import { assertNever } from '../errors.js';
import type { EntityDef, FlowDef, GuardrailDef, GuardrailSide, PeerRef, SegmentModel } from '../model/types.js';
import { comparePortMatch, formatPortMatch, portMatchesOverlap } from '../model/services.js';
import { createHash } from 'node:crypto';
import { cidrContains, cidrsOverlap, describeInternet, reachesInternet } from '../model/addresses.js';
import { canonicalTarget, modelInternalRanges, targetDescriptors } from '../targets.js';
import { compareStrings, formatEndpoint, serviceLabel, shortHash, shortHashOfJson, sortOrigins } from './canonical.js';
import type {
  CidrEntitySpec,
  CloudBinding,
  CloudBindings,
  Endpoint,
  GuardrailDeny,
  GuardrailOnly,
  PortMatch,
  RuleIntent,
  RuleSet,
  SegmentSpec,
} from './types.js';

/**
 * The compiler: SegmentModel → RuleSet. Pure and deterministic.
 *
 * Determinism contract (proved by test/compile/properties.test.ts):
 * - The same file gives byte-identical `JSON.stringify(ruleSet)`.
 * - Key order inside a mapping changes nothing at all (positions are those of the mapping node).
 * - Declaration order (moving segments, flows, list items, services around) changes only the
 *   positions (`origins`, `pos`): rule and deny ids, the rules and denies without origins, and
 *   `model.digest` stay identical, because ids are content hashes and everything is sorted by content.
 *
 * Flows: every (source, destination, service) written anywhere is one flow, its origins merged.
 * A flow between two segments yields two intents (ingress on the receiver, egress on the sender);
 * a flow with an entity yields only the segment's side. `icmp` pairs only with IPv4 addresses and
 * `icmpv6` only with IPv6: the other family is dropped from the peer, and a flow left with no
 * address is dropped with a warning.
 */

/**
 * One end of a flow. Sides are made once per segment and per (entity, address family) by
 * `SideCache`, with `key` (identity, for merging flows and memoizing guardrail checks) and `json`
 * (`JSON.stringify` of the side as an intent's peer, for intent ids) computed once: a large model
 * has tens of thousands of flows over a few distinct sides.
 */
type Side = (
  | { readonly kind: 'segment'; readonly name: string }
  | { readonly kind: 'external'; readonly endpoint: Exclude<Endpoint, { kind: 'segment' }> }
) & {
  readonly key: string;
  readonly json: string;
  readonly id: number;
  /**
   * The peer an intent with this side as its other end carries: one object per side, shared by
   * every such intent (a 10,000-segment model has 438,000 intents over ~20,000 sides, and each
   * object kept to the end of the pipeline is GC work in every later phase).
   */
  readonly peer: Endpoint;
  /**
   * For a segment side, the start of the id text of its intents up to the peer's JSON
   * (`{"direction":"ingress","segment":"web","peer":`), by direction; '' for an external side.
   */
  readonly idPrefix: { readonly ingress: string; readonly egress: string };
};

interface Flow {
  readonly src: Side;
  readonly dst: Side;
  readonly service: PortMatch;
  /** The end of its intents' id text after the peer's JSON: `,"service":${JSON.stringify(service)}}`. */
  readonly serviceTail: string;
  /** A small number per distinct service JSON (see `pairKey`). */
  readonly serviceId: number;
  readonly origins: SourceRef[];
}

const NO_PREFIX = { ingress: '', egress: '' } as const;

/** The sides of one model, each built once (see `Side`). */
class SideCache {
  readonly #model: SegmentModel;
  readonly #segments = new Map<string, Side>();
  readonly #sides = new Map<string, Side>();
  #next = 0;
  constructor(model: SegmentModel) {
    this.#model = model;
  }
  segment(name: string): Side {
    let side = this.#segments.get(name);
    if (!side) {
      // The JSON of `{ kind: 'segment', name }`, the peer an intent between segments carries.
      const nameJson = JSON.stringify(name);
      side = {
        kind: 'segment',
        name,
        key: `s:${nameJson}`,
        json: `{"kind":"segment","name":${nameJson}}`,
        id: this.#next++,
        peer: { kind: 'segment', name },
        idPrefix: {
          ingress: `{"direction":"ingress","segment":${nameJson},"peer":`,
          egress: `{"direction":"egress","segment":${nameJson},"peer":`,
        },
      };
      this.#segments.set(name, side);
    }
    return side;
  }
  /** The entity's side, optionally narrowed to one address family; undefined for an unknown entity. */
  entity(name: string, keep?: 'ipv4' | 'ipv6'): Side | undefined {
    // An entity's endpoint is a function of (entity, family): the pair identifies it.
    const key = `e:${keep ?? ''}:${JSON.stringify(name)}`;
    let side = this.#sides.get(key);
    if (!side) {
      const e = this.#model.entities.get(name);
      if (!e) return undefined;
      const endpoint = entityEndpoint(e, keep);
      side = {
        kind: 'external',
        endpoint,
        key,
        json: JSON.stringify(endpoint),
        id: this.#next++,
        peer: endpoint,
        idPrefix: NO_PREFIX,
      };
      this.#sides.set(key, side);
    }
    return side;
  }
}

const sideName = (s: Side): string => (s.kind === 'segment' ? s.name : formatEndpoint(s.endpoint));

/**
 * A binding's provider-specific keys (a prefix list, a service tag): every key but its CIDRs, as
 * [key, JSON text] pairs in the provider's order (validation kept it).
 */
function bindingFields(b: CloudBinding): [string, string][] {
  return Object.entries(b).flatMap(([k, v]) =>
    k === 'ipv4' || k === 'ipv6' || v === undefined ? [] : [[k, JSON.stringify(v)] as [string, string]],
  );
}

/**
 * An entity's per-cloud bindings, copied in registry order (the order of their keys in the
 * RuleSet's JSON), each with the provider's own keys first, then its CIDRs, optionally narrowed.
 */
function bindings(e: CloudBindings, keep?: 'ipv4' | 'ipv6'): CloudBindings {
  const out: Record<string, CloudBinding> = {};
  const all = e as Record<string, CloudBinding | undefined>;
  for (const d of targetDescriptors()) {
    const b = all[d.id];
    if (!b) continue;
    out[d.id] = {
      ...Object.fromEntries(bindingFields(b).map(([k, json]) => [k, JSON.parse(json) as unknown])),
      ipv4: keep === 'ipv6' ? [] : [...b.ipv4],
      ipv6: keep === 'ipv4' ? [] : [...b.ipv6],
    };
  }
  return out as CloudBindings;
}

/** Every binding of a per-cloud entity or endpoint (registry order). */
function bindingList(e: CloudBindings): CloudBinding[] {
  const all = e as Record<string, CloudBinding | undefined>;
  return targetDescriptors().flatMap((d) => all[d.id] ?? []);
}

/** The canonical endpoint of an entity, optionally restricted to one address family. */
export function entityEndpoint(e: EntityDef, keep?: 'ipv4' | 'ipv6'): Exclude<Endpoint, { kind: 'segment' }> {
  switch (e.kind) {
    case 'cidrs':
      return {
        kind: 'cidrs',
        entity: e.name,
        ipv4: keep === 'ipv6' ? [] : [...e.ipv4],
        ipv6: keep === 'ipv4' ? [] : [...e.ipv6],
        // Narrowed to one family, the built-in `internet` is just 0.0.0.0/0 (or ::/0): providers
        // must not render it as a both-families "Internet" object.
        ...(e.builtin && keep === undefined ? { builtin: e.builtin } : {}),
      };
    case 'fqdns':
      return { kind: 'fqdns', entity: e.name, fqdns: [...e.fqdns] };
    case 'cloud':
      return { kind: 'cloud', entity: e.name, ...bindings(e, keep) };
    default:
      return assertNever(e);
  }
}

/** True when an endpoint still names some address (or a name, a prefix list, a service tag). */
function hasAddresses(e: Exclude<Endpoint, { kind: 'segment' }>): boolean {
  switch (e.kind) {
    case 'cidrs':
      return e.ipv4.length + e.ipv6.length > 0;
    case 'fqdns':
      return true;
    case 'cloud':
      return bindingList(e).some((b) => bindingFields(b).length > 0 || b.ipv4.length + b.ipv6.length > 0);
    default:
      return assertNever(e);
  }
}

function allCidrs(e: Exclude<Endpoint, { kind: 'segment' }>): string[] {
  if (e.kind === 'cidrs') return [...e.ipv4, ...e.ipv6];
  if (e.kind === 'cloud') return bindingList(e).flatMap((b) => [...b.ipv4, ...b.ipv6]);
  return [];
}

/** The built-in `internet` (also narrowed to one family, which drops `builtin`): its name is reserved. */
function isInternet(e: Exclude<Endpoint, { kind: 'segment' }>): boolean {
  return e.kind === 'cidrs' && (e.builtin === 'internet' || e.entity === 'internet');
}

/** True for an endpoint covering every address of a family (a /0 entity). */
function isEverything(e: Exclude<Endpoint, { kind: 'segment' }>): boolean {
  return e.kind === 'cidrs' && [...e.ipv4, ...e.ipv6].some((c) => c.endsWith('/0'));
}

/**
 * True when two external endpoints may share an address. The built-in `internet` is every
 * address outside the internal ranges (`internal`: one set per target, src/model/addresses.ts):
 * it overlaps a CIDR entity that reaches outside the ranges of some target (a partner /24, not a
 * VPN range inside 172.16.0.0/12), and every FQDN and cloud entity (their addresses are public).
 * A /0 entity overlaps everything. Otherwise CIDRs are compared by containment, FQDN sets by
 * name; FQDNs against a narrower CIDR set cannot be decided before resolution and count as disjoint.
 */
export function externalsOverlap(
  a: Exclude<Endpoint, { kind: 'segment' }>,
  b: Exclude<Endpoint, { kind: 'segment' }>,
  internal: readonly (readonly string[])[] = modelInternalRanges([]),
): boolean {
  if (a.entity === b.entity) return true;
  if (isInternet(a) || isInternet(b)) {
    const other = isInternet(a) ? b : a;
    if (other.kind !== 'cidrs') return true;
    const net = isInternet(a) ? a : b;
    if (net.kind !== 'cidrs') return true;
    // A narrowed `internet` (one family) only reaches that family's addresses.
    const cidrs = [...(net.ipv4.length ? other.ipv4 : []), ...(net.ipv6.length ? other.ipv6 : [])];
    return cidrs.some((c) => internal.some((r) => reachesInternet(c, r)));
  }
  if (isEverything(a) || isEverything(b)) return true;
  if (a.kind === 'fqdns' && b.kind === 'fqdns') return a.fqdns.some((f) => b.fqdns.includes(f));
  if (a.kind === 'cloud' && b.kind === 'cloud') {
    // The same named provider object (a prefix list, a service tag) on the same cloud is the same addresses.
    const xa: CloudBindings = a,
      yb: CloudBindings = b;
    for (const d of targetDescriptors()) {
      const x = (xa as Record<string, CloudBinding | undefined>)[d.id],
        y = (yb as Record<string, CloudBinding | undefined>)[d.id];
      if (!x || !y) continue;
      const fy = new Map(bindingFields(y));
      if (bindingFields(x).some(([k, v]) => fy.get(k) === v)) return true;
    }
  }
  const ca = allCidrs(a),
    cb = allCidrs(b);
  return ca.some((x) => cb.some((y) => cidrsOverlap(x, y)));
}

/** The family an ICMP match pairs with. */
function icmpFamily(m: PortMatch): 'ipv4' | 'ipv6' | undefined {
  return m.kind === 'icmp' ? (m.protocol === 'icmp' ? 'ipv4' : 'ipv6') : undefined;
}

function expandRef(ref: PeerRef, sides: SideCache): Side[] {
  switch (ref.kind) {
    case 'segment':
      return [sides.segment(ref.name)];
    case 'tier':
      return ref.segments.map((name) => sides.segment(name));
    case 'entity': {
      const side = sides.entity(ref.name);
      return side ? [side] : [];
    }
    default:
      return assertNever(ref);
  }
}

/**
 * One number for (side, service): `side.id * stride + serviceId`, where `stride` is the number of
 * distinct services of the model (ids are < stride), so the key is exact, and a small integer (no
 * heap number) for any real model. Maps keyed by it need no key text and no Map per pair, which
 * matters with hundreds of thousands of flows.
 */
function pairKey(side: Side, serviceId: number, stride: number): number {
  return side.id * stride + serviceId;
}

/** Builds every flow of the model, merged by (source, destination, service). */
function buildFlows(model: SegmentModel, sides: SideCache, diags: Diagnostic[]): Flow[] {
  // Every distinct service first (the stride of pairKey): its JSON text, id and label. The
  // model's matches are a few shared objects (parseService memoizes them), so this is one Map
  // lookup per flow rather than a JSON.stringify per flow.
  type Svc = { readonly tail: string; readonly id: number; readonly label: string };
  const byObject = new Map<PortMatch, Svc>();
  const byJson = new Map<string, Svc>();
  const svcOf = (m: PortMatch): Svc => {
    let svc = byObject.get(m);
    if (!svc) {
      const json = JSON.stringify(m);
      svc = byJson.get(json);
      if (!svc) byJson.set(json, (svc = { tail: `,"service":${json}}`, id: byJson.size, label: serviceLabel(m) }));
      byObject.set(m, svc);
    }
    return svc;
  };
  for (const seg of model.segments.values())
    for (const f of seg.flows) for (const { match } of f.services) svcOf(match);
  const stride = Math.max(1, byJson.size);
  // Merged by (source, destination, service): per source, by pairKey(destination, service).
  // `list` keeps the order flows were first written.
  const flows = new Map<Side, Map<number, Flow>>();
  const list: Flow[] = [];
  const dropped = new Map<string, { label: string; pos: SourcePos[] }>();
  for (const seg of model.segments.values()) {
    const self = sides.segment(seg.name);
    for (const f of seg.flows) {
      for (const peer of f.peers) {
        for (const other of expandRef(peer.ref, sides)) {
          for (const { match } of f.services) {
            const svc = svcOf(match);
            let src = f.direction === 'ingress' ? other : self;
            let dst = f.direction === 'ingress' ? self : other;
            const fam = icmpFamily(match);
            // flowLabel, with the service's text made once per distinct service (not once per flow).
            // Joined rather than concatenated: `+` makes a tree of cons strings (two more objects
            // per label, kept with the RuleSet), `join` one flat string.
            const label = [sideName(src), ' -> ', sideName(dst), ' ', svc.label].join('');
            if (fam && other.kind === 'external') {
              const narrowed = sides.entity(other.endpoint.entity, fam)!;
              if (narrowed.kind !== 'external' || !hasAddresses(narrowed.endpoint)) {
                const d = dropped.get(label) ?? { label, pos: [] };
                d.pos.push(f.pos);
                dropped.set(label, d);
                continue;
              }
              if (f.direction === 'ingress') src = narrowed;
              else dst = narrowed;
            }
            let bySrc = flows.get(src);
            if (!bySrc) flows.set(src, (bySrc = new Map()));
            const key = pairKey(dst, svc.id, stride);
            const existing = bySrc.get(key);
            const origin: SourceRef = { pos: f.pos, label };
            if (existing) existing.origins.push(origin);
            else {
              const flow = { src, dst, service: match, serviceTail: svc.tail, serviceId: svc.id, origins: [origin] };
              bySrc.set(key, flow);
              list.push(flow);
            }
          }
        }
      }
    }
  }
  for (const d of dropped.values()) {
    const proto = d.label.includes(' icmpv6') ? 'icmpv6 needs IPv6' : 'icmp needs IPv4';
    diags.push(
      warning('icmp-family-mismatch', `flow ${d.label} is dropped: ${proto} addresses and the peer has none`, d.pos[0]),
    );
  }
  return list;
}

/**
 * A guardrail side as a predicate on flow ends, expanded once per guardrail rather than once per
 * flow: segment names in a Set, and the answer for an external end memoized by its key (a model
 * has few distinct external ends, and the address math is the expensive part).
 */
function sidePredicate(
  side: GuardrailSide,
  sides: SideCache,
  external: (s: Side & { kind: 'external' }, r: Side & { kind: 'external' }) => boolean,
): (s: Side) => boolean {
  const segments = new Set<string>();
  const externals: (Side & { kind: 'external' })[] = [];
  for (const { ref } of side.refs) {
    for (const r of expandRef(ref, sides)) {
      if (r.kind === 'segment') segments.add(r.name);
      else externals.push(r);
    }
  }
  const memo = new Map<string, boolean>();
  return (s) => {
    if (s.kind === 'segment') return segments.has(s.name);
    let v = memo.get(s.key);
    if (v === undefined) {
      v = externals.some((r) => external(s, r));
      memo.set(s.key, v);
    }
    return v;
  };
}

/** Does a flow end match a guardrail side (empty side = anything)? */
function matchesSide(
  side: GuardrailSide,
  sides: SideCache,
  internal: readonly (readonly string[])[],
): (s: Side) => boolean {
  if (side.refs.length === 0) return () => true;
  return sidePredicate(side, sides, (s, r) => externalsOverlap(s.endpoint, r.endpoint, internal));
}

/** Is a flow source one of the sources an `only` guardrail allows? */
function coveredBy(side: GuardrailSide, sides: SideCache): (s: Side) => boolean {
  return sidePredicate(side, sides, (s, r) => {
    if (s.endpoint.entity === r.endpoint.entity) return true;
    if (isEverything(r.endpoint) || isInternet(r.endpoint)) return true;
    const inner = allCidrs(s.endpoint),
      outer = allCidrs(r.endpoint);
    return s.endpoint.kind === 'cidrs' && inner.length > 0 && inner.every((c) => outer.some((o) => cidrContains(o, c)));
  });
}

/**
 * The guardrail in words; `internal` (the model's internal-range sets) makes `internet` say what
 * it means ("internet (addresses outside the internal ranges 10.0.0.0/8, …)").
 */
function describeGuardrail(g: GuardrailDef, internal?: readonly (readonly string[])[]): string {
  const label = (r: PeerRef) =>
    r.kind === 'tier'
      ? `tier:${r.name}`
      : r.kind === 'entity' && r.name === 'internet' && internal
        ? describeInternet(internal)
        : r.name;
  const names = (s: GuardrailSide) => [...new Set(s.refs.map((r) => label(r.ref)))].sort(compareStrings).join(', ');
  if (g.kind === 'deny') {
    const parts = ['deny'];
    if (g.from.refs.length) parts.push(`from ${names(g.from)}`);
    if (g.to.refs.length) parts.push(`to ${names(g.to)}`);
    parts.push(`on ${g.services.map(formatPortMatch).join(', ')}`);
    return parts.join(' ');
  }
  return `only ${names(g.from)} into ${names(g.to)}`;
}

/** Checks every flow against every guardrail: one error per (flow, guardrail), at the flow's first origin. */
function checkGuardrails(model: SegmentModel, sides: SideCache, flows: readonly Flow[], diags: Diagnostic[]): void {
  const internal = modelInternalRanges(model.targets.values());
  for (const g of model.guardrails) {
    const fromMatches = matchesSide(g.from, sides, internal),
      toMatches = matchesSide(g.to, sides, internal);
    const fromCovers = g.kind === 'only' ? coveredBy(g.from, sides) : undefined;
    for (const flow of flows) {
      let violated = false;
      let why = '';
      if (g.kind === 'deny') {
        violated =
          g.services.some((s) => portMatchesOverlap(s, flow.service)) && fromMatches(flow.src) && toMatches(flow.dst);
        why = 'overlaps';
      } else {
        violated = flow.dst.kind === 'segment' && toMatches(flow.dst) && !fromCovers!(flow.src);
        why = `comes from "${sideName(flow.src)}", not a listed source of`;
      }
      if (!violated) continue;
      const origins = sortOrigins(flow.origins);
      const first = origins[0]!;
      diags.push(
        error(
          'guardrail-violation',
          `flow ${first.label} ${why} guardrail "${g.name}" (${describeGuardrail(g, internal)})`,
          first.pos,
          [
            { message: `guardrail "${g.name}"`, pos: g.pos },
            ...origins.slice(1).map((o) => ({ message: `flow ${o.label} also written here`, pos: o.pos })),
          ],
        ),
      );
    }
  }
}

/**
 * Emits the intents of the flows, sorted by (segment, direction, id): both sides between
 * segments, the segment's side with entities.
 *
 * Nothing is merged here: buildFlows merged flows by (source, destination, service) and sides are
 * canonical objects (SideCache), so no two flows give the same ingress intent (receiver, source,
 * service), nor the same egress one. Each flow's origins are sorted once and shared by its two
 * intents, and peers are the sides' shared objects (`Side.peer`): the RuleSet is kept
 * until the end of the pipeline, and at 10,000 segments a per-intent copy of each was ~100 MB
 * more for every later phase's GC to walk.
 *
 * An intent's id is `shortHash({ direction, segment, peer, service })`, hashed from a text built
 * of the sides' and services' cached JSON (the same bytes `JSON.stringify` gives) and dropped at
 * once; the digest builds it again (modelDigest) rather than keeping 438,000 texts alive.
 */
function buildIntents(flows: readonly Flow[]): { rules: RuleIntent[]; peerJson: string[] } {
  // Per segment, its egress and its ingress intents apart ('egress' sorts first), so each list
  // is sorted by id alone; beside each intent, its peer's JSON text (for the digest).
  type List = { rules: RuleIntent[]; peerJson: string[] };
  const bySegment = new Map<Side & { kind: 'segment' }, { egress: List; ingress: List }>();
  const emit = (
    direction: 'ingress' | 'egress',
    segment: Side & { kind: 'segment' },
    peer: Side,
    f: Flow,
    origins: readonly SourceRef[],
  ) => {
    const rule: RuleIntent = {
      id: shortHashOfJson(segment.idPrefix[direction] + peer.json + f.serviceTail),
      direction,
      segment: segment.name,
      peer: peer.peer,
      service: f.service,
      origins,
    };
    let group = bySegment.get(segment);
    if (!group)
      bySegment.set(segment, (group = { egress: { rules: [], peerJson: [] }, ingress: { rules: [], peerJson: [] } }));
    group[direction].rules.push(rule);
    group[direction].peerJson.push(peer.json);
  };
  for (const f of flows) {
    // One origin (most flows): the flow's own array and SourceRef, positions the model's own.
    const origins = f.origins.length === 1 ? f.origins : sortOrigins(f.origins);
    if (f.dst.kind === 'segment') emit('ingress', f.dst, f.src, f, origins);
    if (f.src.kind === 'segment') emit('egress', f.src, f.dst, f, origins);
  }
  // Segment names sorted once, then each segment's few intents (by index, keeping each beside
  // its peer's text), rather than one sort of all intents comparing segment names millions of times.
  const rules: RuleIntent[] = [];
  const peerJson: string[] = [];
  const put = (list: List) => {
    const order = list.rules.map((_, i) => i).sort((i, j) => compareStrings(list.rules[i]!.id, list.rules[j]!.id));
    for (const i of order) {
      rules.push(list.rules[i]!);
      peerJson.push(list.peerJson[i]!);
    }
  };
  for (const [, group] of [...bySegment].sort((x, y) => compareStrings(x[0].name, y[0].name))) {
    put(group.egress);
    put(group.ingress);
  }
  return { rules, peerJson };
}

/** Renders guardrail denies for the clouds that have native deny rules (see GuardrailDeny). */
function buildDenies(model: SegmentModel): GuardrailDeny[] {
  const allSegs = [...model.segments.keys()].sort(compareStrings);
  const out: GuardrailDeny[] = [];
  for (const g of model.guardrails) {
    if (g.kind !== 'deny') continue;
    type Part =
      | { kind: 'any' }
      | { kind: 'segments'; names: string[] }
      | { kind: 'entity'; endpoint: Exclude<Endpoint, { kind: 'segment' }> };
    const parts = (s: GuardrailSide): Part[] =>
      s.refs.length === 0
        ? [{ kind: 'any' }]
        : s.refs.flatMap(({ ref }): Part[] => {
            if (ref.kind === 'entity') {
              const e = model.entities.get(ref.name);
              return e ? [{ kind: 'entity', endpoint: entityEndpoint(e) }] : [];
            }
            return [{ kind: 'segments', names: ref.kind === 'segment' ? [ref.name] : [...ref.segments] }];
          });
    const acc = new Map<
      string,
      { direction: 'ingress' | 'egress'; segments: Set<string>; all: boolean; peer: Endpoint | { kind: 'any' } }
    >();
    const emit = (
      direction: 'ingress' | 'egress',
      segs: readonly string[] | 'all',
      peer: Endpoint | { kind: 'any' },
    ) => {
      const key = `${direction}|${JSON.stringify(peer)}`;
      const a = acc.get(key) ?? { direction, segments: new Set<string>(), all: false, peer };
      if (segs === 'all') a.all = true;
      else for (const s of segs) a.segments.add(s);
      acc.set(key, a);
    };
    for (const f of parts(g.from)) {
      for (const t of parts(g.to)) {
        if (f.kind === 'entity' && t.kind === 'entity') continue; // reported by validation
        if (f.kind === 'entity') emit('ingress', t.kind === 'segments' ? t.names : 'all', f.endpoint);
        else if (t.kind === 'entity') emit('egress', f.kind === 'segments' ? f.names : 'all', t.endpoint);
        else if (f.kind === 'segments' && t.kind === 'segments')
          for (const n of f.names) emit('ingress', t.names, { kind: 'segment', name: n });
        else if (f.kind === 'segments') emit('egress', f.names, { kind: 'any' });
        else if (t.kind === 'segments') emit('ingress', t.names, { kind: 'any' });
        else {
          emit('ingress', 'all', { kind: 'any' });
          emit('egress', 'all', { kind: 'any' });
        }
      }
    }
    const services = [...g.services].sort(comparePortMatch);
    for (const a of acc.values()) {
      const segments = a.all ? allSegs : [...a.segments].sort(compareStrings);
      const content = {
        guardrail: g.name,
        direction: a.direction,
        segments,
        allSegments: a.all,
        peer: a.peer,
        services,
      };
      out.push({
        id: shortHash(content),
        ...content,
        origins: [
          {
            pos: { file: g.pos.file, line: g.pos.line, column: g.pos.column },
            label: `guardrail ${g.name}: ${describeGuardrail(g)}`,
          },
        ],
      });
    }
  }
  return out.sort(
    (a, b) =>
      compareStrings(a.guardrail, b.guardrail) ||
      compareStrings(a.direction, b.direction) ||
      compareStrings(a.id, b.id),
  );
}

/** The `only` guardrails, resolved to segment and entity names (tiers expanded), for native renderings. */
function buildOnlys(model: SegmentModel): GuardrailOnly[] {
  const out: GuardrailOnly[] = [];
  const names = (side: GuardrailSide) => {
    const segments = new Set<string>(),
      entities = new Set<string>();
    for (const { ref } of side.refs) {
      if (ref.kind === 'segment') segments.add(ref.name);
      else if (ref.kind === 'tier') for (const s of ref.segments) segments.add(s);
      else entities.add(ref.name);
    }
    return { segments: [...segments].sort(compareStrings), entities: [...entities].sort(compareStrings) };
  };
  for (const g of model.guardrails) {
    if (g.kind !== 'only') continue;
    const to = names(g.to),
      from = names(g.from);
    out.push({
      guardrail: g.name,
      segments: to.segments,
      fromSegments: from.segments,
      fromEntities: from.entities,
      origins: [
        {
          pos: { file: g.pos.file, line: g.pos.line, column: g.pos.column },
          label: `guardrail ${g.name}: ${describeGuardrail(g)}`,
        },
      ],
    });
  }
  return out.sort((a, b) => compareStrings(a.guardrail, b.guardrail));
}

/** A segment's per-provider overrides, copied (plain JSON) in registry order, each with its keys in the provider's order. */
function segmentOverrides(s: SegmentSpec): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const all = s as unknown as Record<string, Record<string, unknown> | undefined>;
  for (const d of targetDescriptors()) {
    const o = all[d.id];
    if (o && Object.keys(o).length > 0) out[d.id] = JSON.parse(JSON.stringify(o)) as unknown;
  }
  return out;
}

/**
 * The model digest: sha256 of `JSON.stringify` of the RuleSet without any position,
 *
 *   { formatVersion, name, targets, segments, rules: [{ id, direction, segment, peer, service }], denies }
 *
 * fed to the hash in pieces instead of as one text: at 10,000 segments that text is ~100 MB,
 * built from 438,000 fresh rule objects, only to be hashed. Each rule's piece is built from the
 * cached JSON of its segment, peer (`peerJson[i]` is that of `rs.rules[i]`, from buildIntents)
 * and service, the same bytes `JSON.stringify` gives, so the bytes hashed are exactly those of
 * the whole text (test/compile/compile-rules.test.ts checks it against it).
 */
function modelDigest(rs: Omit<RuleSet, 'model' | 'entities'>, name: string, peerJson: readonly string[]): string {
  const h = createHash('sha256');
  const targets = JSON.stringify(rs.targets.map(({ pos: _pos, ...t }) => t));
  const segments = JSON.stringify(rs.segments.map(({ pos: _pos, ...s }) => s));
  h.update(
    `{"formatVersion":${JSON.stringify(rs.formatVersion)},"name":${JSON.stringify(name)},"targets":${targets},"segments":${segments},"rules":[`,
  );
  // Services are a few shared objects (parseService memoizes them): their text once each.
  const serviceJson = new Map<PortMatch, string>();
  // Rules come grouped by (segment, direction): the text between id and peer once per group.
  let segment = '',
    direction = '',
    middle = '';
  // Some hundred rules per update (one native call per rule would cost more than the hashing,
  // and a text past 128 KB is a large-object allocation, reclaimed only by a full GC rather than
  // by the next scavenge), each rule as pieces of one join: a template per rule would build a
  // cons-string tree per rule only for join to flatten it. Ids are hex: their JSON is the id in quotes.
  const CHUNK = 512;
  for (let i = 0; i < rs.rules.length; i += CHUNK) {
    const parts: string[] = [];
    for (let j = i; j < Math.min(i + CHUNK, rs.rules.length); j++) {
      const r = rs.rules[j]!;
      let service = serviceJson.get(r.service);
      if (service === undefined) serviceJson.set(r.service, (service = JSON.stringify(r.service)));
      if (r.segment !== segment || r.direction !== direction || middle === '') {
        segment = r.segment;
        direction = r.direction;
        middle = `","direction":"${direction}","segment":${JSON.stringify(segment)},"peer":`;
      }
      parts.push(j === 0 ? '{"id":"' : ',{"id":"', r.id, middle, peerJson[j]!, ',"service":', service, '}');
    }
    h.update(parts.join(''));
  }
  h.update(`],"denies":${JSON.stringify(rs.denies.map(({ origins: _o, ...d }) => d))}}`);
  return h.digest('hex');
}

/**
 * `RuleSet.model`, its digest computed when first read: `validate`, `render`, `drift` and a printed
 * `plan` never read it, and at 10,000 segments hashing the ~100 MB of canonical rules was a fifth
 * of compile (issue 11). A getter in the literal keeps the key order of JSON and spreads (name,
 * digest, file); the RuleSet is read-only, so the digest is the one an eager hash would give.
 * Made here, not in compileRules: a closure there would share compileRules' context and keep the
 * SegmentModel alive with the RuleSet (78 MB more live heap at 10,000 segments); this one holds
 * only what the hash reads.
 */
function modelInfo(
  name: string,
  file: string,
  body: Omit<RuleSet, 'model' | 'entities'>,
  peerJson: readonly string[],
): RuleSet['model'] {
  let digest: string | undefined;
  return {
    name,
    get digest() {
      digest ??= modelDigest(body, name, peerJson);
      return digest;
    },
    file,
  };
}

/**
 * Compiles a validated model into its RuleSet: flows expanded (tiers, services, both sides),
 * guardrails checked (every violation an error with both positions) and rendered as denies,
 * everything canonical and sorted. Pure: the same model gives byte-identical JSON.
 */
export function compileRules(model: SegmentModel): Result<RuleSet> {
  const diags: Diagnostic[] = [];
  const sides = new SideCache(model);
  const flows = buildFlows(model, sides, diags);
  checkGuardrails(model, sides, flows, diags);
  if (hasErrors(diags)) return { ok: false, diagnostics: diags };

  const targets = [...model.targets.values()].map(canonicalTarget).sort((a, b) => compareStrings(a.name, b.name));
  const segments: SegmentSpec[] = [...model.segments.values()]
    .map((s) => ({
      name: s.name,
      ...(s.tier !== undefined ? { tier: s.tier } : {}),
      pos: { file: s.pos.file, line: s.pos.line, column: s.pos.column },
      ...segmentOverrides(s),
    }))
    .sort((a, b) => compareStrings(a.name, b.name));
  const { rules, peerJson } = buildIntents(flows);
  const denies = buildDenies(model);
  const onlys = buildOnlys(model);
  const entities: CidrEntitySpec[] = [...model.entities.values()]
    .flatMap((e) => (e.kind === 'cidrs' && !e.builtin ? [{ name: e.name, ipv4: [...e.ipv4], ipv6: [...e.ipv6] }] : []))
    .sort((a, b) => compareStrings(a.name, b.name));
  const body = { formatVersion: 1 as const, targets, segments, rules, denies };
  return {
    ok: true,
    value: {
      formatVersion: 1,
      model: modelInfo(model.name, model.file, body, peerJson),
      targets,
      segments,
      rules,
      denies,
      entities,
      ...(onlys.length > 0 ? { onlys } : {}),
    },
    diagnostics: diags,
  };
}
