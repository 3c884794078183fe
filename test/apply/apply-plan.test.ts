import { describe, expect, it } from 'vitest';
import { applyPlan, describeDestroyed, NOT_STARTED } from '../../src/apply/apply-plan.js';
import { createPlan } from '../../src/plan/create-plan.js';
import { ProviderError, UsageError } from '../../src/errors.js';
import type { RuleSet } from '../../src/compile/types.js';
import type { Provider } from '../../src/provider.js';
import {
  allowedFlows,
  createFakeCloud,
  createFakeProvider,
  dumpCloud,
  fakeProviders,
  seedGroup,
  setFaults,
  type FakeCloud,
} from '../helpers/fake-provider.js';
import { cidrs, flow, ruleSet, seg, shopRules, tcp } from '../helpers/rulesets.js';

const noDns = async () => ({ ipv4: [], ipv6: [] });

function options(provider: Provider) {
  return {
    providers: fakeProviders(provider),
    source: () => ({ kind: 'live' as const }),
    resolver: noDns,
    retryDelayMs: 1,
  };
}

async function planAndApply(
  rules: RuleSet,
  provider: Provider,
  extra: { parallelism?: number; maxDestroy?: number } = {},
) {
  const plan = await createPlan(rules, options(provider));
  const report = await applyPlan(plan, rules, { ...options(provider), ...extra });
  return { plan, report };
}

function setup(): { cloud: FakeCloud; provider: Provider } {
  const cloud = createFakeCloud();
  return { cloud, provider: createFakeProvider(cloud) };
}

