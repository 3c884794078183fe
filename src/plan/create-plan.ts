import type { CloudId, RuleSet, TargetSpec } from '../compile/types.js';
import { error, hasErrors, userMessage, warning, type Diagnostic } from '../diagnostics.js';
import { ProviderError, UsageError } from '../errors.js';
import type { Provider, RenderContext, StateSource } from '../provider.js';
import { createDnsResolver, resolveFqdns, type ResolvedFqdns, type Resolver } from '../resolve.js';
import { getTarget } from '../targets.js';
import { diffResources } from './diff.js';
import { didYouMean } from './suggest.js';
import type { Change, Plan, ProviderState, TargetPlan } from './types.js';

/** What `createPlan` needs besides the rules: where providers and state come from. */
export interface PlanOptions {
  /** The provider of a cloud, or undefined when it has not landed (`getProvider` of providers/index.ts). */
  readonly providers: (id: CloudId) => Provider | undefined;
  /** Where each target's state is read from (live API or a snapshot folder). */
  readonly source: (target: TargetSpec) => StateSource;
  /** Target names to plan; all targets of the rules when absent or empty. */
  readonly targets?: readonly string[];
  /** FQDN resolver; node:dns when absent (commands pass the snapshot resolver with --snapshots). */
  readonly resolver?: Resolver;
  /**
   * Accept FQDNs that resolve to no address (`--allow-unresolved`): their entries are removed with
   * a warning. Without it such a name stops the plan with an `fqdn-unresolved` error.
   */
  readonly allowUnresolved?: boolean;
}

/**
 * FQDN diagnostics that matter for `targets`: without a target that uses resolved addresses, an
 * unresolved name changes nothing and is not reported.
 */
export function fqdnDiagnosticsFor(diagnostics: readonly Diagnostic[], targets: readonly TargetSpec[]): Diagnostic[] {
  // A provider whose rules are made of the addresses a name resolves to would remove entries for
  // a name that resolves to nothing; one that matches names never reads the resolutions.
  if (targets.some((t) => getTarget(t.kind)?.usesResolvedAddresses)) return [...diagnostics];
  return diagnostics.filter((d) => d.code !== 'fqdn-unresolved');
}

/** FQDN resolutions each plan was rendered with, for saved plans (kept beside the plan, not in its JSON format). */
const resolutions = new WeakMap<Plan, ResolvedFqdns>();

/** The FQDN resolutions `createPlan` rendered `plan` with (undefined for a plan it did not make). */
export function planResolutions(plan: Plan): ResolvedFqdns | undefined {
  return resolutions.get(plan);
}

/** The targets of `rules` named in `names` (all when empty), sorted; an unknown name is a UsageError. */
export function selectTargets(rules: RuleSet, names: readonly string[] | undefined): TargetSpec[] {
  if (!names || names.length === 0) return [...rules.targets];
  const known = rules.targets.map((t) => t.name);
  for (const n of names) {
    if (!known.includes(n)) throw new UsageError(`unknown target "${n}"${didYouMean(n, known)}`);
  }
  return rules.targets.filter((t) => names.includes(t.name));
}

/** Plan counts the way Terraform counts: a replace is one add and one destroy. */
export function summarize(changes: readonly Change[]): Plan['summary'] {
  let add = 0,
    change = 0,
    destroy = 0;
  for (const c of changes) {
    if (c.action === 'create') add++;
    else if (c.action === 'update') change++;
    else if (c.action === 'delete') destroy++;
    else {
      add++;
      destroy++;
    }
  }
  return { add, change, destroy };
}

/** Every diagnostic of a plan: plan-level then per target. */
export function allDiagnostics(plan: Plan): Diagnostic[] {
  return [...plan.diagnostics, ...plan.targets.flatMap((t) => t.diagnostics)];
}

function emptyPlan(rules: RuleSet, diagnostics: readonly Diagnostic[], targets: readonly TargetPlan[] = []): Plan {
  return {
    formatVersion: 1,
    model: { ...rules.model },
    targets,
    diagnostics,
    summary: summarize(targets.flatMap((t) => t.changes)),
  };
}

/**
 * Plans the rules against the state of their targets:
 *
 *   select targets ─▶ resolve FQDNs ─▶ validate (every target) ─▶ read (concurrently) ─▶ render + diff
 *
 * A target whose provider has not landed is skipped with a warning. Errors from `validate` stop the
 * plan before anything is read; errors in what was read (an unowned object in the way) stop it too.
 * A plan whose diagnostics (plan-level or per target) contain an error is not applyable:
 * check `hasErrors(allDiagnostics(plan))`. Every target is read even when one fails; each failed
 * read (a ProviderError) is a `read-failed` error of the plan, any other failure is rethrown.
 * An FQDN that resolves to nothing is an error too, unless `allowUnresolved` or no planned target
 * uses resolved addresses (its descriptor's `usesResolvedAddresses`).
 */
