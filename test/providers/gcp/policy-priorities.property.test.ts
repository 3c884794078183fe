import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { POLICY_TYPE, reservedJson } from '../../../providers/gcp/canonical.js';
import { POLICY_PRIORITY_BAND } from '../../../providers/gcp/limits.js';
import { renderGcp } from '../../../providers/gcp/render.js';
import { slotHash } from '../../../providers/kit/slots.js';
import type { RuleSet, TargetSpec } from '../../../src/compile/types.js';
import type { ProviderState, Resource } from '../../../src/plan/types.js';
import { flow, fqdns, gcpTarget, ruleSet, seg, tcp } from '../../helpers/rulesets.js';

/**
 * Network firewall policy priorities with the live state (what `createPlan` gives render): a
 * policy rule's priority is its identity, so a rule that moves is deleted and re-created. Over
 * random additions and removals of FQDN flows, among them rules whose hash homes collide (the
 * case where the old key-order probing moved a rule), no rule present before and after a step
 * changes priority, and none takes a priority an unowned rule holds.
 */

const base = gcpTarget('gcp-test');
const target: TargetSpec = {
  ...base,
  kind: 'gcp',
  gcp: { ...(base as Extract<TargetSpec, { kind: 'gcp' }>).gcp, firewallPolicy: 'egress' },
};
const MODEL = 'shop';
const SEGMENT = 'app';

/** The rule key render gives the FQDN egress of SEGMENT to `entity` (one chunk of names). */
const keyOf = (entity: string) => `policy|${SEGMENT}|egress|fqdns:${entity}`;
const homeOf = (entity: string) => slotHash(`${MODEL}\n${keyOf(entity)}`) % POLICY_PRIORITY_BAND.size;

/** Pairs of entity names whose rules share a hash home in the band (found by scanning names: birthday odds). */
const COLLIDING: readonly (readonly [string, string])[] = (() => {
  const seen = new Map<number, string>();
  const pairs: [string, string][] = [];
  for (let i = 0; pairs.length < 3 && i < 50_000; i++) {
    const e = `e${i}`;
    const h = homeOf(e);
    const other = seen.get(h);
    if (other === undefined) seen.set(h, e);
    else pairs.push([other, e].sort() as [string, string]);
  }
  return pairs;
})();

const ENTITIES = [...new Set([...COLLIDING.flat(), ...Array.from({ length: 8 }, (_, i) => `p${i}`)])];

function model(entities: readonly string[]): RuleSet {
  return ruleSet({
    name: MODEL,
    targets: [target],
    segments: [SEGMENT],
    rules: entities.flatMap((e) => flow(seg(SEGMENT), fqdns(e, [`${e}.example.com`]), tcp(443))),
  });
}

/** What read gives after an apply of `resources`, with unowned rules at `unowned` priorities. */
function liveAfter(resources: readonly Resource[], unowned: readonly number[]): ProviderState {
  return {
    target: target.name,
    source: 'live',
    resources: resources.filter((r) => r.type === POLICY_TYPE),
    fingerprint: '',
    diagnostics: [],
    reserved: reservedJson({ policyPriorities: [...unowned] }),
  };
}

/** Rule name → priority of the rendered policy rules. */
function priorities(resources: readonly Resource[]): Map<string, number> {
  const policy = resources.find((r) => r.type === POLICY_TYPE)!;
  return new Map(policy.children.map((c) => [String(c.attributes['ruleName']), Number(c.attributes['priority'])]));
}

describe('gcp policy priorities with the live state', () => {
  it('found colliding homes to exercise probing', () => {
    expect(COLLIDING.length).toBeGreaterThan(0);
    for (const [a, b] of COLLIDING) expect(homeOf(a)).toBe(homeOf(b));
  });

  it('adding a rule whose home another rule holds moves neither (key-order probing used to push the live one off)', () => {
    const [first, second] = COLLIDING[0]!;
    // The later key lives alone at the shared home; then the earlier key arrives.
    const before = renderGcp(model([second]), target).resources;
    const held = priorities(before);
    expect([...held.values()]).toEqual([POLICY_PRIORITY_BAND.start + homeOf(second)]);
    const after = priorities(renderGcp(model([first, second]), target, liveAfter(before, [])).resources);
    for (const [name, p] of held) expect(after.get(name)).toBe(p);
    expect(new Set(after.values()).size).toBe(2);
  });

  it('random additions and removals move ZERO other rules and never take an unowned rule’s priority', () => {
    const plain = [...priorities(renderGcp(model(ENTITIES), target).resources).values()];
    const unownedArb = fc
      .tuple(
        fc.uniqueArray(
          fc.integer({
            min: POLICY_PRIORITY_BAND.start,
            max: POLICY_PRIORITY_BAND.start + POLICY_PRIORITY_BAND.size - 1,
          }),
          { maxLength: 10 },
        ),
        fc.subarray(plain, { maxLength: 6 }),
      )
      .map(([random, stolen]) => [...new Set([...random, ...stolen])]);
    fc.assert(
      fc.property(
        fc.subarray(ENTITIES),
        unownedArb,
        fc.array(fc.tuple(fc.boolean(), fc.constantFrom(...ENTITIES)), { minLength: 1, maxLength: 4 }),
        (start, unowned, ops) => {
          let entities = start;
          let resources = renderGcp(model(entities), target, liveAfter([], unowned)).resources;
          for (const [add, e] of ops) {
            const live = liveAfter(resources, unowned);
            const held = priorities(resources);
            entities = add ? [...new Set([...entities, e])] : entities.filter((x) => x !== e);
            resources = renderGcp(model(entities), target, live).resources;
            const next = priorities(resources);
            for (const [name, p] of next) if (held.has(name)) expect(p).toBe(held.get(name));
            const values = [...next.values()];
            expect(new Set(values).size).toBe(values.length);
            for (const p of values) expect(unowned).not.toContain(p);
          }
        },
      ),
      { numRuns: 20 },
    );
  });
});
