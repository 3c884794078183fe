import type { Diagnostic } from './diagnostics.js';

/**
 * The few error classes Bulkhead throws, each with its exit code. Only `commands/main.ts` catches them and
 * calls `process.exit`. User mistakes travel as diagnostics; these carry them to the exit point.
 *
 * Exit codes: 0 success (and no changes with --detailed-exitcode), 1 error, 2 changes or drift
 * present (plan --detailed-exitcode, drift), 70 internal error (a bug: please report it), 130
 * interrupted (Ctrl-C during an apply or destroy: 128 + SIGINT, as shells report it).
 */
export const EXIT = { ok: 0, error: 1, changes: 2, internal: 70, interrupted: 130 } as const;

/** The command line was wrong: unknown flag, missing file, conflicting options. */
export class UsageError extends Error {
  readonly exitCode = EXIT.error;
  override readonly name = 'UsageError';
}

/** The model (or a plan file) is invalid; `diagnostics` says every reason, with positions. */
export class ValidationError extends Error {
  readonly exitCode = EXIT.error;
  override readonly name = 'ValidationError';
  readonly diagnostics: readonly Diagnostic[];
  constructor(diagnostics: readonly Diagnostic[], message = 'the model is not valid') {
    super(message);
    this.diagnostics = diagnostics;
  }
}

/** A cloud (or snapshot) read or write failed in a way the user must act on. */
export class ProviderError extends Error {
  readonly exitCode = EXIT.error;
  override readonly name = 'ProviderError';
  /** Provider-specific error code (`DependencyViolation`, `SecurityRuleConflict`, `alreadyExists` …). */
  readonly code: string | undefined;
  /** True when retrying the same call may succeed (throttling, a busy resource). */
  readonly retryable: boolean;
  constructor(message: string, code?: string, retryable = false, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.retryable = retryable;
  }
}

/** A broken invariant inside Bulkhead: a bug, reported with a request to file an issue. */
export class InternalError extends Error {
  readonly exitCode = EXIT.internal;
  override readonly name = 'InternalError';
}

/** Exhaustiveness check for `switch` over tagged unions. */
export function assertNever(value: never): never {
  throw new InternalError(`unexpected value: ${JSON.stringify(value)}`);
}
