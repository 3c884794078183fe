import type { Endpoint, PortMatch, RuleIntent, RuleSet, TargetSpec } from '../../src/compile/types.js';
import type { SourceRef } from '../../src/diagnostics.js';
import type { Child, Resource } from '../../src/plan/types.js';
import type { RenderContext } from '../../src/provider.js';
import {
  CIDR_ENTITY_PREFIX_LIST_THRESHOLD,
  DESCRIPTION_CHARSET,
  DESCRIPTION_OUTSIDE_CHARSET,
  DESCRIPTION_MAX_LENGTH,
  FQDN_PREFIX_LIST_MIN_ENTRIES,
  PREFIX_LIST_MAX_ENTRIES,
} from './limits.js';
import { flat } from '../kit/strings.js';
import {
  addressOf,
  byKey,
  canonicalCidr,
  canonicalProtocol,
  entryChild,
  peerKey,
  PL_TYPE,
  portText,
  resource,
  SG_TYPE,
  type AwsPeer,
  type AwsRule,
} from './canonical.js';

/**
 * Render (pure): the RuleSet → the desired security groups and customer-managed prefix lists of one
 * AWS target (DESIGN §2 AWS):
 *
 *   segment          → one SG `<model>-<segment>` (or the adopted `aws.groupId`), no default egress
 *   segment peer     → SG reference (never CIDRs)
 *   CIDR entity      → one rule per CIDR; a prefix list once a family has ≥ CIDR_ENTITY_PREFIX_LIST_THRESHOLD
 *   FQDN entity      → prefix lists `<model>-<entity>-ipv4|ipv6` of the resolved addresses (entries are children)
 *   cloud entity     → the AWS-managed prefix list it is bound to (`com.amazonaws.<region>.s3`)
 */

/** Managed name of a segment's group. */
export function groupName(model: string, segment: string): string {
  return `${model}-${segment}`;
}

/** Description of a managed group (immutable in AWS; it only depends on the names). */
export function groupDescription(model: string, segment: string): string {
  return `Bulkhead ${model}: segment ${segment}`;
}

/** Name of an entity's customer-managed prefix list for one family. */
export function prefixListName(model: string, entity: string, family: 'IPv4' | 'IPv6'): string {
  return `${model}-${entity}-${family === 'IPv4' ? 'ipv4' : 'ipv6'}`;
}

/** MaxEntries of an FQDN list of n addresses: the next power of two, at least FQDN_PREFIX_LIST_MIN_ENTRIES. */
export function fqdnMaxEntries(n: number): number {
  let size = FQDN_PREFIX_LIST_MIN_ENTRIES;
  while (size < n) size *= 2;
  return Math.min(size, PREFIX_LIST_MAX_ENTRIES);
}

/**
 * A rule description in AWS's charset: `->` becomes `to`, anything else outside the charset `_`,
 * at most 255 characters.
 */
export function sanitizeDescription(text: string): string {
  // Each step only when it can change something (an arrow present, a character outside the
  // charset): the same result, without three regex passes and copies per rule.
  let clean = text.includes('->') ? text.replace(/\s*->\s*/g, ' to ') : text;
  if (clean.includes('<-')) clean = clean.replace(/\s*<-\s*/g, ' from ');
  if (!DESCRIPTION_CHARSET.test(clean)) clean = clean.replace(DESCRIPTION_OUTSIDE_CHARSET, '_');
  return clean.length <= DESCRIPTION_MAX_LENGTH ? clean : `${clean.slice(0, DESCRIPTION_MAX_LENGTH - 3)}...`;
}

/** Protocol and ports of a canonical PortMatch in AWS terms. */
export function awsPorts(match: PortMatch): Pick<AwsRule, 'protocol' | 'fromPort' | 'toPort'> {
  switch (match.kind) {
    case 'all':
      return { protocol: 'all', fromPort: null, toPort: null };
    case 'ports':
      // AWS filters ports only for tcp and udp; sctp (132) allows every port (validate warns).
      return match.protocol === 'sctp'
        ? { protocol: 'sctp', fromPort: null, toPort: null }
        : { protocol: match.protocol, fromPort: match.from, toPort: match.to };
    case 'icmp': {
      const type = match.type ?? -1;
      return { protocol: match.protocol, fromPort: type, toPort: type === -1 ? -1 : (match.code ?? -1) };
    }
    case 'protocol':
      return { protocol: canonicalProtocol(String(match.number)), fromPort: null, toPort: null };
  }
}

