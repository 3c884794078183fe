import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RuleAttributes } from '../../../providers/azure/canonical.js';
import { createAzureProvider } from '../../../providers/azure/index.js';
import {
  AZURE_TYPES,
  layoutAzure,
  placedForLive,
  renderAzure,
  reservedPriorities,
} from '../../../providers/azure/render.js';
import type { GuardrailDeny, RuleSet } from '../../../src/compile/types.js';
import type { Resource } from '../../../src/plan/types.js';
import type { RenderContext } from '../../../src/provider.js';
import { emulatorTarget } from '../../helpers/azure/harness.js';
import { liveStateAfter, type HandRule } from '../../helpers/azure/live-state.js';
import { flow, internet, pos, ruleSet, seg, tcp } from '../../helpers/rulesets.js';

/**
 * Priority placement with the live state (what `createPlan` gives render): over random sequences of
 * single-flow additions and removals on a 200-flow model in an NSG that also holds hand-made rules,
 * no rule present before and after a step ever changes priority, and no model rule ever takes a
 * priority a hand-made rule holds in its direction.
 */

const target = emulatorTarget('azure-test');
const CTX: RenderContext = { resolved: new Map() };
const SEGMENTS = Array.from({ length: 40 }, (_, i) => `s${i}`);

interface Flow {
  readonly from: number;
  readonly to: number;
  readonly port: number;
}

const DENIES: GuardrailDeny[] = [
  {
    id: 'd1',
    guardrail: 'no-ssh',
    direction: 'ingress',
    segments: [],
    allSegments: true,
    peer: internet(),
    services: [tcp(22), tcp(3389)],
    origins: [{ pos: pos(5), label: 'guardrail' }],
  },
  {
    id: 'd2',
    guardrail: 'no-db-out',
    direction: 'egress',
    segments: ['s1', 's2'],
    allSegments: false,
    peer: internet(),
    services: [tcp(5432)],
    origins: [{ pos: pos(6), label: 'guardrail' }],
  },
];

function model(flows: readonly Flow[]): RuleSet {
  const rules = flows.flatMap((f) => flow(seg(SEGMENTS[f.from]!), seg(SEGMENTS[f.to]!), tcp(f.port), 100));
  return { ...ruleSet({ name: 'big', targets: [target], segments: SEGMENTS, rules }), denies: DENIES };
}

const BASE: Flow[] = Array.from({ length: 200 }, (_, i) => ({ from: i % 40, to: (i * 7 + 1) % 40, port: 1000 + i }));

function rules(resources: readonly Resource[]): Map<string, RuleAttributes> {
  const nsg = resources.find((r) => r.type === AZURE_TYPES.nsg)!;
  return new Map(nsg.children.map((c) => [c.key, c.attributes as RuleAttributes]));
}

function flowNames(f: Flow): string[] {
  return [`big-in-s${f.to}-from-s${f.from}-tcp-${f.port}`, `big-out-s${f.from}-to-s${f.to}-tcp-${f.port}`].sort();
}

/** No model rule on a hand-made rule's priority; priorities unique per direction. */
function expectNoConflict(desired: Map<string, RuleAttributes>, unowned: readonly HandRule[]): void {
  for (const dir of ['inbound', 'outbound'] as const) {
    const mine = [...desired.values()].filter((a) => a.direction === dir).map((a) => a.priority);
    expect(new Set(mine).size).toBe(mine.length);
    const theirs = new Set(unowned.filter((u) => u.direction.toLowerCase() === dir).map((u) => u.priority));
    expect(mine.filter((p) => theirs.has(p))).toEqual([]);
  }
}

const PLAIN = rules(renderAzure(model(BASE), target, CTX));
const PLAIN_RULES = [...PLAIN].filter(([, a]) => a.priority < 4095);

/** Hand-made rules: some at random priorities, some exactly on the model rules' hash slots. */
const handRules = fc
  .tuple(
    fc.array(fc.record({ inbound: fc.boolean(), priority: fc.integer({ min: 100, max: 4094 }) }), { maxLength: 30 }),
    fc.array(fc.nat({ max: PLAIN_RULES.length - 1 }), { maxLength: 20 }),
  )
  .map(([random, stolen]) => {
    const all = [
      ...random.map((r) => ({ direction: r.inbound ? 'Inbound' : 'Outbound', priority: r.priority }) as const),
      ...stolen.map((i) => {
        const a = PLAIN_RULES[i]![1];
        return { direction: a.direction === 'inbound' ? 'Inbound' : 'Outbound', priority: a.priority } as const;
      }),
    ];
    const seen = new Set<string>();
    return all
      .filter((r) => !seen.has(`${r.direction}:${r.priority}`) && (seen.add(`${r.direction}:${r.priority}`), true))
      .map((r, i): HandRule => ({ name: `ops-rule-${i}`, ...r }));
  });

type Op = { readonly kind: 'add'; readonly flow: Flow } | { readonly kind: 'remove'; readonly index: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc
    .record({ from: fc.nat({ max: 39 }), to: fc.nat({ max: 39 }), port: fc.integer({ min: 20000, max: 60000 }) })
    .map((f) => ({ kind: 'add' as const, flow: { ...f, to: f.to === f.from ? (f.to + 1) % 40 : f.to } })),
  fc.nat().map((index) => ({ kind: 'remove' as const, index })),
);

