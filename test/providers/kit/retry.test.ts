import { describe, expect, it } from 'vitest';
import { ProviderError } from '../../../src/errors.js';
import {
  attemptsOf,
  backoffDelay,
  markRetried,
  parseRetryAfter,
  retryPolicy,
  wasRetried,
  type RetryPolicyOptions,
} from '../../../providers/kit/retry.js';

/** A fake SDK error: HTTP status, optional Retry-After in ms, and whether the SDK pipeline already retried it. */
class FakeSdkError extends Error {
  readonly status: number;
  readonly retryAfter: number | undefined;
  readonly sdkRetried: boolean;
  constructor(status: number, retryAfter?: number, sdkRetried = false) {
    super(`HTTP ${status}`);
    this.status = status;
    this.retryAfter = retryAfter;
    this.sdkRetried = sdkRetried;
  }
}

const classify = (raw: unknown, what: string): ProviderError => {
  if (raw instanceof ProviderError) return raw;
  const status = raw instanceof FakeSdkError ? raw.status : undefined;
  return new ProviderError(
    `${what}: ${String((raw as Error).message)}`,
    status ? String(status) : undefined,
    status === 429 || status === 503,
    { cause: raw },
  );
};

/** A policy whose sleeps are recorded, not waited; jitter fixed at its top (random = 1 → the full delay). */
function harness(extra: Partial<RetryPolicyOptions> = {}) {
  const sleeps: number[] = [];
  const policy = retryPolicy({
    classify,
    retryAfterMs: (raw) => (raw instanceof FakeSdkError ? raw.retryAfter : undefined),
    handledBySdk: (raw) => raw instanceof FakeSdkError && raw.sdkRetried,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.999999,
    ...extra,
  });
  return { policy, sleeps };
}

/** A call that fails with `errors` in turn, then returns 'ok'. */
function flaky(errors: readonly unknown[]) {
  let calls = 0;
  const fn = async () => {
    const e = errors[calls++];
    if (e !== undefined) throw e;
    return 'ok';
  };
  return { fn, calls: () => calls };
}

