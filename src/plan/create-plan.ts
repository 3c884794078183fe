import type { CloudId, RuleSet, TargetSpec } from '../compile/types.js';
import { error, hasErrors, userMessage, warning, type Diagnostic } from '../diagnostics.js';
import { ProviderError, UsageError } from '../errors.js';
import type { Provider, ReadContext, RenderContext, StateSource } from '../provider.js';
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
  /**
   * False when nothing reads the targets' `fingerprint` (a printed plan, a drift report; a saved
   * plan and `--json` do read it): the providers skip digesting their states. Computed by default.
   */
  readonly fingerprints?: boolean;
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

/**
 * Plans the rules against the state of their targets:
 *
 *   select targets ─▶ resolve FQDNs ─▶ validate (every target) ─▶ read ─▶ render + diff (per target)
 *
 * (with snapshot sources validate, read, render and diff per target: see `planEach`). A target
 * whose provider has not landed is skipped with a warning. Errors from `validate` stop the plan
 * before anything (live) is read; errors in what was read (an unowned object in the way) stop it too.
 * A plan whose diagnostics (plan-level or per target) contain an error is not applyable:
 * check `hasErrors(allDiagnostics(plan))`. Every target is read even when one fails; each failed
 * read (a ProviderError) is a `read-failed` error of the plan, any other failure is rethrown.
 * An FQDN that resolves to nothing is an error too, unless `allowUnresolved` or no planned target
 * uses resolved addresses (its descriptor's `usesResolvedAddresses`).
 */
export async function createPlan(rules: RuleSet, options: PlanOptions): Promise<Plan> {
  const outline = await planEach(rules, options, (t) => t);
  const plan: Plan = {
    formatVersion: 1,
    // The RuleSet's own (read-only) object: a spread would read its digest, which only a saved
    // plan, --json and --markdown print.
    model: rules.model,
    targets: outline.targets,
    diagnostics: outline.diagnostics,
    summary: outline.summary,
  };
  if (outline.resolved) resolutions.set(plan, outline.resolved);
  return plan;
}

/** What `planEach` returns: the plan's own parts, and what its consumer kept of each target's plan. */
export interface PlanOutline<T> {
  /** Plan-level diagnostics (each target's are in its TargetPlan). With an error, `targets` is empty. */
  readonly diagnostics: readonly Diagnostic[];
  /** What `keep` returned for each target, sorted by target name. */
  readonly targets: readonly T[];
  /** The counts of every target's changes (Plan.summary). */
  readonly summary: Plan['summary'];
  /** The FQDN resolutions the targets were rendered with (absent when nothing was rendered). */
  readonly resolved?: ResolvedFqdns;
}

/**
 * `createPlan`, handing each target's plan to `keep` as soon as its diff is made, one target at a
 * time, and keeping only what `keep` returns. A target's render and state are garbage once `keep`
 * returns, so a consumer that keeps less than the TargetPlan (`plan` keeps its formatted text)
 * never holds every target's objects at once: at 10,000 segments the four bench targets' renders,
 * states and changes did not fit in Node's default heap together (issue 11). Snapshot targets are
 * validated and read one after another for the same reason (their reads are CPU work, so reading
 * them at once gained nothing but memory); live targets are all validated, then read at once, as
 * the network is the wait there. The results are those of planning every target at once: a
 * validation error anywhere ends the plan with the validation diagnostics only; when a read fails
 * or a state has an error, the remaining targets are still read for their diagnostics; and `keep`
 * is not called for the targets after a failure (what it returned for those before is dropped: an
 * error plan has no targets).
 */
