import { createHash } from 'node:crypto';
import type { SegmentSpec, TargetSpec } from '../../src/compile/types.js';
import { error, warning, type Diagnostic } from '../../src/diagnostics.js';
import { InternalError } from '../../src/errors.js';
import type { Child, ProviderState, Resource } from '../../src/plan/types.js';
import { LOCK_TAGS } from '../../src/lock.js';
import { OWNER_KEY, ownerOfTagList } from '../kit/ownership.js';
import { groupName } from './render.js';
import {
  addressOf,
  byKey,
  canonicalCidr,
  canonicalPorts,
  canonicalProtocol,
  entryChild,
  PL_TYPE,
  resource,
  ruleChild,
  SG_TYPE,
  type AwsPeer,
} from './canonical.js';

/**
 * What AWS says about a VPC, in the shapes of the EC2 API and of the AWS CLI's JSON output (they
 * are the same PascalCase shapes), and its canonical ProviderState. Pure: the SDK calls that fill
 * it live in read.ts, the snapshot files it comes from in snapshot.ts.
 */

/** A tag. */
export interface RawTag {
  readonly Key?: string;
  readonly Value?: string;
}

/** One peer-group pair of an aggregated permission. */
export interface RawGroupPair {
  readonly GroupId?: string;
  readonly GroupName?: string;
  readonly UserId?: string;
  readonly Description?: string;
}

/** An aggregated permission (DescribeSecurityGroups). */
export interface RawIpPermission {
  readonly IpProtocol?: string;
  readonly FromPort?: number;
  readonly ToPort?: number;
  readonly IpRanges?: readonly { readonly CidrIp?: string; readonly Description?: string }[];
  readonly Ipv6Ranges?: readonly { readonly CidrIpv6?: string; readonly Description?: string }[];
  readonly PrefixListIds?: readonly { readonly PrefixListId?: string; readonly Description?: string }[];
  readonly UserIdGroupPairs?: readonly RawGroupPair[];
}

/** A security group (DescribeSecurityGroups). */
export interface RawSecurityGroup {
  readonly GroupId?: string;
  readonly GroupName?: string;
  readonly Description?: string;
  readonly VpcId?: string;
  readonly OwnerId?: string;
  readonly Tags?: readonly RawTag[];
  readonly IpPermissions?: readonly RawIpPermission[];
  readonly IpPermissionsEgress?: readonly RawIpPermission[];
}

/** An atomic rule (DescribeSecurityGroupRules). */
export interface RawSecurityGroupRule {
  readonly SecurityGroupRuleId?: string;
  readonly GroupId?: string;
  readonly IsEgress?: boolean;
  readonly IpProtocol?: string;
  readonly FromPort?: number;
  readonly ToPort?: number;
  readonly CidrIpv4?: string;
  readonly CidrIpv6?: string;
  readonly PrefixListId?: string;
  readonly ReferencedGroupInfo?: { readonly GroupId?: string; readonly UserId?: string };
  readonly Description?: string;
  readonly Tags?: readonly RawTag[];
}

/** A managed prefix list (DescribeManagedPrefixLists). */
export interface RawPrefixList {
  readonly PrefixListId?: string;
  readonly PrefixListName?: string;
  readonly AddressFamily?: string;
  readonly MaxEntries?: number;
  readonly Version?: number;
  readonly State?: string;
  readonly OwnerId?: string;
  readonly Tags?: readonly RawTag[];
}

/** Everything read about one target. */
export interface AwsRawState {
  readonly SecurityGroups: readonly RawSecurityGroup[];
  /** Absent when a snapshot has no rules export: rules are then exploded from the groups (no rule ids). */
  readonly SecurityGroupRules?: readonly RawSecurityGroupRule[];
  readonly PrefixLists: readonly RawPrefixList[];
  /** Entries of the owned customer-managed lists, by list id. */
  readonly Entries: {
    readonly [prefixListId: string]: readonly { readonly Cidr?: string; readonly Description?: string }[];
  };
  /** AWS-managed lists by name (DescribePrefixLists), when read. */
  readonly AwsPrefixLists?: readonly { readonly PrefixListId?: string; readonly PrefixListName?: string }[];
}

/** Value of a tag. */
export function tagValue(tags: readonly RawTag[] | undefined, key: string): string | undefined {
  return tags?.find((t) => t.Key === key)?.Value;
}

