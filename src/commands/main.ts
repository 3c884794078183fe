#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { registerCommands } from './index.js';
import { userMessage } from '../diagnostics.js';
import { attachWarningOptions, formatDiagnostics } from './output.js';
import { EXIT, InternalError, ProviderError, UsageError, ValidationError } from '../errors.js';
import { createStyle, processIo, type Io } from '../io.js';
import { collect } from './options.js';
import { suggest } from '../plan/suggest.js';
import type * as Targets from '../targets.js';
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

/**
 * Process warnings the cloud SDKs emit on every live command that are not for Bulkhead's users,
 * as each provider names them (TargetDescriptor.silencedProcessWarnings: an SDK's notice that it
 * will need a newer Node, a credential library probing a metadata server). The README states the
 * Node support policy.
 */
export function silencedProcessWarnings(): readonly string[] {
  // No SDK is loaded before a command's action, and `run` loads the registry before any action.
  return registry?.targetDescriptors().flatMap((d) => d.silencedProcessWarnings ?? []) ?? [];
}

/**
 * The target descriptors (src/targets.ts), loaded by `run` for everything but `--version`: they
 * import each provider's target.ts and its helpers (~15 modules), which `bulkhead --version` has
 * no use for (issue 11.0: start-up). Exported for tests of the process-warning filter.
 */
export async function loadRegistry(): Promise<typeof Targets> {
  return (registry ??= await import('../targets.js'));
}
let registry: typeof Targets | undefined;

/** `bulkhead --version` (or `-V`) and nothing else: the one command line that needs no registry. */
function versionOnly(argv: readonly string[]): boolean {
  return argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V');
}

/** True when a `process.emitWarning(warning, typeOrOptions, code)` call is one of the SDK notices above. */
export function isSilencedProcessWarning(warning: unknown, typeOrOptions?: unknown, code?: unknown): boolean {
  const names: unknown[] = [code];
  if (warning instanceof Error) names.push(warning.name, (warning as { code?: unknown }).code);
  if (typeof typeOrOptions === 'string') names.push(typeOrOptions);
  else if (typeOrOptions !== null && typeof typeOrOptions === 'object') {
    const o = typeOrOptions as { type?: unknown; code?: unknown };
    names.push(o.type, o.code);
  }
  const message = warning instanceof Error ? warning.message : String(warning);
  return silencedProcessWarnings().some((n) => names.includes(n) || message.startsWith(n));
}

/**
 * Drops the SDK notices from `process.emitWarning`; every other process warning still reaches
 * Node's own handler and prints as usual. Installed by the `bulkhead` executable only.
 */
export function installProcessWarningFilter(): void {
  const original = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  const filtered = (...args: unknown[]): void => {
    if (registry === undefined) {
      // The names come from the registry, which `--version` does not load: decide once it is.
      void loadRegistry().then(
        () => filtered(...args),
        () => original(...args),
      );
      return;
    }
    if (isSilencedProcessWarning(args[0], args[1], args[2])) return;
    original(...args);
  };
  process.emitWarning = filtered as typeof process.emitWarning;
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
    const code = reportError(reason, io);
    if (process.exitCode === undefined || process.exitCode === 0) process.exitCode = code;
  });
  run(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`Internal error: ${String(err)}\n`);
      process.exitCode = EXIT.internal;
    },
  );
}
