import type { Command } from 'commander';
import type { Io } from '../io.js';
import { registerApply } from './apply.js';
import { registerAudit } from './audit.js';
import { registerCompile } from './compile.js';
import { registerDestroy } from './destroy.js';
import { registerDiscover } from './discover.js';
import { registerDrift } from './drift.js';
import { registerExplain } from './explain.js';
import { registerExport } from './export.js';
import { registerForceUnlock } from './force-unlock.js';
import { registerGraph } from './graph.js';
import { registerPlan } from './plan.js';
import { registerRender } from './render.js';
import { registerShow } from './show.js';
import { registerValidate } from './validate.js';

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

/** Every command, in the order `--help` lists them. */
export const COMMANDS: readonly RegisterCommand[] = [
  registerValidate,
  registerCompile,
  registerRender,
  registerPlan,
  registerApply,
  registerShow,
  registerDestroy,
  registerDrift,
  registerExplain,
  registerExport,
  registerGraph,
  registerDiscover,
  registerAudit,
  registerForceUnlock,
];
