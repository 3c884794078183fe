import { InternalError, type ProviderError } from '../../src/errors.js';
import type { Child, Resource } from '../../src/plan/types.js';
import type { Applier, ApplierOptions, ApplyStep } from '../../src/provider.js';
import { retryPolicy, type RetrySettings } from '../kit/retry.js';
import { adminBody, ANP_TYPE } from './admin.js';
import { networkPolicyBody, NP_TYPE, resourceVersionOf, uniqueChildren } from './canonical.js';
import { ciliumBody, CNP_TYPE } from './cilium.js';
import { fromClientModel, toClientModel } from './client-model.js';
import { classifyKubernetesError, statusOf } from './errors.js';
import {
  ADMIN,
  CILIUM,
  createKubernetesClients,
  type KubernetesClientFactory,
  type KubernetesClients,
} from './read.js';
import { MANAGED_BY_LABEL, MODEL_LABEL, type KubernetesTarget } from './target.js';

/**
 * Apply (SDK only): create / replace / delete of whole objects, each write carrying the
 * resourceVersion that was read (or that this applier last wrote), so a concurrent change is a
 * 409 Conflict that stops the step, never a lost update. Make-before-break:
 * - `create` writes the object with all its allows at once (a policy created empty would cut its
 *   pods off until the `add` step);
 * - `add` writes the union of the old and the new allows (with the new selector and types), and
 *   `remove` then writes exactly the desired object; the engine runs every `add` of the target
 *   before any `remove`, so across segments too a flow allowed before and after is never cut;
 * - `delete` sends `preconditions.resourceVersion`; an object already gone is done.
 * A re-run converges: a create that finds its own object (labelled, from a run that died after the
 * write) replaces it; one that finds someone else's stops with the adopt hint.
 */

/** Options of the Kubernetes applier. */
export interface KubernetesApplyOptions {
  readonly clients?: KubernetesClientFactory;
  readonly kubeconfig?: string;
  /** Backoff for 429/5xx (tests pass tiny delays). */
  readonly retry?: RetrySettings;
}

type Obj = Record<string, unknown>;

