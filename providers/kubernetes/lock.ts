import { ProviderError } from '../../src/errors.js';
import {
  lockObjectName,
  type LockAttempt,
  type LockRecord,
  type LockRequest,
  type TargetLock,
  type TargetLocker,
} from '../../src/lock.js';
import type { LiveOptions } from '../../src/provider.js';
import { fromClientModel, toClientModel } from './client-model.js';
import { classifyKubernetesError, statusOf } from './errors.js';
import type { KubernetesClientFactory } from './read.js';
import {
  isKubernetesTarget,
  LOCK_LABEL,
  MANAGED_BY_LABEL,
  MODEL_LABEL,
  ownerLabels,
  type KubernetesTarget,
} from './target.js';

/**
 * The Kubernetes target lock: a NetworkPolicy `<model>-bulkhead-lock` in the target's namespace.
 * Names are unique per namespace, so create is the create-only step (a second run gets 409
 * AlreadyExists), and the release deletes with `preconditions.resourceVersion`, so it can never
 * remove a lock another run has re-created. It never affects traffic: its pod selector is a
 * contradiction (`bulkhead.io/lock In (<model>)` AND `bulkhead.io/lock DoesNotExist`), which no pod
 * can match. Its holder is in annotations; read (state.ts) skips objects labelled LOCK_LABEL.
 * A NetworkPolicy rather than a Lease, so the lock needs no permission beyond the ones apply has.
 */

/** Annotation keys of the holder (annotation keys cannot hold the `bulkhead:` tag keys' colon). */
const ANNOTATIONS = {
  holder: 'bulkhead.io/lock-holder',
  pid: 'bulkhead.io/lock-pid',
  run: 'bulkhead.io/lock-run',
  since: 'bulkhead.io/lock-since',
  expires: 'bulkhead.io/lock-expires',
} as const;

/** The Kubernetes `Provider.lock`. */
export function createKubernetesLocker(
  options: { readonly clients?: KubernetesClientFactory; readonly kubeconfig?: string } = {},
): TargetLocker {
  return {
    lockFor(target, model: string, live: LiveOptions): TargetLock {
      if (!isKubernetesTarget(target))
        throw new ProviderError(`kubernetes: target ${target.name} is not a Kubernetes target`);
      return kubernetesLock(target, model, live, options);
    },
  };
}

function kubernetesLock(
  target: KubernetesTarget,
  model: string,
  live: LiveOptions,
  options: { readonly clients?: KubernetesClientFactory; readonly kubeconfig?: string },
): TargetLock {
  const name = lockObjectName(model);
  const namespace = target.kubernetes.namespace;
  const description = `NetworkPolicy ${namespace}/${name}`;
  // read.ts (the client, the SDK) on first use, as the other clouds' locks do: the provider's
  // index imports this module, and render and validate must not pay for the client.
  const clients = async () =>
    (options.clients ?? (await import('./read.js')).createKubernetesClients)(target, {
      ...(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {}),
      ...(live.endpoint ? { endpoint: live.endpoint } : {}),
    });
  const failed = (doing: string, err: unknown) =>
    classifyKubernetesError(err, `${doing} the lock (${description})`, target.name);

  async function read(): Promise<LockRecord | undefined> {
    const c = await clients();
    let o: Record<string, unknown>;
    try {
      o = fromClientModel(await c.networking.readNamespacedNetworkPolicy({ namespace, name }));
    } catch (err) {
      if (statusOf(err).code === 404) return undefined;
      throw failed('reading', err);
    }
    const meta = (o['metadata'] ?? {}) as {
      labels?: Record<string, string>;
      annotations?: Record<string, string>;
      resourceVersion?: string;
    };
    const labels = meta.labels ?? {};
    if (labels[MANAGED_BY_LABEL] !== 'bulkhead' || labels[MODEL_LABEL] !== model || labels[LOCK_LABEL] === undefined) {
      throw new ProviderError(
        `target ${target.name}: ${description} exists without the labels of model ${model}'s lock (${MANAGED_BY_LABEL}=bulkhead, ${MODEL_LABEL}=${model}, ${LOCK_LABEL}); ` +
          'it is not a Bulkhead lock and Bulkhead will not touch it: rename or delete it',
        'LockForeign',
      );
    }
    const a = meta.annotations ?? {};
    const pid = Number(a[ANNOTATIONS.pid]);
    return {
      model,
      holder: a[ANNOTATIONS.holder] ?? 'unknown',
      pid: Number.isInteger(pid) ? pid : 0,
      runId: a[ANNOTATIONS.run] ?? 'unknown',
      since: a[ANNOTATIONS.since] ?? 'unknown',
      // Edited by hand without an expiry: it reads as expired, so it can be taken over.
      expires: a[ANNOTATIONS.expires] ?? '1970-01-01T00:00:00Z',
      ...(meta.resourceVersion ? { objectId: meta.resourceVersion } : {}),
    };
  }

  return {
    description,
    async tryCreate(request: LockRequest): Promise<LockAttempt> {
      const body = {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: {
          name,
          namespace,
          labels: { ...ownerLabels(model), [LOCK_LABEL]: 'true' },
          annotations: {
            [ANNOTATIONS.holder]: request.holder,
            [ANNOTATIONS.pid]: String(request.pid),
            [ANNOTATIONS.run]: request.runId,
            [ANNOTATIONS.since]: request.since,
            [ANNOTATIONS.expires]: request.expires,
            'bulkhead.io/note': `Bulkhead's apply lock of target ${target.name}; selects no pod. bulkhead force-unlock ${target.name} removes it`,
          },
        },
        spec: {
          podSelector: {
            matchExpressions: [
              { key: LOCK_LABEL, operator: 'In', values: [model] },
              { key: LOCK_LABEL, operator: 'DoesNotExist' },
            ],
          },
          policyTypes: ['Ingress'],
        },
      };
      const c = await clients();
      try {
        await c.networking.createNamespacedNetworkPolicy({ namespace, body: toClientModel(body) as never });
      } catch (err) {
        const s = statusOf(err);
        if (s.code === 409 && s.reason === 'AlreadyExists') return { kind: 'held', record: await read() };
        throw failed('taking', err);
      }
      const mine = await read();
      if (!mine || mine.runId !== request.runId) return { kind: 'held', record: mine };
      return { kind: 'acquired', record: mine };
    },
    read,
    async remove(record: LockRecord): Promise<'removed' | 'gone'> {
      const c = await clients();
      try {
        await c.networking.deleteNamespacedNetworkPolicy({
          namespace,
          name,
          body: record.objectId ? { preconditions: { resourceVersion: record.objectId } } : {},
        });
        return 'removed';
      } catch (err) {
        const s = statusOf(err);
        // Gone, or re-created by another run (another resourceVersion): not ours to remove.
        if (s.code === 404 || (s.code === 409 && s.reason === 'Conflict')) return 'gone';
        throw failed('releasing', err);
      }
    },
  };
}
