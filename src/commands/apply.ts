import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { getProvider } from '../../providers/index.js';
import { formatDiagnostics } from './output.js';
import { error, hasErrors } from '../diagnostics.js';
import { EXIT, UsageError, ValidationError } from '../errors.js';
import type { StateSource } from '../provider.js';
import type { TargetSpec } from '../compile/types.js';
import { createStyle, type Io, type Style } from '../io.js';
import { applyPlan, countDestroyed, describeDestroyed, plural, type ApplyReport } from '../apply/apply-plan.js';
import { formatApplyReport } from '../apply/format-report.js';
import { allDiagnostics, createPlan } from '../plan/create-plan.js';
import { collect, loadRules, parseCount, resolverFor, stateSourceFor } from './engine-context.js';
import { formatChange, formatPlanText } from '../plan/format-text.js';
import {
  checkStaleness,
  isSavedPlanText,
  parseSavedPlan,
  verifySavedPlan,
  type StaleTarget,
} from '../plan/saved-plan.js';
import type { RuleSet } from '../compile/types.js';
import type { Plan } from '../plan/types.js';
import type { CommandContext, RegisterCommand } from './index.js';
import { locksForPlan, withTargetLocks } from '../lock.js';
import { addLockOptions, lockOptionsFrom, type LockFlags } from './lock-options.js';

interface ApplyFlags extends LockFlags {
  autoApprove?: boolean;
  parallelism: number;
  maxDestroy?: number;
  target?: string[];
  allowUnresolved?: boolean;
  color: boolean;
}

/** What changed in stale targets, for stderr. */
export function describeStale(stale: readonly StaleTarget[], style: Style): string {
  const out: string[] = [];
  for (const s of stale) {
    if (s.outsideOnly) {
      out.push(
        `Target ${s.target}: objects outside the model changed (they can collide with what the plan creates).\n`,
      );
      continue;
    }
    out.push(`Target ${s.target}: ${plural(s.changes.length, 'owned object')} changed since the plan was made:\n`);
    // diff(now, prior): "create" = appeared since, "delete" = gone since, "update" = modified since.
    for (const c of s.changes)
      out.push(
        formatChange(c, style)
          .replace(/will be created/, 'appeared')
          .replace(/will be destroyed/, 'disappeared')
          .replace(/will be updated in-place/, 'was modified'),
      );
  }
  return out.join('');
}

/**
 * Asks for 'yes' unless --auto-approve; refuses without a TTY. Returns false when the user
 * declined, closed the input (Ctrl-D) or interrupted the prompt (Ctrl-C): a refusal, not an error.
 */
export async function confirm(io: Io, autoApprove: boolean | undefined, what: 'apply' | 'destroy'): Promise<boolean> {
  if (autoApprove) return true;
  if (!io.stdinIsTTY) {
    throw new UsageError(
      `refusing to ${what} without confirmation: stdin is not a terminal (pass --auto-approve in pipelines)`,
    );
  }
  const question =
    what === 'apply'
      ? '\nDo you want to perform these actions?\n  Bulkhead will perform the actions described above.\n'
      : '\nDo you really want to destroy every object this model owns?\n  Bulkhead will delete the objects described above; objects it does not own are not touched.\n';
  const answer = await io.prompt(`${question}  Only 'yes' will be accepted to approve.\n\n  Enter a value: `);
  return answer !== null && answer.trim() === 'yes';
}

/** Refuses, before any change, a plan that destroys more than `max` objects. */
export function checkMaxDestroy(plan: Plan, max: number | undefined): void {
  if (max === undefined) return;
  const d = countDestroyed(plan);
  if (d.total > max)
    throw new UsageError(`${describeDestroyed(d)}, more than --max-destroy ${max}; nothing was changed`);
}

/**
 * Under the targets' locks, just before the first write: refuses when a target changed since the
 * plan was read (an answer that took minutes, or another run that held the lock meanwhile).
 */
