import pRetry from 'p-retry';
import { ProviderError } from '../../src/errors.js';

/**
 * The one retry policy of the providers, on p-retry: truncated exponential backoff with equal
 * jitter, a Retry-After the error carries wins, a budget of attempts (and optionally of elapsed
 * time), and exactly one retrying layer per call:
 *
 * - `handledBySdk(raw)` says the SDK's own pipeline already retried this failure (Azure: a 429 with
 *   Retry-After, a 5xx; AWS: throttling under adaptive retry): the policy then does not retry it
 *   again.
 * - Whatever the policy gives up on leaves it with `retryable: false` (`markRetried`), so the apply
 *   engine (src/apply/apply-plan.ts, which retries retryable ProviderErrors) does not try the step
 *   again on top. `wasRetried(err)` tells such an error apart from one that was never retryable.
 */

/** The budget and backoff shape. */
export interface RetrySettings {
  /** Calls in all, the first included. 6: with the defaults below that spends about 15 s at most, enough for ARM's and Compute's per-second token buckets to refill (cloud-semantics §2.6, §3.5). */
  readonly attempts?: number;
  /** First backoff in ms, doubled per retry. 500: AWS's throttle base (§1.6) and the old GCP loop's. */
  readonly baseDelayMs?: number;
  /** Cap of one backoff in ms ("truncated"). 30 s: longer says the service is down, not busy. */
  readonly maxDelayMs?: number;
  /** Longest Retry-After honoured, in ms; a server asking for more is not waited for (the call fails, not retryable). 60 s: ARM's usual hints are seconds. */
  readonly maxRetryAfterMs?: number;
  /** Budget of elapsed time in ms, from the first call (p-retry's maxRetryTime); no retry starts past it. Default: none. */
  readonly maxElapsedMs?: number;
}

/** What a provider plugs into the policy. */
export interface RetryPolicyOptions extends RetrySettings {
  /** The provider's classifier: what the SDK threw → a ProviderError whose `retryable` says whether the same call may succeed. */
  readonly classify: (raw: unknown, what: string) => ProviderError;
  /** The server's requested wait in ms (Retry-After, retry-after-ms, x-ms-retry-after-ms), read from the raw error. */
  readonly retryAfterMs?: (raw: unknown) => number | undefined;
  /** True when the SDK pipeline already retried this failure itself (so retrying here would stack a second layer). */
  readonly handledBySdk?: (raw: unknown) => boolean;
  /** Waits `ms` (tests pass one that records and resolves at once). */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Uniform [0, 1) source of the jitter (tests pass a fixed one). */
  readonly random?: () => number;
  /** Called before each retry (progress lines). */
  readonly onRetry?: (info: {
    readonly what: string;
    readonly attempt: number;
    readonly delayMs: number;
    readonly error: ProviderError;
  }) => void;
}

/** A configured policy. */
export interface RetryPolicy {
  /** The resolved settings (defaults filled). */
  readonly settings: Readonly<Required<Omit<RetrySettings, 'maxElapsedMs'>>> & { readonly maxElapsedMs: number };
  /**
   * Runs `call` (given the attempt number, from 1) until it succeeds, fails non-retryably, or the
   * budget is spent. Always rejects with a ProviderError; one the policy gave up on has
   * `retryable: false` and `wasRetried(err)`. Write calls must be idempotent across attempts (GCP
   * passes the same requestId each time).
   */
  run<T>(what: string, call: (attempt: number) => Promise<T>, signal?: AbortSignal): Promise<T>;
}

/** Defaults; each is explained on RetrySettings. */
export const RETRY_DEFAULTS = { attempts: 6, baseDelayMs: 500, maxDelayMs: 30_000, maxRetryAfterMs: 60_000 } as const;

/**
 * The backoff before retry number `retry` (1 = after the first failure): `min(max, base·2^(retry-1))`,
 * then equal jitter, uniformly in [d/2, d]. Equal rather than full jitter: full jitter may retry a
 * throttled write after a millisecond, which only spends another token; the upper half still
 * spreads concurrent clients apart.
 */
export function backoffDelay(
  retry: number,
  settings: { readonly baseDelayMs: number; readonly maxDelayMs: number },
  random: () => number = Math.random,
): number {
  const d = Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.round(d / 2 + random() * (d / 2));
}

