import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { createPlan } from '../../src/plan/create-plan.js';
import { checkStaleness, isSavedPlanText, parseSavedPlan, serializeSavedPlan } from '../../src/plan/saved-plan.js';
import { createFakeCloud, createFakeProvider, seedGroup } from '../helpers/fake-provider.js';
import { shopRules } from '../helpers/rulesets.js';

const noDns = async () => ({ ipv4: [], ipv6: [] });

describe('saved plans', () => {
  it('round-trip, and are told apart from models', async () => {
    const cloud = createFakeCloud();
    const provider = createFakeProvider(cloud);
    const rules = shopRules();
    const opts = { providers: () => provider, source: () => ({ kind: 'live' as const }) };
    const plan = await createPlan(rules, { ...opts, resolver: noDns });
    const text = serializeSavedPlan(plan, rules);
    expect(isSavedPlanText(text)).toBe(true);
    expect(isSavedPlanText('bulkhead: 1\nname: shop\n')).toBe(false);
    const saved = parseSavedPlan(text, 'p.json');
    expect(saved.plan).toEqual(JSON.parse(JSON.stringify(plan)));
    expect(await checkStaleness(saved, opts)).toEqual([]);
    seedGroup(cloud, 'aws-test', { name: 'shop-lb', owner: 'shop' });
    const stale = await checkStaleness(saved, opts);
    expect(stale.map((s) => [s.target, s.outsideOnly, s.changes.map((c) => [c.name, c.action])])).toEqual([
      ['aws-test', false, [['shop-lb', 'create']]],
    ]);
  });

  it('refuses a plan whose rules come from another model', async () => {
    const provider = createFakeProvider(createFakeCloud());
    const rules = shopRules();
    const plan = await createPlan(rules, { providers: () => provider, source: () => ({ kind: 'live' }), resolver: noDns });
    const doc = JSON.parse(serializeSavedPlan(plan, rules)) as { rules: { model: { digest: string } } };
    doc.rules.model.digest = 'f'.repeat(64);
    expect(() => parseSavedPlan(JSON.stringify(doc), 'p.json')).toThrow(ValidationError);
    expect(() => parseSavedPlan('{nope', 'p.json')).toThrow(/not a usable saved plan/);
  });
});