/**
 * A list that is gone or going: DescribeManagedPrefixLists keeps showing a deleted list for a while
 * with State `delete-in-progress` or `delete-complete` (moto keeps it for good); it is no object.
 */
export function isDeletedList(l: { readonly State?: string | undefined }): boolean {
  return l.State === 'delete-in-progress' || l.State === 'delete-complete';
}

/** The model that owns the groups of a VPC when nobody said: the one ownership value present, if unique. */
export function inferModel(raw: AwsRawState): string | undefined {
  const values = new Set(raw.SecurityGroups.map((g) => ownerOfTagList(g.Tags)).filter((v) => v !== undefined));
  return values.size === 1 ? [...values][0] : undefined;
}

/** Explodes aggregated permissions into atomic raw rules (the DescribeSecurityGroupRules view, without ids). */
export function explodePermissions(group: RawSecurityGroup): RawSecurityGroupRule[] {
  const out: RawSecurityGroupRule[] = [];
  for (const [isEgress, perms] of [
    [false, group.IpPermissions ?? []],
    [true, group.IpPermissionsEgress ?? []],
  ] as const) {
    for (const p of perms) {
      const base = {
        GroupId: group.GroupId,
        IsEgress: isEgress,
        IpProtocol: p.IpProtocol,
        FromPort: p.FromPort,
        ToPort: p.ToPort,
      };
      for (const r of p.IpRanges ?? []) out.push({ ...base, CidrIpv4: r.CidrIp, Description: r.Description });
      for (const r of p.Ipv6Ranges ?? []) out.push({ ...base, CidrIpv6: r.CidrIpv6, Description: r.Description });
      for (const r of p.PrefixListIds ?? [])
        out.push({ ...base, PrefixListId: r.PrefixListId, Description: r.Description });
      for (const r of p.UserIdGroupPairs ?? []) {
        out.push({
          ...base,
          ReferencedGroupInfo: { GroupId: r.GroupId, UserId: r.UserId },
          Description: r.Description,
        });
      }
    }
  }
  return out;
}

/** Who owns what: the model's name and its segments (from ReadContext). */
export interface Ownership {
  readonly model: string | undefined;
  readonly segments?: readonly SegmentSpec[];
  /** Also return the groups and rules the model does not own, in `ProviderState.unowned` (reachability). */
  readonly unowned?: boolean;
  /** False: leave `ProviderState.fingerprint` empty (`ReadContext.fingerprint`). */
  readonly fingerprint?: boolean;
}

