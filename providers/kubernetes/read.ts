import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
// Types only: the SDK is loaded with `await import()` by createKubernetesClients, so render,
// validate and snapshot reads never pay for it.
import type { CustomObjectsApi, NetworkingV1Api } from '@kubernetes/client-node';
import { error, type Diagnostic } from '../../src/diagnostics.js';
import { ProviderError } from '../../src/errors.js';
import type { ProviderState } from '../../src/plan/types.js';
import type { ReadContext, StateSource } from '../../src/provider.js';
import { retryPolicy, type RetrySettings } from '../kit/retry.js';
import { fromClientModel } from './client-model.js';
import { classifyKubernetesError, kubeconfigError, statusOf } from './errors.js';
import { parseListJson, SNAPSHOT_COMMANDS, SNAPSHOT_FILES, type KubernetesRawState } from './snapshot.js';
import { expectedObjects, toProviderState } from './state.js';
import { ownerSelector, type KubernetesTarget } from './target.js';

/**
 * Read: the model's objects of a Kubernetes target, from the API server through
 * `@kubernetes/client-node` (paginated lists with the model's label selector, all namespaces) or
 * from `kubectl … -o json` snapshots; state.ts decides ownership.
 */

/** The API clients a target needs. */
export interface KubernetesClients {
  readonly networking: NetworkingV1Api;
  readonly custom: CustomObjectsApi;
}

/** Options of the client factory. */
export interface KubernetesClientOptions {
  /** A kubeconfig file instead of the default chain (KUBECONFIG, ~/.kube/config, in-cluster). */
  readonly kubeconfig?: string;
  /** API server URL override (the target's `endpoint` wins). */
  readonly endpoint?: string;
}

/** Makes the clients of a target. */
export type KubernetesClientFactory = (
  target: KubernetesTarget,
  options: KubernetesClientOptions,
) => Promise<KubernetesClients>;

/**
 * Real clients, the library loaded on first use. Credentials come from the kubeconfig (the
 * context the target names, or the current one), or from the pod's service account in-cluster. A
 * missing kubeconfig or context is one ProviderError naming the fix, before any call.
 */
