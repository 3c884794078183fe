import type { Style } from '../io.js';
import type { Plan } from '../plan/types.js';
import type { ApplyReport, StepOutcome } from './apply-plan.js';
import { stepsOfChange } from './build-steps.js';

/**
 * The final report of an apply: every step's outcome (done / failed / skipped, with the error or
 * the failed step that held it back), grouped by target, then a summary line.
 */

function line(o: StepOutcome, style: Style): string {
  const status =
    o.status === 'done' ? style.green('done   ') : o.status === 'failed' ? style.red('FAILED ') : style.yellow('skipped');
  const retries = o.attempts > 1 ? style.dim(` (after ${o.attempts - 1} retr${o.attempts === 2 ? 'y' : 'ies'})`) : '';
  const why = o.status === 'failed' ? `: ${o.error ?? 'unknown error'}${o.code ? ` [${o.code}]` : ''}` : o.status === 'skipped' ? `: ${o.error ?? 'held back'}` : '';
  return `  ${status} ${o.phase.padEnd(6)} ${o.address}${retries}${why}`;
}

/** The report as text. */
export function formatApplyReport(plan: Plan, report: ApplyReport, style: Style): string {
  const out: string[] = [];
  const targets = [...new Set(report.outcomes.map((o) => o.target))];
  for (const t of targets) {
    out.push(style.bold(`Target ${t}:`));
    // Grouped by object, each object's steps in the order they run (a replace deletes first).
    const mine = report.outcomes.filter((x) => x.target === t);
    for (const address of [...new Set(mine.map((o) => o.address))].sort()) {
      const change = plan.targets.flatMap((tp) => tp.changes).find((c) => c.address === address);
      const order = change ? stepsOfChange(change).map((s) => s.id) : [];
      const steps = mine.filter((o) => o.address === address).sort((a, b) => order.indexOf(a.id) - order.indexOf(b.id));
      for (const o of steps) out.push(line(o, style));
    }
  }
  const { done, failed, skipped } = report.summary;
  if (report.ok) {
    const { add, change, destroy } = plan.summary;
    out.push(`\n${style.green(style.bold('Apply complete!'))} Resources: ${add} added, ${change} changed, ${destroy} destroyed (${done} step${done === 1 ? '' : 's'}).`);
  } else {
    out.push(
      `\n${style.red(style.bold('Apply incomplete:'))} ${done} step${done === 1 ? '' : 's'} done, ${failed} failed, ${skipped} skipped.` +
        ` Fix the cause and run plan/apply again: a re-run picks up where this one stopped.`,
    );
  }
  return `${out.join('\n')}\n`;
}
