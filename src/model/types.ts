import type { SourcePos } from '../diagnostics.js';
import type { CloudBindings, PortMatch, SegmentOverrides, TargetSpec } from '../compile/types.js';

/**
 * The SegmentModel: a model file (and everything it includes) after loading and validation.
 * Every reference is resolved, every service expanded to canonical `PortMatch`es, every CIDR and
 * FQDN canonical, and every piece keeps the position it was written at. `compileRules` turns it
 * into a RuleSet. Maps are keyed by name; their iteration order is irrelevant to the compiler.
 */
export interface SegmentModel {
  readonly formatVersion: 1;
  /**
   * `model` for a model file; `pack` for a file with only services, entities and guardrails (a
   * guardrail pack validated on its own: its segment and tier names are left unresolved).
   */
  readonly kind: 'model' | 'pack';
  /** The model's `name`: prefix of managed names and value of the ownership marker ('' for a pack). */
  readonly name: string;
  /** The root file, relative to the working directory when inside it. */
  readonly file: string;
  /** Every file that was read (the root first), for messages and watch tools. */
  readonly files: readonly string[];
  readonly targets: ReadonlyMap<string, TargetSpec>;
  readonly services: ReadonlyMap<string, ServiceDef>;
  readonly entities: ReadonlyMap<string, EntityDef>;
  readonly tiers: ReadonlyMap<string, TierDef>;
  readonly segments: ReadonlyMap<string, SegmentDef>;
  readonly guardrails: readonly GuardrailDef[];
  /** Warning codes the model silences (`ignoreWarnings:`), as written; `compileFile` drops them. */
  readonly ignoreWarnings?: readonly string[];
}

/** A named service, expanded (named services referencing others are flattened). */
export interface ServiceDef {
  readonly name: string;
  readonly pos: SourcePos;
  readonly matches: readonly PortMatch[];
}

/** An entity: something outside the model. */
export type EntityDef =
  | {
      readonly kind: 'cidrs';
      readonly name: string;
      readonly pos: SourcePos;
      /** Canonical IPv4 CIDRs, sorted. */
      readonly ipv4: readonly string[];
      /** Canonical IPv6 CIDRs (RFC 5952), sorted. */
      readonly ipv6: readonly string[];
      readonly builtin?: 'internet';
    }
  | {
      readonly kind: 'fqdns';
      readonly name: string;
      readonly pos: SourcePos;
      /** Lower-case, no trailing dot, sorted, unique. */
      readonly fqdns: readonly string[];
    }
  | ({
      readonly kind: 'cloud';
      readonly name: string;
      readonly pos: SourcePos;
    } & CloudBindings);

/** A tier: a named group of segments. */
export interface TierDef {
  readonly name: string;
  readonly pos: SourcePos;
  /** Segment names, sorted. */
  readonly segments: readonly string[];
}

/** A reference as written in a rule, resolved. `tier:x` is already expanded into its segments. */
export type PeerRef =
  | { readonly kind: 'segment'; readonly name: string }
  | { readonly kind: 'tier'; readonly name: string; readonly segments: readonly string[] }
  | { readonly kind: 'entity'; readonly name: string };

/** One `ingress` or `egress` item of a segment. */
export interface FlowDef {
  readonly direction: 'ingress' | 'egress';
  /** The peers (`from` for ingress, `to` for egress); a list is allowed. */
  readonly peers: readonly { readonly ref: PeerRef; readonly pos: SourcePos }[];
  /** Expanded, canonical; one entry per match with the position of the item that produced it. */
  readonly services: readonly { readonly match: PortMatch; readonly pos: SourcePos }[];
  /** Position of the flow item (its mapping node). */
  readonly pos: SourcePos;
}

/** A segment of the model, with its per-provider identity overrides (keyed by provider id). */
export type SegmentDef = {
  readonly name: string;
  readonly pos: SourcePos;
  /** The tier that lists it, if any (a segment is in at most one tier). */
  readonly tier?: string;
  readonly flows: readonly FlowDef[];
} & SegmentOverrides;

/** A side of a guardrail: resolved references; empty means "any". */
export interface GuardrailSide {
  readonly refs: readonly { readonly ref: PeerRef; readonly pos: SourcePos }[];
}

/** An org rule, checked against every allowed flow. */
export type GuardrailDef =
  | {
      readonly kind: 'deny';
      readonly name: string;
      readonly pos: SourcePos;
      readonly from: GuardrailSide;
      readonly to: GuardrailSide;
      /** Canonical matches; `[{kind:'all'}]` when the guardrail names no ports. */
      readonly services: readonly PortMatch[];
    }
  | {
      readonly kind: 'only';
      readonly name: string;
      readonly pos: SourcePos;
      /** The protected segments' references. */
      readonly to: GuardrailSide;
      /** The only sources allowed into them. */
      readonly from: GuardrailSide;
    };
