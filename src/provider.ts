import type { Diagnostic } from './diagnostics.js';
import type { CloudId, RuleSet, SegmentSpec, TargetSpec } from './compile/types.js';
import type { Change, ChildChange, Json, ProviderState, Resource } from './plan/types.js';
import type { TargetLocker } from './lock.js';
import type { FlowLogReader, InventoryReader } from './flows/types.js';
import type { EvaluateContext, NativeEvaluator } from './reach/native.js';

/**
 * The interface every cloud implements (one folder per cloud under `providers/`). `validate` and
 * `render` are pure; `read`, the applier and `exportSnapshot` are the only code that touches an SDK.
 */
export interface Provider {
  readonly id: CloudId;
  /** Pure: the cloud's quotas, names and priorities, checked before anything is planned. */
  validate(rules: RuleSet, target: TargetSpec, ctx: RenderContext): Diagnostic[];
  /** Pure: the desired objects for one target, canonical, sorted by address. */
  render(rules: RuleSet, target: TargetSpec, ctx: RenderContext): Resource[];
  /**
   * Reads the owned objects of a target from the live API or from the cloud CLI's JSON exports.
   * `context` tells which model owns what (the ownership marker's value); the engine passes it,
   * a provider called without it infers ownership as best it can.
   */
  read(target: TargetSpec, source: StateSource, context?: ReadContext): Promise<ProviderState>;
  /** An applier for one target: runs the engine's steps against the live API. */
  createApplier(target: TargetSpec, state: ProviderState, options: ApplierOptions): Applier;
  /** Reads the live API and returns the files `read` takes in snapshot mode (`bulkhead export`). */
  exportSnapshot(target: TargetSpec, options: LiveOptions): Promise<SnapshotFile[]>;
  /** Desired objects in the shape of the cloud CLI's describe/list output (`bulkhead render`). */
  toCliJson(resources: readonly Resource[], target: TargetSpec): Json;
  /** The per-target lock object `apply` and `destroy` take across processes (src/lock.ts). */
  readonly lock?: TargetLocker;
  /** The cloud's flow-log parser (DESIGN §6, `discover` and `audit`): pure and streaming. */
  readonly flows?: FlowLogReader;
  /** Who is who: the cloud CLI's inventory JSON, or the live API (read-only). */
  readonly inventory?: InventoryReader;
  /**
   * Pure: an evaluator that decides probes on a target's state (read, or a render wrapped as a
   * state) exactly as the cloud does, owned and unowned objects alike (`ProviderState.unowned`,
   * filled when read is asked with `ReadContext.unowned`). Used by `explain` and `drift
   * --effective`; optional, so a provider without one just has no effective verdicts.
   */
  evaluate?(target: TargetSpec, state: ProviderState, context: EvaluateContext): NativeEvaluator;
}

/** What render needs besides the rules: resolved FQDNs (resolution is I/O, so it happens before). */
export interface RenderContext {
  /** Addresses of every FQDN in the model, as resolved for this plan; sorted, canonical CIDRs (/32, /128). */
  readonly resolved: ReadonlyMap<string, { readonly ipv4: readonly string[]; readonly ipv6: readonly string[] }>;
  /**
   * What read found for this target, for providers whose layout must respect the live objects
   * (e.g. Azure priorities already in use). Render stays pure: this is input data. Absent when
   * render runs without a read (`bulkhead render`, validate).
   */
  readonly live?: ProviderState;
}

/** What `read` needs to know about the model to tell owned objects from the rest. */
export interface ReadContext {
  /** The model's `name`: the ownership marker's value and the prefix of managed names. */
  readonly model: string;
  /** The model's segments (managed names `<model>-<segment>`, adopted ids), sorted by name. */
  readonly segments?: readonly SegmentSpec[];
  /**
   * Also read what the model does not own (other teams' groups and rules) into
   * `ProviderState.unowned`, for the reachability evaluators. Plan and drift never ask for it.
   */
  readonly unowned?: boolean;
}

/** Options for talking to a live API. */
export interface LiveOptions {
  /** Endpoint override; a target's own `endpoint` wins over `BULKHEAD_<CLOUD>_ENDPOINT`, which wins over this. */
  readonly endpoint?: string;
}

/** Where `read` takes a target's state from. */
export type StateSource =
  | ({ readonly kind: 'live' } & LiveOptions)
  /** A folder of CLI exports; the provider reads `<dir>/<target name>/…` (its README says which files). */
  | { readonly kind: 'snapshot'; readonly dir: string };

/** A file of a snapshot, relative to the snapshot folder of its target. */
export interface SnapshotFile {
  readonly path: string;
  readonly content: string;
}

/** Options for an applier. */
export interface ApplierOptions extends LiveOptions {
  /** Concurrency inside the provider (p-limit), from `--parallelism`. */
  readonly parallelism: number;
  /** Progress lines for stderr during long applies. */
  readonly onProgress?: (message: string) => void;
}

/**
 * The phases of an apply, in make-before-break order (DESIGN §3):
 *
 *   create ──▶ add ──▶ remove ──▶ delete
 *   (objects)  (new rules,   (old rules)  (objects, after every
 *               updates)                   rule that refers to them)
 *
 * Every `create`/`add` step of a target finishes before any `remove`/`delete` step of that target
 * starts, and a failed `create`/`add` holds back that target's removals, so a flow allowed before
 * and after the apply is never cut.
 */
export type ApplyPhase = 'create' | 'add' | 'remove' | 'delete';

/** One unit of work the engine hands a provider's applier. */
export interface ApplyStep {
  /** `<phase>:<address>`. */
  readonly id: string;
  readonly phase: ApplyPhase;
  readonly change: Change;
  /**
   * The child changes of this phase: `add` has creates and updates, `remove` has deletes;
   * `create` and `delete` have none (a created object gets its children in its `add` step).
   * A `delete` change may come with a `remove` step first: the rules of the doomed object that
   * refer to other objects (`Child.dependsOn`), so objects that refer to each other can all go.
   * A `replace` runs `delete` (of `change.before`), then `create` and `add` (of `change.after`).
   */
  readonly children: readonly ChildChange[];
}

/** Runs steps for one target. Keeps its own state between steps (ids of created objects). */
export interface Applier {
  /** Carries out one step; throws (a ProviderError) when it fails. Idempotent: a re-run converges. */
  run(step: ApplyStep): Promise<void>;
}
