import { describe, expect, it } from 'vitest';
import { allDiagnostics, createPlan } from '../../src/plan/create-plan.js';
import { UsageError } from '../../src/errors.js';
import { hasErrors } from '../../src/diagnostics.js';
import type { Provider } from '../../src/provider.js';
import { createFakeCloud, createFakeProvider, seedGroup } from '../helpers/fake-provider.js';
import { awsTarget, azureTarget, flow, fqdns, ruleSet, seg, shopRules, tcp } from '../helpers/rulesets.js';

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
      expect.objectContaining({ severity: 'warning', code: 'provider-unavailable', message: expect.stringContaining('azure') }),
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
    const plan = await createPlan(shopRules(), { providers: () => provider, source: () => ({ kind: 'live' }), resolver: noDns });
    expect(hasErrors(allDiagnostics(plan))).toBe(true);
    expect(plan.targets).toEqual([]);
    expect(reads).toBe(0);
  });

  it('resolves FQDNs before render and warns when one resolves to nothing', async () => {
    const provider = createFakeProvider(createFakeCloud());
    const rules = ruleSet({
      segments: ['app'],
      rules: flow(seg('app'), fqdns('pay', ['api.example.com', 'gone.example.com']), tcp(443)),
    });
    const plan = await createPlan(rules, {
      providers: () => provider,
      source: () => ({ kind: 'live' }),
      resolver: async (f) => (f === 'api.example.com' ? { ipv4: ['192.0.2.1'], ipv6: ['2001:DB8::1'] } : { ipv4: [], ipv6: [] }),
    });
    const keys = plan.targets[0]!.changes[0]!.childChanges.map((c) => c.key);
    expect(keys).toEqual(['egress tcp/443-443 cidr:192.0.2.1/32', 'egress tcp/443-443 cidr:2001:db8::1/128']);
    expect(plan.diagnostics.map((d) => d.code)).toEqual(['fqdn-unresolved']);
  });

  it('passes the ownership context to read: other models\' groups never enter the diff', async () => {
    const cloud = createFakeCloud();
    seedGroup(cloud, 'aws-test', { name: 'other-web', owner: 'other' });
    seedGroup(cloud, 'aws-test', { name: 'shop-old', owner: 'shop' });
    const provider = createFakeProvider(cloud);
    const plan = await createPlan(shopRules(), { providers: () => provider, source: () => ({ kind: 'live' }), resolver: noDns });
    const deletes = plan.targets[0]!.changes.filter((c) => c.action === 'delete').map((c) => c.name);
    expect(deletes).toEqual(['shop-old']);
  });
});
