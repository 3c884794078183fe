import { canonicalCidr as kitCidr } from '../kit/cidr.js';
import { canonicalPortList, canonicalPortRange, canonicalProtocol as kitProtocol, takesPorts } from '../kit/ports.js';
import { flat } from '../kit/strings.js';
import type { Child, Json, Resource } from '../../src/plan/types.js';

/**
 * The canonical form of GCP firewall objects, shared by render (desired side), read (live side)
 * and the CLI JSON writer, so both sides of a diff are normalized the same way (cloud-semantics
 * §4: protocol numbers vs names, "80-80" vs "80", `0-65535` vs no ports, host addresses, URL forms
 * of the network, server-filled defaults).
 */

/** Resource type of a VPC firewall rule. */
export const FIREWALL_TYPE = 'gcp_firewall';
/** Resource type of a global network firewall policy (its owned rules are the children). */
export const POLICY_TYPE = 'gcp_network_firewall_policy';
/** Key of the one child that carries a firewall rule's content. */
export const RULE_CHILD_KEY = 'rule';
/** Root of the Compute API's self links and full network URLs. */
export const API_ROOT = 'https://www.googleapis.com/compute/v1';

/** Description marker of the lock rule (lock.ts); read and plan ignore rules carrying it. */
export const LOCK_MARKER = 'bulkhead:lock';

/** True for a firewall rule that is a Bulkhead lock (state.ts leaves it out of the state). */
export function isGcpLockRule(fw: { readonly description?: string | null }): boolean {
  return (fw.description ?? '').includes(`${LOCK_MARKER} `);
}

/** One `allowed`/`denied` entry, canonical: lower-case protocol name, sorted canonical ports. */
export interface ProtocolRule {
  readonly protocol: string;
  /** `"443"` or `"8080-8090"`, sorted by start; empty = every port. */
  readonly ports: readonly string[];
}

/** The content of a VPC firewall rule, canonical. `name`, `network` and `direction` are its identity. */
export interface FirewallSpec {
  readonly name: string;
  /** `projects/{project}/global/networks/{network}`. */
  readonly network: string;
  readonly direction: 'INGRESS' | 'EGRESS';
  readonly priority: number;
  readonly action: 'allow' | 'deny';
  /** Sorted by protocol. */
  readonly rules: readonly ProtocolRule[];
  readonly sourceRanges: readonly string[];
  readonly sourceTags: readonly string[];
  readonly sourceServiceAccounts: readonly string[];
  readonly destinationRanges: readonly string[];
  readonly targetTags: readonly string[];
  readonly targetServiceAccounts: readonly string[];
  readonly disabled: boolean;
  /** `off`, or the logConfig metadata setting when logging is on. */
  readonly logging: 'off' | 'INCLUDE_ALL_METADATA' | 'EXCLUDE_ALL_METADATA';
  readonly description: string;
}

/** An owned rule of a network firewall policy, canonical. `priority` is its identity. */
export interface PolicyRuleSpec {
  readonly priority: number;
  readonly ruleName: string;
  readonly description: string;
  readonly direction: 'INGRESS' | 'EGRESS';
  readonly action: string;
  readonly destFqdns: readonly string[];
  readonly destIpRanges: readonly string[];
  readonly srcIpRanges: readonly string[];
  /** `ipProtocol` and `ports` of `match.layer4Configs`, canonical like VPC rules. */
  readonly layer4Configs: readonly ProtocolRule[];
  readonly targetServiceAccounts: readonly string[];
  /** `projects/{p}/global/networks/{n}` of each target network. */
  readonly targetResources: readonly string[];
  readonly enableLogging: boolean;
  readonly disabled: boolean;
}

/**
 * Canonical protocol: the kit's (providers/kit/ports.ts), the same text on every provider: the
 * lower-case IANA name where one exists (`6` → `tcp`, `58` → `icmpv6`), else the decimal number.
 * Text the kit cannot read is kept, lower-cased, so it shows in a diff.
 */
