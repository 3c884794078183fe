import type { SourcePos, SourceRef } from '../diagnostics.js';
import { compareStrings, formatEndpoint } from '../compile/canonical.js';
import type { Endpoint, GuardrailDeny, PortMatch, RuleIntent, RuleSet } from '../compile/types.js';
import { cidrContains, cidrsOverlap, DEFAULT_INTERNAL_RANGES, reachesInternet } from '../model/addresses.js';
import { modelInternalRanges } from '../targets.js';
import { internetBlocks } from './native-match.js';
import { formatPortMatch, portMatchesOverlap } from '../model/services.js';
import type { ResolvedFqdns } from '../resolve.js';
import { portMatchContains, probeCidr, type Probe, type ProbeEndpoint } from './probe.js';

/**
 * The model evaluator: what the segment model says about one probe, decided on the compiled
 * RuleSet alone (no cloud). Pure. The RuleSet is indexed once (by segment, direction and peer,
 * kept in a WeakMap per RuleSet object), so a probe costs a few Map lookups plus the rules of the
 * two segments involved, never a scan of the whole model.
 *
 * Semantics (DESIGN §1, §5):
 * - Default deny both ways: traffic between two segments needs the receiver's ingress intent and
 *   the sender's egress intent (the compiler always makes both from one written flow); traffic
 *   with something outside the model needs the segment's own side. Between two non-segments the
 *   model says nothing: deny, `outside-model`.
 * - Guardrail denies come first (they are rendered at the highest precedence where a cloud has
 *   denies); a deny closes a probe when it overlaps any of the probe's traffic and addresses.
 * - An allow admits a probe when it contains all of the traffic and, for an address range or an
 *   entity, every address of it (each address block may be admitted by a different rule).
 * - `internet` is every address outside the internal ranges, in allows as in guardrails: an
 *   address inside them is not admitted by an allow from `internet` (AWS and GCP render that
 *   allow as 0.0.0.0/0 and do admit it; `explain` points that out as a cloud default).
 * - An address is never a segment: without an inventory the model cannot tell which segment a
 *   host belongs to, so `10.0.1.5` matches the CIDR entities that contain it, and `internet`
 *   when outside the internal ranges.
 */

/** A model rule that decides a probe, as `explain` and `audit` show it. */
export interface ModelRuleRef {
  /** The RuleIntent id (stable across runs). */
  readonly id: string;
  readonly direction: 'ingress' | 'egress';
  /** The segment whose object carries the rule. */
  readonly segment: string;
  /** The other end, as the model names it (segment or entity). */
  readonly peer: string;
  /** `tcp/443`. */
  readonly service: string;
  /** Where the model writes it (first origin): file:line:column. */
  readonly pos: SourcePos;
  /** Every place that writes it. */
  readonly origins: readonly SourceRef[];
}

/** A guardrail deny that closes a probe. */
export interface ModelGuardrailRef {
  /** The GuardrailDeny id. */
  readonly id: string;
  /** The guardrail's name in the model. */
  readonly name: string;
  readonly direction: 'ingress' | 'egress';
  readonly pos: SourcePos;
  readonly label: string;
}

/** What the model says about a probe. */
export type ModelVerdict =
  /** Allowed: `rule` is the deciding rule (the receiver's ingress when both ends are segments), `rules` every rule involved. */
  | { readonly verdict: 'allow'; readonly rule: ModelRuleRef; readonly rules: readonly ModelRuleRef[] }
  /** Closed by a guardrail deny. */
  | {
      readonly verdict: 'deny';
      readonly reason: 'guardrail';
      readonly guardrail: ModelGuardrailRef;
      readonly detail: string;
    }
  /** Nothing in the model allows it. `rules` holds the half that exists when only one side of a segment pair does. */
  | {
      readonly verdict: 'deny';
      readonly reason: 'default-deny';
      readonly detail: string;
      readonly rules: readonly ModelRuleRef[];
    }
  /** Neither end is a segment: the model governs only traffic of its segments. */
  | { readonly verdict: 'deny'; readonly reason: 'outside-model'; readonly detail: string };

/** Options of `modelVerdict`. */
export interface ModelVerdictOptions {
  /**
   * The internal ranges `internet` is outside of. Default: those of the RuleSet's targets (an
   * address outside the ranges of any target counts as internet, as in guardrail checks), or
   * DEFAULT_INTERNAL_RANGES when it has none.
   */
  readonly internalRanges?: readonly string[];
  /**
   * Addresses of the model's FQDNs as a plan resolved them: an address probe then matches the FQDN
   * entities it belongs to, and an FQDN entity is its addresses. Without it, FQDN entities are
   * matched by name only (and count as public addresses).
   */
  readonly resolved?: ResolvedFqdns;
}

