import type { SourcePos, SourceRef } from '../diagnostics.js';

/**
 * The RuleSet: what `compileRules` makes of a valid segment model. Provider-neutral, canonical and
 * sorted; providers render it, the engine plans from it. Everything here is plain JSON data.
 */

/** The clouds Bulkhead renders to. */
export type CloudId = 'aws' | 'azure' | 'gcp';

/** Where an AWS target lives. */
export interface AwsTargetConfig {
  readonly region: string;
  /** The VPC whose security groups the model owns (`vpc-…`). */
  readonly vpc: string;
  /** Named profile of the AWS shared config, when not the default chain's choice. */
  readonly profile?: string;
  /**
   * The VPC's internal ranges, when the model gives them (canonical CIDRs, sorted): what the
   * built-in `internet` is outside of. Absent means DEFAULT_INTERNAL_RANGES (src/model/addresses.ts).
   */
  readonly internalRanges?: readonly string[];
  /** API endpoint override (emulators, sovereign partitions). */
  readonly endpoint?: string;
}

/** Where an Azure target lives. */
export interface AzureTargetConfig {
  readonly subscription: string;
  readonly resourceGroup: string;
  readonly location: string;
  /** Name of the NSG that carries the model's rules (in `resourceGroup`). */
  readonly nsg: string;
  /** Azure Firewall Policy for FQDN egress (in `resourceGroup`); required when a segment has FQDN egress. */
  readonly firewallPolicy?: string;
  /**
   * The network's internal ranges, when the model gives them (canonical CIDRs, sorted): what the
   * built-in `internet` is outside of. Absent means DEFAULT_INTERNAL_RANGES (src/model/addresses.ts).
   */
  readonly internalRanges?: readonly string[];
  /** ARM endpoint override (emulators, sovereign clouds). */
  readonly endpoint?: string;
}

/** Where a GCP target lives. */
export interface GcpTargetConfig {
  readonly project: string;
  /** VPC network name. */
  readonly network: string;
  /** Global network firewall policy for FQDN egress; required when a segment has FQDN egress. */
  readonly firewallPolicy?: string;
  /**
   * The network's internal ranges: egress between segments is allowed toward these (GCP egress
   * rules cannot name tags), and the built-in `internet` is everything outside them. Canonical
   * CIDRs; DEFAULT_INTERNAL_RANGES (RFC 1918, 100.64.0.0/10, fc00::/7) when the model does not say.
   */
  readonly internalRanges: readonly string[];
  /** Compute API endpoint override (emulators). */
  readonly endpoint?: string;
}

/** One place the model is enforced. */
export type TargetSpec =
  | { readonly kind: 'aws'; readonly name: string; readonly pos: SourcePos; readonly aws: AwsTargetConfig }
  | { readonly kind: 'azure'; readonly name: string; readonly pos: SourcePos; readonly azure: AzureTargetConfig }
  | { readonly kind: 'gcp'; readonly name: string; readonly pos: SourcePos; readonly gcp: GcpTargetConfig };

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

/** A cloud-specific binding of a logical entity (DESIGN §1 `object-storage`). */
export interface CloudBinding {
  /** AWS-managed prefix list name (`com.amazonaws.eu-west-1.s3`) or id (`pl-…`). */
  readonly prefixList?: string;
  /** Azure service tag (`Storage.WestEurope`). */
  readonly serviceTag?: string;
  /** Canonical IPv4 CIDRs. */
  readonly ipv4: readonly string[];
  /** Canonical IPv6 CIDRs (RFC 5952). */
  readonly ipv6: readonly string[];
}

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
  | {
      readonly kind: 'cloud';
      readonly entity: string;
      readonly aws?: CloudBinding;
      readonly azure?: CloudBinding;
      readonly gcp?: CloudBinding;
    };

/** One side of an allowed flow, carried by one segment's cloud object. */
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

/** A segment as the providers see it: its name, tier and per-cloud identity overrides. */
export interface SegmentSpec {
  readonly name: string;
  readonly tier?: string;
  readonly pos: SourcePos;
  /** AWS: adopt an existing group instead of creating `<model>-<segment>`. */
  readonly aws?: { readonly groupId?: string };
  /** GCP: match instances by service account instead of the network tag `<model>-<segment>`. */
  readonly gcp?: { readonly serviceAccount?: string };
}

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
}
