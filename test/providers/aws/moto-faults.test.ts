import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateManagedPrefixListCommand,
  CreateSecurityGroupCommand,
  DescribeManagedPrefixListsCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { rm } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEPENDENCY_VIOLATION_ATTEMPTS } from '../../../providers/aws/limits.js';
import { hasErrors } from '../../../src/diagnostics.js';
import { buildSteps } from '../../../src/apply/build-steps.js';
import { allDiagnostics } from '../../../src/plan/create-plan.js';
import { driftItems } from '../../../src/plan/drift-report.js';
import { startMoto, type MotoServer } from '../../helpers/aws/moto.js';
import {
  changeLines,
  childLines,
  compile,
  copyShop,
  createVpc,
  editModel,
  engine,
  groupByName as findGroup,
  rawClient,
} from '../../helpers/aws/scenario.js';
import { startShim, type Ec2Shim } from '../../helpers/aws/shim.js';
import { unownedSnapshot } from '../../helpers/aws/scenario.js';

// What moto does not do (throttle, paginate, check dependencies), injected by the shim, and the
// ownership rules (an unowned group in the way, adoption by id).

let moto: MotoServer;
let shim: Ec2Shim;
let client: EC2Client;
let vpc: string;
let model: { dir: string; file: string };

beforeAll(async () => {
  moto = await startMoto();
  shim = await startShim(moto.url);
  client = rawClient(moto.url);
}, 60_000);

afterAll(async () => {
  client?.destroy();
  await shim?.stop();
  await moto?.stop();
});

beforeEach(async () => {
  await moto.reset();
  shim.reset();
  vpc = await createVpc(client);
  model = await copyShop(vpc);
});

afterEach(async () => {
  if (model) await rm(model.dir, { recursive: true, force: true });
});

const groupByName = (name: string) => findGroup(client, vpc, name);

async function applyShop(e: ReturnType<typeof engine>) {
  const rules = await compile(model.file);
  const report = await e.apply(await e.plan(rules), rules);
  expect(report.outcomes.filter((o) => o.status !== 'done')).toEqual([]);
  return rules;
}

const removeLb = async (file: string) => {
  await editModel(file, /\n {2}lb: .*\n/, '\n');
  await editModel(file, '{ from: lb, ports: [tcp/8080] }', '{ from: office, ports: [tcp/8080] }');
  await editModel(file, /\n {2}edge: \[lb\]\n/, '\n');
};

