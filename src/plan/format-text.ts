import { assertNever } from '../errors.js';
import type { Style } from '../io.js';
import { diffChildren } from './diff.js';
import {
  ACTION_SYMBOL,
  type Action,
  type Change,
  type ChildChange,
  type Json,
  type Plan,
  type TargetPlan,
} from './types.js';

/**
 * The Terraform-style text rendering of a plan: a legend, one block per changed object, rule lines
 * marked `+ - ~`, and the `Plan: X to add, Y to change, Z to destroy.` line. Pure: styling is
 * injected (`createStyle` turns itself off off a TTY and with NO_COLOR).
 */

const HEADLINE: { readonly [A in Action]: string } = {
  create: 'will be created',
  update: 'will be updated in-place',
  delete: 'will be destroyed',
  replace: 'must be replaced',
};

/** The legend, listing only the actions the plan uses. */
export function formatLegend(actions: ReadonlySet<Action>, style: Style): string {
  const rows: [Action, string][] = [
    ['create', 'create'],
    ['update', 'update in-place'],
    ['delete', 'destroy'],
    ['replace', 'destroy and then create replacement'],
  ];
  const lines = rows
    .filter(([a]) => actions.has(a))
    .map(([a, text]) => `${colorFor(a, style)(ACTION_SYMBOL[a].padStart(3))} ${text}`);
  return `Resource actions are indicated with the following symbols:\n${lines.join('\n')}\n`;
}

function colorFor(action: Action | ChildChange['action'], style: Style): (s: string) => string {
  switch (action) {
    case 'create':
      return style.green;
    case 'update':
      return style.yellow;
    case 'delete':
      return style.red;
    case 'replace':
      return style.yellow;
    default:
      return assertNever(action);
  }
}

/** A JSON value on one line, strings quoted like Terraform. */
export function formatValue(value: Json | undefined): string {
  if (value === undefined) return '(none)';
  return JSON.stringify(value);
}

function childLine(c: ChildChange, style: Style, indent: string): string {
  const symbol = ACTION_SYMBOL[c.action];
  const widens = c.action === 'create' && c.after?.widens === true ? style.yellow('  # widens access') : '';
  let text: string;
  if (c.action === 'update') {
    const before = c.before!.summary;
    const after = c.after!.summary;
    text = before === after ? `${after} (${changedAttributes(c)})` : `${before} -> ${after}`;
  } else {
    text = (c.after ?? c.before)!.summary;
  }
  return `${indent}${colorFor(c.action, style)(symbol)} ${text}${widens}`;
}

/** `name: "a" -> "b", …`: the attributes of an updated rule that differ, as plan and drift show them. */
export function changedAttributes(c: ChildChange): string {
  const before = c.before?.attributes ?? {};
  const after = c.after?.attributes ?? {};
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return names
    .filter((n) => JSON.stringify(before[n]) !== JSON.stringify(after[n]))
    .map((n) => `${n}: ${formatValue(before[n])} -> ${formatValue(after[n])}`)
    .join(', ');
}