export async function createKubernetesClients(
  target: KubernetesTarget,
  options: KubernetesClientOptions = {},
): Promise<KubernetesClients> {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  const file = options.kubeconfig;
  const inCluster = process.env['KUBERNETES_SERVICE_HOST'] !== undefined;
  // loadFromDefault falls back to http://localhost:8080 when it finds nothing: say so instead.
  if (!file && !process.env['KUBECONFIG'] && !existsSync(join(homedir(), '.kube', 'config')) && !inCluster) {
    throw kubeconfigError(target.name, 'KUBECONFIG is not set, ~/.kube/config does not exist and this is not a pod');
  }
  try {
    if (file) kc.loadFromFile(file);
    else kc.loadFromDefault();
  } catch (err) {
    throw kubeconfigError(target.name, err instanceof Error ? err.message.split('\n')[0]! : String(err), err);
  }
  const context = target.kubernetes.context;
  if (context) {
    if (!kc.getContextObject(context))
      throw kubeconfigError(
        target.name,
        `it has no context "${context}" (contexts: ${
          kc
            .getContexts()
            .map((c) => c.name)
            .join(', ') || 'none'
        })`,
      );
    kc.setCurrentContext(context);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw kubeconfigError(target.name, `its context "${kc.getCurrentContext()}" names no cluster`);
  const endpoint = target.kubernetes.endpoint ?? options.endpoint;
  if (endpoint) {
    const ctx = kc.getContextObject(kc.getCurrentContext());
    kc.loadFromOptions({
      clusters: kc.getClusters().map((c) => (c.name === cluster.name ? { ...c, server: endpoint } : c)),
      users: kc.getUsers(),
      contexts: kc.getContexts(),
      currentContext: ctx?.name ?? kc.getCurrentContext(),
    });
  }
  return { networking: kc.makeApiClient(k8s.NetworkingV1Api), custom: kc.makeApiClient(k8s.CustomObjectsApi) };
}

/** Options of a live read. */
export interface KubernetesReadOptions {
  readonly clients?: KubernetesClientFactory;
  readonly kubeconfig?: string;
  /** `limit` of each list page (default 250). */
  readonly pageSize?: number;
  /** Backoff for 429/5xx (the client does not retry them). */
  readonly retry?: RetrySettings;
}

/** The group/version/plural of the custom resources. */
export const CILIUM = { group: 'cilium.io', version: 'v2', plural: 'ciliumnetworkpolicies' } as const;
/** See CILIUM. */
export const ADMIN = {
  group: 'policy.networking.k8s.io',
  version: 'v1alpha1',
  plural: 'adminnetworkpolicies',
} as const;

/** Every page of a list call, each page retried on throttling (429) and the server's 5xx. */
async function allPages(
  what: string,
  target: string,
  retry: RetrySettings | undefined,
  page: (cont: string | undefined) => Promise<{ items: unknown[]; cont: string | undefined }>,
): Promise<Record<string, unknown>[]> {
  const policy = retryPolicy({ ...retry, classify: (raw, w) => classifyKubernetesError(raw, w, target) });
  const items: Record<string, unknown>[] = [];
  let cont: string | undefined;
  for (let n = 0; ; n++) {
    const r = await policy.run(what, () => page(cont));
    items.push(...(r.items as Record<string, unknown>[]));
    cont = r.cont;
    if (!cont) return items;
    if (n > 100_000) throw new ProviderError(`target ${target}: ${what}: the server keeps returning continue tokens`);
  }
}

/** Lists the target's objects; `model` narrows by label (export passes none: everything). */
export async function readKubernetesLive(
  target: KubernetesTarget,
  clients: KubernetesClients,
  options: { readonly model?: string; readonly pageSize?: number; readonly retry?: RetrySettings },
): Promise<KubernetesRawState> {
  const labelSelector = options.model ? ownerSelector(options.model) : undefined;
  const limit = options.pageSize ?? 250;
  const sel = labelSelector ? { labelSelector } : {};
  const networkPolicies = await allPages('list networkpolicies', target.name, options.retry, async (cont) => {
    const list = await clients.networking.listNetworkPolicyForAllNamespaces({
      ...sel,
      limit,
      ...(cont ? { _continue: cont } : {}),
    });
    return { items: list.items.map(fromClientModel), cont: list.metadata?._continue || undefined };
  });
  const custom = async (crd: typeof CILIUM | typeof ADMIN) =>
    allPages(`list ${crd.plural}.${crd.group}`, target.name, options.retry, async (cont) => {
      const list = (await clients.custom.listClusterCustomObject({
        group: crd.group,
        version: crd.version,
        plural: crd.plural,
        ...sel,
        limit,
        ...(cont ? { _continue: cont } : {}),
      })) as { items?: unknown[]; metadata?: { continue?: string } };
      return { items: list.items ?? [], cont: list.metadata?.continue || undefined };
    });
  return {
    networkPolicies,
    cilium: target.kubernetes.fqdn === 'cilium' ? await custom(CILIUM) : null,
    admin: target.kubernetes.adminNetworkPolicy ? await custom(ADMIN) : null,
  };
}

/**
 * GETs the objects the model would create that the labelled list did not return: an unlabelled
 * object of that name is "in the way" (state.ts), found at plan time instead of as a 409 mid-apply.
 */
async function namesInTheWay(
  target: KubernetesTarget,
  clients: KubernetesClients,
  raw: KubernetesRawState,
  context: ReadContext,
): Promise<KubernetesRawState> {
  if (!context.segments) return raw;
  const have = new Set(
    [...raw.networkPolicies, ...(raw.cilium ?? [])].map((o) => {
      const m = o['metadata'] as { namespace?: string; name?: string };
      return `${m.namespace}/${m.name}`;
    }),
  );
  const extraNp: Record<string, unknown>[] = [];
  const extraCnp: Record<string, unknown>[] = [];
  for (const e of expectedObjects(target, context.model, context.segments)) {
    if (have.has(`${e.namespace}/${e.name}`)) continue;
    try {
      if (e.type === 'kubernetes_network_policy')
        extraNp.push(
          fromClientModel(
            await clients.networking.readNamespacedNetworkPolicy({ name: e.name, namespace: e.namespace }),
          ),
        );
      else
        extraCnp.push(
          (await clients.custom.getNamespacedCustomObject({
            ...CILIUM,
            namespace: e.namespace,
            name: e.name,
          })) as Record<string, unknown>,
        );
    } catch (err) {
      if (statusOf(err).code === 404) continue;
      throw classifyKubernetesError(
        err,
        `get ${e.type === 'kubernetes_network_policy' ? 'networkpolicy' : 'ciliumnetworkpolicy'} ${e.namespace}/${e.name}`,
        target.name,
      );
    }
  }
  return {
    ...raw,
    networkPolicies: [...raw.networkPolicies, ...extraNp],
    cilium: raw.cilium ? [...raw.cilium, ...extraCnp] : raw.cilium,
  };
}

function snapshotInvalid(
  path: string,
  failure: { message: string; line?: number; column?: number },
  target: KubernetesTarget,
): Diagnostic {
  if (failure.line !== undefined && failure.column !== undefined) {
    return error('kubernetes-snapshot-invalid', `${path}:${failure.line}:${failure.column}: ${failure.message}`, {
      file: path,
      line: failure.line,
      column: failure.column,
    });
  }
  return error('kubernetes-snapshot-invalid', `${path}: ${failure.message}`, target.pos);
}

/** Reads a snapshot folder `<dir>/<target>/` (snapshot.ts says which files). */
export async function readKubernetesSnapshot(
  target: KubernetesTarget,
  dir: string,
): Promise<{ raw: KubernetesRawState | undefined; diagnostics: Diagnostic[] }> {
  const folder = join(dir, target.name);
  const diagnostics: Diagnostic[] = [];
  const one = async (
    file: keyof typeof SNAPSHOT_FILES,
    kind: string,
  ): Promise<Record<string, unknown>[] | undefined> => {
    const path = join(folder, SNAPSHOT_FILES[file]);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      diagnostics.push(
        error(
          'kubernetes-snapshot-missing',
          `snapshot ${path} not found: write it with \`${SNAPSHOT_COMMANDS[file]} > ${path}\` (or \`bulkhead export\`)`,
          target.pos,
        ),
      );
      return undefined;
    }
    const parsed = parseListJson(text, kind);
    if (!parsed.ok) {
      diagnostics.push(snapshotInvalid(path, parsed, target));
      return undefined;
    }
    return parsed.value;
  };
  const networkPolicies = await one('networkPolicies', 'NetworkPolicy');
  const cilium = target.kubernetes.fqdn === 'cilium' ? await one('cilium', 'CiliumNetworkPolicy') : null;
  const admin = target.kubernetes.adminNetworkPolicy ? await one('admin', 'AdminNetworkPolicy') : null;
  if (!networkPolicies || cilium === undefined || admin === undefined) return { raw: undefined, diagnostics };
  return { raw: { networkPolicies, cilium, admin }, diagnostics };
}

