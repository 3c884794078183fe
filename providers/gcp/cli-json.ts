import type { TargetSpec } from '../../src/compile/types.js';
import type { Json, Resource } from '../../src/plan/types.js';
import {
  API_ROOT,
  FIREWALL_TYPE,
  firewallBody,
  firewallSpecOf,
  POLICY_TYPE,
  policyRuleBody,
  policyRuleSpecOf,
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
  return resources
    .filter((r) => r.type === FIREWALL_TYPE)
    .map((r) => {
      const spec = firewallSpecOf(r);
      return cleanSdkJson({
        kind: 'compute#firewall',
        ...firewallBody(spec, 'url'),
        selfLink: `${API_ROOT}/projects/${project}/global/firewalls/${spec.name}`,
      }) as Json;
    });
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
