import type { Diagnostic, SourcePos } from './diagnostics.js';
import type {
  CloudId,
  RuleSet,
  SegmentSpec,
  TargetConfig,
  TargetConfigs,
  TargetOf,
  TargetSpec,
} from './compile/types.js';
import type { Change, Child, ChildChange, Json, ProviderState, Resource } from './plan/types.js';
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
   * --effective`; optional, so a provider without one just has no effective verdicts. A promise:
   * the evaluator's modules load on first use, not with every command (issue 11.0, start-up).
   */
  evaluate?(target: TargetSpec, state: ProviderState, context: EvaluateContext): Promise<NativeEvaluator>;
  /**
   * Pure: the (from, to, port) flows one native rule (a child of `resource`) allows or denies, for
   * the plan's flow diagram (src/graph/plan-flows.ts); [] for children that are no rule (prefix-list
   * entries). `name` turns an owned object's name into its segment's (`shop-web` → `web`).
   */
  ruleFlows?(resource: Resource, child: Child, name: (objectName: string) => string): FlowAtom[];
}

/**
 * One allowed or denied (from, to, port) of a native rule, with the side that carries it: a flow
 * between two segments has a rule on each side (AWS ingress and egress, Azure inbound and
 * outbound), and a plan that adds or removes either side changes it.
 */
export interface FlowAtom {
  readonly side: 'ingress' | 'egress';
  /** A segment, or a peer as the rule writes it (CIDRs joined by ", ", a service tag, an FQDN, `any`). */
  readonly from: string;
  readonly to: string;
  /** `tcp/443`, `tcp/9000-9010`, `icmp/8`, `tcp` (every port), `all`. */
  readonly port: string;
  readonly deny: boolean;
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
  /**
   * False when the caller never saves nor compares `ProviderState.fingerprint` (a plan printed but
   * not saved, a drift report): the provider may then leave it empty instead of digesting every
   * object it read (a tenth of a 3,000-segment `plan --snapshots`: issue 11). Computed by default.
   */
  readonly fingerprint?: boolean;
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

/** A JSON Schema fragment (draft-07), as plain JSON. */
export type JsonSchema = { readonly [key: string]: unknown };

/**
 * A YAML mapping of the model as a target descriptor reads it: values by key, with positions for
 * diagnostics. The schema has already checked the structure, so a descriptor only reads strings
 * and reports what the schema cannot say (typos in region names, unknown locations …).
 */
export interface ConfigReader {
  /** The string value of `key`; undefined when absent or not a string (the schema reports the type). */
  string(key: string): string | undefined;
  /** The value of `key` as plain JSON (mappings, lists, scalars); undefined when absent. */
  value(key: string): unknown;
  /** True when the mapping has `key`. */
  has(key: string): boolean;
  /** Where the value of `key` is written (the mapping itself when absent). */
  pos(key: string): SourcePos;
  /** Reports a diagnostic of the model. */
  report(diagnostic: Diagnostic): void;
  /**
   * Where the value at `path` under the mapping is written (`['nsgs', 'web', 0]`: the first item
   * of the list under `nsgs.web`), for messages about nested values; the nearest written ancestor
   * when the path does not exist.
   */
  posAt?(path: readonly (string | number)[]): SourcePos;
}

/** What the core hands a descriptor's `checkTarget`: the model's segments and tiers, once they are known. */
export interface TargetCheckContext {
  /** The target's name and where it is defined. */
  readonly name: string;
  readonly pos: SourcePos;
  /** The model's segments (name → definition position). */
  readonly segments: ReadonlyMap<string, SourcePos>;
  /** The model's tiers (name → their segments, sorted). */
  readonly tiers: ReadonlyMap<string, readonly string[]>;
}

/** What the core hands a descriptor's `parse`, besides the config mapping. */
export interface TargetParseContext {
  /** The target's name in the model. */
  readonly name: string;
  /**
   * The config's `internalRanges`, canonical and sorted (the core parses them, for every
   * provider, with their positions); undefined when the model does not give them.
   */
  readonly internalRanges: readonly string[] | undefined;
}

/**
 * How a provider describes its target to the core (`providers/<id>/target.ts`): everything model
 * validation, compilation and the commands need to know about a cloud, so that `src/` dispatches
 * through the registry (providers/index.ts) and never names one. `C` is the provider's config type.
 */
export interface TargetDescriptor<K extends string = CloudId, C = K extends CloudId ? TargetConfigs[K] : unknown> {
  /** The key of the config in a target (`aws:`), the `kind` of its TargetSpec, `--provider`'s value. */
  readonly id: K;
  /** The provider's name in messages: `AWS`. */
  readonly label: string;
  /** The label with its article, for "… is an AWS target": `an AWS`. */
  readonly aLabel: string;
  /** What the provider renders, for descriptions: `AWS security groups`. */
  readonly renders: string;
  /** JSON Schema fragments the model's schema is assembled from (src/model/schema-base.ts). */
  readonly schema: {
    /** The target's config mapping (`targets.<name>.<id>`); it may `$ref` `#/definitions/internalRanges`. */
    readonly target: JsonSchema;
    /** The entity binding mapping (`entities.<name>.<id>`); its `cidrs` is parsed by the core. */
    readonly entityBinding?: JsonSchema;
    /** The segment's override mapping (`segments.<name>.<id>`). */
    readonly segmentBinding?: JsonSchema;
  };
  /**
   * Keys of an entity binding besides `cidrs` (`prefixList`), in the order they are kept; by
   * default each is read as a string. The RuleSet carries them before the binding's CIDRs, and two
   * bindings with an equal value under one of them name the same addresses.
   */
  readonly entityBindingKeys?: readonly string[];
  /** Keys of a segment's override mapping (`groupId`), in the order they are kept; by default each is read as a string. */
  readonly segmentBindingKeys?: readonly string[];
  /**
   * Reads an entity binding's own keys (not `cidrs`, which the core parses) when they are not all
   * strings: plain JSON, keys in the order the RuleSet should carry them. Default: the string
   * values of `entityBindingKeys`.
   */
  parseEntityBinding?(binding: ConfigReader, ctx: { readonly entity: string }): Readonly<Record<string, unknown>>;
  /**
   * Reads a segment's override mapping when it is not all strings: plain JSON, keys in order;
   * undefined or empty for none. Default: the string values of `segmentBindingKeys`.
   */
  parseSegmentBinding?(
    overrides: ConfigReader,
    ctx: { readonly segment: string },
  ): Readonly<Record<string, unknown>> | undefined;
  /**
   * Parses and validates the target's config from the model (positions through `config`);
   * undefined when it is unusable (a missing required key, which the schema reports).
   */
  parse(config: ConfigReader, ctx: TargetParseContext): C | undefined;
  /** The config as the RuleSet carries it: plain JSON, keys in a fixed order (part of the digest). */
  canonical(config: C): C;
  /** The cloud objects the target manages, for "two targets manage the same …": `aws VPC vpc-1 in eu-west-1`. */
  place(config: C): string;
  /** One line for `bulkhead compile`'s target table: `aws eu-west-1 vpc-1`. */
  summary(config: C): string;
  /** The network's internal ranges: what the built-in `internet` is outside of. */
  internalRanges(config: C): readonly string[];
  /** The target's own API endpoint override, if it has one. */
  endpoint(config: C): string | undefined;
  /** The environment variable that overrides the API endpoint (after the target's own). */
  readonly endpointEnv: string;
  /**
   * Whether the provider's rules toward an FQDN entity are made of the addresses it resolves to
   * (then a name that resolves to nothing would remove entries), rather than matched by name.
   */
  readonly usesResolvedAddresses: boolean;
  /**
   * Model validation's check of a target when the model's segments have FQDN egress: the rest of
   * the warning `target "<name>" …` when this target cannot enforce it (its plan will fail),
   * undefined when it can.
   */
  fqdnEgressProblem?(config: C): string | undefined;
  /**
   * A limit of the provider on managed names `<model>-<segment>`; the core checks the strictest
   * of all registered providers, so a model stays portable to every one of them.
   */
  readonly managedNameLimit?: { readonly max: number; readonly why: string };
  /** Checks of the segments' overrides across the model (two segments adopting one object …). */
  checkSegments?(segments: readonly SegmentSpec[]): Diagnostic[];
  /**
   * Checks of a target's config that need the model's segments and tiers (a config that lists
   * segment names: unknown names, segments listed twice or not at all), run after they are parsed.
   */
  checkTarget?(config: C, ctx: TargetCheckContext): Diagnostic[];
  /**
   * Names of process warnings the provider's SDK emits that are not for Bulkhead's users (a
   * notice about a future Node version, a metadata-server probe); the `bulkhead` executable drops
   * them (`process.emitWarning` by name, type, code or message prefix).
   */
  readonly silencedProcessWarnings?: readonly string[];
}

/** One provider in the registry (providers/index.ts): its target descriptor and its factory. */
export interface ProviderEntry<K extends string = CloudId, C = K extends CloudId ? TargetConfigs[K] : unknown> {
  readonly target: TargetDescriptor<K, C>;
  readonly create: () => Provider;
}

/** The config of a target, whatever its provider (`t[t.kind]`). */
export function configOf(t: TargetSpec): TargetConfig {
  return (t as unknown as Record<string, TargetConfig>)[t.kind]!;
}

/** A target on provider `K`, as the core builds it from a parsed config. */
export function targetOf<K extends CloudId>(
  kind: K,
  name: string,
  pos: SourcePos,
  config: TargetConfigs[K],
): TargetOf<K> {
  return { kind, name, pos, [kind]: config } as TargetOf<K>;
}
