import { describe, expect, it } from 'vitest';
import { compileFile, loadAndValidate } from '../../src/compile/index.js';
import type { RuleSet } from '../../src/compile/types.js';
import { buildGraph, onlyGuardrailsOf, type SegmentGraph } from '../../src/graph/build.js';
import { formatGraphJson } from '../../src/graph/json.js';
import { writeFiles } from '../model/write-model.js';

const repo = new URL('../../', import.meta.url).pathname;

async function graphOf(file: string, cwd: string): Promise<{ rules: RuleSet; graph: SegmentGraph }> {
  const r = await compileFile(file, { cwd });
  if (!r.ok) throw new Error(JSON.stringify(r.diagnostics));
  const m = await loadAndValidate(file, { cwd });
  if (!m.ok) throw new Error('invalid');
  return { rules: r.value, graph: buildGraph(r.value, { only: onlyGuardrailsOf(m.value) }) };
}

const edge = (g: SegmentGraph, from: string, to: string) => g.edges.filter((e) => e.from === from && e.to === to);

describe('buildGraph', () => {
  it('draws the shop: segments in tier clusters, entities, one edge per ordered pair, guardrails', async () => {
    const { rules, graph } = await graphOf('policies/shop.yaml', repo);
    const segments = graph.nodes.filter((n) => n.kind === 'segment');
    expect(segments.map((n) => n.label)).toEqual(rules.segments.map((s) => s.name));
    expect(graph.clusters.map((c) => c.label)).toEqual(['backend', 'data', 'edge', 'frontend']);
    expect(segments.map((n) => [n.label, n.parent])).toEqual([
      ['app', 'tier:backend'],
      ['db', 'tier:data'],
      ['lb', 'tier:edge'],
      ['web', 'tier:frontend'],
    ]);
    expect(graph.nodes.filter((n) => n.kind === 'entity').map((n) => n.label)).toEqual([
      'object-storage',
      'office',
      'payment-apis',
    ]);
    expect(graph.nodes.find((n) => n.label === 'payment-apis')?.detail).toEqual(['api.paypal.com', 'api.stripe.com']);

    // web -> app is written once with a two-range service: the RuleSet has an ingress and an
    // egress intent per range (four), the graph one edge with both ranges.
    expect(
      rules.rules.filter(
        (r) =>
          (r.segment === 'app' && r.direction === 'ingress') ||
          (r.segment === 'web' && r.direction === 'egress' && r.peer.kind === 'segment' && r.peer.name === 'app'),
      ),
    ).toHaveLength(4);
    expect(edge(graph, 'segment:web', 'segment:app')).toEqual([
      {
        id: 'allow:segment:web->segment:app',
        kind: 'allow',
        from: 'segment:web',
        to: 'segment:app',
        ports: ['tcp/8080', 'tcp/9000-9010'],
        label: 'tcp/8080, tcp/9000-9010',
      },
    ]);
    expect(edge(graph, 'segment:app', 'segment:web')).toEqual([]);
    expect(edge(graph, 'internet', 'segment:lb').map((e) => e.label)).toEqual(['tcp/443']);
    expect(edge(graph, 'segment:app', 'entity:payment-apis').map((e) => e.label)).toEqual(['tcp/443']);
    expect(graph.edges.filter((e) => e.kind === 'allow')).toHaveLength(6);

    // The baseline deny names no segment side: one dashed edge to the "every segment" stand-in.
    expect(graph.edges.filter((e) => e.kind === 'deny')).toEqual([
      {
        id: 'deny:no-remote-admin-from-internet:internet->all-segments',
        kind: 'deny',
        from: 'internet',
        to: 'all-segments',
        ports: ['tcp/22', 'tcp/3389'],
        label: 'deny no-remote-admin-from-internet: tcp/22, tcp/3389',
        guardrail: 'no-remote-admin-from-internet',
      },
    ]);
    // `only` is a note linked to what it protects.
    expect(graph.nodes.filter((n) => n.kind === 'note').map((n) => n.label)).toEqual([
      'data-only-from-backend: only tier:backend',
    ]);
    expect(graph.edges.filter((e) => e.kind === 'note').map((e) => [e.from, e.to])).toEqual([
      ['note:data-only-from-backend', 'segment:db'],
    ]);
  });

  it('draws a deny per protected segment when it names them, and keeps untiered segments outside clusters', async () => {
    const dir = writeFiles({
      'm.yaml': `bulkhead: 1
name: m
targets:
  aws-prod: { aws: { region: eu-west-1, vpc: vpc-0123456789abcdef0 } }
tiers:
  data: [db, cache]
segments:
  db: { ingress: [{ from: app, ports: [tcp/5432, tcp/5433] }] }
  cache: { ingress: [{ from: app, ports: [tcp/6379] }] }
  app: { egress: [{ to: db, ports: [tcp/5432] }] }
guardrails:
  - name: no-data-egress
    deny: { from: tier:data, to: internet }
  - name: no-ssh-to-cache
    deny: { to: cache, ports: [tcp/22] }
`,
    });
    const { graph } = await graphOf('m.yaml', dir);
    expect(graph.nodes.find((n) => n.id === 'segment:app')?.parent).toBeUndefined();
    // Written on both sides with an overlapping port: still one edge, each port once.
    expect(edge(graph, 'segment:app', 'segment:db').map((e) => e.ports)).toEqual([['tcp/5432', 'tcp/5433']]);
    expect(graph.edges.filter((e) => e.kind === 'deny').map((e) => [e.from, e.to, e.label])).toEqual([
      ['segment:cache', 'internet', 'deny no-data-egress: all'],
      ['segment:db', 'internet', 'deny no-data-egress: all'],
      // No `from`: any address, segments included.
      ['any', 'segment:cache', 'deny no-ssh-to-cache: tcp/22'],
    ]);
    expect(graph.nodes.find((n) => n.id === 'any')).toEqual({
      id: 'any',
      kind: 'any',
      label: 'any address',
      detail: [],
    });
    expect(graph.nodes.some((n) => n.kind === 'all-segments')).toBe(false);
  });

  it('is deterministic: the same model written in another order gives the same JSON', async () => {
    const head = `bulkhead: 1
name: m
targets:
  aws-prod: { aws: { region: eu-west-1, vpc: vpc-0123456789abcdef0 } }
`;
    const a = writeFiles({
      'm.yaml': `${head}segments:\n  b: { ingress: [{ from: a, ports: [tcp/2, tcp/1] }] }\n  a: { ingress: [{ from: internet, ports: [tcp/443] }] }\n`,
    });
    const b = writeFiles({
      'm.yaml': `${head}segments:\n  a: { ingress: [{ from: internet, ports: [tcp/443] }] }\n  b: { ingress: [{ from: a, ports: [tcp/1, tcp/2] }] }\n`,
    });
    const ga = formatGraphJson((await graphOf('m.yaml', a)).graph);
    expect(ga).toBe(formatGraphJson((await graphOf('m.yaml', b)).graph));
    expect(JSON.parse(ga).edges[1]).toMatchObject({ from: 'segment:a', to: 'segment:b', label: 'tcp/1, tcp/2' });
  });
});
