import { createHash } from 'node:crypto';
import { hasOwnerPrefix } from '../kit/ownership.js';
import { allocateSlots, slotHash } from '../kit/slots.js';
import { flat } from '../kit/strings.js';
import type { Endpoint, GuardrailDeny, PortMatch, RuleIntent, RuleSet, TargetSpec } from '../../src/compile/types.js';
import { error, warning, type Diagnostic, type SourcePos, type SourceRef } from '../../src/diagnostics.js';
import { assertNever } from '../../src/errors.js';
import type { Child, Json, ProviderState, Resource } from '../../src/plan/types.js';
import type { RenderContext } from '../../src/provider.js';
import {
  canonicalLocation,
  canonicalPort,
  canonicalPrefix,
  canonicalProtocol,
  isNsgProtocol,
  type AppRuleAttributes,
  type RuleAttributes,
  type RuleContent,
} from './canonical.js';
import {
  ALLOW_BAND,
  DENY_ALL_PRIORITY,
  DENY_BAND,
  DESCRIPTION_MAX,
  LOAD_BALANCER_PRIORITY,
  NAME_MAX,
  RULE_COLLECTION_GROUP_PRIORITY,
  RULE_COLLECTION_PRIORITY,
} from './limits.js';
import { hasNsgMap, nsgOfSegments, targetNsgs } from './nsgs.js';

/**
 * Render (pure): a RuleSet → the desired Azure objects of one target.
 *
 * - one ASG `<model>-<segment>` per segment, tagged `bulkhead:model=<model>`;
 * - the target's NSG, whose children are the model's rules (named `<model>-…`: NSG rules carry no
 *   tags, so the name prefix is the ownership marker): one rule per RuleIntent (ASG to ASG, or
 *   to/from CIDRs, service tags, pinned FQDN addresses), guardrail denies, an explicit deny-all per
 *   direction at 4096 and an AzureLoadBalancer allow at 4095 (the deny-all would hide Azure's
 *   default rule 65001 and cut load-balancer health probes);
 * - when a segment has FQDN egress and the target names a firewall policy, a rule collection group
 *   `<model>-fqdn-egress` with one application rule per (segment, FQDN entity, port).
 *
 * Priorities are placed by hash (the kit's `allocateSlots`), never by position. When the context
 * carries what read found (`ctx.live`), an owned rule that exists keeps its live priority and new
 * rules skip every priority in use (kept rules and unowned rules, `state.reserved`): adding or
 * removing a flow then never moves another rule, and no model rule lands on an unowned rule's
 * priority.
 */

/** Resource types of this provider. */
export const AZURE_TYPES = {
  asg: 'azure_application_security_group',
  nsg: 'azure_network_security_group',
  rcg: 'azure_firewall_policy_rule_collection_group',
} as const;

/** The target's Azure config (render is only called with Azure targets). */
export function azureConfig(target: TargetSpec) {
  if (target.kind !== 'azure') throw new Error(`target ${target.name} is not an Azure target`);
  return target.azure;
}

/** The ASG name of a segment. */
export function asgName(model: string, segment: string): string {
  return `${model}-${segment}`;
}

/** The rule collection group Bulkhead owns in the target's firewall policy. */
export function ruleCollectionGroupName(model: string): string {
  return `${model}-fqdn-egress`;
}

/** The filter collection inside that group. */
export function ruleCollectionName(model: string): string {
  return `${model}-allow-fqdn`;
}

/**
 * True when a rule name belongs to the model: `<model>-` followed by one of the kinds Bulkhead
 * writes (`in-`, `out-`, `deny-`, `allow-`), case-insensitive like Azure names. The kind keeps a
 * model `shop` from claiming the rules of a model `shop-admin` in a shared NSG.
 */
export function ownsRuleName(model: string, name: string): boolean {
  return hasOwnerPrefix(model, name, { kinds: RULE_KINDS, caseInsensitive: true });
}

/** The kinds of NSG rule Bulkhead names after `<model>-` (the kit's owner prefix). */
const RULE_KINDS = ['in', 'out', 'deny', 'allow'] as const;

/**
 * A rule's attributes as render writes them; `priority` (the last key, where RuleAttributes has
 * it) is 0 until placement fills it in. Filled in place rather than copied: at estate scale one
 * object less per rule is a measurable part of the render (see the caches in layoutAzure).
 */
type DraftAttributes = RuleContent & { priority: number };

/**
 * A rule as laid out, already the NSG child that render returns (`key` is the rule name; the
 * optional keys only when they have a value, in Child's order): its priority (in `attributes`) is 0
 * until placement fills it in, except the fixed rules' (deny-all, load balancer), set when laid
 * out; `summary` is '' until render writes it (it names the priority, and validate never needs it).
 * The NSG and the band are where the rule is filed (NsgGroups), not fields. One object per rule
 * from layout to output: at estate scale (~470,000 rules) each object per rule more is heap the
 * garbage collector copies while the render runs.
 */
interface LaidOutRule {
  readonly key: string;
  summary: string;
  readonly attributes: RuleAttributes;
  /** Where the rule comes from; the first one's position is the rule's (none for the fixed rules). */
  readonly origins?: readonly SourceRef[];
  /** The ASGs the rule names (their resources' addresses). */
  readonly dependsOn?: readonly string[];
  /** An allow rule opens access. */
  readonly widens?: true;
}

/** A laid-out rule: its `key`, `attributes`, `origins` and `dependsOn` as render returns them. */
function laidOutRule(
  name: string,
  attributes: DraftAttributes,
  origins: readonly SourceRef[],
  dependsOn: readonly string[],
): LaidOutRule {
  // The common case (an allow rule from the model, between ASGs) as one literal: V8 gives an
  // object literal room for exactly its own fields, so each field added after it costs a separate
  // property array, an object more per rule for the garbage collector to copy.
  if (origins.length > 0 && dependsOn.length > 0 && attributes.access === 'allow')
    return { key: name, summary: '', attributes, origins, dependsOn, widens: true };
  const r: { -readonly [K in keyof LaidOutRule]: LaidOutRule[K] } = { key: name, summary: '', attributes };
  if (origins.length > 0) r.origins = origins;
  if (dependsOn.length > 0) r.dependsOn = dependsOn;
  if (attributes.access === 'allow') r.widens = true;
  return r;
}

