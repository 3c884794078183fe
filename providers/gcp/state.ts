import type { TargetSpec } from '../../src/compile/types.js';
import { error, type Diagnostic } from '../../src/diagnostics.js';
import { canonicalDigest } from '../../src/plan/diff.js';
import type { Child, Json, ProviderState, Resource } from '../../src/plan/types.js';
import { descriptionMarker, hasOwnerPrefix, ownerOfDescription } from '../kit/ownership.js';
import {
  canonicalFirewall,
  canonicalPolicyRule,
  firewallResource,
  isGcpLockRule,
  policyResource,
  policyRuleChild,
  POLICY_TYPE,
  reservedJson,
  type FirewallJsonIn,
  type PolicyRuleJsonIn,
} from './canonical.js';
import { POLICY_PRIORITY_BAND } from './limits.js';

/**
 * The raw objects of a GCP target (what read.ts lists from the Compute API or snapshot.ts parses
 * from `gcloud` JSON exports) and their canonical ProviderState. Pure. Owned = name prefix
 * `<model>-` plus the description marker `bulkhead:model=<model>` (policy rules: priority in
 * Bulkhead's band plus the marker). Unowned rules never enter `resources`, so nothing ever touches
 * them; one named with the model's prefix but without its marker is an error diagnostic telling
 * how to adopt it, decided from the arguments (`ReadContext.model`), with no state kept between calls.
 */

/** Everything a read saw, before ownership is decided. */
export interface GcpRawState {
  readonly firewalls: readonly FirewallJsonIn[];
  /** The named policy's rules, or null when the target names none; undefined when it does not exist. */
  readonly policyRules: readonly PolicyRuleJsonIn[] | null | undefined;
  readonly policySelfLink?: string;
  /** The policy object as the API returned it (for `bulkhead export`). */
  readonly policyJson?: unknown;
}

/**
 * Decides ownership and canonicalizes: owned firewalls and the policy's owned rules become
 * resources. Stateless: only the arguments decide. A firewall rule named with the model's prefix
 * `<model>-` but without its marker is an error (the model may render that very name, and
 * Bulkhead never changes what it does not own), with the adopt hint; one that carries another
 * model's marker and that model's own prefix (model `shop-eu` seen from model `shop`) is that
 * model's and left alone. Priorities that unowned rules hold in Bulkhead's band of the policy
 * go to `reserved`, so render places the FQDN rules around them.
 */
