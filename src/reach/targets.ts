import type { RuleSet, TargetSpec } from '../compile/types.js';
import type { Diagnostic } from '../diagnostics.js';
import { readAll, selectTargets } from '../plan/create-plan.js';
import type { ProviderState } from '../plan/types.js';
import type { Provider, StateSource } from '../provider.js';
import type { ResolvedFqdns } from '../resolve.js';
import { renderedState } from './effective.js';
import type { EvaluateOptions, NativeEvaluator } from './native.js';

/**
 * What `explain` and `drift --effective` share: each selected target's state read with the
 * objects the model does not own, and two evaluators per target, one on that live state and one on
 * the model's own render (to tell drift from a cloud default).
 */

/** One target ready to be asked. */
export interface ReachTarget {
  readonly target: TargetSpec;
  readonly source: 'live' | 'snapshot';
  readonly state: ProviderState;
  readonly live: NativeEvaluator;
  readonly rendered: NativeEvaluator;
}

/** Options of `prepareTargets`. */
export interface PrepareOptions {
  readonly providers: (id: TargetSpec['kind']) => Provider | undefined;
  readonly source: (target: TargetSpec) => StateSource;
  readonly targets?: readonly string[];
  readonly resolved: ResolvedFqdns;
  readonly options?: EvaluateOptions;
}

/**
 * Reads every selected target (all at once; a failed read is a `read-failed` error) and builds
 * its evaluators. Targets whose provider has no evaluator are reported as warnings and skipped.
 */
export async function prepareTargets(
  rules: RuleSet,
  o: PrepareOptions,
): Promise<{ targets: ReachTarget[]; diagnostics: Diagnostic[] }> {
  const diagnostics: Diagnostic[] = [];
  const runnable: { target: TargetSpec; provider: Provider }[] = [];
  for (const target of selectTargets(rules, o.targets)) {
    const provider = o.providers(target.kind);
    if (!provider?.evaluate) {
      diagnostics.push({
        severity: 'warning',
        code: 'reach-no-evaluator',
        message: `target ${target.name}: provider ${target.kind} cannot evaluate reachability; skipped`,
        pos: target.pos,
      });
      continue;
    }
    runnable.push({ target, provider });
  }
  const states = await readAll(runnable, (target, provider) =>
    provider.read(target, o.source(target), { model: rules.model.name, segments: rules.segments, unowned: true }),
  );
  if (!states.ok) return { targets: [], diagnostics: [...diagnostics, ...states.diagnostics] };
  const context = {
    model: rules.model.name,
    segments: rules.segments,
    resolved: o.resolved,
    ...(o.options ? { options: o.options } : {}),
  };
  const targets = await Promise.all(
    runnable.map(async ({ target, provider }, i): Promise<ReachTarget> => {
      const state = states.values[i]!;
      // An unowned object in the way stops a plan, not a question: it is evaluated like any other.
      // A snapshot that could not be read is no state at all: that stays an error.
      for (const d of state.diagnostics)
        diagnostics.push(d.severity === 'error' && !/snapshot/.test(d.code) ? { ...d, severity: 'warning' } : d);
      const desired = provider.render(rules, target, { resolved: o.resolved, live: state });
      return {
        target,
        source: state.source,
        state,
        live: await provider.evaluate!(target, state, context),
        rendered: await provider.evaluate!(target, renderedState(target, desired), context),
      };
    }),
  );
  return { targets, diagnostics };
}

/** What stops the command: a failed read, an unreadable snapshot (the rest was downgraded to warnings). */
export function readErrors(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return diagnostics.filter((d) => d.severity === 'error');
}
