import type { SourcePos, SourceRef } from '../diagnostics.js';

/**
 * The RuleSet: what `compileRules` makes of a valid segment model. Provider-neutral, canonical and
 * sorted; providers render it, the engine plans from it. Everything here is plain JSON data.
 */

/**
 * What each provider's target config looks like, by provider id. Empty here: the core knows no
 * cloud. Each provider adds its entry from its `target.ts` by declaration merging
 * (`declare module '../../src/compile/types.js' { interface TargetConfigs { aws: AwsTargetConfig } }`),
 * so `t.kind === 'aws'` narrows `t.aws` to the AWS config in provider code, and the core only
 * ever sees the union. (It lives here beside TargetSpec, not in src/provider.ts, so the types
 * of the RuleSet need no import of the provider interface.)
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by the providers (declaration merging)
export interface TargetConfigs {}

/**
 * Provider-specific keys of a per-cloud entity binding, by provider id (declaration merging, like
 * TargetConfigs): string-valued keys such as a prefix list name or a service tag. A provider
 * without any has no entry; its bindings carry CIDRs only.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by the providers (declaration merging)
export interface EntityBindingFields {}

/**
 * A segment's per-provider identity overrides, by provider id (declaration merging, like
 * TargetConfigs): string-valued keys such as an adopted group id. Providers without any have no entry.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by the providers (declaration merging)
export interface SegmentBindings {}

/** The ids of the providers Bulkhead renders to (the keys of TargetConfigs). */
export type CloudId = keyof TargetConfigs & string;

/** One place the model is enforced, on provider `K`: `{ kind: K, name, pos, [K]: config }`. */
export type TargetOf<K extends CloudId> = { readonly kind: K; readonly name: string; readonly pos: SourcePos } & {
  readonly [P in K]: TargetConfigs[K];
};

/** One place the model is enforced. */
export type TargetSpec = { [K in CloudId]: TargetOf<K> }[CloudId];

/** The config of any target (the union of TargetConfigs). */
export type TargetConfig = TargetConfigs[CloudId];

/** A per-cloud binding of a logical entity on provider `K` (DESIGN §1 `object-storage`). */
export type CloudBindingOf<K extends string> = (K extends keyof EntityBindingFields
  ? EntityBindingFields[K]
  : unknown) & {
  /** Canonical IPv4 CIDRs. */
  readonly ipv4: readonly string[];
  /** Canonical IPv6 CIDRs (RFC 5952). */
  readonly ipv6: readonly string[];
};

/** A per-cloud binding of a logical entity, any provider: its CIDRs and the provider's own string keys. */
export interface CloudBinding {
  /** Canonical IPv4 CIDRs. */
  readonly ipv4: readonly string[];
  /** Canonical IPv6 CIDRs (RFC 5952). */
  readonly ipv6: readonly string[];
}

/** The per-cloud bindings of an entity, keyed by provider id. */
export type CloudBindings = { readonly [K in CloudId]?: CloudBindingOf<K> };

/** A segment's identity overrides, keyed by provider id. */
export type SegmentOverrides = { readonly [K in keyof SegmentBindings]?: SegmentBindings[K] };

/**
 * What traffic a rule matches, in canonical form (see cloud-semantics "Normalization traps"):
 * lower-case IANA protocol names, one port range per match, `all` as its own variant.
 */
export type PortMatch =
  /** Every protocol and port (`all`, AWS `-1`, Azure `*`, GCP `all`). */
  | { readonly kind: 'all' }
  /** A port range of a port-bearing protocol; `tcp` alone is 0-65535 (1-65535 stays as written). */
  | { readonly kind: 'ports'; readonly protocol: 'tcp' | 'udp' | 'sctp'; readonly from: number; readonly to: number }
  /** ICMP by type and code; null means every type (then code is null too) or every code. */
  | {
      readonly kind: 'icmp';
      readonly protocol: 'icmp' | 'icmpv6';
      readonly type: number | null;
      readonly code: number | null;
    }
  /** Any other IANA protocol by number (esp = 50, ah = 51, gre = 47 …), all of its traffic. */
  | { readonly kind: 'protocol'; readonly number: number };

/** The other end of a rule, resolved: tiers are already expanded into segments. */
export type Endpoint =
  | { readonly kind: 'segment'; readonly name: string }
  /** A CIDR entity; the built-in `internet` is `{entity:'internet', builtin:'internet', 0.0.0.0/0, ::/0}`. */
  | {
      readonly kind: 'cidrs';
      readonly entity: string;
      readonly ipv4: readonly string[];
      readonly ipv6: readonly string[];
      readonly builtin?: 'internet';
    }
  /** An FQDN entity: lower-case, no trailing dot, sorted. Only ever a destination (egress). */
  | { readonly kind: 'fqdns'; readonly entity: string; readonly fqdns: readonly string[] }
  /** A per-cloud entity; a cloud it has no binding for is a validation error when a target uses it. */
  | ({ readonly kind: 'cloud'; readonly entity: string } & CloudBindings);

