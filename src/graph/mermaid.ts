import { assertNever } from '../errors.js';
import type { GraphNode, SegmentGraph } from './build.js';

/**
 * The Mermaid writer of `bulkhead graph --format mermaid` (a `flowchart`, which GitHub and GitLab
 * render in Markdown). Node and cluster ids are generated (`n0`, `c0`): model names such as
 * `end`, `graph` or `class` are Mermaid keywords, and `.` is not allowed in an id. Labels are
 * quoted and every character outside a small safe set is written as a Mermaid entity code
 * (`#35;`), so no name can end a label, a link or a statement early.
 */

/** Colors shared with the other writers, so every format draws the same legend. */
export const GRAPH_COLORS = {
  segment: '#e8f0fe',
  segmentStroke: '#1a73e8',
  entity: '#f1f3f4',
  entityStroke: '#5f6368',
  internet: '#fce8e6',
  internetStroke: '#c5221f',
  note: '#fef7e0',
  noteStroke: '#b06000',
  deny: '#d93025',
  add: '#188038',
  remove: '#d93025',
} as const;

/** A label as Mermaid text inside double quotes: letters, digits, space and `._-/:,+` pass, the rest as `#<code>;`. */
export function mermaidText(s: string): string {
  let out = '';
  for (const ch of s) out += /^[A-Za-z0-9 ._\-/:,+]$/.test(ch) ? ch : `#${ch.codePointAt(0)};`;
  return out;
}

/** A node statement's shape around its quoted label. */
function shape(n: GraphNode, text: string): string {
  const q = `"${text}"`;
  switch (n.kind) {
    case 'segment':
      return `(${q})`;
    case 'internet':
    case 'any':
      return `((${q}))`;
    case 'entity':
      return `([${q}])`;
    case 'all-segments':
      return `{{${q}}}`;
    case 'note':
      return `>${q}]`;
    default:
      return assertNever(n.kind);
  }
}

/** The graph as a Mermaid flowchart (left to right). */
export function formatGraphMermaid(graph: SegmentGraph): string {
  const ids = new Map<string, string>();
  graph.nodes.forEach((n, i) => {
    ids.set(n.id, `n${i}`);
  });
  const out: string[] = [`%% bulkhead graph of model ${mermaidText(graph.model.name)}`, 'flowchart LR'];
  const node = (n: GraphNode, indent: string) => `${indent}${ids.get(n.id)!}${shape(n, mermaidText(n.label))}`;
  graph.clusters.forEach((c, i) => {
    out.push(`  subgraph c${i}["${mermaidText(c.label)}"]`);
    for (const n of graph.nodes) if (n.parent === c.id) out.push(node(n, '    '));
    out.push('  end');
  });
  for (const n of graph.nodes) if (n.parent === undefined) out.push(node(n, '  '));
  const denied: number[] = [];
  const notes: number[] = [];
  graph.edges.forEach((e, i) => {
    const from = ids.get(e.from)!,
      to = ids.get(e.to)!;
    switch (e.kind) {
      case 'allow':
        out.push(`  ${from} -->|"${mermaidText(e.label)}"| ${to}`);
        break;
      case 'deny':
        denied.push(i);
        out.push(`  ${from} -.->|"${mermaidText(e.label)}"| ${to}`);
        break;
      case 'note':
        notes.push(i);
        out.push(`  ${from} -.- ${to}`);
        break;
      default:
        assertNever(e.kind);
    }
  });
  const C = GRAPH_COLORS;
  if (denied.length > 0) out.push(`  linkStyle ${denied.join(',')} stroke:${C.deny},stroke-width:2px,color:${C.deny}`);
  if (notes.length > 0) out.push(`  linkStyle ${notes.join(',')} stroke:${C.noteStroke}`);
  const classes: [string, string, readonly GraphNode['kind'][]][] = [
    ['segment', `fill:${C.segment},stroke:${C.segmentStroke}`, ['segment', 'all-segments']],
    ['entity', `fill:${C.entity},stroke:${C.entityStroke}`, ['entity', 'any']],
    ['internet', `fill:${C.internet},stroke:${C.internetStroke}`, ['internet']],
    ['note', `fill:${C.note},stroke:${C.noteStroke}`, ['note']],
  ];
  for (const [name, style, kinds] of classes) {
    const members = graph.nodes.filter((n) => kinds.includes(n.kind)).map((n) => ids.get(n.id)!);
    if (members.length === 0) continue;
    out.push(`  classDef ${name} ${style}`);
    out.push(`  class ${members.join(',')} ${name}`);
  }
  return `${out.join('\n')}\n`;
}
