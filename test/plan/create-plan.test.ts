import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { allDiagnostics, createPlan, planEach } from '../../src/plan/create-plan.js';
import { ProviderError, UsageError } from '../../src/errors.js';
import { hasErrors } from '../../src/diagnostics.js';
import type { Provider } from '../../src/provider.js';
import { createFakeCloud, createFakeProvider, seedGroup } from '../helpers/fake-provider.js';
import { awsTarget, azureTarget, flow, fqdns, gcpTarget, ruleSet, seg, shopRules, tcp } from '../helpers/rulesets.js';

const noDns = async () => ({ ipv4: [], ipv6: [] });

describe('createPlan', () => {
  it('plans every target whose provider exists and warns about the others', async () => {
    const provider = createFakeProvider(createFakeCloud());
    const rules = shopRules([awsTarget('aws-a'), azureTarget('az-b')]);
    const plan = await createPlan(rules, {
      providers: (id) => (id === 'aws' ? provider : undefined),
      source: () => ({ kind: 'live' }),
      resolver: noDns,
    });
    expect(plan.targets.map((t) => t.target)).toEqual(['aws-a']);
    expect(plan.diagnostics).toEqual([
      expect.objectContaining({
        severity: 'warning',
        code: 'provider-unavailable',
        message: expect.stringContaining('azure'),
      }),
    ]);
    expect(plan.summary.add).toBe(4);
    expect(plan.model).toEqual(rules.model);
    expect(plan.formatVersion).toBe(1);
  });

  it('selects --target names and suggests a close one for a typo', async () => {
    const provider = createFakeProvider(createFakeCloud());
    const rules = shopRules([awsTarget('aws-prod'), awsTarget('aws-dev')]);
    const opts = { providers: () => provider, source: () => ({ kind: 'live' as const }), resolver: noDns };
    const plan = await createPlan(rules, { ...opts, targets: ['aws-dev'] });
    expect(plan.targets.map((t) => t.target)).toEqual(['aws-dev']);
    await expect(createPlan(rules, { ...opts, targets: ['aws-prd'] })).rejects.toThrow(UsageError);
    await expect(createPlan(rules, { ...opts, targets: ['aws-prd'] })).rejects.toThrow(/did you mean "aws-prod"/);
  });

  it('stops on validation errors before reading anything', async () => {
    let reads = 0;
    const fake = createFakeProvider(createFakeCloud(), { maxRulesPerGroup: 1 });
    const provider: Provider = { ...fake, read: (...a) => (reads++, fake.read(...a)) };
    const plan = await createPlan(shopRules(), {
      providers: () => provider,
      source: () => ({ kind: 'live' }),
      resolver: noDns,
    });
    expect(hasErrors(allDiagnostics(plan))).toBe(true);
    expect(plan.targets).toEqual([]);
    expect(reads).toBe(0);
  });

  it('resolves FQDNs before render and, with allowUnresolved, warns when one resolves to nothing', async () => {
    const provider = createFakeProvider(createFakeCloud());
    const rules = ruleSet({
      segments: ['app'],
      rules: flow(seg('app'), fqdns('pay', ['api.example.com', 'gone.example.com']), tcp(443)),
    });
    const plan = await createPlan(rules, {
      providers: () => provider,
      source: () => ({ kind: 'live' }),
      resolver: async (f) =>
        f === 'api.example.com' ? { ipv4: ['192.0.2.1'], ipv6: ['2001:DB8::1'] } : { ipv4: [], ipv6: [] },
      allowUnresolved: true,
    });
    const keys = plan.targets[0]!.changes[0]!.childChanges.map((c) => c.key);
    expect(keys).toEqual(['egress tcp/443-443 cidr:192.0.2.1/32', 'egress tcp/443-443 cidr:2001:db8::1/128']);
    expect(plan.diagnostics.map((d) => d.code)).toEqual(['fqdn-unresolved']);
  });

  it('a broken resolver (every name NXDOMAIN) stops the plan: the FQDN egress is kept, not destroyed', async () => {
    const cloud = createFakeCloud();
    const provider = createFakeProvider(cloud);
    const rules = ruleSet({ segments: ['app'], rules: flow(seg('app'), fqdns('pay', ['api.example.com']), tcp(443)) });
    const opts = { providers: () => provider, source: () => ({ kind: 'live' as const }) };
    // Applied while DNS worked: the group has the egress rule toward the resolved address.
    seedGroup(cloud, 'aws-test', {
      name: 'shop-app',
      owner: 'shop',
      description: 'bulkhead shop segment app',
      rules: [{ direction: 'egress', service: 'tcp/443-443', peer: 'cidr:192.0.2.1/32' }],
    });
    const broken = await createPlan(rules, { ...opts, resolver: noDns });
    expect(hasErrors(allDiagnostics(broken))).toBe(true);
    expect(broken.targets).toEqual([]);
    expect(broken.diagnostics).toEqual([
      expect.objectContaining({
        severity: 'error',
        code: 'fqdn-unresolved',
        message: expect.stringContaining('api.example.com'),
      }),
    ]);
    // Accepting the removal plans today's behaviour: the rule goes, with a warning.
    const accepted = await createPlan(rules, { ...opts, resolver: noDns, allowUnresolved: true });
    expect(hasErrors(allDiagnostics(accepted))).toBe(false);
    expect(accepted.targets[0]!.changes[0]!.childChanges.map((c) => c.action)).toEqual(['delete']);
  });

  it('an unresolved name does not stop a plan whose targets match FQDNs by name (GCP)', async () => {
    const fake = createFakeProvider(createFakeCloud(), { id: 'gcp' });
    const rules = ruleSet({
      targets: [gcpTarget('gcp-a'), awsTarget('aws-b')],
      segments: ['app'],
      rules: flow(seg('app'), fqdns('pay', ['api.example.com']), tcp(443)),
    });
    const opts = { providers: () => fake, source: () => ({ kind: 'live' as const }), resolver: noDns };
    const gcpOnly = await createPlan(rules, { ...opts, targets: ['gcp-a'] });
    expect(allDiagnostics(gcpOnly)).toEqual([]);
    expect(gcpOnly.targets.map((t) => t.target)).toEqual(['gcp-a']);
    // With an AWS target in the plan the same name stops it.
    const both = await createPlan(rules, opts);
    expect(both.diagnostics.map((d) => [d.code, d.severity])).toEqual([['fqdn-unresolved', 'error']]);
  });

  it('reads every target even when some fail, one read-failed error per failing target', async () => {
    const fake = createFakeProvider(createFakeCloud());
    let reads = 0;
    const provider: Provider = {
      ...fake,
      read: (target, ...rest) => {
        reads++;
        if (target.name === 'aws-a')
          return Promise.reject(
            new ProviderError('aws-a: no AWS credentials found (set AWS_PROFILE or run aws sso login)', 'credentials'),
          );
        // A synchronous throw, and a message that does not name its target.
        if (target.name === 'az-b')
          throw new ProviderError('AuthorizationFailed: the client has no permission', 'AuthorizationFailed');
        return fake.read(target, ...rest);
      },
    };
    const rules = shopRules([awsTarget('aws-a', 3), azureTarget('az-b', 4), awsTarget('aws-c', 5)]);
    const plan = await createPlan(rules, {
      providers: () => provider,
      source: () => ({ kind: 'live' }),
      resolver: noDns,
    });
    expect(reads).toBe(3);
    expect(plan.targets).toEqual([]);
    expect(plan.diagnostics.map((d) => [d.code, d.message, d.pos?.line])).toEqual([
      ['read-failed', 'aws-a: no AWS credentials found (set AWS_PROFILE or run aws sso login)', 3],
      ['read-failed', 'target az-b: AuthorizationFailed: the client has no permission', 4],
    ]);
  });

  it('a read that fails with something other than a ProviderError is rethrown (a bug), after every read settled', async () => {
    const fake = createFakeProvider(createFakeCloud());
    const provider: Provider = {
      ...fake,
      read: (target, ...rest) => {
        if (target.name === 'aws-a') throw new TypeError('boom');
        return fake.read(target, ...rest);
      },
    };
    const rules = shopRules([awsTarget('aws-a', 3), awsTarget('aws-c', 5)]);
    await expect(
      createPlan(rules, { providers: () => provider, source: () => ({ kind: 'live' }), resolver: noDns }),
    ).rejects.toThrow(TypeError);
  });

  it("passes the ownership context to read: other models' groups never enter the diff", async () => {
    const cloud = createFakeCloud();
    seedGroup(cloud, 'aws-test', { name: 'other-web', owner: 'other' });
    seedGroup(cloud, 'aws-test', { name: 'shop-old', owner: 'shop' });
    const provider = createFakeProvider(cloud);
    const plan = await createPlan(shopRules(), {
      providers: () => provider,
      source: () => ({ kind: 'live' }),
      resolver: noDns,
    });
    const deletes = plan.targets[0]!.changes.filter((c) => c.action === 'delete').map((c) => c.name);
    expect(deletes).toEqual(['shop-old']);
  });

  /**
   * A provider that logs its reads (start and end) and renders, for the order of a plan's steps;
   * any source reads the fake cloud.
   */
  function loggingProvider(log: string[]): Provider {
    const fake = createFakeProvider(createFakeCloud());
    return {
      ...fake,
      read: async (target, _source, context) => {
        log.push(`read ${target.name}`);
        const state = await fake.read(target, { kind: 'live' }, context);
        log.push(`read ${target.name} done`);
        return state;
      },
      render: (rules, target, ctx) => {
        log.push(`render ${target.name}`);
        return fake.render(rules, target, ctx);
      },
      validate: (rules, target, ctx) => {
        log.push(`validate ${target.name}`);
        return fake.validate(rules, target, ctx);
      },
    };
  }

  it('plans snapshot targets one at a time: each is validated, read, rendered and handed over before the next', async () => {
    const log: string[] = [];
    const provider = loggingProvider(log);
    const rules = shopRules([awsTarget('aws-a', 3), awsTarget('aws-b', 4)]);
    const outline = await planEach(
      rules,
      { providers: () => provider, source: () => ({ kind: 'snapshot', dir: '/nowhere' }), resolver: noDns },
      (t) => {
        log.push(`keep ${t.target}`);
        return { target: t.target, changes: t.changes.length };
      },
    );
    // A target's render and state are garbage once keep returns, before the next target is read.
    expect(log).toEqual([
      'validate aws-a',
      'read aws-a',
      'read aws-a done',
      'render aws-a',
      'keep aws-a',
      'validate aws-b',
      'read aws-b',
      'read aws-b done',
      'render aws-b',
      'keep aws-b',
    ]);
    // What keep returned, in the plan's target order, and the plan's counts.
    expect(outline.targets).toEqual([
      { target: 'aws-a', changes: 4 },
      { target: 'aws-b', changes: 4 },
    ]);
    expect(outline.summary).toEqual({ add: 8, change: 0, destroy: 0 });
    expect(outline.diagnostics).toEqual([]);
  });

  it('reads live targets at once (the network is the wait) and still plans them one at a time', async () => {
    const log: string[] = [];
    const provider = loggingProvider(log);
    const rules = shopRules([awsTarget('aws-a', 3), awsTarget('aws-b', 4)]);
    const plan = await createPlan(rules, {
      providers: () => provider,
      source: () => ({ kind: 'live' }),
      resolver: noDns,
    });
    expect(log.slice(0, 4)).toEqual(['validate aws-a', 'validate aws-b', 'read aws-a', 'read aws-b']);
    expect(log.filter((l) => l.startsWith('render'))).toEqual(['render aws-a', 'render aws-b']);
    expect(plan.targets.map((t) => t.target)).toEqual(['aws-a', 'aws-b']);
    expect(plan.targets.every((t) => t.prior.length === 0 && t.changes.length === 4)).toBe(true);
  });

  it('an error in a later snapshot target drops what keep made of the earlier ones: no targets, every error', async () => {
    const fake = createFakeProvider(createFakeCloud());
    const provider: Provider = {
      ...fake,
      read: async (target, _source, context) => {
        const state = await fake.read(target, { kind: 'live' }, context);
        return target.name === 'aws-a'
          ? state
          : {
              ...state,
              diagnostics: [{ severity: 'error', code: 'fake-in-the-way', message: `${target.name}: in the way` }],
            };
      },
    };
    const rules = shopRules([awsTarget('aws-a', 3), awsTarget('aws-b', 4), awsTarget('aws-c', 5)]);
    const kept: string[] = [];
    const outline = await planEach(
      rules,
      { providers: () => provider, source: () => ({ kind: 'snapshot', dir: '/nowhere' }), resolver: noDns },
      (t) => {
        kept.push(t.target);
        return t.target;
      },
    );
    expect(kept).toEqual(['aws-a']);
    expect(outline.targets).toEqual([]);
    expect(outline.summary).toEqual({ add: 0, change: 0, destroy: 0 });
    expect(outline.diagnostics.map((d) => d.message)).toEqual(['aws-b: in the way', 'aws-c: in the way']);
  });

  it('a validation error in a later snapshot target ends the plan with every validation diagnostic only', async () => {
    const log: string[] = [];
    const logging = loggingProvider(log);
    const strict = createFakeProvider(createFakeCloud(), { maxRulesPerGroup: 1 });
    const provider: Provider = {
      ...logging,
      validate: (rules, target, ctx) => {
        if (target.name !== 'aws-b') return logging.validate(rules, target, ctx);
        log.push('validate aws-b');
        return strict.validate(rules, target, ctx);
      },
    };
    const rules = shopRules([awsTarget('aws-a', 3), awsTarget('aws-b', 4), awsTarget('aws-c', 5)]);
    const kept: string[] = [];
    const outline = await planEach(
      rules,
      { providers: () => provider, source: () => ({ kind: 'snapshot', dir: '/nowhere' }), resolver: noDns },
      (t) => {
        kept.push(t.target);
        return t.target;
      },
    );
    expect(log.filter((l) => !l.endsWith('done'))).toEqual([
      'validate aws-a',
      'read aws-a',
      'render aws-a',
      'validate aws-b',
      'validate aws-c',
    ]);
    expect(kept).toEqual(['aws-a']);
    expect(outline.targets).toEqual([]);
    expect(outline.diagnostics.length).toBeGreaterThan(0);
    expect(outline.diagnostics.every((d) => d.code === 'fake-rules-per-group' && d.message.startsWith('aws-b:'))).toBe(
      true,
    );
  });

  it("lets a snapshot target's state and plan go before the next target is read", async () => {
    // A full collection on demand (what --expose-gc gives), to see what is still reachable.
    setFlagsFromString('--expose-gc');
    const collect = runInNewContext('gc') as () => void;
    const fake = createFakeProvider(createFakeCloud());
    const held: WeakRef<object>[] = [];
    const alive: boolean[] = [];
    const provider: Provider = {
      ...fake,
      read: async (target, _source, context) => {
        if (target.name === 'aws-b') {
          // A later turn: WeakRefs made in an earlier one no longer keep their objects.
          await new Promise((r) => setTimeout(r, 0));
          collect();
          alive.push(...held.map((w) => w.deref() !== undefined));
        }
        const state = await fake.read(target, { kind: 'live' }, context);
        if (target.name === 'aws-a') held.push(new WeakRef(state), new WeakRef(state.resources));
        return state;
      },
    };
    const rules = shopRules([awsTarget('aws-a', 3), awsTarget('aws-b', 4)]);
    const outline = await planEach(
      rules,
      { providers: () => provider, source: () => ({ kind: 'snapshot', dir: '/nowhere' }), resolver: noDns },
      (t) => {
        held.push(new WeakRef(t), new WeakRef(t.changes));
        return t.changes.length;
      },
    );
    expect(outline.targets).toEqual([4, 4]);
    expect(alive).toEqual([false, false, false, false]);
  });
});
