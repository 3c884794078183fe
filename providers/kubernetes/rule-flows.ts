import type { Child, Resource } from '../../src/plan/types.js';
import type { FlowAtom } from '../../src/provider.js';
import { flowPort } from '../kit/flow-atoms.js';
import {
  childAtom,
  NP_TYPE,
  selectorText,
  type NetworkPolicyAttributes,
  type Peer,
  type Port,
  type Selector,
} from './canonical.js';
import { CNP_TYPE, type CiliumAttributes, type CiliumPeer, type CiliumPort } from './cilium.js';
import { SEGMENT_LABEL } from './target.js';

/** A pod selector as a diagram node: the segment when it is the model's segment label alone, else the selector text. */
function podsNode(pods: Selector, namespace: string, ownNamespace: string): string {
  const labels = pods.matchLabels ?? {};
  const keys = Object.keys(labels);
  const who =
    keys.length === 1 && keys[0] === SEGMENT_LABEL && !pods.matchExpressions
      ? labels[SEGMENT_LABEL]!
      : `pods${selectorText(pods)}`;
  return namespace === ownNamespace ? who : `${who} in ${namespace}`;
}

function peerNode(peer: Peer, ownNamespace: string): string {
  if (peer.kind === 'any') return 'any';
  if (peer.kind === 'ipBlock')
    return peer.except.length > 0 ? `${peer.cidr} except ${peer.except.join(', ')}` : peer.cidr;
  const ns = peer.namespaces.matchLabels?.['kubernetes.io/metadata.name'];
  const nsText =
    ns !== undefined && Object.keys(peer.namespaces.matchLabels ?? {}).length === 1 && !peer.namespaces.matchExpressions
      ? ns
      : `ns${selectorText(peer.namespaces)}`;
  return podsNode(peer.pods, nsText, ownNamespace);
}

function portFlow(p: Port): string {
  if (p.kind === 'all') return 'all';
  const protocol = p.protocol.toLowerCase();
  if (p.port === undefined) return protocol;
  if (typeof p.port === 'string') return `${protocol}/${p.port}`;
  return flowPort(protocol, p.port, p.endPort ?? p.port);
}

function ciliumPeerNode(p: CiliumPeer): string {
  if (p.kind === 'any') return 'any';
  if (p.kind === 'fqdn') return p.matchName ?? p.matchPattern ?? '';
  if (p.kind === 'endpoints') return `endpoints${selectorText(p.selector)}`;
  return p.field;
}

function ciliumPortFlow(p: CiliumPort): string {
  if (p.kind === 'all') return 'all';
  const protocol = p.protocol.toLowerCase();
  if (protocol === 'any') return 'all';
  if (p.port === '0' || p.port === '') return protocol;
  return /^\d+$/.test(p.port)
    ? flowPort(protocol, Number(p.port), p.endPort ?? Number(p.port))
    : `${protocol}/${p.port}`;
}

/** The egress flows of one CiliumNetworkPolicy atom (the model's FQDN egress): `<model>-<segment>-fqdn` is the segment. */
function ciliumFlows(resource: Resource, child: Child, name: (n: string) => string): FlowAtom[] {
  const attrs = resource.attributes as unknown as CiliumAttributes;
  const self = attrs.model
    ? name(resource.name.replace(/-fqdn$/, ''))
    : `endpoints${selectorText(attrs.endpointSelector)}`;
  const peer = child.attributes['peer'] as unknown as CiliumPeer;
  const port = child.attributes['port'] as unknown as CiliumPort;
  return [{ side: 'egress', from: self, to: ciliumPeerNode(peer), port: ciliumPortFlow(port), deny: false }];
}

/** The flows one NetworkPolicy or CiliumNetworkPolicy atom allows (Provider.ruleFlows): both only allow. */
export function kubernetesRuleFlows(resource: Resource, child: Child, name: (n: string) => string): FlowAtom[] {
  if (resource.type === CNP_TYPE) return ciliumFlows(resource, child, name);
  if (resource.type !== NP_TYPE) return [];
  const attrs = resource.attributes as unknown as NetworkPolicyAttributes;
  const atom = childAtom(child);
  // The policy's own pods: its segment for the model's policies (named `<model>-<segment>`).
  const self = attrs.model ? name(resource.name) : podsNode(attrs.podSelector, attrs.namespace, attrs.namespace);
  const peer = peerNode(atom.peer, attrs.namespace);
  const port = portFlow(atom.port);
  return atom.direction === 'ingress'
    ? [{ side: 'ingress', from: peer, to: self, port, deny: false }]
    : [{ side: 'egress', from: self, to: peer, port, deny: false }];
}