/** An application rule of the rule collection group. */
interface LaidOutAppRule {
  readonly name: string;
  readonly attrs: AppRuleAttributes;
  readonly origins: readonly SourceRef[];
}

/** A laid-out rule with its priority. */
export type PlacedRule = Readonly<LaidOutRule>;

/** The kit's `slotHash`, each key's computed once. */
function memoHomes(): (key: string) => number {
  const homes = new Map<string, number>();
  return (key) => {
    let h = homes.get(key);
    if (h === undefined) homes.set(key, (h = slotHash(key)));
    return h;
  };
}

/** Code-unit order of rule names. */
const byKey = (a: { readonly key: string }, b: { readonly key: string }): number =>
  a.key < b.key ? -1 : a.key > b.key ? 1 : 0;

/** One NSG's laid-out rules by direction and band (fixed: the deny-all and load-balancer rules), in layout order. */
interface NsgGroups {
  readonly inDeny: LaidOutRule[];
  readonly inAllow: LaidOutRule[];
  readonly inFixed: LaidOutRule[];
  readonly outDeny: LaidOutRule[];
  readonly outAllow: LaidOutRule[];
  readonly outFixed: LaidOutRule[];
}

function emptyGroups(): NsgGroups {
  return { inDeny: [], inAllow: [], inFixed: [], outDeny: [], outAllow: [], outFixed: [] };
}

/** Everything render and validate need, computed once. */
export interface AzureLayout {
  readonly asgs: readonly { readonly segment: string; readonly name: string; readonly pos: SourcePos }[];
  /** The target's NSGs (sorted by name), each with its rules and their priorities, sorted by name. */
  readonly nsgs: readonly { readonly name: string; readonly rules: readonly PlacedRule[] }[];
  /** Every NSG's rules, NSG after NSG (with one `nsg`: that NSG's rules). */
  readonly rules: readonly PlacedRule[];
  readonly appRules: readonly LaidOutAppRule[];
  /** Things Azure cannot express, and exhausted priority bands. */
  readonly problems: readonly Diagnostic[];
}

function sanitize(s: string): string {
  return s.replace(/[^A-Za-z0-9_.-]+/g, '-');
}

/** A rule name ≤ 80 characters: long names keep a readable head and get a hash tail (still unique). */
export function ruleName(parts: readonly string[]): string {
  return ruleNameOf(parts.filter((p) => p !== '').join('-'));
}

/**
 * `ruleName` of parts already joined with `-` (none empty): the render's hot path builds the text
 * with a template instead of two arrays per rule. Sanitizing the joined text equals joining the
 * sanitized parts, since `-` is a valid character.
 */
function ruleNameOf(joined: string): string {
  return shortRuleName(sanitize(joined));
}

/** `ruleNameOf` of a text already sanitized. */
function shortRuleName(full: string): string {
  if (full.length <= NAME_MAX) return full;
  const tail = createHash('sha256').update(full).digest('hex').slice(0, 8);
  return `${full.slice(0, NAME_MAX - 9).replace(/[.-]+$/, '')}-${tail}`;
}

function description(model: string, text: string): string {
  const d = `bulkhead ${model}: ${text}`;
  return d.length <= DESCRIPTION_MAX ? d : `${d.slice(0, DESCRIPTION_MAX - 1)}…`;
}

function serviceLabel(s: PortMatch): string {
  switch (s.kind) {
    case 'all':
      return 'all';
    case 'ports':
      return s.from === s.to ? `${s.protocol}-${s.from}` : `${s.protocol}-${s.from}-${s.to}`;
    case 'icmp':
      return s.protocol;
    case 'protocol':
      return `proto-${s.number}`;
    default:
      return assertNever(s);
  }
}

/**
 * The content of an NSG rule between a segment's own side (its ASG, or `*`) and a peer: inbound
 * rules go from the peer to the segment, outbound rules the other way.
 */
function nsgRuleContent(
  access: 'allow' | 'deny',
  inbound: boolean,
  svc: { readonly protocol: string; readonly ports: readonly string[] },
  own: readonly string[],
  peer: readonly string[],
  text: string,
): DraftAttributes {
  return {
    access,
    direction: inbound ? 'inbound' : 'outbound',
    protocol: svc.protocol,
    source: inbound ? peer : own,
    sourcePorts: ANY_PORT,
    destination: inbound ? own : peer,
    destinationPorts: svc.ports,
    description: text,
    priority: 0,
  };
}

/** Every rule's source ports: one list for all of them (rules are plain data, never mutated). */
const ANY_PORT: readonly string[] = ['*'];

/** Protocol and destination ports of a match, or why an NSG cannot express it. */
function nsgService(s: PortMatch): { protocol: string; ports: string[] } | { problem: string } {
  switch (s.kind) {
    case 'all':
      return { protocol: '*', ports: ['*'] };
    case 'ports':
      if (s.protocol === 'sctp')
        return { problem: 'Azure NSG rules cannot match SCTP (protocols: Tcp, Udp, Icmp, Esp, Ah, *)' };
      return { protocol: s.protocol, ports: [canonicalPort(`${s.from}-${s.to}`)] };
    case 'icmp':
      if (s.type !== null)
        return { problem: `Azure NSG rules cannot match ICMP types or codes (only all of ${s.protocol})` };
      return { protocol: 'icmp', ports: ['*'] };
    case 'protocol': {
      // The kit names the number (6 → tcp, 50 → esp); an NSG rule takes only a few protocols, each with every port.
      const r = canonicalProtocol(String(s.number));
      return r !== '*' && isNsgProtocol(r)
        ? { protocol: r, ports: ['*'] }
        : { problem: `Azure NSG rules cannot match IP protocol ${s.number} (protocols: Tcp, Udp, Icmp, Esp, Ah, *)` };
    }
    default:
      return assertNever(s);
  }
}

/** One rule side per address family (Azure rejects IPv4 and IPv6 prefixes in one rule). */
type Side = {
  readonly values: readonly string[];
  readonly suffix: string;
  readonly asg?: string;
  /** Set when the values are prefixes of one address family (not an ASG, `*` or a service tag). */
  readonly family?: 'ipv4' | 'ipv6';
};

