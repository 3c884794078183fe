import pLimit from 'p-limit';
import type { CloudId, RuleSet, TargetSpec } from '../compile/types.js';
import { hasErrors } from '../diagnostics.js';
import { InternalError, ProviderError, UsageError, ValidationError } from '../errors.js';
import type { Applier, ApplyPhase, Provider, StateSource } from '../provider.js';
import { allDiagnostics } from '../plan/create-plan.js';
import type { Action, Plan, ProviderState } from '../plan/types.js';
import { buildSteps, findCycle, type PlannedStep } from './build-steps.js';

/** What `applyPlan` needs besides the plan and rules. */
export interface ApplyOptions {
  /** The provider of a cloud (`getProvider`). */
  readonly providers: (id: CloudId) => Provider | undefined;
  /** Where each target lives (its endpoint override is handed to the applier). */
  readonly source: (target: TargetSpec) => StateSource;
  /** Steps run at once across all targets (p-limit); default 10, like Terraform. */
  readonly parallelism?: number;
  /** Refuse, before doing anything, a plan that destroys more objects than this (see `countDestroyed`). */
  readonly maxDestroy?: number;
  /** Progress lines (stderr in the CLI). */
  readonly onProgress?: (message: string) => void;
  /**
   * Retries of a step failing with a retryable ProviderError; default 4. Only errors no lower layer
   * retried reach here as retryable: the providers' retry policy and the SDKs' own retries hand
   * what they gave up on over as not retryable (providers/kit/retry.ts `markRetried`), so a call is
   * never retried by two layers (test/providers/kit/retry-engine.test.ts).
   */
  readonly retries?: number;
  /** First backoff delay in ms, doubled per retry, capped at 10 s; default 500. */
  readonly retryDelayMs?: number;
  /**
   * Interrupt (Ctrl-C): once aborted no new step (or retry) starts, running steps finish, and the
   * steps not started are reported as skipped with `NOT_STARTED`.
   */
  readonly signal?: AbortSignal;
}

/** The `error` of a step that did not start because the apply was interrupted. */
export const NOT_STARTED = 'not started: the apply was interrupted';

/** How one step ended. */
export type StepStatus = 'done' | 'failed' | 'skipped';

/** The outcome of one step of the apply. */
export interface StepOutcome {
  /** `<phase>:<address>`. */
  readonly id: string;
  readonly phase: ApplyPhase;
  readonly target: string;
  readonly address: string;
  /** The action of the change the step belongs to. */
  readonly action: Action;
  readonly status: StepStatus;
  /** Why it failed (failed), or the failed step that held it back (skipped). */
  readonly error?: string;
  /** Provider error code of a failure. */
  readonly code?: string;
  /** For a skipped step: the id of the failed step it depended on. */
  readonly blockedBy?: string;
  /** Calls made (1 + retries); 0 when skipped. */
  readonly attempts: number;
}

/** What an apply did: one outcome per step, in plan order (target, phase, address). */
export interface ApplyReport {
  readonly outcomes: readonly StepOutcome[];
  readonly summary: { readonly done: number; readonly failed: number; readonly skipped: number };
  /** True when every step is done. */
  readonly ok: boolean;
  /** True when the apply was interrupted (`ApplyOptions.signal`) before every step was settled. */
  readonly interrupted: boolean;
}

/**
 * Objects a plan destroys, for `--max-destroy`: deleted and replaced resources, plus rules removed
 * from resources that stay (a rule is an object of its own in every cloud: `sgr-…`, an NSG rule, a
 * firewall rule). The rules of a deleted resource go with it and are not counted again.
 */
export function countDestroyed(plan: Plan): { total: number; resources: number; rules: number } {
  let resources = 0,
    rules = 0;
  for (const c of plan.targets.flatMap((t) => t.changes)) {
    if (c.action === 'delete' || c.action === 'replace') resources++;
    else if (c.action === 'update') rules += c.childChanges.filter((cc) => cc.action === 'delete').length;
  }
  return { total: resources + rules, resources, rules };
}

