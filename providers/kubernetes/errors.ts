import { ProviderError } from '../../src/errors.js';

/**
 * Classifies what `@kubernetes/client-node` throws. A non-2xx reply is an `ApiException` whose
 * `code` is the HTTP status and whose `body` is the server's `Status` object (as text or parsed);
 * a transport failure is a fetch error with a system `code` (ECONNREFUSED …) somewhere in its causes.
 */

/** The server's `Status` fields that matter for a message. */
export interface StatusInfo {
  readonly code: number | undefined;
  readonly reason: string | undefined;
  readonly message: string;
}

/** The HTTP status and the `Status` body of an error, as far as they can be told. */
export function statusOf(err: unknown): StatusInfo {
  const e = err as { code?: unknown; body?: unknown; message?: unknown };
  const code = typeof e?.code === 'number' ? e.code : undefined;
  let body = e?.body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      // A proxy's HTML page or plain text: keep it as the message.
    }
  }
  const status = body && typeof body === 'object' ? (body as { reason?: unknown; message?: unknown }) : undefined;
  const reason = typeof status?.reason === 'string' && status.reason !== '' ? status.reason : undefined;
  const message =
    typeof status?.message === 'string' && status.message !== ''
      ? status.message
      : typeof body === 'string' && body !== ''
        ? body
        : code !== undefined
          ? `HTTP ${code}`
          : e instanceof Error
            ? e.message
            : String(err);
  return { code, reason, message };
}

/** The system error code of a transport failure (ECONNREFUSED, ENOTFOUND …), searched through causes. */
function systemCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const c = (e as { code?: unknown }).code;
    if (typeof c === 'string' && /^E[A-Z]+$/.test(c)) return c;
    const errno = (e as { errno?: unknown }).errno;
    if (typeof errno === 'string' && /^E[A-Z]+$/.test(errno)) return errno;
  }
  return undefined;
}

/** HTTP statuses worth retrying: throttling and the API server's transient failures. */
const RETRYABLE = new Set([429, 500, 502, 503, 504]);

/** A ProviderError for a failed call; `what` says which call on which object (`replace networkpolicy shop/shop-web`). */
export function classifyKubernetesError(err: unknown, what: string, target: string): ProviderError {
  if (err instanceof ProviderError) return err;
  const sys = systemCode(err);
  const { code, reason, message } = statusOf(err);
  if (code === undefined && sys) {
    return new ProviderError(
      `target ${target}: ${what} failed: the API server cannot be reached (${sys}): check the kubeconfig's server and that the cluster is up`,
      'unreachable',
      sys === 'ECONNRESET' || sys === 'ETIMEDOUT',
      { cause: err },
    );
  }
  let hint = '';
  let kind: string | undefined = reason;
  if (code === 409 && reason === 'Conflict') {
    hint =
      ': someone changed the object since this plan read it; nothing was overwritten. Plan again (or re-run apply) to see the change and converge';
    kind = 'conflict';
  } else if (code === 409 && reason === 'AlreadyExists') {
    hint =
      ": an object of that name exists but does not carry the model's labels (app.kubernetes.io/managed-by=bulkhead, bulkhead.io/model): Bulkhead never changes it. Rename or delete it, or adopt it by adding the labels, then plan again";
  } else if (code === 401) {
    hint = ': the API server did not accept the credentials of the kubeconfig (expired token?): log in again';
    kind = 'credentials';
  } else if (code === 403) {
    hint =
      ': permission denied: the kubeconfig user needs get/list/create/update/delete on networkpolicies (and the CRDs the target uses)';
  } else if (code === 404 && /could not find the requested resource/.test(message)) {
    hint = ': the cluster does not serve this resource (is the CRD installed?)';
  }
  return new ProviderError(
    `target ${target}: ${what} failed: ${code ?? ''} ${message}${hint}`.replace(/\s+/g, ' ').trim(),
    kind ?? (code !== undefined ? String(code) : undefined),
    code !== undefined && RETRYABLE.has(code),
    { cause: err },
  );
}

/** The one-line error for a target without a usable kubeconfig (the library's message stays in `cause`). */
export function kubeconfigError(target: string, detail: string, cause?: unknown): ProviderError {
  return new ProviderError(
    `target ${target}: no usable kubeconfig (${detail}): set KUBECONFIG or write ~/.kube/config (kubectl config view shows what it has), or plan offline with --snapshots DIR`,
    'credentials',
    false,
    cause === undefined ? undefined : { cause },
  );
}