/** The side of a probe that is not a segment, as address blocks and a name. */
interface External {
  /** Entity name when the end is an entity (also `internet`). */
  readonly entity?: string;
  /** Canonical CIDRs the end covers; empty for FQDN and per-cloud entities (matched by name only). */
  readonly blocks: readonly string[];
  /** True for FQDN and per-cloud entities: their (public) addresses are not known here. */
  readonly unknown?: boolean;
}

type End = { readonly kind: 'segment'; readonly name: string } | ({ readonly kind: 'external' } & External);

interface Index {
  /** Per receiving segment: its ingress intents by peer key (segment name, or `*` for every non-segment peer). */
  readonly ingress: Map<string, Map<string, RuleIntent[]>>;
  readonly egress: Map<string, Map<string, RuleIntent[]>>;
  /** Guardrail denies per protected segment and direction (`allSegments` ones are expanded). */
  readonly denies: { readonly ingress: Map<string, GuardrailDeny[]>; readonly egress: Map<string, GuardrailDeny[]> };
  readonly segments: ReadonlySet<string>;
  /** Address blocks of each entity the RuleSet knows (CIDR entities; FQDN and cloud ones have none). */
  readonly entityBlocks: Map<string, string[]>;
  /** The FQDN and per-cloud entities (addresses unknown to the model). */
  readonly unknownEntities: Set<string>;
  /** The FQDNs of each FQDN entity. */
  readonly entityFqdns: Map<string, readonly string[]>;
  readonly internal: readonly (readonly string[])[];
  /** Memo: is a canonical CIDR entirely outside the internal ranges (of some target)? */
  readonly outside: Map<string, boolean>;
}

const EXTERNAL_KEY = '*';
const indexes = new WeakMap<RuleSet, Index>();

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

/**
 * Every per-target binding of a per-cloud entity, whatever the cloud: the nested objects that
 * carry address lists (the model evaluator knows no cloud; it takes the union of their ranges).
 */
export function bindingsOf(
  e: Extract<Endpoint, { kind: 'cloud' }>,
): { readonly ipv4: readonly string[]; readonly ipv6: readonly string[] }[] {
  const out: { ipv4: readonly string[]; ipv6: readonly string[] }[] = [];
  const visit = (v: unknown, depth: number) => {
    if (v === null || typeof v !== 'object' || depth > 2) return;
    const o = v as { ipv4?: unknown; ipv6?: unknown };
    if (Array.isArray(o.ipv4) || Array.isArray(o.ipv6)) {
      out.push({
        ipv4: Array.isArray(o.ipv4) ? (o.ipv4 as string[]) : [],
        ipv6: Array.isArray(o.ipv6) ? (o.ipv6 as string[]) : [],
      });
      return;
    }
    for (const x of Object.values(v)) visit(x, depth + 1);
  };
  for (const [k, v] of Object.entries(e)) if (k !== 'kind' && k !== 'entity') visit(v, 0);
  return out;
}

const fqdnBlocks = new WeakMap<ResolvedFqdns, Map<string, string[]>>();

/** The resolved addresses of FQDNs (memoized per resolution and name list). */
function resolvedBlocks(fqdns: readonly string[], resolved: ResolvedFqdns): string[] {
  let memo = fqdnBlocks.get(resolved);
  if (!memo) {
    memo = new Map();
    fqdnBlocks.set(resolved, memo);
  }
  const key = fqdns.join(',');
  let v = memo.get(key);
  if (!v) {
    v = [...new Set(fqdns.flatMap((f) => [...(resolved.get(f)?.ipv4 ?? []), ...(resolved.get(f)?.ipv6 ?? [])]))];
    memo.set(key, v);
  }
  return v;
}

function endpointBlocks(e: Exclude<Endpoint, { kind: 'segment' }>, resolved?: ResolvedFqdns): string[] {
  if (e.kind === 'cidrs') return [...e.ipv4, ...e.ipv6];
  if (e.kind === 'fqdns') return resolved ? resolvedBlocks(e.fqdns, resolved) : [];
  if (e.kind === 'cloud') return bindingsOf(e).flatMap((b) => [...b.ipv4, ...b.ipv6]);
  return [];
}