export function canonicalProtocol(p: string): string {
  const r = kitProtocol(p);
  return r.ok ? r.protocol : p.trim().toLowerCase();
}

/** Compute's `IPProtocol` of a canonical protocol: its names, except ICMPv6, which it only takes as `58`. */
export function wireProtocol(protocol: string): string {
  return protocol === 'icmpv6' ? '58' : protocol;
}

/**
 * Canonical port list (the kit's sorted set), in Compute's shape: every port is the empty list
 * (the kit's `*`), so `0-65535` and no ports are the same rule. Text that is not a port (someone
 * else's rule; Compute refuses it on write) is skipped.
 */
export function canonicalPorts(protocol: string, ports: readonly string[] | null | undefined): string[] {
  if (!takesPorts(protocol)) return [];
  const list = canonicalPortList((ports ?? []).filter((p) => canonicalPortRange(p).ok));
  return !list.ok || list.texts[0] === '*' ? [] : [...list.texts];
}

/** Canonical protocol entries: merged per protocol (no ports wins), `all` absorbs everything, sorted. */
export function canonicalProtocolRules(
  entries: readonly {
    readonly IPProtocol?: string | null;
    readonly ipProtocol?: string | null;
    readonly ports?: readonly string[] | null;
  }[],
): ProtocolRule[] {
  const byProto = new Map<string, string[] | 'any'>();
  for (const e of entries) {
    const protocol = canonicalProtocol(e.IPProtocol ?? e.ipProtocol ?? '');
    if (protocol === '') continue;
    const ports = canonicalPorts(protocol, e.ports);
    const prev = byProto.get(protocol);
    if (ports.length === 0 || prev === 'any') byProto.set(protocol, 'any');
    else byProto.set(protocol, [...(prev ?? []), ...ports]);
  }
  if (byProto.has('all')) return [{ protocol: 'all', ports: [] }];
  return [...byProto.entries()]
    .map(([protocol, ports]) => ({ protocol, ports: ports === 'any' ? [] : canonicalPorts(protocol, ports) }))
    .sort((a, b) => (a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : 0));
}

/**
 * Canonical CIDR: the kit's text (providers/kit/cidr.ts, the model's too), host bits zeroed as
 * Compute stores them; invalid text is kept, so read never fails on a rule someone else wrote. An
 * IPv4-mapped range stays IPv6 (`::ffff:192.0.2.1/128`): it used to fold into `192.0.2.1/32`,
 * a text the model never has. The kit memoizes the parse.
 */
export function canonicalCidr(text: string): string {
  const r = kitCidr(text);
  if (r.ok) return r.text;
  return r.reason === 'host-bits' ? r.network : text.trim();
}

/** True when a canonical CIDR is IPv6. */
export function isV6(cidr: string): boolean {
  return cidr.includes(':');
}

function sortedSet(values: readonly string[] | null | undefined, map: (s: string) => string = (s) => s): string[] {
  return [...new Set((values ?? []).map(map))].sort();
}

/** A canonical list of CIDRs: each canonical, no duplicates, sorted. */
export function canonicalRanges(values: readonly string[] | null | undefined): string[] {
  return sortedSet(values, canonicalCidr);
}

/** A canonical list of network tags: no duplicates, sorted. */
export function canonicalTags(values: readonly string[] | null | undefined): string[] {
  return sortedSet(values);
}

/** A canonical list of service accounts: lower-case (the API compares them so), no duplicates, sorted. */
export function canonicalServiceAccounts(values: readonly string[] | null | undefined): string[] {
  return sortedSet(values, lowerCase);
}

function lowerCase(s: string): string {
  return s.toLowerCase();
}

/** Reduces any network reference form to `projects/{p}/global/networks/{n}` (project defaults to `project`). */
export function canonicalNetwork(ref: string | null | undefined, project: string): string {
  const text = (ref ?? '').trim();
  const full = /(?:^|\/)projects\/([^/]+)\/global\/networks\/([^/]+)$/.exec(text);
  if (full) return `projects/${full[1]}/global/networks/${full[2]}`;
  const short = /^(?:global\/networks\/)?([a-z](?:[-a-z0-9]*[a-z0-9])?)$/.exec(text);
  if (short) return `projects/${project}/global/networks/${short[1]}`;
  return text === '' ? `projects/${project}/global/networks/default` : text;
}