function families(ipv4: readonly string[], ipv6: readonly string[]): Side[] {
  const both = ipv4.length > 0 && ipv6.length > 0;
  // Through read's own canonicalizer: what render writes is exactly what read gives back.
  const canon = (list: readonly string[]) => [...new Set(list.map(canonicalPrefix))].sort();
  return [
    ...(ipv4.length > 0 ? [{ values: canon(ipv4), suffix: both ? 'v4' : '', family: 'ipv4' as const }] : []),
    ...(ipv6.length > 0 ? [{ values: canon(ipv6), suffix: both ? 'v6' : '', family: 'ipv6' as const }] : []),
  ];
}

/**
 * Lays out the rules of a target: names, attributes, bands, then priorities. Pure; `render` and
 * `validate` both start here, so they never disagree.
 */
export function layoutAzure(rules: RuleSet, target: TargetSpec, ctx: RenderContext): AzureLayout {
  const cfg = azureConfig(target);
  const model = rules.model.name;
  const rg = cfg.resourceGroup.toLowerCase();
  const problems: Diagnostic[] = [];
  const nsgNames = targetNsgs(cfg);
  const nsgOf = nsgOfSegments(cfg, rules.segments);
  // A RuleSet that did not come through model validation may hold a segment no NSG lists.
  const unplaced = new Set<string>();
  const nsgOfSegment = (segment: string, pos: SourcePos | undefined): string | undefined => {
    const n = nsgOf.get(segment);
    if (n === undefined && !unplaced.has(segment)) {
      unplaced.add(segment);
      problems.push(
        error(
          'azure-nsgs-missing',
          `segment ${segment} is in none of target ${target.name}'s nsgs, so its rules have no NSG: add it to the NSG on its subnet`,
          pos,
        ),
      );
    }
    return n;
  };
  const asgRefs = new Map<string, string>();
  const asgRefOf = (segment: string): string => {
    let ref = asgRefs.get(segment);
    if (ref === undefined) asgRefs.set(segment, (ref = `asg:${rg}/${asgName(model, segment).toLowerCase()}`));
    return ref;
  };
  const asgAddress = (segment: string) => `${target.name}.${AZURE_TYPES.asg}.${asgName(model, segment)}`;
  // The rules of each NSG, by direction and band, in the order laid out: placement takes each group
  // as it stands instead of six filters over the NSG's rules (at 10,000 segments that was a pass
  // per NSG, direction and band over every rule object, cache misses all the way).
  const byNsg = new Map<string, NsgGroups>(nsgNames.map((n) => [n, emptyGroups()]));
  const lay = (nsg: string, band: 'deny' | 'allow' | 'fixed', r: LaidOutRule): void => {
    const g = byNsg.get(nsg)!;
    const inbound = r.attributes.direction === 'inbound';
    (band === 'deny'
      ? inbound
        ? g.inDeny
        : g.outDeny
      : band === 'allow'
        ? inbound
          ? g.inAllow
          : g.outAllow
        : inbound
          ? g.inFixed
          : g.outFixed
    ).push(r);
  };
  const appRules: LaidOutAppRule[] = [];
  // The sorted, distinct ASG addresses a rule depends on (its segment's and its peer's): a model has
  // few segments but one rule per intent, so the addresses are built once per segment and the
  // one- or two-element list without a Set and a sort per rule.
  const asgAddresses = new Map<string, string>();
  const asgAddressOf = (segment: string): string => {
    let a = asgAddresses.get(segment);
    if (a === undefined) asgAddresses.set(segment, (a = asgAddress(segment)));
    return a;
  };
  // At estate scale (440,000 rules at 10,000 segments) the render's time is mostly the garbage
  // collector's, so what many rules share is built once and shared, never copied per rule: the
  // dependsOn list per (segment, peer), the own side per segment, the peer sides per peer, the
  // service per label. Nothing downstream mutates these arrays (rules are plain data).
  const dependsOnCache = new Map<string, Map<string, readonly string[]>>();
  const NO_DEPS: readonly string[] = [];
  const dependsOnAsgs = (a: string | null, b: string | undefined): readonly string[] => {
    const x = a === null ? undefined : asgAddressOf(a);
    const y = b === undefined ? undefined : asgAddressOf(b);
    if (x === undefined) return y === undefined ? NO_DEPS : [y];
    let byPeer = dependsOnCache.get(x);
    if (byPeer === undefined) dependsOnCache.set(x, (byPeer = new Map()));
    const key = y ?? '';
    let list = byPeer.get(key);
    if (list === undefined) byPeer.set(key, (list = y === undefined || y === x ? [x] : x < y ? [x, y] : [y, x]));
    return list;
  };
  const ownSides = new Map<string, readonly string[]>();
  const ownSideOf = (segment: string): readonly string[] => {
    let own = ownSides.get(segment);
    if (own === undefined) ownSides.set(segment, (own = [asgRefOf(segment)]));
    return own;
  };
  const ANY_SIDE: readonly string[] = ['*'];
  // Sides of a peer that depend on the peer alone (not fqdns: their addresses and warnings are per use).
  const sidesCache = new Map<string, Side[]>();
  const peerSides = (peer: Endpoint | { kind: 'any' }, pos: SourcePos | undefined): Side[] | null => {
    if (peer.kind === 'fqdns') return peerSidesUncached(peer, pos);
    // By content, not entity name: the compiler narrows an entity per use (ICMP meets only the
    // IPv4 half of `internet`), so one name can stand for different address lists.
    const key = sidesKey(peer);
    if (key === undefined) return peerSidesUncached(peer, pos);
    let sides = sidesCache.get(key);
    if (sides === undefined) {
      const built = peerSidesUncached(peer, pos);
      if (built === null) return null; // reported per use
      sidesCache.set(key, (sides = built));
    }
    return sides;
  };
  const sidesKey = (peer: Endpoint | { kind: 'any' }): string | undefined => {
    switch (peer.kind) {
      case 'any':
        return '';
      case 'segment':
        return `s:${peer.name}`;
      case 'cidrs':
        return `c:${peer.builtin ?? ''}:${peer.ipv4.join(' ')}:${peer.ipv6.join(' ')}`;
      case 'cloud': {
        const b = peer.azure;
        return b ? `k:${b.serviceTag ?? ''}:${b.ipv4.join(' ')}:${b.ipv6.join(' ')}` : undefined;
      }
      default:
        return undefined;
    }
  };
  const peerSidesUncached = (peer: Endpoint | { kind: 'any' }, pos: SourcePos | undefined): Side[] | null => {
    switch (peer.kind) {
      case 'any':
        return [{ values: ['*'], suffix: '' }];
      case 'segment':
        return [{ values: [asgRefOf(peer.name)], suffix: '', asg: peer.name }];
      case 'cidrs':
        if (peer.builtin === 'internet') return [{ values: ['Internet'], suffix: '' }];
        return families(peer.ipv4, peer.ipv6);
      case 'cloud': {
        const b = peer.azure;
        if (!b) {
          problems.push(
            error(
              'azure-entity-unbound',
              `entity ${peer.entity} has no azure binding (serviceTag or cidrs), so target ${target.name} cannot use it`,
              pos,
            ),
          );
          return null;
        }
        if (b.serviceTag) return [{ values: [b.serviceTag], suffix: '' }];
        return families(b.ipv4, b.ipv6);
      }
      case 'fqdns': {
        const v4 = new Set<string>(),
          v6 = new Set<string>();
        for (const f of peer.fqdns) {
          for (const a of ctx.resolved.get(f)?.ipv4 ?? []) v4.add(a);
          for (const a of ctx.resolved.get(f)?.ipv6 ?? []) v6.add(a);
        }
        if (v4.size === 0 && v6.size === 0) {
          problems.push(
            warning(
              'azure-fqdn-unresolved',
              `no address resolved for ${peer.entity} (${peer.fqdns.join(', ')}): the NSG of target ${target.name} gets no egress rule toward it, so the deny-all blocks it`,
              pos,
            ),
          );
        }
        return families([...v4], [...v6]);
      }
      default:
        return assertNever(peer);
    }
  };

  // nsgService per service label (a label names one protocol and port range, except ICMP, whose
  // label leaves out the type, so ICMP is not cached).
  const services = new Map<string, ReturnType<typeof nsgService>>();
  const serviceOf = (m: PortMatch): ReturnType<typeof nsgService> => {
    if (m.kind === 'icmp') return nsgService(m);
    const label = serviceLabel(m);
    let svc = services.get(label);
    if (svc === undefined) services.set(label, (svc = nsgService(m)));
    return svc;
  };
  // The compiler interns services and peers (a 10,000-segment model has a handful of service
  // objects and one peer object per segment or entity among 440,000 intents), so what the layout
  // derives from them is looked up by object first: no label or content key built per intent.
  const byService = new Map<PortMatch, { readonly svc: ReturnType<typeof nsgService>; readonly label: string }>();
  const serviceAndLabel = (m: PortMatch) => {
    let v = byService.get(m);
    // The label sanitized (it is only used in names).
    if (v === undefined) byService.set(m, (v = { svc: serviceOf(m), label: flat(sanitize(serviceLabel(m))) }));
    return v;
  };
  const sanitizedParts = new Map<string, string>();
  const sanitizedPart = (part: string): string => {
    let v = sanitizedParts.get(part);
    if (v === undefined) sanitizedParts.set(part, (v = flat(sanitize(part))));
    return v;
  };
  const byPeer = new Map<Endpoint, Side[]>();
  const peerSidesOf = (peer: Endpoint, pos: SourcePos | undefined): Side[] | null => {
    const sides = byPeer.get(peer);
    if (sides !== undefined) return sides;
    const built = peerSides(peer, pos);
    // Not kept: FQDN sides (their addresses and warnings are per use) and what could not be built (reported per use).
    if (built !== null && peer.kind !== 'fqdns') byPeer.set(peer, built);
    return built;
  };
  // description(model, text) with its head built once: one concatenation per intent.
  const descriptionHead = `bulkhead ${model}: `;
  const descriptionOf = (text: string): string => {
    const d = descriptionHead + text;
    return d.length <= DESCRIPTION_MAX ? d : `${d.slice(0, DESCRIPTION_MAX - 1)}…`;
  };
  // What the rules of one segment share: its NSG, its own side, its dependsOn lists by peer. The
  // compiler emits a segment's intents one after another, so the last segment's is kept at hand.
  interface SegmentRules {
    readonly own: readonly string[];
    /** `<model>-in-<segment>-from-` and `<model>-out-<segment>-to-`, sanitized: the head of each allow rule's name. */
    readonly inHead: string;
    readonly outHead: string;
    /** The segment's ASG address (a dependency of each of its rules). */
    readonly address: string;
    /** Where its allow rules are filed: its NSG's groups (none when no NSG lists the segment). */
    readonly groups: NsgGroups | undefined;
    readonly dependsOn: Map<string, readonly string[]>;
  }
  const segmentRules = new Map<string, SegmentRules>();
  let lastSegment: { readonly name: string; readonly rules: SegmentRules } | undefined;
  const segmentRulesOf = (segment: string, pos: SourcePos | undefined): SegmentRules => {
    if (lastSegment?.name === segment) return lastSegment.rules;
    let r = segmentRules.get(segment);
    if (r === undefined) {
      const nsg = nsgOfSegment(segment, pos);
      r = {
        own: ownSideOf(segment),
        inHead: flat(sanitize(`${model}-in-${segment}-from-`)),
        outHead: flat(sanitize(`${model}-out-${segment}-to-`)),
        address: asgAddressOf(segment),
        groups: nsg === undefined ? undefined : byNsg.get(nsg),
        dependsOn: new Map(),
      };
      segmentRules.set(segment, r);
    }
    lastSegment = { name: segment, rules: r };
    return r;
  };

  // Allowed flows: one NSG rule per intent (and per address family).
  for (const intent of rules.rules) {
    const pos = intent.origins[0]?.pos;
    const { svc, label } = serviceAndLabel(intent.service);
    if ('problem' in svc) {
      problems.push(
        error(
          'azure-unsupported-service',
          `${svc.problem}: ${intent.origins[0]?.label ?? intent.id} (target ${target.name})`,
          pos,
        ),
      );
      continue;
    }
    if (intent.peer.kind === 'fqdns') layoutAppRule(intent, pos);
    const sides = peerSidesOf(intent.peer, pos);
    if (!sides) continue;
    // A segment's rules, inbound and outbound, live in the NSG on its subnet.
    const here = segmentRulesOf(intent.segment, pos);
    const groups = here.groups;
    if (groups === undefined) continue;
    const own = here.own;
    const inbound = intent.direction === 'ingress';
    icmpBothFamilies(intent, sides, pos);
    const peerName = intent.peer.kind === 'segment' ? intent.peer.name : intent.peer.entity;
    const text = descriptionOf(intent.origins[0]?.label ?? intent.id);
    // The sanitized middle of the names: `<peer>-<service>` (a model names few peers and services).
    const tail = model === '' ? '' : sanitizedPart(peerName) + '-' + label;
    for (const side of sides) {
      // ruleName([model, in|out, segment, from|to, peer, service, suffix]) without the arrays (only
      // the suffix can be empty; a model's name never is once it compiles, but stay exact if so),
      // from parts sanitized once each: sanitizing the joined text equals joining the sanitized
      // parts (`-` is valid, so no run of replaced characters spans two parts), and the regex per
      // rule was a tenth of the layout.
      const name =
        model === ''
          ? ruleName([
              model,
              inbound ? 'in' : 'out',
              intent.segment,
              inbound ? 'from' : 'to',
              peerName,
              label,
              side.suffix,
            ])
          : shortRuleName(
              flat((inbound ? here.inHead : here.outHead) + tail + (side.suffix === '' ? '' : `-${side.suffix}`)),
            );
      // dependsOnAsgs(segment, peer) without its two maps: the segment's own map, by peer.
      const peerKey = side.asg ?? '';
      let dependsOn = here.dependsOn.get(peerKey);
      if (dependsOn === undefined) {
        const x = here.address;
        const y = side.asg ? asgAddressOf(side.asg) : undefined;
        dependsOn = y === undefined || y === x ? [x] : x < y ? [x, y] : [y, x];
        here.dependsOn.set(peerKey, dependsOn);
      }
      const rule = laidOutRule(
        name,
        nsgRuleContent('allow', inbound, svc, own, side.values, text),
        intent.origins,
        dependsOn,
      );
      // lay(nsg, 'allow', rule), with the segment's groups at hand.
      (inbound ? groups.inAllow : groups.outAllow).push(rule);
    }
  }

  /**
   * An NSG's `Icmp` matches ICMP and ICMPv6 alike. Toward addresses of one family the rule is exact
   * (an IPv4 prefix sends no ICMPv6); toward an ASG or a service tag it also opens the other
   * family, which the model did not allow: say so rather than hide it.
   */
  function icmpBothFamilies(intent: RuleIntent, sides: readonly Side[], pos: SourcePos | undefined): void {
    if (intent.service.kind !== 'icmp' || sides.every((s) => s.family !== undefined)) return;
    const other = intent.service.protocol === 'icmp' ? 'icmpv6' : 'icmp';
    problems.push(
      warning(
        'azure-icmp-both-families',
        `${intent.origins[0]?.label ?? intent.id}: an Azure NSG rule's Icmp matches ICMP and ICMPv6 alike, so on target ${target.name} ` +
          `this rule also admits ${other} between the same ends (the model allows only ${intent.service.protocol})`,
        pos,
      ),
    );
  }

  function layoutAppRule(intent: RuleIntent, pos: SourcePos | undefined): void {
    if (intent.peer.kind !== 'fqdns' || intent.direction !== 'egress') return;
    if (!cfg.firewallPolicy) {
      problems.push(
        error(
          'azure-fqdn-needs-firewall-policy',
          `segment ${intent.segment} may reach ${intent.peer.entity} (${intent.peer.fqdns.join(', ')}) by name, but Azure NSGs cannot filter by name: ` +
            `set targets.${target.name}.azure.firewallPolicy to an Azure Firewall Policy in resource group ${cfg.resourceGroup} ` +
            `(Bulkhead adds the application rules as rule collection group ${ruleCollectionGroupName(model)}; route the segment's egress through the firewall)`,
          pos,
        ),
      );
      return;
    }
    const s = intent.service;
    if (s.kind !== 'ports' || s.protocol !== 'tcp' || s.from !== s.to || s.from < 1 || s.from > 64000) {
      problems.push(
        error(
          'azure-fqdn-ports',
          `FQDN egress to ${intent.peer.entity} on Azure needs single TCP ports 1-64000 (Firewall Policy application rules are HTTP/HTTPS): ${intent.origins[0]?.label ?? intent.id}`,
          pos,
        ),
      );
      return;
    }
    appRules.push({
      name: ruleName([model, intent.segment, intent.peer.entity, `tcp-${s.from}`]),
      attrs: {
        protocols: [`${s.from === 80 ? 'http' : 'https'}:${s.from}`],
        targetFqdns: [...intent.peer.fqdns].sort(),
        // The firewall sees addresses, not ASGs; the segment is enforced by the NSG rule.
        sourceAddresses: ['*'],
        description: description(model, intent.origins[0]?.label ?? intent.id),
      },
      origins: intent.origins,
    });
  }

  // Guardrail denies: lowest priority numbers.
  for (const deny of rules.denies) layoutDeny(deny);
  function layoutDeny(deny: GuardrailDeny): void {
    const pos = deny.origins[0]?.pos;
    const inbound = deny.direction === 'ingress';
    const sides = peerSides(deny.peer, pos);
    if (!sides) return;
    const protected_ = deny.allSegments ? [null] : deny.segments;
    for (const service of deny.services) {
      const svc = nsgService(service);
      if ('problem' in svc) {
        problems.push(
          error(
            'azure-unsupported-service',
            `${svc.problem}: guardrail ${deny.guardrail} (target ${target.name})`,
            pos,
          ),
        );
        continue;
      }
      for (const segment of protected_) {
        const own = segment === null ? ANY_SIDE : ownSideOf(segment);
        // A deny of every segment stands in every NSG; a segment's deny in its own.
        const nsgs = segment === null ? nsgNames : [nsgOfSegment(segment, pos)].filter((n) => n !== undefined);
        for (const nsg of nsgs)
          for (const side of sides) {
            lay(
              nsg,
              'deny',
              laidOutRule(
                ruleName([
                  model,
                  'deny',
                  deny.guardrail,
                  inbound ? 'in' : 'out',
                  segment ?? '',
                  serviceLabel(service),
                  side.suffix,
                ]),
                nsgRuleContent(
                  'deny',
                  inbound,
                  svc,
                  own,
                  side.values,
                  description(model, `guardrail ${deny.guardrail}`),
                ),
                deny.origins,
                dependsOnAsgs(segment || null, side.asg || undefined),
              ),
            );
          }
      }
    }
  }

  // The default-deny pair and the load-balancer allow the inbound deny would otherwise hide.
  const fixed = (
    name: string,
    priority: number,
    access: 'allow' | 'deny',
    direction: 'inbound' | 'outbound',
    source: string,
    text: string,
  ): LaidOutRule =>
    laidOutRule(
      ruleName([model, name]),
      {
        access,
        direction,
        protocol: '*',
        source: [source],
        sourcePorts: ['*'],
        destination: ['*'],
        destinationPorts: ['*'],
        description: description(model, text),
        priority,
      },
      [],
      [],
    );
  for (const nsg of nsgNames)
    for (const r of [
      fixed(
        'deny-all-in',
        DENY_ALL_PRIORITY,
        'deny',
        'inbound',
        '*',
        'default deny inbound (Azure allows all VNet traffic by default)',
      ),
      fixed(
        'deny-all-out',
        DENY_ALL_PRIORITY,
        'deny',
        'outbound',
        '*',
        'default deny outbound (Azure allows VNet and Internet egress by default)',
      ),
      fixed(
        'allow-azure-lb-in',
        LOAD_BALANCER_PRIORITY,
        'allow',
        'inbound',
        'AzureLoadBalancer',
        'load balancer health probes (default rule 65001, hidden by the deny-all)',
      ),
    ])
      lay(nsg, 'fixed', r);

  const asgs = rules.segments.map((s) => ({ segment: s.name, name: asgName(model, s.name), pos: s.pos }));
  appRules.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return placeAzure(
    {
      target,
      nsgNames,
      byNsg,
      asgs,
      appRules: appRules.filter((r, i) => i === 0 || appRules[i - 1]!.name !== r.name),
      problems,
    },
    ctx.live,
  );
}

