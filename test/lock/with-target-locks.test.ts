import { describe, expect, it } from 'vitest';
import { ProviderError } from '../../src/errors.js';
import { lockedMessage, parseDuration, releaseAll, withTargetLocks, type LockOptions } from '../../src/lock.js';
import { MemoryLockStore } from './memory-lock.js';

const A = { holder: 'alice@ci-1', pid: 11, runId: 'run-a' };
const B = { holder: 'bob@ci-2', pid: 22, runId: 'run-b' };

/** A fake clock: sleeping advances it, so waits take no real time. */
function fakeTime(start = Date.parse('2026-12-01T10:00:00Z')) {
  let t = start;
  const sleeps: number[] = [];
  return {
    now: () => t,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      t += ms;
    },
    advance: (ms: number) => (t += ms),
    sleeps,
  };
}

function options(holder: typeof A, clock: ReturnType<typeof fakeTime>, extra: Partial<LockOptions> = {}): LockOptions {
  return { holder, now: clock.now, sleep: clock.sleep, handleSignals: false, ...extra };
}

describe('withTargetLocks', () => {
  it('takes every lock in target-name order, runs fn while holding them, releases them after', async () => {
    const store = new MemoryLockStore();
    const clock = fakeTime();
    const seen: string[] = [];
    const result = await withTargetLocks(
      [
        { target: 'z-prod', lock: store.lock('z-prod') },
        { target: 'a-dev', lock: store.lock('a-dev') },
      ],
      options(A, clock, { lockTtlMs: 30 * 60_000 }),
      async () => {
        seen.push(...[...store.objects.keys()].sort());
        const rec = store.objects.get('a-dev')!;
        expect(rec).toMatchObject({
          model: 'shop',
          holder: 'alice@ci-1',
          pid: 11,
          runId: 'run-a',
          since: '2026-12-01T10:00:00Z',
          expires: '2026-12-01T10:30:00Z',
        });
        return 42;
      },
    );
    expect(result).toBe(42);
    expect(seen).toEqual(['a-dev', 'z-prod']);
    expect(store.log).toEqual([
      'acquire a-dev run-a',
      'acquire z-prod run-a',
      'release z-prod run-a',
      'release a-dev run-a',
    ]);
    expect(store.objects.size).toBe(0);
  });

  it('refuses a held lock at once without a timeout, naming holder, since, expiry and force-unlock; fn never runs', async () => {
    const store = new MemoryLockStore();
    const clock = fakeTime();
    let ran = false;
    await withTargetLocks([{ target: 'prod', lock: store.lock('prod') }], options(A, clock), async () => {
      const err = await withTargetLocks([{ target: 'prod', lock: store.lock('prod') }], options(B, clock), async () => {
        ran = true;
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ProviderError);
      expect((err as ProviderError).code).toBe('Locked');
      expect((err as Error).message).toBe(
        'target prod is locked by alice@ci-1 (pid 11, run run-a) since 2026-12-01T10:00:00Z (expires 2026-12-01T11:00:00Z); ' +
          'wait with --lock-timeout 5m, or if that run was killed: bulkhead force-unlock prod',
      );
    });
    expect(ran).toBe(false);
    // The refused run released nothing of the holder's.
    expect(store.log).toEqual(['acquire prod run-a', 'release prod run-a']);
  });

  it('waits with doubling pauses up to the timeout, then refuses', async () => {
    const store = new MemoryLockStore();
    const clock = fakeTime();
    await store.lock('prod').tryCreate({ ...A, since: '2026-12-01T10:00:00Z', expires: '2026-12-01T11:00:00Z' });
    const messages: string[] = [];
    const err = await withTargetLocks(
      [{ target: 'prod', lock: store.lock('prod') }],
      options(B, clock, {
        lockTimeoutMs: 10_000,
        pollStartMs: 1000,
        pollMaxMs: 4000,
        onMessage: (m) => messages.push(m),
      }),
      async () => 'ran',
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(clock.sleeps).toEqual([1000, 2000, 4000, 3000]);
    expect(messages).toEqual([
      'Target prod is locked by alice@ci-1 (pid 11, run run-a) since 2026-12-01T10:00:00Z; waiting up to 10s…',
    ]);
  });

  it('gets the lock once the holder releases it while waiting', async () => {
    const store = new MemoryLockStore();
    const clock = fakeTime();
    const first = await store
      .lock('prod')
      .tryCreate({ ...A, since: '2026-12-01T10:00:00Z', expires: '2026-12-01T11:00:00Z' });
    let polls = 0;
    const sleep = async (ms: number) => {
      await clock.sleep(ms);
      if (++polls === 2 && first.kind === 'acquired') await store.lock('prod').remove(first.record);
    };
    const out = await withTargetLocks(
      [{ target: 'prod', lock: store.lock('prod') }],
      { ...options(B, clock), sleep, lockTimeoutMs: 60_000 },
      async () => store.objects.get('prod')?.runId,
    );
    expect(out).toBe('run-b');
    expect(polls).toBe(2);
  });

  it('takes over an expired lock and says so', async () => {
    const store = new MemoryLockStore();
    const clock = fakeTime();
    await store.lock('prod').tryCreate({ ...A, since: '2026-12-01T08:00:00Z', expires: '2026-12-01T09:00:00Z' });
    const messages: string[] = [];
    const holderDuring = await withTargetLocks(
      [{ target: 'prod', lock: store.lock('prod') }],
      options(B, clock, { onMessage: (m) => messages.push(m) }),
      async () => store.objects.get('prod')?.runId,
    );
    expect(holderDuring).toBe('run-b');
    expect(messages).toEqual([
      'Target prod: the lock of alice@ci-1 (pid 11, run run-a) since 2026-12-01T08:00:00Z expired at 2026-12-01T09:00:00Z; taking it over.',
    ]);
    expect(clock.sleeps).toEqual([]);
  });

  it('releases after fn throws, and releases the locks already taken when a later one is refused', async () => {
    const store = new MemoryLockStore();
    const clock = fakeTime();
    await expect(
      withTargetLocks([{ target: 'prod', lock: store.lock('prod') }], options(A, clock), async () => {
        throw new Error('apply failed');
      }),
    ).rejects.toThrow('apply failed');
    expect(store.objects.size).toBe(0);

    await store.lock('z').tryCreate({ ...B, since: '2026-12-01T10:00:00Z', expires: '2026-12-01T11:00:00Z' });
    await expect(
      withTargetLocks(
        [
          { target: 'z', lock: store.lock('z') },
          { target: 'a', lock: store.lock('a') },
        ],
        options(A, clock),
        async () => 1,
      ),
    ).rejects.toThrow(/target z is locked by bob@ci-2/);
    expect([...store.objects.keys()]).toEqual(['z']);
    expect(store.log.slice(-2)).toEqual(['acquire a run-a', 'release a run-a']);
  });

  it('warns with force-unlock when a release fails, and still returns the result', async () => {
    const store = new MemoryLockStore();
    const clock = fakeTime();
    const messages: string[] = [];
    const out = await withTargetLocks(
      [{ target: 'prod', lock: store.lock('prod') }],
      options(A, clock, { onMessage: (m) => messages.push(m) }),
      async () => {
        store.failRemove = true;
        return 'done';
      },
    );
    expect(out).toBe('done');
    expect(messages).toEqual([
      'Warning: could not release the lock of target prod (memory lock prod): remove refused; remove it with: bulkhead force-unlock prod',
    ]);
  });

  it('releaseAll releases the locks of a run in progress (the SIGINT path), and the run does not release twice', async () => {
    const store = new MemoryLockStore();
    const clock = fakeTime();
    await withTargetLocks([{ target: 'prod', lock: store.lock('prod') }], options(A, clock), async () => {
      expect(store.objects.size).toBe(1);
      await releaseAll();
      expect(store.objects.size).toBe(0);
    });
    expect(store.log).toEqual(['acquire prod run-a', 'release prod run-a']);
  });

  it('retries at once when the held object vanished before it could be read (its holder just released it)', async () => {
    const store = new MemoryLockStore();
    const inner = store.lock('prod');
    let calls = 0;
    const flaky = {
      ...inner,
      tryCreate: async (r: Parameters<typeof inner.tryCreate>[0]) =>
        ++calls === 1 ? { kind: 'held' as const, record: undefined } : inner.tryCreate(r),
    };
    const clock = fakeTime();
    expect(await withTargetLocks([{ target: 'prod', lock: flaky }], options(A, clock), async () => 'ran')).toBe('ran');
    expect(calls).toBe(2);
    expect(clock.sleeps).toEqual([]);
  });

  it('lockedMessage and parseDuration', () => {
    expect(parseDuration('--lock-timeout', '5m')).toBe(300_000);
    expect(parseDuration('--lock-timeout', '90')).toBe(90_000);
    expect(parseDuration('--lock-timeout', '250ms')).toBe(250);
    expect(parseDuration('--lock-ttl', '1h')).toBe(3_600_000);
    expect(() => parseDuration('--lock-timeout', 'soon')).toThrow(
      '--lock-timeout: expected a duration such as 30s, 5m or 1h, got "soon"',
    );
    expect(lockedMessage('t', { model: 'm', ...A, since: 's', expires: 'e' })).toContain('bulkhead force-unlock t');
  });
});
