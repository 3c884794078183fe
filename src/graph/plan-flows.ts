import { childRule, SG_TYPE } from '../../providers/aws/rules.js';
import type { AppRuleAttributes, RuleAttributes } from '../../providers/azure/canonical.js';
import { AZURE_TYPES } from '../../providers/azure/render.js';
import { FIREWALL_TYPE, firewallSpecOf, POLICY_TYPE, policyRuleSpecOf } from '../../providers/gcp/canonical.js';
import { compareStrings } from '../compile/canonical.js';
import type { CloudId } from '../compile/types.js';
import type { Child, Plan, Resource } from '../plan/types.js';

/**
 * The flows a plan adds and removes, read from its rule changes: for each created, deleted or
 * changed native rule, the (from, to, ports) it allows or denies, named as the cloud names them
 * (an owned object `<model>-<segment>` by its segment, everything else as written: CIDRs, service
 * tags, `sg-` ids, FQDNs). This reads the diff rather than two RuleSets because a plan compares the
 * model with the *live* state: what it removes is often not in any model (a rule added by hand),
 * so only the native rules can say what goes away. Each provider's own inverse of its rule
 * attributes (childRule, firewallSpecOf, policyRuleSpecOf) does the reading.
 *
 * Flows are compared as (from, to, port) as the rules write them: a rule for tcp/9000-9010
 * replaced by one for tcp/9005 is the removal of one and the addition of the other.
 */

/** One edge of flow changes: every port added (or removed) between one ordered pair. */
export interface FlowEdge {
  readonly from: string;
  readonly to: string;
  /** Canonical-ish port texts as the cloud's rule says them (`tcp/443`, `tcp/9000-9010`, `all`), sorted. */
  readonly ports: readonly string[];
  /** True for a deny rule (a guardrail rendered natively, or a default-deny). */
  readonly deny: boolean;
}

/** The flow changes of one target. */
export interface TargetFlowChanges {
  readonly target: string;
  readonly provider: CloudId;
  /** Sorted by (from, to, deny). */
  readonly added: readonly FlowEdge[];
  readonly removed: readonly FlowEdge[];
}

/**
 * One allowed or denied (from, to, port) atom of a native rule, with the side that carries it: a
 * flow between two segments has a rule on each side (AWS ingress and egress, Azure inbound and
 * outbound), and a plan that adds or removes either side changes it.
 */
interface Atom {
  readonly side: 'ingress' | 'egress';
  readonly from: string;
  readonly to: string;
  readonly port: string;
  readonly deny: boolean;
}

/** Names an owned object by its segment (`shop-web` → `web`); anything else stays as written. */
function namer(model: string): (name: string) => string {
  const prefix = `${model}-`;
  return (name) => (name.startsWith(prefix) && name.length > prefix.length ? name.slice(prefix.length) : name);
}

function cross(side: Atom['side'], froms: readonly string[], tos: readonly string[], ports: readonly string[], deny: boolean): Atom[] {
  const out: Atom[] = [];
  for (const from of froms) for (const to of tos) for (const port of ports) out.push({ side, from, to, port, deny });
  return out;
}

/** CIDRs of one rule side as one node (a list of ranges is one peer), named things each their own. */
function side(cidrs: readonly string[], named: readonly string[]): string[] {
  return [...named, ...(cidrs.length > 0 ? [cidrs.join(', ')] : [])];
}

function portRange(protocol: string, from: number | null, to: number | null): string {
  if (from === null || to === null) return protocol;
  if (protocol === 'icmp' || protocol === 'icmpv6') return from < 0 ? protocol : to < 0 ? `${protocol}/${from}` : `${protocol}/${from}/${to}`;
  if (from === 0 && to === 65535) return protocol;
  return from === to ? `${protocol}/${from}` : `${protocol}/${from}-${to}`;
}

