import type { SegmentSpec, TargetOf } from '../../src/compile/types.js';
import { DEFAULT_INTERNAL_RANGES } from '../../src/model/addresses.js';
import type { TargetDescriptor } from '../../src/provider.js';

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

/** A Kubernetes target (the `kubernetes` variant of TargetSpec). */
export type KubernetesTarget = TargetOf<'kubernetes'>;

/** A segment with its optional Kubernetes binding (SegmentSpec carries it through SegmentBindings). */
export type KubernetesSegment = SegmentSpec;

declare module '../../src/compile/types.js' {
  interface TargetConfigs {
    kubernetes: KubernetesTargetConfig;
  }
  interface SegmentBindings {
    /** The segment's pods: another namespace, other labels. */
    kubernetes: KubernetesSegmentBinding;
  }
}

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

/** Is this target a Kubernetes target? */
export function isKubernetesTarget(target: { readonly kind: string }): target is KubernetesTarget {
  return target.kind === 'kubernetes';
}

const ENDPOINT = { type: 'string', pattern: '^https?://', patternErrorMessage: 'an http(s) URL' };
const NAMESPACE = {
  type: 'string',
  pattern: '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$',
  patternErrorMessage: 'a namespace name (a DNS label like shop)',
};
/** Pod labels: keys as the API allows them (optional DNS prefix and `/`), values of 63 characters at most. */
const LABELS = {
  type: 'object',
  minProperties: 1,
  propertyNames: {
    pattern:
      '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]$',
    patternErrorMessage: 'a label key like app or app.kubernetes.io/name',
  },
  additionalProperties: {
    type: 'string',
    pattern: '^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$',
    patternErrorMessage:
      'a label value: 63 characters at most, letters, digits, "-", "_" and ".", starting and ending with a letter or digit',
  },
};

/** The Kubernetes target as the core sees it (validation, compile, the commands): see TargetDescriptor. */
export const kubernetesTarget: TargetDescriptor<'kubernetes'> = {
  id: 'kubernetes',
  label: 'Kubernetes',
  aLabel: 'a Kubernetes',
  renders: 'Kubernetes NetworkPolicies',
  schema: {
    target: {
      type: 'object',
      additionalProperties: false,
      required: ['namespace'],
      properties: {
        namespace: NAMESPACE,
        context: { type: 'string', minLength: 1 },
        dns: { type: 'boolean' },
        fqdn: {
          type: 'string',
          pattern: '^cilium$',
          patternErrorMessage: 'cilium (the one network plugin whose FQDN policies Bulkhead renders)',
        },
        adminNetworkPolicy: { type: 'boolean' },
        internalRanges: { $ref: '#/definitions/internalRanges' },
        endpoint: ENDPOINT,
      },
    },
    entityBinding: {
      type: 'object',
      additionalProperties: false,
      properties: { cidrs: { $ref: '#/definitions/cidrs' } },
    },
    segmentBinding: {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      properties: { namespace: NAMESPACE, podSelector: LABELS },
    },
  },
  parseSegmentBinding(c) {
    const namespace = c.string('namespace');
    const raw = c.value('podSelector');
    let podSelector: Record<string, string> | undefined;
    if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
      podSelector = {};
      // Label syntax is the schema's (it reports each key and value at its own position).
      for (const k of Object.keys(raw).sort()) {
        const v = (raw as Record<string, unknown>)[k];
        if (typeof v === 'string') podSelector[k] = v;
      }
      if (Object.keys(podSelector).length === 0) podSelector = undefined;
    }
    return { ...(namespace !== undefined ? { namespace } : {}), ...(podSelector ? { podSelector } : {}) };
  },
  parse(c, ctx) {
    const namespace = c.string('namespace');
    if (namespace === undefined) return undefined; // schema: required
    const context = c.string('context'),
      endpoint = c.string('endpoint');
    const dns = c.value('dns'),
      admin = c.value('adminNetworkPolicy'),
      fqdn = c.string('fqdn');
    return {
      namespace,
      ...(context !== undefined ? { context } : {}),
      ...(dns === false ? { dns: false } : {}),
      ...(fqdn === 'cilium' ? { fqdn: 'cilium' as const } : {}),
      ...(admin === true ? { adminNetworkPolicy: true } : {}),
      ...(ctx.internalRanges !== undefined ? { internalRanges: ctx.internalRanges } : {}),
      ...(endpoint !== undefined ? { endpoint } : {}),
    };
  },
  canonical: (c) => ({
    namespace: c.namespace,
    ...(c.context !== undefined ? { context: c.context } : {}),
    ...(c.dns === false ? { dns: false } : {}),
    ...(c.fqdn !== undefined ? { fqdn: c.fqdn } : {}),
    ...(c.adminNetworkPolicy ? { adminNetworkPolicy: true } : {}),
    ...(c.internalRanges !== undefined ? { internalRanges: [...c.internalRanges] } : {}),
    ...(c.endpoint !== undefined ? { endpoint: c.endpoint } : {}),
  }),
  place: (c) => `kubernetes namespace ${c.namespace}${c.context ? ` in context ${c.context}` : ''}`,
  summary: (c) =>
    `kubernetes ${c.context ?? '(current context)'} ${c.namespace}${c.fqdn ? ` fqdn ${c.fqdn}` : ''}${c.adminNetworkPolicy ? ' adminNetworkPolicy' : ''}`,
  internalRanges: (c) => c.internalRanges ?? DEFAULT_INTERNAL_RANGES,
  endpoint: (c) => c.endpoint,
  endpointEnv: 'BULKHEAD_KUBERNETES_ENDPOINT',
  // Cilium's DNS proxy matches the names themselves: the plan's resolutions are not rendered.
  usesResolvedAddresses: false,
  fqdnEgressProblem: (c) =>
    c.fqdn === 'cilium'
      ? undefined
      : 'has no `fqdn: cilium`: a NetworkPolicy cannot filter by name, so planning this target fails until the cluster has a network plugin that can (Cilium) and the target says so',
};
