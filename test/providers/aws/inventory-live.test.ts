import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateNetworkInterfaceCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  RunInstancesCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAwsInventoryLive } from '../../../providers/aws/inventory.js';
import type { TargetSpec } from '../../../src/compile/types.js';
import { startMoto, type MotoServer } from '../../helpers/aws/moto.js';
import { createVpc, FAKE_CREDENTIALS, rawClient, REGION } from '../../helpers/aws/scenario.js';
import { runCli } from '../../helpers/cli.js';

/** The live inventory read (DescribeNetworkInterfaces of the target's VPC, read-only) against moto. */
let moto: MotoServer;
let client: EC2Client;
let vpc: string;
let dir: string;
const savedEnv = { ...process.env };

beforeAll(async () => {
  process.env['AWS_ACCESS_KEY_ID'] = 'AKIDTESTTESTTEST';
  process.env['AWS_SECRET_ACCESS_KEY'] = 'test-secret';
  process.env['AWS_EC2_METADATA_DISABLED'] = 'true';
  moto = await startMoto();
  client = rawClient(moto.url);
  vpc = await createVpc(client);
  const other = await createVpc(client);
  const subnet = (await client.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: '10.0.1.0/24' }))).Subnet!
    .SubnetId!;
  const otherSubnet = (await client.send(new CreateSubnetCommand({ VpcId: other, CidrBlock: '10.0.9.0/24' }))).Subnet!
    .SubnetId!;
  const web = (
    await client.send(new CreateSecurityGroupCommand({ GroupName: 'shop-web', Description: 'web', VpcId: vpc }))
  ).GroupId!;
  const app = (
    await client.send(new CreateSecurityGroupCommand({ GroupName: 'shop-app', Description: 'app', VpcId: vpc }))
  ).GroupId!;
  const eni = (SubnetId: string, ip: string, Groups: string[], tier: string) =>
    client.send(
      new CreateNetworkInterfaceCommand({
        SubnetId,
        PrivateIpAddress: ip,
        Groups,
        TagSpecifications: [{ ResourceType: 'network-interface', Tags: [{ Key: 'tier', Value: tier }] }],
      }),
    );
  await eni(subnet, '10.0.1.10', [web], 'web');
  await eni(subnet, '10.0.1.20', [app], 'app');
  await eni(otherSubnet, '10.0.9.9', [], 'elsewhere');
  // An instance tagged on the instance, not on its interface (the usual AWS estate).
  await client.send(
    new RunInstancesCommand({
      ImageId: 'ami-12c6146b',
      MinCount: 1,
      MaxCount: 1,
      SubnetId: subnet,
      PrivateIpAddress: '10.0.1.30',
      SecurityGroupIds: [app],
      TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'tier', Value: 'app' }] }],
    }),
  );
  dir = mkdtempSync(join(tmpdir(), 'bulkhead-inv-live-'));
}, 120_000);

afterAll(async () => {
  for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_EC2_METADATA_DISABLED']) {
    if (savedEnv[k] === undefined) delete process.env[k];
    else process.env[k] = savedEnv[k];
  }
  client?.destroy();
  await moto?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('AWS live inventory', () => {
  it('reads the interfaces of the target VPC only, with tags and security groups', async () => {
    const target: TargetSpec = {
      kind: 'aws',
      name: 'aws-prod',
      pos: { file: 'm.yaml', line: 1, column: 1 },
      aws: { region: REGION, vpc },
    };
    const inv = await readAwsInventoryLive(
      target,
      { endpoint: moto.url },
      { credentials: FAKE_CREDENTIALS, maxAttempts: 2 },
    );
    expect(inv.workloads.map((w) => [w.addresses, w.tags['tier'], w.groups])).toEqual(
      expect.arrayContaining([
        [['10.0.1.10'], 'web', ['shop-web']],
        [['10.0.1.20'], 'app', ['shop-app']],
        [['10.0.1.30'], 'app', ['shop-app']],
      ]),
    );
    expect(inv.workloads).toHaveLength(3);
    expect(inv.target).toEqual({ name: `aws-${REGION}`, config: { region: REGION, vpc } });
  });

  it('audit --target reads the inventory live and places workloads by their managed groups', async () => {
    writeFileSync(
      join(dir, 'bulkhead.yaml'),
      `bulkhead: 1\nname: shop\ntargets:\n  aws-prod: { aws: { region: ${REGION}, vpc: ${vpc} } }\nsegments:\n  web: {}\n  app:\n    ingress: [{ from: web, ports: [tcp/8080] }]\n`,
    );
    writeFileSync(
      join(dir, 'flows.log'),
      [
        '2 123456789012 eni-1 10.0.1.10 10.0.1.20 40001 8080 6 5 500 1790000000 1790000060 ACCEPT OK',
        '2 123456789012 eni-1 10.0.1.10 10.0.1.20 40002 5432 6 5 500 1790000000 1790000060 ACCEPT OK',
      ].join('\n'),
    );
    const r = await runCli(['audit', '--flows', 'flows.log', '--target', 'aws-prod', '--format', 'json'], {
      cwd: dir,
      env: { BULKHEAD_AWS_ENDPOINT: moto.url },
    });
    expect(r.code, r.stderr).toBe(2);
    const report = JSON.parse(r.stdout) as {
      flows: { source: string; destination: string; port: number; verdict: string }[];
    };
    expect(report.flows.map((f) => `${f.verdict} ${f.source} -> ${f.destination} ${f.port}`)).toEqual([
      'deny web -> app 5432',
      'allow web -> app 8080',
    ]);
  });

  it('discover --target reads the inventory live through a target of --model', async () => {
    const r = await runCli(
      [
        'discover',
        '--flows',
        'flows.log',
        '--target',
        'aws-prod',
        '--model',
        'bulkhead.yaml',
        '--group-by',
        'tag:tier',
        '--name',
        'shop',
      ],
      {
        cwd: dir,
        env: { BULKHEAD_AWS_ENDPOINT: moto.url },
      },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`aws-${REGION}: { aws: { region: "${REGION}", vpc: "${vpc}" } }`);
    expect(r.stdout).toMatch(
      / {2}app:\n {4}ingress:\n\s+# 1 connection, [^\n]+\n\s+- \{ from: web, ports: \[tcp\/5432\] \}\n\s+# 1 connection[^\n]+\n\s+- \{ from: web, ports: \[tcp\/8080\] \}/,
    );
  });
});