describe('azure priorities with the live state', () => {
  it("random additions and removals on a 200-flow model move ZERO other rules and never take a hand-made rule's priority", () => {
    fc.assert(
      fc.property(handRules, fc.array(op, { minLength: 1, maxLength: 5 }), (unowned, ops) => {
        // First apply into an NSG that holds only the hand-made rules.
        let flows = [...BASE];
        let resources = renderAzure(model(flows), target, {
          ...CTX,
          live: liveStateAfter(null, unowned, target, 'big'),
        });
        let desired = rules(resources);
        expectNoConflict(desired, unowned);
        for (const o of ops) {
          const live = liveStateAfter(resources, unowned, target, 'big');
          let expectedNew: string[] = [];
          let expectedGone: string[] = [];
          if (o.kind === 'add') {
            if (flows.some((f) => f.from === o.flow.from && f.to === o.flow.to && f.port === o.flow.port)) continue;
            flows = [...flows, o.flow];
            expectedNew = flowNames(o.flow);
          } else {
            const gone = flows[o.index % flows.length]!;
            flows = flows.filter((f) => f !== gone);
            expectedGone = flowNames(gone);
          }
          resources = renderAzure(model(flows), target, { ...CTX, live });
          const next = rules(resources);
          // Exactly the flow's rules come or go ...
          expect([...next.keys()].filter((n) => !desired.has(n)).sort()).toEqual(expectedNew);
          expect([...desired.keys()].filter((n) => !next.has(n)).sort()).toEqual(expectedGone);
          // ... and nothing else moves.
          const moved = [...next]
            .filter(([n, a]) => desired.has(n) && desired.get(n)!.priority !== a.priority)
            .map(([n]) => n);
          expect(moved).toEqual([]);
          expectNoConflict(next, unowned);
          desired = next;
        }
      }),
      { numRuns: 25 },
    );
  });

  it("validate's layout placed again around a live state is a fresh layout with it (what a plan's render takes)", () => {
    // Hand-made rules and ops between the state and the model; 99 inbound hand rules in the deny band
    // sometimes, so the fallback to plain slots (and an exhausted band's problem) is compared too.
    const crowded: HandRule[] = Array.from({ length: 99 }, (_, i) => ({
      name: `ops-deny-${i}`,
      direction: 'Inbound',
      priority: 100 + i,
    }));
    fc.assert(
      fc.property(handRules, fc.array(op, { maxLength: 4 }), fc.boolean(), (unowned, ops, crowd) => {
        const live = liveStateAfter(
          renderAzure(model(BASE), target, CTX),
          crowd ? [...unowned.filter((u) => u.priority >= 200), ...crowded] : unowned,
          target,
          'big',
        );
        let flows = [...BASE];
        for (const o of ops)
          flows = o.kind === 'add' ? [...flows, o.flow] : flows.filter((_, i) => i !== o.index % flows.length);
        const rs = model(flows);
        const fresh = layoutAzure(rs, target, { ...CTX, live });
        expect(placedForLive(layoutAzure(rs, target, CTX), live)).toEqual(fresh);
        // Through the provider, as a plan calls it: validate without the live state, then render with it.
        const provider = createAzureProvider();
        provider.validate(rs, target, CTX);
        expect(provider.render(rs, target, { ...CTX, live })).toEqual(renderAzure(rs, target, { ...CTX, live }));
      }),
      { numRuns: 30 },
    );
  });

  it("read reports the hand-made rules' priorities per direction as reserved (never as owned resources)", () => {
    const unowned: HandRule[] = [
      { name: 'ops-a', direction: 'Inbound', priority: 300 },
      { name: 'ops-b', direction: 'Outbound', priority: 300 },
      { name: 'ops-c', direction: 'Inbound', priority: 150 },
    ];
    const state = liveStateAfter(renderAzure(model(BASE.slice(0, 3)), target, CTX), unowned, target, 'big');
    expect(state.reserved).toEqual({ nsgPriorities: { inbound: [150, 300], outbound: [300] } });
    const r = reservedPriorities(state.reserved);
    expect([...r.inbound]).toEqual([150, 300]);
    const nsg = state.resources.find((x) => x.type === AZURE_TYPES.nsg)!;
    expect(nsg.children.some((c) => c.key.startsWith('ops-'))).toBe(false);
    expect(state.diagnostics).toEqual([]);
  });

  it("stops the plan when a hand-made rule holds a priority the model's fixed rules need (4096, 4095 inbound)", () => {
    const state = liveStateAfter(
      null,
      [
        { name: 'ops-deny', direction: 'Outbound', priority: 4096 },
        { name: 'ops-lb', direction: 'Inbound', priority: 4095 },
      ],
      target,
      'big',
    );
    const errors = state.diagnostics.filter((d) => d.severity === 'error');
    expect(errors.map((d) => d.code)).toEqual(['azure-priority-in-the-way', 'azure-priority-in-the-way']);
    expect(errors[0]!.message).toContain('ops-deny');
    expect(errors[0]!.message).toContain('big-deny-all-out');
    expect(errors[1]!.message).toContain('ops-lb');
    expect(errors[1]!.message).toContain('4095');
  });

  it('falls back to plain hash slots when hand-made rules leave too little room in a band (deterministic, no rule dropped)', () => {
    // The deny band (100-199) holds 100 priorities; 99 hand-made inbound rules leave room for one,
    // but the model has two inbound guardrail denies.
    const unowned: HandRule[] = Array.from({ length: 99 }, (_, i) => ({
      name: `ops-${i}`,
      direction: 'Inbound',
      priority: 100 + i,
    }));
    const live = liveStateAfter(null, unowned, target, 'big');
    const withLive = rules(renderAzure(model(BASE), target, { ...CTX, live }));
    expect([...withLive.keys()]).toEqual([...PLAIN.keys()]);
    const denies = [...withLive].filter(([n]) => n.startsWith('big-deny-no-ssh'));
    expect(denies.map(([n, a]) => [n, a.priority])).toEqual(
      [...PLAIN].filter(([n]) => n.startsWith('big-deny-no-ssh')).map(([n, a]) => [n, a.priority]),
    );
  });
});
