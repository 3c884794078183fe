/**
 * The CLI program (commander, the global flags, the lazy command registry, errors → exit codes),
 * imported by main.ts's `run` on its first call: `bulkhead --version` prints the version without
 * loading it (issue 11.0, start-up).
 */
import { Command, CommanderError, Option } from 'commander';
import { registerCommands, versionOnly } from './index.js';
import { userMessage } from '../diagnostics.js';
import { attachWarningOptions, formatDiagnostics } from './output.js';
import { EXIT, InternalError, ProviderError, UsageError, ValidationError } from '../errors.js';
import { createStyle, type Io } from '../io.js';
import { collect } from './options.js';
import { suggest } from '../plan/suggest.js';
import { loadRegistry } from './process-warnings.js';
import { VERSION } from '../version.js';

/** The flags every command takes, given before or after the command name. */
interface GlobalFlags {
  color: boolean;
  warn: string[];
  compactWarnings?: boolean;
}

/**
 * A Command whose unknown-option error suggests the closest option for single-dash long options
 * too (`-detailed-exitcode`, the Terraform spelling), where commander only suggests for `--`.
 */
class BulkheadCommand extends Command {
  override createCommand(name?: string): Command {
    return new BulkheadCommand(name);
  }

  /** Replaces commander's (internal) handler; same message shape and error code. */
  unknownOption(flag: string): never {
    const candidates: string[] = [];
    for (let c: Command | null = this; c; c = c.parent) {
      for (const o of c.options) if (o.long && !o.hidden) candidates.push(o.long);
    }
    const asLong = flag.startsWith('--') ? flag : `-${flag}`;
    const name = asLong.split('=')[0]!;
    const best = name.length > 3 ? suggest(name, candidates) : undefined;
    this.error(`error: unknown option '${flag}'${best ? ` (did you mean ${best}?)` : ''}`, {
      code: 'commander.unknownOption',
    });
  }
}

/**
 * Runs the command line and returns the exit code. The ONLY place errors become exit codes;
 * a user never sees a stack trace, a bug is reported as one with a request to report it.
 *
 * Global flags (`--no-color`, `--no-warn RULE`, `--compact-warnings`) are program options: they
 * are accepted before or after any command name and reach every command through `ctx.io`
 * (color off through its env's NO_COLOR, the warning options through `formatDiagnostics`).
 */
export async function run(argv: readonly string[], io: Io): Promise<number> {
  let exitCode: number = EXIT.ok;
  const targets = versionOnly(argv) ? undefined : await loadRegistry();
  const program = new BulkheadCommand('bulkhead')
    .description(
      `Network microsegmentation across clouds: plan, apply and check one segment model on ${targets?.providerLabels() ?? 'every cloud'}.`,
    )
    .version(VERSION, '-V, --version')
    .addOption(new Option('--no-color', 'no ANSI colors (every command; also NO_COLOR=1)'))
    .addOption(
      new Option(
        '--no-warn <rule>',
        'do not print warnings of this rule id, e.g. fqdn-bad-address (repeatable, or comma-separated)',
      )
        .argParser(collect)
        .default([], 'none'),
    )
    .option('--compact-warnings', 'print each warning on one line, without its related places')
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });
  const ctx: { io: Io; setExit(code: number): void } = { io, setExit: (code: number) => (exitCode = code) };
  await registerCommands(program, ctx, argv);
  for (const command of program.commands) command.exitOverride();
  // The global flags are parsed before any action runs: swap in the Io that carries them.
  program.hook('preAction', () => {
    ctx.io = withGlobalFlags(io, program.opts<GlobalFlags>());
  });

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (err) {
    return reportError(err, ctx.io);
  }
}

/** The Io commands see: NO_COLOR set for `--no-color`, warning options attached. */
function withGlobalFlags(io: Io, flags: GlobalFlags): Io {
  const derived: Io = { ...io, env: flags.color ? io.env : { ...io.env, NO_COLOR: '1' } };
  return attachWarningOptions(derived, { silenced: new Set(flags.warn), compact: flags.compactWarnings === true });
}

/** An error as the user sees it on stderr, and its exit code (the executable's unhandled rejections too). */
export function reportError(err: unknown, io: Io): number {
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
    io.stderr.write(`${style.red('Error')}: ${userMessage(err.message)}\n`);
    return err.exitCode;
  }
  const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
  io.stderr.write(
    `${style.red('Internal error')}: ${err instanceof InternalError ? err.message : 'an unexpected failure'}.\n` +
      `This is a bug in Bulkhead; please report it with the details below.\n${style.dim(detail)}\n`,
  );
  return EXIT.internal;
}
