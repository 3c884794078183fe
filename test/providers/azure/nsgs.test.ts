import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { applyPlan } from '../../../src/apply/apply-plan.js';
import { compileFile, validateFile } from '../../../src/compile/index.js';
import type { RuleSet, TargetSpec } from '../../../src/compile/types.js';
import type { Diagnostic } from '../../../src/diagnostics.js';
import { canonicalJson } from '../../../src/plan/diff.js';
import { createPlan } from '../../../src/plan/create-plan.js';
import type { Json, Plan, Resource } from '../../../src/plan/types.js';
import { effectiveDrift } from '../../../src/reach/effective-drift.js';
import { explainProbe } from '../../../src/reach/explain.js';
import { prepareTargets } from '../../../src/reach/targets.js';
import { createAzureProvider } from '../../../providers/azure/index.js';
import { AZURE_TYPES, layoutAzure } from '../../../providers/azure/render.js';
import { readSnapshotRaw } from '../../../providers/azure/snapshot.js';
import { stateFromRaw } from '../../../providers/azure/state.js';
import { validateAzure } from '../../../providers/azure/validate.js';
import { syntheticModel } from '../../../bench/model.js';
import { POLICY, RG, startAzureHarness, type AzureHarness } from '../../helpers/azure/harness.js';

/**
 * A target that spreads its segments over several NSGs (`nsgs`, issue 11.5): model validation of
 * the lists, the render per NSG (a segment's inbound and outbound rules in its own NSG), Azure's
 * limits counted per NSG, and plan → apply → drift → explain against the ARM emulator (requests
 * checked against the vendor swagger), one GET per NSG.
 */

const REPO = resolve(import.meta.dirname, '../../..');
const DNS: Record<string, { ipv4: string[]; ipv6: string[] }> = {
  'api.stripe.com': { ipv4: ['192.0.2.10'], ipv6: [] },
  'api.paypal.com': { ipv4: ['192.0.2.20'], ipv6: [] },
};
const RESOLVED = new Map(Object.entries(DNS).map(([k, v]) => [k, { ipv4: v.ipv4.map((a) => `${a}/32`), ipv6: [] }]));

/** The shop's one `nsg: shop-prod` line, and the two-NSG form: edge and web in front, app (tier backend, bare) and the data tier behind. */
const ONE_NSG = 'nsg: shop-prod,';
const TWO_NSGS = 'nsgs: { shop-front: [tier:edge, web], shop-back: [backend, tier:data] },';

async function shopDir(nsgKey: string = TWO_NSGS): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bulkhead-azure-nsgs-'));
  await cp(join(REPO, 'policies'), dir, { recursive: true });
  const path = join(dir, 'shop.yaml');
  const text = await readFile(path, 'utf8');
  expect(text).toContain(ONE_NSG);
  await writeFile(path, text.replace(ONE_NSG, nsgKey));
  return dir;
}

async function compileShop(dir: string): Promise<RuleSet> {
  const r = await compileFile(join(dir, 'shop.yaml'));
  if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.value;
}

function azureTargetOf(rules: RuleSet): TargetSpec {
  return rules.targets.find((t) => t.kind === 'azure')!;
}

/** The line and column of `needle` in the shop file (1-based), for positions in messages. */
async function where(dir: string, needle: string): Promise<{ line: number; column: number }> {
  const lines = (await readFile(join(dir, 'shop.yaml'), 'utf8')).split('\n');
  const line = lines.findIndex((l) => l.includes(needle));
  expect(line).toBeGreaterThanOrEqual(0);
  return { line: line + 1, column: lines[line]!.indexOf(needle) + 1 };
}

