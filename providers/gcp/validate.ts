import type { RuleSet, TargetSpec } from '../../src/compile/types.js';
import { error, type Diagnostic } from '../../src/diagnostics.js';
import type { Resource } from '../../src/plan/types.js';
import { FIREWALL_TYPE, firewallSpecView, isV6, POLICY_TYPE, policyRuleSpecOf } from './canonical.js';
import {
  DEFAULT_FIREWALL_QUOTA,
  MAX_DESCRIPTION_LENGTH,
  MAX_DEST_FQDNS,
  MAX_NAME_LENGTH,
  MAX_RANGES,
  MAX_SERVICE_ACCOUNTS,
  MAX_SOURCE_TAGS,
  MAX_TARGET_TAGS,
} from './limits.js';
import { renderGcp, type GcpRender } from './render.js';

/**
 * Validate (pure): what render could not express (FQDN egress without a firewall policy, tags
 * mixed with service accounts, ICMP types) plus GCP's per-rule limits and the project's firewall
 * quota, checked on the rendered rules. Each message names the object and the limit.
 */

/** Longest model name that still leaves room for readable rule names within 63 characters. */
export const MAX_MODEL_NAME_LENGTH = 40;

const RFC1035 = /^[a-z](?:[-a-z0-9]*[a-z0-9])?$/;

/** Bits of the address families a range list holds. */
const V4 = 1;
const V6 = 2;

/** Every diagnostic for one GCP target. */
export function validateGcp(
  rules: RuleSet,
  target: TargetSpec,
  options: { readonly firewallQuota?: number; readonly rendered?: GcpRender } = {},
): Diagnostic[] {
  if (target.kind !== 'gcp') return [];
  const out: Diagnostic[] = [];
  const model = rules.model.name;
  if (!RFC1035.test(model) || model.length > MAX_MODEL_NAME_LENGTH) {
    out.push(
      error(
        'gcp-model-name',
        `model name "${model}" cannot prefix GCP firewall rule names: it must be lower-case letters, digits and dashes, start with a letter and be at most ${MAX_MODEL_NAME_LENGTH} characters (names are limited to ${MAX_NAME_LENGTH})`,
        target.pos,
      ),
    );
  }
  const { resources, diagnostics } = options.rendered ?? renderGcp(rules, target);
  out.push(...diagnostics, ...checkGcpLimits(resources, target, options.firewallQuota ?? DEFAULT_FIREWALL_QUOTA));
  return out;
}

/** GCP's limits checked on rendered resources (exported so the checks can be tested on their own). */
export function checkGcpLimits(
  resources: readonly Resource[],
  target: TargetSpec,
  firewallQuota: number,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const firewalls = resources.filter((r) => r.type === FIREWALL_TYPE);
  // The address families of each range list, once per list: render shares one list between the
  // thousands of rules that have it (render.ts), so this is a lookup per rule, not a scan.
  const families = new WeakMap<readonly string[], number>();
  const familiesOf = (list: readonly string[]): number => {
    let f = families.get(list);
    if (f === undefined) {
      f = 0;
      for (const c of list) f |= isV6(c) ? V6 : V4;
      families.set(list, f);
    }
    return f;
  };
  for (const r of firewalls) {
    const spec = firewallSpecView(r);
    const pos = r.origins?.[0]?.pos ?? target.pos;
    const fail = (code: string, message: string) =>
      out.push(error(code, `firewall rule ${spec.name}: ${message}`, pos));
    if (spec.name.length > MAX_NAME_LENGTH || !RFC1035.test(spec.name)) {
      fail('gcp-rule-name', `the name must be an RFC 1035 label of at most ${MAX_NAME_LENGTH} characters`);
    }
    if (spec.description.length > MAX_DESCRIPTION_LENGTH)
      fail('gcp-description-length', `description longer than ${MAX_DESCRIPTION_LENGTH} characters`);
    const count = (label: string, n: number, max: number) => {
      if (n > max) fail('gcp-rule-limit', `${n} ${label}, more than GCP's limit of ${max} per rule`);
    };
    count('source tags', spec.sourceTags.length, MAX_SOURCE_TAGS);
    count('target tags', spec.targetTags.length, MAX_TARGET_TAGS);
    count('source service accounts', spec.sourceServiceAccounts.length, MAX_SERVICE_ACCOUNTS);
    count('target service accounts', spec.targetServiceAccounts.length, MAX_SERVICE_ACCOUNTS);
    count('source ranges', spec.sourceRanges.length, MAX_RANGES);
    count('destination ranges', spec.destinationRanges.length, MAX_RANGES);
    if (spec.targetServiceAccounts.length > 0 && (spec.targetTags.length > 0 || spec.sourceTags.length > 0)) {
      fail('gcp-tag-service-account-mix', 'target service accounts cannot be combined with target or source tags');
    }
    if (spec.sourceServiceAccounts.length > 0 && (spec.sourceTags.length > 0 || spec.targetTags.length > 0)) {
      fail('gcp-tag-service-account-mix', 'source service accounts cannot be combined with source or target tags');
    }
    if (spec.direction === 'EGRESS' && spec.sourceTags.length > 0)
      fail('gcp-egress-source-tags', 'egress rules cannot have source tags');
    if ((familiesOf(spec.sourceRanges) | familiesOf(spec.destinationRanges)) === (V4 | V6))
      fail('gcp-mixed-families', 'a rule cannot hold IPv4 and IPv6 ranges together');
  }
  if (firewalls.length > firewallQuota) {
    out.push(
      error(
        'gcp-firewall-quota',
        `target ${target.name} needs ${firewalls.length} VPC firewall rules, more than the project's firewall quota of ${firewallQuota} (metric FIREWALLS; raise it, or declare your project's with \`firewallQuota: N\` on the target)`,
        target.pos,
      ),
    );
  }
  for (const policy of resources.filter((r) => r.type === POLICY_TYPE)) {
    for (const child of policy.children) {
      const spec = policyRuleSpecOf(child);
      if (spec.destFqdns.length > MAX_DEST_FQDNS) {
        out.push(
          error(
            'gcp-rule-limit',
            `firewall policy ${policy.name} rule ${spec.ruleName} (priority ${spec.priority}): ${spec.destFqdns.length} destination FQDNs, more than GCP's limit of ${MAX_DEST_FQDNS} per rule`,
            child.origins?.[0]?.pos ?? target.pos,
          ),
        );
      }
    }
  }
  return out;
}
