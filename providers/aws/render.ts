import type { Endpoint, PortMatch, RuleIntent, RuleSet, TargetSpec } from '../../src/compile/types.js';
import type { SourceRef } from '../../src/diagnostics.js';
import type { Child, Resource } from '../../src/plan/types.js';
import type { RenderContext } from '../../src/provider.js';
import {
  CIDR_ENTITY_PREFIX_LIST_THRESHOLD,
  DESCRIPTION_MAX_LENGTH,
  FQDN_PREFIX_LIST_MIN_ENTRIES,
  PREFIX_LIST_MAX_ENTRIES,
} from './limits.js';
import {
  addressOf,
  byKey,
  canonicalCidr,
  canonicalProtocol,
  entryChild,
  flat,
  PL_TYPE,
  resource,
  ruleChild,
  ruleKey,
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
  const clean = text
    .replace(/\s*->\s*/g, ' to ')
    .replace(/\s*<-\s*/g, ' from ')
    .replace(/[^A-Za-z0-9 ._\-:/()#,@[\]+=&;{}!$*]/g, '_');
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
  if (intent.origins.length > 0) return intent.origins.map((o) => o.label).join('; ');
  return `${intent.segment} ${intent.direction} ${intent.id}`;
}

/** The desired objects of one AWS target, sorted by address. */
export function renderAws(rules: RuleSet, target: TargetSpec, ctx: RenderContext): Resource[] {
  const model = rules.model.name;
  const lists = new Map<string, DesiredList>();
  // rules per segment, merged by key (two intents may render to one AWS rule)
  // labels: distinct flow labels (an array: almost always one, and a Set per rule costs memory
  // that the garbage collector keeps copying while the render grows).
  const bySegment = new Map<
    string,
    Map<string, { rule: Omit<AwsRule, 'description'>; labels: string[]; origins: SourceRef[] }>
  >();
  for (const seg of rules.segments) bySegment.set(seg.name, new Map());
  // The peers of an endpoint depend only on the endpoint (and ctx, fixed for this render), and a
  // model names the same endpoints in thousands of intents: compute them once per endpoint instead
  // of canonicalizing and sorting the same CIDRs per intent. peersOf's prefix-list bookkeeping
  // happens on the first call, the same as before.
  const peerCache = new Map<string, AwsPeer[]>();
  const peersFor = (peer: Endpoint): AwsPeer[] => {
    const key = peer.kind === 'segment' ? `segment\0${peer.name}` : JSON.stringify(peer);
    let peers = peerCache.get(key);
    if (!peers) {
      peers = peersOf(peer, model, ctx, lists);
      peerCache.set(key, peers);
    }
    return peers;
  };
  const listOrigins = new Map<string, SourceRef[]>();
  for (const intent of rules.rules) {
    const group = bySegment.get(intent.segment);
    if (!group) continue;
    const ports = awsPorts(intent.service);
    for (const peer of peersFor(intent.peer)) {
      if (!familyMatches(ports.protocol, peer, lists)) continue; // icmp is IPv4 only, icmpv6 IPv6 only (validate warns)
      // Plain object literals rather than spreads here and below: this runs once per intent and
      // per rule, and V8's object spread is several times slower than listing the fields.
      const rule = {
        direction: intent.direction,
        protocol: ports.protocol,
        fromPort: ports.fromPort,
        toPort: ports.toPort,
        peer,
      };
      const key = ruleKey(rule);
      const entry = group.get(key) ?? { rule, labels: [], origins: [] };
      const label = flowLabel(intent);
      if (!entry.labels.includes(label)) entry.labels.push(label);
      entry.origins.push(...intent.origins);
      group.set(key, entry);
      // A prefix list is owned by the flows that use it: drift and SARIF point at their lines.
      if (peer.kind === 'prefix-list' && lists.has(peer.ref)) {
        const owners = listOrigins.get(peer.ref) ?? [];
        owners.push(...intent.origins);
        listOrigins.set(peer.ref, owners);
      }
    }
  }
  // One (flat) address string per referenced group or list, shared by every rule naming it.
  const addresses = new Map<string, string>();
  const sharedAddress = (type: string, ref: string): string => {
    const k = `${type}\0${ref}`;
    let a = addresses.get(k);
    if (a === undefined) addresses.set(k, (a = flat(addressOf(target.name, type, ref))));
    return a;
  };
  const out: Resource[] = [];
  for (const seg of rules.segments) {
    const name = groupName(model, seg.name);
    const children: Child[] = [];
    for (const { rule, labels, origins } of bySegment.get(seg.name)?.values() ?? []) {
      const description = sanitizeDescription(`${model}: ${labels.sort().join('; ')}`);
      const dependsOn =
        rule.peer.kind === 'group'
          ? [sharedAddress(SG_TYPE, rule.peer.ref)]
          : rule.peer.kind === 'prefix-list' && lists.has(rule.peer.ref)
            ? [sharedAddress(PL_TYPE, rule.peer.ref)]
            : undefined;
      const full: AwsRule = {
        direction: rule.direction,
        protocol: rule.protocol,
        fromPort: rule.fromPort,
        toPort: rule.toPort,
        peer: rule.peer,
        description,
      };
      // every allow rule opens access (AWS rules are allow-only)
      children.push(ruleChild(full, dependsOn ? { origins, widens: true, dependsOn } : { origins, widens: true }));
    }
    const adopted = seg.aws?.groupId;
    out.push(
      resource({
        address: addressOf(target.name, SG_TYPE, name),
        target: target.name,
        type: SG_TYPE,
        name,
        attributes: adopted
          ? { adoptedGroupId: adopted, owner: model }
          : { description: groupDescription(model, seg.name), owner: model },
        children,
        origins: [{ pos: seg.pos, label: `segment ${seg.name}` }],
        ...(adopted ? {} : { forceNew: ['description'] }),
      }),
    );
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

/** Origins without repeats, in file/line/column order (a list used by many flows names each once). */
function uniqueOrigins(origins: readonly SourceRef[]): SourceRef[] {
  const seen = new Map<string, SourceRef>();
  for (const o of origins) seen.set(`${o.pos.file}\u0000${o.pos.line}\u0000${o.pos.column}`, o);
  return [...seen.values()].sort((a, b) =>
    a.pos.file < b.pos.file ? -1 : a.pos.file > b.pos.file ? 1 : a.pos.line - b.pos.line || a.pos.column - b.pos.column,
  );
}
