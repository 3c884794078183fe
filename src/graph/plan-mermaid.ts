import { GRAPH_COLORS, mermaidText } from './mermaid.js';
import type { FlowEdge, TargetFlowChanges } from './plan-flows.js';

/**
 * The Mermaid diagram `plan --markdown` puts in a pull-request comment: the flows one target's
 * plan adds (green, `+` on the label) and removes (red, dashed, `-` on the label), so a reviewer
 * sees the change in access at a glance. Capped: a big plan shows its first `maxEdges` edges and
 * says how many more there are (the Details block below it lists every rule).
 */

/** Edges per diagram: a PR comment stays readable (and well under the code hosts' size limits). */
export const PLAN_DIAGRAM_MAX_EDGES = 30;

/** The Mermaid lines (without the code fence) and how many edges did not fit. */
export function formatFlowChangesMermaid(
  changes: TargetFlowChanges,
  maxEdges = PLAN_DIAGRAM_MAX_EDGES,
): { lines: string[]; omitted: number } {
  const all: { edge: FlowEdge; action: 'add' | 'remove' }[] = [
    ...changes.added.map((edge) => ({ edge, action: 'add' as const })),
    ...changes.removed.map((edge) => ({ edge, action: 'remove' as const })),
  ];
  const shown = all.slice(0, maxEdges);
  const ids = new Map<string, string>();
  for (const { edge } of shown) {
    for (const n of [edge.from, edge.to]) if (!ids.has(n)) ids.set(n, `n${ids.size}`);
  }
  const lines = ['flowchart LR'];
  for (const [name, id] of ids) lines.push(`  ${id}["${mermaidText(name)}"]`);
  const adds: number[] = [];
  const removes: number[] = [];
  shown.forEach(({ edge, action }, i) => {
    const sign = action === 'add' ? '+' : '-';
    const label = mermaidText(`${sign} ${edge.deny ? 'deny ' : ''}${edge.ports.join(', ')}`);
    lines.push(`  ${ids.get(edge.from)!} ${action === 'add' ? '-->' : '-.->'}|"${label}"| ${ids.get(edge.to)!}`);
    (action === 'add' ? adds : removes).push(i);
  });
  if (adds.length > 0)
    lines.push(`  linkStyle ${adds.join(',')} stroke:${GRAPH_COLORS.add},stroke-width:2px,color:${GRAPH_COLORS.add}`);
  if (removes.length > 0)
    lines.push(
      `  linkStyle ${removes.join(',')} stroke:${GRAPH_COLORS.remove},stroke-width:2px,color:${GRAPH_COLORS.remove}`,
    );
  return { lines, omitted: all.length - shown.length };
}