/** `n thing(s)` with the right plural (regular nouns only). */
export function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** `the plan destroys 2 objects (1 resource, 1 rule)`: the --max-destroy refusal's subject. */
export function describeDestroyed(d: { total: number; resources: number; rules: number }): string {
  return `the plan destroys ${plural(d.total, 'object')} (${plural(d.resources, 'resource')}, ${plural(d.rules, 'rule')})`;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Carries out a plan: its changes and nothing else, in make-before-break order (see
 * build-steps.ts), up to `parallelism` steps at once. A step failing with a ProviderError is
 * recorded and skips only the steps that depend on it; any other exception is a crash: no new step
 * starts, running ones finish, and the exception is rethrown. Idempotent appliers make a re-run
 * (re-plan, re-apply) converge. Throws ValidationError for a plan with errors and UsageError when
 * `maxDestroy` is exceeded, before any call.
 */
export async function applyPlan(plan: Plan, rules: RuleSet, options: ApplyOptions): Promise<ApplyReport> {
  const diagnostics = allDiagnostics(plan);
  if (hasErrors(diagnostics)) throw new ValidationError(diagnostics, 'the plan has errors and cannot be applied');
  if (options.maxDestroy !== undefined) {
    const d = countDestroyed(plan);
    if (d.total > options.maxDestroy) {
      throw new UsageError(
        `${describeDestroyed(d)}, more than --max-destroy ${options.maxDestroy}; nothing was changed`,
      );
    }
  }
  const parallelism = Math.max(1, Math.floor(options.parallelism ?? 10));
  const retries = options.retries ?? 4;
  const retryDelayMs = options.retryDelayMs ?? 500;
  const progress = options.onProgress ?? (() => {});

  const planned = buildSteps(plan);
  const cycle = findCycle(planned);
  if (cycle.length > 0) throw new InternalError(`apply steps form a cycle: ${cycle.join(', ')}`);

  // One applier per target that has work, created up front so a missing provider fails before any call.
  const appliers = new Map<string, Applier>();
  for (const tp of plan.targets) {
    if (tp.changes.length === 0) continue;
    const target = rules.targets.find((t) => t.name === tp.target);
    if (!target) throw new ValidationError([], `the plan's target ${tp.target} is not in the model`);
    const provider = options.providers(tp.provider);
    if (!provider)
      throw new ProviderError(`provider ${tp.provider} is not available; cannot apply target ${tp.target}`);
    const state: ProviderState = {
      target: tp.target,
      source: tp.source,
      resources: tp.prior,
      fingerprint: tp.fingerprint,
      diagnostics: [],
    };
    const src = options.source(target);
    appliers.set(
      tp.target,
      provider.createApplier(target, state, {
        parallelism,
        onProgress: progress,
        ...(src.kind === 'live' && src.endpoint !== undefined ? { endpoint: src.endpoint } : {}),
      }),
    );
  }

  const limit = pLimit(parallelism);
  const byId = new Map(planned.map((p) => [p.step.id, p]));
  const outcomes = new Map<string, StepOutcome>();
  const running = new Map<string, Promise<StepOutcome>>();
  let crash: { error: unknown } | undefined;
  let interruptedSteps = 0;

  const outcome = (
    p: PlannedStep,
    rest: Omit<StepOutcome, 'id' | 'phase' | 'target' | 'address' | 'action'>,
  ): StepOutcome => ({
    id: p.step.id,
    phase: p.step.phase,
    target: p.target,
    address: p.address,
    action: p.step.change.action,
    ...rest,
  });

  const execute = async (p: PlannedStep): Promise<StepOutcome> => {
    if (crash) return outcome(p, { status: 'skipped', error: 'the apply was aborted', attempts: 0 });
    if (options.signal?.aborted) {
      interruptedSteps++;
      return outcome(p, { status: 'skipped', error: NOT_STARTED, attempts: 0 });
    }
    const applier = appliers.get(p.target)!;
    progress(
      `${p.step.id}: ${p.step.phase === 'create' || p.step.phase === 'delete' ? `${p.step.phase}…` : `${p.step.phase} ${plural(p.step.children.length, 'rule')}…`}`,
    );
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      try {
        await applier.run(p.step);
        progress(`${p.step.id}: done after ${((Date.now() - started) / 1000).toFixed(1)}s`);
        return outcome(p, { status: 'done', attempts: attempt });
      } catch (err) {
        if (!(err instanceof ProviderError)) {
          crash ??= { error: err };
          throw err;
        }
        if (err.retryable && attempt <= retries && options.signal?.aborted) {
          progress(`${p.step.id}: failed: ${err.message} (not retried: the apply was interrupted)`);
          return outcome(p, {
            status: 'failed',
            error: `${err.message} (not retried: the apply was interrupted)`,
            ...(err.code !== undefined ? { code: err.code } : {}),
            attempts: attempt,
          });
        }
        if (err.retryable && attempt <= retries) {
          const delay = Math.min(10_000, retryDelayMs * 2 ** (attempt - 1));
          progress(`${p.step.id}: ${err.message}; retrying in ${delay} ms`);
          await sleep(delay);
          continue;
        }
        progress(`${p.step.id}: failed: ${err.message}`);
        return outcome(p, {
          status: 'failed',
          error: err.message,
          ...(err.code !== undefined ? { code: err.code } : {}),
          attempts: attempt,
        });
      }
    }
  };

  const settle = (id: string): Promise<StepOutcome> => {
    const existing = running.get(id);
    if (existing) return existing;
    const p = byId.get(id)!;
    const promise = (async () => {
      const deps = await Promise.all(p.waitsFor.map(settle));
      const blocker = deps.find((d) => d.status !== 'done');
      let result: StepOutcome;
      if (blocker?.error === NOT_STARTED) {
        // Held back by the interrupt, not by a failure: it did not start either.
        result = outcome(p, { status: 'skipped', error: NOT_STARTED, attempts: 0 });
      } else if (blocker) {
        const root = blocker.status === 'failed' ? blocker.id : (blocker.blockedBy ?? blocker.id);
        result = outcome(p, {
          status: 'skipped',
          error: blocker.status === 'failed' ? `${blocker.id} failed` : (blocker.error ?? `${root} failed`),
          blockedBy: root,
          attempts: 0,
        });
        progress(`${p.step.id}: skipped (${result.error})`);
      } else {
        result = await limit(() => execute(p));
      }
      outcomes.set(id, result);
      return result;
    })();
    running.set(id, promise);
    return promise;
  };

  const settled = await Promise.allSettled(planned.map((p) => settle(p.step.id)));
  if (crash) throw crash.error;
  const rejected = settled.find((s) => s.status === 'rejected');
  if (rejected) throw rejected.reason;

  const list = planned.map((p) => outcomes.get(p.step.id)!);
  const summary = {
    done: list.filter((o) => o.status === 'done').length,
    failed: list.filter((o) => o.status === 'failed').length,
    skipped: list.filter((o) => o.status === 'skipped').length,
  };
  return {
    outcomes: list,
    summary,
    ok: summary.failed === 0 && summary.skipped === 0,
    interrupted: interruptedSteps > 0 || options.signal?.aborted === true,
  };
}
