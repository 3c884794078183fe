import type { TargetSpec } from '../../src/compile/types.js';
import type { Json, Resource } from '../../src/plan/types.js';
import {
  API_ROOT,
  FIREWALL_TYPE,
  firewallSpecView,
  POLICY_TYPE,
  policyRuleBody,
  policyRuleSpecOf,
  wireProtocol,
  type FirewallSpec,
} from './canonical.js';
import { cleanSdkJson } from './snapshot.js';

/**
 * `bulkhead render --provider gcp --json`: the desired VPC firewall rules in the shape of
 * `gcloud compute firewall-rules list --format=json` (keys sorted, empty lists omitted, full
 * network URLs and self links), so the output can be read back as a snapshot. Policy rules are
 * not firewall rules; `firewallPolicyRulesCliJson` gives them in the `describe` shape.
 */
export function toGcpCliJson(resources: readonly Resource[], target: TargetSpec): Json {
  const project = target.kind === 'gcp' ? target.gcp.project : '';
  const out: Json[] = [];
  const networkUrls = new Map<string, string>();
  const entries = new WeakMap<FirewallSpec['rules'], Json[]>();
  for (const r of resources) {
    if (r.type !== FIREWALL_TYPE) continue;
    const spec = firewallSpecView(r);
    let network = networkUrls.get(spec.network);
    if (network === undefined) {
      network = `${API_ROOT}/${spec.network}`;
      networkUrls.set(spec.network, network);
    }
    let protocols = entries.get(spec.rules);
    if (protocols === undefined) {
      protocols = spec.rules.map(
        (x): Json =>
          x.ports.length > 0
            ? { IPProtocol: wireProtocol(x.protocol), ports: x.ports }
            : { IPProtocol: wireProtocol(x.protocol) },
      );
      entries.set(spec.rules, protocols);
    }
    out.push(
      firewallCliJson(spec, protocols, network, `${API_ROOT}/projects/${project}/global/firewalls/${spec.name}`),
    );
  }
  return out;
}

/** Shared by every rule without logging; read-only, not frozen (JSON.stringify's fast path skips frozen objects). */
const LOGGING_OFF: Json = { enable: false };

/**
 * One firewall as gcloud prints it: what `cleanSdkJson({ kind, ...firewallBody(spec, 'url'),
 * selfLink })` gives (keys sorted, empty lists left out; a test holds the two equal), built
 * directly: at 540,000 rules the spec copy, the API body, the spread and the key sort per rule
 * were most of `render --json` (issue 11). Lists are the resource's own (read-only) and protocol
 * entries are shared by every rule of the same protocol list: a copy of each per rule was a third
 * of the output's objects, there only so that `--format yaml` would not print a list seen twice
 * as an anchor and an alias, which it now turns off.
 */
function firewallCliJson(spec: FirewallSpec, entries: Json[], network: string, selfLink: string): Json {
  const o: { [key: string]: Json } = {};
  // In sorted key order.
  if (entries.length > 0) o[spec.action === 'deny' ? 'denied' : 'allowed'] = entries;
  o['description'] = spec.description;
  if (spec.destinationRanges.length > 0) o['destinationRanges'] = spec.destinationRanges;
  o['direction'] = spec.direction;
  o['disabled'] = spec.disabled;
  o['kind'] = 'compute#firewall';
  o['logConfig'] = spec.logging === 'off' ? LOGGING_OFF : { enable: true, metadata: spec.logging };
  o['name'] = spec.name;
  o['network'] = network;
  o['priority'] = spec.priority;
  o['selfLink'] = selfLink;
  if (spec.sourceRanges.length > 0) o['sourceRanges'] = spec.sourceRanges;
  if (spec.sourceServiceAccounts.length > 0) o['sourceServiceAccounts'] = spec.sourceServiceAccounts;
  if (spec.sourceTags.length > 0) o['sourceTags'] = spec.sourceTags;
  if (spec.targetServiceAccounts.length > 0) o['targetServiceAccounts'] = spec.targetServiceAccounts;
  if (spec.targetTags.length > 0) o['targetTags'] = spec.targetTags;
  return o;
}

/** The policy resources' owned rules in the shape of `gcloud compute network-firewall-policies describe --format=json`. */
export function firewallPolicyRulesCliJson(resources: readonly Resource[], target: TargetSpec): Json {
  const project = target.kind === 'gcp' ? target.gcp.project : '';
  return resources
    .filter((r) => r.type === POLICY_TYPE)
    .map(
      (r) =>
        cleanSdkJson({
          kind: 'compute#firewallPolicy',
          name: r.name,
          selfLink: `${API_ROOT}/projects/${project}/global/firewallPolicies/${r.name}`,
          rules: r.children.map((c) => ({
            kind: 'compute#firewallPolicyRule',
            ...policyRuleBody(policyRuleSpecOf(c)),
          })),
        }) as Json,
    );
}
