import type { Command } from 'commander';
import type { Io } from '../io.js';
import { registerApply } from './apply.js';
import { registerCompile } from './compile.js';
import { registerDrift } from './drift.js';
import { registerExport } from './export.js';
import { registerForceUnlock } from './force-unlock.js';
import { registerPlan } from './plan.js';
import { registerRender } from './render.js';
import { registerValidate } from './validate.js';

/**
 * A command module: adds itself to the program. Its action calls `setExit` with the exit code
 * (0, or 2 for changes/drift) and throws the classes of `errors.ts` for everything else.
 */
export interface CommandContext {
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
  registerDrift,
  registerExport,
  registerForceUnlock,
];
