// Types only: the SDK is loaded when the first step runs (apply is the only caller).
import type { EC2Client, IpPermission, ManagedPrefixList, Tag } from '@aws-sdk/client-ec2';
import { createHash } from 'node:crypto';
import pLimit from 'p-limit';
import type { TargetSpec } from '../../src/compile/types.js';
import { assertNever, InternalError, ProviderError } from '../../src/errors.js';
import type { Change, ChildChange, Resource } from '../../src/plan/types.js';
import type { Applier, ApplierOptions, ApplyStep } from '../../src/provider.js';
import { OWNER_KEY, ownerOfTagList, ownerTag } from '../kit/ownership.js';
import { createKeyedSerializer } from '../kit/serializer.js';
import { awsErrorCode, classifyAwsError, DUPLICATE_CODES, NOT_FOUND_CODES } from './errors.js';
import { DEPENDENCY_VIOLATION_ATTEMPTS, PREFIX_LIST_ENTRIES_PER_MODIFY } from './limits.js';
import { isDeletedList } from './state.js';
import { loadEc2Sdk } from './read.js';
import { childRule, ENTITY_TAG, PL_TYPE, SEGMENT_TAG, SG_TYPE, str, wireProtocol, type AwsRule } from './canonical.js';

/**
 * The AWS applier: runs the engine's steps against EC2 (DESIGN §3, cloud-semantics §1.3–1.7).
 *
 *   create  CreateSecurityGroup (tagged) + revoke its default allow-all egress; CreateManagedPrefixList
 *   add     Authorize{Ingress,Egress}: every new rule of a group in one call per direction, deduped,
 *           tagged; description changes through UpdateSecurityGroupRuleDescriptions*; list entries
 *   remove  Revoke* by rule id; list entries
 *   delete  DeleteSecurityGroup (after the remove phase revoked our references to it; a
 *           DependencyViolation is retried a few times, then explained); DeleteManagedPrefixList
 *
 * Idempotent: InvalidPermission.Duplicate re-reads and sends only what is missing, *.NotFound on a
 * revoke or delete counts as done. Steps run under p-limit; steps on one object never overlap.
 */

/** Applier knobs for tests. */
export interface AwsApplierTuning {
  /** Base delay before retrying a DeleteSecurityGroup that hit DependencyViolation (doubles each time). */
  readonly dependencyBackoffMs?: number;
  /** Delay between polls of a prefix list that is being modified. */
  readonly pollMs?: number;
}

/**
 * The idempotency token of a create: a hash of the plan's base state (its fingerprint), the
 * object's address and the request, so every retry of the same create in this apply, and a re-run
 * of the same saved plan, send the same token and EC2 answers with the object it already made
 * ("Ensuring idempotency in Amazon EC2 API requests"). A later plan (whose base state differs)
 * gets new tokens: EC2 remembers a token for at least 24 hours, and a list deleted and created
 * again with the same content must not be answered with the deleted one. 64 ASCII characters at most.
 */
export function clientToken(planFingerprint: string, address: string, request: unknown): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([planFingerprint, address, request]))
    .digest('hex');
  return `bulkhead-${digest.slice(0, 55)}`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Creates the applier of one target. */
