import { planFlowChanges, type TargetFlowChanges } from '../graph/plan-flows.js';
import { formatFlowChangesMermaid } from '../graph/plan-mermaid.js';
import { diffChildren } from './diff.js';
import { ACTION_SYMBOL, type Change, type Plan } from './types.js';

/**
 * The `--markdown` rendering of a plan: a compact summary for a pull-request comment. One table per
 * target (object, action, rule counts, widening), a Mermaid diagram of the flows the target's
 * plan adds (green) and removes (red, dashed), capped at PLAN_DIAGRAM_MAX_EDGES edges with a line
 * saying how many more, then the rule-level details folded in a `<details>` block as a `diff`
 * code block (GitHub colours `+`/`-` lines).
 */

function escapeCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function ruleCounts(c: Change): string {
  const children = c.action === 'replace' ? diffChildren(c.before!.children, c.after!.children) : c.childChanges;
  const add = children.filter((x) => x.action === 'create').length;
  const upd = children.filter((x) => x.action === 'update').length;
  const del = children.filter((x) => x.action === 'delete').length;
  const parts = [add ? `+${add}` : '', upd ? `~${upd}` : '', del ? `-${del}` : ''].filter(Boolean);
  return parts.length > 0 ? parts.join(' ') : '—';
}

function detailLines(c: Change): string[] {
  const lines = [`${ACTION_SYMBOL[c.action] === '-/+' ? '!' : ACTION_SYMBOL[c.action]} ${c.address} (${c.action})`];
  for (const a of c.attributeChanges) {
    if (c.action === 'create') lines.push(`+   ${a.name} = ${JSON.stringify(a.after)}`);
    else if (c.action === 'delete') lines.push(`-   ${a.name} = ${JSON.stringify(a.before)}`);
    else lines.push(`!   ${a.name}: ${JSON.stringify(a.before)} -> ${JSON.stringify(a.after)}`);
  }
  const children = c.action === 'replace' ? diffChildren(c.before!.children, c.after!.children) : c.childChanges;
  for (const ch of children) {
    const mark = ch.action === 'create' ? '+' : ch.action === 'delete' ? '-' : '!';
    const widens = ch.action === 'create' && ch.after?.widens ? '   (widens access)' : '';
    const text =
      ch.action === 'update' ? `${ch.before!.summary} -> ${ch.after!.summary}` : (ch.after ?? ch.before)!.summary;
    lines.push(`${mark}   ${text}${widens}`);
  }
  return lines;
}

/** The flow diagram of one target: a `mermaid` code block, and what did not fit. */
function flowDiagram(f: TargetFlowChanges): string[] {
  const { lines, omitted } = formatFlowChangesMermaid(f);
  const n = (k: number) => `${k} flow${k === 1 ? '' : 's'}`;
  const out = [
    '',
    `Flows: ${f.added.length > 0 ? `+${n(f.added.length)} added` : ''}${f.added.length > 0 && f.removed.length > 0 ? ', ' : ''}${f.removed.length > 0 ? `-${n(f.removed.length)} removed` : ''} (green: added, red dashed: removed).`,
    '',
    '```mermaid',
    ...lines,
    '```',
  ];
  if (omitted > 0) out.push('', `… and ${omitted} more (every rule is in Details).`);
  return out;
}

/** The plan as Markdown. */
export function formatPlanMarkdown(plan: Plan): string {
  const { add, change, destroy } = plan.summary;
  const changes = plan.targets.flatMap((t) => t.changes);
  const widening = changes.filter((c) => c.widensAccess).length;
  const out: string[] = [];
  out.push(`### Bulkhead plan: \`${plan.model.name}\``);
  out.push('');
  if (changes.length === 0) {
    out.push('**No changes.** The state matches the model.');
  } else {
    out.push(`**Plan: ${add} to add, ${change} to change, ${destroy} to destroy.**`);
    if (widening > 0)
      out.push(
        `\n> [!WARNING]\n> ${widening} change${widening === 1 ? ' widens' : 's widen'} access (new internet ingress or a new peer).`,
      );
  }
  const flows = new Map<string, TargetFlowChanges>(planFlowChanges(plan).map((f) => [f.target, f]));
  for (const t of plan.targets) {
    out.push('');
    out.push(`#### \`${t.target}\` (${t.provider}, ${t.source} state)`);
    out.push('');
    if (t.changes.length === 0) {
      out.push('No changes.');
      continue;
    }
    out.push('| | Object | Type | Action | Rules | Widens access |');
    out.push('|---|---|---|---|---|---|');
    for (const c of t.changes) {
      out.push(
        `| \`${ACTION_SYMBOL[c.action]}\` | \`${escapeCell(c.name)}\` | ${escapeCell(c.type)} | ${c.action} | ${ruleCounts(c)} | ${c.widensAccess ? '⚠️ yes' : ''} |`,
      );
    }
    const f = flows.get(t.target);
    if (f) out.push(...flowDiagram(f));
    out.push('');
    out.push('<details><summary>Details</summary>');
    out.push('');
    out.push('```diff');
    for (const c of t.changes) out.push(...detailLines(c));
    out.push('```');
    out.push('');
    out.push('</details>');
  }
  const diags = [...plan.diagnostics, ...plan.targets.flatMap((t) => t.diagnostics)];
  if (diags.length > 0) {
    out.push('');
    out.push('#### Diagnostics');
    out.push('');
    for (const d of diags) out.push(`- **${d.severity}** \`${d.code}\`: ${escapeCell(d.message)}`);
  }
  out.push('');
  out.push(`<sub>model digest \`${plan.model.digest.slice(0, 12)}\`</sub>`);
  return `${out.join('\n')}\n`;
}
