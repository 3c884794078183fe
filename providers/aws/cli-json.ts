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
  // The adopted groups' ids by name (the last group of a name wins, as a Map of the groups would):
  // a rule naming a group then looks in this small map, not at the attributes of a group anywhere
  // in a render of 10,000 (one memory miss per rule at estate scale).
  const adoptedByName = new Map<string, string>();
  for (const r of resources) {
    if (r.type !== SG_TYPE) continue;
    const id = str(r.attributes, 'adoptedGroupId');
    if (id) adoptedByName.set(r.name, id);
    else adoptedByName.delete(r.name);
  }
  const SecurityGroups: Json[] = [];
  for (const r of resources) {
    if (r.type !== SG_TYPE) continue;
    const owner = str(r.attributes, 'owner');
    const perms = {
      ingress: new Map<string, Record<string, Json[] | string | number>>(),
      egress: new Map<string, Record<string, Json[] | string | number>>(),
    };
    // Object literals instead of spreads (`{ CidrIp, ...description }`): this runs once per rule
    // (~900,000 at 10,000 segments) and V8's object spread is several times slower.
    for (const c of r.children) {
      const rule = childRule(c);
      const k = `${rule.protocol} ${rule.fromPort} ${rule.toPort}`;
      let p = perms[rule.direction].get(k);
      if (!p) {
        p = { IpProtocol: wireProtocol(rule.protocol) };
        if (rule.fromPort !== null) p['FromPort'] = rule.fromPort;
        if (rule.toPort !== null) p['ToPort'] = rule.toPort;
        p['IpRanges'] = [];
        p['Ipv6Ranges'] = [];
        p['PrefixListIds'] = [];
        p['UserIdGroupPairs'] = [];
        perms[rule.direction].set(k, p);
      }
      const d = rule.description;
      switch (rule.peer.kind) {
        case 'cidr': {
          const cidr = rule.peer.cidr;
          if (cidr.includes(':'))
            listOf(p, 'Ipv6Ranges').push(d ? { CidrIpv6: cidr, Description: d } : { CidrIpv6: cidr });
          else listOf(p, 'IpRanges').push(d ? { CidrIp: cidr, Description: d } : { CidrIp: cidr });
          break;
        }
        case 'group': {
          const ref = rule.peer.ref;
          const adopted = adoptedByName.get(ref) ?? '';
          const id = adopted || (ref.startsWith('sg-') ? ref : '');
          listOf(p, 'UserIdGroupPairs').push(
            id
              ? d
                ? { GroupId: id, Description: d }
                : { GroupId: id }
              : d
                ? { GroupName: ref, Description: d }
                : { GroupName: ref },
          );
          break;
        }
        case 'prefix-list':
          listOf(p, 'PrefixListIds').push(
            d ? { PrefixListId: rule.peer.ref, Description: d } : { PrefixListId: rule.peer.ref },
          );
          break;
      }
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

/** One of the address lists of an IpPermission being built. */
function listOf(permission: Record<string, Json[] | string | number>, field: string): Json[] {
  return permission[field] as Json[];
}