export async function recheckUnderLock(
  plan: Plan,
  rules: RuleSet,
  source: (t: TargetSpec) => StateSource,
  io: Io,
): Promise<void> {
  const stale = await checkStaleness({ plan, rules }, { providers: getProvider, source });
  if (stale.length > 0) {
    io.stderr.write(describeStale(stale, createStyle(io.stderrIsTTY, io.env)));
    throw new ValidationError(
      stale.map((s) =>
        error(
          'plan-stale',
          `target ${s.target} changed since the plan was made (by hand, or by another run); plan again`,
        ),
      ),
      'the state changed before the changes could start; nothing was changed',
    );
  }
}

/**
 * Runs an approved plan with Ctrl-C handling: the first interrupt stops new steps, running ones
 * finish and the report is printed (exit 130); a second interrupt ends the process at once.
 */
export async function runApproved(
  plan: Plan,
  rules: RuleSet,
  options: StepOptions & { lock: LockFlags },
): Promise<{ report: ApplyReport; exit: number }> {
  const { io } = options;
  // One run writes a target at a time: take the targets' locks, then make sure nothing changed
  // since the plan was read (a run that held the lock meanwhile changed it), then write. Signals
  // are this command's own business (a first Ctrl-C finishes the running steps), and the locks
  // are released when it returns or throws.
  const locks = locksForPlan(plan, rules, getProvider, options.source);
  return withTargetLocks(locks, { ...lockOptionsFrom(options.lock, io.stderr), handleSignals: false }, async () => {
    await recheckUnderLock(plan, rules, options.source, io);
    return runSteps(plan, rules, options);
  });
}

/** How approved steps run: where state comes from, how many at once, how the report reads. */
interface StepOptions {
  io: Io;
  source: (t: TargetSpec) => StateSource;
  parallelism: number;
  maxDestroy?: number;
  style: Style;
  verb: 'Apply' | 'Destroy';
}

async function runSteps(
  plan: Plan,
  rules: RuleSet,
  options: StepOptions,
): Promise<{ report: ApplyReport; exit: number }> {
  const { io } = options;
  const abort = new AbortController();
  const off = io.onInterrupt?.(() => {
    io.stderr.write(
      `\nInterrupted: no new steps will start; waiting for the running ones to finish (press Ctrl-C again to exit at once, leaving them unreported)…\n`,
    );
    abort.abort();
  });
  let report: ApplyReport;
  try {
    report = await applyPlan(plan, rules, {
      providers: getProvider,
      source: options.source,
      parallelism: options.parallelism,
      ...(options.maxDestroy !== undefined ? { maxDestroy: options.maxDestroy } : {}),
      onProgress: (m) => io.stderr.write(`${m}\n`),
      signal: abort.signal,
    });
  } finally {
    off?.();
  }
  io.stdout.write(`\n${formatApplyReport(plan, report, options.style, options.verb)}`);
  return { report, exit: report.interrupted ? EXIT.interrupted : report.ok ? EXIT.ok : EXIT.error };
}

/** Loads the model a saved plan names and checks the plan against it and the live state. */
async function trustedPlan(
  text: string,
  file: string,
  io: Io,
  source: (t: TargetSpec) => StateSource,
  color: boolean,
): Promise<{ plan: Plan; rules: RuleSet }> {
  const saved = parseSavedPlan(text, file);
  if (saved.plan.targets.some((t) => t.source === 'snapshot')) {
    throw new UsageError(
      'this plan was made against snapshots, and snapshot plans cannot be applied; plan against the live APIs to apply',
    );
  }
  const modelFile = saved.plan.model.file;
  if (!existsSync(resolve(io.cwd, modelFile))) {
    throw new UsageError(
      `the saved plan was made from ${modelFile}, which is not in ${io.cwd}: run apply in the folder where the plan was made (apply re-checks the plan against its model)`,
    );
  }
  const rules = await loadRules(modelFile, io);
  io.stderr.write(
    `Checking the plan against ${modelFile} and that the live state has not changed since it was made…\n`,
  );
  const verdict = await verifySavedPlan(saved, rules, { providers: getProvider, source });
  switch (verdict.kind) {
    case 'stale':
      io.stderr.write(describeStale(verdict.stale, createStyle(io.stderrIsTTY && color, io.env)));
      throw new ValidationError(
        verdict.stale.map((s) =>
          error('plan-stale', `target ${s.target} changed since the plan was made; make a new plan`),
        ),
        'the saved plan is stale; nothing was changed',
      );
    case 'mismatch':
      throw new ValidationError(
        verdict.diagnostics.map((d) => ({ ...d, pos: d.pos ?? { file, line: 1, column: 1 } })),
        `the saved plan does not match what ${modelFile} makes of the live state (edited or damaged?); nothing was changed`,
      );
    case 'ok':
      return { plan: verdict.plan, rules };
  }
}

