import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { applyPlan } from '../../src/apply/apply-plan.js';
import { createPlan } from '../../src/plan/create-plan.js';
import { diffResources } from '../../src/plan/diff.js';
import type { RuleSet } from '../../src/compile/types.js';
import type { Plan, Resource } from '../../src/plan/types.js';
import {
  allowedFlows,
  cloneCloud,
  createFakeCloud,
  createFakeProvider,
  dumpCloud,
  fakeProviders,
  seedGroup,
  setFaults,
  type FakeCloud,
} from '../helpers/fake-provider.js';
import { awsTarget, cidrs, flow, internet, ruleSet, seg, tcp } from '../helpers/rulesets.js';

/**
 * Engine properties over random models, with the fault-injecting fake provider:
 * - a plan against the state the model itself renders (and, after an apply, reads back) is empty;
 * - failure of call k (for every k), a crash at call k, or throttling: a re-run converges;
 * - nothing outside the plan is ever changed;
 * - make-before-break: a flow allowed before and after the apply is allowed at every intermediate state.
 */

const SEGMENTS = ['a', 'b', 'c', 'd', 'e'] as const;
// Overlapping ranges, so a flow can be allowed by different rules before and after a change.
const PORTS = [
  [22, 22],
  [443, 443],
  [400, 500],
  [5432, 5432],
  [8080, 8080],
  [0, 65535],
] as const;
const TARGET = 'aws-test';
const noDns = async () => ({ ipv4: [], ipv6: [] });

interface FlowSpec {
  readonly from: string;
  readonly to: string;
  readonly port: readonly [number, number];
}

const flowArb: fc.Arbitrary<FlowSpec> = fc.record({
  from: fc.oneof(fc.constantFrom(...SEGMENTS), fc.constantFrom('internet', 'office', 'office-v4')),
  to: fc.constantFrom(...SEGMENTS),
  port: fc.constantFrom(...PORTS),
});

function toRuleSet(segments: readonly string[], flows: readonly FlowSpec[]): RuleSet {
  const peer = (name: string) =>
    name === 'internet'
      ? internet()
      : name === 'office'
        ? cidrs('office', ['203.0.113.0/24'], ['2001:db8:100::/48'])
        : name === 'office-v4'
          ? cidrs('office-v4', ['203.0.113.0/25'])
          : seg(name);
  const known = new Set<string>(segments);
  const rules = flows
    .filter((f) => known.has(f.to) && (!SEGMENTS.includes(f.from as never) || known.has(f.from)) && f.from !== f.to)
    .flatMap((f, i) => flow(peer(f.from), seg(f.to), tcp(f.port[0], f.port[1]), 40 + i));
  return ruleSet({ segments: [...segments], rules, targets: [awsTarget(TARGET)] });
}

const modelArb: fc.Arbitrary<RuleSet> = fc
  .record({ segments: fc.subarray([...SEGMENTS], { minLength: 1 }), flows: fc.array(flowArb, { maxLength: 8 }) })
  .map(({ segments, flows }) => toRuleSet(segments, flows));

/**
 * A model and an edit of it: some flows get other (often overlapping) ports or peers, some go,
 * some come, a segment may go or come. Edits are where make-before-break matters: the same flow
 * allowed by different rules before and after.
 */
const transitionArb: fc.Arbitrary<[RuleSet, RuleSet]> = fc
  .record({
    segments: fc.subarray([...SEGMENTS], { minLength: 2 }),
    flows: fc.array(flowArb, { minLength: 1, maxLength: 8 }),
    edits: fc.array(
      fc.oneof(
        fc.constant<'keep'>('keep'),
        fc.constant<'drop'>('drop'),
        flowArb.map((f) => ({ port: f.port, from: f.from })),
      ),
      {
        minLength: 8,
        maxLength: 8,
      },
    ),
    added: fc.array(flowArb, { maxLength: 3 }),
    segmentEdit: fc.constantFrom('none', 'drop-last', 'add-all'),
  })
  .map(({ segments, flows, edits, added, segmentEdit }) => {
    const next = flows.flatMap((f, i): FlowSpec[] => {
      const e = edits[i]!;
      if (e === 'keep') return [f];
      if (e === 'drop') return [];
      return [{ ...f, port: e.port, from: i % 2 === 0 ? f.from : e.from }];
    });
    const segs2 =
      segmentEdit === 'drop-last' ? segments.slice(0, -1) : segmentEdit === 'add-all' ? [...SEGMENTS] : segments;
    return [toRuleSet(segments, flows), toRuleSet(segs2, [...next, ...added])];
  });