describe('AWS provider with injected faults', () => {
  it('rides out RequestLimitExceeded on a share of calls with the SDK adaptive retry', async () => {
    // Every seventh call, 4 times in all: enough to hit reads and writes. After each throttle the
    // adaptive client-side rate limiter (rightly) slows the client down, so more makes a slow test.
    shim.faults.throttleEvery = 7;
    shim.faults.throttleLimit = 4;
    const e = engine(shim.url);
    const rules = await applyShop(e);
    expect(childLines(await e.plan(rules))).toEqual([]);
    const throttled = shim.calls.filter((c) => c.status === 503).length;
    expect(throttled).toBe(4);
    // Each throttled call was retried by the SDK: the same action follows it.
    const throttledAt = shim.calls.flatMap((c, i) => (c.status === 503 ? [i] : []));
    for (const i of throttledAt)
      expect(shim.calls.slice(i + 1).some((c) => c.action === shim.calls[i]!.action && c.status === 200)).toBe(true);
  }, 60_000);

  it('follows NextToken through every Describe/Get page and plans the same', async () => {
    const e = engine(shim.url);
    const rules = await applyShop(e);
    shim.clearCalls();
    expect(childLines(await e.plan(rules))).toEqual([]);
    const onePage = shim.countByAction();
    shim.faults.pageSize = 2;
    shim.clearCalls();
    const paged = await e.plan(rules);
    expect(childLines(paged)).toEqual([]);
    expect(changeLines(paged)).toEqual([]);
    const pages = shim.countByAction();
    // 5 groups → 3 pages; 6 rules of shop-app among 14 → 7+ pages; 2 owned + AWS lists; 3 entries → 2 pages.
    expect(onePage['DescribeSecurityGroups']).toBe(1);
    expect(pages['DescribeSecurityGroups']).toBe(3);
    expect(pages['DescribeSecurityGroupRules']!).toBeGreaterThan(onePage['DescribeSecurityGroupRules']!);
    expect(pages['DescribeManagedPrefixLists']!).toBeGreaterThan(1);
    expect(pages['GetManagedPrefixListEntries']).toBe(3); // ipv4: 3 entries = 2 pages, ipv6: 1 entry = 1 page
    const tokens = shim.calls
      .filter((c) => c.action === 'DescribeSecurityGroups')
      .map((c) => c.params.get('NextToken'));
    expect(tokens).toEqual([null, 'shim-2', 'shim-4']);
  });

  it('retries DeleteSecurityGroup through a passing DependencyViolation', async () => {
    const e = engine(shim.url);
    await applyShop(e);
    const lb = await groupByName('shop-lb');
    await removeLb(model.file);
    const rules = await compile(model.file);
    const plan = await e.plan(rules);
    expect(changeLines(plan)).toContain('delete shop-lb');
    shim.faults.dependencyViolation.set(lb.GroupId!, 2);
    shim.clearCalls();
    const report = await e.apply(plan, rules);
    expect(report.ok).toBe(true);
    expect(shim.countByAction()['DeleteSecurityGroup']).toBe(3);
    expect(childLines(await e.plan(rules))).toEqual([]);
  });

  it('explains a lasting DependencyViolation, stops after bounded retries, and converges on a re-run', async () => {
    const e = engine(shim.url);
    await applyShop(e);
    const lb = await groupByName('shop-lb');
    // An unowned group refers to shop-lb: real EC2 refuses the delete (the shim plays it).
    const legacy = await client.send(
      new CreateSecurityGroupCommand({ GroupName: 'legacy-admin', Description: 'ops', VpcId: vpc }),
    );
    await client.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: legacy.GroupId,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, UserIdGroupPairs: [{ GroupId: lb.GroupId }] }],
      }),
    );
    await removeLb(model.file);
    const rules = await compile(model.file);
    shim.faults.dependencyViolation.set(lb.GroupId!, Infinity);
    shim.clearCalls();
    const report = await e.apply(await e.plan(rules), rules);
    expect(report.ok).toBe(false);
    const failed = report.outcomes.filter((o) => o.status === 'failed');
    expect(failed.map((o) => o.id)).toEqual(['delete:aws-prod.aws_security_group.shop-lb']);
    expect(failed[0]!.code).toBe('DependencyViolation');
    expect(failed[0]!.error).toMatch(/cannot delete security group shop-lb \(sg-[0-9a-f]+\): DependencyViolation/);
    expect(failed[0]!.error).toContain('legacy-admin');
    expect(shim.countByAction()['DeleteSecurityGroup']).toBe(DEPENDENCY_VIOLATION_ATTEMPTS);
    // Everything before the delete was done (web no longer refers to lb); only the delete is left.
    const left = await e.plan(rules);
    expect(changeLines(left)).toEqual(['delete shop-lb']);
    expect(childLines(left).filter((l) => !l.startsWith('delete shop-lb:'))).toEqual([]);
    // Once the reference is gone, a re-run converges.
    shim.faults.dependencyViolation.clear();
    const again = await e.apply(await e.plan(rules), rules);
    expect(again.ok).toBe(true);
    expect(changeLines(await e.plan(rules))).toEqual([]);
  });

  it('refuses to plan when an unowned group holds a managed name, and says how to adopt it', async () => {
    const squatter = await client.send(
      new CreateSecurityGroupCommand({ GroupName: 'shop-db', Description: 'made by hand', VpcId: vpc }),
    );
    const e = engine(shim.url);
    const rules = await compile(model.file);
    const plan = await e.plan(rules);
    const errors = allDiagnostics(plan).filter((d) => d.severity === 'error');
    expect(errors.map((d) => d.code)).toEqual(['aws-unowned-in-the-way']);
    expect(errors[0]!.message).toContain(squatter.GroupId!);
    expect(errors[0]!.message).toContain('Key=bulkhead:model,Value=shop');
    expect(errors[0]!.message).toContain('segments.db.aws.groupId');
    expect(hasErrors(allDiagnostics(plan))).toBe(true);
    await expect(e.apply(plan, rules)).rejects.toThrow();
    expect(shim.calls.filter((c) => !c.action.startsWith('Describe') && !c.action.startsWith('Get'))).toEqual([]);
  });

  it('adopts a group named by aws.groupId: manages only its tagged rules, never deletes or tags the group', async () => {
    const existing = await client.send(
      new CreateSecurityGroupCommand({ GroupName: 'database-legacy', Description: 'made by hand', VpcId: vpc }),
    );
    await client.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: existing.GroupId,
        IpPermissions: [
          {
            IpProtocol: 'tcp',
            FromPort: 3306,
            ToPort: 3306,
            IpRanges: [{ CidrIp: '10.9.0.0/16', Description: 'hand-made' }],
          },
        ],
      }),
    );
    await editModel(model.file, 'db:  { ingress:', `db:  { aws: { groupId: ${existing.GroupId} }, ingress:`);
    const e = engine(shim.url);
    const rules = await compile(model.file);
    const plan = await e.plan(rules);
    expect(changeLines(plan)).toContain('update shop-db');
    expect(childLines(plan).filter((l) => l.includes('shop-db:'))).toEqual([
      'create shop-db: ingress tcp 5432-5432 sg:shop-app',
    ]);
    expect((await e.apply(plan, rules)).ok).toBe(true);
    expect(childLines(await e.plan(rules))).toEqual([]);
    const g = await groupByName('database-legacy');
    expect(g.Tags ?? []).toEqual([]);
    const rulesNow =
      (
        await client.send(
          new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [existing.GroupId!] }] }),
        )
      ).SecurityGroupRules ?? [];
    expect(rulesNow.find((r) => r.FromPort === 3306)?.Description).toBe('hand-made');
    expect(rulesNow.find((r) => r.FromPort === 5432)?.Tags).toContainEqual({ Key: 'bulkhead:model', Value: 'shop' });
  });

  it('moves a segment from its managed group to an adopted one: the old group goes, references follow', async () => {
    const e = engine(shim.url);
    await applyShop(e);
    const old = await groupByName('shop-db');
    const adopted = await client.send(
      new CreateSecurityGroupCommand({ GroupName: 'database-legacy', Description: 'made by hand', VpcId: vpc }),
    );
    await editModel(model.file, 'db:  { ingress:', `db:  { aws: { groupId: ${adopted.GroupId} }, ingress:`);
    const rules = await compile(model.file);
    const plan = await e.plan(rules);
    expect(changeLines(plan)).toEqual([`delete shop-db-${old.GroupId}`, 'update shop-app', 'update shop-db']);
    expect(childLines(plan).filter((l) => l.startsWith('create') || l.startsWith('delete shop-app'))).toEqual([
      'create shop-app: egress tcp 5432-5432 sg:shop-db',
      'create shop-db: ingress tcp 5432-5432 sg:shop-app',
      `delete shop-app: egress tcp 5432-5432 sg:shop-db-${old.GroupId}`,
    ]);
    expect((await e.apply(plan, rules)).ok).toBe(true);
    expect(changeLines(await e.plan(rules))).toEqual([]);
    const names = (
      (await client.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpc] }] })))
        .SecurityGroups ?? []
    )
      .map((g) => g.GroupName)
      .sort();
    expect(names).toEqual(['database-legacy', 'default', 'shop-app', 'shop-lb', 'shop-web']);
  });
});

