import { InternalError } from '../../src/errors.js';
import { canonicalCidr as kitCidr } from '../kit/cidr.js';
import { canonicalProtocol as kitProtocol } from '../kit/ports.js';
import { flat } from '../kit/strings.js';
import type { Child, Json, Resource } from '../../src/plan/types.js';

/**
 * The canonical AWS vocabulary shared by render, read, apply and the CLI JSON: one security group
 * rule is one atomic (direction, protocol, ports, peer) tuple (cloud-semantics §4 trap 8), keyed
 * the same way whether it was rendered from the model or read from DescribeSecurityGroupRules.
 */

/** Resource type of a security group. */
export const SG_TYPE = 'aws_security_group';
/** Resource type of a customer-managed prefix list. */
export const PL_TYPE = 'aws_managed_prefix_list';
/** Tag key naming the segment a group was made for. */
export const SEGMENT_TAG = 'bulkhead:segment';
/** Tag key naming the entity a prefix list was made for. */
export const ENTITY_TAG = 'bulkhead:entity';

/** The other end of a rule, canonical. */
export type AwsPeer =
  /** An IPv4 or IPv6 CIDR (canonical text, host bits zeroed). */
  | { readonly kind: 'cidr'; readonly cidr: string }
  /** A security group: the managed name of an owned group, else its `sg-` id. */
  | { readonly kind: 'group'; readonly ref: string }
  /** A prefix list: the name of an owned or AWS-managed list, else its `pl-` id. */
  | { readonly kind: 'prefix-list'; readonly ref: string };

/** One atomic rule. Identity is everything but the description (trap 15). */
export interface AwsRule {
  readonly direction: 'ingress' | 'egress';
  /** `tcp`, `udp`, `icmp`, `icmpv6`, `all`, or an IANA protocol number as text. */
  readonly protocol: string;
  /** tcp/udp: first port; icmp: type (-1 = every type); null when ports do not apply. */
  readonly fromPort: number | null;
  /** tcp/udp: last port; icmp: code (-1 = every code); null when ports do not apply. */
  readonly toPort: number | null;
  readonly peer: AwsPeer;
  /** Rule description; "" when absent (trap 12). */
  readonly description: string;
}

/** `sg:<ref>`, `pl:<ref>` or `cidr:<cidr>`. */
export function peerKey(peer: AwsPeer): string {
  switch (peer.kind) {
    case 'cidr':
      return `cidr:${peer.cidr}`;
    case 'group':
      return `sg:${peer.ref}`;
    case 'prefix-list':
      return `pl:${peer.ref}`;
  }
}

/** Parses `peerKey` output back. */
export function parsePeerKey(key: string): AwsPeer {
  const i = key.indexOf(':');
  const kind = key.slice(0, i),
    ref = key.slice(i + 1);
  if (kind === 'cidr') return { kind: 'cidr', cidr: ref };
  if (kind === 'sg') return { kind: 'group', ref };
  return { kind: 'prefix-list', ref };
}

/** Canonical port part of a rule key: `443-443`, `8:-1` (icmp type:code), or "" when ports do not apply. */
export function portText(rule: Pick<AwsRule, 'protocol' | 'fromPort' | 'toPort'>): string {
  if (rule.fromPort === null || rule.toPort === null) return '';
  return rule.protocol === 'icmp' || rule.protocol === 'icmpv6'
    ? `${rule.fromPort}:${rule.toPort}`
    : `${rule.fromPort}-${rule.toPort}`;
}

/** The rule's identity inside its group: `ingress tcp 443-443 sg:shop-lb`. */
export function ruleKey(rule: Omit<AwsRule, 'description'>): string {
  const ports = portText(rule);
  return `${rule.direction} ${rule.protocol}${ports ? ` ${ports}` : ''} ${peerKey(rule.peer)}`;
}

/** One plan line: `ingress tcp/443 from sg shop-lb`. */
export function ruleSummary(rule: AwsRule): string {
  const ports =
    rule.fromPort !== null && rule.fromPort === rule.toPort && (rule.protocol === 'tcp' || rule.protocol === 'udp')
      ? String(rule.fromPort)
      : portText(rule);
  const what = `${rule.protocol}${ports ? `/${ports}` : ''}`;
  const peer = peerKey(rule.peer).replace(':', ' ');
  return `${rule.direction} ${what} ${rule.direction === 'ingress' ? 'from' : 'to'} ${peer}`;
}