describe('applyPlan', () => {
  it('applies to an empty cloud, then the re-plan is empty', async () => {
    const { cloud, provider } = setup();
    const rules = shopRules();
    const { plan, report } = await planAndApply(rules, provider);
    expect(plan.summary).toEqual({ add: 4, change: 0, destroy: 0 });
    expect(report.ok).toBe(true);
    const flows = allowedFlows(cloud, 'aws-test');
    expect(flows).toContain('203.0.113.5 -> shop-lb tcp/443');
    expect(flows).toContain('2001:db8:100::1 -> shop-lb tcp/443');
    expect(flows).toContain('shop-lb -> shop-web tcp/8080');
    expect(flows).toContain('shop-web -> shop-app tcp/8080');
    expect(flows).toContain('shop-app -> shop-db tcp/5432');
    expect(flows).not.toContain('203.0.113.5 -> shop-lb tcp/22');
    expect(flows).not.toContain('shop-lb -> shop-app tcp/8080');
    // internet → lb reaches every probe address (5), plus the three segment flows.
    expect(flows.size).toBe(5 + 3);
    const again = await createPlan(rules, options(provider));
    expect(again.targets[0]!.changes).toEqual([]);
    expect(again.summary).toEqual({ add: 0, change: 0, destroy: 0 });
  });

  it('runs every create before any add, and removals after adds', async () => {
    const cloud = createFakeCloud();
    const phases: string[] = [];
    const provider = createFakeProvider(cloud, { onStep: (s) => phases.push(s.phase) });
    await planAndApply(shopRules(), provider, { parallelism: 1 });
    expect(phases.lastIndexOf('create')).toBeLessThan(phases.indexOf('add'));
  });

  it('applies edits and reverts drift', async () => {
    const { cloud, provider } = setup();
    await planAndApply(shopRules(), provider);
    // Out of band: a hand-made rule on an owned group, and a deleted one.
    const web = cloud.targets.get('aws-test')!.get('shop-web')!;
    web.rules.set('ingress tcp/22-22 cidr:0.0.0.0/0', {
      id: 'sgr-x',
      key: 'ingress tcp/22-22 cidr:0.0.0.0/0',
      direction: 'ingress',
      service: 'tcp/22-22',
      peer: 'cidr:0.0.0.0/0',
    });
    web.rules.delete('ingress tcp/8080-8080 sg:shop-lb');
    const drift = await createPlan(shopRules(), options(provider));
    expect(drift.targets[0]!.changes.map((c) => [c.address, c.action])).toEqual([
      ['aws-test.fake_group.shop-web', 'update'],
    ]);
    expect(drift.targets[0]!.changes[0]!.widensAccess).toBe(true);
    const report = await applyPlan(drift, shopRules(), options(provider));
    expect(report.ok).toBe(true);
    expect((await createPlan(shopRules(), options(provider))).summary).toEqual({ add: 0, change: 0, destroy: 0 });

    // An edit: db drops out of the model, app no longer talks to it.
    const edited = ruleSet({
      segments: ['lb', 'web', 'app'],
      rules: [...flow(seg('lb'), seg('web'), tcp(8080)), ...flow(seg('web'), seg('app'), tcp(8081))],
    });
    const { plan, report: r2 } = await planAndApply(edited, provider);
    expect(plan.summary).toEqual({ add: 0, change: 3, destroy: 1 });
    expect(r2.ok).toBe(true);
    expect(cloud.targets.get('aws-test')!.has('shop-db')).toBe(false);
    expect((await createPlan(edited, options(provider))).summary).toEqual({ add: 0, change: 0, destroy: 0 });
  });

  it('retries throttling and reports a failure with what it held back', async () => {
    const { cloud, provider } = setup();
    setFaults(cloud, { throttle: 3 });
    const { report } = await planAndApply(shopRules(), provider);
    expect(report.ok).toBe(true);
    expect(report.outcomes.some((o) => o.attempts > 1)).toBe(true);

    const edited = ruleSet({ segments: ['lb', 'web'], rules: flow(seg('lb'), seg('web'), tcp(9090)) });
    setFaults(cloud, { failAt: 1 });
    const { report: failed } = await planAndApply(edited, provider, { parallelism: 1 });
    expect(failed.ok).toBe(false);
    expect(failed.summary.failed).toBe(1);
    const f = failed.outcomes.find((o) => o.status === 'failed')!;
    expect(f.phase).toBe('add');
    // The removals and deletes of the target are held back by the failed add.
    for (const o of failed.outcomes.filter((x) => x.phase === 'remove' || x.phase === 'delete')) {
      expect(o.status).toBe('skipped');
      expect(o.blockedBy).toBe(f.id);
    }
    setFaults(cloud, {});
    const { report: rerun } = await planAndApply(edited, provider);
    expect(rerun.ok).toBe(true);
    expect((await createPlan(edited, options(provider))).summary).toEqual({ add: 0, change: 0, destroy: 0 });
  });

  it('refuses more destruction than --max-destroy before any call', async () => {
    const { cloud, provider } = setup();
    await planAndApply(shopRules(), provider);
    const before = JSON.stringify(dumpCloud(cloud));
    const small = ruleSet({ segments: ['lb'] });
    await expect(planAndApply(small, provider, { maxDestroy: 2 })).rejects.toBeInstanceOf(UsageError);
    expect(JSON.stringify(dumpCloud(cloud))).toBe(before);
    const { report } = await planAndApply(small, provider, { maxDestroy: 10 });
    expect(report.ok).toBe(true);
  });

  it('never touches unowned groups', async () => {
    const { cloud, provider } = setup();
    seedGroup(cloud, 'aws-test', {
      name: 'legacy',
      rules: [{ direction: 'ingress', service: 'tcp/22-22', peer: 'cidr:10.0.0.0/8' }],
    });
    const before = JSON.stringify(dumpCloud(cloud));
    await planAndApply(shopRules(), provider);
    await planAndApply(ruleSet({ segments: [] }), provider);
    expect(JSON.stringify(dumpCloud(cloud))).toBe(before);
  });

  it('rethrows a crash after running steps settle', async () => {
    const { cloud, provider } = setup();
    setFaults(cloud, { crashAt: 3 });
    await expect(planAndApply(shopRules(), provider)).rejects.toThrow(/simulated crash/);
    expect(() => {
      throw new ProviderError('x');
    }).toThrow();
    setFaults(cloud, {});
    const { report } = await planAndApply(shopRules(), provider);
    expect(report.ok).toBe(true);
    expect((await createPlan(shopRules(), options(provider))).summary).toEqual({ add: 0, change: 0, destroy: 0 });
  });

  it('keeps a flow whose rule object is being replaced when the new one fails to appear', async () => {
    const cloud = createFakeCloud();
    const provider = createFakeProvider(cloud, { standaloneRules: true });
    const wide = ruleSet({
      segments: ['web'],
      rules: flow(cidrs('office', ['203.0.113.0/24']), seg('web'), tcp(400, 500)),
    });
    const narrow = ruleSet({
      segments: ['web'],
      rules: flow(cidrs('office', ['203.0.113.0/24']), seg('web'), tcp(443)),
    });
    await planAndApply(wide, provider);
    expect(allowedFlows(cloud, 'aws-test')).toContain('203.0.113.5 -> shop-web tcp/443');
    setFaults(cloud, { failAt: 1 });
    const { plan, report } = await planAndApply(narrow, provider);
    expect(plan.targets[0]!.changes.map((c) => c.action).sort()).toEqual(['create', 'delete']);
    expect(report.outcomes.map((o) => [o.phase, o.status])).toEqual([
      ['create', 'failed'],
      ['delete', 'skipped'],
    ]);
    expect(allowedFlows(cloud, 'aws-test')).toContain('203.0.113.5 -> shop-web tcp/443');
    setFaults(cloud, {});
    const { report: rerun } = await planAndApply(narrow, provider);
    expect(rerun.ok).toBe(true);
    const flows = allowedFlows(cloud, 'aws-test');
    expect(flows).toContain('203.0.113.5 -> shop-web tcp/443');
    expect(flows).not.toContain('203.0.113.5 -> shop-web tcp/450');
  });

  it('runs up to --parallelism steps at once, never two of one address', async () => {
    for (const parallelism of [1, 3]) {
      const cloud = createFakeCloud();
      const fake = createFakeProvider(cloud);
      const inFlight = new Set<string>();
      let most = 0;
      const provider: Provider = {
        ...fake,
        createApplier: (target, state, o) => {
          const inner = fake.createApplier(target, state, o);
          return {
            run: async (step) => {
              expect(inFlight.has(step.change.address), `${step.id} overlaps a step of its address`).toBe(false);
              inFlight.add(step.change.address);
              most = Math.max(most, inFlight.size);
              await new Promise((r) => setTimeout(r, 5));
              try {
                await inner.run(step);
              } finally {
                inFlight.delete(step.change.address);
              }
            },
          };
        },
      };
      const rules = ruleSet({
        segments: ['a', 'b', 'c', 'd', 'e', 'f'],
        rules: ['b', 'c', 'd', 'e', 'f'].flatMap((x) => flow(seg('a'), seg(x), tcp(443))),
      });
      const { report } = await planAndApply(rules, provider, { parallelism });
      expect(report.ok).toBe(true);
      expect(most).toBe(parallelism);
    }
  });
});

