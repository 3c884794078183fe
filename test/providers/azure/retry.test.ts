import { describe, expect, it } from 'vitest';
import { azureRetryPolicy, retriedBySdk, retryAfterMs } from '../../../providers/azure/errors.js';
import { wasRetried } from '../../../providers/kit/retry.js';

/**
 * Azure's one retrying layer per call: what core-rest-pipeline's default policy already retried
 * (a 429/503 with Retry-After, 408, 5xx but 501/505, socket errors) is not retried again; a 429
 * without Retry-After and NRP's "another operation in progress" are. The old loop retried every
 * retryable error 6 times, on top of the SDK's own retries of the 5xx.
 */

/** A RestError-like failure: status, ARM code, response headers (HttpHeaders has `get`). */
function restError(statusCode: number | undefined, code: string | undefined, headers: Record<string, string> = {}) {
  return Object.assign(new Error(`${code ?? statusCode}`), {
    statusCode,
    code,
    response: { headers: { get: (n: string) => headers[n.toLowerCase()] } },
  });
}

describe('azure retry policy', () => {
  it('reads the wait ARM asks for from any of its three headers', () => {
    expect(retryAfterMs(restError(429, 'TooManyRequests', { 'retry-after-ms': '250' }))).toBe(250);
    expect(retryAfterMs(restError(429, 'TooManyRequests', { 'x-ms-retry-after-ms': '40' }))).toBe(40);
    expect(retryAfterMs(restError(429, 'TooManyRequests', { 'retry-after': '3' }))).toBe(3000);
    expect(retryAfterMs(restError(429, 'TooManyRequests'))).toBeUndefined();
  });

  it('knows what the SDK pipeline retried by itself', () => {
    expect(retriedBySdk(restError(429, 'TooManyRequests', { 'retry-after': '1' }))).toBe(true);
    expect(retriedBySdk(restError(503, 'ServerBusy', { 'retry-after': '1' }))).toBe(true);
    expect(retriedBySdk(restError(500, 'InternalServerError'))).toBe(true);
    expect(retriedBySdk(restError(408, 'RequestTimeout'))).toBe(true);
    expect(retriedBySdk(restError(undefined, 'ECONNRESET'))).toBe(true);
    expect(retriedBySdk(restError(429, 'TooManyRequests'))).toBe(false);
    expect(retriedBySdk(restError(409, 'AnotherOperationInProgress'))).toBe(false);
    expect(retriedBySdk(restError(501, 'NotImplemented'))).toBe(false);
  });

  it('calls once for what the SDK retried, the whole budget for what it did not, and hands neither to the engine as retryable', async () => {
    const policy = azureRetryPolicy({ retry: { maxAttempts: 4, baseDelayMs: 0, maxDelayMs: 0 } });
    const count = async (err: Error) => {
      let calls = 0;
      const failure = await policy
        .run('writing NSG x', async () => {
          calls++;
          throw err;
        })
        .catch((e: unknown) => e);
      return { calls, failure };
    };
    const sdk = await count(restError(500, 'InternalServerError'));
    expect(sdk.calls).toBe(1);
    expect(sdk.failure).toMatchObject({ retryable: false, code: 'InternalServerError' });
    expect(wasRetried(sdk.failure)).toBe(true);
    const ours = await count(restError(409, 'AnotherOperationInProgress'));
    expect(ours.calls).toBe(4);
    expect(ours.failure).toMatchObject({ retryable: false, code: 'AnotherOperationInProgress' });
    // With the SDK's retries switched off, this policy is the only layer: it retries the 5xx too.
    const alone = azureRetryPolicy({
      retry: { maxAttempts: 3, baseDelayMs: 0, maxDelayMs: 0 },
      clientOptions: { retryOptions: { maxRetries: 0 } },
    });
    let calls = 0;
    await alone
      .run('x', async () => {
        calls++;
        throw restError(500, 'InternalServerError');
      })
      .catch(() => undefined);
    expect(calls).toBe(3);
  });
});
