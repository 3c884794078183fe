import type { ApplyPhase, ApplyStep } from '../provider.js';
import type { Change, ChildChange, Plan } from '../plan/types.js';

/**
 * The apply graph, built from `Plan.changes` only (nothing outside the plan is ever touched).
 *
 * Per target, make-before-break (DESIGN §3):
 *
 *   create ──▶ add ──┬──▶ remove ──▶ delete
 *   (objects) (rules) │    (old rules) (objects)
 *                     └─ every create/add of the target finishes (successfully) before any
 *                        remove/delete of that target starts; a failed one holds them all back.
 *
 * Edges on top of that barrier:
 *  - every removal of a target finishes before any (non-replace) delete of that target starts;
 *  - same address: create → add → remove → delete, so steps of one object never run concurrently;
 *    a deleted object whose rules refer to other objects first has those rules removed (`remove`);
 *  - `Resource.dependsOn` / `Child.dependsOn`: a create (or add) waits for the create of what it
 *    depends on; a delete waits for the removal of every child that depends on it and for the delete
 *    of every object that depends on it (Terraform's inverted destroy edges).
 *  - replace (delete then create the same name): `delete:A` → `create:A` → `add:A`. The delete
 *    waits for the target's other creates/adds that do not need the new A, and for the removal of
 *    rules that refer to the old A; other removals do not wait for the replacement (it would cycle).
 */

/** A step with the ids of the steps it waits for. */
export interface PlannedStep {
  readonly step: ApplyStep;
  readonly target: string;
  readonly address: string;
  /** Ids of the steps that must succeed before this one runs; sorted. */
  readonly waitsFor: readonly string[];
}

const PHASE_RANK: { readonly [P in ApplyPhase]: number } = { create: 0, add: 1, remove: 2, delete: 3 };

function stepId(phase: ApplyPhase, address: string): string {
  return `${phase}:${address}`;
}

function makeStep(phase: ApplyPhase, change: Change, children: readonly ChildChange[]): ApplyStep {
  return { id: stepId(phase, change.address), phase, change, children };
}

/** The steps of one change, in the order they run for that address. */
export function stepsOfChange(change: Change): ApplyStep[] {
  const adds = change.childChanges.filter((c) => c.action !== 'delete');
  const removes = change.childChanges.filter((c) => c.action === 'delete');
  switch (change.action) {
    case 'create':
      return [makeStep('create', change, []), ...(adds.length > 0 ? [makeStep('add', change, adds)] : [])];
    case 'update': {
      const steps: ApplyStep[] = [];
      if (adds.length > 0 || change.attributeChanges.length > 0) steps.push(makeStep('add', change, adds));
      if (removes.length > 0) steps.push(makeStep('remove', change, removes));
      return steps;
    }
    case 'delete': {
      // Rules that refer to other objects go first, so two groups that refer to each other can
      // both be deleted (the cloud refuses to delete a group that a rule still names).
      const refs = removes.filter((c) => (c.before?.dependsOn ?? []).length > 0);
      return [...(refs.length > 0 ? [makeStep('remove', change, refs)] : []), makeStep('delete', change, [])];
    }
    case 'replace':
      return [
        makeStep('delete', change, []),
        makeStep('create', change, []),
        ...(adds.length > 0 ? [makeStep('add', change, adds)] : []),
      ];
  }
}