/** A firewall as the API, gcloud or the SDK return it (the fields Bulkhead reads). */
export interface FirewallJsonIn {
  readonly name?: string | null;
  readonly network?: string | null;
  readonly direction?: string | null;
  readonly priority?: number | string | null;
  readonly allowed?:
    | readonly { readonly IPProtocol?: string | null; readonly ports?: readonly string[] | null }[]
    | null;
  readonly denied?:
    | readonly { readonly IPProtocol?: string | null; readonly ports?: readonly string[] | null }[]
    | null;
  readonly sourceRanges?: readonly string[] | null;
  readonly sourceTags?: readonly string[] | null;
  readonly sourceServiceAccounts?: readonly string[] | null;
  readonly destinationRanges?: readonly string[] | null;
  readonly targetTags?: readonly string[] | null;
  readonly targetServiceAccounts?: readonly string[] | null;
  readonly disabled?: boolean | null;
  readonly logConfig?: { readonly enable?: boolean | null; readonly metadata?: string | null } | null;
  readonly description?: string | null;
  readonly selfLink?: string | null;
}

/**
 * Canonical form of a firewall as read. Server-filled defaults are made explicit the way the API
 * fills them: direction INGRESS, priority 1000, an ingress rule with no source gets
 * `0.0.0.0/0`, an egress rule with no destination gets `0.0.0.0/0`, logging off, enabled.
 */
export function canonicalFirewall(fw: FirewallJsonIn, project: string): FirewallSpec {
  const direction = String(fw.direction ?? 'INGRESS').toUpperCase() === 'EGRESS' ? 'EGRESS' : 'INGRESS';
  const denied = (fw.denied?.length ?? 0) > 0;
  let sourceRanges = canonicalRanges(fw.sourceRanges);
  const sourceTags = canonicalTags(fw.sourceTags);
  const sourceServiceAccounts = canonicalServiceAccounts(fw.sourceServiceAccounts);
  let destinationRanges = canonicalRanges(fw.destinationRanges);
  if (direction === 'INGRESS' && sourceRanges.length + sourceTags.length + sourceServiceAccounts.length === 0) {
    sourceRanges = ['0.0.0.0/0'];
  }
  if (direction === 'EGRESS' && destinationRanges.length === 0) destinationRanges = ['0.0.0.0/0'];
  const log =
    fw.logConfig?.enable === true
      ? fw.logConfig.metadata === 'EXCLUDE_ALL_METADATA'
        ? 'EXCLUDE_ALL_METADATA'
        : 'INCLUDE_ALL_METADATA'
      : 'off';
  return {
    name: String(fw.name ?? ''),
    network: canonicalNetwork(fw.network, project),
    direction,
    priority: fw.priority === undefined || fw.priority === null ? 1000 : Number(fw.priority),
    action: denied ? 'deny' : 'allow',
    rules: canonicalProtocolRules((denied ? fw.denied : fw.allowed) ?? []),
    sourceRanges,
    sourceTags,
    sourceServiceAccounts,
    destinationRanges,
    targetTags: canonicalTags(fw.targetTags),
    targetServiceAccounts: canonicalServiceAccounts(fw.targetServiceAccounts),
    disabled: fw.disabled === true,
    logging: log,
    description: fw.description ?? '',
  };
}

/** A firewall policy rule as the API, gcloud or the SDK return it. */
export interface PolicyRuleJsonIn {
  readonly priority?: number | string | null;
  readonly ruleName?: string | null;
  readonly description?: string | null;
  readonly direction?: string | null;
  readonly action?: string | null;
  readonly match?: {
    readonly destFqdns?: readonly string[] | null;
    readonly destIpRanges?: readonly string[] | null;
    readonly srcIpRanges?: readonly string[] | null;
    readonly layer4Configs?:
      | readonly { readonly ipProtocol?: string | null; readonly ports?: readonly string[] | null }[]
      | null;
  } | null;
  readonly targetServiceAccounts?: readonly string[] | null;
  readonly targetResources?: readonly string[] | null;
  readonly enableLogging?: boolean | null;
  readonly disabled?: boolean | null;
}

