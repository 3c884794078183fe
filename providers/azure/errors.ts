import { ProviderError } from '../../src/errors.js';
import { parseRetryAfter, retryPolicy, type RetryPolicy } from '../kit/retry.js';

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

const RETRYABLE_CODES = new Set([
  'RetryableError',
  'RetryableErrorDueToAnotherOperation',
  'AnotherOperationInProgress',
  'TooManyRequests',
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
]);

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

/**
 * The failures of @azure/identity's credentials, by `name` (this file imports no SDK):
 * `CredentialUnavailableError` (one credential had nothing to offer), `AggregateAuthenticationError`
 * (DefaultAzureCredential's whole chain had nothing), `AuthenticationError` (a credential was
 * refused), `AuthenticationRequiredError` (interactive login needed).
 */
const UNAVAILABLE_ERRORS = new Set(['CredentialUnavailableError', 'AggregateAuthenticationError']);
const REJECTED_ERRORS = new Set(['AuthenticationError', 'AuthenticationRequiredError']);

/** ARM's answers to a token it does not accept (HTTP 401). */
const ARM_AUTH_CODES = new Set([
  'InvalidAuthenticationToken',
  'ExpiredAuthenticationToken',
  'AuthenticationFailed',
  'InvalidAuthenticationTokenTenant',
  'InvalidAuthenticationTokenAudience',
]);

/**
 * What DefaultAzureCredential tries, in order, as AZURE_TOKEN_CREDENTIALS selects it (`dev`,
 * `prod`, one credential's name, or unset: the whole chain). VisualStudioCodeCredential and the
 * broker are left out: without their plugin packages (Bulkhead ships neither) they never succeed.
 */
export function credentialChain(env: Readonly<Record<string, string | undefined>>): string[] {
  const prod = ['environment variables', 'workload identity', 'managed identity'];
  const dev = ['Azure CLI', 'Azure PowerShell', 'Azure Developer CLI'];
  const one: Record<string, string> = {
    environmentcredential: 'environment variables',
    workloadidentitycredential: 'workload identity',
    managedidentitycredential: 'managed identity',
    azureclicredential: 'Azure CLI',
    azurepowershellcredential: 'Azure PowerShell',
    azuredeveloperclicredential: 'Azure Developer CLI',
  };
  const choice = env['AZURE_TOKEN_CREDENTIALS']?.trim().toLowerCase();
  if (choice === 'dev') return dev;
  if (choice === 'prod') return prod;
  if (choice && one[choice]) return [one[choice]];
  return [...prod, ...dev];
}

const HINT = "run 'az login', or plan offline with --snapshots DIR";

function firstLine(text: string): string {
  const line =
    text
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l !== '') ?? '';
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

/**
 * The one-line ProviderError (code `credentials`) for a failure to authenticate, or undefined
 * when `err` is something else. Looks through ProviderError causes (the retry policy wraps what the SDK
 * throws): DefaultAzureCredential fails lazily, on the first SDK call, inside the bearer policy.
 */
export function credentialError(
  err: unknown,
  target: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): ProviderError | undefined {
  for (
    let e: unknown = err, depth = 0;
    e !== null && typeof e === 'object' && depth < 5;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    if (e instanceof ProviderError && e.code === 'credentials') return e;
    const name = (e as { name?: unknown }).name;
    const r = e as RestErrorLike;
    if (typeof name === 'string' && UNAVAILABLE_ERRORS.has(name)) {
      return new ProviderError(
        `target ${target}: no Azure credentials (tried ${credentialChain(env).join(', ')}): ${HINT}`,
        'credentials',
        false,
        { cause: err },
      );
    }
    const rejected =
      (typeof name === 'string' && REJECTED_ERRORS.has(name)) ||
      (r.statusCode === 401 && (r.code === undefined || ARM_AUTH_CODES.has(r.code)));
    if (rejected) {
      const why = firstLine(`${r.code && r.statusCode === 401 ? `${r.code}: ` : ''}${r.message ?? ''}`);
      return new ProviderError(
        `target ${target}: Azure did not accept the credentials${why ? ` (${why})` : ''}: ${HINT}`,
        'credentials',
        false,
        { cause: err },
      );
    }
  }
  return undefined;
}