/** `Provider.read` for Kubernetes. */
export async function readKubernetes(
  target: KubernetesTarget,
  source: StateSource,
  context: ReadContext | undefined,
  options: KubernetesReadOptions = {},
): Promise<ProviderState> {
  const model = context?.model;
  if (source.kind === 'snapshot') {
    const { raw, diagnostics } = await readKubernetesSnapshot(target, source.dir);
    if (!raw) return { target: target.name, source: 'snapshot', resources: [], fingerprint: '', diagnostics };
    const state = toProviderState(target, raw, 'snapshot', {
      model,
      segments: context?.segments,
      unowned: context?.unowned,
      fingerprint: context?.fingerprint,
    });
    return { ...state, diagnostics: [...diagnostics, ...state.diagnostics] };
  }
  const clients = await (options.clients ?? createKubernetesClients)(target, {
    ...(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {}),
    ...(source.endpoint ? { endpoint: source.endpoint } : {}),
  });
  // Reading what the model does not own too: no server-side narrowing to the model's labels.
  let raw = await readKubernetesLive(target, clients, {
    ...(model && !context?.unowned ? { model } : {}),
    ...(options.pageSize ? { pageSize: options.pageSize } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
  });
  if (context) raw = await namesInTheWay(target, clients, raw, context);
  return toProviderState(target, raw, 'live', {
    model,
    segments: context?.segments,
    unowned: context?.unowned,
    fingerprint: context?.fingerprint,
  });
}