describe('applyPlan interrupted (signal)', () => {
  it('starts no new step or retry once aborted, lets running steps finish, reports the rest as not started', async () => {
    const cloud = createFakeCloud();
    const abort = new AbortController();
    let running = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const inner = createFakeProvider(cloud);
    const provider: Provider = {
      ...inner,
      createApplier: (target, state, opts) => {
        const applier = inner.createApplier(target, state, opts);
        return {
          run: async (step) => {
            running++;
            if (running === 2) {
              abort.abort(); // Ctrl-C while two steps run
              release();
            }
            await gate;
            await applier.run(step);
          },
        };
      },
    };
    const rules = shopRules();
    const plan = await createPlan(rules, options(provider));
    const report = await applyPlan(plan, rules, { ...options(provider), parallelism: 2, signal: abort.signal });
    expect(report.interrupted).toBe(true);
    expect(report.ok).toBe(false);
    expect(report.summary.done).toBe(2);
    expect(cloud.log).toHaveLength(2);
    const notDone = report.outcomes.filter((o) => o.status !== 'done');
    expect(notDone.length).toBeGreaterThan(0);
    for (const o of notDone) expect(o).toMatchObject({ status: 'skipped', error: NOT_STARTED, attempts: 0 });
  });

  it('an apply that is not interrupted says so', async () => {
    const { provider } = setup();
    const { report } = await planAndApply(shopRules(), provider);
    expect(report.interrupted).toBe(false);
  });
});

describe('messages count in words', () => {
  it('pluralizes the --max-destroy refusal and the progress lines', async () => {
    expect(describeDestroyed({ total: 2, resources: 1, rules: 1 })).toBe(
      'the plan destroys 2 objects (1 resource, 1 rule)',
    );
    expect(describeDestroyed({ total: 1, resources: 0, rules: 1 })).toBe(
      'the plan destroys 1 object (0 resources, 1 rule)',
    );
    const { provider } = setup();
    const rules = ruleSet({ segments: ['web'], rules: flow(cidrs('office', ['192.0.2.0/24']), seg('web'), tcp(443)) });
    const plan = await createPlan(rules, options(provider));
    const lines: string[] = [];
    await applyPlan(plan, rules, { ...options(provider), onProgress: (m) => lines.push(m) });
    expect(lines).toContain('add:aws-test.fake_group.shop-web: add 1 rule…');
  });
});
