import { CreateSecurityGroupCommand, DescribeSecurityGroupRulesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { awsLockName, createAwsLocker } from '../../providers/aws/lock.js';
import type { TargetSpec } from '../../src/compile/types.js';
import { ProviderError } from '../../src/errors.js';
import { withTargetLocks, type LockRequest } from '../../src/lock.js';
import { runCli } from '../helpers/cli.js';
import { startMoto, type MotoServer } from '../helpers/aws/moto.js';
import { startShim, type Ec2Shim } from '../helpers/aws/shim.js';
import {
  compile,
  copyShop,
  createVpc,
  engine,
  FAKE_CREDENTIALS,
  groupByName,
  rawClient,
  REGION,
} from '../helpers/aws/scenario.js';

// The AWS lock group against moto's EC2 server with the real SDK client.

let moto: MotoServer;
let shim: Ec2Shim;
let client: EC2Client;
let vpc: string;

const savedEnv = { ...process.env };
beforeAll(async () => {
  // For the CLI runs: the default credential chain finds these fake keys (never the metadata service).
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
});

const target = (): TargetSpec => ({
  kind: 'aws',
  name: 'aws-prod',
  pos: { file: 'm.yaml', line: 1, column: 1 },
  aws: { region: REGION, vpc },
});
const lockOf = (model = 'shop') =>
  createAwsLocker({ endpoint: moto.url, credentials: FAKE_CREDENTIALS, maxAttempts: 2 }).lockFor(target(), model, {});
const request = (runId: string, expires = '2099-01-01T00:00:00Z'): LockRequest => ({
  holder: 'alice@ci',
  pid: 7,
  runId,
  since: '2026-12-01T10:00:00Z',
  expires,
});

describe('AWS lock group', () => {
  it('one run creates it (tags: owner, lock, holder, since, expiry; no rules); a second is told who holds it; release removes it', async () => {
    const a = await lockOf().tryCreate(request('run-a'));
    expect(a.kind).toBe('acquired');
    const group = await groupByName(client, vpc, awsLockName('shop'));
    const tags = Object.fromEntries((group.Tags ?? []).map((t) => [t.Key, t.Value]));
    expect(tags).toMatchObject({
      'bulkhead:model': 'shop',
      'bulkhead:lock': 'true',
      'bulkhead:lock-holder': 'alice@ci',
      'bulkhead:lock-run': 'run-a',
      'bulkhead:lock-since': '2026-12-01T10:00:00Z',
      'bulkhead:lock-expires': '2099-01-01T00:00:00Z',
    });
    const rules = await client.send(
      new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [group.GroupId!] }] }),
    );
    expect(rules.SecurityGroupRules ?? []).toEqual([]);

    const b = await lockOf().tryCreate(request('run-b'));
    expect(b).toEqual({
      kind: 'held',
      record: expect.objectContaining({ runId: 'run-a', holder: 'alice@ci', objectId: group.GroupId }),
    });

    const err = await withTargetLocks(
      [{ target: 'aws-prod', lock: lockOf() }],
      { handleSignals: false },
      async () => 'ran',
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as Error).message).toMatch(
      /^target aws-prod is locked by alice@ci \(pid 7, run run-a\) since 2026-12-01T10:00:00Z \(expires 2099-01-01T00:00:00Z\); wait with --lock-timeout 5m, or if that run was killed: bulkhead force-unlock aws-prod$/,
    );

    if (a.kind !== 'acquired') throw new Error('unreachable');
    expect(await lockOf().remove(a.record)).toBe('removed');
    expect(await lockOf().read()).toBeUndefined();
    expect(await lockOf().remove(a.record)).toBe('gone');
  });

  it('an expired lock is taken over through withTargetLocks, and released at the end', async () => {
    await lockOf().tryCreate(request('run-old', '2000-01-01T00:00:00Z'));
    const messages: string[] = [];
    const during = await withTargetLocks(
      [{ target: 'aws-prod', lock: lockOf() }],
      { handleSignals: false, onMessage: (m) => messages.push(m) },
      async () => (await lockOf().read())?.runId,
    );
    expect(during).not.toBe('run-old');
    expect(messages[0]).toMatch(
      /^Target aws-prod: the lock of alice@ci \(pid 7, run run-old\) since .* expired at 2000-01-01T00:00:00Z; taking it over\.$/,
    );
    expect(await lockOf().read()).toBeUndefined();
  });

  it('refuses a group with the lock name that lacks the ownership marker, and never deletes it', async () => {
    await client.send(
      new CreateSecurityGroupCommand({ GroupName: awsLockName('shop'), Description: 'someone else', VpcId: vpc }),
    );
    await expect(lockOf().tryCreate(request('run-a'))).rejects.toThrow(
      /is not a Bulkhead lock and Bulkhead will not touch it/,
    );
    await expect(lockOf().read()).rejects.toThrow(/not a Bulkhead lock/);
    await groupByName(client, vpc, awsLockName('shop'));
  });

  it('plan ignores the lock group: after an apply, a held lock leaves the plan empty (no delete of the lock)', async () => {
    const { file } = await copyShop(vpc);
    const rules = await compile(file);
    // Through the shim, as the provider's own moto scenarios do (it papers over moto's rule-description gaps).
    const e = engine(shim.url);
    const report = await e.apply(await e.plan(rules), rules);
    expect(report.ok).toBe(true);
    await withTargetLocks([{ target: 'aws-prod', lock: lockOf() }], { handleSignals: false }, async () => {
      const again = await e.plan(rules);
      expect(again.targets.flatMap((t) => t.changes.map((c) => `${c.action} ${c.address}`))).toEqual([]);
    });
  });
});

