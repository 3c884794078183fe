import type { CloudId, RuleSet, TargetSpec } from '../compile/types.js';
import { error } from '../diagnostics.js';
import { ValidationError } from '../errors.js';
import type { Provider, StateSource } from '../provider.js';
import { VERSION } from '../version.js';
import { diffResources } from './diff.js';
import type { Change, Plan } from './types.js';

/**
 * Saved plans (`plan --out FILE`, `apply FILE`): the plan, including what each target's state was
 * when it was made (`prior` + `fingerprint`), and the RuleSet it was made from, so `apply` can run
 * it without the model and re-read each target to refuse a stale plan.
 */

/** Marker of a saved plan file. */
export const SAVED_PLAN_KIND = 'bulkhead-plan';

/** The saved-plan file's format version. */
export const SAVED_PLAN_FORMAT_VERSION = 1;

/** A saved plan file. */
export interface SavedPlan {
  readonly kind: typeof SAVED_PLAN_KIND;
  readonly formatVersion: typeof SAVED_PLAN_FORMAT_VERSION;
  /** Bulkhead version that wrote it (informational). */
  readonly bulkhead: string;
  readonly plan: Plan;
  readonly rules: RuleSet;
}

/** The saved plan file's text. */
export function serializeSavedPlan(plan: Plan, rules: RuleSet): string {
  const saved: SavedPlan = { kind: SAVED_PLAN_KIND, formatVersion: SAVED_PLAN_FORMAT_VERSION, bulkhead: VERSION, plan, rules };
  return `${JSON.stringify(saved, null, 2)}\n`;
}

/** True when `text` looks like a saved plan (JSON with the marker), not a model. */
export function isSavedPlanText(text: string): boolean {
  const head = text.trimStart();
  if (!head.startsWith('{')) return false;
  try {
    return (JSON.parse(text) as { kind?: unknown }).kind === SAVED_PLAN_KIND;
  } catch {
    return false;
  }
}

/** Parses and checks a saved plan; a broken or foreign file is a ValidationError naming the file. */
export function parseSavedPlan(text: string, file: string): SavedPlan {
  const bad = (message: string): never => {
    throw new ValidationError([error('plan-file-invalid', message, { file, line: 1, column: 1 })], `${file} is not a usable saved plan`);
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return bad(`not JSON: ${(err as Error).message}`);
  }
  const s = parsed as Partial<SavedPlan>;
  if (s === null || typeof s !== 'object' || s.kind !== SAVED_PLAN_KIND) return bad(`not a saved plan (no "kind": "${SAVED_PLAN_KIND}")`);
  if (s.formatVersion !== SAVED_PLAN_FORMAT_VERSION) {
    return bad(`saved plan format ${String(s.formatVersion)} is not supported (this Bulkhead reads ${SAVED_PLAN_FORMAT_VERSION})`);
  }
  const plan = s.plan;
  const rules = s.rules;
  if (!plan || plan.formatVersion !== 1 || !Array.isArray(plan.targets) || !rules || !Array.isArray(rules.targets)) {
    return bad('the plan or the rules are missing');
  }
  if (plan.model.digest !== rules.model.digest) return bad('the plan and the rules it carries come from different models');
  for (const t of plan.targets) {
    if (typeof t.fingerprint !== 'string' || !Array.isArray(t.prior) || !Array.isArray(t.changes)) {
      return bad(`target ${String(t.target)} lacks its fingerprint, prior state or changes`);
    }
  }
  return s as SavedPlan;
}

/** What changed in one target since a saved plan was made. */
export interface StaleTarget {
  readonly target: string;
  /** Owned objects that changed: `create` = appeared, `delete` = disappeared, `update` = modified since the plan. */
  readonly changes: readonly Change[];
  /** True when only objects outside the model changed (the fingerprint covers them too). */
  readonly outsideOnly: boolean;
}

/**
 * Re-reads every target of a saved plan and compares fingerprints. Returns the stale targets
 * (empty when the plan still applies). A target whose provider is gone is a ValidationError.
 */
export async function checkStaleness(
  saved: SavedPlan,
  options: { providers: (id: CloudId) => Provider | undefined; source: (target: TargetSpec) => StateSource },
): Promise<StaleTarget[]> {
  const stale: StaleTarget[] = [];
  await Promise.all(
    saved.plan.targets.map(async (tp) => {
      const target = saved.rules.targets.find((t) => t.name === tp.target);
      const provider = options.providers(tp.provider);
      if (!target || !provider) {
        throw new ValidationError(
          [error('plan-file-invalid', `target ${tp.target}: ${target ? `provider ${tp.provider} is not available` : 'not in the saved rules'}`)],
          'the saved plan cannot be applied',
        );
      }
      const now = await provider.read(target, options.source(target), {
        model: saved.rules.model.name,
        segments: saved.rules.segments,
      });
      if (now.fingerprint === tp.fingerprint) return;
      const changes = diffResources(now.resources, tp.prior);
      stale.push({ target: tp.target, changes, outsideOnly: changes.length === 0 });
    }),
  );
  return stale.sort((a, b) => (a.target < b.target ? -1 : 1));
}