/** Creates the applier of one target. */
export function createKubernetesApplier(
  target: KubernetesTarget,
  applierOptions: ApplierOptions,
  options: KubernetesApplyOptions = {},
): Applier {
  let clients: Promise<KubernetesClients> | undefined;
  const getClients = () =>
    (clients ??= (options.clients ?? createKubernetesClients)(target, {
      ...(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {}),
      ...(applierOptions.endpoint ? { endpoint: applierOptions.endpoint } : {}),
    }));
  const policy = retryPolicy({
    ...options.retry,
    classify: (raw, what) => classifyKubernetesError(raw, what, target.name),
  });
  /** The resourceVersion each address has after this applier's last write. */
  const versions = new Map<string, string>();
  /** Addresses this applier created with every desired child already in. */
  const complete = new Set<string>();

  const what = (verb: string, r: Resource) =>
    `${verb} ${kindName(r.type)} ${r.attributes['namespace'] ? `${String(r.attributes['namespace'])}/` : ''}${r.name}`;

  const bodyOf = (r: Resource, children: readonly Child[], rv: string | undefined): Obj => {
    if (r.type === NP_TYPE) return networkPolicyBody(r, children, rv) as Obj;
    if (r.type === CNP_TYPE) return ciliumBody(r, children, rv) as Obj;
    if (r.type === ANP_TYPE) return adminBody(r, rv) as Obj;
    throw new InternalError(`kubernetes: no writer for ${r.type}`);
  };

  const call = async (
    c: KubernetesClients,
    verb: 'create' | 'replace' | 'get' | 'delete',
    r: Resource,
    body?: Obj,
    rv?: string,
  ): Promise<Obj> => {
    const namespace = String(r.attributes['namespace'] ?? '');
    const name = r.name;
    const del = { body: rv ? { preconditions: { resourceVersion: rv } } : {} };
    if (r.type === NP_TYPE) {
      const api = c.networking;
      if (verb === 'create')
        return fromClientModel(
          await api.createNamespacedNetworkPolicy({ namespace, body: toClientModel(body) as never }),
        );
      if (verb === 'replace')
        return fromClientModel(
          await api.replaceNamespacedNetworkPolicy({ namespace, name, body: toClientModel(body) as never }),
        );
      if (verb === 'get') return fromClientModel(await api.readNamespacedNetworkPolicy({ namespace, name }));
      return (await api.deleteNamespacedNetworkPolicy({ namespace, name, ...del })) as unknown as Obj;
    }
    const api = c.custom;
    if (r.type === CNP_TYPE) {
      const ref = { ...CILIUM, namespace };
      if (verb === 'create') return (await api.createNamespacedCustomObject({ ...ref, body: body! })) as Obj;
      if (verb === 'replace') return (await api.replaceNamespacedCustomObject({ ...ref, name, body: body! })) as Obj;
      if (verb === 'get') return (await api.getNamespacedCustomObject({ ...ref, name })) as Obj;
      return (await api.deleteNamespacedCustomObject({ ...ref, name, ...del })) as Obj;
    }
    if (verb === 'create') return (await api.createClusterCustomObject({ ...ADMIN, body: body! })) as Obj;
    if (verb === 'replace') return (await api.replaceClusterCustomObject({ ...ADMIN, name, body: body! })) as Obj;
    if (verb === 'get') return (await api.getClusterCustomObject({ ...ADMIN, name })) as Obj;
    return (await api.deleteClusterCustomObject({ ...ADMIN, name, ...del })) as Obj;
  };

  const versionOf = (o: Obj) => (o['metadata'] as { resourceVersion?: string } | undefined)?.resourceVersion;

  const write = async (r: Resource, children: readonly Child[], rv: string | undefined): Promise<void> => {
    const c = await getClients();
    const out = await policy.run(what('replace', r), () => call(c, 'replace', r, bodyOf(r, children, rv), rv));
    const v = versionOf(out);
    if (v) versions.set(r.address, v);
  };

  const create = async (r: Resource): Promise<void> => {
    const c = await getClients();
    try {
      const out = await policy.run(what('create', r), () => call(c, 'create', r, bodyOf(r, r.children, undefined)));
      const v = versionOf(out);
      if (v) versions.set(r.address, v);
      complete.add(r.address);
    } catch (err) {
      const s = statusOf((err as ProviderError).cause ?? err);
      if (s.code !== 409 || s.reason !== 'AlreadyExists') throw err;
      // Ours from a run that stopped after the write? Then converge; someone else's: never touch it.
      const existing = await policy.run(what('get', r), () => call(c, 'get', r));
      const labels = (existing['metadata'] as { labels?: Record<string, string> } | undefined)?.labels ?? {};
      if (labels[MANAGED_BY_LABEL] !== 'bulkhead' || labels[MODEL_LABEL] !== r.attributes['model']) throw err;
      await write(r, r.children, versionOf(existing));
      complete.add(r.address);
    }
  };

  const remove = async (r: Resource, rv: string | undefined): Promise<void> => {
    const c = await getClients();
    try {
      await policy.run(what('delete', r), () => call(c, 'delete', r, undefined, rv));
    } catch (err) {
      if (statusOf((err as ProviderError).cause ?? err).code === 404) return;
      throw err;
    }
  };

  return {
    async run(step: ApplyStep): Promise<void> {
      const { change } = step;
      const before = change.before;
      const after = change.after;
      const rvOf = (address: string, r: Resource | null) => versions.get(address) ?? resourceVersionOf(r?.liveId);
      switch (step.phase) {
        case 'create':
          if (!after) throw new InternalError(`kubernetes: create step without a desired object (${change.address})`);
          return create(after);
        case 'add': {
          if (!after) return;
          if (complete.has(change.address)) return;
          // Old and new allows together: nothing allowed before is cut while the new ones land.
          const union = uniqueChildren([...(before?.children ?? []), ...after.children]);
          return write(after, union, rvOf(change.address, before));
        }
        case 'remove':
          // A doomed object's rules go with it in `delete`; an updated one now gets exactly the desired allows.
          if (!after) return;
          return write(after, after.children, rvOf(change.address, before));
        case 'delete':
          if (!before) return;
          return remove(before, rvOf(change.address, before));
      }
    },
  };
}

function kindName(type: string): string {
  return type === NP_TYPE
    ? 'networkpolicy'
    : type === CNP_TYPE
      ? 'ciliumnetworkpolicy'
      : type === ANP_TYPE
        ? 'adminnetworkpolicy'
        : type;
}
