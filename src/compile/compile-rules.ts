import { error, hasErrors, warning, type Diagnostic, type Result, type SourcePos, type SourceRef } from '../diagnostics.js';
import { assertNever } from '../errors.js';
import type { EntityDef, GuardrailDef, GuardrailSide, PeerRef, SegmentModel } from '../model/types.js';
import { comparePortMatch, formatPortMatch, portMatchesOverlap } from '../model/services.js';
import { cidrContains, cidrsOverlap } from '../model/addresses.js';
import { compareStrings, flowLabel, formatEndpoint, sha256, shortHash, sortOrigins } from './canonical.js';
import type { CloudBinding, Endpoint, GuardrailDeny, PortMatch, RuleIntent, RuleSet, SegmentSpec, TargetSpec } from './types.js';

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

/** One end of a flow. */
type Side = { readonly kind: 'segment'; readonly name: string } | { readonly kind: 'external'; readonly endpoint: Exclude<Endpoint, { kind: 'segment' }> };

interface Flow {
  readonly src: Side;
  readonly dst: Side;
  readonly service: PortMatch;
  readonly origins: SourceRef[];
}

const sideName = (s: Side): string => (s.kind === 'segment' ? s.name : formatEndpoint(s.endpoint));

function binding(b: CloudBinding | undefined, keep?: 'ipv4' | 'ipv6'): CloudBinding | undefined {
  if (!b) return undefined;
  return {
    ...(b.prefixList !== undefined ? { prefixList: b.prefixList } : {}),
    ...(b.serviceTag !== undefined ? { serviceTag: b.serviceTag } : {}),
    ipv4: keep === 'ipv6' ? [] : [...b.ipv4],
    ipv6: keep === 'ipv4' ? [] : [...b.ipv6],
  };
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
    case 'cloud': {
      const aws = binding(e.aws, keep), azure = binding(e.azure, keep), gcp = binding(e.gcp, keep);
      return { kind: 'cloud', entity: e.name, ...(aws ? { aws } : {}), ...(azure ? { azure } : {}), ...(gcp ? { gcp } : {}) };
    }
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
      return [e.aws, e.azure, e.gcp].some((b) => b && (b.prefixList !== undefined || b.serviceTag !== undefined || b.ipv4.length + b.ipv6.length > 0));
    default:
      return assertNever(e);
  }
}

function allCidrs(e: Exclude<Endpoint, { kind: 'segment' }>): string[] {
  if (e.kind === 'cidrs') return [...e.ipv4, ...e.ipv6];
  if (e.kind === 'cloud') return [e.aws, e.azure, e.gcp].flatMap((b) => (b ? [...b.ipv4, ...b.ipv6] : []));
  return [];
}

/** True for an endpoint covering every address of a family (the built-in `internet`, or a /0). */
function isEverything(e: Exclude<Endpoint, { kind: 'segment' }>): boolean {
  return e.kind === 'cidrs' && (e.builtin === 'internet' || [...e.ipv4, ...e.ipv6].some((c) => c.endsWith('/0')));
}

/**
 * True when two external endpoints may share an address. An all-addresses endpoint (`internet`)
 * overlaps every external endpoint, FQDNs and cloud services included: that is what 0.0.0.0/0
 * means, and how the clouds render such a deny. Otherwise CIDRs are compared by containment,
 * FQDN sets by name; FQDNs against a narrower CIDR set cannot be decided before resolution and
 * count as disjoint.
 */
export function externalsOverlap(a: Exclude<Endpoint, { kind: 'segment' }>, b: Exclude<Endpoint, { kind: 'segment' }>): boolean {
  if (a.entity === b.entity) return true;
  if (isEverything(a) || isEverything(b)) return true;
  if (a.kind === 'fqdns' && b.kind === 'fqdns') return a.fqdns.some((f) => b.fqdns.includes(f));
  if (a.kind === 'cloud' && b.kind === 'cloud') {
    for (const c of ['aws', 'azure', 'gcp'] as const) {
      const x = a[c], y = b[c];
      if (!x || !y) continue;
      if ((x.prefixList !== undefined && x.prefixList === y.prefixList) || (x.serviceTag !== undefined && x.serviceTag === y.serviceTag)) return true;
    }
  }
  const ca = allCidrs(a), cb = allCidrs(b);
  return ca.some((x) => cb.some((y) => cidrsOverlap(x, y)));
}