/** Canonical form of a network firewall policy rule (FQDNs lower-case without the trailing dot). */
export function canonicalPolicyRule(rule: PolicyRuleJsonIn, project: string): PolicyRuleSpec {
  return {
    priority: Number(rule.priority ?? 0),
    ruleName: rule.ruleName ?? '',
    description: rule.description ?? '',
    direction: String(rule.direction ?? 'INGRESS').toUpperCase() === 'EGRESS' ? 'EGRESS' : 'INGRESS',
    action: String(rule.action ?? '').toLowerCase(),
    destFqdns: sortedSet(rule.match?.destFqdns, (f) => f.trim().toLowerCase().replace(/\.$/, '')),
    destIpRanges: sortedSet(rule.match?.destIpRanges, canonicalCidr),
    srcIpRanges: sortedSet(rule.match?.srcIpRanges, canonicalCidr),
    layer4Configs: canonicalProtocolRules(rule.match?.layer4Configs ?? []),
    targetServiceAccounts: sortedSet(rule.targetServiceAccounts, (s) => s.toLowerCase()),
    targetResources: sortedSet(rule.targetResources, (r) => canonicalNetwork(r, project)),
    enableLogging: rule.enableLogging === true,
    disabled: rule.disabled === true,
  };
}

/** The rule content of a firewall as child attributes (everything but name, network, direction). */
function firewallChildAttributes(spec: FirewallSpec): { readonly [key: string]: Json } {
  return {
    priority: spec.priority,
    action: spec.action,
    rules: spec.rules.map((r) => ({ protocol: r.protocol, ports: [...r.ports] })),
    sourceRanges: [...spec.sourceRanges],
    sourceTags: [...spec.sourceTags],
    sourceServiceAccounts: [...spec.sourceServiceAccounts],
    destinationRanges: [...spec.destinationRanges],
    targetTags: [...spec.targetTags],
    targetServiceAccounts: [...spec.targetServiceAccounts],
    disabled: spec.disabled,
    logging: spec.logging,
    description: spec.description,
  };
}

/** `tcp/443,8080 udp/53 all` */
export function formatProtocols(rules: readonly ProtocolRule[]): string {
  return rules.map((r) => (r.ports.length > 0 ? `${r.protocol}/${r.ports.join(',')}` : r.protocol)).join(' ');
}

/** One line for the plan: `allow INGRESS tcp/443 from 0.0.0.0/0 to tag shop-lb (priority 1000)`. */
export function summarizeFirewall(spec: FirewallSpec): string {
  const from = [
    ...spec.sourceRanges,
    ...spec.sourceTags.map((t) => `tag ${t}`),
    ...spec.sourceServiceAccounts.map((s) => `sa ${s}`),
  ];
  const targets = [...spec.targetTags.map((t) => `tag ${t}`), ...spec.targetServiceAccounts.map((s) => `sa ${s}`)];
  const who = targets.length > 0 ? targets.join(', ') : 'all instances';
  const where =
    spec.direction === 'INGRESS'
      ? `from ${from.join(', ')} to ${who}`
      : `from ${who} to ${spec.destinationRanges.join(', ')}`;
  return `${spec.action} ${spec.direction} ${formatProtocols(spec.rules)} ${where} (priority ${spec.priority}${spec.disabled ? ', disabled' : ''}${spec.logging !== 'off' ? ', logged' : ''})`;
}

/** `forceNew` of every firewall Resource (one frozen list, not one per rule). */
const FIREWALL_FORCE_NEW: readonly string[] = Object.freeze(['network', 'direction']);