/** `bulkhead apply FILE|PLANFILE`: carries out a saved plan, or plans a model and carries it out after confirmation. */
export const registerApply: RegisterCommand = (program: Command, ctx: CommandContext) => {
  const command = program
    .command('apply')
    .description('make the targets match the model (a model file is planned first; a saved plan is re-checked)')
    .argument('[file]', 'model file (default: bulkhead.yaml) or a saved plan from `plan --out`')
    .option('--auto-approve', 'skip the confirmation prompt (required when stdin is not a terminal)')
    .option('--parallelism <n>', 'steps run at once across all targets', parseCount('--parallelism'), 10)
    .option(
      '--max-destroy <n>',
      'refuse a plan that destroys more than N objects (deleted objects + removed rules)',
      parseCount('--max-destroy'),
    )
    .option('--target <name>', 'apply only this target (repeatable; model files only)', collect)
    .option(
      '--allow-unresolved',
      'accept FQDNs that resolve to no address (their rules then allow nothing and their entries are removed)',
    )
    .option('--no-color', 'no ANSI colors');
  addLockOptions(command).action(async (file: string | undefined, flags: ApplyFlags) => {
    const { io } = ctx;
    const style = createStyle(io.stdoutIsTTY && flags.color, io.env);
    if (flags.parallelism < 1) throw new UsageError('--parallelism must be at least 1');
    const source = stateSourceFor(undefined, io);
    const text = file !== undefined ? await readFile(resolve(io.cwd, file), 'utf8').catch(() => undefined) : undefined;
    if (file !== undefined && text === undefined) throw new UsageError(`file not found: ${file}`);

    let plan: Plan;
    let rules: RuleSet;
    const isSaved = text !== undefined && isSavedPlanText(text);
    if (isSaved) {
      if (flags.target) throw new UsageError('--target cannot narrow a saved plan; make a new plan with --target');
      ({ plan, rules } = await trustedPlan(text, file!, io, source, flags.color));
      io.stdout.write(formatPlanText(plan, style));
    } else {
      rules = await loadRules(file, io);
      plan = await createPlan(rules, {
        providers: getProvider,
        source,
        resolver: resolverFor(undefined, io),
        ...(flags.target ? { targets: flags.target } : {}),
        ...(flags.allowUnresolved ? { allowUnresolved: true } : {}),
      });
      const diagnostics = allDiagnostics(plan);
      if (hasErrors(diagnostics)) throw new ValidationError(diagnostics, 'cannot plan');
      if (diagnostics.length > 0) io.stderr.write(formatDiagnostics(diagnostics, io));
      io.stdout.write(formatPlanText(plan, style));
    }
    if (plan.targets.every((t) => t.changes.length === 0)) {
      ctx.setExit(EXIT.ok);
      return;
    }
    checkMaxDestroy(plan, flags.maxDestroy);
    // A saved plan was reviewed when it was made (like `terraform apply PLANFILE`): no prompt.
    if (!isSaved) {
      if (!(await confirm(io, flags.autoApprove, 'apply'))) {
        io.stderr.write('Apply cancelled. Nothing was changed.\n');
        ctx.setExit(EXIT.error);
        return;
      }
    }

    const { exit } = await runApproved(plan, rules, {
      io,
      source,
      parallelism: flags.parallelism,
      ...(flags.maxDestroy !== undefined ? { maxDestroy: flags.maxDestroy } : {}),
      style,
      verb: 'Apply',
      lock: flags,
    });
    ctx.setExit(exit);
  });
};