export function createAwsApplier(
  target: TargetSpec & { kind: 'aws' },
  prior: readonly Resource[],
  clientSource: EC2Client | (() => Promise<EC2Client>),
  options: ApplierOptions,
  tuning: AwsApplierTuning = {},
  planFingerprint = '',
): Applier {
  const vpc = target.aws.vpc;
  // Set by `ready` before any step runs.
  let sdk!: typeof import('@aws-sdk/client-ec2');
  let client!: EC2Client;
  let loading: Promise<void> | undefined;
  const ready = () =>
    (loading ??= (async () => {
      sdk = await loadEc2Sdk();
      client = typeof clientSource === 'function' ? await clientSource() : clientSource;
    })());
  const groupIds = new Map<string, string>();
  const listIds = new Map<string, string>();
  for (const r of prior) {
    if (r.type === SG_TYPE && r.liveId) groupIds.set(r.name, r.liveId);
    if (r.type === PL_TYPE && r.liveId) listIds.set(r.name, r.liveId);
  }
  const awsLists = new Map<string, string>();
  const limit = pLimit(Math.max(1, options.parallelism));
  // Writes to one object never overlap (the kit's keyed serializer); different objects run under p-limit.
  const writes = createKeyedSerializer();
  const progress = (m: string) => options.onProgress?.(`${target.name}: ${m}`);

  const send = async <T>(what: string, call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (err) {
      throw classifyAwsError(err, what);
    }
  };

  /** Id of a group by its managed name: from what was read or created, else looked up by name. */
  const groupId = async (ref: string): Promise<string> => {
    if (ref.startsWith('sg-')) return ref;
    const known = groupIds.get(ref);
    if (known) return known;
    const out = await send(`looking up group ${ref}`, () =>
      client.send(
        new sdk.DescribeSecurityGroupsCommand({
          Filters: [
            { Name: 'vpc-id', Values: [vpc] },
            { Name: 'group-name', Values: [ref] },
          ],
        }),
      ),
    );
    const id = out.SecurityGroups?.[0]?.GroupId;
    if (!id)
      throw new ProviderError(
        `AWS: security group ${ref} does not exist in ${vpc}; run plan again`,
        'InvalidGroup.NotFound',
      );
    groupIds.set(ref, id);
    return id;
  };

  /** Id of a prefix list: owned lists by name, AWS-managed lists (`com.amazonaws.…`) resolved by name. */
  const listId = async (ref: string): Promise<string> => {
    if (ref.startsWith('pl-')) return ref;
    const known = listIds.get(ref) ?? awsLists.get(ref);
    if (known) return known;
    const out = await send(`looking up prefix list ${ref}`, () =>
      client.send(
        new sdk.DescribeManagedPrefixListsCommand({ Filters: [{ Name: 'prefix-list-name', Values: [ref] }] }),
      ),
    );
    const found = out.PrefixLists?.find((l) => l.PrefixListName === ref && !isDeletedList(l));
    if (!found?.PrefixListId)
      throw new ProviderError(
        `AWS: prefix list ${ref} does not exist in ${target.aws.region}`,
        'InvalidPrefixListID.NotFound',
      );
    (found.OwnerId === 'AWS' ? awsLists : listIds).set(ref, found.PrefixListId);
    return found.PrefixListId;
  };

  /** The wire permission of one rule. */
  const permission = async (rule: AwsRule): Promise<IpPermission> => {
    const p: IpPermission = { IpProtocol: wireProtocol(rule.protocol) };
    if (rule.fromPort !== null) p.FromPort = rule.fromPort;
    if (rule.toPort !== null) p.ToPort = rule.toPort;
    const Description = rule.description || undefined;
    switch (rule.peer.kind) {
      case 'cidr':
        if (rule.peer.cidr.includes(':')) p.Ipv6Ranges = [{ CidrIpv6: rule.peer.cidr, Description }];
        else p.IpRanges = [{ CidrIp: rule.peer.cidr, Description }];
        break;
      case 'group':
        p.UserIdGroupPairs = [{ GroupId: await groupId(rule.peer.ref), Description }];
        break;
      case 'prefix-list':
        p.PrefixListIds = [{ PrefixListId: await listId(rule.peer.ref), Description }];
        break;
      default:
        assertNever(rule.peer);
    }
    return p;
  };

  /** Merges atomic permissions into one per (protocol, ports), as Authorize takes them, deduped. */
  const mergePermissions = (perms: readonly IpPermission[]): IpPermission[] => {
    const merged = new Map<string, IpPermission>();
    const seen = new Set<string>();
    for (const p of perms) {
      const k = `${p.IpProtocol} ${p.FromPort ?? ''} ${p.ToPort ?? ''}`;
      const m: IpPermission = merged.get(k) ?? { IpProtocol: p.IpProtocol, FromPort: p.FromPort, ToPort: p.ToPort };
      merged.set(k, m);
      // The same peer twice in one call is an InvalidParameterValue, so dedupe.
      const once = (peer: string | undefined) => {
        const id = `${k} ${peer}`;
        if (seen.has(id)) return false;
        seen.add(id);
        return true;
      };
      for (const r of p.IpRanges ?? []) if (once(r.CidrIp)) (m.IpRanges ??= []).push(r);
      for (const r of p.Ipv6Ranges ?? []) if (once(r.CidrIpv6)) (m.Ipv6Ranges ??= []).push(r);
      for (const r of p.PrefixListIds ?? []) if (once(r.PrefixListId)) (m.PrefixListIds ??= []).push(r);
      for (const r of p.UserIdGroupPairs ?? []) if (once(r.GroupId)) (m.UserIdGroupPairs ??= []).push(r);
    }
    return [...merged.values()];
  };

  /** Wire identity of an atomic permission (what Duplicate compares). */
  const wireKeys = (perms: readonly IpPermission[]): string[] =>
    perms.flatMap((p) => {
      const base = `${p.IpProtocol} ${p.FromPort ?? -1} ${p.ToPort ?? -1}`;
      return [
        ...(p.IpRanges ?? []).map((r) => `${base} ${r.CidrIp}`),
        ...(p.Ipv6Ranges ?? []).map((r) => `${base} ${r.CidrIpv6}`),
        ...(p.PrefixListIds ?? []).map((r) => `${base} ${r.PrefixListId}`),
        ...(p.UserIdGroupPairs ?? []).map((r) => `${base} ${r.GroupId}`),
      ];
    });

  const authorize = async (
    id: string,
    name: string,
    owner: string,
    direction: 'ingress' | 'egress',
    rules: AwsRule[],
  ) => {
    if (rules.length === 0) return;
    const atomic = await Promise.all(rules.map(permission));
    const tags = owner ? [{ ResourceType: 'security-group-rule' as const, Tags: [ownerTag(owner)] }] : undefined;
    const sendAll = async (perms: IpPermission[]) => {
      const input = {
        GroupId: id,
        IpPermissions: mergePermissions(perms),
        ...(tags ? { TagSpecifications: tags } : {}),
      };
      await (direction === 'ingress'
        ? client.send(new sdk.AuthorizeSecurityGroupIngressCommand(input))
        : client.send(new sdk.AuthorizeSecurityGroupEgressCommand(input)));
    };
    try {
      await sendAll(atomic);
    } catch (err) {
      if (!DUPLICATE_CODES.has(awsErrorCode(err) ?? ''))
        throw classifyAwsError(err, `authorizing ${direction} rules of ${name} (${id})`);
      // Some rules exist already (a re-run, or added by hand): re-read and send only the missing ones.
      const live = await send(`reading rules of ${name}`, () =>
        client.send(new sdk.DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [id] }] })),
      );
      const have = new Set(
        (live.SecurityGroupRules ?? [])
          .filter((r) => (r.IsEgress === true) === (direction === 'egress'))
          .map((r) => {
            const peer = r.CidrIpv4 ?? r.CidrIpv6 ?? r.PrefixListId ?? r.ReferencedGroupInfo?.GroupId;
            return `${r.IpProtocol} ${r.FromPort ?? -1} ${r.ToPort ?? -1} ${peer}`;
          }),
      );
      const missing = atomic.filter((p) => wireKeys([p]).some((k) => !have.has(k)));
      if (missing.length > 0) await send(`authorizing ${direction} rules of ${name} (${id})`, () => sendAll(missing));
    }
  };

  const updateDescriptions = async (
    id: string,
    name: string,
    direction: 'ingress' | 'egress',
    updates: ChildChange[],
  ) => {
    const items = updates.flatMap((u) =>
      u.before?.liveId && u.after
        ? [{ SecurityGroupRuleId: u.before.liveId, Description: childRule(u.after).description }]
        : [],
    );
    if (items.length === 0) return;
    const input = { GroupId: id, SecurityGroupRuleDescriptions: items };
    await send(`updating rule descriptions of ${name}`, () =>
      direction === 'ingress'
        ? client.send(new sdk.UpdateSecurityGroupRuleDescriptionsIngressCommand(input))
        : client.send(new sdk.UpdateSecurityGroupRuleDescriptionsEgressCommand(input)),
    );
  };

  const revoke = async (id: string, name: string, direction: 'ingress' | 'egress', deletes: ChildChange[]) => {
    const revokeCall = (input: { GroupId: string; SecurityGroupRuleIds?: string[]; IpPermissions?: IpPermission[] }) =>
      direction === 'ingress'
        ? client.send(new sdk.RevokeSecurityGroupIngressCommand(input))
        : client.send(new sdk.RevokeSecurityGroupEgressCommand(input));
    const withIds = deletes.flatMap((d) => (d.before?.liveId ? [d.before.liveId] : []));
    const without = deletes.flatMap((d) => (d.before && !d.before.liveId ? [childRule(d.before)] : []));
    const tolerant = async (what: string, call: () => Promise<unknown>) => {
      try {
        await call();
      } catch (err) {
        if (!NOT_FOUND_CODES.has(awsErrorCode(err) ?? '')) throw classifyAwsError(err, what);
        return false;
      }
      return true;
    };
    if (withIds.length > 0) {
      const ok = await tolerant(`revoking ${direction} rules of ${name}`, () =>
        revokeCall({ GroupId: id, SecurityGroupRuleIds: withIds }),
      );
      // One unknown id fails the whole call: revoke one by one, skipping those already gone.
      if (!ok) {
        for (const ruleId of withIds) {
          await tolerant(`revoking ${ruleId} of ${name}`, () =>
            revokeCall({ GroupId: id, SecurityGroupRuleIds: [ruleId] }),
          );
        }
      }
    }
    for (const rule of without) {
      const perm = await permission({ ...rule, description: '' });
      await tolerant(`revoking a ${direction} rule of ${name}`, () =>
        revokeCall({ GroupId: id, IpPermissions: [perm] }),
      );
    }
  };

  const createGroup = async (after: Resource) => {
    const adopted = str(after.attributes, 'adoptedGroupId');
    if (adopted) {
      const out = await send(`checking adopted group ${adopted}`, () =>
        client.send(new sdk.DescribeSecurityGroupsCommand({ GroupIds: [adopted] })),
      );
      if (!out.SecurityGroups?.length)
        throw new ProviderError(
          `AWS: adopted security group ${adopted} of ${after.name} does not exist`,
          'InvalidGroup.NotFound',
        );
      groupIds.set(after.name, adopted);
      return;
    }
    const owner = str(after.attributes, 'owner');
    const tags: Tag[] = [ownerTag(owner), { Key: SEGMENT_TAG, Value: after.name.slice(owner.length + 1) }];
    let id: string | undefined;
    try {
      const out = await client.send(
        new sdk.CreateSecurityGroupCommand({
          GroupName: after.name,
          Description: str(after.attributes, 'description'),
          VpcId: vpc,
          TagSpecifications: [{ ResourceType: 'security-group', Tags: tags }],
        }),
      );
      id = out.GroupId;
    } catch (err) {
      if (awsErrorCode(err) !== 'InvalidGroup.Duplicate')
        throw classifyAwsError(err, `creating security group ${after.name}`);
      // A re-run after a partial apply: ours if it carries the ownership tag, never adopted otherwise.
      const out = await send(`looking up group ${after.name}`, () =>
        client.send(
          new sdk.DescribeSecurityGroupsCommand({
            Filters: [
              { Name: 'vpc-id', Values: [vpc] },
              { Name: 'group-name', Values: [after.name] },
            ],
          }),
        ),
      );
      const g = out.SecurityGroups?.[0];
      if (!g?.GroupId || ownerOfTagList(g.Tags) !== owner) {
        throw new ProviderError(
          `AWS: security group ${after.name} already exists in ${vpc} without the ownership tag ${OWNER_KEY}=${owner}; ` +
            `tag it or set the segment's aws.groupId to adopt it`,
          'InvalidGroup.Duplicate',
        );
      }
      id = g.GroupId;
    }
    if (!id) throw new InternalError(`CreateSecurityGroup returned no GroupId for ${after.name}`);
    groupIds.set(after.name, id);
    progress(`created ${after.name} (${id})`);
    // Default deny: a new group allows all IPv4 egress until this rule is revoked.
    try {
      await client.send(
        new sdk.RevokeSecurityGroupEgressCommand({
          GroupId: id,
          IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
        }),
      );
    } catch (err) {
      if (!NOT_FOUND_CODES.has(awsErrorCode(err) ?? ''))
        throw classifyAwsError(err, `revoking the default egress of ${after.name}`);
    }
  };

  /** Why a group cannot be deleted: who still refers to it (rules of unowned groups, interfaces). */
  const explainDependency = async (id: string, name: string): Promise<string> => {
    const found: string[] = [];
    try {
      for (const filter of ['ip-permission.group-id', 'egress.ip-permission.group-id']) {
        const out = await client.send(
          new sdk.DescribeSecurityGroupsCommand({
            Filters: [
              { Name: 'vpc-id', Values: [vpc] },
              { Name: filter, Values: [id] },
            ],
          }),
        );
        for (const g of out.SecurityGroups ?? [])
          if (g.GroupId !== id) found.push(`rules of ${g.GroupName} (${g.GroupId})`);
      }
    } catch {
      // the explanation is best effort
    }
    try {
      const out = await client.send(
        new sdk.DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'group-id', Values: [id] }] }),
      );
      const n = out.NetworkInterfaces?.length ?? 0;
      if (n > 0)
        found.push(
          `${n} network interface${n === 1 ? '' : 's'} (${out.NetworkInterfaces?.map((i) => i.NetworkInterfaceId).join(', ')})`,
        );
    } catch {
      // best effort
    }
    const who =
      found.length > 0
        ? `it is still used by ${[...new Set(found)].join(', ')}`
        : 'it is still referenced by a rule of another group or attached to a network interface';
    return (
      `AWS: cannot delete security group ${name} (${id}): DependencyViolation: ${who}. Bulkhead revoked its own ` +
      `references to it and retried ${DEPENDENCY_VIOLATION_ATTEMPTS} times. Remove the other references or detach the ` +
      `interfaces (aws ec2 describe-network-interfaces --filters Name=group-id,Values=${id}), then run apply again.`
    );
  };

  const deleteGroup = async (before: Resource) => {
    if (str(before.attributes, 'adoptedGroupId')) return; // an adopted group is never deleted, only its rules
    const id = before.liveId ?? (await groupId(before.name));
    const base = tuning.dependencyBackoffMs ?? 1000;
    for (let attempt = 1; ; attempt++) {
      try {
        await client.send(new sdk.DeleteSecurityGroupCommand({ GroupId: id }));
        groupIds.delete(before.name);
        progress(`deleted ${before.name} (${id})`);
        return;
      } catch (err) {
        const code = awsErrorCode(err) ?? '';
        if (NOT_FOUND_CODES.has(code)) return;
        if (code !== 'DependencyViolation')
          throw classifyAwsError(err, `deleting security group ${before.name} (${id})`);
        if (attempt >= DEPENDENCY_VIOLATION_ATTEMPTS) {
          throw new ProviderError(await explainDependency(id, before.name), 'DependencyViolation', false, {
            cause: err,
          });
        }
        await sleep(base * 2 ** (attempt - 1));
      }
    }
  };

  // ---- prefix lists -------------------------------------------------------------------------

  /** Waits until a list is not being changed and returns it. */
  const settledList = async (id: string): Promise<ManagedPrefixList> => {
    for (let i = 0; ; i++) {
      const out = await send(`reading prefix list ${id}`, () =>
        client.send(new sdk.DescribeManagedPrefixListsCommand({ PrefixListIds: [id] })),
      );
      const l = out.PrefixLists?.[0];
      if (!l) throw new ProviderError(`AWS: prefix list ${id} does not exist`, 'InvalidPrefixListID.NotFound');
      if (!l.State?.endsWith('in-progress') || i >= 60) return l;
      await sleep(tuning.pollMs ?? 500);
    }
  };

  /** One ModifyManagedPrefixList with the current version (optimistic concurrency), then wait. */
  const modifyList = async (
    id: string,
    name: string,
    change: {
      AddEntries?: { Cidr: string; Description?: string }[];
      RemoveEntries?: { Cidr: string }[];
      MaxEntries?: number;
    },
  ) => {
    const l = await settledList(id);
    // PrefixListName is sent unchanged on every modify: moto drops the name of a list modified without it.
    await send(`modifying prefix list ${name}`, () =>
      client.send(
        new sdk.ModifyManagedPrefixListCommand({
          PrefixListId: id,
          CurrentVersion: l.Version,
          PrefixListName: name,
          ...change,
        }),
      ),
    );
    await settledList(id);
  };

  const createList = async (after: Resource) => {
    const owner = str(after.attributes, 'owner');
    const existing = await send(`looking up prefix list ${after.name}`, () =>
      client.send(
        new sdk.DescribeManagedPrefixListsCommand({ Filters: [{ Name: 'prefix-list-name', Values: [after.name] }] }),
      ),
    );
    const mine = existing.PrefixLists?.find(
      (l) => l.PrefixListName === after.name && !isDeletedList(l) && ownerOfTagList(l.Tags) === owner,
    );
    if (mine?.PrefixListId) {
      listIds.set(after.name, mine.PrefixListId);
      return;
    }
    const input = {
      PrefixListName: after.name,
      AddressFamily: str(after.attributes, 'addressFamily'),
      MaxEntries: Number(after.attributes['maxEntries']),
      TagSpecifications: [
        { ResourceType: 'prefix-list' as const, Tags: [ownerTag(owner), { Key: ENTITY_TAG, Value: after.name }] },
      ],
    };
    // A create whose answer was lost (a reset after EC2 acted) is retried with the same token, so
    // EC2 returns the first list instead of making a second one (cloud-semantics: idempotency).
    const ClientToken = clientToken(planFingerprint, after.address, input);
    const out = await send(`creating prefix list ${after.name}`, () =>
      client.send(new sdk.CreateManagedPrefixListCommand({ ...input, ClientToken })),
    );
    const id = out.PrefixList?.PrefixListId;
    if (!id) throw new InternalError(`CreateManagedPrefixList returned no id for ${after.name}`);
    listIds.set(after.name, id);
    await settledList(id);
    progress(`created prefix list ${after.name} (${id})`);
  };

  const listEntries = async (change: Change, children: readonly ChildChange[], phase: 'add' | 'remove') => {
    const name = change.name;
    const id = change.before?.liveId ?? (await listId(name));
    const beforeMax = Number(change.before?.attributes['maxEntries'] ?? 0);
    const afterMax = Number(change.after?.attributes['maxEntries'] ?? beforeMax);
    const hasRemovals = change.childChanges.some((c) => c.action === 'delete');
    if (phase === 'add') {
      // Entries and MaxEntries cannot change in one call: grow first, shrink after removals.
      if (change.before && afterMax > beforeMax) await modifyList(id, name, { MaxEntries: afterMax });
      const adds = children.filter((c) => c.action === 'create').map((c) => ({ Cidr: c.key }));
      for (let i = 0; i < adds.length; i += PREFIX_LIST_ENTRIES_PER_MODIFY) {
        await modifyList(id, name, { AddEntries: adds.slice(i, i + PREFIX_LIST_ENTRIES_PER_MODIFY) });
      }
      if (change.before && afterMax < beforeMax && !hasRemovals) await modifyList(id, name, { MaxEntries: afterMax });
    } else {
      const removes = children.filter((c) => c.action === 'delete').map((c) => ({ Cidr: c.key }));
      for (let i = 0; i < removes.length; i += PREFIX_LIST_ENTRIES_PER_MODIFY) {
        await modifyList(id, name, { RemoveEntries: removes.slice(i, i + PREFIX_LIST_ENTRIES_PER_MODIFY) });
      }
      if (change.after && afterMax < beforeMax) await modifyList(id, name, { MaxEntries: afterMax });
    }
  };

  const deleteList = async (before: Resource) => {
    const id = before.liveId ?? (await listId(before.name));
    const base = tuning.dependencyBackoffMs ?? 1000;
    for (let attempt = 1; ; attempt++) {
      try {
        await client.send(new sdk.DeleteManagedPrefixListCommand({ PrefixListId: id }));
        listIds.delete(before.name);
        return;
      } catch (err) {
        const code = awsErrorCode(err) ?? '';
        if (NOT_FOUND_CODES.has(code)) return;
        const inUse = code === 'DependencyViolation' || code === 'InvalidPrefixListModification';
        if (!inUse || attempt >= DEPENDENCY_VIOLATION_ATTEMPTS) {
          throw classifyAwsError(
            err,
            `deleting prefix list ${before.name} (${id}); a rule outside the model may still reference it`,
          );
        }
        await sleep(base * 2 ** (attempt - 1));
      }
    }
  };

  // ---- steps --------------------------------------------------------------------------------

  const groupStep = async (step: ApplyStep) => {
    const { change } = step;
    switch (step.phase) {
      case 'create':
        if (change.after) await createGroup(change.after);
        return;
      case 'add':
      case 'remove': {
        const res = change.after ?? change.before;
        if (!res) return;
        const id =
          change.after && !change.before
            ? await groupId(res.name)
            : (change.before?.liveId ?? (await groupId(res.name)));
        const owner = str(change.after?.attributes ?? {}, 'owner') || str(change.before?.attributes ?? {}, 'owner');
        for (const direction of ['ingress', 'egress'] as const) {
          const mine = step.children.filter((c) => (c.after ?? c.before)?.attributes['direction'] === direction);
          if (step.phase === 'add') {
            await authorize(
              id,
              res.name,
              owner,
              direction,
              mine.filter((c) => c.action === 'create' && c.after).map((c) => childRule(c.after!)),
            );
            await updateDescriptions(
              id,
              res.name,
              direction,
              mine.filter((c) => c.action === 'update'),
            );
          } else {
            await revoke(
              id,
              res.name,
              direction,
              mine.filter((c) => c.action === 'delete'),
            );
          }
        }
        return;
      }
      case 'delete':
        if (change.before) await deleteGroup(change.before);
        return;
      default:
        assertNever(step.phase);
    }
  };

  const listStep = async (step: ApplyStep) => {
    switch (step.phase) {
      case 'create':
        if (step.change.after) await createList(step.change.after);
        return;
      case 'add':
      case 'remove':
        await listEntries(step.change, step.children, step.phase);
        return;
      case 'delete':
        if (step.change.before) await deleteList(step.change.before);
        return;
      default:
        assertNever(step.phase);
    }
  };

  const runStep = async (step: ApplyStep) => {
    if (step.change.type === SG_TYPE) return groupStep(step);
    if (step.change.type === PL_TYPE) return listStep(step);
    throw new InternalError(`the AWS provider got a step for ${step.change.type}`);
  };

  return {
    run(step: ApplyStep): Promise<void> {
      // Steps of one object in call order, each under p-limit once its turn comes (the order it had).
      return writes.run(step.change.address, () =>
        limit(async () => {
          await ready();
          return runStep(step);
        }),
      );
    },
  };
}
