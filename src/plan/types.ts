import type { Diagnostic, SourceRef } from '../diagnostics.js';
import type { CloudId } from '../compile/types.js';

/**
 * The plan's data model: resources as providers render and read them, and the changes between
 * them. No formatting here (text, JSON and Markdown renderers live beside this file).
 */

/** JSON values: resources and plans are plain data, saved and compared as JSON. */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };

/**
 * A member of a resource that is created and removed on its own: an AWS security group rule, an
 * Azure NSG rule, a prefix-list entry. Children are compared as a set keyed by `key`.
 */
export interface Child {
  /** Identity inside the parent, canonical (AWS: `ingress tcp 443-443 sg:shop-lb`; Azure: rule name). */
  readonly key: string;
  /** One line for the plan, e.g. `ingress tcp/443 from shop-lb`. */
  readonly summary: string;
  /** Canonical content; a difference here with the same key is an in-place update of the child. */
  readonly attributes: { readonly [key: string]: Json };
  /** Cloud handle of a live child (`sgr-…`); never compared. */
  readonly liveId?: string;
  /** Model lines the child comes from (desired side). */
  readonly origins?: readonly SourceRef[];
  /** Addresses of resources this child refers to (an SG-reference rule depends on the peer group). */
  readonly dependsOn?: readonly string[];
  /** True when adding this child opens access (new internet ingress, a new peer). */
  readonly widens?: boolean;
}

/** A cloud object, desired (rendered) or live (read), in canonical form. */
export interface Resource {
  /** `<target>.<type>.<name>`: unique in a plan and stable across runs. */
  readonly address: string;
  readonly target: string;
  /** Provider resource type: `aws_security_group`, `azure_network_security_group`, `gcp_firewall` … */
  readonly type: string;
  /** The object's name in its cloud. */
  readonly name: string;
  /** Canonical attributes, compared deeply (children excluded). */
  readonly attributes: { readonly [key: string]: Json };
  /** Sorted by key. */
  readonly children: readonly Child[];
  /** Cloud handle of a live object (`sg-…`, an ARM id, a self link); never compared. */
  readonly liveId?: string;
  /** Model lines the object comes from (desired side). */
  readonly origins?: readonly SourceRef[];
  /** Addresses that must exist before this is created (and be deleted after it). */
  readonly dependsOn?: readonly string[];
  /** Attribute names that cannot change in place: a change to one plans a replace. */
  readonly forceNew?: readonly string[];
}

/** What a provider read for one target: the owned objects, canonical, plus what it noticed. */
export interface ProviderState {
  readonly target: string;
  readonly source: 'live' | 'snapshot';
  /** Owned objects only; unowned ones never enter a diff. */
  readonly resources: readonly Resource[];
  /**
   * Objects (or rules inside owned objects) the model does not own, canonical like `resources`,
   * read only when `ReadContext.unowned` asks (the reachability evaluators need every rule the
   * cloud evaluates). Never diffed, never applied, not in the fingerprint.
   */
  readonly unowned?: readonly Resource[];
  /**
   * Digest of what was read (owned and unowned objects that matter): a saved plan compares it.
   * Empty when the read was asked not to compute it (`ReadContext.fingerprint` false).
   */
  readonly fingerprint: string;
  /** Conflicts found while reading: an unowned object in the way, an unreadable export … */
  readonly diagnostics: readonly Diagnostic[];
  /**
   * Provider-private facts read alongside the owned objects that render must respect, never
   * diffed: e.g. priorities held by unowned Azure NSG rules.
   */
  readonly reserved?: Json;
}

/** The closed action vocabulary. */
export type Action = 'create' | 'update' | 'delete' | 'replace';

/** The one symbol table for actions, used by every formatter and by tests. */
export const ACTION_SYMBOL: { readonly [A in Action]: string } = {
  create: '+',
  update: '~',
  delete: '-',
  replace: '-/+',
};

/** A change to one child inside an updated (or created, or deleted) resource. */
export interface ChildChange {
  readonly action: 'create' | 'update' | 'delete';
  readonly key: string;
  readonly before: Child | null;
  readonly after: Child | null;
}

/** A change to one attribute of an updated resource. */
export interface AttributeChange {
  readonly name: string;
  readonly before: Json | undefined;
  readonly after: Json | undefined;
}

/** One object's change. */
export interface Change {
  readonly address: string;
  readonly target: string;
  readonly type: string;
  readonly name: string;
  readonly action: Action;
  /** Live object (null for create). */
  readonly before: Resource | null;
  /** Desired object (null for delete). */
  readonly after: Resource | null;
  readonly attributeChanges: readonly AttributeChange[];
  /** Sorted by key. For a create: every child as created; for a delete: every child as deleted. */
  readonly childChanges: readonly ChildChange[];
  /** True when the change opens access that was not open before. */
  readonly widensAccess: boolean;
  /** Why a replace is needed, or other notes for the reader. */
  readonly reason?: string;
}

/** The plan of one target. */
export interface TargetPlan {
  readonly target: string;
  readonly provider: CloudId;
  readonly source: 'live' | 'snapshot';
  /** `ProviderState.fingerprint` of what this plan was made against. */
  readonly fingerprint: string;
  /** What was read, kept so a saved plan can say what changed when it is stale. */
  readonly prior: readonly Resource[];
  /** Sorted by address. */
  readonly changes: readonly Change[];
  readonly diagnostics: readonly Diagnostic[];
}

/** A plan: the contract that apply executes, and nothing else. */
export interface Plan {
  /** Version of the plan's JSON format. */
  readonly formatVersion: 1;
  readonly model: { readonly name: string; readonly digest: string; readonly file: string };
  /** Sorted by target name. */
  readonly targets: readonly TargetPlan[];
  readonly diagnostics: readonly Diagnostic[];
  readonly summary: { readonly add: number; readonly change: number; readonly destroy: number };
}
