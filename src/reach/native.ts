import type { CloudBinding, PortMatch, SegmentSpec } from '../compile/types.js';

/**
 * The vocabulary between the core and the cloud evaluators (`Provider.evaluate`, implemented in
 * providers/<cloud>/evaluate.ts). The core turns a model-level probe into native probes (one per
 * address block of an entity) and each provider decides one native probe on its own objects,
 * exactly as its cloud does. Nothing here knows a cloud.
 */

/** One end of a native probe. */
export type NativeEnd =
  /**
   * An instance of a segment: it carries the segment's identity (the provider derives the SG,
   * ASG, network tag or service account from the model's name and SegmentSpec) and a
   * representative internal address of the probe's family (GCP egress rules and Azure's
   * `VirtualNetwork` tag match addresses, not identities).
   */
  | { readonly kind: 'segment'; readonly segment: string; readonly address: string }
  /**
   * Something outside the model. `cidr` is one canonical block of it (undefined for an FQDN or
   * per-cloud entity whose addresses are not known here: then only a rule that covers every public
   * address, or one naming the entity natively, matches it). `entity` and its `fqdns`/`binding`
   * let a provider match native objects made for the entity (an AWS prefix list, an Azure service
   * tag, a GCP `destFqdns`).
   */
  | {
      readonly kind: 'external';
      readonly cidr?: string;
      readonly entity?: string;
      readonly fqdns?: readonly string[];
      readonly binding?: CloudBinding;
    };

/** A probe as one cloud sees it. */
export interface NativeProbe {
  readonly source: NativeEnd;
  readonly destination: NativeEnd;
  readonly service: PortMatch;
}

/** A native rule that decides (or helps decide) a probe. */
export interface NativeRuleRef {
  /** The object that carries the rule: SG name, NSG name, firewall rule name, policy name. */
  readonly object: string;
  /** The rule inside it: AWS rule key, NSG rule name, GCP firewall name or policy priority. */
  readonly rule: string;
  /** The cloud's handle (`sgr-…`, ARM id, self link) when read from live state. */
  readonly id?: string;
  readonly direction: 'ingress' | 'egress';
  readonly action: 'allow' | 'deny';
  readonly priority?: number;
  /** True when the model owns it; false for another team's rule, a cloud default or an implied rule. */
  readonly owned: boolean;
  /** `rule` (a real object), `default` (Azure's default rules), `implied` (GCP's implied rules, AWS's default deny). */
  readonly kind: 'rule' | 'default' | 'implied';
  /** One line: what the rule says. */
  readonly summary: string;
}

/** A cloud's answer for one native probe. */
export interface NativeVerdict {
  readonly verdict: 'allow' | 'deny';
  /**
   * The deciding rules: for an allow, the rule of each side that admits it (AWS: the sender's
   * egress and the receiver's ingress; Azure, GCP: the winning rule of each direction); for a deny,
   * the rule that denies (an explicit deny, a default or implied rule).
   */
  readonly rules: readonly NativeRuleRef[];
  /** What else the reader should know (an assumption the evaluation made). */
  readonly notes?: readonly string[];
}

/** Options a cloud evaluation may need beyond the state. */
export interface EvaluateOptions {
  /**
   * GCP: the network's `networkFirewallPolicyEnforcementOrder` (the read does not fetch the
   * network): `AFTER_CLASSIC_FIREWALL` (GCP's default) evaluates VPC firewall rules before the
   * network firewall policy.
   */
  readonly policyEnforcementOrder?: 'AFTER_CLASSIC_FIREWALL' | 'BEFORE_CLASSIC_FIREWALL';
  /**
   * Azure: the address space of `VirtualNetwork` (the VNet, peerings, on-premises); default the
   * target's internal ranges.
   */
  readonly virtualNetwork?: readonly string[];
}

/** What an evaluator needs to know about the model (who is who). */
export interface EvaluateContext {
  readonly model: string;
  readonly segments: readonly SegmentSpec[];
  readonly options?: EvaluateOptions;
  /**
   * What the model's FQDNs resolve to (the plan's resolution), for clouds that match names by
   * resolving them themselves (GCP `destFqdns`): an address probe then meets those rules too.
   */
  readonly resolved?: ReadonlyMap<string, { readonly ipv4: readonly string[]; readonly ipv6: readonly string[] }>;
}

/**
 * Decides native probes on one target's state (built once, asked many times). `services` lists
 * the traffic the native rules name (every allowed or denied protocol and port range): verdicts
 * only change at their boundaries, which is how `drift --effective` covers every port with a
 * few probes.
 */
export type NativeEvaluator = ((probe: NativeProbe) => NativeVerdict) & { readonly services?: readonly PortMatch[] };
