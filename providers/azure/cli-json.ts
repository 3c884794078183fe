import type { TargetSpec } from '../../src/compile/types.js';
import type { Json, Resource } from '../../src/plan/types.js';
import { appRuleToWire, asgId, ruleToWire, type AppRuleAttributes, type RuleAttributes } from './canonical.js';
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
  const nsgJson = (nsg: Resource | undefined, name: string): Json => {
    const nsgId = `${base}/networkSecurityGroups/${name}`;
    const rules = (nsg?.children ?? []).map((c) => {
      const w = ruleToWire(c.key, c.attributes as RuleAttributes, cfg.subscription);
      return {
        ...w,
        ...(w.sourcePortRange !== undefined ? { sourcePortRanges: [] } : {}),
        ...(w.destinationPortRange !== undefined ? { destinationPortRanges: [] } : {}),
        ...(w.sourceAddressPrefixes === undefined ? { sourceAddressPrefixes: [] } : {}),
        ...(w.destinationAddressPrefixes === undefined ? { destinationAddressPrefixes: [] } : {}),
        id: `${nsgId}/securityRules/${c.key}`,
        resourceGroup: cfg.resourceGroup,
        type: 'Microsoft.Network/networkSecurityGroups/securityRules',
      };
    });
    return JSON.parse(
      JSON.stringify({
        id: nsgId,
        location: cfg.location,
        name,
        resourceGroup: cfg.resourceGroup,
        securityRules: rules,
        type: 'Microsoft.Network/networkSecurityGroups',
      }),
    ) as Json;
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