/** Options of a firewall Resource beyond its spec. */
export interface FirewallResourceExtra {
  readonly liveId?: string;
  readonly origins?: Resource['origins'];
  readonly widens?: boolean;
}

/** The Resource of a firewall: identity attributes on the resource, the rule's content in one child. */
export function firewallResource(target: string, spec: FirewallSpec, extra: FirewallResourceExtra = {}): Resource {
  return assembleFirewall(
    target,
    spec,
    { network: spec.network, direction: spec.direction },
    firewallChildAttributes(spec),
    extra,
    summarizeFirewall(spec),
  );
}

/**
 * Makes the firewall Resources of one target (render's many rules) from specs whose lists it may
 * keep: the child's attribute lists ARE the spec's lists, and what rules have in common (the
 * identity attributes of a network and direction, the protocol entries of one `rules` list) is one
 * frozen object shared by all of them. Equal to `firewallResource` of the same spec (a test holds
 * them equal); worth it because render keeps 540,000 of these alive until output at 10,000
 * segments (issue 11), and every object less per rule is one less for the garbage collector to move.
 * The caller must not change a list after handing it over (render's lists are frozen).
 */
export function firewallResourceBuilder(
  target: string,
): (spec: FirewallSpec, extra?: FirewallResourceExtra) => Resource {
  const identities = new Map<string, { readonly [key: string]: Json }>();
  const protocolLists = new WeakMap<readonly ProtocolRule[], Json>();
  const protocolTexts = new WeakMap<readonly ProtocolRule[], string>();
  // summarizeFirewall's pieces per list (`10.0.0.0/8, …`, `tag a, tag b`, `sa x`).
  const texts = { '': new WeakMap(), 'tag ': new WeakMap(), 'sa ': new WeakMap() } as const;
  const text = (list: readonly string[], prefix: keyof typeof texts): string => {
    if (list.length === 0) return '';
    let t = texts[prefix].get(list) as string | undefined;
    if (t === undefined) {
      t = flat(prefix === '' ? list.join(', ') : list.map((x) => `${prefix}${x}`).join(', '));
      texts[prefix].set(list, t);
    }
    return t;
  };
  const either = (a: string, b: string) => (a === '' ? b : b === '' ? a : `${a}, ${b}`);
  /** summarizeFirewall(spec), from the pieces (a test holds the two equal). */
  const summary = (spec: FirewallSpec): string => {
    let protocols = protocolTexts.get(spec.rules);
    if (protocols === undefined) {
      protocols = formatProtocols(spec.rules);
      protocolTexts.set(spec.rules, protocols);
    }
    const who = either(text(spec.targetTags, 'tag '), text(spec.targetServiceAccounts, 'sa ')) || 'all instances';
    const where =
      spec.direction === 'INGRESS'
        ? `from ${either(either(text(spec.sourceRanges, ''), text(spec.sourceTags, 'tag ')), text(spec.sourceServiceAccounts, 'sa '))} to ${who}`
        : `from ${who} to ${text(spec.destinationRanges, '')}`;
    return `${spec.action} ${spec.direction} ${protocols} ${where} (priority ${spec.priority}${spec.disabled ? ', disabled' : ''}${spec.logging !== 'off' ? ', logged' : ''})`;
  };
  return (spec, extra = {}) => {
    const idKey = `${spec.direction}\n${spec.network}`;
    let identity = identities.get(idKey);
    if (identity === undefined) {
      identity = Object.freeze({ network: spec.network, direction: spec.direction });
      identities.set(idKey, identity);
    }
    let rules = protocolLists.get(spec.rules);
    if (rules === undefined) {
      rules = deepFreeze(spec.rules.map((r) => ({ protocol: r.protocol, ports: [...r.ports] })));
      protocolLists.set(spec.rules, rules);
    }
    // The same keys in the same order as firewallChildAttributes (JSON output follows key order).
    const attributes: { readonly [key: string]: Json } = {
      priority: spec.priority,
      action: spec.action,
      rules,
      sourceRanges: spec.sourceRanges,
      sourceTags: spec.sourceTags,
      sourceServiceAccounts: spec.sourceServiceAccounts,
      destinationRanges: spec.destinationRanges,
      targetTags: spec.targetTags,
      targetServiceAccounts: spec.targetServiceAccounts,
      disabled: spec.disabled,
      logging: spec.logging,
      description: spec.description,
    };
    return assembleFirewall(target, spec, identity, attributes, extra, summary(spec));
  };
}

