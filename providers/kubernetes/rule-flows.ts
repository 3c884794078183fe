import type { Child, Resource } from '../../src/plan/types.js';
import type { FlowAtom } from '../../src/provider.js';
import { flowPort } from '../kit/flow-atoms.js';
import { childAtom, NP_TYPE, selectorText, type NetworkPolicyAttributes, type Peer, type Port, type Selector } from './canonical.js';
import { SEGMENT_LABEL } from './target.js';

/** A pod selector as a diagram node: the segment when it is the model's segment label alone, else the selector text. */
function podsNode(pods: Selector, namespace: string, ownNamespace: string): string {
  const labels = pods.matchLabels ?? {};
  const keys = Object.keys(labels);
  const who = keys.length === 1 && keys[0] === SEGMENT_LABEL && !pods.matchExpressions ? labels[SEGMENT_LABEL]! : `pods${selectorText(pods)}`;
  return namespace === ownNamespace ? who : `${who} in ${namespace}`;
}

function peerNode(peer: Peer, ownNamespace: string): string {
  if (peer.kind === 'any') return 'any';
  if (peer.kind === 'ipBlock') return peer.except.length > 0 ? `${peer.cidr} except ${peer.except.join(', ')}` : peer.cidr;
  const ns = peer.namespaces.matchLabels?.['kubernetes.io/metadata.name'];
  const nsText = ns !== undefined && Object.keys(peer.namespaces.matchLabels ?? {}).length === 1 && !peer.namespaces.matchExpressions ? ns : `ns${selectorText(peer.namespaces)}`;
  return podsNode(peer.pods, nsText, ownNamespace);
}

function portFlow(p: Port): string {
  if (p.kind === 'all') return 'all';
  const protocol = p.protocol.toLowerCase();
  if (p.port === undefined) return protocol;
  if (typeof p.port === 'string') return `${protocol}/${p.port}`;
  return flowPort(protocol, p.port, p.endPort ?? p.port);
}

/** The flows one NetworkPolicy atom allows (Provider.ruleFlows): NetworkPolicies only allow. */
export function kubernetesRuleFlows(resource: Resource, child: Child, name: (n: string) => string): FlowAtom[] {
  if (resource.type !== NP_TYPE) return [];
  const attrs = resource.attributes as unknown as NetworkPolicyAttributes;
  const atom = childAtom(child);
  // The policy's own pods: its segment for the model's policies (named `<model>-<segment>`).
  const self = attrs.model ? name(resource.name) : podsNode(attrs.podSelector, attrs.namespace, attrs.namespace);
  const peer = peerNode(atom.peer, attrs.namespace);
  const port = portFlow(atom.port);
  return atom.direction === 'ingress' ? [{ side: 'ingress', from: peer, to: self, port, deny: false }] : [{ side: 'egress', from: self, to: peer, port, deny: false }];
}
