import { describe, expect, it } from 'vitest';
import { applyPlan } from '../../../src/apply/apply-plan.js';
import { createPlan } from '../../../src/plan/create-plan.js';
import { ProviderError } from '../../../src/errors.js';
import type { Provider } from '../../../src/provider.js';
import { retryPolicy } from '../../../providers/kit/retry.js';
import { createFakeCloud, createFakeProvider, fakeProviders, setFaults } from '../../helpers/fake-provider.js';
import { shopRules } from '../../helpers/rulesets.js';

/**
 * The measured bug: a provider loop gives up with a retryable error and the engine retries the
 * whole step again (attempts multiply). With the kit's policy inside the applier, the engine sees
 * an error it must not retry, so one step costs exactly the policy's budget of calls.
 */

/** The fake provider with its applier's calls wrapped in the kit's policy (as a migrated provider will). */
function withKitRetry(inner: Provider, attempts: number): Provider {
  const policy = retryPolicy({
    attempts,
    classify: (raw, what) => (raw instanceof ProviderError ? raw : new ProviderError(`${what}: ${String(raw)}`)),
    sleep: async () => undefined,
  });
  return {
    ...inner,
    createApplier(target, state, options) {
      const applier = inner.createApplier(target, state, options);
      return { run: (step) => policy.run(step.id, () => applier.run(step)) };
    },
  } as Provider;
}

describe('kit retry under the apply engine', () => {
  it('is one retrying layer: a step throttled without end costs the policy’s attempts, not attempts × engine retries', async () => {
    const cloud = createFakeCloud();
    const provider = withKitRetry(createFakeProvider(cloud), 3);
    const rules = shopRules();
    const opts = {
      providers: fakeProviders(provider),
      source: () => ({ kind: 'live' as const }),
      resolver: async () => ({ ipv4: [], ipv6: [] }),
      retryDelayMs: 1,
    };
    const plan = await createPlan(rules, opts);
    setFaults(cloud, { throttle: 1_000_000 });
    const report = await applyPlan(plan, rules, { ...opts, parallelism: 1 });
    const failed = report.outcomes.filter((o) => o.status === 'failed');
    expect(failed.length).toBeGreaterThan(0);
    // The engine called each failed step once (it would be 1 + its 4 retries for a retryable error) …
    for (const o of failed) {
      expect(o.attempts).toBe(1);
      expect(o.code).toBe('RequestLimitExceeded');
      expect(o.error).toMatch(/gave up after 3 attempts/);
    }
    // … and the cloud saw exactly the policy's 3 calls per failed step.
    expect(cloud.calls).toBe(3 * failed.length);
  });
});