export async function createPlan(rules: RuleSet, options: PlanOptions): Promise<Plan> {
  const selected = selectTargets(rules, options.targets);
  const diagnostics: Diagnostic[] = [];
  const runnable: { target: TargetSpec; provider: Provider }[] = [];
  for (const target of selected) {
    const provider = options.providers(target.kind);
    if (!provider) {
      diagnostics.push(
        warning(
          'provider-unavailable',
          `provider ${target.kind} not available yet, target ${target.name} skipped`,
          target.pos,
        ),
      );
      continue;
    }
    runnable.push({ target, provider });
  }

  const fqdns = await resolveFqdns(rules, options.resolver ?? createDnsResolver(), {
    ...(options.allowUnresolved ? { allowUnresolved: true } : {}),
  });
  const fqdnDiagnostics = fqdnDiagnosticsFor(
    fqdns.diagnostics,
    runnable.map((r) => r.target),
  );
  diagnostics.push(...fqdnDiagnostics);
  const ctx: RenderContext = { resolved: fqdns.resolved };

  const validation = runnable.map(({ target, provider }) => provider.validate(rules, target, ctx));
  if (validation.some(hasErrors) || hasErrors(fqdnDiagnostics))
    return emptyPlan(rules, [...diagnostics, ...validation.flat()]);

  const states = await readAll(runnable, (target, provider) =>
    provider.read(target, options.source(target), { model: rules.model.name, segments: rules.segments }),
  );
  if (!states.ok) return emptyPlan(rules, [...diagnostics, ...validation.flat(), ...states.diagnostics]);
  return planTargets(rules, runnable, states.values, validation, ctx, diagnostics);
}

/**
 * Runs `read` for every target at once and waits for all of them, so every failing target is
 * reported (one `read-failed` error each, at the target's line) and no rejection is left
 * unobserved. A failure that is not a ProviderError is a bug: the first one is rethrown.
 */
export async function readAll<T>(
  runnable: readonly { target: TargetSpec; provider: Provider }[],
  read: (target: TargetSpec, provider: Provider) => Promise<T>,
): Promise<{ ok: true; values: T[] } | { ok: false; diagnostics: Diagnostic[] }> {
  // `then` also catches a provider that throws synchronously instead of rejecting.
  const settled = await Promise.allSettled(
    runnable.map(({ target, provider }) => Promise.resolve().then(() => read(target, provider))),
  );
  const bug = settled.find(
    (s): s is PromiseRejectedResult => s.status === 'rejected' && !(s.reason instanceof ProviderError),
  );
  if (bug) throw bug.reason;
  const failed: Diagnostic[] = [];
  settled.forEach((s, i) => {
    if (s.status === 'fulfilled') return;
    const target = runnable[i]!.target;
    failed.push(error('read-failed', readFailure(target.name, s.reason as ProviderError), target.pos));
  });
  if (failed.length > 0) return { ok: false, diagnostics: failed };
  return { ok: true, values: settled.map((s) => (s as PromiseFulfilledResult<T>).value) };
}

/** One line naming the target: the provider's message (on one line, SDK hints dropped). */
function readFailure(target: string, err: ProviderError): string {
  const message = userMessage(err.message);
  // Providers name the target themselves; only prefix a message that does not.
  return message.includes(target) ? message : `target ${target}: ${message}`;
}

function planTargets(
  rules: RuleSet,
  runnable: readonly { target: TargetSpec; provider: Provider }[],
  states: readonly ProviderState[],
  validation: readonly Diagnostic[][],
  ctx: RenderContext,
  diagnostics: readonly Diagnostic[],
): Plan {
  const stateErrors = states.flatMap((s) => s.diagnostics).filter((d) => d.severity === 'error');
  if (stateErrors.length > 0) return emptyPlan(rules, [...diagnostics, ...validation.flat(), ...stateErrors]);

  const targets: TargetPlan[] = runnable.map(({ target, provider }, i) => {
    const state = states[i]!;
    const desired = provider.render(rules, target, { ...ctx, live: state });
    const foreign = desired.filter((r) => r.target !== target.name);
    const targetDiagnostics = [...validation[i]!, ...state.diagnostics];
    if (foreign.length > 0) {
      targetDiagnostics.push(
        error(
          'render-wrong-target',
          `provider ${provider.id} rendered ${foreign[0]!.address} outside target ${target.name}`,
        ),
      );
    }
    return {
      target: target.name,
      provider: target.kind,
      source: state.source,
      fingerprint: state.fingerprint,
      prior: state.resources,
      changes: diffResources(desired, state.resources),
      diagnostics: targetDiagnostics,
    };
  });
  targets.sort((a, b) => (a.target < b.target ? -1 : a.target > b.target ? 1 : 0));
  const plan = emptyPlan(rules, diagnostics, targets);
  resolutions.set(plan, ctx.resolved);
  return plan;
}
