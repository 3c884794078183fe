import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { createPlan } from '../../src/plan/create-plan.js';
import {
  checkStaleness,
  checksumOf,
  isSavedPlanText,
  parseSavedPlan,
  serializeSavedPlan,
  verifySavedPlan,
} from '../../src/plan/saved-plan.js';
import { createFakeCloud, createFakeProvider, seedGroup } from '../helpers/fake-provider.js';
import { fqdns, flow, ruleSet, seg, shopRules, tcp } from '../helpers/rulesets.js';

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
    const plan = await createPlan(rules, {
      providers: () => provider,
      source: () => ({ kind: 'live' }),
      resolver: noDns,
    });
    const doc = JSON.parse(serializeSavedPlan(plan, rules)) as Parameters<typeof checksumOf>[0] & {
      checksum: string;
      rules: { model: { digest: string } };
    };
    doc.rules.model.digest = 'f'.repeat(64);
    doc.checksum = checksumOf(doc);
    expect(() => parseSavedPlan(JSON.stringify(doc), 'p.json')).toThrow(ValidationError);
    expect(() => parseSavedPlan('{nope', 'p.json')).toThrow(/not a usable saved plan/);
  });
});

describe('verifySavedPlan', () => {
  /** api -> web: the web group's egress goes to whatever api.example.com resolved to. */
  const apiRules = () =>
    ruleSet({ segments: ['web'], rules: flow(seg('web'), fqdns('api', ['api.example.com']), tcp(443)) });

  it('re-renders with the FQDN answers the plan recorded, not with what DNS says now', async () => {
    const cloud = createFakeCloud();
    const provider = createFakeProvider(cloud);
    const rules = apiRules();
    const opts = { providers: () => provider, source: () => ({ kind: 'live' as const }) };
    const plan = await createPlan(rules, { ...opts, resolver: async () => ({ ipv4: ['192.0.2.10'], ipv6: [] }) });
    const text = serializeSavedPlan(plan, rules);
    const saved = parseSavedPlan(text, 'p.json');
    expect(saved.resolved).toEqual([{ fqdn: 'api.example.com', ipv4: ['192.0.2.10/32'], ipv6: [] }]);
    const ok = await verifySavedPlan(saved, rules, opts);
    expect(ok.kind).toBe('ok');
    if (ok.kind === 'ok') expect(JSON.stringify(ok.plan.targets[0]!.changes)).toContain('cidr:192.0.2.10/32');

    // An answer edited in the file (checksum recomputed) re-renders to other rules than the plan's.
    const doc = JSON.parse(text) as Parameters<typeof checksumOf>[0] & {
      checksum: string;
      resolved: { ipv4: string[] }[];
    };
    doc.resolved[0]!.ipv4 = ['198.51.100.66/32'];
    doc.checksum = checksumOf(doc);
    const bad = await verifySavedPlan(parseSavedPlan(JSON.stringify(doc), 'p.json'), rules, opts);
    expect(bad.kind).toBe('mismatch');
    if (bad.kind === 'mismatch') {
      expect(bad.diagnostics.map((d) => d.message).join('\n')).toContain(
        'the model adds rule "egress tcp/443-443 cidr:198.51.100.66/32"; the plan does not',
      );
    }
  });

  it('says stale (not mismatch) when the live state changed, and refuses a model compiled to other rules', async () => {
    const cloud = createFakeCloud();
    const provider = createFakeProvider(cloud);
    const rules = shopRules();
    const opts = { providers: () => provider, source: () => ({ kind: 'live' as const }) };
    const saved = parseSavedPlan(
      serializeSavedPlan(await createPlan(rules, { ...opts, resolver: noDns }), rules),
      'p.json',
    );
    const other = ruleSet({ segments: ['lb'] });
    const changed = await verifySavedPlan(saved, other, opts);
    expect(changed.kind).toBe('mismatch');
    seedGroup(cloud, 'aws-test', { name: 'shop-lb', owner: 'shop' });
    const stale = await verifySavedPlan(saved, rules, opts);
    expect(stale.kind).toBe('stale');
  });

  it('tells a truncated plan from a model', () => {
    const text = '{\n  "kind": "bulkhead-plan",\n  "formatVersion": 2,\n  "bulkhead": "0.1.0",\n  "checks';
    for (const cut of [12, 30, text.length]) expect(isSavedPlanText(text.slice(0, cut))).toBe(true);
    expect(isSavedPlanText('{"bulkhead": 1, "name": "shop"}')).toBe(false);
    expect(isSavedPlanText('{"bulkhead": 1, "name": ')).toBe(false);
    expect(() => parseSavedPlan(text, 'p.json')).toThrow(/not a usable saved plan/);
  });
});
