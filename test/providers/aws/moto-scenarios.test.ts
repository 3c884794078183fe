import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  RevokeSecurityGroupIngressCommand,
  UpdateSecurityGroupRuleDescriptionsIngressCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { rm } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/cli.js';
import { startMoto, type MotoServer } from '../../helpers/aws/moto.js';
import {
  changeLines,
  childLines,
  compile,
  copyShop,
  createVpc,
  editModel,
  engine,
  rawClient,
  unownedSnapshot,
  groupByName as findGroup,
} from '../../helpers/aws/scenario.js';
import { startShim, type Ec2Shim } from '../../helpers/aws/shim.js';

// The real EC2 client against moto's server (through the fault-injecting shim), driven by the
// engine's createPlan/applyPlan on copies of policies/shop.yaml.

let moto: MotoServer;
let shim: Ec2Shim;
let client: EC2Client;
let vpc: string;
let model: { dir: string; file: string };

const savedEnv = { ...process.env };

beforeAll(async () => {
  // For the CLI runs: the default credential chain finds these fake keys (never the instance
  // metadata service), and the endpoint override keeps every call on 127.0.0.1.
  process.env['AWS_ACCESS_KEY_ID'] = 'AKIDTESTTESTTEST';
  process.env['AWS_SECRET_ACCESS_KEY'] = 'test-secret';
  process.env['AWS_EC2_METADATA_DISABLED'] = 'true';
  moto = await startMoto();
  shim = await startShim(moto.url);
  client = rawClient(moto.url);
}, 60_000);

afterAll(async () => {
  for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_EC2_METADATA_DISABLED']) {
    if (savedEnv[k] === undefined) delete process.env[k];
    else process.env[k] = savedEnv[k];
  }
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

async function rulesOf(groupId: string) {
  return (
    (await client.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [groupId] }] })))
      .SecurityGroupRules ?? []
  );
}

