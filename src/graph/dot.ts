import { assertNever } from '../errors.js';
import type { GraphNode, SegmentGraph } from './build.js';
import { GRAPH_COLORS } from './mermaid.js';

/**
 * The Graphviz writer of `bulkhead graph --format dot`. Every id and label is a double-quoted DOT
 * string (`"node"`, `"edge"`, `"graph"` are keywords, `.` ends a bare id), with `\` and `"`
 * escaped and line breaks as `\n`; tiers are `cluster_` subgraphs.
 */

/** A DOT double-quoted string. */
export function dotString(s: string): string {
  return `"${s
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/\r\n|\r|\n/g, '\\n')}"`;
}

function nodeAttrs(n: GraphNode): string {
  const C = GRAPH_COLORS;
  const tooltip = n.detail.length > 0 ? `, tooltip=${dotString(n.detail.join('\n'))}` : '';
  const label = `label=${dotString(n.label)}${tooltip}`;
  switch (n.kind) {
    case 'segment':
      return `${label}, shape=box, style="rounded,filled", fillcolor="${C.segment}", color="${C.segmentStroke}"`;
    case 'all-segments':
      return `${label}, shape=hexagon, style=filled, fillcolor="${C.segment}", color="${C.segmentStroke}"`;
    case 'internet':
      return `${label}, shape=ellipse, style=filled, fillcolor="${C.internet}", color="${C.internetStroke}"`;
    case 'any':
      return `${label}, shape=ellipse, style=filled, fillcolor="${C.entity}", color="${C.entityStroke}"`;
    case 'entity':
      return `${label}, shape=cylinder, style=filled, fillcolor="${C.entity}", color="${C.entityStroke}"`;
    case 'note':
      return `${label}, shape=note, style=filled, fillcolor="${C.note}", color="${C.noteStroke}"`;
    default:
      return assertNever(n.kind);
  }
}

/** The graph as a DOT digraph (left to right). */
export function formatGraphDot(graph: SegmentGraph): string {
  const C = GRAPH_COLORS;
  const out: string[] = [
    `digraph ${dotString(`bulkhead ${graph.model.name}`)} {`,
    `  graph [rankdir=LR, fontname="Helvetica", label=${dotString(`model ${graph.model.name} (${graph.model.file})`)}, labelloc=t];`,
    '  node [fontname="Helvetica"];',
    '  edge [fontname="Helvetica", fontsize=10];',
  ];
  graph.clusters.forEach((c, i) => {
    out.push(`  subgraph ${dotString(`cluster_${i}`)} {`);
    out.push(`    label=${dotString(c.label)}; style="rounded,dashed"; color="${C.segmentStroke}";`);
    for (const n of graph.nodes) if (n.parent === c.id) out.push(`    ${dotString(n.id)} [${nodeAttrs(n)}];`);
    out.push('  }');
  });
  for (const n of graph.nodes) if (n.parent === undefined) out.push(`  ${dotString(n.id)} [${nodeAttrs(n)}];`);
  for (const e of graph.edges) {
    const pair = `${dotString(e.from)} -> ${dotString(e.to)}`;
    switch (e.kind) {
      case 'allow':
        out.push(`  ${pair} [label=${dotString(e.label)}];`);
        break;
      case 'deny':
        out.push(`  ${pair} [label=${dotString(e.label)}, style=dashed, color="${C.deny}", fontcolor="${C.deny}"];`);
        break;
      case 'note':
        out.push(`  ${pair} [style=dotted, arrowhead=none, color="${C.noteStroke}"];`);
        break;
      default:
        assertNever(e.kind);
    }
  }
  out.push('}');
  return `${out.join('\n')}\n`;
}