/** A JSON value frozen all the way down (shared read-only by many resources). */
function deepFreeze<T extends Json>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v as Json);
    Object.freeze(value);
  }
  return value;
}

function assembleFirewall(
  target: string,
  spec: FirewallSpec,
  identity: { readonly [key: string]: Json },
  attributes: { readonly [key: string]: Json },
  extra: FirewallResourceExtra,
  summary: string,
): Resource {
  // One literal per combination of the optional fields, in the key order spreading them in would
  // give: render builds one of these per rule, and V8 sizes an object literal to its own keys, so
  // a field assigned after it moved every rule's child and resource to an out-of-object property
  // store (two a rule: 4.2 of the 34.5 MB a 1,000-segment render keeps), and a conditional
  // spread costs several times more.
  const origins = extra.origins !== undefined && extra.origins.length > 0 ? extra.origins : undefined;
  const key = RULE_CHILD_KEY;
  const text = flat(summary);
  const child: Child =
    origins === undefined
      ? extra.widens
        ? { key, summary: text, attributes, widens: true }
        : { key, summary: text, attributes }
      : extra.widens
        ? { key, summary: text, attributes, origins, widens: true }
        : { key, summary: text, attributes, origins };
  const address = flat(`${target}.${FIREWALL_TYPE}.${spec.name}`);
  const type = FIREWALL_TYPE;
  const name = spec.name;
  const children = [child];
  const forceNew = FIREWALL_FORCE_NEW;
  const liveId = extra.liveId;
  if (liveId)
    return origins === undefined
      ? { address, target, type, name, attributes: identity, children, forceNew, liveId }
      : { address, target, type, name, attributes: identity, children, forceNew, liveId, origins };
  return origins === undefined
    ? { address, target, type, name, attributes: identity, children, forceNew }
    : { address, target, type, name, attributes: identity, children, forceNew, origins };
}

/**
 * The FirewallSpec a firewall Resource carries (inverse of `firewallResource`), with lists of its
 * own: for callers that keep or change the spec (apply's bodies). Readers that only look take
 * `firewallSpecView`, which this copies.
 */
export function firewallSpecOf(resource: Resource): FirewallSpec {
  const v = firewallSpecView(resource);
  return {
    ...v,
    rules: v.rules.map((r) => ({ protocol: r.protocol, ports: [...r.ports] })),
    sourceRanges: [...v.sourceRanges],
    sourceTags: [...v.sourceTags],
    sourceServiceAccounts: [...v.sourceServiceAccounts],
    destinationRanges: [...v.destinationRanges],
    targetTags: [...v.targetTags],
    targetServiceAccounts: [...v.targetServiceAccounts],
  };
}

const NO_STRINGS: readonly string[] = Object.freeze([]);

/**
 * The FirewallSpec of a firewall Resource as a read-only view: its lists are the resource's own
 * (no copies), for readers that only look (validate's limits, the CLI JSON, the evaluator, the
 * plan diagram's rule flows): at 540,000 rules `firewallSpecOf`'s twelve copies per rule were most
 * of their time (issue 11).
 */