/** A prefix list the render wants. */
interface DesiredList {
  readonly name: string;
  readonly family: 'IPv4' | 'IPv6';
  readonly maxEntries: number;
  readonly cidrs: readonly string[];
  readonly entity: string;
  readonly fqdn: boolean;
}

/** Peers of an endpoint for one target, creating the prefix lists they need. */
function peersOf(peer: Endpoint, model: string, ctx: RenderContext, lists: Map<string, DesiredList>): AwsPeer[] {
  const cidrPeers = (entity: string, ipv4: readonly string[], ipv6: readonly string[], builtin: boolean): AwsPeer[] => {
    const out: AwsPeer[] = [];
    for (const [family, cidrs] of [
      ['IPv4', ipv4],
      ['IPv6', ipv6],
    ] as const) {
      const canon = [...new Set(cidrs.map(canonicalCidr))].sort();
      if (!builtin && canon.length >= CIDR_ENTITY_PREFIX_LIST_THRESHOLD) {
        const name = prefixListName(model, entity, family);
        lists.set(name, { name, family, maxEntries: canon.length, cidrs: canon, entity, fqdn: false });
        out.push({ kind: 'prefix-list', ref: name });
      } else {
        for (const cidr of canon) out.push({ kind: 'cidr', cidr });
      }
    }
    return out;
  };
  switch (peer.kind) {
    case 'segment':
      return [{ kind: 'group', ref: groupName(model, peer.name) }];
    case 'cidrs':
      return cidrPeers(peer.entity, peer.ipv4, peer.ipv6, peer.builtin === 'internet');
    case 'fqdns': {
      const out: AwsPeer[] = [];
      for (const family of ['IPv4', 'IPv6'] as const) {
        const addrs = new Set<string>();
        for (const fqdn of peer.fqdns) {
          const r = ctx.resolved.get(fqdn);
          for (const a of (family === 'IPv4' ? r?.ipv4 : r?.ipv6) ?? []) addrs.add(canonicalCidr(a));
        }
        if (addrs.size === 0) continue; // nothing to allow in this family (validate warns when both are empty)
        const name = prefixListName(model, peer.entity, family);
        const cidrs = [...addrs].sort();
        lists.set(name, {
          name,
          family,
          maxEntries: fqdnMaxEntries(cidrs.length),
          cidrs,
          entity: peer.entity,
          fqdn: true,
        });
        out.push({ kind: 'prefix-list', ref: name });
      }
      return out;
    }
    case 'cloud': {
      const b = peer.aws;
      if (!b) return []; // validate reports the missing binding
      const out = cidrPeers(peer.entity, b.ipv4, b.ipv6, false);
      if (b.prefixList) out.unshift({ kind: 'prefix-list', ref: b.prefixList });
      return out;
    }
  }
}

/**
 * False when an ICMP rule would name a peer of the other address family (ICMP for IPv6 is icmpv6):
 * AWS would keep a rule that never matches.
 */
function familyMatches(protocol: string, peer: AwsPeer, lists: ReadonlyMap<string, DesiredList>): boolean {
  if (protocol !== 'icmp' && protocol !== 'icmpv6') return true;
  const family =
    peer.kind === 'cidr'
      ? peer.cidr.includes(':')
        ? 'IPv6'
        : 'IPv4'
      : peer.kind === 'prefix-list'
        ? lists.get(peer.ref)?.family
        : undefined;
  return family === undefined || family === (protocol === 'icmp' ? 'IPv4' : 'IPv6');
}

/** The text of the model flow a rule comes from. */
function flowLabel(intent: RuleIntent): string {
  // One origin (nearly every intent): its label as it is, without a copy joined from one element.
  if (intent.origins.length === 1) return intent.origins[0]!.label;
  if (intent.origins.length > 0) return intent.origins.map((o) => o.label).join('; ');
  return `${intent.segment} ${intent.direction} ${intent.id}`;
}

