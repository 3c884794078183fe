import type { TargetSpec } from '../../src/compile/types.js';
import { ProviderError } from '../../src/errors.js';
import type { Resource } from '../../src/plan/types.js';
import type { Provider, ProviderEntry } from '../../src/provider.js';
import { createRenderShare } from '../kit/render-share.js';
import { lazyApplier } from '../kit/lazy.js';
import type { KubernetesApplyOptions } from './apply.js';
import { toKubernetesList } from './cli-json.js';
import { createKubernetesLocker } from './lock.js';
import type { KubernetesClientFactory } from './read.js';
import { renderKubernetes } from './render.js';
import { kubernetesRuleFlows } from './rule-flows.js';
import { isKubernetesTarget, kubernetesTarget as kubernetesTargetDescriptor, type KubernetesTarget } from './target.js';
import { validateKubernetes } from './validate.js';

/**
 * The Kubernetes provider (DESIGN §8): NetworkPolicies per segment, CiliumNetworkPolicies for FQDN
 * egress and AdminNetworkPolicies for guardrails when the target asks. Render and validate are
 * pure; read, apply and export use `@kubernetes/client-node` 1.4 (the newest line that runs on
 * Node 20: 2.x needs undici 8, i.e. Node 22.19) with the kubeconfig's credentials. Read, apply,
 * export and the evaluator import their modules on first use (issue 11.0, start-up).
 */

/** Options of the Kubernetes provider (all optional; tests inject a kubeconfig and fast retries). */
export interface KubernetesProviderOptions extends KubernetesApplyOptions {
  readonly clients?: KubernetesClientFactory;
  /** `limit` of each list page (default 250). */
  readonly pageSize?: number;
}

/** A target the provider was handed, checked to be a Kubernetes one. */
function kubernetesTarget(target: TargetSpec): KubernetesTarget {
  if (!isKubernetesTarget(target))
    throw new ProviderError(`kubernetes: target ${target.name} is not a Kubernetes target`);
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
  // validate's render, for the render that follows (the kit's render share: `render` and `plan`
  // rendered every Kubernetes target twice, once to check it and once to print or diff it).
  const shared = createRenderShare<Resource[]>();
  return {
    id: 'kubernetes',
    validate(rules, target, ctx) {
      if (!isKubernetesTarget(target)) return [];
      const rendered = renderKubernetes(rules, target);
      shared.put([rules, target, ctx.resolved], rendered.resources);
      return validateKubernetes(rules, target, rendered);
    },
    // Names are matched by Cilium's DNS proxy, so the plan's resolutions are not needed (they are
    // part of the share's key only because they are the context validate and render were given).
    render: (rules, target, ctx) =>
      shared.take([rules, target, ctx.resolved]) ?? renderKubernetes(rules, kubernetesTarget(target)).resources,
    read: async (target, source, context) =>
      (await import('./read.js')).readKubernetes(kubernetesTarget(target), source, context, readOptions),
    createApplier: (target, _state, applierOptions) => {
      const t = kubernetesTarget(target);
      return lazyApplier(async () => (await import('./apply.js')).createKubernetesApplier(t, applierOptions, options));
    },
    async exportSnapshot(target, live) {
      const t = kubernetesTarget(target);
      const [{ createKubernetesClients, readKubernetesLive }, { formatSnapshot }] = await Promise.all([
        import('./read.js'),
        import('./snapshot.js'),
      ]);
      const clients = await (options.clients ?? createKubernetesClients)(t, {
        ...(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {}),
        ...(live.endpoint ? { endpoint: live.endpoint } : {}),
      });
      // Everything kubectl would print, not only the model's objects.
      return formatSnapshot(
        await readKubernetesLive(t, clients, {
          ...(options.pageSize ? { pageSize: options.pageSize } : {}),
          ...(options.retry ? { retry: options.retry } : {}),
        }),
      );
    },
    toCliJson: (resources, _target) => toKubernetesList(resources),
    ruleFlows: kubernetesRuleFlows,
    evaluate: async (target, state, context) =>
      (await import('./native.js')).evaluateKubernetes(target, state, context),
    lock: createKubernetesLocker({
      ...(options.clients ? { clients: options.clients } : {}),
      ...(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {}),
    }),
  } satisfies Provider;
}

/** The registry entry (providers/index.ts). */
export const kubernetesProvider: ProviderEntry<'kubernetes'> = {
  target: kubernetesTargetDescriptor,
  create: () => createKubernetesProvider(),
};
