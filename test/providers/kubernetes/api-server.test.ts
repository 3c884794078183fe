import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubeConfig, NetworkingV1Api } from '@kubernetes/client-node';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKubernetesApiServer, type KubernetesApiServer } from '../../helpers/kubernetes/api-server.js';
import { statusOf } from '../../../providers/kubernetes/errors.js';

/** The local API server itself, through the real client: the protocol the provider relies on. */

let server: KubernetesApiServer;
let dir: string;
let api: NetworkingV1Api;

const np = (
  name: string,
  labels: Record<string, string> = {},
  spec: Record<string, unknown> = { podSelector: {} },
) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name, namespace: 'shop', labels },
  spec,
});

beforeEach(async () => {
  server = await startKubernetesApiServer();
  dir = await mkdtemp(join(tmpdir(), 'bulkhead-k8s-api-'));
  const kc = new KubeConfig();
  kc.loadFromFile(server.writeKubeconfig(dir));
  api = kc.makeApiClient(NetworkingV1Api);
});

afterEach(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

async function failure(p: Promise<unknown>) {
  try {
    await p;
  } catch (err) {
    return statusOf(err);
  }
  throw new Error('expected the call to fail');
}

describe('local Kubernetes API server', () => {
  it('creates, gets, lists with a label selector and pages with limit/continue', async () => {
    for (const n of ['a', 'b', 'c'])
      await api.createNamespacedNetworkPolicy({
        namespace: 'shop',
        body: np(n, { team: n === 'b' ? 'x' : 'y' }) as never,
      });
    expect((await api.readNamespacedNetworkPolicy({ namespace: 'shop', name: 'a' })).metadata?.resourceVersion).toMatch(
      /^\d+$/,
    );
    const first = await api.listNetworkPolicyForAllNamespaces({ labelSelector: 'team=y', limit: 1 });
    expect(first.items.map((i) => i.metadata?.name)).toEqual(['a']);
    const next = await api.listNetworkPolicyForAllNamespaces({
      labelSelector: 'team=y',
      limit: 1,
      _continue: first.metadata!._continue!,
    });
    expect(next.items.map((i) => i.metadata?.name)).toEqual(['c']);
    expect(next.metadata?._continue).toBeFalsy();
  });

  it('answers 409 AlreadyExists, 409 Conflict on a stale resourceVersion, 404 and 422 as Status bodies', async () => {
    const created = await api.createNamespacedNetworkPolicy({ namespace: 'shop', body: np('a') as never });
    expect(
      await failure(api.createNamespacedNetworkPolicy({ namespace: 'shop', body: np('a') as never })),
    ).toMatchObject({ code: 409, reason: 'AlreadyExists' });
    const rv = created.metadata!.resourceVersion!;
    await api.replaceNamespacedNetworkPolicy({
      namespace: 'shop',
      name: 'a',
      body: { ...np('a'), metadata: { ...np('a').metadata, resourceVersion: rv } } as never,
    });
    expect(
      await failure(
        api.replaceNamespacedNetworkPolicy({
          namespace: 'shop',
          name: 'a',
          body: { ...np('a'), metadata: { ...np('a').metadata, resourceVersion: rv } } as never,
        }),
      ),
    ).toMatchObject({
      code: 409,
      reason: 'Conflict',
      message: expect.stringContaining('the object has been modified'),
    });
    expect(await failure(api.readNamespacedNetworkPolicy({ namespace: 'shop', name: 'nope' }))).toMatchObject({
      code: 404,
      reason: 'NotFound',
    });
    expect(
      await failure(
        api.deleteNamespacedNetworkPolicy({
          namespace: 'shop',
          name: 'a',
          body: { preconditions: { resourceVersion: rv } },
        }),
      ),
    ).toMatchObject({ code: 409, reason: 'Conflict' });
  });

  it('checks bodies against the OpenAPI schema and the API server rules (422 Invalid)', async () => {
    // endPort without a numeric port, except outside cidr, a protocol NetworkPolicy does not know.
    const bad = [
      { podSelector: {}, ingress: [{ ports: [{ port: 'http', endPort: 90 }] }] },
      { podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['192.168.0.0/16'] } }] }] },
      { podSelector: {}, ingress: [{ ports: [{ port: 80, protocol: 'ICMP' }] }] },
    ];
    for (const [i, spec] of bad.entries()) {
      expect(
        await failure(
          api.createNamespacedNetworkPolicy({ namespace: 'shop', body: np(`bad-${i}`, {}, spec) as never }),
        ),
      ).toMatchObject({ code: 422, reason: 'Invalid' });
    }
    // The client drops fields its model does not know, so an unknown field is sent by hand.
    const raw = await fetch(`${server.url}/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies`, {
      method: 'POST',
      body: JSON.stringify(np('typo', {}, { podSelector: {}, ingres: [] })),
    });
    expect(raw.status).toBe(422);
    expect(((await raw.json()) as { kind: string }).kind).toBe('Status');
    expect(server.rejected.map((r) => r.message)).toEqual([
      expect.stringContaining('may not be specified when port is not a number'),
      expect.stringContaining('strict subset'),
      expect.stringContaining('Unsupported value: "ICMP"'),
      expect.stringContaining('"ingres"'),
    ]);
  });

  it('checks custom resources against their CRD schemas (Cilium, AdminNetworkPolicy)', async () => {
    const post = (path: string, body: unknown) =>
      fetch(`${server.url}${path}`, { method: 'POST', body: JSON.stringify(body) });
    const cnp = (egress: unknown) => ({
      apiVersion: 'cilium.io/v2',
      kind: 'CiliumNetworkPolicy',
      metadata: { name: 'c', namespace: 'shop' },
      spec: { endpointSelector: {}, egress },
    });
    expect(
      (
        await post(
          '/apis/cilium.io/v2/namespaces/shop/ciliumnetworkpolicies',
          cnp([{ toFQDNs: [{ matchName: 'a.example.com' }] }]),
        )
      ).status,
    ).toBe(201);
    expect(
      (
        await post('/apis/cilium.io/v2/namespaces/shop/ciliumnetworkpolicies', {
          ...cnp([{ toFQDN: [] }]),
          metadata: { name: 'd', namespace: 'shop' },
        })
      ).status,
    ).toBe(422);
    const anp = (action: string) => ({
      apiVersion: 'policy.networking.k8s.io/v1alpha1',
      kind: 'AdminNetworkPolicy',
      metadata: { name: `a-${action.toLowerCase()}` },
      spec: { priority: 10, subject: { namespaces: {} }, ingress: [{ action, from: [{ namespaces: {} }] }] },
    });
    expect((await post('/apis/policy.networking.k8s.io/v1alpha1/adminnetworkpolicies', anp('Deny'))).status).toBe(201);
    expect((await post('/apis/policy.networking.k8s.io/v1alpha1/adminnetworkpolicies', anp('Block'))).status).toBe(422);
    expect(server.rejected).toHaveLength(2);
  });
});