/** A layout's rules before their priorities: what `placeAzure` places. */
interface UnplacedLayout {
  readonly target: TargetSpec;
  readonly nsgNames: readonly string[];
  readonly byNsg: ReadonlyMap<string, NsgGroups>;
  readonly asgs: AzureLayout['asgs'];
  readonly appRules: readonly LaidOutAppRule[];
  /** What laying the rules out found (placement adds its own). */
  readonly problems: readonly Diagnostic[];
}

/** The rules each layout placed, for `placedForLive`. */
const unplacedOf = new WeakMap<AzureLayout, UnplacedLayout>();

/**
 * `layout`'s rules placed around the live state `live`: what `layoutAzure` with that live state
 * gives (test/providers/azure/render.test.ts compares them), without laying every rule out again.
 * A plan validates each target before its state is read (validate's layout has no live state) and
 * then renders with it: at 3,000 segments the second layout was 0.65 s of a 12 s plan, of which
 * placement is about half. Takes over `layout`'s rule objects (their priorities are rewritten), so
 * `layout` must not be used after; undefined for a layout `layoutAzure` did not make.
 */
export function placedForLive(layout: AzureLayout, live: ProviderState | undefined): AzureLayout | undefined {
  const unplaced = unplacedOf.get(layout);
  return unplaced && placeAzure(unplaced, live);
}