function buildIndex(rules: RuleSet): Index {
  const ingress = new Map<string, Map<string, RuleIntent[]>>();
  const egress = new Map<string, Map<string, RuleIntent[]>>();
  for (const r of rules.rules) {
    const bySeg = r.direction === 'ingress' ? ingress : egress;
    let byPeer = bySeg.get(r.segment);
    if (!byPeer) {
      byPeer = new Map();
      bySeg.set(r.segment, byPeer);
    }
    push(byPeer, r.peer.kind === 'segment' ? `s:${r.peer.name}` : EXTERNAL_KEY, r);
  }
  const segments = new Set(rules.segments.map((s) => s.name));
  for (const r of rules.rules) segments.add(r.segment);
  const denies = { ingress: new Map<string, GuardrailDeny[]>(), egress: new Map<string, GuardrailDeny[]>() };
  for (const d of rules.denies) {
    const protectedSegs = d.allSegments ? segments : d.segments;
    for (const s of protectedSegs) push(denies[d.direction], s, d);
  }
  const entityBlocks = new Map<string, string[]>();
  const unknownEntities = new Set<string>();
  const entityFqdns = new Map<string, readonly string[]>();
  for (const e of rules.entities ?? []) entityBlocks.set(e.name, [...e.ipv4, ...e.ipv6]);
  // Peers carry the endpoints of FQDN and per-cloud entities, and of CIDR entities in hand-built RuleSets.
  for (const p of [...rules.rules.map((r) => r.peer), ...rules.denies.map((d) => d.peer)]) {
    if (p.kind === 'segment' || p.kind === 'any' || p.entity === 'internet') continue;
    if (p.kind === 'fqdns' || p.kind === 'cloud') unknownEntities.add(p.entity);
    if (p.kind === 'fqdns') entityFqdns.set(p.entity, p.fqdns);
    if (entityBlocks.has(p.entity) && p.kind === 'cidrs') continue;
    // A peer narrowed to one family (ICMP) names only part of the entity: keep the widest seen.
    const blocks = endpointBlocks(p);
    const prev = entityBlocks.get(p.entity);
    if (!prev || prev.length < blocks.length) entityBlocks.set(p.entity, blocks);
  }
  return {
    ingress,
    egress,
    denies,
    segments,
    entityBlocks,
    unknownEntities,
    entityFqdns,
    internal: modelInternalRanges(rules.targets),
    outside: new Map(),
  };
}

function indexOf(rules: RuleSet): Index {
  let index = indexes.get(rules);
  if (!index) {
    index = buildIndex(rules);
    indexes.set(rules, index);
  }
  return index;
}

const familyOf = (cidr: string): 'ipv4' | 'ipv6' => (cidr.includes(':') ? 'ipv6' : 'ipv4');

/** Is every address of `block` outside the internal ranges (of one of the sets)? */
function outsideInternal(block: string, internal: readonly (readonly string[])[], memo: Map<string, boolean>): boolean {
  let v = memo.get(block);
  if (v === undefined) {
    v = internal.some((set) => !set.some((r) => cidrsOverlap(r, block)));
    memo.set(block, v);
  }
  return v;
}

/** Does some address of `block` lie outside the internal ranges (of one of the sets)? */
function touchesOutside(block: string, internal: readonly (readonly string[])[]): boolean {
  return internal.some((set) => reachesInternet(block, set));
}

const isInternet = (e: Endpoint | { kind: 'any' }): boolean =>
  e.kind === 'cidrs' && (e.builtin === 'internet' || e.entity === 'internet');

/** Does an allow's peer admit every address of `block`? */
function peerAdmitsBlock(
  peer: Exclude<Endpoint, { kind: 'segment' }>,
  block: string,
  internal: readonly (readonly string[])[],
  memo: Map<string, boolean>,
  resolved?: ResolvedFqdns,
): boolean {
  const fam = familyOf(block);
  if (isInternet(peer)) {
    const p = peer as Extract<Endpoint, { kind: 'cidrs' }>;
    // A narrowed (one-family) internet admits only that family.
    if ((fam === 'ipv4' ? p.ipv4 : p.ipv6).length === 0) return false;
    return outsideInternal(block, internal, memo);
  }
  return endpointBlocks(peer, resolved).some((c) => familyOf(c) === fam && cidrContains(c, block));
}

const refs = new WeakMap<RuleIntent, ModelRuleRef>();

/** The reference of an intent, made once per intent (a matrix asks for the same few millions of times). */
function ruleRef(r: RuleIntent): ModelRuleRef {
  let ref = refs.get(r);
  if (!ref) {
    ref = makeRuleRef(r);
    refs.set(r, ref);
  }
  return ref;
}

