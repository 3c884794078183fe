import { sortDiagnostics } from '../diagnostics.js';
import type { Json, Plan, TargetPlan } from './types.js';

/**
 * The `--json` rendering of a plan: a versioned, stable document for pipelines. It is the Plan
 * without each target's `prior` (what was read: large, and kept only in saved plans), plus an
 * overall `widensAccess` and `changes` flag. Bump PLAN_JSON_FORMAT_VERSION on any breaking change.
 */

/** Version of the `plan --json` document. */
export const PLAN_JSON_FORMAT_VERSION = 1;

/** One target's entry of the document's `targets`: what `plan --json` keeps of a TargetPlan (not its `prior`). */
export function planJsonTarget(t: TargetPlan) {
  return {
    target: t.target,
    provider: t.provider,
    source: t.source,
    fingerprint: t.fingerprint,
    changes: t.changes,
    diagnostics: sortDiagnostics(t.diagnostics),
  };
}

/** A target's entry of the `plan --json` document. */
export type PlanJsonTarget = ReturnType<typeof planJsonTarget>;

/**
 * The `plan --json` document of a plan's parts and its targets' entries (in the plan's target
 * order), as the objects it is made of: JSON text once stringified, undefined fields dropped.
 * `plan` writes it in pieces (src/commands/json-stream.ts) instead of as one string: at 1,000
 * bench segments the document is already 200 MB of text.
 */
export function planJsonDocument(
  plan: Pick<Plan, 'model' | 'summary' | 'diagnostics'>,
  targets: readonly PlanJsonTarget[],
) {
  const changes = targets.some((t) => t.changes.length > 0);
  return {
    formatVersion: PLAN_JSON_FORMAT_VERSION,
    model: plan.model,
    summary: plan.summary,
    changes,
    widensAccess: targets.some((t) => t.changes.some((c) => c.widensAccess)),
    targets,
    diagnostics: sortDiagnostics(plan.diagnostics),
  };
}

/** The `plan --json` document as plain data. */
export function planToJson(plan: Plan): Json {
  const doc = planJsonDocument(plan, plan.targets.map(planJsonTarget));
  // The types are JSON already (readonly, optional fields); the round trip drops undefined fields.
  return JSON.parse(JSON.stringify(doc)) as Json;
}

/** The `plan --json` text (2-space indented, newline-terminated). */
export function formatPlanJson(plan: Plan): string {
  return `${JSON.stringify(planToJson(plan), null, 2)}\n`;
}
