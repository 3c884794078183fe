import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  RevokeSecurityGroupIngressCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
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
} from '../../helpers/aws/scenario.js';
import { startShim, type Ec2Shim } from '../../helpers/aws/shim.js';

// The real EC2 client against moto's server (through the fault-injecting shim), driven by the
// engine's createPlan/applyPlan on copies of policies/shop.yaml.

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
  shim.faults.throttleEvery = 0;
  shim.faults.pageSize = 0;
  shim.faults.dependencyViolation.clear();
  shim.clearCalls();
  vpc = await createVpc(client);
  model = await copyShop(vpc);
});

async function groupByName(name: string) {
  const out = await client.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpc] }, { Name: 'group-name', Values: [name] }] }));
  const g = out.SecurityGroups?.[0];
  if (!g?.GroupId) throw new Error(`no group ${name}`);
  return g;
}

async function rulesOf(groupId: string) {
  return (await client.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [groupId] }] }))).SecurityGroupRules ?? [];
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
    expect(dbRules.map((r) => [r.IsEgress, r.IpProtocol, r.FromPort, r.ToPort, r.ReferencedGroupInfo?.GroupId, r.CidrIpv4])).toEqual([
      [false, 'tcp', 5432, 5432, app.GroupId, undefined],
    ]);
    expect(dbRules[0]!.Tags).toContainEqual({ Key: 'bulkhead:model', Value: 'shop' });
    const appRules = await rulesOf(app.GroupId!);
    expect(appRules.filter((r) => r.IsEgress && r.CidrIpv4 === '0.0.0.0/0')).toEqual([]);
    expect(appRules.filter((r) => r.PrefixListId).length).toBe(3); // s3 (AWS-managed) + payment-apis v4 and v6
  });
});
