import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { getProvider } from '../../providers/index.js';
import { formatDiagnostics } from './output.js';
import { hasErrors, type Diagnostic } from '../diagnostics.js';
import { EXIT, UsageError, ValidationError } from '../errors.js';
import { createStyle, type Io } from '../io.js';
import { allDiagnostics, createPlan, planEach, type PlanOptions } from '../plan/create-plan.js';
import { collect, loadRules, resolverFor, stateSourceFor } from './engine-context.js';
import { formatPlanJson, planJsonDocument, planJsonTarget } from '../plan/format-json.js';
import { writeJson } from './json-stream.js';
import { formatPlanMarkdown } from '../plan/format-markdown.js';
import { formatPlanText, formatTargetText, joinPlanText } from '../plan/format-text.js';
import { serializeSavedPlan } from '../plan/saved-plan.js';
import type { Json, Plan, TargetPlan } from '../plan/types.js';
import type { RuleSet } from '../compile/types.js';
import type { CommandContext, RegisterCommand } from './index.js';

interface PlanFlags {
  target?: string[];
  snapshots?: string;
  json?: boolean;
  markdown?: boolean;
  out?: string;
  detailedExitcode?: boolean;
  allowUnresolved?: boolean;
}

/** `bulkhead plan [FILE]`: the Terraform-style diff between the model and the targets' state. */
export const registerPlan: RegisterCommand = (program: Command, ctx: CommandContext) => {
  program
    .command('plan')
    .description('show the changes that would make the targets match the model')
    .argument('[file]', 'model file (default: bulkhead.yaml or bulkhead.yml)')
    .option('--target <name>', 'plan only this target (repeatable, or comma-separated)', collect)
    .option(
      '--snapshots <dir>',
      'read state from cloud CLI exports in DIR/<target>/ (and DIR/dns.json) instead of the APIs',
    )
    .option('--json', 'print the plan as versioned JSON')
    .option('--markdown', 'print a compact Markdown summary (for pull-request comments)')
    .option('--out <file>', 'save the plan, for `bulkhead apply FILE`')
    .option('--detailed-exitcode', 'exit 0 when there are no changes, 2 when there are, 1 on error')
    .option(
      '--allow-unresolved',
      'accept FQDNs that resolve to no address (their rules then allow nothing and their entries are removed)',
    )
    .action(async (file: string | undefined, flags: PlanFlags) => {
      const { io } = ctx;
      if (flags.json && flags.markdown) throw new UsageError('--json and --markdown cannot be used together');
      const rules = await loadRules(file, io);
      const source = stateSourceFor(flags.snapshots, io);
      io.stderr.write(
        `Planning ${rules.model.name} against ${flags.snapshots !== undefined ? `snapshots in ${flags.snapshots}` : 'the live APIs'}…\n`,
      );
      const options: PlanOptions = {
        providers: getProvider,
        source,
        resolver: resolverFor(flags.snapshots, io),
        ...(flags.allowUnresolved ? { allowUnresolved: true } : {}),
        ...(flags.target ? { targets: flags.target } : {}),
        // Only a saved plan and --json carry the states' fingerprints.
        ...(flags.out === undefined && !flags.json ? { fingerprints: false } : {}),
      };
      // A saved plan holds every target's state and the Markdown diagram reads them: those take the
      // whole Plan. The text and the JSON are made target by target (planEach), each target's
      // objects garbage once its part is written: at 10,000 segments the whole Plan of the four
      // bench targets did not fit in Node's default heap (issue 11).
      let changed: boolean;
      if (flags.out !== undefined || flags.markdown) {
        const plan = await createPlan(rules, options);
        const diagnostics = allDiagnostics(plan);
        if (hasErrors(diagnostics)) throw new ValidationError(diagnostics, 'cannot plan');
        if (diagnostics.length > 0) io.stderr.write(formatDiagnostics(diagnostics, io));
        if (flags.json) io.stdout.write(formatPlanJson(plan));
        else if (flags.markdown) io.stdout.write(formatPlanMarkdown(plan));
        else io.stdout.write(formatPlanText(plan, createStyle(io.stdoutIsTTY, io.env)));
        if (flags.out !== undefined) {
          const path = resolve(io.cwd, flags.out);
          await mkdir(dirname(path), { recursive: true });
          await writeFile(path, serializeSavedPlan(plan, rules));
          io.stderr.write(
            `Saved the plan to ${flags.out}. ${flags.snapshots !== undefined ? `It was made against snapshots: snapshot plans cannot be applied (read it with: bulkhead show ${flags.out})` : `To carry it out: bulkhead apply ${flags.out}`}\n`,
          );
        }
        changed = plan.targets.some((t) => t.changes.length > 0);
      } else {
        if (flags.json) {
          const { parts, summary, diagnostics } = await planParts(rules, options, planJsonTarget, io);
          // Down to each change's parts (its objects before and after): one JSON.stringify each.
          const doc = planJsonDocument({ model: { ...rules.model }, summary, diagnostics }, parts);
          writeJson(doc as unknown as Json, (text) => io.stdout.write(text));
          io.stdout.write('\n');
          changed = parts.some((p) => p.changes.length > 0);
        } else {
          const style = createStyle(io.stdoutIsTTY, io.env);
          const { parts, summary } = await planParts(rules, options, (t) => formatTargetText(t, style), io);
          io.stdout.write(joinPlanText(parts, summary, style));
          changed = parts.some((p) => p.changes > 0);
        }
      }
      ctx.setExit(flags.detailedExitcode && changed ? EXIT.changes : EXIT.ok);
    });
};

/**
 * `planEach` keeping `part` of each target's plan (its formatted text), with the plan command's
 * diagnostics: an error stops it (ValidationError) before anything is printed, warnings go to stderr.
 */
async function planParts<P>(
  rules: RuleSet,
  options: PlanOptions,
  part: (t: TargetPlan) => P,
  io: Io,
): Promise<{ parts: P[]; summary: Plan['summary']; diagnostics: readonly Diagnostic[] }> {
  const outline = await planEach(rules, options, (t) => ({ diagnostics: t.diagnostics, part: part(t) }));
  const diagnostics = [...outline.diagnostics, ...outline.targets.flatMap((t) => t.diagnostics)];
  if (hasErrors(diagnostics)) throw new ValidationError(diagnostics, 'cannot plan');
  if (diagnostics.length > 0) io.stderr.write(formatDiagnostics(diagnostics, io));
  return { parts: outline.targets.map((t) => t.part), summary: outline.summary, diagnostics: outline.diagnostics };
}