/**
 * Priorities: per NSG, direction and band, hash-placed; with a live state, live priorities kept
 * and every priority in use in that NSG (kept owned rules, unowned rules) skipped.
 */
function placeAzure(unplaced: UnplacedLayout, liveState: ProviderState | undefined): AzureLayout {
  const { target, byNsg } = unplaced;
  const problems = [...unplaced.problems];
  const live = liveState ? livePriorities(liveState, target) : null;

  function place(r: LaidOutRule, priority: number): LaidOutRule {
    // `| 0` (exact: priorities are 100-4096) stores a small integer. The kit computes slots from a
    // 32-bit hash, so its numbers are V8 doubles; one double stored here turned the field of every
    // rule's attributes into a boxed double, V8 migrating each object already made on its next
    // write: at 3,000 segments a tenth of the layout. The JSON text is the same either way.
    (r.attributes as DraftAttributes).priority = priority | 0;
    return r;
  }

  function placeNsg(nsg: string, groups: NsgGroups): PlacedRule[] {
    const liveHere = live?.get(nsg.toLowerCase()) ?? (live ? EMPTY_LIVE : null);
    const placed: PlacedRule[] = [];
    for (const direction of ['inbound', 'outbound'] as const) {
      const inbound = direction === 'inbound';
      for (const band of ['deny', 'allow'] as const) {
        const group =
          band === 'deny' ? (inbound ? groups.inDeny : groups.outDeny) : inbound ? groups.inAllow : groups.outAllow;
        // No rules, no slots to find (and nothing can overflow).
        if (group.length === 0) continue;
        const range = band === 'deny' ? DENY_BAND : ALLOW_BAND;
        // Sorted by name first (stable, like the sort of `placed` below): the allocator's own sort of
        // the names then finds them in order, and the sort of `placed` merges six sorted runs
        // instead of sorting from scratch; the order of `placed` after its sort is the same.
        group.sort(byKey);
        // Duplicates (names that collide, reported below) are one key to the allocator, which takes them once.
        const names = group.map((r) => r.key);
        // The kit's stable slots (providers/kit/slots.ts): a live rule keeps its priority, adding or
        // removing one never moves another, new names hash-placed around every priority in use.
        // With a live state the names are placed twice (plainly, then around what is in use): each
        // name's sha256 home is computed once for both.
        const hash = liveHere ? memoHomes() : undefined;
        const plain = allocateSlots({ range, keys: names, hash });
        let slots = plain.kind === 'ok' ? plain.slots : null;
        if (slots && liveHere) {
          const keep = new Map<string, number>();
          for (const n of names) {
            const p = liveHere.owned.get(n.toLowerCase());
            if (p && p.direction === direction) keep.set(n, p.priority);
          }
          // Only when the unowned rules leave too little room does placement fall back to the
          // plain hash slots (the apply then stops at SecurityRuleConflict, naming the rule).
          const kept = allocateSlots({ range, keys: names, live: keep, reserved: liveHere.reserved[direction], hash });
          if (kept.kind === 'ok') slots = kept.slots;
        }
        if (!slots) {
          problems.push(
            error(
              'azure-priority-exhausted',
              `NSG ${nsg} (target ${target.name}): ${new Set(names).size} ${direction} ${band === 'deny' ? 'guardrail deny' : 'allow'} rules do not fit the ${range.to - range.from + 1} priorities ${range.from}-${range.to} Bulkhead uses for them (Azure priorities are 100-4096, unique per direction)`,
              target.pos,
            ),
          );
          continue;
        }
        for (const r of group) placed.push(place(r, slots.get(r.key)!));
      }
      // Their priorities are fixed, set when laid out.
      for (const r of inbound ? groups.inFixed : groups.outFixed) placed.push(r);
    }
    placed.sort(byKey);
    // Two intents that sanitize to one name would collide in the NSG; keep the first, report the rest.
    return placed.filter((r, i) => {
      if (i > 0 && placed[i - 1]!.key === r.key) {
        problems.push(
          error(
            'azure-rule-name-collision',
            `two rules of target ${target.name} get the name ${r.key}; rename a segment or entity`,
            r.origins?.[0]?.pos,
          ),
        );
        return false;
      }
      return true;
    });
  }

  const nsgs = unplaced.nsgNames.map((nsg) => ({ name: nsg, rules: placeNsg(nsg, byNsg.get(nsg)!) }));
  const layout: AzureLayout = {
    asgs: unplaced.asgs,
    nsgs,
    // Read by tests only: built when asked, not a second list of every rule per layout.
    get rules() {
      return nsgs.length === 1 ? nsgs[0]!.rules : nsgs.flatMap((n) => n.rules);
    },
    appRules: unplaced.appRules,
    problems,
  };
  unplacedOf.set(layout, unplaced);
  return layout;
}

