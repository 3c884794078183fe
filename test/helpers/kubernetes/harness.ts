import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyPlan, type ApplyReport } from '../../../src/apply/apply-plan.js';
import type { RuleSet, TargetSpec } from '../../../src/compile/types.js';
import { hasErrors } from '../../../src/diagnostics.js';
import { createPlan } from '../../../src/plan/create-plan.js';
import type { Plan } from '../../../src/plan/types.js';
import type { Provider } from '../../../src/provider.js';
import { createKubernetesProvider } from '../../../providers/kubernetes/index.js';
import type { KubernetesTarget } from '../../../providers/kubernetes/target.js';
import { startKubernetesApiServer, type KubernetesApiServer } from './api-server.js';

/**
 * The Kubernetes test harness: the local API server on 127.0.0.1, a kubeconfig file pointing at
 * it, the provider with the real `@kubernetes/client-node` clients (small list pages so `continue`
 * is exercised, fast backoff), and the real pipeline (createPlan → applyPlan) on a RuleSet.
 */
export interface KubernetesHarness {
  readonly server: KubernetesApiServer;
  readonly provider: Provider;
  readonly kubeconfig: string;
  plan(rules: RuleSet): Promise<Plan>;
  apply(plan: Plan, rules: RuleSet): Promise<ApplyReport>;
  close(): Promise<void>;
}

/** The RuleSet with a Kubernetes target (the core's TargetSpec carries it once wired). */
export function withTarget(rules: RuleSet, target: KubernetesTarget): RuleSet {
  return { ...rules, targets: [target as unknown as TargetSpec] };
}

/** Starts a harness; `pageSize` 2 unless told. */
export async function startKubernetesHarness(options: { readonly pageSize?: number } = {}): Promise<KubernetesHarness> {
  const server = await startKubernetesApiServer();
  const dir = await mkdtemp(join(tmpdir(), 'bulkhead-k8s-'));
  const kubeconfig = server.writeKubeconfig(dir);
  const provider = createKubernetesProvider({
    kubeconfig,
    pageSize: options.pageSize ?? 2,
    retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
  }) as unknown as Provider;
  const providers = (id: string) => (id === 'kubernetes' ? provider : undefined);
  const source = () => ({ kind: 'live' as const });
  const resolver = async () => ({ ipv4: [], ipv6: [] });
  return {
    server,
    provider,
    kubeconfig,
    plan: (rules) => createPlan(rules, { providers, source, resolver, allowUnresolved: true }),
    async apply(plan, rules) {
      const diags = [...plan.diagnostics, ...plan.targets.flatMap((t) => t.diagnostics)];
      if (hasErrors(diags)) throw new Error(`plan has errors: ${JSON.stringify(diags)}`);
      return applyPlan(plan, rules, { providers, source, parallelism: 4, retries: 0 });
    },
    async close() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
