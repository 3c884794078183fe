import { diffChildren } from './diff.js';
import { ACTION_SYMBOL, type Change, type Plan } from './types.js';

/**
 * The `--markdown` rendering of a plan: a compact summary for a pull-request comment. One table per
 * target (object, action, rule counts, widening), then the rule-level details folded in a
 * `<details>` block as a `diff` code block (GitHub colours `+`/`-` lines).
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
    const text = ch.action === 'update' ? `${ch.before!.summary} -> ${ch.after!.summary}` : (ch.after ?? ch.before)!.summary;
    lines.push(`${mark}   ${text}${widens}`);
  }
  return lines;
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
    if (widening > 0) out.push(`\n> [!WARNING]\n> ${widening} change${widening === 1 ? ' widens' : 's widen'} access (new internet ingress or a new peer).`);
  }
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
