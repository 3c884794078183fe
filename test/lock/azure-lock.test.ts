import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { azureLockName } from '../../providers/azure/lock.js';
import { applyPlan } from '../../src/apply/apply-plan.js';
import { compileFile } from '../../src/compile/index.js';
import type { RuleSet } from '../../src/compile/types.js';
import { ProviderError } from '../../src/errors.js';
import { withTargetLocks, type LockRequest, type TargetLock } from '../../src/lock.js';
import { createPlan } from '../../src/plan/create-plan.js';
import { POLICY, RG, emulatorTarget, startAzureHarness, type AzureHarness } from '../helpers/azure/harness.js';

// The Azure lock ASG against the ARM emulator (requests checked against the swagger) with the real
// NetworkManagementClient: If-None-Match: * creates only, If-Match deletes only the version read.

const REPO = resolve(import.meta.dirname, '../..');
let h: AzureHarness;
let dir: string;

beforeEach(async () => {
  h = await startAzureHarness();
  h.emulator.seedFirewallPolicy(RG, POLICY, 'westeurope');
  dir = await mkdtemp(join(tmpdir(), 'bulkhead-azure-lock-'));
  await cp(join(REPO, 'policies'), dir, { recursive: true });
});
afterEach(async () => {
  const violations = [...h.emulator.violations];
  await h.close();
  await rm(dir, { recursive: true, force: true });
  expect(violations).toEqual([]);
});

const lockOf = (): TargetLock => h.provider.lock!.lockFor(emulatorTarget(), 'shop', {});
const request = (runId: string, expires = '2099-01-01T00:00:00Z'): LockRequest => ({
  holder: 'alice@ci',
  pid: 7,
  runId,
  since: '2026-12-01T10:00:00Z',
  expires,
});

describe('Azure lock ASG (ARM emulator)', () => {
  it('one run creates it (tags: owner, lock, holder, since, expiry); a second gets 412 and is told who holds it; release deletes it', async () => {
    const a = await lockOf().tryCreate(request('run-a'));
    expect(a).toMatchObject({ kind: 'acquired', record: { model: 'shop', holder: 'alice@ci', runId: 'run-a' } });
    const asg = await h.client.applicationSecurityGroups.get(RG, azureLockName('shop'));
    expect(asg.tags).toMatchObject({
      'bulkhead:model': 'shop',
      'bulkhead:lock': 'true',
      'bulkhead:lock-run': 'run-a',
      'bulkhead:lock-expires': '2099-01-01T00:00:00Z',
    });

    const b = await lockOf().tryCreate(request('run-b'));
    expect(b).toMatchObject({ kind: 'held', record: { runId: 'run-a' } });
    expect((await h.client.applicationSecurityGroups.get(RG, azureLockName('shop'))).tags?.['bulkhead:lock-run']).toBe(
      'run-a',
    );
    const err = await withTargetLocks(
      [{ target: 'azure-prod', lock: lockOf() }],
      { handleSignals: false },
      async () => 'ran',
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as Error).message).toMatch(
      /^target azure-prod is locked by alice@ci \(pid 7, run run-a\) since 2026-12-01T10:00:00Z \(expires 2099-01-01T00:00:00Z\)/,
    );

    if (a.kind !== 'acquired') throw new Error('unreachable');
    expect(await lockOf().remove(a.record)).toBe('removed');
    expect(await lockOf().read()).toBeUndefined();
  });

  it("an expired lock is taken over; the old holder's release (old etag) leaves the new lock alone", async () => {
    const old = await lockOf().tryCreate(request('run-old', '2000-01-01T00:00:00Z'));
    const messages: string[] = [];
    const during = await withTargetLocks(
      [{ target: 'azure-prod', lock: lockOf() }],
      { handleSignals: false, onMessage: (m) => messages.push(m) },
      async () => {
        if (old.kind === 'acquired') expect(await lockOf().remove(old.record)).toBe('gone');
        return (await lockOf().read())?.runId;
      },
    );
    expect(during).not.toBe('run-old');
    expect(messages[0]).toMatch(/expired at 2000-01-01T00:00:00Z; taking it over\.$/);
    expect(await lockOf().read()).toBeUndefined();
  });

  it('refuses an ASG with the lock name that lacks the markers, and never deletes it', async () => {
    h.emulator.seedAsg(RG, azureLockName('shop'), { location: 'westeurope' });
    await expect(lockOf().tryCreate(request('run-a'))).rejects.toThrow(
      /is not a Bulkhead lock and Bulkhead will not touch it/,
    );
    expect((await h.client.applicationSecurityGroups.get(RG, azureLockName('shop'))).name).toBe(azureLockName('shop'));
  });

  it('plan ignores the lock ASG: after an apply, a held lock leaves the plan empty', async () => {
    const r = await compileFile(join(dir, 'shop.yaml'));
    if (!r.ok) throw new Error('model does not compile');
    const rules: RuleSet = r.value;
    const options = {
      providers: () => h.provider,
      source: () => ({ kind: 'live' as const }),
      targets: ['azure-prod'],
      resolver: async () => ({ ipv4: ['192.0.2.10'], ipv6: [] }),
    };
    const report = await applyPlan(await createPlan(rules, options), rules, options);
    expect(report.ok).toBe(true);
    await withTargetLocks([{ target: 'azure-prod', lock: lockOf() }], { handleSignals: false }, async () => {
      const again = await createPlan(rules, options);
      expect(again.targets.flatMap((t) => t.changes.map((c) => `${c.action} ${c.address}`))).toEqual([]);
    });
  });
});
