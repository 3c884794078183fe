import { canonicalCidr } from '../kit/cidr.js';
import { canonicalPortList, canonicalPortRange, canonicalProtocol as kitProtocol } from '../kit/ports.js';

/**
 * The canonical form of an NSG rule, shared by render (desired) and read (live) so a plan right
 * after an apply is empty (cloud-semantics §4: traps 1, 2, 4, 5, 6, 7, 9, 10, 11, 12, 14), and the
 * conversions between it and the wire shape (the SDK's flattened `SecurityRule`, which is also what
 * `az network nsg show` prints). Pure: no SDK import.
 */

/** The wire shape of a security rule (SDK model / az CLI JSON); only the fields Bulkhead reads or writes. */
export interface WireRule {
  name?: string;
  id?: string;
  description?: string;
  protocol?: string;
  sourcePortRange?: string;
  sourcePortRanges?: string[];
  destinationPortRange?: string;
  destinationPortRanges?: string[];
  sourceAddressPrefix?: string;
  sourceAddressPrefixes?: string[];
  sourceApplicationSecurityGroups?: { id?: string }[];
  destinationAddressPrefix?: string;
  destinationAddressPrefixes?: string[];
  destinationApplicationSecurityGroups?: { id?: string }[];
  access?: string;
  priority?: number;
  direction?: string;
}

/** Canonical NSG rule content without its priority (a type alias, so it fits `{[key]: Json}`). */
export type RuleContent = {
  readonly access: 'allow' | 'deny';
  readonly direction: 'inbound' | 'outbound';
  /** `tcp`, `udp`, `icmp`, `esp`, `ah` or `*`. */
  readonly protocol: string;
  /** Sorted: `*`, canonical CIDRs, service tags as written, or `asg:<resource group>/<name>` (lower case). */
  readonly source: readonly string[];
  /** Sorted `*`, `80` or `80-90`. */
  readonly sourcePorts: readonly string[];
  readonly destination: readonly string[];
  readonly destinationPorts: readonly string[];
  /** `''` when absent (trap 12). */
  readonly description: string;
};

/** Canonical NSG rule content: what the diff compares. */
export type RuleAttributes = RuleContent & { readonly priority: number };

const PROTOCOL_TO_WIRE: Readonly<Record<string, string>> = {
  tcp: 'Tcp',
  udp: 'Udp',
  icmp: 'Icmp',
  esp: 'Esp',
  ah: 'Ah',
  '*': '*',
};

/** True for a canonical protocol an NSG rule can carry (`*` included). */
export function isNsgProtocol(protocol: string): boolean {
  return Object.hasOwn(PROTOCOL_TO_WIRE, protocol);
}

/**
 * Canonical protocol (traps 1, 2): the kit's name (providers/kit/ports.ts), with Azure's `*` for
 * every protocol (`Any`, `*`); text the kit cannot read is kept, lower-cased, so it shows in a diff.
 */
export function canonicalProtocol(p: string | undefined): string {
  const r = kitProtocol(p ?? '*');
  if (!r.ok) return (p ?? '').toLowerCase();
  return r.protocol === 'all' ? '*' : r.protocol;
}

/** One port spec (traps 4, 5): the kit's text (`*` ≡ `0-65535`, `80-80` → `80`); a malformed live one is kept as written, so the diff shows it. */
export function canonicalPort(p: string): string {
  const r = canonicalPortRange(p);
  return r.ok ? r.text : p.trim();
}

/** The merged, sorted set of a singular/plural pair (trap 7): the kit's sorted set, `*` absorbing everything else. */
function mergedPorts(one: string | undefined, many: readonly string[] | undefined): string[] {
  // az prints unset fields as null; treat null like absent.
  const all = [...(typeof one === 'string' && one !== '' ? [one] : []), ...(many ?? [])];
  const list = canonicalPortList(all);
  if (list.ok) return [...list.texts];
  const texts = all.map(canonicalPort);
  return texts.includes('*') ? ['*'] : [...new Set(texts)].sort();
}

/**
 * A CIDR or IP in the kit's canonical text (providers/kit/cidr.ts, the model's too: RFC 5952,
 * IPv4-mapped IPv6 as `::ffff:192.0.2.1/128`), host bits zeroed as Azure stores them; `*`/`Any`
 * is `*`; anything else (a service tag) unchanged. Render and read both send every address
 * through here, so a text the model and Azure spell differently never shows up as a perpetual
 * update. The kit memoizes the parse.
 */
export function canonicalPrefix(p: string): string {
  const t = p.trim();
  if (t === '*' || t.toLowerCase() === 'any') return '*';
  const r = canonicalCidr(t);
  if (r.ok) return r.text;
  return r.reason === 'host-bits' ? r.network : t;
}

/** `asg:<rg>/<name>` of an ASG resource id (trap 14: ARM ids are case-insensitive). */
export function asgRef(id: string): string {
  const m = /\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Network\/applicationSecurityGroups\/([^/]+)$/i.exec(id);
  return m ? `asg:${m[1]!.toLowerCase()}/${m[2]!.toLowerCase()}` : `asg:${id.toLowerCase()}`;
}

