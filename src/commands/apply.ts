import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { getProvider } from '../../providers/index.js';
import { formatDiagnostics } from '../cli.js';
import { error, hasErrors } from '../diagnostics.js';
import { EXIT, UsageError, ValidationError } from '../errors.js';
import { createStyle, type Io, type Style } from '../io.js';
import { applyPlan, countDestroyed } from '../apply/apply-plan.js';
import { formatApplyReport } from '../apply/format-report.js';
import { allDiagnostics, createPlan } from '../plan/create-plan.js';
import { collect, loadRules, parseCount, resolverFor, stateSourceFor } from '../plan/engine-context.js';
import { formatChange, formatPlanText } from '../plan/format-text.js';
import {
  SAVED_PLAN_FORMAT_VERSION,
  SAVED_PLAN_KIND,
  checkStaleness,
  isSavedPlanText,
  parseSavedPlan,
  type StaleTarget,
} from '../plan/saved-plan.js';
import { VERSION } from '../version.js';
import type { RuleSet } from '../compile/types.js';
import type { Plan } from '../plan/types.js';
import type { CommandContext, RegisterCommand } from './index.js';

interface ApplyFlags {
  autoApprove?: boolean;
  parallelism: number;
  maxDestroy?: number;
  target?: string[];
  color: boolean;
}

function describeStale(stale: readonly StaleTarget[], style: Style): string {
  const out: string[] = [];
  for (const s of stale) {
    if (s.outsideOnly) {
      out.push(`Target ${s.target}: objects outside the model changed (they can collide with what the plan creates).\n`);
      continue;
    }
    out.push(`Target ${s.target}: ${s.changes.length} owned object${s.changes.length === 1 ? '' : 's'} changed since the plan was made:\n`);
    // diff(now, prior): "create" = appeared since, "delete" = gone since, "update" = modified since.
    for (const c of s.changes) out.push(formatChange(c, style).replace(/will be created/, 'appeared').replace(/will be destroyed/, 'disappeared').replace(/will be updated in-place/, 'was modified'));
  }
  return out.join('');
}

async function confirm(io: Io, flags: ApplyFlags): Promise<void> {
  if (flags.autoApprove) return;
  if (!io.stdinIsTTY) {
    throw new UsageError('refusing to apply without confirmation: stdin is not a terminal (pass --auto-approve in pipelines)');
  }
  const answer = await io.prompt(
    "\nDo you want to perform these actions?\n  Bulkhead will perform the actions described above.\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ",
  );
  if (answer.trim() !== 'yes') throw new UsageError('apply cancelled; nothing was changed');
}

/** `bulkhead apply FILE|PLANFILE`: carries out a saved plan, or plans a model and carries it out after confirmation. */
export const registerApply: RegisterCommand = (program: Command, ctx: CommandContext) => {
  program
    .command('apply')
    .description('make the targets match the model (a model file is planned first; a saved plan is re-checked)')
    .argument('[file]', 'model file (default: bulkhead.yaml) or a saved plan from `plan --out`')
    .option('--auto-approve', 'skip the confirmation prompt (required when stdin is not a terminal)')
    .option('--parallelism <n>', 'steps run at once across all targets', parseCount('--parallelism'), 10)
    .option('--max-destroy <n>', 'refuse a plan that destroys more than N objects (deleted objects + removed rules)', parseCount('--max-destroy'))
    .option('--target <name>', 'apply only this target (repeatable; model files only)', collect)
    .option('--no-color', 'no ANSI colors')
    .action(async (file: string | undefined, flags: ApplyFlags) => {
      const { io } = ctx;
      const style = createStyle(io.stdoutIsTTY && flags.color, io.env);
      if (flags.parallelism < 1) throw new UsageError('--parallelism must be at least 1');
      const source = stateSourceFor(undefined, io);
      const text = file !== undefined ? await readFile(resolve(io.cwd, file), 'utf8').catch(() => undefined) : undefined;
      if (file !== undefined && text === undefined) throw new UsageError(`file not found: ${file}`);

      let plan: Plan;
      let rules: RuleSet;
      if (text !== undefined && isSavedPlanText(text)) {
        if (flags.target) throw new UsageError('--target cannot narrow a saved plan; make a new plan with --target');
        const saved = parseSavedPlan(text, file!);
        plan = saved.plan;
        rules = saved.rules;
        if (plan.targets.some((t) => t.source === 'snapshot')) {
          throw new UsageError('this plan was made against snapshots; plan against the live APIs to apply');
        }
        io.stderr.write(`Checking that the live state has not changed since the plan was made…\n`);
        const stale = await checkStaleness(saved, { providers: getProvider, source });
        if (stale.length > 0) {
          io.stderr.write(describeStale(stale, createStyle(io.stderrIsTTY && flags.color, io.env)));
          throw new ValidationError(
            stale.map((s) => error('plan-stale', `target ${s.target} changed since the plan was made; make a new plan`)),
            'the saved plan is stale; nothing was changed',
          );
        }
        io.stdout.write(formatPlanText(plan, style));
      } else {
        rules = await loadRules(file, io);
        plan = await createPlan(rules, {
          providers: getProvider,
          source,
          resolver: resolverFor(undefined, io),
          ...(flags.target ? { targets: flags.target } : {}),
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
      if (flags.maxDestroy !== undefined) {
        const d = countDestroyed(plan);
        if (d.total > flags.maxDestroy) {
          throw new UsageError(
            `the plan destroys ${d.total} objects (${d.resources} resources, ${d.rules} rules), more than --max-destroy ${flags.maxDestroy}; nothing was changed`,
          );
        }
      }
      // A saved plan was reviewed when it was made (like `terraform apply PLANFILE`): no prompt.
      if (text === undefined || !isSavedPlanText(text)) {
        await confirm(io, flags);
        if (!flags.autoApprove) {
          // The answer may have taken minutes: make sure nobody changed the targets meanwhile.
          const saved = { kind: SAVED_PLAN_KIND, formatVersion: SAVED_PLAN_FORMAT_VERSION, bulkhead: VERSION, plan, rules } as const;
          const stale = await checkStaleness(saved, { providers: getProvider, source });
          if (stale.length > 0) {
            io.stderr.write(describeStale(stale, createStyle(io.stderrIsTTY && flags.color, io.env)));
            throw new ValidationError(
              stale.map((s) => error('plan-stale', `target ${s.target} changed while the plan awaited confirmation; plan again`)),
              'the state changed during confirmation; nothing was changed',
            );
          }
        }
      }

      const report = await applyPlan(plan, rules, {
        providers: getProvider,
        source,
        parallelism: flags.parallelism,
        ...(flags.maxDestroy !== undefined ? { maxDestroy: flags.maxDestroy } : {}),
        onProgress: (m) => io.stderr.write(`${m}\n`),
      });
      io.stdout.write(`\n${formatApplyReport(plan, report, style)}`);
      ctx.setExit(report.ok ? EXIT.ok : EXIT.error);
    });
};