export async function planEach<T>(
  rules: RuleSet,
  options: PlanOptions,
  keep: (plan: TargetPlan) => T,
): Promise<PlanOutline<T>> {
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
  const failed = (more: readonly Diagnostic[]): PlanOutline<T> => ({
    diagnostics: [...diagnostics, ...more],
    targets: [],
    summary: { add: 0, change: 0, destroy: 0 },
  });

  const sources = runnable.map(({ target }) => options.source(target));
  const live = sources.some((s) => s.kind === 'live');
  const validation: Diagnostic[][] = [];
  const validate = (i: number) => {
    const { target, provider } = runnable[i]!;
    validation[i] = provider.validate(rules, target, ctx);
  };
  // Live targets are all validated before anything is read. Snapshot targets are validated one at
  // a time, each just before it is read: validate keeps its render for the render that follows
  // (the kit's render share), and four targets' renders held through every read were ~0.9 GB at
  // 10,000 segments. A validation error anywhere still ends the plan with every target's
  // validation diagnostics and nothing else (what was planned of the targets before it is dropped).
  if (live || hasErrors(fqdnDiagnostics)) {
    for (let i = 0; i < runnable.length; i++) validate(i);
    if (validation.some(hasErrors) || hasErrors(fqdnDiagnostics)) return failed(validation.flat());
  }
  let invalid = false;

  const read = (i: number): Promise<Settled<ProviderState>> => {
    const { target, provider } = runnable[i]!;
    const context: ReadContext = {
      model: rules.model.name,
      segments: rules.segments,
      ...(options.fingerprints === false ? { fingerprint: false } : {}),
    };
    // `then` also catches a provider that throws synchronously instead of rejecting.
    return Promise.resolve()
      .then(() => provider.read(target, sources[i]!, context))
      .then(
        (value): Settled<ProviderState> => ({ ok: true, value }),
        (reason: unknown): Settled<ProviderState> => ({ ok: false, reason }),
      );
  };
  // Live reads start at once (each waits on the network); snapshot reads one at a time, when due.
  const started: (Promise<Settled<ProviderState>> | undefined)[] = live ? runnable.map((_, i) => read(i)) : [];

  const readFailures: Diagnostic[] = [];
  const stateErrors: Diagnostic[] = [];
  let bug: { reason: unknown } | undefined;
  const kept: { name: string; value: T }[] = [];
  const summary = { add: 0, change: 0, destroy: 0 };
  /**
   * Reads and plans target `i`. Its own async function on purpose: an async function's locals
   * outlive the statement that uses them (they wait in its frame across the next `await`), so a
   * loop that held the state and the TargetPlan in its own locals kept the last target's objects
   * alive through the next target's read. This frame, and what it held, is gone when it returns.
   */
  const planOne = async (i: number): Promise<void> => {
    const { target, provider } = runnable[i]!;
    const pending = started[i] ?? read(i);
    started[i] = undefined; // a settled promise holds its state
    const settled = await pending;
    if (!settled.ok) {
      if (!(settled.reason instanceof ProviderError)) bug ??= { reason: settled.reason };
      else readFailures.push(error('read-failed', readFailure(target.name, settled.reason), target.pos));
      return;
    }
    const state = settled.value;
    stateErrors.push(...state.diagnostics.filter((d) => d.severity === 'error'));
    // After a failure nothing more is planned: the remaining targets are read for their errors only.
    if (bug || readFailures.length > 0 || stateErrors.length > 0) return;
    const plan = planTarget(rules, target, provider, state, validation[i]!, ctx);
    const counts = summarize(plan.changes);
    summary.add += counts.add;
    summary.change += counts.change;
    summary.destroy += counts.destroy;
    kept.push({ name: plan.target, value: keep(plan) });
  };
  for (let i = 0; i < runnable.length; i++) {
    if (validation[i] === undefined) {
      validate(i);
      invalid ||= hasErrors(validation[i]!);
    }
    // After a validation error the remaining targets are validated, not read.
    if (!invalid) await planOne(i);
  }
  if (invalid) return failed(validation.flat());
  if (bug) throw bug.reason;
  if (readFailures.length > 0) return failed([...validation.flat(), ...readFailures]);
  if (stateErrors.length > 0) return failed([...validation.flat(), ...stateErrors]);
  kept.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { diagnostics, targets: kept.map((k) => k.value), summary, resolved: ctx.resolved };
}

/** A read's outcome, so a read started early never leaves a rejection unobserved. */
type Settled<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: unknown };

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

/** One target's plan: render against its state, then the diff. */
function planTarget(
  rules: RuleSet,
  target: TargetSpec,
  provider: Provider,
  state: ProviderState,
  validation: readonly Diagnostic[],
  ctx: RenderContext,
): TargetPlan {
  const desired = provider.render(rules, target, { ...ctx, live: state });
  const foreign = desired.filter((r) => r.target !== target.name);
  const targetDiagnostics = [...validation, ...state.diagnostics];
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
}