/** Priorities held by rules of the NSG the model does not own, per direction (`ProviderState.reserved`). */
export interface ReservedPriorities {
  readonly inbound: ReadonlySet<number>;
  readonly outbound: ReadonlySet<number>;
}

/**
 * The `reserved` facts of an Azure state: `{ nsgPriorities: { inbound: number[], outbound: number[] } }`,
 * the sorted priorities of the NSG's unowned rules; with `nsgs`, one such entry per NSG
 * (lower-case name) under `nsgPrioritiesByNsg`. Built by read, consumed by render.
 */
export function reservedJson(unowned: readonly { readonly direction: string; readonly priority: number }[]): Json {
  return { nsgPriorities: prioritiesJson(unowned) };
}

/** `reservedJson` for several NSGs: NSG name → its unowned rules. */
export function reservedJsonByNsg(
  unowned: ReadonlyMap<string, readonly { readonly direction: string; readonly priority: number }[]>,
): Json {
  const byNsg: { [k: string]: Json } = {};
  for (const name of [...unowned.keys()].sort()) byNsg[name.toLowerCase()] = prioritiesJson(unowned.get(name)!);
  return { nsgPrioritiesByNsg: byNsg };
}

function prioritiesJson(unowned: readonly { readonly direction: string; readonly priority: number }[]): Json {
  const of = (d: string) =>
    [...new Set(unowned.filter((r) => r.direction === d).map((r) => r.priority))].sort((a, b) => a - b);
  return { inbound: of('inbound'), outbound: of('outbound') };
}