describe('bulkhead force-unlock (AWS, moto)', () => {
  const cli = async (args: string[], answers?: string[]) => {
    const { dir } = await copyShop(vpc);
    return runCli(['force-unlock', ...args, 'shop.yaml'], {
      cwd: dir,
      env: { BULKHEAD_AWS_ENDPOINT: moto.url },
      ...(answers ? { tty: true, answers } : {}),
    });
  };

  it('removes a lock left by a killed run with --yes, exit 0; then says there is none, exit 1', async () => {
    await lockOf().tryCreate(request('run-dead'));
    const out = await cli(['aws-prod', '--yes']);
    expect(out.stderr).toContain(
      'Target aws-prod is locked by alice@ci (pid 7, run run-dead) since 2026-12-01T10:00:00Z (expires 2099-01-01T00:00:00Z)',
    );
    expect(out.stdout).toBe('Lock of target aws-prod removed.\n');
    expect(out.code).toBe(0);
    expect(await lockOf().read()).toBeUndefined();
    const again = await cli(['aws-prod', '--yes']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('Error: target aws-prod is not locked (no security group shop-bulkhead-lock in');
  });

  it('asks for confirmation: refuses without a terminal, keeps the lock unless the answer is yes', async () => {
    await lockOf().tryCreate(request('run-dead'));
    const noTty = await cli(['aws-prod']);
    expect(noTty.code).toBe(1);
    expect(noTty.stderr).toContain('stdin is not a terminal (pass --yes)');
    const no = await cli(['aws-prod'], ['no']);
    expect(no.code).toBe(1);
    expect(await lockOf().read()).toMatchObject({ runId: 'run-dead' });
    const yes = await cli(['aws-prod'], ['yes']);
    expect(yes.code).toBe(0);
    expect(await lockOf().read()).toBeUndefined();
  });

  it('never removes a group with the lock name that lacks the ownership marker; unknown targets are usage errors', async () => {
    await client.send(
      new CreateSecurityGroupCommand({ GroupName: awsLockName('shop'), Description: 'someone else', VpcId: vpc }),
    );
    const out = await cli(['aws-prod', '--yes']);
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/not a Bulkhead lock and Bulkhead will not touch it/);
    await groupByName(client, vpc, awsLockName('shop'));
    const unknown = await cli(['aws-nope', '--yes']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(
      'unknown target "aws-nope" (the model\'s targets: aws-prod, azure-prod, gcp-prod, k8s-prod)',
    );
  });
});