function makeRuleRef(r: RuleIntent): ModelRuleRef {
  return {
    id: r.id,
    direction: r.direction,
    segment: r.segment,
    peer: formatEndpoint(r.peer),
    service: formatPortMatch(r.service),
    pos: r.origins[0]?.pos ?? { file: '', line: 0, column: 0 },
    origins: r.origins,
  };
}

function guardrailRef(d: GuardrailDeny): ModelGuardrailRef {
  const o = d.origins[0];
  return {
    id: d.id,
    name: d.guardrail,
    direction: d.direction,
    pos: o?.pos ?? { file: '', line: 0, column: 0 },
    label: o?.label ?? `guardrail ${d.guardrail}`,
  };
}

function endName(e: End): string {
  return e.kind === 'segment' ? e.name : (e.entity ?? e.blocks.join(', '));
}

/** Does a guardrail deny's peer match the other end of the probe (any of its addresses)? */
function denyPeerMatches(
  d: GuardrailDeny,
  other: End,
  internal: readonly (readonly string[])[],
  resolved?: ResolvedFqdns,
): boolean {
  const p = d.peer;
  if (p.kind === 'any') return true;
  if (p.kind === 'segment') return other.kind === 'segment' && other.name === p.name;
  if (other.kind === 'segment') return false;
  if (other.entity !== undefined && other.entity === p.entity) return true;
  if (isInternet(p)) {
    // FQDN and per-cloud entities count as internet (their addresses are public), as in the guardrail checks.
    if (other.blocks.length === 0) return other.unknown === true;
    return other.blocks.some((b) => touchesOutside(b, internal));
  }
  const mine = endpointBlocks(p, resolved);
  return other.blocks.some((b) => mine.some((c) => cidrsOverlap(c, b)));
}

function resolveEnd(
  e: ProbeEndpoint,
  ix: Index,
  internal: readonly (readonly string[])[],
  resolved?: ResolvedFqdns,
): End {
  switch (e.kind) {
    case 'segment':
      return { kind: 'segment', name: e.name };
    case 'entity':
      if (e.name === 'internet') return { kind: 'external', entity: 'internet', blocks: internetBlocks(internal[0]) };
      {
        const fqdns = ix.entityFqdns.get(e.name);
        if (fqdns && resolved) return { kind: 'external', entity: e.name, blocks: resolvedBlocks(fqdns, resolved) };
      }
      return {
        kind: 'external',
        entity: e.name,
        blocks: ix.entityBlocks.get(e.name) ?? [],
        ...(ix.unknownEntities.has(e.name) ? { unknown: true } : {}),
      };
    case 'address': {
      const c = probeCidr(e.address);
      return { kind: 'external', blocks: c ? [c] : [] };
    }
  }
}

/** Narrows an external end to the address family ICMP runs on (icmp: IPv4, icmpv6: IPv6). */
function narrow(end: End, service: PortMatch): End {
  if (end.kind !== 'external' || service.kind !== 'icmp') return end;
  const fam = service.protocol === 'icmp' ? 'ipv4' : 'ipv6';
  return { ...end, blocks: end.blocks.filter((b) => familyOf(b) === fam) };
}

/**
 * Rules of `segment` in `direction` that admit the external end on `service`: one per block
 * (first in RuleSet order), or undefined when some block is admitted by none.
 */
function admitExternal(
  byPeer: Map<string, RuleIntent[]> | undefined,
  other: End & { kind: 'external' },
  service: PortMatch,
  internal: readonly (readonly string[])[],
  memo: Map<string, boolean>,
  resolved?: ResolvedFqdns,
): RuleIntent[] | undefined {
  const candidates = (byPeer?.get(EXTERNAL_KEY) ?? []).filter((r) => portMatchContains(r.service, service));
  if (candidates.length === 0) return undefined;
  // By name: the entity itself (an ICMP intent carries the entity narrowed to one family, still its name).
  if (other.entity !== undefined) {
    const named = candidates.find((r) => r.peer.kind !== 'segment' && r.peer.entity === other.entity);
    if (named) return [named];
  }
  if (other.blocks.length === 0) {
    // An FQDN or per-cloud entity: its addresses are not known here, but they are public (as in
    // the guardrail checks), so an allow of `internet` admits it. A CIDR end with no address of
    // the probe's family (ICMPv6 from an IPv4-only entity) sends nothing: denied.
    const net = other.unknown ? candidates.find((r) => isInternet(r.peer)) : undefined;
    return net ? [net] : undefined;
  }
  const used: RuleIntent[] = [];
  for (const b of other.blocks) {
    const r = candidates.find((c) => c.peer.kind !== 'segment' && peerAdmitsBlock(c.peer, b, internal, memo, resolved));
    if (!r) return undefined;
    if (!used.includes(r)) used.push(r);
  }
  return used;
}