export function toProviderState(
  target: TargetSpec & { kind: 'gcp' },
  raw: GcpRawState,
  source: 'live' | 'snapshot',
  model: string | undefined,
  withUnowned = false,
  /** False: leave `fingerprint` empty (`ReadContext.fingerprint`). */
  fingerprint?: boolean,
): ProviderState {
  const gcp = target.gcp;
  const diagnostics: Diagnostic[] = [];
  const resources: Resource[] = [];
  /** What the model does not own, for the reachability evaluators (`ReadContext.unowned`); never diffed. */
  const foreign: Resource[] = [];
  const foreignPolicyRules: Child[] = [];
  const unowned: string[] = [];
  /** Another model's own object: marked by it and named with its prefix. */
  const othersOwn = (name: string, marked: string | undefined) =>
    marked !== undefined && marked !== model && hasOwnerPrefix(marked, name);
  for (const fw of raw.firewalls) {
    // The lock rule (lock.ts) is owned but no rule of the model: plan and drift never see it.
    if (isGcpLockRule(fw)) continue;
    const name = fw.name ?? '';
    const marked = ownerOfDescription(fw.description ?? undefined);
    const owner = model ?? marked;
    const isMine = owner !== undefined && hasOwnerPrefix(owner, name) && marked === owner;
    if (withUnowned && !isMine)
      foreign.push(
        firewallResource(target.name, canonicalFirewall(fw, gcp.project), fw.selfLink ? { liveId: fw.selfLink } : {}),
      );
    if (!owner || !hasOwnerPrefix(owner, name)) continue;
    if (marked === owner) {
      resources.push(
        firewallResource(target.name, canonicalFirewall(fw, gcp.project), fw.selfLink ? { liveId: fw.selfLink } : {}),
      );
      continue;
    }
    if (othersOwn(name, marked)) continue;
    unowned.push(name);
    diagnostics.push(
      error(
        'gcp-unowned-in-the-way',
        `firewall rule ${name} has model ${owner}'s name prefix "${owner}-" but not its ownership marker (its description lacks "${descriptionMarker(owner)}"): ` +
          `Bulkhead never changes a rule it does not own, and the model may render a rule of that name. ` +
          `Delete or rename it, or adopt it by adding the marker to its description ` +
          `(\`gcloud compute firewall-rules update ${name} --project ${gcp.project} --description "${descriptionMarker(owner)}"\`; ` +
          `the next plan then brings it in line with the model, or deletes it if the model renders no rule of that name), then plan again`,
        target.pos,
      ),
    );
  }
  const reserved: number[] = [];
  if (gcp.firewallPolicy) {
    if (raw.policyRules === undefined) {
      diagnostics.push(
        error(
          'gcp-firewall-policy-missing',
          `global network firewall policy ${gcp.firewallPolicy} (target ${target.name}) does not exist in project ${gcp.project}: create it with ` +
            `\`gcloud compute network-firewall-policies create ${gcp.firewallPolicy} --global --project ${gcp.project}\` and associate it with network ${gcp.network} ` +
            `(\`gcloud compute network-firewall-policies associations create --firewall-policy ${gcp.firewallPolicy} --network ${gcp.network} --global-firewall-policy\`)`,
          target.pos,
        ),
      );
    } else if (raw.policyRules !== null) {
      const children: Child[] = [];
      for (const rule of raw.policyRules) {
        const priority = Number(rule.priority ?? -1);
        const inBand =
          priority >= POLICY_PRIORITY_BAND.start && priority < POLICY_PRIORITY_BAND.start + POLICY_PRIORITY_BAND.size;
        const marked = ownerOfDescription(rule.description ?? undefined);
        const mine = inBand && marked !== undefined && (model === undefined || marked === model);
        if (mine) {
          children.push(policyRuleChild(canonicalPolicyRule(rule, gcp.project)));
          continue;
        }
        if (withUnowned) foreignPolicyRules.push(policyRuleChild(canonicalPolicyRule(rule, gcp.project)));
        if (!inBand) continue;
        // Someone else's rule inside our band: render places ours around it.
        reserved.push(priority);
        const ruleName = rule.ruleName ?? '';
        if (model && hasOwnerPrefix(model, ruleName) && !othersOwn(ruleName, marked)) {
          diagnostics.push(
            error(
              'gcp-unowned-in-the-way',
              `firewall policy ${gcp.firewallPolicy} has a rule ${ruleName} at priority ${priority} with model ${model}'s name prefix but not its ownership marker: ` +
                `delete it, or adopt it by adding "${descriptionMarker(model)}" to its description, then plan again`,
              target.pos,
            ),
          );
        }
      }
      resources.push(policyResource(target.name, gcp.firewallPolicy, children, raw.policySelfLink));
      if (withUnowned) {
        const all = policyResource(target.name, gcp.firewallPolicy, foreignPolicyRules, raw.policySelfLink);
        foreign.push({ ...all, address: `${target.name}.${POLICY_TYPE}.${gcp.firewallPolicy}#unowned` });
      }
    }
  }
  resources.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  const reservedState = reservedJson({ policyPriorities: reserved });
  unowned.sort();
  const digest =
    fingerprint === false
      ? ''
      : canonicalDigest({ resources: resources.map(resourceDigestJson), unowned, reserved: reservedState });
  return {
    target: target.name,
    source,
    resources,
    fingerprint: digest,
    diagnostics,
    ...(reserved.length > 0 ? { reserved: reservedState } : {}),
    ...(withUnowned
      ? { unowned: foreign.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0)) }
      : {}),
  };
}

function resourceDigestJson(r: Resource): Json {
  return {
    address: r.address,
    attributes: r.attributes,
    children: r.children.map((c) => ({ key: c.key, attributes: c.attributes })),
  };
}