/** `[{protocol:'tcp', ports:['443','9000-9010']}]` (GCP) → `tcp/443`, `tcp/9000-9010`. */
function gcpPorts(rules: readonly { readonly protocol: string; readonly ports: readonly string[] }[]): string[] {
  return rules.flatMap((r) => (r.ports.length === 0 ? [r.protocol] : r.ports.map((p) => `${r.protocol}/${p}`)));
}

function awsAtoms(child: Child, holder: string, name: (n: string) => string): Atom[] {
  const rule = childRule(child);
  const peer = rule.peer.kind === 'cidr' ? rule.peer.cidr : name(rule.peer.ref);
  const self = name(holder);
  const port = portRange(rule.protocol, rule.fromPort, rule.toPort);
  return rule.direction === 'ingress' ? [{ side: 'ingress', from: peer, to: self, port, deny: false }] : [{ side: 'egress', from: self, to: peer, port, deny: false }];
}

function azureEnd(item: string, name: (n: string) => string): string {
  if (item === '*') return 'any';
  if (item.startsWith('asg:')) return name(item.slice(item.lastIndexOf('/') + 1));
  return item;
}

function azureSide(items: readonly string[], name: (n: string) => string): string[] {
  const cidrs = items.filter((i) => /^[0-9a-f:.]+\/\d+$/i.test(i));
  return side(cidrs, items.filter((i) => !cidrs.includes(i)).map((i) => azureEnd(i, name)));
}

function azureAtoms(child: Child, name: (n: string) => string): Atom[] {
  const a = child.attributes as unknown as Partial<RuleAttributes>;
  // Every NSG child read or rendered is a canonical rule; anything else allows nothing we can draw.
  if (!Array.isArray(a.source) || !Array.isArray(a.destination) || !Array.isArray(a.destinationPorts) || typeof a.protocol !== 'string') return [];
  const protocol = a.protocol === '*' ? 'all' : a.protocol;
  const ports = protocol === 'all' ? ['all'] : a.destinationPorts.map((p) => (p === '*' ? protocol : `${protocol}/${p}`));
  return cross(a.direction === 'outbound' ? 'egress' : 'ingress', azureSide(a.source, name), azureSide(a.destination, name), ports, a.access === 'deny');
}

function azureAppAtoms(child: Child): Atom[] {
  const a = child.attributes as unknown as Partial<AppRuleAttributes>;
  if (!Array.isArray(a.targetFqdns)) return []; // a rule type Bulkhead does not manage
  const from = (a.sourceAddresses ?? []).map((s) => (s === '*' ? 'any' : s));
  return cross('egress', from, a.targetFqdns, a.protocols ?? [], false);
}

function gcpFirewallAtoms(resource: Resource, child: Child, name: (n: string) => string): Atom[] {
  const spec = firewallSpecOf({ ...resource, children: [child] });
  if (spec.disabled) return [];
  const targets = [...spec.targetTags.map(name), ...spec.targetServiceAccounts];
  const who = targets.length > 0 ? targets : ['all instances'];
  const ports = gcpPorts(spec.rules);
  const deny = spec.action === 'deny';
  return spec.direction === 'INGRESS'
    ? cross('ingress', side(spec.sourceRanges, [...spec.sourceTags.map(name), ...spec.sourceServiceAccounts]), who, ports, deny)
    : cross('egress', who, side(spec.destinationRanges, []), ports, deny);
}

function gcpPolicyAtoms(child: Child): Atom[] {
  const spec = policyRuleSpecOf(child);
  if (spec.disabled || spec.action === 'goto_next') return [];
  const who = spec.targetServiceAccounts.length > 0 ? [...spec.targetServiceAccounts] : ['all instances'];
  const ports = gcpPorts(spec.layer4Configs);
  const deny = spec.action === 'deny';
  return spec.direction === 'EGRESS'
    ? cross('egress', who, side(spec.destIpRanges, spec.destFqdns), ports, deny)
    : cross('ingress', side(spec.srcIpRanges, []), who, ports, deny);
}

