import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProviderError } from '../../../src/errors.js';
import { withTargetLocks, type LockRequest, type TargetLock } from '../../../src/lock.js';
import type { TargetSpec } from '../../../src/compile/types.js';
import type { NetworkPolicyJson } from '../../../providers/kubernetes/canonical.js';
import { connectionAllowed } from '../../../providers/kubernetes/evaluate.js';
import { startKubernetesHarness, withTarget, type KubernetesHarness } from '../../helpers/kubernetes/harness.js';
import { kubeTarget } from '../../helpers/kubernetes/targets.js';
import { shopRules } from '../../helpers/rulesets.js';

// The Kubernetes apply lock (a NetworkPolicy that selects no pod) against the local API server.

let h: KubernetesHarness;
const target = kubeTarget('k8s-prod');
beforeEach(async () => {
  h = await startKubernetesHarness();
});
afterEach(async () => {
  expect(h.server.rejected).toEqual([]);
  await h.close();
});

const lockOf = (): TargetLock => h.provider.lock!.lockFor(target as unknown as TargetSpec, 'shop', {});
const request = (runId: string, expires = '2099-01-01T00:00:00Z'): LockRequest => ({
  holder: 'alice@ci',
  pid: 7,
  runId,
  since: '2026-12-01T10:00:00Z',
  expires,
});

describe('Kubernetes lock (local API server)', () => {
  it('one run creates it; a second is told who holds it; release deletes it; it selects no pod', async () => {
    const a = await lockOf().tryCreate(request('run-a'));
    expect(a).toMatchObject({
      kind: 'acquired',
      record: { model: 'shop', holder: 'alice@ci', runId: 'run-a', pid: 7, expires: '2099-01-01T00:00:00Z' },
    });
    const stored = h.server.get('networkpolicies', 'shop', 'shop-bulkhead-lock') as NetworkPolicyJson;
    // No pod can match it: it isolates nothing.
    const pod = (labels: Record<string, string>) => ({
      kind: 'pod' as const,
      namespace: 'shop',
      labels,
      ip: '10.244.0.1',
    });
    for (const labels of [{}, { 'bulkhead.io/lock': 'shop' }, { 'bulkhead.io/segment': 'web' }] as Record<
      string,
      string
    >[]) {
      expect(
        connectionAllowed(
          { policies: [stored] },
          { src: { kind: 'external', ip: '198.51.100.1' }, dst: pod(labels), protocol: 'TCP', port: 80 },
        ),
      ).toBe(true);
    }
    expect(await lockOf().tryCreate(request('run-b'))).toMatchObject({ kind: 'held', record: { runId: 'run-a' } });
    const err = await withTargetLocks(
      [{ target: 'k8s-prod', lock: lockOf() }],
      { handleSignals: false },
      async () => 'ran',
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as Error).message).toContain('target k8s-prod is locked by alice@ci (pid 7, run run-a)');
    if (a.kind !== 'acquired') throw new Error('unreachable');
    expect(await lockOf().remove(a.record)).toBe('removed');
    expect(await lockOf().read()).toBeUndefined();
    expect(await lockOf().remove(a.record)).toBe('gone');
  });

  it('never removes a lock another run re-created, and plans never see the lock', async () => {
    const old = await lockOf().tryCreate(request('run-old', '2000-01-01T00:00:00Z'));
    if (old.kind !== 'acquired') throw new Error('expected to acquire');
    await lockOf().remove(old.record);
    await lockOf().tryCreate(request('run-new'));
    expect(await lockOf().remove(old.record)).toBe('gone');
    expect((await lockOf().read())?.runId).toBe('run-new');
    const plan = await h.plan(withTarget(shopRules(), target));
    expect(plan.targets[0]!.changes.every((c) => !c.address.includes('bulkhead-lock'))).toBe(true);
    expect(plan.diagnostics).toEqual([]);
  });

  it('refuses an object of that name that is not a lock', async () => {
    h.server.put('networkpolicies', {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'shop-bulkhead-lock', namespace: 'shop' },
      spec: { podSelector: {} },
    });
    await expect(lockOf().read()).rejects.toThrow(/not a Bulkhead lock and Bulkhead will not touch it/);
  });
});