/** Brand of an error the policy gave up on (a symbol: no provider's own field can clash with it). */
const RETRIED = Symbol.for('bulkhead.kit.retried');

/**
 * The same failure as a ProviderError that no outer layer retries: `retryable: false`, the
 * message saying how many calls were made, the SDK error kept as `cause`. Idempotent.
 */
export function markRetried(err: ProviderError, attempts: number): ProviderError {
  if (wasRetried(err)) return err;
  const suffix = attempts > 1 ? ` (gave up after ${attempts} attempts)` : '';
  const out = new ProviderError(`${err.message}${suffix}`, err.code, false, { cause: err.cause ?? err });
  Object.defineProperty(out, RETRIED, { value: attempts, enumerable: false });
  return out;
}

/** True for an error `markRetried` made: it was retryable, and the policy already spent the budget on it. */
export function wasRetried(err: unknown): boolean {
  return err instanceof Error && (err as unknown as { [RETRIED]?: number })[RETRIED] !== undefined;
}

/** Calls made on an error `markRetried` made, else undefined. */
export function attemptsOf(err: unknown): number | undefined {
  return err instanceof Error ? (err as unknown as { [RETRIED]?: number })[RETRIED] : undefined;
}

/**
 * A Retry-After header value in ms: delta-seconds (`"5"`) or an HTTP-date (RFC 9110 §10.2.3);
 * undefined when absent or unreadable. `now` is injectable for tests.
 */
export function parseRetryAfter(
  value: string | number | null | undefined,
  now: number = Date.now(),
): number | undefined {
  if (value === null || value === undefined) return undefined;
  const t = String(value).trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000);
  const date = Date.parse(t);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A retry policy (see the file comment). */
export function retryPolicy(options: RetryPolicyOptions): RetryPolicy {
  const settings = {
    attempts: Math.max(1, Math.floor(options.attempts ?? RETRY_DEFAULTS.attempts)),
    baseDelayMs: options.baseDelayMs ?? RETRY_DEFAULTS.baseDelayMs,
    maxDelayMs: options.maxDelayMs ?? RETRY_DEFAULTS.maxDelayMs,
    maxRetryAfterMs: options.maxRetryAfterMs ?? RETRY_DEFAULTS.maxRetryAfterMs,
    maxElapsedMs: options.maxElapsedMs ?? Number.POSITIVE_INFINITY,
  };
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  return {
    settings,
    async run<T>(what: string, call: (attempt: number) => Promise<T>, signal?: AbortSignal): Promise<T> {
      const start = performance.now();
      // What the last failure said, for the decision and the delay (p-retry sees only the ProviderError).
      let last: { raw: unknown; error: ProviderError } | undefined;
      let nextDelay = 0;
      let attempts = 0;
      try {
        return await pRetry(
          async (attempt) => {
            // The backoff happens here, before the next call, not in p-retry's own timer: only
            // this way can a Retry-After replace the computed delay (p-retry's is fixed by its options).
            if (attempt > 1) await sleep(nextDelay);
            attempts = attempt;
            try {
              return await call(attempt);
            } catch (raw) {
              const error = options.classify(raw, what);
              last = { raw, error };
              throw error;
            }
          },
          {
            retries: settings.attempts - 1,
            minTimeout: 0,
            maxTimeout: 0,
            maxRetryTime: settings.maxElapsedMs,
            ...(signal ? { signal } : {}),
            shouldRetry: () => {
              if (!last?.error.retryable) return false;
              if (options.handledBySdk?.(last.raw)) return false;
              const asked = options.retryAfterMs?.(last.raw);
              if (asked !== undefined && asked > settings.maxRetryAfterMs) return false;
              const delay = asked ?? backoffDelay(attempts, settings, random);
              if (performance.now() - start + delay > settings.maxElapsedMs) return false;
              nextDelay = delay;
              options.onRetry?.({ what, attempt: attempts, delayMs: delay, error: last.error });
              return true;
            },
          },
        );
      } catch (err) {
        const error = err instanceof ProviderError ? err : options.classify(err, what);
        return Promise.reject(error.retryable ? markRetried(error, attempts) : error);
      }
    },
  };
}