/** The canonical state of one AWS target: owned (and adopted) groups and owned prefix lists. */
export function canonicalState(
  raw: AwsRawState,
  target: TargetSpec,
  source: 'live' | 'snapshot',
  owner: Ownership,
): ProviderState {
  if (target.kind !== 'aws') throw new InternalError(`the AWS provider got target ${target.name} of ${target.kind}`);
  const vpc = target.aws.vpc;
  const model = owner.model ?? inferModel(raw) ?? '';
  const diagnostics: Diagnostic[] = [];
  // The lock group (lock.ts) is owned but is no segment's group: plan and drift never see it.
  const groups = raw.SecurityGroups.filter(
    (g) => (g.VpcId === undefined || g.VpcId === vpc) && tagValue(g.Tags, LOCK_TAGS.lock) === undefined,
  );
  const adoptedBySegment = new Map<string, string>();
  const segmentByAdoptedId = new Map<string, string>();
  for (const s of owner.segments ?? []) {
    if (s.aws?.groupId) {
      adoptedBySegment.set(s.name, s.aws.groupId);
      segmentByAdoptedId.set(s.aws.groupId, s.name);
    }
  }
  const managedNames = new Map(
    (owner.segments ?? []).filter((s) => !s.aws?.groupId).map((s) => [groupName(model, s.name).toLowerCase(), s]),
  );

  // Which groups are ours, and the name each is known by.
  const managed = new Map<string, { group: RawSecurityGroup; name: string; adopted: boolean }>();
  const inTheWay: string[] = [];
  for (const g of groups) {
    const id = g.GroupId ?? '';
    const owned = model !== '' && ownerOfTagList(g.Tags) === model;
    const adoptedSegment = segmentByAdoptedId.get(id);
    if (adoptedSegment !== undefined) {
      managed.set(id, { group: g, name: groupName(model, adoptedSegment), adopted: true });
    } else if (owned) {
      // A group the model made for a segment that now adopts another group: still ours, to be
      // deleted, under a name that cannot collide with the adopted group's address.
      const segment = (g.GroupName ?? '').slice(model.length + 1);
      const name =
        adoptedBySegment.has(segment) && g.GroupName === groupName(model, segment)
          ? `${g.GroupName}-${id}`
          : (g.GroupName ?? id);
      managed.set(id, { group: g, name, adopted: false });
    } else {
      // Group names are unique per VPC and case-insensitive: an unowned group with our name blocks the create.
      const seg = managedNames.get((g.GroupName ?? '').toLowerCase());
      if (seg) {
        inTheWay.push(`${id} ${g.GroupName}`);
        diagnostics.push(
          error(
            'aws-unowned-in-the-way',
            `target ${target.name}: security group ${g.GroupName} (${id}) in ${vpc} has the managed name of segment ` +
              `${seg.name} but not the ownership tag ${OWNER_KEY}=${model}, and Bulkhead never adopts a group silently. ` +
              `To adopt it, tag it (aws ec2 create-tags --resources ${id} --tags Key=${OWNER_KEY},Value=${model}) or set ` +
              `segments.${seg.name}.aws.groupId: ${id} in the model; otherwise rename or delete it.`,
            seg.pos,
          ),
        );
      }
    }
  }
  for (const [seg, id] of adoptedBySegment) {
    if (!managed.has(id)) {
      diagnostics.push(
        warning(
          'aws-adopted-group-missing',
          `target ${target.name}: segment ${seg} adopts ${id}, which is not in ${vpc}`,
        ),
      );
    }
  }
  const refOfGroup = (id: string): string => managed.get(id)?.name ?? id;

  // Prefix lists: owned customer lists become resources; every known list gives its id a name.
  const listName = new Map<string, string>();
  for (const l of raw.AwsPrefixLists ?? [])
    if (l.PrefixListId && l.PrefixListName) listName.set(l.PrefixListId, l.PrefixListName);
  // Two owned lists with one name (a concurrent apply, a create whose answer was lost) are two
  // objects: the one with the lowest id keeps the managed name, every other one is known as
  // `<name>-<pl-id>`, which no model renders, so the plan removes it (its rules first) and drift
  // reports it instead of the two collapsing into one address.
  const ownedLists: { list: RawPrefixList; name: string }[] = [];
  const ownedByName = new Map<string, RawPrefixList[]>();
  for (const l of raw.PrefixLists) {
    if (!l.PrefixListId || isDeletedList(l)) continue;
    if (l.OwnerId === 'AWS' && l.PrefixListName) listName.set(l.PrefixListId, l.PrefixListName);
    if (model !== '' && ownerOfTagList(l.Tags) === model && l.PrefixListName) {
      const same = ownedByName.get(l.PrefixListName) ?? [];
      same.push(l);
      ownedByName.set(l.PrefixListName, same);
    }
  }
  const ownedListAddress = new Set<string>();
  for (const [name, same] of ownedByName) {
    same.sort(byKey((l) => l.PrefixListId ?? ''));
    same.forEach((l, i) => {
      const known = i === 0 ? name : `${name}-${l.PrefixListId}`;
      ownedLists.push({ list: l, name: known });
      listName.set(l.PrefixListId ?? '', known);
      ownedListAddress.add(known);
    });
  }

  // Descriptions from the aggregated view too: moto's DescribeSecurityGroupRules leaves them out
  // for group and prefix-list peers (real AWS returns them in both views), so take them from there.
  const viewKey = (groupId: string | undefined, r: RawSecurityGroupRule) =>
    `${groupId} ${r.IsEgress === true} ${r.IpProtocol} ${r.FromPort} ${r.ToPort} ${r.CidrIpv4 ?? r.CidrIpv6 ?? r.PrefixListId ?? r.ReferencedGroupInfo?.GroupId}`;
  // Each managed group's permissions exploded once (they were twice: for the descriptions and,
  // without a rules export, for the rules), and the descriptions' map built only when a rule
  // lacks its own (a snapshot without a rules export never does: its rules are these).
  const exploded = new Map<RawSecurityGroup, RawSecurityGroupRule[]>();
  const explodedOf = (group: RawSecurityGroup): RawSecurityGroupRule[] => {
    let rules = exploded.get(group);
    if (rules === undefined) {
      rules = explodePermissions(group);
      exploded.set(group, rules);
    }
    return rules;
  };
  let viewDescriptions: Map<string, string> | undefined;
  const viewDescription = (groupId: string, r: RawSecurityGroupRule): string | undefined => {
    if (viewDescriptions === undefined) {
      viewDescriptions = new Map();
      for (const { group } of managed.values()) {
        for (const v of explodedOf(group))
          if (v.Description) viewDescriptions.set(viewKey(group.GroupId, v), v.Description);
      }
    }
    return viewDescriptions.get(viewKey(groupId, r));
  };

  const rulesByGroup = new Map<string, RawSecurityGroupRule[]>();
  const allRules = raw.SecurityGroupRules ?? [...managed.values()].flatMap(({ group }) => explodedOf(group));
  for (const r of allRules) {
    if (!r.GroupId || !managed.has(r.GroupId)) continue;
    const list = rulesByGroup.get(r.GroupId) ?? [];
    list.push(r);
    rulesByGroup.set(r.GroupId, list);
  }

  const resources: Resource[] = [];
  const unowned: Resource[] = [];
  /** Unowned rules by group id: an adopted group's untagged rules, every rule of a group not ours. */
  const foreign = new Map<string, Child[]>();
  for (const [id, { group, name, adopted }] of managed) {
    const children = new Map<string, Child>();
    for (const r of rulesByGroup.get(id) ?? []) {
      // In an adopted group only the rules carrying our tag are ours; in an owned group, all of them.
      if (adopted && ownerOfTagList(r.Tags) !== model) {
        if (owner.unowned) {
          const peer = rawPeer(r, refOfGroup, (pl) => listName.get(pl) ?? pl);
          if (peer) foreign.set(id, [...(foreign.get(id) ?? []), unownedRuleChild(r, peer)]);
        }
        continue;
      }
      const peer = rawPeer(r, refOfGroup, (pl) => listName.get(pl) ?? pl);
      if (!peer) continue;
      const protocol = canonicalProtocol(r.IpProtocol ?? '-1');
      const [fromPort, toPort] = canonicalPorts(protocol, r.FromPort, r.ToPort);
      const description = r.Description ?? viewDescription(id, r) ?? '';
      // The same edges render sets: a rule naming a group or an owned list depends on it, so a
      // plan that deletes that object removes the rule first (make-before-break, DESIGN §3).
      const dependsOn =
        peer.kind === 'group'
          ? [addressOf(target.name, SG_TYPE, peer.ref)]
          : peer.kind === 'prefix-list' && ownedListAddress.has(peer.ref)
            ? [addressOf(target.name, PL_TYPE, peer.ref)]
            : undefined;
      const child = ruleChild(
        { direction: r.IsEgress ? 'egress' : 'ingress', protocol, fromPort, toPort, peer, description },
        { ...(r.SecurityGroupRuleId ? { liveId: r.SecurityGroupRuleId } : {}), ...(dependsOn ? { dependsOn } : {}) },
      );
      children.set(child.key, child);
    }
    resources.push(
      resource({
        address: addressOf(target.name, SG_TYPE, name),
        target: target.name,
        type: SG_TYPE,
        name,
        attributes: adopted
          ? { adoptedGroupId: id, owner: model }
          : { description: group.Description ?? '', owner: ownerOfTagList(group.Tags) ?? '' },
        children: [...children.values()],
        liveId: id,
        ...(adopted ? {} : { forceNew: ['description'] }),
      }),
    );
  }
  for (const { list: l, name } of ownedLists) {
    const entries = [
      ...new Set((raw.Entries[l.PrefixListId ?? ''] ?? []).flatMap((e) => (e.Cidr ? [canonicalCidr(e.Cidr)] : []))),
    ];
    resources.push(
      resource({
        address: addressOf(target.name, PL_TYPE, name),
        target: target.name,
        type: PL_TYPE,
        name,
        attributes: {
          addressFamily: l.AddressFamily === 'IPv6' ? 'IPv6' : 'IPv4',
          maxEntries: l.MaxEntries ?? 0,
          owner: ownerOfTagList(l.Tags) ?? '',
        },
        children: entries.map(entryChild),
        liveId: l.PrefixListId ?? '',
        forceNew: ['addressFamily'],
      }),
    );
  }
  resources.sort(byKey((r) => r.address));
  if (owner.unowned) {
    // Reachability reads every rule the cloud evaluates; plan and diff only ever see `resources`.
    const unownedRules = raw.SecurityGroupRules ?? groups.flatMap((g) => explodePermissions(g));
    for (const r of unownedRules) {
      if (!r.GroupId || managed.has(r.GroupId)) continue;
      const peer = rawPeer(r, refOfGroup, (pl) => listName.get(pl) ?? pl);
      if (peer) foreign.set(r.GroupId, [...(foreign.get(r.GroupId) ?? []), unownedRuleChild(r, peer)]);
    }
    for (const g of groups) {
      const id = g.GroupId ?? '';
      const known = managed.get(id);
      const children = foreign.get(id) ?? [];
      if (known && children.length === 0) continue;
      const name = known?.name ?? g.GroupName ?? id;
      unowned.push(
        resource({
          address: addressOf(target.name, SG_TYPE, `${name}#unowned`),
          target: target.name,
          type: SG_TYPE,
          name,
          attributes: { owner: ownerOfTagList(g.Tags) ?? '' },
          children,
          liveId: id,
        }),
      );
    }
    for (const l of raw.PrefixLists) {
      const id = l.PrefixListId ?? '';
      if (
        !id ||
        isDeletedList(l) ||
        (model !== '' && ownerOfTagList(l.Tags) === model) ||
        raw.Entries[id] === undefined
      )
        continue;
      const entries = [...new Set(raw.Entries[id]!.flatMap((e) => (e.Cidr ? [canonicalCidr(e.Cidr)] : [])))];
      unowned.push(
        resource({
          address: addressOf(target.name, PL_TYPE, `${l.PrefixListName ?? id}#unowned`),
          target: target.name,
          type: PL_TYPE,
          name: l.PrefixListName ?? id,
          attributes: {
            addressFamily: l.AddressFamily === 'IPv6' ? 'IPv6' : 'IPv4',
            owner: ownerOfTagList(l.Tags) ?? '',
          },
          children: entries.map(entryChild),
          liveId: id,
        }),
      );
    }
    unowned.sort(byKey((r) => r.address));
  }
  const fingerprint = owner.fingerprint === false ? '' : fingerprintOf(resources, inTheWay);
  return { target: target.name, source, resources, fingerprint, diagnostics, ...(owner.unowned ? { unowned } : {}) };
}

