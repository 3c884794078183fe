import { userMessage } from '../diagnostics.js';
import type { Style } from '../io.js';
import type { Plan } from '../plan/types.js';
import { NOT_STARTED, plural, type ApplyReport, type StepOutcome } from './apply-plan.js';
import { stepsOfChange } from './build-steps.js';

/**
 * The final report of an apply: every step's outcome (done / failed / skipped, with the error or
 * the failed step that held it back), grouped by target, then a summary line.
 */

function line(o: StepOutcome, style: Style): string {
  const status =
    o.status === 'done'
      ? style.green('done   ')
      : o.status === 'failed'
        ? style.red('FAILED ')
        : style.yellow('skipped');
  const retries = o.attempts > 1 ? style.dim(` (after ${o.attempts - 1} retr${o.attempts === 2 ? 'y' : 'ies'})`) : '';
  const why =
    o.status === 'failed'
      ? `: ${userMessage(o.error ?? 'unknown error')}${o.code ? ` [${o.code}]` : ''}`
      : o.status === 'skipped'
        ? `: ${o.error ?? 'held back'}`
        : '';
  return `  ${status} ${o.phase.padEnd(6)} ${o.address}${retries}${why}`;
}

/** The report as text; `verb` names the command in the summary line (`Destroy complete!`). */
export function formatApplyReport(
  plan: Plan,
  report: ApplyReport,
  style: Style,
  verb: 'Apply' | 'Destroy' = 'Apply',
): string {
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
  const notStarted = report.outcomes.filter((o) => o.status === 'skipped' && o.error === NOT_STARTED).length;
  if (report.ok) {
    const { add, change, destroy } = plan.summary;
    out.push(
      `\n${style.green(style.bold(`${verb} complete!`))} Resources: ${add} added, ${change} changed, ${destroy} destroyed (${plural(done, 'step')}).`,
    );
    if (report.interrupted) out.push('Interrupted, but every step had already finished.');
  } else if (report.interrupted) {
    out.push(
      `\n${style.yellow(style.bold(`${verb} interrupted:`))} ${plural(done, 'step')} done, ${failed} failed, ${notStarted} not started` +
        `${skipped > notStarted ? `, ${skipped - notStarted} skipped` : ''}. Steps that had started were finished; run the command again to carry out the rest.`,
    );
  } else {
    out.push(
      `\n${style.red(style.bold(`${verb} incomplete:`))} ${plural(done, 'step')} done, ${failed} failed, ${skipped} skipped.` +
        ` Fix the cause and run plan/apply again: a re-run picks up where this one stopped.`,
    );
  }
  return `${out.join('\n')}\n`;
}
