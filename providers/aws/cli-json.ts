import type { TargetSpec } from '../../src/compile/types.js';
import type { Json, Resource } from '../../src/plan/types.js';
import { ownerTag } from '../kit/ownership.js';
import { childRule, SEGMENT_TAG, SG_TYPE, str, wireProtocol } from './canonical.js';

/**
 * `bulkhead render --provider aws --json`: the desired groups in the shape of
 * `aws ec2 describe-security-groups` output (`{SecurityGroups:[…]}`), so they can be compared with
 * an export. Ids are not known before apply: groups and prefix lists are named instead
 * (`GroupName` in UserIdGroupPairs, the list name as PrefixListId), adopted groups by their id.
 * Prefix-list entries are not part of that shape; `bulkhead plan` shows them.
 */
export function awsCliJson(resources: readonly Resource[], target: TargetSpec): Json {
  const vpc = target.kind === 'aws' ? target.aws.vpc : '';
  const byName = new Map(resources.filter((r) => r.type === SG_TYPE).map((r) => [r.name, r]));
  const SecurityGroups: Json[] = [];
  for (const r of resources) {
    if (r.type !== SG_TYPE) continue;
    const owner = str(r.attributes, 'owner');
    const perms = {
      ingress: new Map<string, Record<string, Json[] | string | number>>(),
      egress: new Map<string, Record<string, Json[] | string | number>>(),
    };
    for (const c of r.children) {
      const rule = childRule(c);
      const k = `${rule.protocol} ${rule.fromPort} ${rule.toPort}`;
      const p = perms[rule.direction].get(k) ?? {
        IpProtocol: wireProtocol(rule.protocol),
        ...(rule.fromPort !== null ? { FromPort: rule.fromPort } : {}),
        ...(rule.toPort !== null ? { ToPort: rule.toPort } : {}),
        IpRanges: [],
        Ipv6Ranges: [],
        PrefixListIds: [],
        UserIdGroupPairs: [],
      };
      const d: { [k: string]: Json } = rule.description ? { Description: rule.description } : {};
      const push = (field: string, item: Json) => (p[field] as Json[]).push(item);
      switch (rule.peer.kind) {
        case 'cidr':
          if (rule.peer.cidr.includes(':')) push('Ipv6Ranges', { CidrIpv6: rule.peer.cidr, ...d });
          else push('IpRanges', { CidrIp: rule.peer.cidr, ...d });
          break;
        case 'group': {
          const adopted = str(byName.get(rule.peer.ref)?.attributes ?? {}, 'adoptedGroupId');
          push(
            'UserIdGroupPairs',
            adopted
              ? { GroupId: adopted, ...d }
              : rule.peer.ref.startsWith('sg-')
                ? { GroupId: rule.peer.ref, ...d }
                : { GroupName: rule.peer.ref, ...d },
          );
          break;
        }
        case 'prefix-list':
          push('PrefixListIds', { PrefixListId: rule.peer.ref, ...d });
          break;
      }
      perms[rule.direction].set(k, p);
    }
    const adopted = str(r.attributes, 'adoptedGroupId');
    SecurityGroups.push({
      ...(adopted ? { GroupId: adopted } : {}),
      GroupName: r.name,
      Description: str(r.attributes, 'description'),
      VpcId: vpc,
      IpPermissions: [...perms.ingress.values()],
      IpPermissionsEgress: [...perms.egress.values()],
      Tags: adopted ? [] : [ownerTag(owner), { Key: SEGMENT_TAG, Value: r.name.slice(owner.length + 1) }],
    });
  }
  return { SecurityGroups };
}
