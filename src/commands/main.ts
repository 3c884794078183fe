#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EXIT } from '../errors.js';
import { processIo, type Io } from '../io.js';
import { VERSION } from '../version.js';
import { versionOnly } from './index.js';
import { installProcessWarningFilter } from './process-warnings.js';

export {
  installProcessWarningFilter,
  isSilencedProcessWarning,
  loadRegistry,
  silencedProcessWarnings,
} from './process-warnings.js';

/**
 * The `bulkhead` executable and the library's `run`. This module stays small: the program
 * (commander, the command registry, the error reporting: program.ts) is imported on the first
 * `run`, so `bulkhead --version`, which the executable answers itself, loads none of it
 * (issue 11.0, start-up: about a quarter of its CPU time).
 */

/**
 * Runs the command line and returns the exit code (program.ts): the ONLY place errors become exit
 * codes; a user never sees a stack trace, a bug is reported as one with a request to report it.
 */
export async function run(argv: readonly string[], io: Io): Promise<number> {
  return (await import('./program.js')).run(argv, io);
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
  installProcessWarningFilter();
  const io = processIo();
  // A provider's promise that rejects after the command ended (an SDK retry, a second target's
  // credential failure) is reported like any other error, not as Node's raw trace.
  process.on('unhandledRejection', (reason: unknown) => {
    void import('./program.js').then(({ reportError }) => {
      const code = reportError(reason, io);
      if (process.exitCode === undefined || process.exitCode === 0) process.exitCode = code;
    });
  });
  const argv = process.argv.slice(2);
  // What commander prints for it, without loading commander (or anything else).
  if (versionOnly(argv)) {
    io.stdout.write(`${VERSION}\n`);
    process.exitCode = EXIT.ok;
  } else
    run(argv, io).then(
      (code) => {
        process.exitCode = code;
      },
      (err: unknown) => {
        process.stderr.write(`Internal error: ${String(err)}\n`);
        process.exitCode = EXIT.internal;
      },
    );
}
