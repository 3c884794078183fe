import { sortDiagnostics } from '../diagnostics.js';
import type { Json, Plan } from './types.js';

/**
 * The `--json` rendering of a plan: a versioned, stable document for pipelines. It is the Plan
 * without each target's `prior` (what was read: large, and kept only in saved plans), plus an
 * overall `widensAccess` and `changes` flag. Bump PLAN_JSON_FORMAT_VERSION on any breaking change.
 */

/** Version of the `plan --json` document. */
export const PLAN_JSON_FORMAT_VERSION = 1;

/** The `plan --json` document as plain data. */
export function planToJson(plan: Plan): Json {
  const changes = plan.targets.flatMap((t) => t.changes);
  const doc = {
    formatVersion: PLAN_JSON_FORMAT_VERSION,
    model: plan.model,
    summary: plan.summary,
    changes: changes.length > 0,
    widensAccess: changes.some((c) => c.widensAccess),
    targets: plan.targets.map((t) => ({
      target: t.target,
      provider: t.provider,
      source: t.source,
      fingerprint: t.fingerprint,
      changes: t.changes,
      diagnostics: sortDiagnostics(t.diagnostics),
    })),
    diagnostics: sortDiagnostics(plan.diagnostics),
  };
  // The types are JSON already (readonly, optional fields); the round trip drops undefined fields.
  return JSON.parse(JSON.stringify(doc)) as Json;
}

/** The `plan --json` text (2-space indented, newline-terminated). */
export function formatPlanJson(plan: Plan): string {
  return `${JSON.stringify(planToJson(plan), null, 2)}\n`;
}