describe('nsgs: model validation', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  async function problems(nsgKey: string): Promise<{ dir: string; errors: Diagnostic[] }> {
    const dir = await shopDir(nsgKey);
    dirs.push(dir);
    const r = await validateFile(join(dir, 'shop.yaml'));
    return { dir, errors: r.diagnostics.filter((d) => d.severity === 'error') };
  }

  it('accepts segments, tier:<tier> and bare tier names', async () => {
    const { errors } = await problems(TWO_NSGS);
    expect(errors).toEqual([]);
  });

  it('an unknown name gets "did you mean" at the item\'s file:line:column', async () => {
    const { dir, errors } = await problems('nsgs: { shop-front: [tier:edge, wbe], shop-back: [app, tier:data, web] },');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'unknown-reference', pos: await where(dir, 'wbe') });
    expect(errors[0]!.message).toContain(
      'NSG shop-front lists "wbe", which is not a segment or tier of the model; did you mean "web"?',
    );
  });

  it('tier:<segment> says to write the segment', async () => {
    const { errors } = await problems('nsgs: { shop-front: [tier:edge, tier:web], shop-back: [app, tier:data] },');
    expect(errors.map((d) => d.message)).toEqual([
      'target azure-prod: NSG shop-front lists "tier:web", which is not a segment or tier of the model; "web" is a segment: write "web"',
    ]);
  });

  it('a segment in two NSGs (here once directly, once through its tier) is an error pointing at both', async () => {
    const { dir, errors } = await problems('nsgs: { shop-front: [lb, web, app], shop-back: [tier:backend, db] },');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'azure-nsgs-twice', pos: await where(dir, 'tier:backend') });
    expect(errors[0]!.message).toContain('segment app is in NSG shop-front and in NSG shop-back');
    expect(errors[0]!.related?.[0]?.message).toBe('segment app in NSG shop-front');
  });

  it('a segment in no NSG is an error naming it', async () => {
    const { errors } = await problems('nsgs: { shop-front: [lb, web], shop-back: [app] },');
    expect(errors.map((d) => [d.code, d.message])).toEqual([
      ['azure-nsgs-missing', 'target azure-prod: segment db is in none of its nsgs: add it to the NSG on its subnet'],
    ]);
  });

  it('nsg and nsgs together, or neither, are errors; two spellings of one NSG name too', async () => {
    const both = await problems('nsg: shop-prod, nsgs: { shop-front: [lb, web, app, db] },');
    expect(both.errors.map((d) => d.code)).toEqual(['azure-nsg-and-nsgs']);
    const neither = await problems('');
    expect(neither.errors.map((d) => d.code)).toEqual(['azure-no-nsg']);
    const cased = await problems('nsgs: { shop-front: [lb, web], Shop-Front: [app, db] },');
    expect(cased.errors.map((d) => d.code)).toEqual(['azure-nsgs-duplicate']);
  });
});

/** The NSG resources of a render, by name. */
function nsgsOf(resources: readonly Resource[]): Map<string, Resource> {
  return new Map(resources.filter((r) => r.type === AZURE_TYPES.nsg).map((r) => [r.name, r]));
}

describe('nsgs: render', () => {
  let one: RuleSet;
  let two: RuleSet;
  const dirs: string[] = [];
  beforeAll(async () => {
    dirs.push(await shopDir(ONE_NSG), await shopDir(TWO_NSGS));
    one = await compileShop(dirs[0]!);
    two = await compileShop(dirs[1]!);
  });
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it("puts each segment's inbound and outbound rules in its own NSG, the same rules the one NSG holds", () => {
    const provider = createAzureProvider();
    const single = nsgsOf(provider.render(one, azureTargetOf(one), { resolved: RESOLVED })).get('shop-prod')!;
    const split = nsgsOf(provider.render(two, azureTargetOf(two), { resolved: RESOLVED }));
    expect([...split.keys()]).toEqual(['shop-back', 'shop-front']);
    const front = new Set(['lb', 'web']);
    const singleByKey = new Map(single.children.map((c) => [c.key, c]));
    const fixed = ['shop-allow-azure-lb-in', 'shop-deny-all-in', 'shop-deny-all-out'];
    const seen = new Set<string>();
    for (const [name, nsg] of split) {
      const keys = nsg.children.map((c) => c.key);
      // The default-deny pair, the load-balancer allow and the every-segment guardrail denies stand in every NSG.
      for (const f of fixed) expect(keys).toContain(f);
      expect(keys.filter((k) => k.startsWith('shop-deny-') && !fixed.includes(k)).length).toBeGreaterThan(0);
      for (const c of nsg.children) {
        const m = /^shop-(in|out)-([a-z]+)-/.exec(c.key);
        if (m) expect(front.has(m[2]!) ? 'shop-front' : 'shop-back', c.key).toBe(name);
        // Same rule as in the one NSG, apart from where it is placed.
        const { priority: _p, ...mine } = c.attributes;
        const { priority: _q, ...theirs } = singleByKey.get(c.key)!.attributes;
        expect(mine).toEqual(theirs);
        seen.add(c.key);
      }
    }
    // Nothing lost: every rule of the one NSG is in one of the two.
    expect([...seen].sort()).toEqual(single.children.map((c) => c.key).sort());
    // Both directions of a segment pair across NSGs: web's egress to app in front, app's ingress from web behind.
    expect(split.get('shop-front')!.children.some((c) => c.key.startsWith('shop-out-web-to-app-'))).toBe(true);
    expect(split.get('shop-back')!.children.some((c) => c.key.startsWith('shop-in-app-from-web-'))).toBe(true);
    // Priorities unique per NSG and direction.
    for (const nsg of split.values()) {
      const slots = nsg.children.map((c) => `${c.attributes['direction']}/${c.attributes['priority']}`);
      expect(new Set(slots).size).toBe(slots.length);
    }
  });

  it('render --json lists every NSG under nsgs, with its rules', () => {
    const provider = createAzureProvider();
    const target = azureTargetOf(two);
    const json = provider.toCliJson!(provider.render(two, target, { resolved: RESOLVED }), target) as {
      nsg?: unknown;
      nsgs: { name: string; id: string; securityRules: { name: string }[] }[];
    };
    expect(json.nsg).toBeUndefined();
    expect(json.nsgs.map((n) => n.name)).toEqual(['shop-back', 'shop-front']);
    expect(json.nsgs[0]!.id).toMatch(/\/networkSecurityGroups\/shop-back$/);
    expect(json.nsgs[1]!.securityRules.map((r) => r.name)).toContain('shop-out-web-to-app-tcp-8080');
  });
});

