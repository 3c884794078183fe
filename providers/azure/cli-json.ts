import type { TargetSpec } from '../../src/compile/types.js';
import type { Json, Resource } from '../../src/plan/types.js';
import { appRuleToWire, asgId, protocolToWire, type AppRuleAttributes, type RuleAttributes } from './canonical.js';
import { ownerTagMap } from '../kit/ownership.js';
import { AZURE_TYPES, azureConfig } from './render.js';
import { hasNsgMap } from './nsgs.js';

/**
 * `bulkhead render --provider azure --json`: the desired objects in the shapes the az CLI prints,
 *
 *   { "nsg":  <az network nsg show>,                  (only the model's rules: render knows no others)
 *     ("nsgs": [<az network nsg show>, …] instead, sorted by name, for a target with `nsgs`)
 *     "asgs": [<az network asg list item>, …],
 *     "ruleCollectionGroup": <az network firewall policy rule-collection-group show> }   (with FQDN egress)
 *
 * i.e. flattened properties, `resourceGroup`, ARM ids, and the unused plural fields of each rule
 * as `[]`, the way Azure returns them. Read-only fields Azure would add (etag, provisioningState,
 * resourceGuid, defaultSecurityRules) are left out: this is what Bulkhead asks for, not a read.
 */
export function azureCliJson(resources: readonly Resource[], target: TargetSpec): Json {
  const cfg = azureConfig(target);
  const base = `/subscriptions/${cfg.subscription}/resourceGroups/${cfg.resourceGroup}/providers/Microsoft.Network`;
  const nsgResources = resources.filter((r) => r.type === AZURE_TYPES.nsg);
  const asgs = resources.filter((r) => r.type === AZURE_TYPES.asg);
  const rcg = resources.find((r) => r.type === AZURE_TYPES.rcg);
  // One `[{ id }]` per ASG for the whole render (a segment's ASG is named by every rule that
  // references it): read-only, shared by those rules (`--format yaml` prints shared objects in full).
  const asgIds: AsgIds = new Map();
  const nsgJson = (nsg: Resource | undefined, name: string): Json => {
    const nsgId = `${base}/networkSecurityGroups/${name}`;
    const rules = (nsg?.children ?? []).map((c) =>
      cliRule(
        c.key,
        c.attributes as RuleAttributes,
        cfg.subscription,
        `${nsgId}/securityRules/${c.key}`,
        cfg.resourceGroup,
        asgIds,
      ),
    );
    // Built fresh for this call and free of undefined values (ruleToWire leaves absent fields out),
    // so it is plain JSON as it stands: no JSON.stringify/parse round trip of 440,000 rules.
    return {
      id: nsgId,
      location: cfg.location,
      name,
      resourceGroup: cfg.resourceGroup,
      securityRules: rules as unknown as Json,
      type: 'Microsoft.Network/networkSecurityGroups',
    };
  };
  const out: Record<string, Json> = {
    ...(hasNsgMap(cfg)
      ? { nsgs: nsgResources.map((n) => nsgJson(n, n.name)) }
      : { nsg: nsgJson(nsgResources[0], cfg.nsg ?? '') }),
    asgs: asgs.map((a) => ({
      id: asgId(cfg.subscription, `asg:${cfg.resourceGroup}/${a.name}`),
      location: cfg.location,
      name: a.name,
      resourceGroup: cfg.resourceGroup,
      tags: { ...ownerTagMap(String(a.attributes['model'] ?? '')) },
      type: 'Microsoft.Network/applicationSecurityGroups',
    })),
  };
  if (rcg && cfg.firewallPolicy) {
    out['ruleCollectionGroup'] = JSON.parse(
      JSON.stringify({
        id: `${base}/firewallPolicies/${cfg.firewallPolicy}/ruleCollectionGroups/${rcg.name}`,
        name: rcg.name,
        priority: rcg.attributes['priority'],
        resourceGroup: cfg.resourceGroup,
        ruleCollections: [
          {
            action: { type: 'Allow' },
            name: rcg.attributes['collection'],
            priority: rcg.attributes['collectionPriority'],
            ruleCollectionType: 'FirewallPolicyFilterRuleCollection',
            rules: rcg.children.map((c) => appRuleToWire(c.key, c.attributes as AppRuleAttributes)),
          },
        ],
        type: 'Microsoft.Network/FirewallPolicies/RuleCollectionGroups',
      }),
    ) as Json;
  }
  return out;
}