/** The family an ICMP match pairs with. */
function icmpFamily(m: PortMatch): 'ipv4' | 'ipv6' | undefined {
  return m.kind === 'icmp' ? (m.protocol === 'icmp' ? 'ipv4' : 'ipv6') : undefined;
}

function expandRef(ref: PeerRef, model: SegmentModel): Side[] {
  switch (ref.kind) {
    case 'segment':
      return [{ kind: 'segment', name: ref.name }];
    case 'tier':
      return ref.segments.map((name) => ({ kind: 'segment', name }) as const);
    case 'entity': {
      const e = model.entities.get(ref.name);
      return e ? [{ kind: 'external', endpoint: entityEndpoint(e) }] : [];
    }
    default:
      return assertNever(ref);
  }
}

function sideKey(s: Side): string {
  return s.kind === 'segment' ? `s:${s.name}` : `e:${JSON.stringify(s.endpoint)}`;
}

/** Builds every flow of the model, merged by (source, destination, service). */
function buildFlows(model: SegmentModel, diags: Diagnostic[]): Flow[] {
  const flows = new Map<string, Flow>();
  const dropped = new Map<string, { label: string; pos: SourcePos[] }>();
  for (const seg of model.segments.values()) {
    const self: Side = { kind: 'segment', name: seg.name };
    for (const f of seg.flows) {
      for (const peer of f.peers) {
        for (const other of expandRef(peer.ref, model)) {
          for (const { match } of f.services) {
            let src = f.direction === 'ingress' ? other : self;
            let dst = f.direction === 'ingress' ? self : other;
            const fam = icmpFamily(match);
            const label = flowLabel(sideName(src), sideName(dst), match);
            if (fam && other.kind === 'external') {
              const narrowed: Side = { kind: 'external', endpoint: entityEndpoint(model.entities.get(other.endpoint.entity)!, fam) };
              if (!hasAddresses(narrowed.endpoint)) {
                const d = dropped.get(label) ?? { label, pos: [] };
                d.pos.push(f.pos);
                dropped.set(label, d);
                continue;
              }
              if (f.direction === 'ingress') src = narrowed;
              else dst = narrowed;
            }
            const key = `${sideKey(src)}|${sideKey(dst)}|${JSON.stringify(match)}`;
            const existing = flows.get(key);
            const origin: SourceRef = { pos: f.pos, label };
            if (existing) existing.origins.push(origin);
            else flows.set(key, { src, dst, service: match, origins: [origin] });
          }
        }
      }
    }
  }
  for (const d of dropped.values()) {
    const proto = d.label.includes(' icmpv6') ? 'icmpv6 needs IPv6' : 'icmp needs IPv4';
    diags.push(warning('icmp-family-mismatch', `flow ${d.label} is dropped: ${proto} addresses and the peer has none`, d.pos[0]));
  }
  return [...flows.values()];
}

/** Does a flow end match a guardrail side (empty side = anything)? */
function matchesSide(s: Side, side: GuardrailSide, model: SegmentModel): boolean {
  if (side.refs.length === 0) return true;
  return side.refs.some(({ ref }) =>
    expandRef(ref, model).some((r) =>
      r.kind === 'segment' ? s.kind === 'segment' && s.name === r.name : s.kind === 'external' && externalsOverlap(s.endpoint, r.endpoint),
    ),
  );
}

/** Is a flow source one of the sources an `only` guardrail allows? */
function coveredBy(s: Side, side: GuardrailSide, model: SegmentModel): boolean {
  return side.refs.some(({ ref }) =>
    expandRef(ref, model).some((r) => {
      if (r.kind === 'segment') return s.kind === 'segment' && s.name === r.name;
      if (s.kind !== 'external') return false;
      if (s.endpoint.entity === r.endpoint.entity) return true;
      if (isEverything(r.endpoint)) return true;
      const inner = allCidrs(s.endpoint), outer = allCidrs(r.endpoint);
      return s.endpoint.kind === 'cidrs' && inner.length > 0 && inner.every((c) => outer.some((o) => cidrContains(o, c)));
    }),
  );
}

