import { describe, expect, it } from 'vitest';
import { buildSteps, findCycle } from '../../src/apply/build-steps.js';
import { summarize } from '../../src/plan/create-plan.js';
import { diffResources } from '../../src/plan/diff.js';
import type { Child, Plan, Resource } from '../../src/plan/types.js';

function child(key: string, dependsOn: string[] = []): Child {
  return { key, summary: key, attributes: { key }, ...(dependsOn.length > 0 ? { dependsOn } : {}) };
}

function res(name: string, children: Child[] = [], description = 'd'): Resource {
  return {
    address: `t.g.${name}`,
    target: 't',
    type: 'g',
    name,
    attributes: { description },
    children,
    forceNew: ['description'],
  };
}

function planOf(desired: Resource[], live: Resource[]): Plan {
  const changes = diffResources(desired, live);
  return {
    formatVersion: 1,
    model: { name: 'm', digest: 'x', file: 'm.yaml' },
    targets: [
      { target: 't', provider: 'aws', source: 'live', fingerprint: 'f', prior: live, changes, diagnostics: [] },
    ],
    diagnostics: [],
    summary: summarize(changes),
  };
}

function waits(plan: Plan): Record<string, readonly string[]> {
  return Object.fromEntries(buildSteps(plan).map((s) => [s.step.id, s.waitsFor]));
}

describe('buildSteps', () => {
  it('orders create → add → remove → delete, rules after the objects they name, deletes after the rules naming them', () => {
    const plan = planOf(
      [res('new'), res('web', [child('from new', ['t.g.new'])])],
      [res('old', [child('from web', ['t.g.web'])]), res('web', [child('from old', ['t.g.old'])])],
    );
    expect(waits(plan)).toEqual({
      'create:t.g.new': [],
      'add:t.g.web': ['create:t.g.new'],
      // The doomed object's rules that name others go first, after every create/add (the barrier).
      'remove:t.g.old': ['add:t.g.web', 'create:t.g.new'],
      'remove:t.g.web': ['add:t.g.web', 'create:t.g.new'],
      'delete:t.g.old': ['add:t.g.web', 'create:t.g.new', 'remove:t.g.old', 'remove:t.g.web'],
    });
    expect(findCycle(buildSteps(plan))).toEqual([]);
  });

  it('replaces delete-then-create without a cycle when another object gains a rule naming the replacement', () => {
    const plan = planOf(
      [res('a', [], 'new'), res('b', [child('from a', ['t.g.a'])]), res('c', [child('x')])],
      [res('a', [], 'old'), res('b', []), res('c', [child('y')])],
    );
    const w = waits(plan);
    expect(w['create:t.g.a']).toEqual(['delete:t.g.a']);
    expect(w['add:t.g.b']).toEqual(['create:t.g.a']);
    // The replacement's delete waits for the other makers that do not need it.
    expect(w['delete:t.g.a']).toEqual(['add:t.g.c']);
    expect(w['remove:t.g.c']).toEqual(['add:t.g.b', 'add:t.g.c']);
    expect(findCycle(buildSteps(plan))).toEqual([]);
  });

  it('finds a cycle when there is one', () => {
    const steps = buildSteps(planOf([res('a')], []));
    const looped = [{ ...steps[0]!, waitsFor: [steps[0]!.step.id] }];
    expect(findCycle(looped)).toEqual(['create:t.g.a']);
  });
});