export function firewallSpecView(resource: Resource): FirewallSpec {
  const children = resource.children;
  // The rule child is the only child render and read make; find it without a closure.
  let a: { readonly [key: string]: Json } = {};
  for (let i = 0; i < children.length; i++) {
    if (children[i]!.key === RULE_CHILD_KEY) {
      a = children[i]!.attributes;
      break;
    }
  }
  const list = (k: string) => (a[k] as readonly string[] | undefined) ?? NO_STRINGS;
  return {
    name: resource.name,
    network: String(resource.attributes['network']),
    direction: resource.attributes['direction'] === 'EGRESS' ? 'EGRESS' : 'INGRESS',
    priority: Number(a['priority'] ?? 1000),
    action: a['action'] === 'deny' ? 'deny' : 'allow',
    rules: (a['rules'] as readonly ProtocolRule[] | undefined) ?? [],
    sourceRanges: list('sourceRanges'),
    sourceTags: list('sourceTags'),
    sourceServiceAccounts: list('sourceServiceAccounts'),
    destinationRanges: list('destinationRanges'),
    targetTags: list('targetTags'),
    targetServiceAccounts: list('targetServiceAccounts'),
    disabled: a['disabled'] === true,
    logging: (a['logging'] as FirewallSpec['logging'] | undefined) ?? 'off',
    description: String(a['description'] ?? ''),
  };
}

/** Child attributes of a policy rule. */
export function policyRuleAttributes(spec: PolicyRuleSpec): { readonly [key: string]: Json } {
  return {
    priority: spec.priority,
    ruleName: spec.ruleName,
    description: spec.description,
    direction: spec.direction,
    action: spec.action,
    destFqdns: [...spec.destFqdns],
    destIpRanges: [...spec.destIpRanges],
    srcIpRanges: [...spec.srcIpRanges],
    layer4Configs: spec.layer4Configs.map((r) => ({ protocol: r.protocol, ports: [...r.ports] })),
    targetServiceAccounts: [...spec.targetServiceAccounts],
    targetResources: [...spec.targetResources],
    enableLogging: spec.enableLogging,
    disabled: spec.disabled,
  };
}

/** The PolicyRuleSpec of a child (inverse of `policyRuleAttributes`). */
export function policyRuleSpecOf(child: Child): PolicyRuleSpec {
  const a = child.attributes;
  const list = (k: string) => ((a[k] as readonly string[] | undefined) ?? []).slice();
  return {
    priority: Number(a['priority']),
    ruleName: String(a['ruleName'] ?? ''),
    description: String(a['description'] ?? ''),
    direction: a['direction'] === 'INGRESS' ? 'INGRESS' : 'EGRESS',
    action: String(a['action'] ?? 'allow'),
    destFqdns: list('destFqdns'),
    destIpRanges: list('destIpRanges'),
    srcIpRanges: list('srcIpRanges'),
    layer4Configs: (
      (a['layer4Configs'] as readonly { protocol: string; ports: readonly string[] }[] | undefined) ?? []
    ).map((r) => ({
      protocol: r.protocol,
      ports: [...r.ports],
    })),
    targetServiceAccounts: list('targetServiceAccounts'),
    targetResources: list('targetResources'),
    enableLogging: a['enableLogging'] === true,
    disabled: a['disabled'] === true,
  };
}

/** One line for the plan for a policy rule. */
export function summarizePolicyRule(spec: PolicyRuleSpec): string {
  const who = [
    ...spec.targetServiceAccounts.map((s) => `sa ${s}`),
    ...spec.targetResources.map((r) => `network ${r.split('/').pop() ?? r}`),
  ];
  const to = [...spec.destFqdns, ...spec.destIpRanges];
  return `${spec.action} ${spec.direction} ${formatProtocols(spec.layer4Configs)} from ${who.join(', ') || 'all instances'} to ${to.join(', ')} (priority ${spec.priority})`;
}

/** A policy rule as a child keyed by its priority (its identity in the policy). */
export function policyRuleChild(
  spec: PolicyRuleSpec,
  extra: { readonly origins?: Child['origins']; readonly widens?: boolean } = {},
): Child {
  return {
    key: String(spec.priority),
    summary: summarizePolicyRule(spec),
    attributes: policyRuleAttributes(spec),
    ...(extra.origins && extra.origins.length > 0 ? { origins: extra.origins } : {}),
    ...(extra.widens ? { widens: true } : {}),
  };
}