describe('nsgs: limits per NSG', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  async function azureProblems(n: number, per?: number): Promise<Diagnostic[]> {
    const dir = await mkdtemp(join(tmpdir(), 'bulkhead-azure-nsgs-limits-'));
    dirs.push(dir);
    await writeFile(join(dir, 'm.yaml'), syntheticModel(n, per !== undefined ? { azureSegmentsPerNsg: per } : {}));
    const r = await compileFile(join(dir, 'm.yaml'));
    if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
    const target = azureTargetOf(r.value);
    return validateAzure(r.value, target, { resolved: new Map() }).filter((d) => d.severity === 'error');
  }

  it('a model one NSG cannot hold fits NSGs of two segments; one NSG of many is named with the limit it breaks', async () => {
    const single = await azureProblems(120);
    expect(single.map((d) => d.code)).toEqual(expect.arrayContaining(['azure-asgs-per-nsg', 'azure-rules-per-nsg']));
    expect(single.find((d) => d.code === 'azure-asgs-per-nsg')!.message).toContain(
      'spread the segments over several NSGs',
    );
    expect(await azureProblems(120, 2)).toEqual([]);
    // 60 segments per NSG: each of the two NSGs is over; the messages name them one by one.
    const halves = await azureProblems(120, 60);
    const asgs = halves.filter((d) => d.code === 'azure-asgs-per-nsg').map((d) => d.message);
    expect(asgs).toHaveLength(2);
    expect(asgs[0]).toMatch(
      /^NSG bench-0 \(target azure-bench\) would reference \d+ application security groups; Azure allows 100/,
    );
    expect(asgs[1]).toMatch(/^NSG bench-1 \(target azure-bench\)/);
  });

  it('counts each NSG on its own: the layout of NSGs of two segments has fewer than 100 ASGs in each', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bulkhead-azure-nsgs-count-'));
    dirs.push(dir);
    await writeFile(join(dir, 'm.yaml'), syntheticModel(200, { azureSegmentsPerNsg: 2 }));
    const r = await compileFile(join(dir, 'm.yaml'));
    if (!r.ok) throw new Error('compile');
    const layout = layoutAzure(r.value, azureTargetOf(r.value), { resolved: new Map() });
    expect(layout.nsgs).toHaveLength(100);
    const total = new Set(
      layout.rules
        .flatMap((x) => [...x.attributes.source, ...x.attributes.destination])
        .filter((v) => v.startsWith('asg:')),
    );
    expect(total.size).toBeGreaterThan(100);
    for (const nsg of layout.nsgs) {
      const asgs = new Set(
        nsg.rules
          .flatMap((x) => [...x.attributes.source, ...x.attributes.destination])
          .filter((v) => v.startsWith('asg:')),
      );
      expect(asgs.size).toBeLessThanOrEqual(100);
    }
  });
});

