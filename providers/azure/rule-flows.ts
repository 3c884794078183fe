import type { Child, Resource } from '../../src/plan/types.js';
import type { FlowAtom } from '../../src/provider.js';
import { crossFlows, flowPeers } from '../kit/flow-atoms.js';
import type { AppRuleAttributes, RuleAttributes } from './canonical.js';
import { AZURE_TYPES } from './render.js';

function end(item: string, name: (n: string) => string): string {
  if (item === '*') return 'any';
  if (item.startsWith('asg:')) return name(item.slice(item.lastIndexOf('/') + 1));
  return item;
}

function peers(items: readonly string[], name: (n: string) => string): string[] {
  const cidrs = items.filter((i) => /^[0-9a-f:.]+\/\d+$/i.test(i));
  return flowPeers(
    cidrs,
    items.filter((i) => !cidrs.includes(i)).map((i) => end(i, name)),
  );
}

function nsgRuleFlows(child: Child, name: (n: string) => string): FlowAtom[] {
  const a = child.attributes as unknown as Partial<RuleAttributes>;
  // Every NSG child read or rendered is a canonical rule; anything else allows nothing we can draw.
  if (!Array.isArray(a.source) || !Array.isArray(a.destination) || !Array.isArray(a.destinationPorts)) return [];
  if (typeof a.protocol !== 'string') return [];
  const protocol = a.protocol === '*' ? 'all' : a.protocol;
  const ports =
    protocol === 'all' ? ['all'] : a.destinationPorts.map((p) => (p === '*' ? protocol : `${protocol}/${p}`));
  const side = a.direction === 'outbound' ? 'egress' : 'ingress';
  return crossFlows(side, peers(a.source, name), peers(a.destination, name), ports, a.access === 'deny');
}

function appRuleFlows(child: Child): FlowAtom[] {
  const a = child.attributes as unknown as Partial<AppRuleAttributes>;
  if (!Array.isArray(a.targetFqdns)) return []; // a rule type Bulkhead does not manage
  const from = (a.sourceAddresses ?? []).map((s) => (s === '*' ? 'any' : s));
  return crossFlows('egress', from, a.targetFqdns, a.protocols ?? [], false);
}

/** The flows one NSG rule or Firewall Policy application rule allows or denies (Provider.ruleFlows). */
export function azureRuleFlows(resource: Resource, child: Child, name: (n: string) => string): FlowAtom[] {
  if (resource.type === AZURE_TYPES.nsg) return nsgRuleFlows(child, name);
  if (resource.type === AZURE_TYPES.rcg) return appRuleFlows(child);
  return [];
}