/** Which fake: rules as children of their group (AWS-like) or as objects of their own (GCP-like). */
let standaloneRules = false;

function opts(cloud: FakeCloud) {
  const provider = createFakeProvider(cloud, { standaloneRules });
  return {
    providers: fakeProviders(provider),
    source: () => ({ kind: 'live' as const }),
    resolver: noDns,
    retryDelayMs: 0,
  };
}

async function plan(cloud: FakeCloud, rules: RuleSet): Promise<Plan> {
  return createPlan(rules, opts(cloud));
}

/** Applies and swallows a crash (the process "died"); returns the report or undefined. */
async function apply(cloud: FakeCloud, rules: RuleSet, parallelism: number) {
  const p = await plan(cloud, rules);
  try {
    return { plan: p, report: await applyPlan(p, rules, { ...opts(cloud), parallelism }) };
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('simulated crash')) return { plan: p, report: undefined };
    throw err;
  }
}

/** A cloud with an unowned group and the model `from` applied. */
async function baseCloud(from: RuleSet): Promise<FakeCloud> {
  const cloud = createFakeCloud();
  seedGroup(cloud, TARGET, {
    name: 'legacy',
    rules: [{ direction: 'ingress', service: 'tcp/22-22', peer: 'cidr:10.0.0.0/8' }],
  });
  const r = await apply(cloud, from, 4);
  expect(r.report?.ok).toBe(true);
  return cloud;
}

function intersect(a: Set<string>, b: Set<string>): Set<string> {
  return new Set([...a].filter((x) => b.has(x)));
}

/** Every mutating call touched only objects (and rules) the plan changes. */
function touchedOnlyPlanned(log: readonly string[], p: Plan): void {
  const changes = new Map(p.targets.flatMap((t) => t.changes).map((c) => [c.name, c]));
  for (const entry of log) {
    const [verb, group, ...rest] = entry.split(' ');
    const change = changes.get(group!);
    expect(change, `${entry} is outside the plan`).toBeDefined();
    if (verb === 'add' || verb === 'remove') {
      const key = rest.join(' ');
      expect(
        change!.childChanges.map((c) => c.key),
        `${entry}: rule outside the plan`,
      ).toContain(key);
    }
    if (verb === 'update') expect(change!.attributeChanges.length).toBeGreaterThan(0);
  }
}

function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const out = [...xs];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function reorder(r: Resource, seed: number): Resource {
  const attributes = Object.fromEntries(shuffled(Object.entries(r.attributes), seed));
  return { ...r, attributes, children: shuffled(r.children, seed + 1) };
}

