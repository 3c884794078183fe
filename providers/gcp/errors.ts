import { ProviderError } from '../../src/errors.js';
import { retryPolicy, type RetryPolicy } from '../kit/retry.js';

/**
 * Classifies what the Compute REST client throws. In REST mode a non-2xx reply is a GaxiosError
 * whose `status`/`code` is the HTTP status and whose `message` is the raw JSON error body
 * (cloud-semantics §3.5), so the reason (`alreadyExists`, `rateLimitExceeded` …) is parsed out of it.
 */

/** HTTP statuses and reasons worth retrying with backoff (the SDK does not retry them on REST). */
const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);
const RETRYABLE_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded', 'resourceNotReady', 'backendError']);

/** The HTTP status and GCP reason of an SDK error, as far as they can be told. */
export function errorDetails(err: unknown): {
  status: number | undefined;
  reason: string | undefined;
  message: string;
} {
  const e = err as { status?: unknown; code?: unknown; message?: unknown; response?: { status?: unknown } };
  const statusRaw =
    typeof e?.status === 'number' ? e.status : typeof e?.response?.status === 'number' ? e.response.status : e?.code;
  const status = typeof statusRaw === 'number' && statusRaw >= 100 ? statusRaw : undefined;
  const text = typeof e?.message === 'string' ? e.message : String(err);
  let reason: string | undefined;
  let message = text;
  try {
    const body = JSON.parse(text) as { error?: { message?: string; errors?: { reason?: string; message?: string }[] } };
    reason = body.error?.errors?.[0]?.reason;
    message = body.error?.message ?? body.error?.errors?.[0]?.message ?? text;
  } catch {
    const m = /"reason":\s*"([^"]+)"/.exec(text);
    reason = m?.[1];
  }
  return { status, reason, message };
}

/** Messages of google-auth-library that mean "no usable credentials", not a failed API call. */
const CREDENTIAL_FAILURE =
  /Could not load the default credentials|Could not refresh access token|invalid_grant|reauth|GOOGLE_APPLICATION_CREDENTIALS|application_default_credentials|Unable to detect a Project Id/i;

/**
 * The one-line error for a target without Google Cloud credentials (the SDK's own message and
 * trace stay in `cause`, never printed).
 */
export function credentialsError(target: string | undefined, cause: unknown): ProviderError {
  return new ProviderError(
    `${target ? `target ${target}: ` : 'gcp: '}no Google Cloud credentials (tried GOOGLE_APPLICATION_CREDENTIALS, gcloud application-default credentials, the metadata server): ` +
      `run 'gcloud auth application-default login', or plan offline with --snapshots DIR`,
    'credentials',
    false,
    { cause },
  );
}

/** A ProviderError for a failed call; `what` says which call on which object. */
export function classifyGcpError(err: unknown, what: string): ProviderError {
  if (err instanceof ProviderError) return err;
  // A token that cannot be obtained or refreshed mid-run: the same advice as a missing login.
  const text = err instanceof Error ? err.message : String(err);
  if (errorDetails(err).status === undefined && CREDENTIAL_FAILURE.test(text)) return credentialsError(undefined, err);
  const { status, reason, message } = errorDetails(err);
  const retryable =
    (status !== undefined && RETRYABLE_STATUS.has(status)) || (reason !== undefined && RETRYABLE_REASONS.has(reason));
  const code = reason ?? (status !== undefined ? String(status) : undefined);
  let hint = '';
  if (reason === 'alreadyExists') {
    hint =
      ' (an object with this name or priority exists but is not owned by the model: delete or rename it, or adopt it by adding the ownership marker to its description, then plan again)';
  } else if (status === 403 && reason !== 'rateLimitExceeded') {
    hint = ' (permission denied: the credentials need roles/compute.securityAdmin on the project)';
  }
  return new ProviderError(
    `gcp: ${what} failed: ${status ?? ''} ${reason ?? ''}: ${message}${hint}`.replace(/\s+/g, ' ').trim(),
    code,
    retryable,
    { cause: err },
  );
}

/** A ProviderError for an operation that finished DONE with an `error`. */
export function operationError(
  what: string,
  op: { error?: { errors?: { code?: string | null; message?: string | null }[] | null } | null },
): ProviderError {
  const errors = op.error?.errors ?? [];
  const first = errors[0];
  const text = errors.map((e) => `${e.code ?? 'ERROR'}: ${e.message ?? ''}`).join('; ');
  return new ProviderError(
    `gcp: ${what} failed: the operation finished with ${text}`,
    first?.code ?? 'operationError',
    false,
  );
}

/** Retry settings of a GCP provider (tests shorten them). */
export interface RetryOptions {
  /** Calls in all, first included (default: the kit's 6). */
  readonly attempts?: number;
  /** First backoff in ms (default: the kit's 500), doubled per retry. */
  readonly baseMs?: number;
  /** Cap of one backoff in ms (default: the kit's 30 s). */
  readonly maxMs?: number;
}

/**
 * GCP's retry policy: the kit's (providers/kit/retry.ts) with this file's classifier. The only
 * retrying layer of a Compute call: the SDK does not retry on REST (cloud-semantics §3.5), and
 * what the policy gives up on is no longer retryable, so the apply engine does not start over.
 * Writes pass the same requestId on every attempt, so a retry after a lost answer applies once.
 */
export function gcpRetryPolicy(settings: RetryOptions = {}): RetryPolicy {
  return retryPolicy({
    classify: classifyGcpError,
    ...(settings.attempts !== undefined ? { attempts: settings.attempts } : {}),
    ...(settings.baseMs !== undefined ? { baseDelayMs: settings.baseMs } : {}),
    ...(settings.maxMs !== undefined ? { maxDelayMs: settings.maxMs } : {}),
  });
}