/** Builds every step of a plan with its dependencies, sorted by (target, phase, address). */
export function buildSteps(plan: Plan): PlannedStep[] {
  const changes = plan.targets.flatMap((t) => t.changes);
  const steps = changes.flatMap(stepsOfChange);
  const byId = new Map(steps.map((s) => [s.id, s]));
  const waits = new Map<string, Set<string>>(steps.map((s) => [s.id, new Set<string>()]));
  const edge = (from: string, to: string): void => {
    if (from !== to && byId.has(from)) waits.get(to)?.add(from);
  };
  const isReplace = (s: ApplyStep): boolean => s.change.action === 'replace';

  // Same-address order.
  for (const change of changes) {
    const own = stepsOfChange(change);
    for (let i = 1; i < own.length; i++) edge(own[i - 1]!.id, own[i]!.id);
  }

  // Creates/adds wait for the creates of what they depend on.
  for (const s of steps) {
    if (s.phase === 'create') {
      for (const dep of s.change.after?.dependsOn ?? []) edge(stepId('create', dep), s.id);
    } else if (s.phase === 'add') {
      for (const c of s.children) for (const dep of c.after?.dependsOn ?? []) edge(stepId('create', dep), s.id);
      for (const dep of s.change.after?.dependsOn ?? []) edge(stepId('create', dep), s.id);
    }
  }

  // Deletes wait for what refers to the deleted object to go first.
  for (const s of steps) {
    if (s.phase === 'remove') {
      for (const c of s.children) for (const dep of c.before?.dependsOn ?? []) edge(s.id, stepId('delete', dep));
    } else if (s.phase === 'delete') {
      for (const dep of s.change.before?.dependsOn ?? []) edge(s.id, stepId('delete', dep));
    }
  }

  // The make-before-break barrier, per target.
  const makers = (target: string) =>
    steps.filter((s) => s.change.target === target && (s.phase === 'create' || s.phase === 'add') && !isReplace(s));
  const needsReplacement = (id: string, seen = new Set<string>()): boolean => {
    if (seen.has(id)) return false;
    seen.add(id);
    for (const w of waits.get(id) ?? []) {
      const ws = byId.get(w)!;
      if (isReplace(ws) && (ws.phase === 'create' || ws.phase === 'add')) return true;
      if (needsReplacement(w, seen)) return true;
    }
    return false;
  };
  // Steps a replacement's delete waits for must not wait for the replacement themselves.
  const beforeReplaceDelete = new Set<string>();
  for (const s of steps) {
    if (isReplace(s) && s.phase === 'delete') for (const w of waits.get(s.id)!) beforeReplaceDelete.add(w);
  }
  for (const target of new Set(steps.map((s) => s.change.target))) {
    const m = makers(target);
    const independent = m.filter((x) => !needsReplacement(x.id));
    for (const s of steps) {
      if (s.change.target !== target || (s.phase !== 'remove' && s.phase !== 'delete')) continue;
      const free = isReplace(s) || beforeReplaceDelete.has(s.id);
      for (const x of free ? independent : m) edge(x.id, s.id);
    }
    // Removals before deletions: an object is deleted only after every rule removal of its target
    // has finished, so a delete never races the removal of a rule that still names the object,
    // even when the live state did not say that the rule refers to it (`dependsOn` is a hint a
    // reader may miss; the cloud refuses the delete or, worse, drops the rule). Removals that wait
    // for a replacement are left out: the replacement's delete may itself wait for this delete.
    const removals = steps.filter(
      (x) => x.change.target === target && x.phase === 'remove' && !isReplace(x) && !needsReplacement(x.id),
    );
    for (const s of steps) {
      if (s.change.target !== target || s.phase !== 'delete' || isReplace(s)) continue;
      for (const x of removals) edge(x.id, s.id);
    }
  }

  const planned = steps.map(
    (s): PlannedStep => ({
      step: s,
      target: s.change.target,
      address: s.change.address,
      waitsFor: [...waits.get(s.id)!].sort(),
    }),
  );
  return planned.sort(
    (a, b) =>
      (a.target < b.target ? -1 : a.target > b.target ? 1 : 0) ||
      PHASE_RANK[a.step.phase] - PHASE_RANK[b.step.phase] ||
      (a.address < b.address ? -1 : a.address > b.address ? 1 : 0),
  );
}

/** Ids of the steps on a dependency cycle, or [] when the graph is acyclic (it always should be). */
export function findCycle(steps: readonly PlannedStep[]): string[] {
  const indegree = new Map(steps.map((s) => [s.step.id, s.waitsFor.length]));
  const dependants = new Map<string, string[]>();
  for (const s of steps) for (const w of s.waitsFor) dependants.set(w, [...(dependants.get(w) ?? []), s.step.id]);
  const ready = steps.filter((s) => s.waitsFor.length === 0).map((s) => s.step.id);
  let seen = 0;
  while (ready.length > 0) {
    const id = ready.pop()!;
    seen++;
    for (const d of dependants.get(id) ?? []) {
      const n = indegree.get(d)! - 1;
      indegree.set(d, n);
      if (n === 0) ready.push(d);
    }
  }
  if (seen === steps.length) return [];
  return [...indegree]
    .filter(([, n]) => n > 0)
    .map(([id]) => id)
    .sort();
}
