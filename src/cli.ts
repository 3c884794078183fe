#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { COMMANDS } from './commands/index.js';
import { formatPos, sortDiagnostics, type Diagnostic } from './diagnostics.js';
import { EXIT, InternalError, ProviderError, UsageError, ValidationError } from './errors.js';
import { createStyle, processIo, type Io } from './io.js';
import { VERSION } from './version.js';

/** Formats diagnostics as `file:line:column: severity: message`, one per line, related places indented. */
export function formatDiagnostics(diagnostics: readonly Diagnostic[], io: Io): string {
  const style = createStyle(io.stderrIsTTY, io.env);
  return sortDiagnostics(diagnostics)
    .map((d) => {
      const where = d.pos ? `${style.bold(formatPos(d.pos))}: ` : '';
      const sev = d.severity === 'error' ? style.red('error') : style.yellow('warning');
      const related = (d.related ?? []).map((r) => `\n  ${formatPos(r.pos)}: ${r.message}`).join('');
      return `${where}${sev}: ${d.message} [${d.code}]${related}\n`;
    })
    .join('');
}

/**
 * Runs the command line and returns the exit code. The ONLY place errors become exit codes;
 * a user never sees a stack trace, a bug is reported as one with a request to report it.
 */
export async function run(argv: readonly string[], io: Io): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = new Command('bulkhead')
    .description('Network microsegmentation across clouds: plan, apply and check one segment model on AWS, Azure and GCP.')
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });
  const ctx = { io, setExit: (code: number) => (exitCode = code) };
  for (const register of COMMANDS) register(program, ctx);
  for (const command of program.commands) command.exitOverride();

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (err) {
    return reportError(err, io);
  }
}

function reportError(err: unknown, io: Io): number {
  const style = createStyle(io.stderrIsTTY, io.env);
  if (err instanceof CommanderError) {
    // --help and --version "fail" with exit code 0; commander has already printed the message.
    return err.exitCode === 0 ? EXIT.ok : EXIT.error;
  }
  if (err instanceof ValidationError) {
    io.stderr.write(formatDiagnostics(err.diagnostics, io));
    const n = err.diagnostics.filter((d) => d.severity === 'error').length;
    io.stderr.write(`${style.red('Error')}: ${err.message} (${n} error${n === 1 ? '' : 's'})\n`);
    return err.exitCode;
  }
  if (err instanceof UsageError || err instanceof ProviderError) {
    io.stderr.write(`${style.red('Error')}: ${err.message}\n`);
    return err.exitCode;
  }
  const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
  io.stderr.write(
    `${style.red('Internal error')}: ${err instanceof InternalError ? err.message : 'an unexpected failure'}.\n` +
      `This is a bug in Bulkhead; please report it with the details below.\n${style.dim(detail)}\n`,
  );
  return EXIT.internal;
}

function isMain(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isMain()) {
  run(process.argv.slice(2), processIo()).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`Internal error: ${String(err)}\n`);
      process.exitCode = EXIT.internal;
    },
  );
}