/**
 * Parses what `reservedJson` (no `nsg`) or `reservedJsonByNsg` (the NSG named `nsg`) wrote
 * (tolerant: anything else reserves nothing).
 */
export function reservedPriorities(reserved: Json | undefined, nsg?: string): ReservedPriorities {
  const obj = (v: Json | undefined): { readonly [k: string]: Json } | undefined =>
    v !== null && v !== undefined && typeof v === 'object' && !Array.isArray(v)
      ? (v as { readonly [k: string]: Json })
      : undefined;
  const root = obj(reserved);
  const np =
    nsg === undefined ? obj(root?.['nsgPriorities']) : obj(obj(root?.['nsgPrioritiesByNsg'])?.[nsg.toLowerCase()]);
  const get = (d: 'inbound' | 'outbound'): Set<number> => {
    const list = np?.[d];
    return new Set(Array.isArray(list) ? list.filter((x): x is number => typeof x === 'number') : []);
  };
  return { inbound: get('inbound'), outbound: get('outbound') };
}

/** What read found in one NSG: its owned rules' live priorities (by lower-case name) and the reserved ones. */
interface LiveNsg {
  readonly owned: ReadonlyMap<string, { direction: string; priority: number }>;
  readonly reserved: ReservedPriorities;
}

const EMPTY_LIVE: LiveNsg = { owned: new Map(), reserved: { inbound: new Set(), outbound: new Set() } };

/** From a read state, per NSG (lower-case name): the owned rules' live priorities and the reserved ones. */
function livePriorities(state: ProviderState, target: TargetSpec): Map<string, LiveNsg> {
  const cfg = azureConfig(target);
  const out = new Map<string, LiveNsg>();
  for (const nsgName of targetNsgs(cfg)) {
    const key = nsgName.toLowerCase();
    const owned = new Map<string, { direction: string; priority: number }>();
    const nsg = state.resources.find((r) => r.type === AZURE_TYPES.nsg && r.name.toLowerCase() === key);
    for (const c of nsg?.children ?? []) {
      const { direction, priority } = c.attributes;
      if (typeof direction === 'string' && typeof priority === 'number')
        owned.set(c.key.toLowerCase(), { direction, priority });
    }
    out.set(key, { owned, reserved: reservedPriorities(state.reserved, hasNsgMap(cfg) ? nsgName : undefined) });
  }
  return out;
}

