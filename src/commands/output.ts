import { formatPos, sortDiagnostics, type Diagnostic } from '../diagnostics.js';
import { createStyle, type Io } from '../io.js';

/**
 * How the CLI prints diagnostics, shared by the commands and main.ts (which turns the global flags
 * into the warning options). A module of its own so that neither imports the other.
 */

/** How warnings are printed: the program-level `--no-warn RULE` and `--compact-warnings` flags. */
export interface WarningOptions {
  /** Rule ids (diagnostic codes) whose warnings are not printed. Errors are never silenced. */
  readonly silenced: ReadonlySet<string>;
  /** One line per warning: no related places. */
  readonly compact: boolean;
}

/**
 * The warning options of an Io made by `run` from the global flags. Commands keep calling
 * `formatDiagnostics(diagnostics, io)` with the Io they were given and get the filtering for free.
 */
const warningOptions = new WeakMap<Io, WarningOptions>();

/** Attaches warning options to an Io (main.ts, from the global flags); returns the Io. */
export function attachWarningOptions(io: Io, options: WarningOptions): Io {
  warningOptions.set(io, options);
  return io;
}

/** The warning options `run` attached to `io` (none silenced, not compact for any other Io). */
export function warningOptionsOf(io: Io): WarningOptions {
  return warningOptions.get(io) ?? { silenced: new Set(), compact: false };
}

/** The diagnostics to print: every error, and the warnings not silenced by `--no-warn`. */
export function visibleDiagnostics(diagnostics: readonly Diagnostic[], io: Io): Diagnostic[] {
  const { silenced } = warningOptionsOf(io);
  return diagnostics.filter((d) => d.severity === 'error' || !silenced.has(d.code));
}

/**
 * Formats diagnostics as `file:line:column: severity: message [code]`, one per line, related places
 * indented. Honours the global flags of the Io: `--no-warn RULE` drops those warnings (never
 * errors), `--compact-warnings` prints each warning on one line, `--no-color` turns color off.
 */
export function formatDiagnostics(diagnostics: readonly Diagnostic[], io: Io): string {
  const style = createStyle(io.stderrIsTTY, io.env);
  const { compact } = warningOptionsOf(io);
  return sortDiagnostics(visibleDiagnostics(diagnostics, io))
    .map((d) => {
      const where = d.pos ? `${style.bold(formatPos(d.pos))}: ` : '';
      const sev = d.severity === 'error' ? style.red('error') : style.yellow('warning');
      const related =
        compact && d.severity === 'warning'
          ? ''
          : (d.related ?? []).map((r) => `\n  ${formatPos(r.pos)}: ${r.message}`).join('');
      return `${where}${sev}: ${d.message} [${d.code}]${related}\n`;
    })
    .join('');
}
