import { ProviderError } from '../../src/errors.js';

/**
 * Classifies what the Azure SDK throws (a core-rest-pipeline `RestError`: `statusCode`, `code`,
 * `message`) into a ProviderError with the ARM error code and whether a retry may succeed.
 * Retryable (cloud-semantics §2.4, §2.6): 429 throttling, NRP's `RetryableError` /
 * `RetryableErrorDueToAnotherOperation` while a resource is locked, 409
 * `AnotherOperationInProgress`, 5xx, and socket errors without a status.
 */

/** The fields of a RestError Bulkhead reads (structural, so this file needs no SDK import). */
interface RestErrorLike {
  readonly statusCode?: number;
  readonly code?: string;
  readonly message?: string;
}

const RETRYABLE_CODES = new Set(['RetryableError', 'RetryableErrorDueToAnotherOperation', 'AnotherOperationInProgress', 'TooManyRequests', 'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT']);

/** True when retrying the same call may succeed. */
export function isRetryable(err: unknown): boolean {
  if (err === null || typeof err !== 'object') return false;
  const e = err as RestErrorLike;
  if (e.statusCode === 429) return true;
  if (e.statusCode !== undefined && e.statusCode >= 500 && e.statusCode !== 501 && e.statusCode !== 505) return true;
  return e.code !== undefined && RETRYABLE_CODES.has(e.code);
}

/** HTTP status of an SDK error, when it has one. */
export function statusOf(err: unknown): number | undefined {
  return err !== null && typeof err === 'object' ? (err as RestErrorLike).statusCode : undefined;
}

/** A ProviderError saying what Bulkhead was doing (`what`) and what Azure answered. */
export function classifyAzureError(err: unknown, what: string): ProviderError {
  if (err instanceof ProviderError) return err;
  const e = (err !== null && typeof err === 'object' ? err : {}) as RestErrorLike;
  const code = e.code ?? (e.statusCode !== undefined ? `HTTP${e.statusCode}` : undefined);
  const detail = (e.message ?? String(err)).split('\n')[0];
  return new ProviderError(`${what}: ${code ? `${code}: ` : ''}${detail}`, code, isRetryable(err), { cause: err });
}

/** Backoff settings for Bulkhead's own retry of what the SDK does not retry (a 429 without Retry-After). */
export interface RetrySettings {
  /** Calls in all, first included; default 6. */
  readonly maxAttempts?: number;
  /** First delay in ms, doubled per attempt with ±50% jitter; default 1000. */
  readonly baseDelayMs?: number;
  /** Cap of one delay in ms; default 30000. */
  readonly maxDelayMs?: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs an SDK call, retrying retryable failures with truncated exponential backoff and jitter.
 * The SDK's pipeline already retries 429/503 that carry Retry-After and 5xx; a 429 without
 * Retry-After (NRP's "another operation in progress") reaches this loop (cloud-semantics §2.6).
 * Throws the classified ProviderError when attempts run out or the error is not retryable.
 */
export async function withRetry<T>(what: string, fn: () => Promise<T>, settings: RetrySettings = {}): Promise<T> {
  const max = settings.maxAttempts ?? 6;
  const base = settings.baseDelayMs ?? 1000;
  const cap = settings.maxDelayMs ?? 30_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isRetryable(err) || attempt >= max) throw classifyAzureError(err, what);
      const delay = Math.min(cap, base * 2 ** (attempt - 1));
      await sleep(delay / 2 + Math.random() * (delay / 2));
    }
  }
}
