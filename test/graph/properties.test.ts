import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Endpoint, GuardrailDeny, RuleIntent, RuleSet } from '../../src/compile/types.js';
import { buildGraph } from '../../src/graph/build.js';
import { formatGraphMermaid } from '../../src/graph/mermaid.js';
import { formatPortMatch } from '../../src/model/services.js';
import { cidrs, internet, pos, seg, tcp } from '../helpers/rulesets.js';

/**
 * Properties of the graph of any RuleSet: one node per segment; the allow edges carry exactly the
 * (from, to, port) triples of the intents, each ordered pair on one edge; every deny edge belongs to
 * a guardrail deny; and the Mermaid text has exactly one link per edge, in order.
 */

const NAMES = ['end', 'graph', 'a', 'b-c', 'node'];
const peer: fc.Arbitrary<Endpoint> = fc.oneof(
  fc.constantFrom(...NAMES).map(seg),
  fc.constant(internet()),
  fc.constantFrom('x.y', 'office_1').map((e) => cidrs(e, ['198.51.100.0/24'])),
);

const ruleSet: fc.Arbitrary<RuleSet> = fc
  .record({
    segments: fc.uniqueArray(fc.constantFrom(...NAMES), { minLength: 1, maxLength: NAMES.length }),
    intents: fc.array(
      fc.record({
        direction: fc.constantFrom('ingress' as const, 'egress' as const),
        seg: fc.nat(),
        peer,
        port: fc.integer({ min: 1, max: 6 }),
      }),
      { maxLength: 25 },
    ),
    denies: fc.array(
      fc.record({
        direction: fc.constantFrom('ingress' as const, 'egress' as const),
        all: fc.boolean(),
        peer,
        port: fc.integer({ min: 20, max: 23 }),
      }),
      { maxLength: 3 },
    ),
    tiered: fc.boolean(),
  })
  .map(({ segments, intents, denies, tiered }) => {
    const names = [...segments].sort();
    const known = (e: Endpoint) => e.kind !== 'segment' || names.includes(e.name);
    const rules: RuleIntent[] = intents
      .filter((i) => known(i.peer))
      .map((i, k) => ({
        id: `r${k}`,
        direction: i.direction,
        segment: names[i.seg % names.length]!,
        peer: i.peer,
        service: tcp(i.port),
        origins: [{ pos: pos(k + 1), label: 'x' }],
      }));
    const guardrails: GuardrailDeny[] = denies
      .filter((d) => known(d.peer))
      .map((d, k) => ({
        id: `d${k}`,
        guardrail: `g${k}`,
        direction: d.direction,
        segments: d.all ? names : [names[0]!],
        allSegments: d.all,
        peer: d.peer,
        services: [tcp(d.port)],
        origins: [],
      }));
    return {
      formatVersion: 1 as const,
      model: { name: 'm', digest: 'd', file: 'm.yaml' },
      targets: [],
      segments: names.map((name, k) => ({ name, pos: pos(k + 1), ...(tiered && k % 2 === 0 ? { tier: 'even' } : {}) })),
      rules,
      denies: guardrails,
    };
  });

const nodeId = (e: Endpoint) =>
  e.kind === 'segment'
    ? `segment:${e.name}`
    : e.kind === 'cidrs' && e.builtin === 'internet'
      ? 'internet'
      : `entity:${e.kind === 'cidrs' ? e.entity : ''}`;

describe('graph properties', () => {
  it('edges are exactly the intents, merged per ordered pair; Mermaid has one link per edge', () => {
    fc.assert(
      fc.property(ruleSet, (rules) => {
        const g = buildGraph(rules);
        expect(g.nodes.filter((n) => n.kind === 'segment').map((n) => n.label)).toEqual(
          rules.segments.map((s) => s.name),
        );
        const expected = new Set(
          rules.rules.map((r) => {
            const [from, to] =
              r.direction === 'ingress'
                ? [nodeId(r.peer), `segment:${r.segment}`]
                : [`segment:${r.segment}`, nodeId(r.peer)];
            return `${from} ${to} ${formatPortMatch(r.service)}`;
          }),
        );
        const allows = g.edges.filter((e) => e.kind === 'allow');
        const actual = allows.flatMap((e) => e.ports.map((p) => `${e.from} ${e.to} ${p}`));
        expect(new Set(actual)).toEqual(expected);
        expect(actual).toHaveLength(expected.size);
        expect(new Set(allows.map((e) => `${e.from} ${e.to}`)).size).toBe(allows.length);
        for (const e of g.edges) {
          expect(g.nodes.some((n) => n.id === e.from)).toBe(true);
          expect(g.nodes.some((n) => n.id === e.to)).toBe(true);
        }
        const denyNames = new Set(rules.denies.map((d) => d.guardrail));
        for (const e of g.edges.filter((x) => x.kind === 'deny')) expect(denyNames.has(e.guardrail!)).toBe(true);
        const links = formatGraphMermaid(g)
          .split('\n')
          .filter((l) => /^ {2}n\d+ (-->|-\.->|-\.-)[| ]/.test(l));
        expect(links).toHaveLength(g.edges.length);
      }),
      { numRuns: 100 },
    );
  });
});