/** The atoms one native rule allows or denies; [] for children that are no rule (prefix-list entries). */
function atomsOf(provider: CloudId, resource: Resource, child: Child, name: (n: string) => string): Atom[] {
  switch (provider) {
    case 'aws':
      // Prefix-list entries are addresses of an entity, not flows: the rules naming the list are.
      return resource.type === SG_TYPE ? awsAtoms(child, resource.name, name) : [];
    case 'azure':
      return resource.type === AZURE_TYPES.nsg ? azureAtoms(child, name) : resource.type === AZURE_TYPES.rcg ? azureAppAtoms(child) : [];
    case 'gcp':
      return resource.type === FIREWALL_TYPE ? gcpFirewallAtoms(resource, child, name) : resource.type === POLICY_TYPE ? gcpPolicyAtoms(child) : [];
  }
}

const atomKey = (a: Atom) => JSON.stringify([a.side, a.from, a.to, a.port, a.deny]);

function merge(atoms: Iterable<Atom>): FlowEdge[] {
  const edges = new Map<string, { from: string; to: string; deny: boolean; ports: Set<string> }>();
  for (const a of atoms) {
    const k = JSON.stringify([a.from, a.to, a.deny]);
    const e = edges.get(k) ?? { from: a.from, to: a.to, deny: a.deny, ports: new Set<string>() };
    edges.set(k, e);
    e.ports.add(a.port);
  }
  return [...edges.values()]
    .map((e) => ({ from: e.from, to: e.to, ports: [...e.ports].sort(comparePorts), deny: e.deny }))
    .sort((a, b) => compareStrings(a.from, b.from) || compareStrings(a.to, b.to) || Number(a.deny) - Number(b.deny));
}

/** `tcp/80` before `tcp/443` before `udp/53`: protocol, then first port as a number. */
function comparePorts(a: string, b: string): number {
  const [pa, ra] = a.split('/', 2), [pb, rb] = b.split('/', 2);
  return compareStrings(pa ?? '', pb ?? '') || (Number.parseInt(ra ?? '-1', 10) || -1) - (Number.parseInt(rb ?? '-1', 10) || -1) || compareStrings(a, b);
}

/** The atoms of every rule of some resources, keyed. */
function atomsOfAll(provider: CloudId, resources: Iterable<Resource>, name: (n: string) => string): Map<string, Atom> {
  const out = new Map<string, Atom>();
  for (const r of resources) for (const c of r.children) for (const a of atomsOf(provider, r, c, name)) out.set(atomKey(a), a);
  return out;
}

/**
 * The flow changes of every target of a plan (targets without any are left out): what the owned
 * rules allow (or deny) after the plan and did not before, and the reverse. Both sides are the
 * whole owned state, not just the changed rules, so a flow that another rule keeps open is not
 * "removed", and a rule re-created with a new priority or description changes no flow.
 */
export function planFlowChanges(plan: Plan): TargetFlowChanges[] {
  const name = namer(plan.model.name);
  const out: TargetFlowChanges[] = [];
  for (const t of plan.targets) {
    if (t.changes.length === 0) continue;
    const changed = new Set(t.changes.map((c) => c.address));
    const before = atomsOfAll(t.provider, t.prior, name);
    const after = atomsOfAll(
      t.provider,
      [...t.prior.filter((r) => !changed.has(r.address)), ...t.changes.flatMap((c) => (c.after ? [c.after] : []))],
      name,
    );
    const added = [...after].filter(([k]) => !before.has(k)).map(([, a]) => a);
    const removed = [...before].filter(([k]) => !after.has(k)).map(([, a]) => a);
    if (added.length === 0 && removed.length === 0) continue;
    out.push({ target: t.target, provider: t.provider, added: merge(added), removed: merge(removed) });
  }
  return out;
}