describe.each([
  ['rules as children of groups', false],
  ['rules as objects of their own', true],
])('engine properties (%s)', (_label, standalone) => {
  beforeEach(() => {
    standaloneRules = standalone;
  });

  it('a plan against the state the model itself renders is empty', async () => {
    await fc.assert(
      fc.asyncProperty(modelArb, fc.integer({ min: 1, max: 1000 }), async (rules, seed) => {
        const provider = createFakeProvider(createFakeCloud(), { standaloneRules });
        const target = rules.targets[0]!;
        const rendered = provider.render(rules, target, { resolved: new Map() });
        // The same objects in another order, keys shuffled: still no change.
        expect(
          diffResources(
            rendered,
            shuffled(rendered, seed).map((r, i) => reorder(r, seed + i)),
          ),
        ).toEqual([]);
        // Applied to an empty cloud and read back: no change either.
        const cloud = createFakeCloud();
        const r = await apply(cloud, rules, 3);
        expect(r.report?.ok).toBe(true);
        const again = await plan(cloud, rules);
        expect(again.targets[0]!.changes).toEqual([]);
      }),
      { numRuns: 60 },
    );
  });

  it('after a failure of call k (every k) a re-run converges, touching only planned objects, never cutting a kept flow', async () => {
    await fc.assert(
      fc.asyncProperty(transitionArb, fc.integer({ min: 1, max: 4 }), async ([from, to], parallelism) => {
        const base = await baseCloud(from);
        const legacy = JSON.stringify(
          (dumpCloud(base) as Record<string, { name: string }[]>)[TARGET]!.find((g) => g.name === 'legacy'),
        );
        // A clean run tells how many calls the change takes, and the flows allowed at the end.
        const clean = cloneCloud(base);
        const cleanRun = await apply(clean, to, parallelism);
        expect(cleanRun.report?.ok).toBe(true);
        touchedOnlyPlanned(clean.log, cleanRun.plan);
        const n = clean.log.length;
        const kept = intersect(allowedFlows(base, TARGET), allowedFlows(clean, TARGET));
        const expected = JSON.stringify(dumpCloud(clean)).replace(/"(sgr?|fwr?)-\d+"/g, '"$1"');

        for (let k = 1; k <= n; k++) {
          for (const fault of ['failAt', 'crashAt'] as const) {
            const cloud = cloneCloud(base);
            cloud.onChange = (c) => {
              const now = allowedFlows(c, TARGET);
              for (const f of kept) expect(now.has(f), `flow ${f} cut after ${c.log.at(-1)}`).toBe(true);
            };
            setFaults(cloud, { [fault]: k });
            const first = await apply(cloud, to, parallelism);
            if (fault === 'failAt') expect(first.report?.ok).toBe(false);
            else expect(first.report).toBeUndefined();
            touchedOnlyPlanned(cloud.log, first.plan);
            setFaults(cloud, {});
            cloud.log.length = 0;
            const second = await apply(cloud, to, parallelism);
            expect(second.report?.ok).toBe(true);
            touchedOnlyPlanned(cloud.log, second.plan);
            expect((await plan(cloud, to)).targets[0]!.changes).toEqual([]);
            // Same content as the clean run (ids differ), the unowned group untouched.
            expect(JSON.stringify(dumpCloud(cloud)).replace(/"(sgr?|fwr?)-\d+"/g, '"$1"')).toBe(expected);
            const groups = (dumpCloud(cloud) as Record<string, { name: string }[]>)[TARGET]!;
            expect(JSON.stringify(groups.find((g) => g.name === 'legacy'))).toBe(legacy);
          }
        }
      }),
      { numRuns: 25 },
    );
  });

  it('throttling is retried and the apply completes in one run', async () => {
    await fc.assert(
      fc.asyncProperty(modelArb, fc.integer({ min: 1, max: 3 }), async (rules, throttle) => {
        const cloud = createFakeCloud();
        setFaults(cloud, { throttle });
        const r = await apply(cloud, rules, 2);
        expect(r.report?.ok).toBe(true);
        expect((await plan(cloud, rules)).targets[0]!.changes).toEqual([]);
      }),
      { numRuns: 30 },
    );
  });
});

describe('make-before-break without dependsOn from the reader', () => {
  it('never deletes a group while a rule that names it is still being removed, and converges in one run', async () => {
    const dropping = transitionArb.filter(([from, to]) => to.segments.length < from.segments.length);
    await fc.assert(
      fc.asyncProperty(dropping, fc.integer({ min: 2, max: 4 }), async ([from, to], parallelism) => {
        const cloud = createFakeCloud();
        const provider = createFakeProvider(cloud, { liveDependsOn: false, slowRemovals: true });
        const o = {
          providers: fakeProviders(provider),
          source: () => ({ kind: 'live' as const }),
          resolver: noDns,
          retryDelayMs: 0,
        };
        const first = await applyPlan(await createPlan(from, o), from, { ...o, parallelism });
        expect(first.ok).toBe(true);
        const p = await createPlan(to, o);
        const report = await applyPlan(p, to, { ...o, parallelism });
        expect(report.ok, JSON.stringify(report)).toBe(true);
        expect((await createPlan(to, o)).targets[0]!.changes).toEqual([]);
      }),
      { numRuns: 40 },
    );
  });
});