/**
 * A peer of the render with what every rule naming it shares: its key text (`sg:shop-lb`), its
 * plan-line text and the `dependsOn` array. Rules hold these strings and arrays instead of a copy
 * each: at 10,000 segments the render keeps ~900,000 rules alive until output, and every object
 * a rule does not own is one the garbage collector does not copy (issue 11).
 */
interface PeerInfo {
  readonly peer: AwsPeer;
  /** `peerKey(peer)`, flat. */
  readonly key: string;
  /** The peer as a plan line names it (`sg shop-lb`), flat. */
  readonly summary: string;
  /** The address the rule depends on, once every prefix list is known (undefined: not computed yet). */
  dependsOn?: readonly string[] | null;
}

/** A security group rule as render returns it (a Child), its description and origins still writable while its group is made. */
interface AwsChild {
  readonly key: string;
  readonly summary: string;
  readonly attributes: {
    readonly direction: 'ingress' | 'egress';
    readonly protocol: string;
    readonly fromPort: number | null;
    readonly toPort: number | null;
    readonly peer: string;
    description: string;
  };
  origins: readonly SourceRef[];
  readonly widens: true;
  readonly dependsOn?: readonly string[];
}

/** The protocol and ports part of a plan line: `tcp/443`, `tcp/9000-9010`, `icmp/8:-1`, `all`. */
function summaryPorts(ports: Pick<AwsRule, 'protocol' | 'fromPort' | 'toPort'>, text: string): string {
  const single =
    ports.fromPort !== null &&
    ports.fromPort === ports.toPort &&
    (ports.protocol === 'tcp' || ports.protocol === 'udp');
  const p = single ? String(ports.fromPort) : text;
  return p ? `${ports.protocol}/${p}` : ports.protocol;
}

