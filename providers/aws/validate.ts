import type { RuleSet, TargetSpec } from '../../src/compile/types.js';
import { error, warning, type Diagnostic } from '../../src/diagnostics.js';
import type { Resource } from '../../src/plan/types.js';
import type { RenderContext } from '../../src/provider.js';
import {
  AWS_MANAGED_PREFIX_LIST_ASSUMED_WEIGHT,
  CUSTOMER_PREFIX_LISTS_PER_REGION,
  DESCRIPTION_CHARSET,
  DESCRIPTION_MAX_LENGTH,
  PREFIX_LIST_MAX_ENTRIES,
  RULES_PER_GROUP_PER_DIRECTION_PER_FAMILY,
  SECURITY_GROUPS_PER_REGION,
} from './limits.js';
import { renderAws } from './render.js';
import { PL_TYPE, SG_TYPE, str } from './canonical.js';

/**
 * Validate (pure): every AWS quota of cloud-semantics §1.5 and the naming rules of §1.2, checked on
 * the rendered objects so what is checked is exactly what would be applied. A model that cannot fit
 * fails the plan before anything is read or written.
 */
export function validateAws(
  rules: RuleSet,
  target: TargetSpec,
  ctx: RenderContext,
  rendered?: readonly Resource[],
): Diagnostic[] {
  if (target.kind !== 'aws') return [error('aws-target', `target ${target.name} is not an AWS target`, target.pos)];
  const out: Diagnostic[] = [];
  const model = rules.model.name;
  // The account's raised quotas, when the target declares them (issue 11.5), else AWS's defaults.
  const rulesPerGroup = target.aws.quotas?.rulesPerGroup ?? RULES_PER_GROUP_PER_DIRECTION_PER_FAMILY;
  const groupsPerRegion = target.aws.quotas?.securityGroupsPerRegion ?? SECURITY_GROUPS_PER_REGION;
  const declared = (q: keyof NonNullable<typeof target.aws.quotas>) =>
    target.aws.quotas?.[q] !== undefined ? "the target's declared quota" : 'the AWS limit';
  const segPos = new Map(rules.segments.map((s) => [s.name, s.pos]));
  const resources = rendered ?? renderAws(rules, target, ctx);
  const lists = new Map(resources.filter((r) => r.type === PL_TYPE).map((r) => [r.name, r]));
  const familyOf = (ref: string): 'IPv4' | 'IPv6' =>
    str(lists.get(ref)?.attributes ?? {}, 'addressFamily') === 'IPv6' ? 'IPv6' : 'IPv4';
  const weightOf = (ref: string): number => {
    const l = lists.get(ref);
    return l ? Number(l.attributes['maxEntries']) : AWS_MANAGED_PREFIX_LIST_ASSUMED_WEIGHT;
  };

  // Rules per group, per direction, per address family; a prefix list weighs its MaxEntries.
  for (const r of resources.filter((x) => x.type === SG_TYPE)) {
    const segment = r.name.slice(model.length + 1);
    const pos = segPos.get(segment) ?? target.pos;
    // The four buckets' counts, in the order of their names (egress IPv4, egress IPv6, ingress IPv4,
    // ingress IPv6): two small arrays per group instead of a map lookup and store per rule.
    const counts = [0, 0, 0, 0];
    const awsManaged = [0, 0, 0, 0];
    // Which buckets hold a rule (a bucket without one is never reported, whatever the quota).
    let present = 0;
    // Read from the attributes without decoding each child into a rule (childRule): this runs
    // once per rule, ~900,000 at 10,000 segments, and only the peer and direction matter here.
    for (const c of r.children) {
      const egress = c.attributes['direction'] === 'egress';
      const peer = String(c.attributes['peer']);
      // parsePeerKey's kinds: `sg:`, `cidr:`, anything else a prefix list (the text after the first colon)
      const listRef =
        peer.startsWith('sg:') || peer.startsWith('cidr:') ? undefined : peer.slice(peer.indexOf(':') + 1);
      const family =
        listRef !== undefined ? familyOf(listRef) : peer.startsWith('cidr:') && peer.includes(':', 5) ? 'IPv6' : 'IPv4';
      const bucket = (egress ? 0 : 2) + (family === 'IPv6' ? 1 : 0);
      present |= 1 << bucket;
      if (listRef !== undefined) {
        counts[bucket]! += weightOf(listRef);
        if (!lists.has(listRef)) awsManaged[bucket]!++;
      } else {
        counts[bucket]! += 1;
      }
    }
    for (let bucket = 0; bucket < 4; bucket++) {
      const count = counts[bucket]!;
      if ((present & (1 << bucket)) === 0 || count <= rulesPerGroup) continue;
      const direction = bucket < 2 ? 'egress' : 'ingress';
      const family = bucket % 2 === 1 ? 'IPv6' : 'IPv4';
      const managed = awsManaged[bucket]!;
      out.push(
        error(
          'aws-rules-per-group',
          `target ${target.name}: segment ${segment} needs ${count} ${direction} ${family} rules in security group ${r.name} ` +
            `(prefix lists weighted by their MaxEntries${managed ? `, ${managed} AWS-managed list(s) counted as ${AWS_MANAGED_PREFIX_LIST_ASSUMED_WEIGHT} each` : ''}), ` +
            `over ${declared('rulesPerGroup')} of ${rulesPerGroup} per group, direction and address family`,
          pos,
        ),
      );
    }
    // Names and descriptions: at most 255 characters of AWS's charset; group names never start with sg-.
    // `what` is a function so the label of every rule is only built when its check fails.
    const check = (what: () => string, text: string) => {
      if (text.length > DESCRIPTION_MAX_LENGTH) {
        out.push(
          error(
            'aws-description',
            `target ${target.name}: segment ${segment}: the ${what()} has ${text.length} characters, over the AWS limit of ${DESCRIPTION_MAX_LENGTH}`,
            pos,
          ),
        );
      } else if (!DESCRIPTION_CHARSET.test(text)) {
        out.push(
          error(
            'aws-description',
            `target ${target.name}: segment ${segment}: the ${what()} "${text}" has characters AWS does not accept (allowed: a-z A-Z 0-9 space ._-:/()#,@[]+=&;{}!$*)`,
            pos,
          ),
        );
      }
    };
    check(() => 'group name', r.name);
    check(() => 'group description', str(r.attributes, 'description'));
    for (const c of r.children) {
      const d = c.attributes['description'];
      const text = typeof d === 'string' ? d : '';
      // the same test as check's, so a closure is only made for a description that fails it
      if (text.length > DESCRIPTION_MAX_LENGTH || !DESCRIPTION_CHARSET.test(text))
        check(() => `description of rule "${c.summary}"`, text);
    }
    if (r.name.toLowerCase().startsWith('sg-')) {
      out.push(
        error(
          'aws-description',
          `target ${target.name}: segment ${segment}: a security group name cannot start with "sg-" (${r.name})`,
          pos,
        ),
      );
    }
  }

  const groups = resources.filter((r) => r.type === SG_TYPE && !str(r.attributes, 'adoptedGroupId')).length;
  if (groups > groupsPerRegion) {
    out.push(
      error(
        'aws-groups-per-region',
        `target ${target.name}: the model needs ${groups} security groups, over ${declared('securityGroupsPerRegion')} of ${groupsPerRegion} per Region (raise it in Service Quotas and declare it: \`quotas: { securityGroupsPerRegion: N }\` on the target)`,
        target.pos,
      ),
    );
  }
  if (lists.size > CUSTOMER_PREFIX_LISTS_PER_REGION) {
    out.push(
      error(
        'aws-prefix-lists-per-region',
        `target ${target.name}: the model needs ${lists.size} customer-managed prefix lists, over the AWS limit of ${CUSTOMER_PREFIX_LISTS_PER_REGION} per Region`,
        target.pos,
      ),
    );
  }
  for (const l of lists.values()) {
    if (l.children.length > PREFIX_LIST_MAX_ENTRIES) {
      out.push(
        error(
          'aws-prefix-list-entries',
          `target ${target.name}: prefix list ${l.name} needs ${l.children.length} entries, over the AWS limit of ${PREFIX_LIST_MAX_ENTRIES}`,
          target.pos,
        ),
      );
    }
    if (l.name.length > DESCRIPTION_MAX_LENGTH || l.name.startsWith('com.amazonaws')) {
      out.push(
        error(
          'aws-description',
          `target ${target.name}: prefix list name ${l.name} is longer than ${DESCRIPTION_MAX_LENGTH} characters or starts with com.amazonaws`,
          target.pos,
        ),
      );
    }
  }

  // Intents AWS cannot express as written.
  const seen = new Set<string>();
  for (const intent of rules.rules) {
    const pos = intent.origins[0]?.pos ?? segPos.get(intent.segment) ?? target.pos;
    const p = intent.peer;
    if (p.kind === 'cloud' && !p.aws && !seen.has(`binding ${p.entity}`)) {
      seen.add(`binding ${p.entity}`);
      out.push(
        error(
          'aws-missing-binding',
          `target ${target.name}: entity ${p.entity} has no aws binding (a prefixList or cidrs), so segment ${intent.segment}'s rule cannot be rendered on AWS`,
          pos,
        ),
      );
    }
    if (p.kind === 'fqdns' && !seen.has(`fqdn ${p.entity}`)) {
      const any = p.fqdns.some((f) => {
        const r = ctx.resolved.get(f);
        return (r?.ipv4.length ?? 0) + (r?.ipv6.length ?? 0) > 0;
      });
      if (!any) {
        seen.add(`fqdn ${p.entity}`);
        out.push(
          warning(
            'aws-fqdn-unresolved',
            `target ${target.name}: no address was resolved for entity ${p.entity} (${p.fqdns.join(', ')}); segment ${intent.segment}'s egress to it allows nothing until one resolves`,
            pos,
          ),
        );
      }
    }
    if (intent.service.kind === 'icmp' && !seen.has(`icmp ${intent.id}`)) {
      const v6 = intent.service.protocol === 'icmpv6';
      const other =
        p.kind === 'cidrs'
          ? v6
            ? p.ipv4
            : p.ipv6
          : p.kind === 'cloud'
            ? ((v6 ? p.aws?.ipv4 : p.aws?.ipv6) ?? [])
            : [];
      if (other.length > 0) {
        seen.add(`icmp ${intent.id}`);
        out.push(
          warning(
            'aws-icmp-family',
            `target ${target.name}: ${intent.service.protocol} applies to ${v6 ? 'IPv6' : 'IPv4'} only; segment ${intent.segment}'s rule is not rendered for the ${v6 ? 'IPv4' : 'IPv6'} addresses of ${p.kind === 'cidrs' || p.kind === 'cloud' ? p.entity : 'its peer'} (use ${v6 ? 'icmp' : 'icmpv6'} for those)`,
            pos,
          ),
        );
      }
    }
    if (intent.service.kind === 'ports' && intent.service.protocol === 'sctp' && !seen.has(`sctp ${intent.id}`)) {
      seen.add(`sctp ${intent.id}`);
      out.push(
        warning(
          'aws-sctp-ports',
          `target ${target.name}: AWS security groups cannot filter SCTP ports; segment ${intent.segment}'s rule allows every SCTP port`,
          pos,
        ),
      );
    }
  }
  return out;
}