/** The ARM id of an `asg:<rg>/<name>` reference in a subscription. */
export function asgId(subscription: string, ref: string): string {
  const [rg, name] = ref.slice('asg:'.length).split('/') as [string, string];
  return `/subscriptions/${subscription}/resourceGroups/${rg}/providers/Microsoft.Network/applicationSecurityGroups/${name}`;
}

function mergedAddresses(
  one: string | undefined,
  many: readonly string[] | undefined,
  asgs: readonly { id?: string }[] | undefined,
): string[] {
  const all = [
    ...(typeof one === 'string' && one !== '' ? [canonicalPrefix(one)] : []),
    ...(many ?? []).map(canonicalPrefix),
    ...(asgs ?? []).map((a) => asgRef(a.id ?? '')),
  ];
  return [...new Set(all)].sort();
}

/** Canonical attributes of a live rule. */
export function ruleFromWire(r: WireRule): RuleAttributes {
  return {
    access: (r.access ?? '').toLowerCase() === 'deny' ? 'deny' : 'allow',
    direction: (r.direction ?? '').toLowerCase() === 'outbound' ? 'outbound' : 'inbound',
    priority: r.priority ?? 0,
    protocol: canonicalProtocol(r.protocol),
    source: mergedAddresses(r.sourceAddressPrefix, r.sourceAddressPrefixes, r.sourceApplicationSecurityGroups),
    sourcePorts: mergedPorts(r.sourcePortRange, r.sourcePortRanges),
    destination: mergedAddresses(
      r.destinationAddressPrefix,
      r.destinationAddressPrefixes,
      r.destinationApplicationSecurityGroups,
    ),
    destinationPorts: mergedPorts(r.destinationPortRange, r.destinationPortRanges),
    description: r.description ?? '',
  };
}

function sideToWire(side: 'source' | 'destination', values: readonly string[], subscription: string): WireRule {
  const asgs = values.filter((v) => v.startsWith('asg:'));
  if (asgs.length > 0)
    return { [`${side}ApplicationSecurityGroups`]: asgs.map((a) => ({ id: asgId(subscription, a) })) };
  if (values.length === 1) return { [`${side}AddressPrefix`]: values[0]! };
  return { [`${side}AddressPrefixes`]: [...values] };
}

function portsToWire(field: 'sourcePortRange' | 'destinationPortRange', ports: readonly string[]): WireRule {
  return ports.length === 1 ? { [field]: ports[0]! } : { [`${field}s`]: [...ports] };
}

/** The wire form of a canonical rule (what the NSG PUT sends). */
export function ruleToWire(name: string, a: RuleAttributes, subscription: string): WireRule {
  return {
    name,
    ...(a.description !== '' ? { description: a.description } : {}),
    protocol: PROTOCOL_TO_WIRE[a.protocol] ?? a.protocol,
    ...portsToWire('sourcePortRange', a.sourcePorts),
    ...portsToWire('destinationPortRange', a.destinationPorts),
    ...sideToWire('source', a.source, subscription),
    ...sideToWire('destination', a.destination, subscription),
    access: a.access === 'deny' ? 'Deny' : 'Allow',
    priority: a.priority,
    direction: a.direction === 'outbound' ? 'Outbound' : 'Inbound',
  };
}

/** The wire spelling of a canonical protocol (`tcp` → `Tcp`). */
export function protocolToWire(protocol: string): string {
  return PROTOCOL_TO_WIRE[protocol] ?? protocol;
}

/** Lower-case, no spaces: `West Europe` and `westeurope` are one location. */
export function canonicalLocation(l: string): string {
  return l.toLowerCase().replace(/\s+/g, '');
}

/** The rule-collection-group application rule, canonical. */
export type AppRuleAttributes = {
  /** Sorted `https:443` / `http:80`. */
  readonly protocols: readonly string[];
  readonly targetFqdns: readonly string[];
  readonly sourceAddresses: readonly string[];
  readonly description: string;
};

/** The wire shape of an application rule (SDK `ApplicationRule`). */
export interface WireAppRule {
  ruleType: 'ApplicationRule';
  name?: string;
  description?: string;
  protocols?: { protocolType?: string; port?: number }[];
  targetFqdns?: string[];
  sourceAddresses?: string[];
}

/** Canonical attributes of a live application rule. */
export function appRuleFromWire(r: WireAppRule): AppRuleAttributes {
  return {
    protocols: [
      ...new Set((r.protocols ?? []).map((p) => `${(p.protocolType ?? '').toLowerCase()}:${p.port ?? ''}`)),
    ].sort(),
    targetFqdns: [...new Set((r.targetFqdns ?? []).map((f) => f.toLowerCase().replace(/\.$/, '')))].sort(),
    sourceAddresses: [...new Set((r.sourceAddresses ?? []).map(canonicalPrefix))].sort(),
    description: r.description ?? '',
  };
}

/** The wire form of a canonical application rule. */
export function appRuleToWire(name: string, a: AppRuleAttributes): WireAppRule {
  return {
    ruleType: 'ApplicationRule',
    name,
    ...(a.description !== '' ? { description: a.description } : {}),
    protocols: a.protocols.map((p) => {
      const [t, port] = p.split(':') as [string, string];
      return { protocolType: t === 'http' ? 'Http' : t === 'mssql' ? 'Mssql' : 'Https', port: Number(port) };
    }),
    targetFqdns: [...a.targetFqdns],
    sourceAddresses: [...a.sourceAddresses],
  };
}