/**
 * Decides a probe on the model: allow with the deciding rule (id and file:line), or deny with
 * why (a guardrail with its position, default deny, or outside the model). Pure; the RuleSet is
 * indexed on first use and the index reused for every later probe of the same object.
 */
export function modelVerdict(rules: RuleSet, probe: Probe, options: ModelVerdictOptions = {}): ModelVerdict {
  const ix = indexOf(rules);
  const internal = options.internalRanges
    ? [options.internalRanges]
    : ix.internal.length
      ? ix.internal
      : [DEFAULT_INTERNAL_RANGES];
  const memo = options.internalRanges ? new Map<string, boolean>() : ix.outside;
  const service = probe.service;
  const src = narrow(resolveEnd(probe.source, ix, internal, options.resolved), service);
  const dst = narrow(resolveEnd(probe.destination, ix, internal, options.resolved), service);
  // Only denies print it: built on demand, an allow (the matrix's common case) pays nothing for it.
  const what = () => `${endName(src)} -> ${endName(dst)} ${formatPortMatch(service)}`;

  if (src.kind !== 'segment' && dst.kind !== 'segment') {
    return {
      verdict: 'deny',
      reason: 'outside-model',
      detail: `neither ${endName(src)} nor ${endName(dst)} is a segment of the model`,
    };
  }
  for (const s of [src, dst]) {
    if (s.kind === 'segment' && !ix.segments.has(s.name))
      return {
        verdict: 'deny',
        reason: 'default-deny',
        detail: `"${s.name}" is not a segment of the model`,
        rules: [],
      };
  }

  // Guardrails first: the receiver's ingress denies against the source, the sender's egress denies against the destination.
  const checks: [GuardrailDeny[] | undefined, End][] = [];
  if (dst.kind === 'segment') checks.push([ix.denies.ingress.get(dst.name), src]);
  if (src.kind === 'segment') checks.push([ix.denies.egress.get(src.name), dst]);
  for (const [list, other] of checks) {
    for (const d of list ?? []) {
      if (!d.services.some((m) => portMatchesOverlap(m, service))) continue;
      if (!denyPeerMatches(d, other, internal, options.resolved)) continue;
      return {
        verdict: 'deny',
        reason: 'guardrail',
        guardrail: guardrailRef(d),
        detail: `${what()} is closed by guardrail "${d.guardrail}"`,
      };
    }
  }

  if (src.kind === 'segment' && dst.kind === 'segment') {
    const admits = (r: RuleIntent) => portMatchContains(r.service, service);
    const inRule = ix.ingress.get(dst.name)?.get(`s:${src.name}`)?.find(admits);
    const outRule = ix.egress.get(src.name)?.get(`s:${dst.name}`)?.find(admits);
    if (inRule && outRule)
      return { verdict: 'allow', rule: ruleRef(inRule), rules: [ruleRef(inRule), ruleRef(outRule)] };
    const detail = inRule
      ? `${dst.name} admits it, but no egress rule of ${src.name} sends it`
      : outRule
        ? `${src.name} may send it, but no ingress rule of ${dst.name} admits it`
        : `no rule allows ${what()} (default deny)`;
    return {
      verdict: 'deny',
      reason: 'default-deny',
      detail,
      rules: [inRule ?? outRule].filter((r): r is RuleIntent => r !== undefined).map(ruleRef),
    };
  }

  const [segment, other, direction] =
    dst.kind === 'segment'
      ? [dst.name, src as End & { kind: 'external' }, 'ingress' as const]
      : [(src as End & { kind: 'segment' }).name, dst as End & { kind: 'external' }, 'egress' as const];
  const byPeer = (direction === 'ingress' ? ix.ingress : ix.egress).get(segment);
  const used = admitExternal(byPeer, other, service, internal, memo, options.resolved);
  if (used && used.length > 0) {
    const refs = used.map(ruleRef).sort((a, b) => compareStrings(a.id, b.id));
    return { verdict: 'allow', rule: ruleRef(used[0]!), rules: refs };
  }
  return {
    verdict: 'deny',
    reason: 'default-deny',
    detail: `no ${direction} rule of ${segment} allows ${what()} (default deny)`,
    rules: [],
  };
}
