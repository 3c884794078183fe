import { CreateSecurityGroupCommand, DescribeSecurityGroupRulesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { awsLockName, createAwsLocker } from '../../providers/aws/lock.js';
import type { TargetSpec } from '../../src/compile/types.js';
import { ProviderError } from '../../src/errors.js';
import { withTargetLocks, type LockRequest } from '../../src/lock.js';
import { startMoto, type MotoServer } from '../helpers/aws/moto.js';
import { startShim, type Ec2Shim } from '../helpers/aws/shim.js';
import { compile, copyShop, createVpc, engine, FAKE_CREDENTIALS, groupByName, rawClient, REGION } from '../helpers/aws/scenario.js';

// The AWS lock group against moto's EC2 server with the real SDK client.

let moto: MotoServer;
let shim: Ec2Shim;
let client: EC2Client;
let vpc: string;

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
});

const target = (): TargetSpec => ({ kind: 'aws', name: 'aws-prod', pos: { file: 'm.yaml', line: 1, column: 1 }, aws: { region: REGION, vpc } });
const lockOf = (model = 'shop') => createAwsLocker({ endpoint: moto.url, credentials: FAKE_CREDENTIALS, maxAttempts: 2 }).lockFor(target(), model, {});
const request = (runId: string, expires = '2099-01-01T00:00:00Z'): LockRequest => ({ holder: 'alice@ci', pid: 7, runId, since: '2026-12-01T10:00:00Z', expires });

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
    const rules = await client.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [group.GroupId!] }] }));
    expect(rules.SecurityGroupRules ?? []).toEqual([]);

    const b = await lockOf().tryCreate(request('run-b'));
    expect(b).toEqual({ kind: 'held', record: expect.objectContaining({ runId: 'run-a', holder: 'alice@ci', objectId: group.GroupId }) });

    const err = await withTargetLocks([{ target: 'aws-prod', lock: lockOf() }], { handleSignals: false }, async () => 'ran').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as Error).message).toMatch(/^target aws-prod is locked by alice@ci \(pid 7, run run-a\) since 2026-12-01T10:00:00Z \(expires 2099-01-01T00:00:00Z\); wait with --lock-timeout 5m, or if that run was killed: bulkhead force-unlock aws-prod$/);

    if (a.kind !== 'acquired') throw new Error('unreachable');
    expect(await lockOf().remove(a.record)).toBe('removed');
    expect(await lockOf().read()).toBeUndefined();
    expect(await lockOf().remove(a.record)).toBe('gone');
  });

  it('an expired lock is taken over through withTargetLocks, and released at the end', async () => {
    await lockOf().tryCreate(request('run-old', '2000-01-01T00:00:00Z'));
    const messages: string[] = [];
    const during = await withTargetLocks([{ target: 'aws-prod', lock: lockOf() }], { handleSignals: false, onMessage: (m) => messages.push(m) }, async () => (await lockOf().read())?.runId);
    expect(during).not.toBe('run-old');
    expect(messages[0]).toMatch(/^Target aws-prod: the lock of alice@ci \(pid 7, run run-old\) since .* expired at 2000-01-01T00:00:00Z; taking it over\.$/);
    expect(await lockOf().read()).toBeUndefined();
  });

  it('refuses a group with the lock name that lacks the ownership marker, and never deletes it', async () => {
    await client.send(new CreateSecurityGroupCommand({ GroupName: awsLockName('shop'), Description: 'someone else', VpcId: vpc }));
    await expect(lockOf().tryCreate(request('run-a'))).rejects.toThrow(/is not a Bulkhead lock and Bulkhead will not touch it/);
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
