import type { Child, Resource } from '../../src/plan/types.js';
import type { FlowAtom } from '../../src/provider.js';
import { crossFlows, flowPeers } from '../kit/flow-atoms.js';
import { FIREWALL_TYPE, firewallSpecView, POLICY_TYPE, policyRuleSpecOf } from './canonical.js';

/** `[{protocol:'tcp', ports:['443','9000-9010']}]` → `tcp/443`, `tcp/9000-9010` (no ports: every port). */
function ports(rules: readonly { readonly protocol: string; readonly ports: readonly string[] }[]): string[] {
  return rules.flatMap((r) => (r.ports.length === 0 ? [r.protocol] : r.ports.map((p) => `${r.protocol}/${p}`)));
}

function firewallFlows(resource: Resource, child: Child, name: (n: string) => string): FlowAtom[] {
  const spec = firewallSpecView({ ...resource, children: [child] });
  if (spec.disabled) return [];
  const targets = [...spec.targetTags.map(name), ...spec.targetServiceAccounts];
  const who = targets.length > 0 ? targets : ['all instances'];
  const deny = spec.action === 'deny';
  if (spec.direction === 'INGRESS') {
    const from = flowPeers(spec.sourceRanges, [...spec.sourceTags.map(name), ...spec.sourceServiceAccounts]);
    return crossFlows('ingress', from, who, ports(spec.rules), deny);
  }
  return crossFlows('egress', who, flowPeers(spec.destinationRanges, []), ports(spec.rules), deny);
}

function policyFlows(child: Child): FlowAtom[] {
  const spec = policyRuleSpecOf(child);
  if (spec.disabled || spec.action === 'goto_next') return [];
  const who = spec.targetServiceAccounts.length > 0 ? [...spec.targetServiceAccounts] : ['all instances'];
  const deny = spec.action === 'deny';
  return spec.direction === 'EGRESS'
    ? crossFlows('egress', who, flowPeers(spec.destIpRanges, spec.destFqdns), ports(spec.layer4Configs), deny)
    : crossFlows('ingress', flowPeers(spec.srcIpRanges, []), who, ports(spec.layer4Configs), deny);
}

/** The flows one VPC firewall rule or network firewall policy rule allows or denies (Provider.ruleFlows). */
export function gcpRuleFlows(resource: Resource, child: Child, name: (n: string) => string): FlowAtom[] {
  if (resource.type === FIREWALL_TYPE) return firewallFlows(resource, child, name);
  if (resource.type === POLICY_TYPE) return policyFlows(child);
  return [];
}