/** The rule as a plan child. */
export function ruleChild(
  rule: AwsRule,
  extra: Partial<Pick<Child, 'liveId' | 'origins' | 'dependsOn' | 'widens'>> = {},
): Child {
  return {
    key: flat(ruleKey(rule)),
    summary: flat(ruleSummary(rule)),
    attributes: {
      direction: rule.direction,
      protocol: rule.protocol,
      fromPort: rule.fromPort,
      toPort: rule.toPort,
      peer: flat(peerKey(rule.peer)),
      description: flat(rule.description),
    },
    ...extra,
  };
}

/** Reads a rule back from a child's attributes. */
export function childRule(child: Child): AwsRule {
  const a = child.attributes;
  return {
    direction: a['direction'] === 'egress' ? 'egress' : 'ingress',
    protocol: String(a['protocol']),
    fromPort: typeof a['fromPort'] === 'number' ? a['fromPort'] : null,
    toPort: typeof a['toPort'] === 'number' ? a['toPort'] : null,
    peer: parsePeerKey(String(a['peer'])),
    description: typeof a['description'] === 'string' ? a['description'] : '',
  };
}

/** The prefix-list entry as a plan child. */
export function entryChild(cidr: string): Child {
  return { key: cidr, summary: `entry ${cidr}`, attributes: { cidr } };
}

/**
 * Canonical protocol (the kit's, providers/kit/ports.ts) of the API's `IpProtocol` or the model's
 * protocol: IANA names where one exists (`6` → `tcp`, `50` → `esp`, `132` → `sctp`), `all` for
 * `-1`. Text the kit cannot read (EC2 never returns any) is kept, lower-cased, so it shows in a diff.
 */
export function canonicalProtocol(ipProtocol: string): string {
  const r = kitProtocol(ipProtocol);
  return r.ok ? r.protocol : ipProtocol.toLowerCase();
}

/** The protocols EC2 accepts by name in `IpProtocol`; every other one goes by its number. */
const WIRE_NAMES: ReadonlySet<string> = new Set(['tcp', 'udp', 'icmp', 'icmpv6']);

/** The API's `IpProtocol` for a canonical protocol: `-1` for all, a name EC2 takes, else the IANA number. */
export function wireProtocol(protocol: string): string {
  if (protocol === 'all') return '-1';
  if (WIRE_NAMES.has(protocol)) return protocol;
  const r = kitProtocol(protocol);
  return r.ok && r.number !== undefined ? String(r.number) : protocol;
}

/** Canonical ports for a protocol from the API's FromPort/ToPort (trap 3). */
export function canonicalPorts(
  protocol: string,
  from: number | undefined,
  to: number | undefined,
): [number | null, number | null] {
  if (protocol === 'tcp' || protocol === 'udp') return [from ?? 0, to ?? 65535];
  if (protocol === 'icmp' || protocol === 'icmpv6') {
    const type = from ?? -1;
    return [type, type === -1 ? -1 : (to ?? -1)];
  }
  return [null, null];
}

/**
 * Canonical CIDR text (the kit's, providers/kit/cidr.ts), with AWS's reading of host bits: EC2
 * stores the network of `10.0.0.5/24`, so a rule read back with host bits set means its network.
 * Invalid text throws (render only sees the model's CIDRs, read only EC2's: either is a bug).
 */
export function canonicalCidr(text: string): string {
  const r = kitCidr(text);
  if (r.ok) return r.text;
  if (r.reason === 'host-bits') return r.network;
  throw new InternalError(`not a CIDR: ${r.message}`);
}

/** True for an IPv6 CIDR. */
export function isIpv6(cidr: string): boolean {
  return cidr.includes(':');
}

/** Address family bucket of a rule for the quota: CIDR and prefix lists by family, references count as IPv4. */
export function ruleFamily(rule: AwsRule, prefixListFamily: (ref: string) => 'IPv4' | 'IPv6'): 'IPv4' | 'IPv6' {
  if (rule.peer.kind === 'cidr') return isIpv6(rule.peer.cidr) ? 'IPv6' : 'IPv4';
  if (rule.peer.kind === 'prefix-list') return prefixListFamily(rule.peer.ref);
  return 'IPv4';
}

/** Sorts by a string key (deterministic output). */
export function byKey<T>(key: (t: T) => string): (a: T, b: T) => number {
  return (a, b) => {
    const ka = key(a),
      kb = key(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  };
}

/** Address of a resource of this provider. */
export function addressOf(target: string, type: string, name: string): string {
  return `${target}.${type}.${name}`;
}

/** A resource with its children sorted by key. */
export function resource(r: Omit<Resource, 'children'> & { children: Child[] }): Resource {
  return { ...r, children: [...r.children].sort(byKey((c) => c.key)) };
}

/** A JSON object from attributes (helper for typed reads). */
export function str(attrs: { readonly [k: string]: Json }, name: string): string {
  const v = attrs[name];
  return typeof v === 'string' ? v : '';
}