/** The policy Resource: nothing of the policy itself is managed, only its owned rules (children). */
export function policyResource(target: string, policy: string, children: readonly Child[], liveId?: string): Resource {
  return {
    address: `${target}.${POLICY_TYPE}.${policy}`,
    target,
    type: POLICY_TYPE,
    name: policy,
    attributes: {},
    children: [...children].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
    ...(liveId ? { liveId } : {}),
  };
}

/** A firewall spec as the API's `Firewall` body (insert/update), network as `projects/…` path. */
export function firewallBody(spec: FirewallSpec, networkForm: 'path' | 'url' = 'path'): Record<string, unknown> {
  const entries = spec.rules.map((r) =>
    r.ports.length > 0
      ? { IPProtocol: wireProtocol(r.protocol), ports: [...r.ports] }
      : { IPProtocol: wireProtocol(r.protocol) },
  );
  const body: Record<string, unknown> = {
    name: spec.name,
    network: networkForm === 'url' ? `${API_ROOT}/${spec.network}` : spec.network,
    direction: spec.direction,
    priority: spec.priority,
    [spec.action === 'deny' ? 'denied' : 'allowed']: entries,
  };
  for (const k of [
    'sourceRanges',
    'sourceTags',
    'sourceServiceAccounts',
    'destinationRanges',
    'targetTags',
    'targetServiceAccounts',
  ] as const) {
    if (spec[k].length > 0) body[k] = [...spec[k]];
  }
  body['description'] = spec.description;
  body['disabled'] = spec.disabled;
  body['logConfig'] = spec.logging === 'off' ? { enable: false } : { enable: true, metadata: spec.logging };
  return body;
}

/** A policy rule spec as the API's `FirewallPolicyRule` body. */
export function policyRuleBody(spec: PolicyRuleSpec, networkForm: 'path' | 'url' = 'url'): Record<string, unknown> {
  const match: Record<string, unknown> = {
    layer4Configs: spec.layer4Configs.map((r) =>
      r.ports.length > 0
        ? { ipProtocol: wireProtocol(r.protocol), ports: [...r.ports] }
        : { ipProtocol: wireProtocol(r.protocol) },
    ),
  };
  if (spec.destFqdns.length > 0) match['destFqdns'] = [...spec.destFqdns];
  if (spec.destIpRanges.length > 0) match['destIpRanges'] = [...spec.destIpRanges];
  if (spec.srcIpRanges.length > 0) match['srcIpRanges'] = [...spec.srcIpRanges];
  const body: Record<string, unknown> = {
    priority: spec.priority,
    ruleName: spec.ruleName,
    description: spec.description,
    direction: spec.direction,
    action: spec.action,
    match,
    enableLogging: spec.enableLogging,
    disabled: spec.disabled,
  };
  if (spec.targetServiceAccounts.length > 0) body['targetServiceAccounts'] = [...spec.targetServiceAccounts];
  if (spec.targetResources.length > 0) {
    body['targetResources'] = spec.targetResources.map((r) => (networkForm === 'url' ? `${API_ROOT}/${r}` : r));
  }
  return body;
}

/**
 * `ProviderState.reserved` of a GCP target: the priorities that rules Bulkhead does not own hold
 * inside its band of the named network firewall policy. Read fills it; render's priority probing
 * skips them, so an FQDN rule is never placed on a priority someone else's rule holds.
 */
export interface GcpReserved {
  /** Sorted ascending. */
  readonly policyPriorities: readonly number[];
}

/** `reserved` as JSON (read side). */
export function reservedJson(reserved: GcpReserved): Json {
  return { policyPriorities: [...reserved.policyPriorities].sort((a, b) => a - b) };
}

/** The policy priorities held by unowned rules, from `ProviderState.reserved` (render side); empty when absent. */
export function reservedPolicyPriorities(reserved: Json | undefined): ReadonlySet<number> {
  if (reserved === null || typeof reserved !== 'object' || Array.isArray(reserved)) return new Set();
  const list = (reserved as { readonly [key: string]: Json })['policyPriorities'];
  return new Set(Array.isArray(list) ? list.filter((p): p is number => typeof p === 'number') : []);
}