function shortAddr(v: string): string {
  return v.startsWith('asg:') ? v.slice(v.indexOf('/') + 1) : v;
}

/** One plan line for a rule. */
export function ruleSummary(a: RuleAttributes): string {
  return ruleSummaryOf(a, (list) => list.map(shortAddr).join(','));
}

function ruleSummaryOf(
  a: RuleAttributes,
  sideText: (list: readonly string[]) => string,
  portsText: (list: readonly string[]) => string = (list) => list.join(','),
): string {
  const ports = portsText(a.destinationPorts);
  const svc =
    a.protocol === '*' ? (ports === '*' ? 'all' : `*/${ports}`) : ports === '*' ? a.protocol : `${a.protocol}/${ports}`;
  return `${a.direction} ${a.access} ${svc} ${sideText(a.source)} -> ${sideText(a.destination)} (priority ${a.priority})`;
}

/** One plan line for an application rule. */
export function appRuleSummary(a: AppRuleAttributes): string {
  return `application allow ${a.protocols.join(',')} from ${a.sourceAddresses.join(',')} to ${a.targetFqdns.join(',')}`;
}

/** The desired objects of one target, sorted by address. */
export function renderAzure(
  rules: RuleSet,
  target: TargetSpec,
  ctx: RenderContext,
  layout: AzureLayout = layoutAzure(rules, target, ctx),
): Resource[] {
  const cfg = azureConfig(target);
  const model = rules.model.name;
  const out: Resource[] = [];
  // ruleSummary with each address list's text built once: the layout shares the lists between
  // rules (one per segment, peer or entity), so a few thousand texts serve 440,000 rules.
  const sideTexts = new Map<readonly string[], string>();
  const sideText = (list: readonly string[]): string => {
    let t = sideTexts.get(list);
    if (t === undefined) sideTexts.set(list, (t = list.map(shortAddr).join(',')));
    return t;
  };
  // The same for the port lists (one per service in the layout).
  const portTexts = new Map<readonly string[], string>();
  const portsText = (list: readonly string[]): string => {
    let t = portTexts.get(list);
    if (t === undefined) portTexts.set(list, (t = list.join(',')));
    return t;
  };
  // The head of the plan line (`inbound allow tcp/443 `) by the rule's port list (the layout
  // shares one per service) and then by direction, access and protocol; and the tail per priority.
  // A line is then five texts joined: the generic ruleSummaryOf built the service part and the
  // priority's digits again for each of 440,000 rules.
  const heads = new Map<readonly string[], Map<string, string[]>>();
  const headOf = (a: RuleAttributes): string => {
    let byProtocol = heads.get(a.destinationPorts);
    if (byProtocol === undefined) heads.set(a.destinationPorts, (byProtocol = new Map()));
    // By protocol too: one port list could serve two protocols.
    let byKind = byProtocol.get(a.protocol);
    if (byKind === undefined) byProtocol.set(a.protocol, (byKind = []));
    const kind = (a.direction === 'inbound' ? 0 : 2) + (a.access === 'allow' ? 0 : 1);
    let head = byKind[kind];
    if (head === undefined) {
      const ports = portsText(a.destinationPorts);
      const svc =
        a.protocol === '*'
          ? ports === '*'
            ? 'all'
            : `*/${ports}`
          : ports === '*'
            ? a.protocol
            : `${a.protocol}/${ports}`;
      byKind[kind] = head = flat(`${a.direction} ${a.access} ${svc} `);
    }
    return head;
  };
  const priorityTails: string[] = [];
  const priorityTail = (p: number): string => (priorityTails[p] ??= ` (priority ${p})`);
  // ruleSummaryOf(a, sideText, portsText), from those parts (test: azure render-summary equivalence).
  const summaryOf = (a: RuleAttributes): string =>
    Number.isInteger(a.priority) && a.priority >= 0 && a.priority <= 65535
      ? flat(headOf(a) + sideText(a.source) + ' -> ' + sideText(a.destination) + priorityTail(a.priority))
      : flat(ruleSummaryOf(a, sideText, portsText));
  for (const a of layout.asgs) {
    out.push({
      address: `${target.name}.${AZURE_TYPES.asg}.${a.name}`,
      target: target.name,
      type: AZURE_TYPES.asg,
      name: a.name,
      // `model` is the ownership tag's value (live: the tag as read, so always equal once owned).
      attributes: { location: canonicalLocation(cfg.location), model },
      children: [],
      origins: [{ pos: a.pos, label: `segment ${a.segment}` }],
      forceNew: ['location'],
    });
  }
  for (const nsg of layout.nsgs) {
    // The layout's rules are the children (LaidOutRule): only their summaries are left to write.
    for (const r of nsg.rules) (r as LaidOutRule).summary = summaryOf(r.attributes);
    const children: readonly Child[] = nsg.rules;
    out.push({
      address: `${target.name}.${AZURE_TYPES.nsg}.${nsg.name}`,
      target: target.name,
      type: AZURE_TYPES.nsg,
      name: nsg.name,
      // The model whose rules (name prefix `<model>-`) this NSG carries: the applier keeps every other rule.
      attributes: { model },
      children,
    });
  }
  if (cfg.firewallPolicy && layout.appRules.length > 0) {
    const name = ruleCollectionGroupName(model);
    out.push({
      address: `${target.name}.${AZURE_TYPES.rcg}.${name}`,
      target: target.name,
      type: AZURE_TYPES.rcg,
      name,
      attributes: {
        policy: cfg.firewallPolicy.toLowerCase(),
        priority: RULE_COLLECTION_GROUP_PRIORITY,
        collection: ruleCollectionName(model),
        collectionPriority: RULE_COLLECTION_PRIORITY,
        action: 'allow',
      },
      // The group lives inside its policy: moving it to another policy is a delete and a create.
      forceNew: ['policy'],
      children: layout.appRules.map((r) => ({
        key: r.name,
        summary: appRuleSummary(r.attrs),
        attributes: r.attrs,
        ...(r.origins.length > 0 ? { origins: r.origins } : {}),
        widens: true,
      })),
    });
  }
  return out.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
}