describe('AWS provider against moto', () => {
  it('applies the shop model to an empty VPC, then plans no changes', async () => {
    const e = engine(shim.url);
    const rules = await compile(model.file);
    const plan = await e.plan(rules);
    expect(plan.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(changeLines(plan)).toEqual([
      'create shop-app',
      'create shop-db',
      'create shop-lb',
      'create shop-payment-apis-ipv4',
      'create shop-payment-apis-ipv6',
      'create shop-web',
    ]);
    const report = await e.apply(plan, rules);
    expect(report.outcomes.filter((o) => o.status !== 'done')).toEqual([]);

    const again = await e.plan(rules);
    expect(childLines(again)).toEqual([]);
    expect(again.summary).toEqual({ add: 0, change: 0, destroy: 0 });

    // Owned, tagged, default egress revoked, rules tagged, SG references not CIDRs.
    const db = await groupByName('shop-db');
    expect(db.Tags).toContainEqual({ Key: 'bulkhead:model', Value: 'shop' });
    const app = await groupByName('shop-app');
    const dbRules = await rulesOf(db.GroupId!);
    expect(
      dbRules.map((r) => [r.IsEgress, r.IpProtocol, r.FromPort, r.ToPort, r.ReferencedGroupInfo?.GroupId, r.CidrIpv4]),
    ).toEqual([[false, 'tcp', 5432, 5432, app.GroupId, undefined]]);
    expect(dbRules[0]!.Tags).toContainEqual({ Key: 'bulkhead:model', Value: 'shop' });
    const appRules = await rulesOf(app.GroupId!);
    expect(appRules.filter((r) => r.IsEgress && r.CidrIpv4 === '0.0.0.0/0')).toEqual([]);
    expect(appRules.filter((r) => r.PrefixListId).length).toBe(3); // s3 (AWS-managed) + payment-apis v4 and v6
  });

  it('applies model edits one at a time, re-plans empty after each, and never touches unowned objects', async () => {
    const e = engine(shim.url);
    // An unowned group and an unowned rule (in the VPC's default group), before Bulkhead runs.
    const legacy = await client.send(
      new CreateSecurityGroupCommand({ GroupName: 'legacy-admin', Description: 'ops bastion', VpcId: vpc }),
    );
    await client.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: legacy.GroupId,
        IpPermissions: [
          { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '10.0.0.0/8', Description: 'ops vpn' }] },
        ],
      }),
    );
    const defaultGroup = await groupByName('default');
    await client.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: defaultGroup.GroupId,
        IpPermissions: [
          {
            IpProtocol: 'tcp',
            FromPort: 443,
            ToPort: 443,
            IpRanges: [{ CidrIp: '10.1.0.0/16', Description: 'hand-made' }],
          },
        ],
      }),
    );

    const rules0 = await compile(model.file);
    const first = await e.apply(await e.plan(rules0), rules0);
    expect(first.ok).toBe(true);
    // The unowned group also refers to a managed one (a rule Bulkhead must never revoke).
    const web = await groupByName('shop-web');
    await client.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: legacy.GroupId,
        IpPermissions: [
          {
            IpProtocol: 'tcp',
            FromPort: 22,
            ToPort: 22,
            UserIdGroupPairs: [{ GroupId: web.GroupId, Description: 'from web' }],
          },
        ],
      }),
    );
    const unowned = await unownedSnapshot(client, vpc);
    expect(unowned).toContain('legacy-admin');
    expect(unowned).toContain('hand-made');

    const step = async (edit: () => Promise<void>, expected: { changes: string[]; children: string[] }) => {
      await edit();
      const rules = await compile(model.file);
      const plan = await e.plan(rules);
      expect(changeLines(plan)).toEqual(expected.changes);
      expect(childLines(plan)).toEqual(expected.children);
      shim.clearCalls();
      const report = await e.apply(plan, rules);
      expect(report.outcomes.filter((o) => o.status !== 'done')).toEqual([]);
      const calls = shim.countByAction();
      const again = await e.plan(rules);
      expect(childLines(again)).toEqual([]);
      expect(changeLines(again)).toEqual([]);
      expect(await unownedSnapshot(client, vpc)).toBe(unowned);
      return calls;
    };

    // 1. Add a flow between two existing segments: one authorize per side, nothing else written.
    const addFlow = await step(() => editModel(model.file, 'ports: [postgres] }', 'ports: [postgres, tcp/6432] }'), {
      changes: ['update shop-app', 'update shop-db'],
      children: [
        'create shop-app: egress tcp 6432-6432 sg:shop-db',
        'create shop-db: ingress tcp 6432-6432 sg:shop-app',
      ],
    });
    expect(addFlow['AuthorizeSecurityGroupIngress']).toBe(1);
    expect(addFlow['AuthorizeSecurityGroupEgress']).toBe(1);
    const writes = Object.keys(addFlow).filter((a) => !a.startsWith('Describe') && !a.startsWith('Get'));
    expect(writes.sort()).toEqual(['AuthorizeSecurityGroupEgress', 'AuthorizeSecurityGroupIngress']);

    // 2. Change a port.
    await step(() => editModel(model.file, '{ from: lb, ports: [tcp/8080] }', '{ from: lb, ports: [tcp/8081] }'), {
      changes: ['update shop-lb', 'update shop-web'],
      children: [
        'create shop-lb: egress tcp 8081-8081 sg:shop-web',
        'create shop-web: ingress tcp 8081-8081 sg:shop-lb',
        'delete shop-lb: egress tcp 8080-8080 sg:shop-web',
        'delete shop-web: ingress tcp 8080-8080 sg:shop-lb',
      ],
    });

    // 3. Add an FQDN: the plan shows the new prefix-list entries; 5 entries outgrow MaxEntries 4,
    //    so the list is resized (a call of its own) before the entries are added.
    await step(
      () =>
        editModel(
          model.file,
          'fqdns: [api.stripe.com, api.paypal.com]',
          'fqdns: [api.stripe.com, api.paypal.com, api.adyen.com]',
        ),
      {
        changes: ['update shop-payment-apis-ipv4'],
        children: ['create shop-payment-apis-ipv4: 203.0.113.50/32', 'create shop-payment-apis-ipv4: 203.0.113.51/32'],
      },
    );
    const modifies = shim.calls
      .filter((c) => c.action === 'ModifyManagedPrefixList')
      .map((c) => c.params.get('MaxEntries') ?? c.params.get('AddEntry.1.Cidr'));
    expect(modifies).toEqual(['8', '203.0.113.50/32']);

    // 4. Remove a segment: its group goes, and the rules that referred to it first.
    await step(
      async () => {
        await editModel(model.file, /\n {2}lb: .*\n/, '\n');
        await editModel(model.file, '{ from: lb, ports: [tcp/8081] }', '{ from: office, ports: [tcp/8081] }');
        await editModel(model.file, /\n {2}edge: \[lb\]\n/, '\n');
      },
      {
        changes: ['delete shop-lb', 'update shop-web'],
        children: [
          'create shop-web: ingress tcp 8081-8081 cidr:2001:db8:100::/48',
          'create shop-web: ingress tcp 8081-8081 cidr:203.0.113.0/24',
          'delete shop-lb: egress tcp 8081-8081 sg:shop-web',
          'delete shop-lb: ingress tcp 443-443 cidr:0.0.0.0/0',
          'delete shop-lb: ingress tcp 443-443 cidr:::/0',
          'delete shop-web: ingress tcp 8081-8081 sg:shop-lb',
        ],
      },
    );
    const names = (
      (await client.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpc] }] })))
        .SecurityGroups ?? []
    )
      .map((g) => g.GroupName)
      .sort();
    expect(names).toEqual(['default', 'legacy-admin', 'shop-app', 'shop-db', 'shop-web']);
  });

  it('reports out-of-band rule changes as drift, exactly those, and apply reverts them (engine and CLI)', async () => {
    // No FQDN egress here: the CLI resolves names with node:dns in live mode, and tests stay on loopback.
    await editModel(model.file, '{ to: payment-apis, ports: [https] }, ', '');
    const e = engine(shim.url);
    const rules = await compile(model.file);
    expect((await e.apply(await e.plan(rules), rules)).ok).toBe(true);
    const env = { BULKHEAD_AWS_ENDPOINT: shim.url, NO_COLOR: '1' };
    const clean = await runCli(['drift', model.file, '--target', 'aws-prod'], { cwd: model.dir, env });
    expect(clean.stderr).not.toContain('rror');
    expect(clean.code).toBe(0);

    // Behind the model's back: a hand-added rule in an owned group, a revoked managed rule, a new description.
    const db = await groupByName('shop-db');
    const lb = await groupByName('shop-lb');
    await client.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: db.GroupId,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '10.0.0.0/8' }] }],
      }),
    );
    const v6 = (await rulesOf(lb.GroupId!)).find((r) => r.CidrIpv6 === '::/0');
    await client.send(
      new RevokeSecurityGroupIngressCommand({ GroupId: lb.GroupId, SecurityGroupRuleIds: [v6!.SecurityGroupRuleId!] }),
    );

    // A description edit through the shim (moto ignores UpdateSecurityGroupRuleDescriptions*; the shim keeps it).
    const viaShim = rawClient(shim.url);
    const pg = (await rulesOf(db.GroupId!)).find((r) => r.FromPort === 5432);
    await viaShim.send(
      new UpdateSecurityGroupRuleDescriptionsIngressCommand({
        GroupId: db.GroupId,
        SecurityGroupRuleDescriptions: [
          { SecurityGroupRuleId: pg!.SecurityGroupRuleId, Description: 'edited by hand' },
        ],
      }),
    );
    viaShim.destroy();

    const plan = await e.plan(rules);
    expect(childLines(plan)).toEqual([
      'create shop-lb: ingress tcp 443-443 cidr:::/0',
      'delete shop-db: ingress tcp 22-22 cidr:10.0.0.0/8',
      'update shop-db: ingress tcp 5432-5432 sg:shop-app',
    ]);
    const drift = await runCli(['drift', model.file, '--target', 'aws-prod', '--format', 'json'], {
      cwd: model.dir,
      env,
    });
    expect(drift.code).toBe(2);
    const report = JSON.parse(drift.stdout) as {
      targets: { changes: { name: string; childChanges: { action: string; key: string }[] }[] }[];
    };
    const drifted = report.targets.flatMap((t) =>
      t.changes.flatMap((c) => c.childChanges.map((cc) => `${cc.action} ${c.name}: ${cc.key}`)),
    );
    expect(drifted.sort()).toEqual(childLines(plan)); // exactly the two out-of-band changes

    const applied = await runCli(['apply', model.file, '--target', 'aws-prod', '--auto-approve'], {
      cwd: model.dir,
      env,
    });
    expect(applied.stderr).not.toMatch(/rror/);
    expect(applied.code).toBe(0);
    expect(childLines(await e.plan(rules))).toEqual([]);
    expect((await runCli(['drift', model.file, '--target', 'aws-prod'], { cwd: model.dir, env })).code).toBe(0);
    expect((await rulesOf(db.GroupId!)).some((r) => r.FromPort === 22)).toBe(false);
  });

  it('exports the live state as CLI JSON that plans exactly like the live API (bulkhead export, plan --snapshots)', async () => {
    await editModel(model.file, '{ to: payment-apis, ports: [https] }, ', '');
    const e = engine(shim.url);
    const rules = await compile(model.file);
    expect((await e.apply(await e.plan(rules), rules)).ok).toBe(true);
    // Some drift, so the comparison is not between two empty plans.
    const db = await groupByName('shop-db');
    await client.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: db.GroupId,
        IpPermissions: [{ IpProtocol: 'udp', FromPort: 53, ToPort: 53, Ipv6Ranges: [{ CidrIpv6: '2001:db8::/32' }] }],
      }),
    );
    const env = { BULKHEAD_AWS_ENDPOINT: shim.url, NO_COLOR: '1' };
    const exported = await runCli(['export', model.file, '--target', 'aws-prod', '--out', 'snap', '--no-dns'], {
      cwd: model.dir,
      env,
    });
    expect(exported.code).toBe(0);
    expect(exported.stdout).toContain('snap/aws-prod/describe-security-groups.json');
    expect(exported.stdout).toContain('snap/aws-prod/describe-security-group-rules.json');
    const offline = await runCli(['plan', model.file, '--target', 'aws-prod', '--snapshots', 'snap', '--json'], {
      cwd: model.dir,
      env,
    });
    expect(offline.code).toBe(0);
    const live = await e.plan(rules);
    const offlinePlan = JSON.parse(offline.stdout) as typeof live;
    expect(childLines(offlinePlan)).toEqual(childLines(live));
    expect(childLines(live)).toEqual(['delete shop-db: ingress udp 53-53 cidr:2001:db8::/32']);
  });
});
