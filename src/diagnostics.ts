/**
 * Diagnostics: how Bulkhead reports a user's mistakes. Validators, the compiler, providers and the
 * engine return them (never throw them); only `commands/main.ts` turns them into output and an exit code.
 */

/** A position in a model file: 1-based line and column, as editors show them. */
export interface SourcePos {
  /** Path of the file, relative to the working directory when it is inside it. */
  readonly file: string;
  /** 1-based line. */
  readonly line: number;
  /** 1-based column. */
  readonly column: number;
}

/** Where a piece of the compiled output came from, with a short human label ("web -> app tcp/8080"). */
export interface SourceRef {
  readonly pos: SourcePos;
  readonly label: string;
}

/** How bad a diagnostic is: errors stop the run, warnings are printed and the run goes on. */
export type Severity = 'error' | 'warning';

/** One message for the user, with the position it is about when there is one. */
export interface Diagnostic {
  readonly severity: Severity;
  /** Stable rule name, e.g. `unknown-reference`, `aws-rules-per-group`; listed in the README. */
  readonly code: string;
  readonly message: string;
  readonly pos?: SourcePos;
  /** Other places the message is about (the guardrail a rule breaks, the first definition of a duplicate). */
  readonly related?: readonly { readonly message: string; readonly pos: SourcePos }[];
}

/** A value, or the errors that stopped it; warnings ride along in both cases. */
export type Result<T> =
  | { readonly ok: true; readonly value: T; readonly diagnostics: readonly Diagnostic[] }
  | { readonly ok: false; readonly value?: undefined; readonly diagnostics: readonly Diagnostic[] };

/** Builds an error diagnostic. */
export function error(code: string, message: string, pos?: SourcePos, related?: Diagnostic['related']): Diagnostic {
  return { severity: 'error', code, message, ...(pos ? { pos } : {}), ...(related ? { related } : {}) };
}

/** Builds a warning diagnostic. */
export function warning(code: string, message: string, pos?: SourcePos, related?: Diagnostic['related']): Diagnostic {
  return { severity: 'warning', code, message, ...(pos ? { pos } : {}), ...(related ? { related } : {}) };
}

/** True when any diagnostic is an error. */
export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** `file:line:column` of a position. */
export function formatPos(pos: SourcePos): string {
  return `${pos.file}:${pos.line}:${pos.column}`;
}

/** Sorts diagnostics by file, line, column, then message, so output is deterministic. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort((a, b) => {
    const fa = a.pos?.file ?? '',
      fb = b.pos?.file ?? '';
    if (fa !== fb) return fa < fb ? -1 : 1;
    const la = a.pos?.line ?? 0,
      lb = b.pos?.line ?? 0;
    if (la !== lb) return la - lb;
    const ca = a.pos?.column ?? 0,
      cb = b.pos?.column ?? 0;
    if (ca !== cb) return ca - cb;
    return a.message < b.message ? -1 : a.message > b.message ? 1 : 0;
  });
}

/** Hints SDKs append to their messages that mean nothing to a Bulkhead user. */
const SDK_NOISE: readonly RegExp[] = [
  // @smithy's deserialization failure: "… inspect the hidden field {error}.$response on this object."
  /\s*Deserialization error: to see the raw response, inspect the hidden field \{error\}\.\$response on this object\.?/g,
];

/**
 * An error message as a user should see it: on one line, without SDK-internal hints such as
 * `{error}.$response`. Used wherever a provider's or SDK's message is printed.
 */
export function userMessage(message: string): string {
  let text = message;
  for (const re of SDK_NOISE) text = text.replace(re, '');
  const line = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .join(' ');
  return line.replace(/[\s:]+$/, '') || 'unknown error';
}
