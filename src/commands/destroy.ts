import type { Command } from 'commander';
import { getProvider } from '../../providers/index.js';
import { formatDiagnostics } from './output.js';
import type { RuleSet } from '../compile/types.js';
import { hasErrors } from '../diagnostics.js';
import { EXIT, UsageError, ValidationError } from '../errors.js';
import { createStyle } from '../io.js';
import { allDiagnostics, createPlan } from '../plan/create-plan.js';
import { collect, loadRules, parseCount, resolverFor, stateSourceFor } from './engine-context.js';
import { formatPlanText } from '../plan/format-text.js';
import { checkMaxDestroy, confirm, runApproved } from './apply.js';
import { addLockOptions, type LockFlags } from './lock-options.js';
import type { CommandContext, RegisterCommand } from './index.js';

interface DestroyFlags extends LockFlags {
  autoApprove?: boolean;
  parallelism: number;
  maxDestroy?: number;
  target?: string[];
  color: boolean;
}

/**
 * The model with nothing in it: same name (so the same ownership marker) and targets, no
 * segments, rules or denies. Planned against the targets, it deletes exactly what the model owns:
 * providers read only owned objects into a plan, so unowned ones never enter it.
 */
export function retiredRules(rules: RuleSet): RuleSet {
  return { ...rules, segments: [], rules: [], denies: [] };
}

/** `bulkhead destroy [MODEL] [--target NAME…]`: retires a model, deleting every object it owns and nothing else. */
export const registerDestroy: RegisterCommand = (program: Command, ctx: CommandContext) => {
  const command = program
    .command('destroy')
    .description('delete every object the model owns in its targets (nothing else), after confirmation')
    .argument('[file]', 'model file (default: bulkhead.yaml)')
    .option('--auto-approve', 'skip the confirmation prompt (required when stdin is not a terminal)')
    .option('--parallelism <n>', 'steps run at once across all targets', parseCount('--parallelism'), 10)
    .option(
      '--max-destroy <n>',
      'refuse when more than N objects would be destroyed (deleted objects + removed rules)',
      parseCount('--max-destroy'),
    )
    .option('--target <name>', 'destroy only in this target (repeatable, or comma-separated)', collect)
    .option('--no-color', 'no ANSI colors');
  addLockOptions(command).action(async (file: string | undefined, flags: DestroyFlags) => {
    const { io } = ctx;
    const style = createStyle(io.stdoutIsTTY && flags.color, io.env);
    if (flags.parallelism < 1) throw new UsageError('--parallelism must be at least 1');
    const model = await loadRules(file, io);
    const rules = retiredRules(model);
    const source = stateSourceFor(undefined, io);
    io.stderr.write(`Planning the removal of everything model ${model.model.name} owns…\n`);
    const plan = await createPlan(rules, {
      providers: getProvider,
      source,
      resolver: resolverFor(undefined, io),
      ...(flags.target ? { targets: flags.target } : {}),
    });
    const diagnostics = allDiagnostics(plan);
    if (hasErrors(diagnostics)) throw new ValidationError(diagnostics, 'cannot plan the destroy');
    if (diagnostics.length > 0) io.stderr.write(formatDiagnostics(diagnostics, io));
    if (plan.targets.every((t) => t.changes.length === 0)) {
      io.stdout.write(
        `Nothing to destroy: model ${model.model.name} owns no objects in ${plan.targets.length === 0 ? 'any available target' : plan.targets.map((t) => t.target).join(', ')}.\n`,
      );
      ctx.setExit(EXIT.ok);
      return;
    }
    io.stdout.write(formatPlanText(plan, style));
    checkMaxDestroy(plan, flags.maxDestroy);
    if (!(await confirm(io, flags.autoApprove, 'destroy'))) {
      io.stderr.write('Destroy cancelled. Nothing was changed.\n');
      ctx.setExit(EXIT.error);
      return;
    }
    const { exit } = await runApproved(plan, rules, {
      io,
      source,
      parallelism: flags.parallelism,
      ...(flags.maxDestroy !== undefined ? { maxDestroy: flags.maxDestroy } : {}),
      style,
      verb: 'Destroy',
      lock: flags,
    });
    ctx.setExit(exit);
  });
};
