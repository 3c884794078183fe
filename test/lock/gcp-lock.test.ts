import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { gcpLockName } from '../../providers/gcp/lock.js';
import type { RuleSet } from '../../src/compile/types.js';
import { ProviderError } from '../../src/errors.js';
import { withTargetLocks, type LockRequest, type TargetLock } from '../../src/lock.js';
import { startGcpHarness, type GcpHarness } from '../helpers/gcp/harness.js';

// The GCP lock rule against the Compute emulator with the real REST clients.

let h: GcpHarness;
let rules: RuleSet;
beforeAll(async () => {
  h = await startGcpHarness();
  rules = await h.compile();
}, 60_000);
afterAll(async () => h?.close());

const lockOf = (): TargetLock => {
  const target = rules.targets.find((t) => t.name === 'gcp-prod')!;
  return h.provider.lock!.lockFor(target, 'shop', { endpoint: h.emulator.url });
};
const request = (runId: string, expires = '2099-01-01T00:00:00Z'): LockRequest => ({
  holder: 'alice@ci',
  pid: 7,
  runId,
  since: '2026-12-01T10:00:00Z',
  expires,
});

/** Waits for an operation of the tests' own calls until DONE. */
async function done(first: { latestResponse?: unknown }): Promise<void> {
  let op = first.latestResponse as { name?: string | null; status?: unknown };
  for (let i = 0; i < 20 && op.status !== 'DONE' && op.status !== 2; i++) {
    [op] = (await h.clients.operations.wait({ project: 'shop-prod', operation: String(op.name) })) as unknown as [
      typeof op,
    ];
  }
}

beforeEach(async () => {
  const held = await lockOf()
    .read()
    .catch(() => undefined);
  if (held) await lockOf().remove(held);
});

describe('GCP lock rule (Compute emulator)', () => {
  it('one run inserts it (disabled deny, TEST-NET source, unused tag, holder in the description); a second is told who holds it; release deletes it', async () => {
    const a = await lockOf().tryCreate(request('run-a'));
    expect(a).toMatchObject({
      kind: 'acquired',
      record: { model: 'shop', holder: 'alice@ci', runId: 'run-a', expires: '2099-01-01T00:00:00Z' },
    });
    const [fw] = await h.clients.firewalls.get({ project: 'shop-prod', firewall: gcpLockName('shop') });
    expect(fw).toMatchObject({
      disabled: true,
      priority: 65535,
      direction: 'INGRESS',
      denied: [{ IPProtocol: 'all' }],
      sourceRanges: ['192.0.2.1/32'],
      targetTags: ['shop-bulkhead-lock'],
    });
    expect(fw.allowed ?? []).toEqual([]);
    expect(fw.description).toContain('bulkhead:model=shop bulkhead:lock {"holder":"alice@ci"');

    const b = await lockOf().tryCreate(request('run-b'));
    expect(b).toMatchObject({ kind: 'held', record: { runId: 'run-a' } });
    const err = await withTargetLocks(
      [{ target: 'gcp-prod', lock: lockOf() }],
      { handleSignals: false },
      async () => 'ran',
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as Error).message).toBe(
      'target gcp-prod is locked by alice@ci (pid 7, run run-a) since 2026-12-01T10:00:00Z (expires 2099-01-01T00:00:00Z); wait with --lock-timeout 5m, or if that run was killed: bulkhead force-unlock gcp-prod',
    );
    if (a.kind !== 'acquired') throw new Error('unreachable');
    expect(await lockOf().remove(a.record)).toBe('removed');
    expect(await lockOf().read()).toBeUndefined();
    expect(await lockOf().remove(a.record)).toBe('gone');
  });

  it('an expired lock is taken over; a release never deletes a lock re-created by another run', async () => {
    const old = await lockOf().tryCreate(request('run-old', '2000-01-01T00:00:00Z'));
    const messages: string[] = [];
    const during = await withTargetLocks(
      [{ target: 'gcp-prod', lock: lockOf() }],
      { handleSignals: false, onMessage: (m) => messages.push(m) },
      async () => {
        // The old holder wakes up and releases "its" lock: the new rule has another id and stays.
        if (old.kind === 'acquired') expect(await lockOf().remove(old.record)).toBe('gone');
        return (await lockOf().read())?.runId;
      },
    );
    expect(during).not.toBe('run-old');
    expect(messages[0]).toMatch(/expired at 2000-01-01T00:00:00Z; taking it over\.$/);
    expect(await lockOf().read()).toBeUndefined();
  });

  it('plan ignores the lock rule: after an apply, a held lock leaves the plan empty', async () => {
    const report = await h.apply(await h.plan(rules), rules);
    expect(report.ok).toBe(true);
    await withTargetLocks([{ target: 'gcp-prod', lock: lockOf() }], { handleSignals: false }, async () => {
      const again = await h.plan(rules);
      expect(
        again.targets.flatMap((t) => [
          ...t.changes.map((c) => `${c.action} ${c.address}`),
          ...t.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message),
        ]),
      ).toEqual([]);
    });
  });

  it('refuses a rule with the lock name that lacks the markers, and never deletes it', async () => {
    const [op] = await h.clients.firewalls.insert({
      project: 'shop-prod',
      firewallResource: {
        name: gcpLockName('shop'),
        network: 'projects/shop-prod/global/networks/shop-vpc',
        description: 'hand-made',
        allowed: [{ IPProtocol: 'tcp', ports: ['22'] }],
        sourceRanges: ['10.0.0.0/8'],
      },
    });
    await done(op);
    await expect(lockOf().tryCreate(request('run-a'))).rejects.toThrow(
      /is not a Bulkhead lock and Bulkhead will not touch it/,
    );
    const [fw] = await h.clients.firewalls.get({ project: 'shop-prod', firewall: gcpLockName('shop') });
    expect(fw.description).toBe('hand-made');
    const [del] = await h.clients.firewalls.delete({ project: 'shop-prod', firewall: gcpLockName('shop') });
    await done(del);
  });
});