describe('AWS duplicate owned objects', () => {
  it('a second owned prefix list with the managed name is drift: plan removes it, its rule first, and apply converges', async () => {
    const e = engine(shim.url);
    const rules = await applyShop(e);
    const name = 'shop-payment-apis-ipv4';
    const ownedLists = async () =>
      (
        (
          await client.send(
            new DescribeManagedPrefixListsCommand({ Filters: [{ Name: 'prefix-list-name', Values: [name] }] }),
          )
        ).PrefixLists ?? []
      ).filter((l) => l.Tags?.some((t) => t.Key === 'bulkhead:model' && t.Value === 'shop'));
    const [original] = await ownedLists();
    // What a concurrent apply (or a create whose answer was lost) leaves: the same managed name and
    // tags, and a rule of an owned group that uses it.
    const dup = await client.send(
      new CreateManagedPrefixListCommand({
        PrefixListName: name,
        AddressFamily: 'IPv4',
        MaxEntries: 4,
        Entries: [{ Cidr: '192.0.2.10/32' }, { Cidr: '192.0.2.11/32' }, { Cidr: '198.51.100.7/32' }],
        TagSpecifications: [
          {
            ResourceType: 'prefix-list',
            Tags: [
              { Key: 'bulkhead:model', Value: 'shop' },
              { Key: 'bulkhead:entity', Value: name },
            ],
          },
        ],
      }),
    );
    const app = await groupByName('shop-app');
    // Through the shim, which keeps the rule descriptions moto drops: the copy's rule says what the original's does.
    const viaShim = rawClient(shim.url);
    const rulesOfApp =
      (
        await viaShim.send(
          new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [app.GroupId!] }] }),
        )
      ).SecurityGroupRules ?? [];
    const Description = rulesOfApp.find((r) => r.PrefixListId === original!.PrefixListId)?.Description;
    expect(Description).toBeTruthy();
    await viaShim.send(
      new AuthorizeSecurityGroupEgressCommand({
        GroupId: app.GroupId,
        IpPermissions: [
          {
            IpProtocol: 'tcp',
            FromPort: 443,
            ToPort: 443,
            PrefixListIds: [{ PrefixListId: dup.PrefixList!.PrefixListId!, Description }],
          },
        ],
      }),
    );
    viaShim.destroy();
    expect(await ownedLists()).toHaveLength(2);

    // The one with the higher id is the extra copy (either may be: ids are random).
    const ids = [original!.PrefixListId!, dup.PrefixList!.PrefixListId!].sort();
    const extra = `${name}-${ids[1]}`;
    const plan = await e.plan(rules);
    expect(changeLines(plan)).toEqual([`delete ${extra}`, 'update shop-app']);
    expect(childLines(plan).filter((l) => !l.startsWith(`delete ${extra}: `))).toEqual([
      `delete shop-app: egress tcp 443-443 pl:${extra}`,
    ]);
    const drift = driftItems(plan).map((d) => `${d.kind} ${d.address}${d.key ? ` ${d.key}` : ''}`);
    expect(drift).toEqual([
      `unexpected-object aws-prod.aws_managed_prefix_list.${extra}`,
      `unexpected-rule aws-prod.aws_security_group.shop-app egress tcp 443-443 pl:${extra}`,
    ]);
    // Make-before-break: the list is deleted only after the rule that uses it is revoked.
    const del = buildSteps(plan).find((s) => s.step.id === `delete:aws-prod.aws_managed_prefix_list.${extra}`)!;
    expect(del.waitsFor).toContain('remove:aws-prod.aws_security_group.shop-app');

    expect((await e.apply(plan, rules)).ok).toBe(true);
    expect(changeLines(await e.plan(rules))).toEqual([]);
    const left = await ownedLists();
    expect(left.map((l) => l.PrefixListId)).toEqual([ids[0]]);
    const egress =
      (
        await client.send(
          new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [app.GroupId!] }] }),
        )
      ).SecurityGroupRules ?? [];
    expect(
      egress
        .filter(
          (r) => r.PrefixListId?.startsWith('pl-') && r.PrefixListId !== undefined && ids.includes(r.PrefixListId),
        )
        .map((r) => r.PrefixListId),
    ).toEqual([ids[0]]);
  });
});