describe('nsgs: against the ARM emulator', () => {
  let h: AzureHarness;
  let dir: string;

  beforeEach(async () => {
    h = await startAzureHarness();
    h.emulator.seedFirewallPolicy(RG, POLICY, 'westeurope');
    dir = await shopDir(TWO_NSGS);
  });
  afterEach(async () => {
    const violations = [...h.emulator.violations];
    const concurrent = h.emulator.concurrentWrites;
    await h.close();
    await rm(dir, { recursive: true, force: true });
    expect(violations).toEqual([]);
    expect(concurrent).toBe(0);
  });

  const options = () => ({
    providers: () => h.provider,
    source: () => ({ kind: 'live' as const }),
    targets: ['azure-prod'],
    resolver: async (fqdn: string) => DNS[fqdn] ?? { ipv4: [], ipv6: [] },
  });
  async function plan(rules: RuleSet): Promise<Plan> {
    const p = await createPlan(rules, options());
    expect(p.targets[0]!.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    return p;
  }
  async function apply(rules: RuleSet): Promise<void> {
    const report = await applyPlan(await plan(rules), rules, { ...options(), parallelism: 8 });
    expect(report.outcomes.filter((o) => o.status !== 'done')).toEqual([]);
  }
  function summary(p: Plan): string[] {
    return p.targets[0]!.changes.flatMap((c) => [
      `${c.action} ${c.type}.${c.name}`,
      ...c.childChanges.map((cc) => `  ${cc.action} ${cc.key}`),
    ]);
  }
  const handRule = {
    name: 'ops-allow-ssh',
    properties: {
      protocol: 'Tcp',
      sourcePortRange: '*',
      destinationPortRange: '22',
      sourceAddressPrefix: '198.51.100.0/24',
      destinationAddressPrefix: '*',
      access: 'Allow',
      priority: 150,
      direction: 'Inbound',
      description: 'ops jump host',
    },
  };

  it('creates both NSGs, keeps a hand-made rule exactly, re-plans empty with ONE GET per NSG, and finds drift in the NSG it happened in', async () => {
    h.emulator.seedNsg(RG, 'shop-back', { location: 'westeurope', tags: { owner: 'netops' }, rules: [handRule] });
    const unowned = () => {
      const nsg = h.emulator.nsgJson(RG, 'shop-back') as {
        tags?: Json;
        properties: { securityRules: { name: string }[] };
      };
      return canonicalJson({
        tags: nsg.tags ?? null,
        rules: nsg.properties.securityRules.filter((r) => !r.name.startsWith('shop-')) as unknown as Json,
      });
    };
    const before = unowned();
    const rules = await compileShop(dir);
    const first = await plan(rules);
    const nsgChanges = first.targets[0]!.changes.filter((c) => c.type === AZURE_TYPES.nsg);
    expect(nsgChanges.map((c) => `${c.action} ${c.name}`)).toEqual(['update shop-back', 'create shop-front']);
    await apply(rules);
    expect(unowned()).toBe(before);
    // Rules landed where they belong.
    const names = (nsg: string) =>
      (
        h.emulator.nsgJson(RG, nsg) as { properties: { securityRules: { name: string }[] } }
      ).properties.securityRules.map((r) => r.name);
    expect(names('shop-front')).toContain('shop-out-web-to-app-tcp-8080');
    expect(names('shop-front').some((n) => n.startsWith('shop-in-app-'))).toBe(false);
    expect(names('shop-back')).toContain('shop-in-app-from-web-tcp-8080');
    expect(names('shop-back')).toContain('ops-allow-ssh');

    const from = h.emulator.calls.length;
    expect(summary(await plan(rules))).toEqual([]);
    const calls = h.emulator.calls.slice(from);
    const nsgGets = calls.filter((c) => c.method === 'GET' && /\/networkSecurityGroups\/[^/]+$/i.test(c.path));
    expect(nsgGets.map((c) => c.path.split('/').pop()).sort()).toEqual(['shop-back', 'shop-front']);
    expect(calls.filter((c) => c.method !== 'GET')).toEqual([]);

    // Someone deletes an owned rule of shop-front: the plan changes shop-front only, the apply restores it.
    await h.client.securityRules.beginDeleteAndWait(RG, 'shop-front', 'shop-deny-all-out', { updateIntervalInMs: 1 });
    const drift = await plan(rules);
    expect(summary(drift)).toEqual([`update ${AZURE_TYPES.nsg}.shop-front`, '  create shop-deny-all-out']);
    const writes = h.emulator.writeCount();
    await apply(rules);
    expect(h.emulator.writeCount() - writes).toBe(1); // one whole-NSG PUT of shop-front
    expect(summary(await plan(rules))).toEqual([]);
    expect(unowned()).toBe(before);
  }, 120_000);

  it("reserves a hand-made rule's priority in its own NSG only", async () => {
    h.emulator.seedNsg(RG, 'shop-back', { location: 'westeurope', rules: [handRule] });
    h.emulator.seedNsg(RG, 'shop-front', { location: 'westeurope' });
    const rules = await compileShop(dir);
    const state = await h.provider.read(
      azureTargetOf(rules),
      { kind: 'live' },
      { model: 'shop', segments: rules.segments },
    );
    expect(state.reserved).toEqual({
      nsgPrioritiesByNsg: {
        'shop-back': { inbound: [150], outbound: [] },
        'shop-front': { inbound: [], outbound: [] },
      },
    });
  });

  it('explain and drift --effective take each side from its own NSG; a snapshot export reads back the same', async () => {
    h.emulator.seedNsg(RG, 'shop-back', {
      location: 'westeurope',
      rules: [
        {
          ...handRule,
          properties: { ...handRule.properties, sourceAddressPrefix: 'Internet', destinationPortRange: '8443' },
        },
      ],
    });
    const rules = await compileShop(dir);
    await apply(rules);
    const { targets } = await prepareTargets(rules, {
      providers: () => h.provider,
      source: () => ({ kind: 'live' }),
      targets: ['azure-prod'],
      resolved: RESOLVED,
    });
    const across = explainProbe(
      rules,
      {
        source: { kind: 'segment', name: 'web' },
        destination: { kind: 'segment', name: 'app' },
        service: { kind: 'ports', protocol: 'tcp', from: 8080, to: 8080 },
      },
      targets,
      RESOLVED,
    );
    expect(across.targets[0]).toMatchObject({ verdict: 'allow', source: 'live' });
    expect(across.targets[0]!.disagreement).toBeUndefined();
    expect(across.targets[0]!.rules.map((r) => `${r.direction} ${r.object} ${r.rule}`)).toEqual([
      'egress shop-front shop-out-web-to-app-tcp-8080',
      'ingress shop-back shop-in-app-from-web-tcp-8080',
    ]);
    // The hand-made rule of shop-back opens tcp/8443 to db and app (behind), not to web (in front).
    const probe8443 = (name: string) =>
      explainProbe(
        rules,
        {
          source: { kind: 'address', address: '8.8.8.8' },
          destination: { kind: 'segment', name },
          service: { kind: 'ports', protocol: 'tcp', from: 8443, to: 8443 },
        },
        targets,
        RESOLVED,
      ).targets[0]!;
    expect(probe8443('db')).toMatchObject({ verdict: 'allow', disagreement: { cause: 'unowned-rule' } });
    expect(probe8443('web')).toMatchObject({ verdict: 'deny' });
    expect(probe8443('web').rules[0]).toMatchObject({ object: 'shop-front', rule: 'shop-deny-all-in' });
    const [report] = effectiveDrift(rules, targets, RESOLVED);
    expect(new Set(report!.findings.map((f) => `${f.service} ${f.disagreement?.cause}`))).toEqual(
      new Set(['tcp/8443 unowned-rule']),
    );

    // Export → snapshot folder → read: the same state as the live read.
    const target = azureTargetOf(rules);
    const files = await h.provider.exportSnapshot(target, {});
    expect(files.map((f) => f.path).sort()).toEqual([
      'asgs.json',
      'nsgs/shop-back.json',
      'nsgs/shop-front.json',
      'rule-collection-group.json',
    ]);
    const snap = join(dir, 'snap', target.name);
    for (const f of files) {
      await mkdir(dirname(join(snap, f.path)), { recursive: true });
      await writeFile(join(snap, f.path), f.content);
    }
    const context = { model: 'shop', segments: rules.segments };
    const fromSnapshot = stateFromRaw(
      await readSnapshotRaw(snap, target.name, ['shop-back', 'shop-front']),
      target,
      'snapshot',
      context,
    );
    const live = await h.provider.read(target, { kind: 'live' }, context);
    expect(fromSnapshot.resources).toEqual(live.resources);
    expect(fromSnapshot.fingerprint).toBe(live.fingerprint);
    expect(fromSnapshot.reserved).toEqual(live.reserved);
  }, 120_000);
});
