import type { SourcePos } from '../../src/diagnostics.js';
import type { SegmentSpec } from '../../src/compile/types.js';

/**
 * What a Kubernetes target and a segment's binding say (DESIGN §8). Defined here, beside the
 * provider, so the core's TargetSpec only has to name it.
 */

/** Where a Kubernetes target lives and what the cluster can enforce. */
export interface KubernetesTargetConfig {
  /** kubeconfig context; the current context when absent. */
  readonly context?: string;
  /** The namespace segments live in unless a segment says otherwise. */
  readonly namespace: string;
  /** Allow DNS egress to kube-dns for every segment (default true: the clouds' resolvers are unfiltered too). */
  readonly dns?: boolean;
  /** A CNI that can filter by name: `cilium` renders FQDN egress as CiliumNetworkPolicy `toFQDNs`. */
  readonly fqdn?: 'cilium';
  /** Render guardrails as AdminNetworkPolicy (policy.networking.k8s.io/v1alpha1). */
  readonly adminNetworkPolicy?: boolean;
  /** What `internet` is outside of (canonical CIDRs); DEFAULT_INTERNAL_RANGES when absent. */
  readonly internalRanges?: readonly string[];
  /** API server URL override (tests, a port-forward); the kubeconfig's server otherwise. */
  readonly endpoint?: string;
}

/** A segment's pods in a cluster: `segments.<name>.kubernetes`. */
export interface KubernetesSegmentBinding {
  /** The segment's namespace; the target's when absent. */
  readonly namespace?: string;
  /** Labels the segment's pods carry; `bulkhead.io/segment: <segment>` when absent. */
  readonly podSelector?: { readonly [label: string]: string };
}

/** A Kubernetes target as the provider sees it (the `kubernetes` variant of TargetSpec). */
export interface KubernetesTarget {
  readonly kind: 'kubernetes';
  readonly name: string;
  readonly pos: SourcePos;
  readonly kubernetes: KubernetesTargetConfig;
}

/** A segment with its optional Kubernetes binding. */
export type KubernetesSegment = SegmentSpec & { readonly kubernetes?: KubernetesSegmentBinding };

/** The label that selects a segment's pods by default. */
export const SEGMENT_LABEL = 'bulkhead.io/segment';
/** The labels every object Bulkhead writes carries: how read finds them, and the ownership marker. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
/** See MANAGED_BY_LABEL. */
export const MODEL_LABEL = 'bulkhead.io/model';
/** Label of the apply lock object (lock.ts); read and plan ignore objects carrying it. */
export const LOCK_LABEL = 'bulkhead.io/lock';
/** The namespace label the API server sets on every namespace (immutable, Kubernetes ≥ 1.22). */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/** The labels of the model's objects. */
export function ownerLabels(model: string): { readonly [label: string]: string } {
  return { [MANAGED_BY_LABEL]: 'bulkhead', [MODEL_LABEL]: model };
}

/** The label selector read lists with: only the model's objects come back. */
export function ownerSelector(model: string): string {
  return `${MANAGED_BY_LABEL}=bulkhead,${MODEL_LABEL}=${model}`;
}

/** Where a segment's pods are: namespace and labels. */
export interface SegmentPods {
  readonly namespace: string;
  readonly labels: { readonly [label: string]: string };
}

/** The pods of a segment in a target. */
export function segmentPods(target: KubernetesTargetConfig, segment: KubernetesSegment): SegmentPods {
  return {
    namespace: segment.kubernetes?.namespace ?? target.namespace,
    labels: segment.kubernetes?.podSelector ?? { [SEGMENT_LABEL]: segment.name },
  };
}

/** Is this target a Kubernetes target? (TargetSpec gains the variant in the core.) */
export function isKubernetesTarget(target: { readonly kind: string }): target is KubernetesTarget {
  return target.kind === 'kubernetes';
}