/** One object's block: `  # <address> will be …` then the `resource` block. */
export function formatChange(change: Change, style: Style): string {
  const symbol = ACTION_SYMBOL[change.action];
  const color = colorFor(change.action, style);
  const widens = change.widensAccess ? style.yellow(' (widens access)') : '';
  const lines: string[] = [];
  lines.push(`  ${style.bold(`# ${change.address}`)} ${HEADLINE[change.action]}${widens}`);
  if (change.reason && change.action === 'replace') lines.push(`  ${style.dim(`# (${change.reason})`)}`);
  lines.push(`${color(symbol.padStart(3))} resource "${change.type}" "${change.name}" {`);
  const indent = '      ';
  const forceNew = new Set([...(change.after?.forceNew ?? []), ...(change.before?.forceNew ?? [])]);
  const attrWidth = Math.max(0, ...change.attributeChanges.map((a) => a.name.length));
  for (const a of change.attributeChanges) {
    const name = a.name.padEnd(attrWidth);
    if (change.action === 'create' || a.before === undefined) {
      lines.push(`${indent}${style.green('+')} ${name} = ${formatValue(a.after)}`);
    } else if (change.action === 'delete' || a.after === undefined) {
      lines.push(`${indent}${style.red('-')} ${name} = ${formatValue(a.before)}`);
    } else {
      const forces = change.action === 'replace' && forceNew.has(a.name) ? style.red(' # forces replacement') : '';
      lines.push(
        `${indent}${style.yellow('~')} ${name} = ${formatValue(a.before)} -> ${formatValue(a.after)}${forces}`,
      );
    }
  }
  // A replace deletes and recreates every rule; the reader wants to see what actually differs.
  const children =
    change.action === 'replace' ? diffChildren(change.before!.children, change.after!.children) : change.childChanges;
  for (const c of children) lines.push(childLine(c, style, indent));
  if (change.action === 'replace') {
    const kept = change.after!.children.length - children.filter((c) => c.action !== 'delete').length;
    if (kept > 0) lines.push(`${indent}${style.dim(`# (${kept} unchanged rule${kept === 1 ? '' : 's'} recreated)`)}`);
  }
  lines.push('    }');
  return `${lines.join('\n')}\n`;
}

/** `Plan: X to add, Y to change, Z to destroy.` */
export function formatSummaryLine(plan: Pick<Plan, 'summary'>, style: Style): string {
  const { add, change, destroy } = plan.summary;
  return `${style.bold('Plan:')} ${add} to add, ${change} to change, ${destroy} to destroy.`;
}

/**
 * One target's part of the text plan, made from its TargetPlan alone (`planEach` hands them over
 * one at a time, so `plan` keeps this text instead of every target's objects).
 */
export interface TargetText {
  readonly source: TargetPlan['source'];
  /** The actions of the target's changes. */
  readonly actions: ReadonlySet<Action>;
  readonly changes: number;
  /** Changes that widen access. */
  readonly widening: number;
  /** The target's heading and its changes' blocks. */
  readonly text: string;
}

/** The text of one target of a plan (see `formatPlanText`). */
export function formatTargetText(t: TargetPlan, style: Style): TargetText {
  const n = t.changes.length;
  const out: string[] = [
    `\n${style.bold(`Target ${t.target}`)} (${t.provider}, ${t.source} state): ${
      n === 0 ? 'no changes' : `${n} object${n === 1 ? '' : 's'} to change`
    }\n`,
  ];
  for (const c of t.changes) out.push(`\n${formatChange(c, style)}`);
  return {
    source: t.source,
    actions: new Set(t.changes.map((c) => c.action)),
    changes: n,
    widening: t.changes.filter((c) => c.widensAccess).length,
    text: out.join(''),
  };
}

/** The whole plan as text (stdout of `bulkhead plan`). */
export function formatPlanText(plan: Plan, style: Style): string {
  return joinPlanText(
    plan.targets.map((t) => formatTargetText(t, style)),
    plan.summary,
    style,
  );
}

/** The plan's text from its targets' texts (in the plan's target order) and its summary. */
export function joinPlanText(targets: readonly TargetText[], summary: Plan['summary'], style: Style): string {
  if (targets.every((t) => t.changes === 0)) {
    const sources = new Set(targets.map((t) => t.source));
    const what = sources.size === 1 && sources.has('snapshot') ? 'snapshot state' : 'live state';
    if (targets.length === 0) return 'No changes. No target was planned.\n';
    return `${style.green(style.bold('No changes.'))} The ${what} matches the model.\n`;
  }
  const out: string[] = [];
  out.push(formatLegend(new Set(targets.flatMap((t) => [...t.actions])), style));
  out.push('\nBulkhead will perform the following actions:\n');
  for (const t of targets) out.push(t.text);
  const widening = targets.reduce((k, t) => k + t.widening, 0);
  out.push(`\n${formatSummaryLine({ summary }, style)}\n`);
  if (widening > 0) {
    out.push(
      `${style.yellow(`Warning: ${widening} change${widening === 1 ? '' : 's'} widen${widening === 1 ? 's' : ''} access (new internet ingress or a new peer).`)}\n`,
    );
  }
  return out.join('');
}