/** Runs a live call for a target, turning an authentication failure into `credentialError`'s one line. */
export async function withCredentials<T>(target: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    // process.env: DefaultAzureCredential reads its chain from there, not from the provider's options.
    throw credentialError(err, target, process.env) ?? err;
  }
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
  /** Calls in all, first included; default: the kit's 6. */
  readonly maxAttempts?: number;
  /** First delay in ms, doubled per attempt, equal jitter; default: the kit's 500. */
  readonly baseDelayMs?: number;
  /** Cap of one delay in ms; default: the kit's 30 s. */
  readonly maxDelayMs?: number;
}

/** The headers of a RestError's response (core-rest-pipeline's HttpHeaders has `get`; a plain object is accepted too). */
function header(err: unknown, name: string): string | undefined {
  const headers = (err as { response?: { headers?: unknown } } | null)?.response?.headers;
  if (headers === null || typeof headers !== 'object') return undefined;
  const get = (headers as { get?: unknown }).get;
  const v =
    typeof get === 'function'
      ? (get as (n: string) => unknown).call(headers, name)
      : (headers as Record<string, unknown>)[name];
  return typeof v === 'string' ? v : undefined;
}

/** The wait ARM asked for, in ms: `retry-after-ms`, `x-ms-retry-after-ms`, then `Retry-After` (seconds or a date), as the SDK reads them. */
export function retryAfterMs(err: unknown): number | undefined {
  for (const name of ['retry-after-ms', 'x-ms-retry-after-ms']) {
    const v = header(err, name);
    if (v !== undefined && /^\d+(\.\d+)?$/.test(v.trim())) return Math.round(Number(v));
  }
  return parseRetryAfter(header(err, 'retry-after'));
}

/** Socket errors core-rest-pipeline's exponential strategy retries by itself. */
const SDK_SYSTEM_ERRORS = new Set([
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOENT',
  'ENOTFOUND',
]);

/**
 * True when core-rest-pipeline's default retry policy already retried this failure (its
 * throttling strategy: a 429 or 503 with a Retry-After; its exponential strategy: 408, 5xx but
 * 501/505, the socket errors above), so retrying it here would be a second layer.
 */
export function retriedBySdk(err: unknown): boolean {
  if (err === null || typeof err !== 'object') return false;
  const e = err as RestErrorLike;
  const status = e.statusCode;
  if (status === undefined) return e.code !== undefined && SDK_SYSTEM_ERRORS.has(e.code);
  if ((status === 429 || status === 503) && retryAfterMs(err) !== undefined) return true;
  return (status >= 500 || status === 408) && status !== 501 && status !== 505;
}

/**
 * Azure's retry policy: the kit's (providers/kit/retry.ts), retrying only what the SDK pipeline
 * did not (a 429 without Retry-After, NRP's "another operation in progress", cloud-semantics
 * §2.6), so one call is never retried by two layers; what it gives up on is no longer retryable,
 * so the apply engine does not start over either. With the SDK's retries switched off
 * (`clientOptions.retryOptions.maxRetries: 0`) this policy retries everything retryable.
 */
export function azureRetryPolicy(
  options: {
    readonly retry?: RetrySettings | undefined;
    readonly clientOptions?: { readonly retryOptions?: { readonly maxRetries?: number } } | undefined;
  } = {},
): RetryPolicy {
  const settings = options.retry ?? {};
  const sdkRetries = options.clientOptions?.retryOptions?.maxRetries !== 0;
  return retryPolicy({
    classify: classifyAzureError,
    retryAfterMs,
    ...(sdkRetries ? { handledBySdk: retriedBySdk } : {}),
    ...(settings.maxAttempts !== undefined ? { attempts: settings.maxAttempts } : {}),
    ...(settings.baseDelayMs !== undefined ? { baseDelayMs: settings.baseDelayMs } : {}),
    ...(settings.maxDelayMs !== undefined ? { maxDelayMs: settings.maxDelayMs } : {}),
  });
}
