import type { Command } from 'commander';
import { InternalError } from '../errors.js';
import type { Io } from '../io.js';

/**
 * A command module: adds itself to the program. Its action calls `setExit` with the exit code
 * (0, or 2 for changes/drift) and throws the classes of `errors.ts` for everything else.
 */
export interface CommandContext {
  /**
   * The Io of this run, carrying the global flags (`--no-color` as NO_COLOR in `env`, `--no-warn`
   * and `--compact-warnings` for `formatDiagnostics`). `run` sets it once the flags are parsed:
   * read it inside the action, not when registering.
   */
  readonly io: Io;
  setExit(code: number): void;
}

/** Registers one command on the program. */
export type RegisterCommand = (program: Command, ctx: CommandContext) => void;

/**
 * A command whose module is imported only when the command line names it (issue 11.0: start-up).
 * Every command module pulls in the compiler, the providers or the plan engine; `--version`,
 * `--help` and `validate` loading all of them cost ~0.2 s of module loading per process. So the
 * program is given, for the commands not run, only what `bulkhead --help` lists of them (name,
 * arguments, summary), and the real registration of the one command that runs.
 * test/cli-startup.test.ts checks that the lazy `--help` is the eager one, byte for byte, and
 * that `--version` loads no command module.
 */
export interface LazyCommand {
  readonly name: string;
  /** The arguments as `--help` lists them (`[file]`, `<target> [file]`). */
  readonly args: readonly string[];
  /** The summary `--help` lists (the command's `summary`, else its `description`). */
  readonly summary: string;
  /** Imports the module and returns its registrar. */
  readonly load: () => Promise<RegisterCommand>;
}

/**
 * Every command, in the order `--help` lists them. A new command is one entry: a LazyCommand,
 * or a plain RegisterCommand (loaded with the CLI: fine for a light module).
 */
export const COMMANDS: readonly (LazyCommand | RegisterCommand)[] = [
  {
    name: 'validate',
    args: ['[files...]'],
    summary: 'check segment models and report every problem at once',
    load: async () => (await import('./validate.js')).registerValidate,
  },
  {
    name: 'compile',
    args: ['[file]'],
    summary: 'print the provider-neutral rules a model compiles to',
    load: async () => (await import('./compile.js')).registerCompile,
  },
  {
    name: 'render',
    args: ['[file]'],
    summary: "print the objects a target should have, in its cloud CLI's JSON shape",
    load: async () => (await import('./render.js')).registerRender,
  },
  {
    name: 'plan',
    args: ['[file]'],
    summary: 'show the changes that would make the targets match the model',
    load: async () => (await import('./plan.js')).registerPlan,
  },
  {
    name: 'apply',
    args: ['[file]'],
    summary: 'make the targets match the model (a model file is planned first; a saved plan is re-checked)',
    load: async () => (await import('./apply.js')).registerApply,
  },
  {
    name: 'show',
    args: ['<plan>'],
    summary: 'print a saved plan (from `plan --out`) without applying it',
    load: async () => (await import('./show.js')).registerShow,
  },
  {
    name: 'destroy',
    args: ['[file]'],
    summary: 'delete every object the model owns in its targets (nothing else), after confirmation',
    load: async () => (await import('./destroy.js')).registerDestroy,
  },
  {
    name: 'drift',
    args: ['[file]'],
    summary: 'report where the targets differ from the model (exit 2 on drift, 0 when none)',
    load: async () => (await import('./drift.js')).registerDrift,
  },
  {
    name: 'explain',
    args: ['<from>', '<to>', '[file]'],
    summary: 'explain whether FROM can reach TO on a port, in the model and on each target (effective state)',
    load: async () => (await import('./explain.js')).registerExplain,
  },
  {
    name: 'export',
    args: ['[file]'],
    summary: "write targets' live state as cloud CLI JSON (DIR/<target>/…), for `plan --snapshots DIR`",
    load: async () => (await import('./export.js')).registerExport,
  },
  {
    name: 'graph',
    args: ['[file]'],
    summary: 'draw the model: segments, tiers, flows and guardrails',
    load: async () => (await import('./graph.js')).registerGraph,
  },
  {
    name: 'discover',
    args: [],
    summary: 'propose a segment model from flow logs and an inventory (a proposal to review in a pull request)',
    load: async () => (await import('./discover.js')).registerDiscover,
  },
  {
    name: 'audit',
    args: ['[file]'],
    summary:
      'replay observed flows against a model: what it would deny, which rules nothing used (exit 2 when something would be denied)',
    load: async () => (await import('./audit.js')).registerAudit,
  },
  {
    name: 'force-unlock',
    args: ['<target>', '[file]'],
    summary: "remove a target's lock left by a killed apply or destroy (only the model's own lock object)",
    load: async () => (await import('./force-unlock.js')).registerForceUnlock,
  },
];

/** Global options that take a value (`--no-warn RULE`): their value is not a command name. */
const GLOBAL_OPTIONS_WITH_VALUE: ReadonlySet<string> = new Set(['--no-warn']);

/**
 * The command a command line runs: the first word that is not an option (or an option's value),
 * and for `help <command>` the command asked about. Undefined for `--version`, `--help`, none.
 */
export function commandNameOf(argv: readonly string[]): string | undefined {
  const words: string[] = [];
  for (let i = 0; i < argv.length && words.length < 2; i++) {
    const a = argv[i]!;
    if (a === '--') {
      if (argv[i + 1] !== undefined && words.length === 0) words.push(argv[i + 1]!);
      break;
    }
    if (a.startsWith('-')) {
      if (words.length === 0 && GLOBAL_OPTIONS_WITH_VALUE.has(a)) i++;
      continue;
    }
    words.push(a);
  }
  return words[0] === 'help' ? words[1] : words[0];
}

/**
 * Adds every command to the program: the one `argv` runs (or asks help for) with its module, the
 * others as the names and summaries `--help` lists (`loadAll`: every module, as before the lazy
 * registry; the tests compare the two).
 */
export async function registerCommands(
  program: Command,
  ctx: CommandContext,
  argv: readonly string[],
  options: { readonly loadAll?: boolean } = {},
): Promise<void> {
  const wanted = commandNameOf(argv);
  for (const c of COMMANDS) {
    if (typeof c === 'function') {
      c(program, ctx);
    } else if (options.loadAll || c.name === wanted) {
      (await c.load())(program, ctx);
    } else {
      const stub = program.command(c.name).summary(c.summary);
      for (const a of c.args) stub.argument(a);
      // Every command has options; one hidden one makes `--help` print `[options]` as for the real one.
      stub.option('--lazy-stub', 'never parsed: the real command replaces this stub when it runs');
      stub.options.at(-1)!.hidden = true;
      stub.action(() => {
        throw new InternalError(`command ${c.name} ran without its module (commandNameOf missed it)`);
      });
    }
  }
}

/** `bulkhead --version` (or `-V`) and nothing else: the one command line that needs no registry. */
export function versionOnly(argv: readonly string[]): boolean {
  return argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V');
}
