import { describe, expect, it } from 'vitest';
import { compileFile } from '../../src/compile/index.js';
import { buildGraph, type SegmentGraph } from '../../src/graph/build.js';
import { dotString, formatGraphDot } from '../../src/graph/dot.js';
import { formatGraphJson } from '../../src/graph/json.js';
import { formatGraphMermaid, mermaidText } from '../../src/graph/mermaid.js';
import { writeFiles } from '../model/write-model.js';

/** Labels no writer may let out of their quotes (the writers take any SegmentGraph, not just model names). */
const HOSTILE = [
  'end',
  'a"b',
  'x|y]z',
  'p#q;',
  '<b>&amp;</b>',
  'back\\slash',
  'two\nlines',
  'subgraph',
  'click',
  '%%',
  '`md`',
  'ünï',
];

function hostileGraph(): SegmentGraph {
  return {
    formatVersion: 1,
    model: { name: 'm"x', file: 'dir/we"ird\nfile.yaml' },
    clusters: [{ id: 'tier:t', label: 'end' }],
    nodes: HOSTILE.map((label, i) => ({
      id: `segment:${label}`,
      kind: i % 2 === 0 ? 'segment' : 'entity',
      label,
      ...(i === 0 ? { parent: 'tier:t' } : {}),
      detail: [label],
    })),
    edges: HOSTILE.slice(1).map((label, i) => ({
      id: `allow:${i}`,
      kind: i === 0 ? 'deny' : 'allow',
      from: `segment:${HOSTILE[i]}`,
      to: `segment:${label}`,
      ports: [label],
      label,
    })),
  };
}

/** Mermaid's entity codes, decoded: what Mermaid shows for a label. */
function unMermaid(s: string): string {
  return s.replace(/#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n)));
}

/** A strict reading of the statements formatGraphMermaid writes; returns the labels, decoded. */
function parseMermaid(text: string): { nodes: string[]; edges: string[]; clusters: string[] } {
  const lines = text.split('\n');
  expect(lines.pop()).toBe('');
  expect(lines[1]).toBe('flowchart LR');
  const out = { nodes: [] as string[], edges: [] as string[], clusters: [] as string[] };
  const label = '"([^"]*)"';
  for (const line of lines.slice(2)) {
    let m: RegExpExecArray | null;
    if ((m = new RegExp(`^  subgraph c\\d+\\[${label}\\]$`).exec(line))) out.clusters.push(unMermaid(m[1]!));
    else if (line === '  end') continue;
    else if (
      (m = new RegExp(
        `^ {2,4}n\\d+(?:\\(${label}\\)|\\(\\(${label}\\)\\)|\\(\\[${label}\\]\\)|\\{\\{${label}\\}\\}|>${label}\\])$`,
      ).exec(line))
    )
      out.nodes.push(unMermaid(m.slice(1).find((x) => x !== undefined)!));
    else if ((m = new RegExp(`^  n\\d+ (?:-->|-\\.->)\\|${label}\\| n\\d+$`).exec(line)))
      out.edges.push(unMermaid(m[1]!));
    else if (/^ {2}n\d+ -\.- n\d+$/.test(line) || /^ {2}linkStyle [\d,]+ [a-z:#0-9,-]+$/.test(line)) continue;
    else if (/^ {2}classDef [a-z]+ [a-z:#0-9,-]+$/.test(line) || /^ {2}class (n\d+,)*n\d+ [a-z]+$/.test(line)) continue;
    else throw new Error(`unexpected Mermaid line: ${JSON.stringify(line)}`);
  }
  for (const l of [...out.nodes, ...out.edges, ...out.clusters]) expect(l).toBeTypeOf('string');
  return out;
}

/** DOT tokens: quoted strings (unescaped), bare words, punctuation. Throws on anything else. */
function dotTokens(text: string): string[] {
  const tokens: string[] = [];
  const re = /\s+|"((?:[^"\\]|\\.)*)"|([A-Za-z_][A-Za-z0-9_]*|-?\d+(?:\.\d+)?)|(->|[{}[\];=,])/gy;
  let m: RegExpExecArray | null;
  while (re.lastIndex < text.length && (m = re.exec(text))) {
    if (m[1] !== undefined) tokens.push(`"${m[1].replace(/\\n/g, '\n').replace(/\\(.)/g, '$1')}`);
    else if (m[2] !== undefined || m[3] !== undefined) tokens.push(m[2] ?? m[3]!);
  }
  if (re.lastIndex < text.length)
    throw new Error(`DOT does not tokenize at ${JSON.stringify(text.slice(re.lastIndex, re.lastIndex + 40))}`);
  return tokens;
}

describe('graph writers', () => {
  it('mermaid: generated ids, every label quoted and entity-encoded, readable back unchanged', () => {
    const g = hostileGraph();
    const text = formatGraphMermaid(g);
    const parsed = parseMermaid(text);
    expect(parsed.nodes).toEqual(HOSTILE);
    expect(parsed.edges).toEqual(HOSTILE.slice(1));
    expect(parsed.clusters).toEqual(['end']);
    expect(text).toContain('linkStyle 0 stroke:#d93025');
    expect(mermaidText('a"b|c')).toBe('a#34;b#124;c');
  });

  it('dot: every id and label a quoted string, escapes that read back unchanged', () => {
    const g = hostileGraph();
    const tokens = dotTokens(formatGraphDot(g));
    expect(tokens.slice(0, 2)).toEqual(['digraph', '"bulkhead m"x']);
    const labels = tokens.flatMap((t, i) => (t === 'label' && tokens[i + 1] === '=' ? [tokens[i + 2]!.slice(1)] : []));
    expect(labels).toEqual(['model m"x (dir/we"ird\nfile.yaml)', 'end', ...HOSTILE, ...HOSTILE.slice(1)]);
    expect(dotString('a\\"b')).toBe('"a\\\\\\"b"');
    // The deny edge is dashed and red.
    expect(formatGraphDot(g)).toMatch(
      /"segment:end" -> "segment:a\\"b" \[label="a\\"b", style=dashed, color="#d93025"/,
    );
  });

  it('json: the graph itself, round-trips', () => {
    const g = hostileGraph();
    expect(JSON.parse(formatGraphJson(g))).toEqual(g);
  });

  it('handles model names that are Mermaid and DOT keywords', async () => {
    const dir = writeFiles({
      'm.yaml': `bulkhead: 1
name: graph
targets:
  aws-prod: { aws: { region: eu-west-1, vpc: vpc-0123456789abcdef0 } }
entities:
  node.edge_x: { cidrs: [198.51.100.0/24] }
tiers:
  subgraph: [end, digraph]
  class: [strict]
segments:
  end: { ingress: [{ from: digraph, ports: [tcp/80] }] }
  digraph: { egress: [{ to: node.edge_x, ports: [udp/53] }] }
  strict: { ingress: [{ from: end, ports: [icmp/3/4] }] }
`,
    });
    const r = await compileFile('m.yaml', { cwd: dir });
    if (!r.ok) throw new Error(JSON.stringify(r.diagnostics));
    const g = buildGraph(r.value);
    const m = parseMermaid(formatGraphMermaid(g));
    expect(m.clusters).toEqual(['class', 'subgraph']);
    expect(m.nodes).toEqual(['strict', 'digraph', 'end', 'node.edge_x']);
    expect(m.edges).toEqual(['udp/53', 'tcp/80', 'icmp/3/4']);
    const dot = formatGraphDot(g);
    expect(dotTokens(dot)).toContain('"segment:digraph');
    expect(dot).toContain('"segment:digraph" -> "entity:node.edge_x" [label="udp/53"];');
  });
});