/**
 * The sha256 of `JSON.stringify({ resources: [[address, liveId, attributes, [[key, liveId,
 * attributes] …]] …], inTheWay })`, hashed one resource at a time: the same bytes without one
 * string of the whole state (tens of MB at 10,000 segments).
 */
function fingerprintOf(resources: readonly Resource[], inTheWay: readonly unknown[]): string {
  const hash = createHash('sha256').update('{"resources":[');
  resources.forEach((r, i) => {
    const row = [r.address, r.liveId, r.attributes, r.children.map((c) => [c.key, c.liveId, c.attributes])];
    hash.update(i === 0 ? JSON.stringify(row) : `,${JSON.stringify(row)}`);
  });
  return hash.update(`],"inTheWay":${JSON.stringify(inTheWay)}}`).digest('hex');
}

/** A rule the model does not own, as a child (same canonical key as an owned one). */
function unownedRuleChild(r: RawSecurityGroupRule, peer: AwsPeer): Child {
  const protocol = canonicalProtocol(r.IpProtocol ?? '-1');
  const [fromPort, toPort] = canonicalPorts(protocol, r.FromPort, r.ToPort);
  return ruleChild(
    {
      direction: r.IsEgress ? 'egress' : 'ingress',
      protocol,
      fromPort,
      toPort,
      peer,
      description: r.Description ?? '',
    },
    r.SecurityGroupRuleId ? { liveId: r.SecurityGroupRuleId } : {},
  );
}

/** The canonical peer of a raw rule. */
function rawPeer(
  r: RawSecurityGroupRule,
  group: (id: string) => string,
  list: (id: string) => string,
): AwsPeer | undefined {
  if (r.CidrIpv4) return { kind: 'cidr', cidr: canonicalCidr(r.CidrIpv4) };
  if (r.CidrIpv6) return { kind: 'cidr', cidr: canonicalCidr(r.CidrIpv6) };
  if (r.ReferencedGroupInfo?.GroupId) return { kind: 'group', ref: group(r.ReferencedGroupInfo.GroupId) };
  if (r.PrefixListId) return { kind: 'prefix-list', ref: list(r.PrefixListId) };
  return undefined;
}