/** Writes of the calls the shim saw: every action but the Describe and Get reads. */
const isWrite = (action: string) => action !== '' && !action.startsWith('Describe') && !action.startsWith('Get');

describe('AWS fault sweep: connection resets after the write reached EC2', () => {
  /** Starts a scenario on an empty moto: a VPC, the shop model, an unowned group that refers to nothing of ours. */
  async function fresh() {
    await moto.reset();
    shim.reset();
    await rm(model.dir, { recursive: true, force: true });
    vpc = await createVpc(client);
    model = await copyShop(vpc);
    const legacy = await client.send(
      new CreateSecurityGroupCommand({ GroupName: 'legacy-admin', Description: 'ops', VpcId: vpc }),
    );
    await client.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: legacy.GroupId,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '10.9.0.0/16' }] }],
      }),
    );
  }

  /** Objects of the VPC by name (deleted lists left out): a duplicate shows as a count above 1. */
  async function objectCounts() {
    const groups =
      (await client.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpc] }] })))
        .SecurityGroups ?? [];
    const lists = ((await client.send(new DescribeManagedPrefixListsCommand({}))).PrefixLists ?? []).filter(
      (l) => l.OwnerId !== 'AWS' && l.State !== 'delete-complete' && l.State !== 'delete-in-progress',
    );
    const counts: Record<string, number> = {};
    for (const n of [...groups.map((g) => `sg ${g.GroupName}`), ...lists.map((l) => `pl ${l.PrefixListName}`)])
      counts[n] = (counts[n] ?? 0) + 1;
    return counts;
  }

  /**
   * Runs `scenario` once clean to learn its writes, then once per picked write with that write's
   * connection reset after moto did it: the first write of each action, and every
   * CreateManagedPrefixList (the create that left a second list). Each run must converge (a re-plan and re-apply at
   * most), leave one object per name, and leave the unowned group as it was.
   */
  async function sweep(prepare: () => Promise<void>, change: (file: string) => Promise<void>) {
    await fresh();
    await prepare();
    await change(model.file);
    shim.clearCalls();
    const e = engine(shim.url);
    const rules = await compile(model.file);
    expect((await e.apply(await e.plan(rules), rules)).ok).toBe(true);
    const clean = await objectCounts();
    const writes = shim.calls.filter((c) => isWrite(c.action) && c.status !== 503).map((c) => c.action);
    const picks = writes.flatMap((action, i) => {
      const nth = writes.slice(0, i + 1).filter((a) => a === action).length;
      // Bounded for a loaded 2-core machine: one run per action, and each prefix-list create.
      return nth === 1 || action === 'CreateManagedPrefixList' ? [{ action, nth }] : [];
    });
    expect(picks.length).toBeGreaterThan(0);
    for (const pick of picks) {
      await fresh();
      await prepare();
      await change(model.file);
      const unowned = await unownedSnapshot(client, vpc);
      const rulesN = await compile(model.file);
      shim.clearCalls();
      shim.faults.resetAfterWrite = pick;
      const first = await e.apply(await e.plan(rulesN), rulesN);
      const what = `reset after ${pick.action} #${pick.nth}`;
      expect(
        shim.calls.filter((c) => c.status === 0).map((c) => c.action),
        what,
      ).toEqual([pick.action]);
      if (!first.ok) expect((await e.apply(await e.plan(rulesN), rulesN)).ok, what).toBe(true);
      expect(childLines(await e.plan(rulesN)), what).toEqual([]);
      expect(await objectCounts(), what).toEqual(clean);
      expect(await unownedSnapshot(client, vpc), what).toBe(unowned);
    }
    return { writes, picks };
  }

  it('creating the shop from nothing converges with no duplicate object whichever write loses its answer', async () => {
    const { writes, picks } = await sweep(
      async () => undefined,
      async () => undefined,
    );
    expect(writes).toContain('CreateManagedPrefixList');
    expect(picks.map((p) => p.action)).toEqual(
      expect.arrayContaining(['CreateSecurityGroup', 'CreateManagedPrefixList', 'ModifyManagedPrefixList']),
    );
    expect(picks.filter((p) => p.action === 'CreateManagedPrefixList')).toHaveLength(2);
  }, 240_000);

  it('removing a segment and moving a flow converges whichever write loses its answer', async () => {
    const { writes } = await sweep(async () => {
      const e = engine(shim.url);
      await applyShop(e);
      shim.clearCalls();
    }, removeLb);
    expect(writes).toEqual(expect.arrayContaining(['DeleteSecurityGroup', 'RevokeSecurityGroupIngress']));
  }, 240_000);
});
