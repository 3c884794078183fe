import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProviderError } from '../../../src/errors.js';
import { createKubernetesProvider } from '../../../providers/kubernetes/index.js';
import { kubeTarget } from '../../helpers/kubernetes/targets.js';
import { startKubernetesApiServer } from '../../helpers/kubernetes/api-server.js';

let dir: string;
const saved = {
  KUBECONFIG: process.env['KUBECONFIG'],
  HOME: process.env['HOME'],
  KUBERNETES_SERVICE_HOST: process.env['KUBERNETES_SERVICE_HOST'],
};

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bulkhead-k8s-cred-'));
});
afterEach(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await rm(dir, { recursive: true, force: true });
});

async function readError(
  provider: ReturnType<typeof createKubernetesProvider>,
  target = kubeTarget(),
): Promise<ProviderError> {
  try {
    await provider.read(target, { kind: 'live' }, { model: 'shop' });
  } catch (err) {
    expect(err).toBeInstanceOf(ProviderError);
    return err as ProviderError;
  }
  throw new Error('expected the read to fail');
}

describe('kubernetes credentials and reachability', () => {
  it('says there is no kubeconfig instead of calling localhost:8080', async () => {
    delete process.env['KUBECONFIG'];
    delete process.env['KUBERNETES_SERVICE_HOST'];
    process.env['HOME'] = dir;
    const err = await readError(createKubernetesProvider());
    expect(err.code).toBe('credentials');
    expect(err.message).toMatch(/^target k8s-test: no usable kubeconfig \(KUBECONFIG is not set/);
  });

  it('names the contexts when the target asks for one the kubeconfig lacks', async () => {
    const server = await startKubernetesApiServer();
    try {
      const kubeconfig = server.writeKubeconfig(dir, { context: 'dev' });
      const err = await readError(
        createKubernetesProvider({ kubeconfig }),
        kubeTarget('k8s-test', { context: 'prod' }),
      );
      expect(err.message).toContain('it has no context "prod" (contexts: dev)');
      // The right context reads (an empty cluster: no objects).
      const state = await createKubernetesProvider({ kubeconfig }).read(
        kubeTarget('k8s-test', { context: 'dev' }),
        { kind: 'live' },
        { model: 'shop' },
      );
      expect(state.resources).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('reports an unreachable API server in one line', async () => {
    const server = await startKubernetesApiServer();
    const kubeconfig = server.writeKubeconfig(dir);
    await server.close();
    const err = await readError(createKubernetesProvider({ kubeconfig, retry: { attempts: 1 } }));
    expect(err.code).toBe('unreachable');
    expect(err.message).toMatch(/cannot be reached \(ECONNREFUSED\)/);
    expect(err.message).not.toContain('\n');
  });

  it('never reads credentials into messages: a 401 says to log in again', async () => {
    const server = await startKubernetesApiServer();
    try {
      server.beforeRequest = () => ({
        status: 401,
        body: {
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          message: 'Unauthorized',
          reason: 'Unauthorized',
          code: 401,
        },
      });
      const kubeconfig = server.writeKubeconfig(dir);
      const err = await readError(createKubernetesProvider({ kubeconfig }));
      expect(err.code).toBe('credentials');
      expect(err.message).not.toContain('test-token');
    } finally {
      await server.close();
    }
  });
});

describe('kubernetes throttling', () => {
  it('retries a 429 with backoff and then reads', async () => {
    const server = await startKubernetesApiServer();
    try {
      let throttled = 0;
      server.beforeRequest = () =>
        throttled++ < 2
          ? {
              status: 429,
              body: {
                kind: 'Status',
                apiVersion: 'v1',
                status: 'Failure',
                message: 'Too many requests',
                reason: 'TooManyRequests',
                code: 429,
              },
            }
          : undefined;
      const kubeconfig = server.writeKubeconfig(dir);
      const state = await createKubernetesProvider({
        kubeconfig,
        retry: { attempts: 4, baseDelayMs: 1, maxDelayMs: 2 },
      }).read(kubeTarget(), { kind: 'live' }, { model: 'shop' });
      expect(state.resources).toEqual([]);
      expect(throttled).toBe(3);
    } finally {
      await server.close();
    }
  });
});