/** An ASG's `{ id }` and that id alone in a list, shared by the rules of one render. */
interface AsgShared {
  readonly ref: Json;
  readonly alone: Json;
}
/** ASG reference → its shared `{ id }` and list. */
type AsgIds = Map<string, AsgShared>;

/**
 * The one empty list of the unused plural fields, shared. Read-only by contract but not frozen,
 * like the shared ASG lists: JSON.stringify leaves its fast path for frozen objects (writeJson of
 * a 3,000-segment NSG was ~1.1x slower with them frozen).
 */
const NONE: Json = [];

/**
 * One rule as `az network nsg show` prints it: `ruleToWire`'s fields, then the unused plural fields
 * as `[]`, then id, resourceGroup and type. Written out key by key (the order is what the spread
 * form `{ ...ruleToWire(…), …(w.sourcePortRange !== undefined ? { sourcePortRanges: [] } : {}), … }`
 * gives, kept by test/providers/azure/cli-json.test.ts): that form made and spread six objects with
 * computed keys per rule, which at 440,000 rules cost more than the whole render. Lists are the
 * rule's own attributes (read-only) or shared: one `[]`, one `[{ id }]` per ASG (`asgIds`), not
 * copies per rule.
 */
export function cliRule(
  name: string,
  a: RuleAttributes,
  subscription: string,
  id: string,
  resourceGroup: string,
  asgIds: AsgIds = new Map(),
): Json {
  const o: { [k: string]: Json } = { name };
  if (a.description !== '') o['description'] = a.description;
  o['protocol'] = protocolToWire(a.protocol);
  if (a.sourcePorts.length === 1) o['sourcePortRange'] = a.sourcePorts[0]!;
  else o['sourcePortRanges'] = a.sourcePorts;
  if (a.destinationPorts.length === 1) o['destinationPortRange'] = a.destinationPorts[0]!;
  else o['destinationPortRanges'] = a.destinationPorts;
  const sourcePrefixes = wireSide(o, SOURCE_KEYS, a.source, subscription, asgIds);
  const destinationPrefixes = wireSide(o, DESTINATION_KEYS, a.destination, subscription, asgIds);
  o['access'] = a.access === 'deny' ? 'Deny' : 'Allow';
  o['priority'] = a.priority;
  o['direction'] = a.direction === 'outbound' ? 'Outbound' : 'Inbound';
  if (a.sourcePorts.length === 1) o['sourcePortRanges'] = NONE;
  if (a.destinationPorts.length === 1) o['destinationPortRanges'] = NONE;
  if (!sourcePrefixes) o['sourceAddressPrefixes'] = NONE;
  if (!destinationPrefixes) o['destinationAddressPrefixes'] = NONE;
  o['id'] = id;
  o['resourceGroup'] = resourceGroup;
  o['type'] = 'Microsoft.Network/networkSecurityGroups/securityRules';
  return o;
}

/** The wire keys of one side of a rule (constants, not texts built per rule). */
interface SideKeys {
  readonly asgs: string;
  readonly prefix: string;
  readonly prefixes: string;
}
const SOURCE_KEYS: SideKeys = {
  asgs: 'sourceApplicationSecurityGroups',
  prefix: 'sourceAddressPrefix',
  prefixes: 'sourceAddressPrefixes',
};
const DESTINATION_KEYS: SideKeys = {
  asgs: 'destinationApplicationSecurityGroups',
  prefix: 'destinationAddressPrefix',
  prefixes: 'destinationAddressPrefixes',
};

/** Writes one side of a rule into `o` (ASGs, one prefix or several); true when it wrote the plural prefixes. */
function wireSide(
  o: { [k: string]: Json },
  keys: SideKeys,
  values: readonly string[],
  subscription: string,
  asgIds: AsgIds,
): boolean {
  // The common case, one ASG: its shared list. Several: a list of their shared ids.
  let first: AsgShared | undefined;
  let several: Json[] | undefined;
  for (const v of values) {
    if (!v.startsWith('asg:')) continue;
    let shared = asgIds.get(v);
    if (shared === undefined) {
      const ref: Json = { id: asgId(subscription, v) };
      shared = { ref, alone: [ref] };
      asgIds.set(v, shared);
    }
    if (first === undefined) first = shared;
    else (several ??= [first.ref]).push(shared.ref);
  }
  if (several !== undefined) o[keys.asgs] = several;
  else if (first !== undefined) o[keys.asgs] = first.alone;
  else if (values.length === 1) o[keys.prefix] = values[0]!;
  else {
    o[keys.prefixes] = values;
    return true;
  }
  return false;
}