/** The desired objects of one AWS target, sorted by address. */
export function renderAws(rules: RuleSet, target: TargetSpec, ctx: RenderContext): Resource[] {
  const model = rules.model.name;
  const lists = new Map<string, DesiredList>();
  // The peers of an endpoint depend only on the endpoint (and ctx, fixed for this render), and a
  // model names the same endpoints in thousands of intents: compute them once per endpoint instead
  // of canonicalizing and sorting the same CIDRs per intent. Segment peers by name (compile makes
  // a new endpoint object per intent), the others by identity first (compile shares them), then by
  // their JSON. peersOf's prefix-list bookkeeping happens on the first call, the same as before.
  const bySegmentPeer = new Map<string, PeerInfo[]>();
  const byEndpoint = new Map<Endpoint, PeerInfo[]>();
  const byJson = new Map<string, PeerInfo[]>();
  const infoOf = (peer: AwsPeer): PeerInfo => {
    const key = flat(peerKey(peer));
    return { peer, key, summary: flat(key.replace(':', ' ')) };
  };
  const peersFor = (peer: Endpoint): PeerInfo[] => {
    if (peer.kind === 'segment') {
      let infos = bySegmentPeer.get(peer.name);
      if (!infos) bySegmentPeer.set(peer.name, (infos = peersOf(peer, model, ctx, lists).map(infoOf)));
      return infos;
    }
    let infos = byEndpoint.get(peer);
    if (infos) return infos;
    const json = JSON.stringify(peer);
    infos = byJson.get(json);
    if (!infos) byJson.set(json, (infos = peersOf(peer, model, ctx, lists).map(infoOf)));
    byEndpoint.set(peer, infos);
    return infos;
  };
  // One pass over the intents: their peers (which creates the prefix lists, in the order of first
  // use), the intents of each segment, and the flows that own each prefix list (drift and SARIF
  // point at their lines). The rules are then made one group at a time, so what merges them dies
  // young instead of living until the last intent is read.
  // Per segment its intents and, beside them, their peers (the cached arrays: nothing per intent).
  const intentsOf = new Map<string, { readonly intents: RuleIntent[]; readonly peers: PeerInfo[][] }>();
  for (const seg of rules.segments) intentsOf.set(seg.name, { intents: [], peers: [] });
  const listOrigins = new Map<string, SourceRef[]>();
  let last: string | undefined;
  let group: { readonly intents: RuleIntent[]; readonly peers: PeerInfo[][] } | undefined;
  for (const intent of rules.rules) {
    // compile emits a segment's intents together: look its group up once per run of them
    if (intent.segment !== last) {
      last = intent.segment;
      group = intentsOf.get(intent.segment);
    }
    if (!group) continue;
    const infos = peersFor(intent.peer);
    group.intents.push(intent);
    group.peers.push(infos);
    for (const { peer } of infos) {
      if (peer.kind !== 'prefix-list' || !lists.has(peer.ref)) continue;
      if (!familyMatches(awsPorts(intent.service).protocol, peer, lists)) continue;
      const owners = listOrigins.get(peer.ref) ?? [];
      owners.push(...intent.origins);
      listOrigins.set(peer.ref, owners);
    }
  }
  // One (flat) address string and dependsOn array per referenced group or list, shared by every rule naming it.
  const dependsOnOf = (info: PeerInfo): readonly string[] | null => {
    if (info.dependsOn !== undefined) return info.dependsOn;
    const p = info.peer;
    info.dependsOn =
      p.kind === 'group'
        ? [flat(addressOf(target.name, SG_TYPE, p.ref))]
        : p.kind === 'prefix-list' && lists.has(p.ref)
          ? [flat(addressOf(target.name, PL_TYPE, p.ref))]
          : null;
    return info.dependsOn;
  };
  // Descriptions by their flow labels: a flow between two segments is an ingress rule of one group
  // and an egress rule of the other, with one description (sanitized once, one string for both).
  const descriptions = new Map<string, string>();
  const descriptionOf = (labels: string): string => {
    let d = descriptions.get(labels);
    if (d === undefined) descriptions.set(labels, (d = flat(sanitizeDescription(`${model}: ${labels}`))));
    return d;
  };
  // What a rule's texts take from its intent's direction and service: the service's AWS ports and
  // the heads of the rule's key (`ingress tcp 443-443 `) and plan line (`ingress tcp/443 from `).
  // The compiler interns services (a handful of objects among the intents), so these are built
  // once per (service, direction) instead of an object and two texts per intent.
  interface RuleHeads {
    readonly ports: Pick<AwsRule, 'protocol' | 'fromPort' | 'toPort'>;
    readonly key: string;
    readonly summary: string;
  }
  const headsByService = new Map<PortMatch, { ingress?: RuleHeads; egress?: RuleHeads }>();
  const headsOf = (service: PortMatch, direction: 'ingress' | 'egress'): RuleHeads => {
    let byDirection = headsByService.get(service);
    if (byDirection === undefined) headsByService.set(service, (byDirection = {}));
    let heads = byDirection[direction];
    if (heads === undefined) {
      const ports = awsPorts(service);
      const ruleText = portText(ports);
      heads = byDirection[direction] = {
        ports,
        key: flat(`${direction} ${ports.protocol}${ruleText ? ` ${ruleText}` : ''} `),
        summary: flat(`${direction} ${summaryPorts(ports, ruleText)} ${direction === 'ingress' ? 'from' : 'to'} `),
      };
    }
    return heads;
  };
  // The description of an intent's rules, by its origins (compile shares one array between a
  // flow's ingress and egress intents): no label text hashed per rule to find it.
  const descriptionsByOrigins = new Map<readonly SourceRef[], string>();
  const intentDescription = (intent: RuleIntent, label: string): string => {
    if (intent.origins.length === 0) return descriptionOf(label);
    let d = descriptionsByOrigins.get(intent.origins);
    if (d === undefined)
      descriptionsByOrigins.set(intent.origins, (d = flat(sanitizeDescription(`${model}: ${label}`))));
    return d;
  };
  const out: Resource[] = [];
  for (const seg of rules.segments) {
    const name = groupName(model, seg.name);
    // The group's rules, each already the child render returns, made when the first intent with
    // its key is read (no pending form per rule); by key, the index of its child and first label.
    // Two intents may render to one AWS rule (rare): `merged` then holds their distinct labels and
    // origins until the rule's description and origins are rewritten below.
    const children: AwsChild[] = [];
    const firstLabels: string[] = [];
    const byRuleKey = new Map<string, number>();
    let merged: Map<number, { labels: string[]; origins: SourceRef[] }> | undefined;
    const { intents, peers } = intentsOf.get(seg.name)!;
    for (let i = 0; i < intents.length; i++) {
      const intent = intents[i]!;
      const heads = headsOf(intent.service, intent.direction);
      const { ports } = heads;
      const label = flowLabel(intent);
      for (const info of peers[i]!) {
        if (!familyMatches(ports.protocol, info.peer, lists)) continue; // icmp is IPv4 only, icmpv6 IPv6 only (validate warns)
        const key = flat(heads.key + info.key); // ruleKey of the rule
        const at = byRuleKey.get(key);
        if (at === undefined) {
          const attributes = {
            direction: intent.direction,
            protocol: ports.protocol,
            fromPort: ports.fromPort,
            toPort: ports.toPort,
            peer: info.key,
            description: intentDescription(intent, label),
          };
          // Not flattened, unlike the key (hashed and sorted, so flat anyway): two texts shared by
          // many rules make one small cons node, smaller than a flat copy, and nothing reads it
          // until a plan prints the line.
          const summary = heads.summary + info.summary;
          const dependsOn = dependsOnOf(info);
          byRuleKey.set(key, children.length);
          firstLabels.push(label);
          // every allow rule opens access (AWS rules are allow-only); the fields in ruleChild's order
          children.push(
            dependsOn
              ? { key, summary, attributes, origins: intent.origins, widens: true, dependsOn }
              : { key, summary, attributes, origins: intent.origins, widens: true },
          );
          continue;
        }
        merged ??= new Map();
        let m = merged.get(at);
        if (m === undefined) merged.set(at, (m = { labels: [firstLabels[at]!], origins: [...children[at]!.origins] }));
        if (!m.labels.includes(label)) m.labels.push(label);
        m.origins.push(...intent.origins);
      }
    }
    // Merged rules: the description names every distinct flow (sorted), the origins are every intent's.
    for (const [at, m] of merged ?? []) {
      const child = children[at]!;
      child.attributes.description = descriptionOf(m.labels.length === 1 ? m.labels[0]! : m.labels.sort().join('; '));
      child.origins = m.origins;
    }
    children.sort(byChildKey);
    const adopted = seg.aws?.groupId;
    const group: Resource = {
      address: flat(addressOf(target.name, SG_TYPE, name)), // flat: the final sort compares it
      target: target.name,
      type: SG_TYPE,
      name,
      attributes: adopted
        ? { adoptedGroupId: adopted, owner: model }
        : { description: groupDescription(model, seg.name), owner: model },
      children,
      origins: [{ pos: seg.pos, label: `segment ${seg.name}` }],
    };
    out.push(adopted ? group : { ...group, forceNew: ['description'] });
  }
  for (const list of lists.values()) {
    out.push(
      resource({
        address: addressOf(target.name, PL_TYPE, list.name),
        target: target.name,
        type: PL_TYPE,
        name: list.name,
        attributes: { addressFamily: list.family, maxEntries: list.maxEntries, owner: model },
        children: list.cidrs.map(entryChild),
        origins: uniqueOrigins(listOrigins.get(list.name) ?? []),
        forceNew: ['addressFamily'],
      }),
    );
  }
  return out.sort(byKey((r) => r.address));
}

/** Children by key (`resource`'s order), without a copy of the array. */
function byChildKey(a: Child, b: Child): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** Origins without repeats, in file/line/column order (a list used by many flows names each once). */
function uniqueOrigins(origins: readonly SourceRef[]): SourceRef[] {
  const seen = new Map<string, SourceRef>();
  for (const o of origins) seen.set(`${o.pos.file}\u0000${o.pos.line}\u0000${o.pos.column}`, o);
  return [...seen.values()].sort((a, b) =>
    a.pos.file < b.pos.file ? -1 : a.pos.file > b.pos.file ? 1 : a.pos.line - b.pos.line || a.pos.column - b.pos.column,
  );
}