function describeGuardrail(g: GuardrailDef): string {
  const names = (s: GuardrailSide) => [...new Set(s.refs.map((r) => (r.ref.kind === 'tier' ? `tier:${r.ref.name}` : r.ref.name)))].sort(compareStrings).join(', ');
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
function checkGuardrails(model: SegmentModel, flows: readonly Flow[], diags: Diagnostic[]): void {
  for (const g of model.guardrails) {
    for (const flow of flows) {
      let violated = false;
      let why = '';
      if (g.kind === 'deny') {
        violated = g.services.some((s) => portMatchesOverlap(s, flow.service)) && matchesSide(flow.src, g.from, model) && matchesSide(flow.dst, g.to, model);
        why = 'overlaps';
      } else {
        violated = flow.dst.kind === 'segment' && matchesSide(flow.dst, g.to, model) && !coveredBy(flow.src, g.from, model);
        why = `comes from "${sideName(flow.src)}", not a listed source of`;
      }
      if (!violated) continue;
      const origins = sortOrigins(flow.origins);
      const first = origins[0]!;
      diags.push(
        error('guardrail-violation', `flow ${first.label} ${why} guardrail "${g.name}" (${describeGuardrail(g)})`, first.pos, [
          { message: `guardrail "${g.name}"`, pos: g.pos },
          ...origins.slice(1).map((o) => ({ message: `flow ${o.label} also written here`, pos: o.pos })),
        ]),
      );
    }
  }
}

function intentId(direction: string, segment: string, peer: Endpoint, service: PortMatch): string {
  return shortHash({ direction, segment, peer, service });
}

/** Emits the intents of the flows: both sides between segments, the segment's side with entities. */
function buildIntents(flows: readonly Flow[]): RuleIntent[] {
  const out = new Map<string, { direction: 'ingress' | 'egress'; segment: string; peer: Endpoint; service: PortMatch; origins: SourceRef[] }>();
  const add = (direction: 'ingress' | 'egress', segment: string, peer: Endpoint, service: PortMatch, origins: readonly SourceRef[]) => {
    const id = intentId(direction, segment, peer, service);
    const prev = out.get(id);
    if (prev) prev.origins.push(...origins);
    else out.set(id, { direction, segment, peer, service, origins: [...origins] });
  };
  for (const f of flows) {
    if (f.dst.kind === 'segment') add('ingress', f.dst.name, f.src.kind === 'segment' ? { kind: 'segment', name: f.src.name } : f.src.endpoint, f.service, f.origins);
    if (f.src.kind === 'segment') add('egress', f.src.name, f.dst.kind === 'segment' ? { kind: 'segment', name: f.dst.name } : f.dst.endpoint, f.service, f.origins);
  }
  return [...out.entries()]
    .map(([id, r]) => ({ id, direction: r.direction, segment: r.segment, peer: r.peer, service: r.service, origins: sortOrigins(r.origins) }))
    .sort((a, b) => compareStrings(a.segment, b.segment) || compareStrings(a.direction, b.direction) || compareStrings(a.id, b.id));
}

/** Renders guardrail denies for the clouds that have native deny rules (see GuardrailDeny). */
function buildDenies(model: SegmentModel): GuardrailDeny[] {
  const allSegs = [...model.segments.keys()].sort(compareStrings);
  const out: GuardrailDeny[] = [];
  for (const g of model.guardrails) {
    if (g.kind !== 'deny') continue;
    type Part = { kind: 'any' } | { kind: 'segments'; names: string[] } | { kind: 'entity'; endpoint: Exclude<Endpoint, { kind: 'segment' }> };
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
    const acc = new Map<string, { direction: 'ingress' | 'egress'; segments: Set<string>; all: boolean; peer: Endpoint | { kind: 'any' } }>();
    const emit = (direction: 'ingress' | 'egress', segs: readonly string[] | 'all', peer: Endpoint | { kind: 'any' }) => {
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
        else if (f.kind === 'segments' && t.kind === 'segments') for (const n of f.names) emit('ingress', t.names, { kind: 'segment', name: n });
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
      const content = { guardrail: g.name, direction: a.direction, segments, allSegments: a.all, peer: a.peer, services };
      out.push({
        id: shortHash(content),
        ...content,
        origins: [{ pos: { file: g.pos.file, line: g.pos.line, column: g.pos.column }, label: `guardrail ${g.name}: ${describeGuardrail(g)}` }],
      });
    }
  }
  return out.sort((a, b) => compareStrings(a.guardrail, b.guardrail) || compareStrings(a.direction, b.direction) || compareStrings(a.id, b.id));
}

function canonicalTarget(t: TargetSpec): TargetSpec {
  const pos = { file: t.pos.file, line: t.pos.line, column: t.pos.column };
  switch (t.kind) {
    case 'aws': {
      const c = t.aws;
      return {
        kind: 'aws',
        name: t.name,
        pos,
        aws: { region: c.region, vpc: c.vpc, ...(c.profile !== undefined ? { profile: c.profile } : {}), ...(c.endpoint !== undefined ? { endpoint: c.endpoint } : {}) },
      };
    }
    case 'azure': {
      const c = t.azure;
      return {
        kind: 'azure',
        name: t.name,
        pos,
        azure: {
          subscription: c.subscription,
          resourceGroup: c.resourceGroup,
          location: c.location,
          nsg: c.nsg,
          ...(c.firewallPolicy !== undefined ? { firewallPolicy: c.firewallPolicy } : {}),
          ...(c.endpoint !== undefined ? { endpoint: c.endpoint } : {}),
        },
      };
    }
    case 'gcp': {
      const c = t.gcp;
      return {
        kind: 'gcp',
        name: t.name,
        pos,
        gcp: {
          project: c.project,
          network: c.network,
          ...(c.firewallPolicy !== undefined ? { firewallPolicy: c.firewallPolicy } : {}),
          internalRanges: [...c.internalRanges],
          ...(c.endpoint !== undefined ? { endpoint: c.endpoint } : {}),
        },
      };
    }
    default:
      return assertNever(t);
  }
}

/** RuleSet without any position: what the digest covers. */
function withoutPositions(rs: Omit<RuleSet, 'model'> & { model: { name: string } }): unknown {
  return {
    formatVersion: rs.formatVersion,
    name: rs.model.name,
    targets: rs.targets.map(({ pos: _pos, ...t }) => t),
    segments: rs.segments.map(({ pos: _pos, ...s }) => s),
    rules: rs.rules.map(({ origins: _o, ...r }) => r),
    denies: rs.denies.map(({ origins: _o, ...d }) => d),
  };
}

/**
 * Compiles a validated model into its RuleSet: flows expanded (tiers, services, both sides),
 * guardrails checked (every violation an error with both positions) and rendered as denies,
 * everything canonical and sorted. Pure: the same model gives byte-identical JSON.
 */
export function compileRules(model: SegmentModel): Result<RuleSet> {
  const diags: Diagnostic[] = [];
  const flows = buildFlows(model, diags);
  checkGuardrails(model, flows, diags);
  if (hasErrors(diags)) return { ok: false, diagnostics: diags };

  const targets = [...model.targets.values()].map(canonicalTarget).sort((a, b) => compareStrings(a.name, b.name));
  const segments: SegmentSpec[] = [...model.segments.values()]
    .map((s) => ({
      name: s.name,
      ...(s.tier !== undefined ? { tier: s.tier } : {}),
      pos: { file: s.pos.file, line: s.pos.line, column: s.pos.column },
      ...(s.aws?.groupId !== undefined ? { aws: { groupId: s.aws.groupId } } : {}),
      ...(s.gcp?.serviceAccount !== undefined ? { gcp: { serviceAccount: s.gcp.serviceAccount } } : {}),
    }))
    .sort((a, b) => compareStrings(a.name, b.name));
  const rules = buildIntents(flows);
  const denies = buildDenies(model);
  const body = { formatVersion: 1 as const, targets, segments, rules, denies };
  const digest = sha256(JSON.stringify(withoutPositions({ ...body, model: { name: model.name } })));
  return {
    ok: true,
    value: { formatVersion: 1, model: { name: model.name, digest, file: model.file }, targets, segments, rules, denies },
    diagnostics: diags,
  };
}