describe('retryPolicy', () => {
  it('retries a retryable failure with truncated exponential backoff, then succeeds', async () => {
    const { policy, sleeps } = harness({ baseDelayMs: 100, maxDelayMs: 300 });
    const call = flaky([new FakeSdkError(429), new FakeSdkError(503), new FakeSdkError(429), new FakeSdkError(429)]);
    await expect(policy.run('put x', call.fn)).resolves.toBe('ok');
    expect(call.calls()).toBe(5);
    expect(sleeps).toEqual([100, 200, 300, 300]);
  });

  it('jitters each delay within its upper half', () => {
    const s = { baseDelayMs: 1000, maxDelayMs: 30_000 };
    expect(backoffDelay(1, s, () => 0)).toBe(500);
    expect(backoffDelay(1, s, () => 0.999999)).toBe(1000);
    expect(backoffDelay(3, s, () => 0.5)).toBe(3000);
    expect(backoffDelay(20, s, () => 0)).toBe(15_000);
  });

  it('waits what Retry-After asks instead of the computed backoff', async () => {
    const { policy, sleeps } = harness();
    const call = flaky([new FakeSdkError(429, 7000), new FakeSdkError(429, 0)]);
    await expect(policy.run('put x', call.fn)).resolves.toBe('ok');
    expect(sleeps).toEqual([7000, 0]);
  });

  it('does not wait for a Retry-After longer than its cap, and leaves the error not retryable', async () => {
    const { policy, sleeps } = harness({ maxRetryAfterMs: 60_000 });
    const call = flaky([new FakeSdkError(429, 600_000)]);
    const err = await policy.run('put x', call.fn).catch((e: unknown) => e);
    expect(call.calls()).toBe(1);
    expect(sleeps).toEqual([]);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).retryable).toBe(false);
    expect(wasRetried(err)).toBe(true);
  });

  it('spends exactly the attempt budget, then marks the error so the engine does not retry it again', async () => {
    const { policy, sleeps } = harness({ attempts: 3 });
    const call = flaky(Array.from({ length: 10 }, () => new FakeSdkError(429)));
    const err = (await policy.run('put x', call.fn).catch((e: unknown) => e)) as ProviderError;
    expect(call.calls()).toBe(3);
    expect(sleeps).toHaveLength(2);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.retryable).toBe(false);
    expect(err.code).toBe('429');
    expect(err.message).toBe('put x: HTTP 429 (gave up after 3 attempts)');
    expect(err.cause).toBeInstanceOf(FakeSdkError);
    expect(wasRetried(err)).toBe(true);
    expect(attemptsOf(err)).toBe(3);
  });

  it('does not retry what the SDK pipeline already retried (one retrying layer per call)', async () => {
    const { policy, sleeps } = harness();
    const call = flaky([new FakeSdkError(503, undefined, true)]);
    const err = (await policy.run('put x', call.fn).catch((e: unknown) => e)) as ProviderError;
    expect(call.calls()).toBe(1);
    expect(sleeps).toEqual([]);
    expect(err.retryable).toBe(false);
    expect(wasRetried(err)).toBe(true);
  });

  it('fails at once on a non-retryable error, which stays unmarked', async () => {
    const { policy, sleeps } = harness();
    const call = flaky([new FakeSdkError(400)]);
    const err = (await policy.run('put x', call.fn).catch((e: unknown) => e)) as ProviderError;
    expect(call.calls()).toBe(1);
    expect(sleeps).toEqual([]);
    expect(err.retryable).toBe(false);
    expect(err.message).toBe('put x: HTTP 400');
    expect(wasRetried(err)).toBe(false);
  });

  it('classifies whatever the call throws, non-Error values included', async () => {
    const { policy } = harness();
    const err = await policy.run('get y', () => Promise.reject(new TypeError('boom'))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).message).toBe('get y: boom');
  });

  it('starts no retry past the elapsed-time budget', async () => {
    const { policy, sleeps } = harness({ maxElapsedMs: 1000, baseDelayMs: 600 });
    const call = flaky([new FakeSdkError(429), new FakeSdkError(429), new FakeSdkError(429)]);
    const err = (await policy.run('put x', call.fn).catch((e: unknown) => e)) as ProviderError;
    // The first backoff (600) fits the 1000 ms budget, the second (1200) does not.
    expect(sleeps).toEqual([600]);
    expect(call.calls()).toBe(2);
    expect(err.retryable).toBe(false);
  });

  it('passes the attempt number (for idempotent request ids and progress)', async () => {
    const seen: number[] = [];
    const retries: number[] = [];
    const { policy } = harness({ onRetry: (i) => retries.push(i.attempt) });
    await policy.run('put x', async (n) => {
      seen.push(n);
      if (n < 3) throw new FakeSdkError(503);
      return n;
    });
    expect(seen).toEqual([1, 2, 3]);
    expect(retries).toEqual([1, 2]);
  });

  it('really waits with the default sleep (a tiny delay, no timing assertion)', async () => {
    const policy = retryPolicy({ classify, baseDelayMs: 1, maxDelayMs: 2 });
    const call = flaky([new FakeSdkError(503)]);
    await expect(policy.run('put x', call.fn)).resolves.toBe('ok');
    expect(call.calls()).toBe(2);
  });
});

describe('markRetried', () => {
  it('is idempotent and keeps code and cause', () => {
    const raw = new Error('raw');
    const e = new ProviderError('m', 'Throttling', true, { cause: raw });
    const once = markRetried(e, 4);
    expect(markRetried(once, 9)).toBe(once);
    expect(once).toMatchObject({ retryable: false, code: 'Throttling', message: 'm (gave up after 4 attempts)' });
    expect(once.cause).toBe(raw);
    expect(wasRetried(e)).toBe(false);
  });
});

describe('parseRetryAfter', () => {
  it('reads delta-seconds and HTTP-dates', () => {
    const now = Date.parse('2026-12-01T12:00:00Z');
    expect(parseRetryAfter('5', now)).toBe(5000);
    expect(parseRetryAfter(0, now)).toBe(0);
    expect(parseRetryAfter('1.5', now)).toBe(1500);
    expect(parseRetryAfter('Tue, 01 Dec 2026 12:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Tue, 01 Dec 2026 11:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});
