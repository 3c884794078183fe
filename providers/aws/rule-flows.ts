import type { Child, Resource } from '../../src/plan/types.js';
import type { FlowAtom } from '../../src/provider.js';
import { flowPort } from '../kit/flow-atoms.js';
import { childRule, SG_TYPE } from './canonical.js';

/**
 * The flows one security group rule allows (Provider.ruleFlows). Prefix-list entries are the
 * addresses of an entity, not flows: the rules that name the list are.
 */
export function awsRuleFlows(resource: Resource, child: Child, name: (n: string) => string): FlowAtom[] {
  if (resource.type !== SG_TYPE) return [];
  const rule = childRule(child);
  const peer = rule.peer.kind === 'cidr' ? rule.peer.cidr : name(rule.peer.ref);
  const self = name(resource.name);
  const port = flowPort(rule.protocol, rule.fromPort, rule.toPort);
  return rule.direction === 'ingress'
    ? [{ side: 'ingress', from: peer, to: self, port, deny: false }]
    : [{ side: 'egress', from: self, to: peer, port, deny: false }];
}