/**
 * One side of an allowed flow, carried by one segment's cloud object. Intents share objects
 * (compileRules): every intent with the same peer holds the same `peer` object, and the two
 * sides of one flow the same `origins` array. Read-only, like the whole RuleSet: copy before
 * changing anything.
 */
export interface RuleIntent {
  /** Stable id derived from content (direction, segment, peer, service): same model, same id. */
  readonly id: string;
  readonly direction: 'ingress' | 'egress';
  /** The segment whose object carries the rule: the receiver for ingress, the sender for egress. */
  readonly segment: string;
  readonly peer: Endpoint;
  readonly service: PortMatch;
  /** Every place in the model that wrote this flow (a flow written on both sides has two). */
  readonly origins: readonly SourceRef[];
}

/**
 * A guardrail `deny`, for the clouds that render denies natively (Azure, GCP) at the highest
 * precedence. It applies to `segments` in `direction` against `peer` (`any` = every address).
 *
 * The compiler checks denies against the model's flows with this meaning: the built-in
 * `internet` is every address outside the target's internal ranges (`internetRanges` in
 * src/model/addresses.ts), and neither it nor any entity is ever one of the model's segments, so
 * a model may deny `internet` egress from a tier and still let it talk to other segments. A
 * native rendering must keep that meaning: Azure's `Internet` tag does; on GCP a deny of
 * 0.0.0.0/0 at top precedence would also cut segment-to-segment traffic, so deny
 * `excludeCidrs(['0.0.0.0/0', '::/0'], target.gcp.internalRanges)` (src/model/addresses.ts)
 * instead. A `peer` of kind `any` does include the model's segments.
 */
export interface GuardrailDeny {
  /** Stable id derived from content. */
  readonly id: string;
  /** The guardrail's name in the model. */
  readonly guardrail: string;
  readonly direction: 'ingress' | 'egress';
  /** The model segments it protects, sorted. */
  readonly segments: readonly string[];
  /** True when the guardrail named no segment side: it protects every segment of the model. */
  readonly allSegments: boolean;
  readonly peer: Endpoint | { readonly kind: 'any' };
  /** Sorted canonical matches; `[{kind:'all'}]` when the guardrail names no ports. */
  readonly services: readonly PortMatch[];
  readonly origins: readonly SourceRef[];
}

/**
 * A segment as the providers see it: its name, tier and per-provider identity overrides (keyed by
 * provider id, SegmentBindings: e.g. a group to adopt instead of creating `<model>-<segment>`).
 */
export type SegmentSpec = {
  readonly name: string;
  readonly tier?: string;
  readonly pos: SourcePos;
} & SegmentOverrides;

/** A CIDR entity the model declares, as every renderer may need it even when no flow names it. */
export interface CidrEntitySpec {
  readonly name: string;
  /** Canonical IPv4 CIDRs, sorted. */
  readonly ipv4: readonly string[];
  /** Canonical IPv6 CIDRs (RFC 5952), sorted. */
  readonly ipv6: readonly string[];
}

/** The compiled model. Byte-identical JSON for the same model. */
export interface RuleSet {
  readonly formatVersion: 1;
  readonly model: {
    /** The model's `name`: prefix of managed names and value of the ownership marker. */
    readonly name: string;
    /** sha256 (hex) of the canonical rules without positions: the same model, the same digest. */
    readonly digest: string;
    /** The model's root file. */
    readonly file: string;
  };
  /** Sorted by name. */
  readonly targets: readonly TargetSpec[];
  /** Sorted by name. */
  readonly segments: readonly SegmentSpec[];
  /** Allowed flows, both sides, sorted by (segment, direction, id). */
  readonly rules: readonly RuleIntent[];
  /** Guardrail denies, sorted by (guardrail, direction, id). */
  readonly denies: readonly GuardrailDeny[];
  /**
   * Every CIDR entity the model declares (the built-in `internet` excluded), sorted by name. GCP
   * carves the ones inside the internal ranges out of its segment-to-segment egress (DESIGN §5).
   * Optional so RuleSets built by hand stay valid; `compileRules` always fills it.
   */
  readonly entities?: readonly CidrEntitySpec[];
  /**
   * Guardrail `only`s, for the providers that can render one natively (a deny of every other
   * source at high precedence), sorted by guardrail. Optional so RuleSets built by hand stay
   * valid; `compileRules` fills it when the model has any. Not part of the digest (the checks it
   * feeds already are: the guardrail's flows).
   */
  readonly onlys?: readonly GuardrailOnly[];
}

/** A guardrail `only`: flows into `segments` may come only from `fromSegments` and `fromEntities`. */
export interface GuardrailOnly {
  /** The guardrail's name in the model. */
  readonly guardrail: string;
  /** The protected segments, sorted. */
  readonly segments: readonly string[];
  /** The segments allowed in, sorted (tiers expanded). */
  readonly fromSegments: readonly string[];
  /** The entities allowed in (addresses outside the model), sorted by name. */
  readonly fromEntities: readonly string[];
  readonly origins: readonly SourceRef[];
}
