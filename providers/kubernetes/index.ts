import type { RuleSet } from '../../src/compile/types.js';
import type { Diagnostic } from '../../src/diagnostics.js';
import { ProviderError } from '../../src/errors.js';
import type { Json, ProviderState, Resource } from '../../src/plan/types.js';
import type { Applier, ApplierOptions, LiveOptions, ReadContext, SnapshotFile, StateSource } from '../../src/provider.js';
import { createKubernetesApplier, type KubernetesApplyOptions } from './apply.js';
import { toKubernetesList } from './cli-json.js';
import { createKubernetesLocker } from './lock.js';
import { createKubernetesClients, readKubernetes, readKubernetesLive, type KubernetesClientFactory } from './read.js';
import { renderKubernetes } from './render.js';
import { formatSnapshot } from './snapshot.js';
import { isKubernetesTarget, type KubernetesTarget } from './target.js';
import { validateKubernetes } from './validate.js';

/**
 * The Kubernetes provider (DESIGN §8): NetworkPolicies per segment, CiliumNetworkPolicies for FQDN
 * egress and AdminNetworkPolicies for guardrails when the target asks. Render and validate are
 * pure; read, apply and export use `@kubernetes/client-node` 1.4 (the newest line that runs on
 * Node 20: 2.x needs undici 8, i.e. Node 22.19) with the kubeconfig's credentials.
 */

/** Options of the Kubernetes provider (all optional; tests inject a kubeconfig and fast retries). */
export interface KubernetesProviderOptions extends KubernetesApplyOptions {
  readonly clients?: KubernetesClientFactory;
  /** `limit` of each list page (default 250). */
  readonly pageSize?: number;
}

/** A target the provider was handed, checked to be a Kubernetes one. */
function kubernetesTarget(target: { readonly kind: string; readonly name: string }): KubernetesTarget {
  if (!isKubernetesTarget(target)) throw new ProviderError(`kubernetes: target ${target.name} is not a Kubernetes target (it is a ${target.kind} target)`);
  return target;
}

/** Creates the Kubernetes provider. */
export function createKubernetesProvider(options: KubernetesProviderOptions = {}) {
  const readOptions = {
    ...(options.clients ? { clients: options.clients } : {}),
    ...(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {}),
    ...(options.pageSize ? { pageSize: options.pageSize } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
  };
  type AnyTarget = { readonly kind: string; readonly name: string };
  return {
    id: 'kubernetes' as const,
    validate: (rules: RuleSet, target: AnyTarget, _ctx?: unknown): Diagnostic[] => (isKubernetesTarget(target) ? validateKubernetes(rules, target) : []),
    // Names are matched by Cilium's DNS proxy, so the plan's resolutions are not needed.
    render: (rules: RuleSet, target: AnyTarget, _ctx?: unknown): Resource[] => renderKubernetes(rules, kubernetesTarget(target)).resources,
    read: (target: AnyTarget, source: StateSource, context?: ReadContext): Promise<ProviderState> => readKubernetes(kubernetesTarget(target), source, context, readOptions),
    createApplier: (target: AnyTarget, _state: ProviderState, applierOptions: ApplierOptions): Applier => createKubernetesApplier(kubernetesTarget(target), applierOptions, options),
    async exportSnapshot(target: AnyTarget, live: LiveOptions): Promise<SnapshotFile[]> {
      const t = kubernetesTarget(target);
      const clients = await (options.clients ?? createKubernetesClients)(t, {
        ...(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {}),
        ...(live.endpoint ? { endpoint: live.endpoint } : {}),
      });
      // Everything kubectl would print, not only the model's objects.
      return formatSnapshot(await readKubernetesLive(t, clients, { ...(options.pageSize ? { pageSize: options.pageSize } : {}), ...(options.retry ? { retry: options.retry } : {}) }));
    },
    toCliJson: (resources: readonly Resource[], _target: AnyTarget): Json => toKubernetesList(resources),
    lock: createKubernetesLocker({ ...(options.clients ? { clients: options.clients } : {}), ...(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {}) }),
  };
}
