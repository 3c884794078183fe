import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApplyStep } from '../../../src/provider.js';
import { applyPlan } from '../../../src/apply/apply-plan.js';
import { buildSteps } from '../../../src/apply/build-steps.js';
import { compileFile } from '../../../src/compile/index.js';
import type { RuleSet } from '../../../src/compile/types.js';
import { canonicalJson } from '../../../src/plan/diff.js';
import { createPlan } from '../../../src/plan/create-plan.js';
import type { Change, Json, Plan } from '../../../src/plan/types.js';
import { ProviderError } from '../../../src/errors.js';
import { AZURE_TYPES } from '../../../providers/azure/render.js';
import { NSG, POLICY, RG, startAzureHarness, type AzureHarness } from '../../helpers/azure/harness.js';

/**
 * End to end through compileFile → createPlan → applyPlan with the real NetworkManagementClient
 * over HTTP against the ARM emulator, which checks every request body against the vendor swagger
 * (afterEach asserts no violation and no concurrent write to one NSG).
 */

const REPO = resolve(import.meta.dirname, '../../..');
const DNS: Record<string, { ipv4: string[]; ipv6: string[] }> = {
  'api.stripe.com': { ipv4: ['192.0.2.10'], ipv6: [] },
  'api.paypal.com': { ipv4: ['192.0.2.20'], ipv6: ['2001:db8::20'] },
  'api.adyen.com': { ipv4: ['192.0.2.30'], ipv6: [] },
};

let h: AzureHarness;
let dir: string;

beforeEach(async () => {
  h = await startAzureHarness();
  h.emulator.seedFirewallPolicy(RG, POLICY, 'westeurope');
  dir = await mkdtemp(join(tmpdir(), 'bulkhead-azure-'));
  await cp(join(REPO, 'policies'), dir, { recursive: true });
});

afterEach(async () => {
  const violations = [...h.emulator.violations];
  const concurrent = h.emulator.concurrentWrites;
  await h.close();
  await rm(dir, { recursive: true, force: true });
  expect(violations).toEqual([]);
  expect(concurrent).toBe(0);
});

async function compile(): Promise<RuleSet> {
  const r = await compileFile(join(dir, 'shop.yaml'));
  if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.value;
}

async function edit(from: string | RegExp, to: string): Promise<void> {
  const path = join(dir, 'shop.yaml');
  const text = await readFile(path, 'utf8');
  const next = text.replace(from, to);
  expect(next).not.toBe(text);
  await writeFile(path, next);
}

const options = () => ({
  providers: () => h.provider,
  source: () => ({ kind: 'live' as const }),
  targets: ['azure-prod'],
  resolver: async (fqdn: string) => DNS[fqdn] ?? { ipv4: [], ipv6: [] },
});

async function plan(rules?: RuleSet): Promise<Plan> {
  const p = await createPlan(rules ?? (await compile()), options());
  expect(p.targets[0]?.diagnostics.filter((d) => d.severity === 'error') ?? []).toEqual([]);
  return p;
}

async function apply(p: Plan, rules: RuleSet): Promise<void> {
  const report = await applyPlan(p, rules, options());
  expect(report.outcomes.filter((o) => o.status !== 'done')).toEqual([]);
}

function changes(p: Plan): readonly Change[] {
  return p.targets[0]!.changes;
}

function summary(p: Plan): string[] {
  return changes(p).flatMap((c) => [
    `${c.action} ${c.type}.${c.name}`,
    ...c.childChanges.map((cc) => `  ${cc.action} ${cc.key}`),
  ]);
}

async function applyShop(): Promise<void> {
  const rules = await compile();
  await apply(await plan(rules), rules);
}

async function replanIsEmpty(): Promise<void> {
  expect(summary(await plan())).toEqual([]);
}

/** An unowned rule and an unowned ASG someone else manages in the same NSG / resource group. */
function seedUnowned(): void {
  h.emulator.seedAsg(RG, 'bastion', { location: 'westeurope', tags: { team: 'ops' } });
  h.emulator.seedNsg(RG, NSG, {
    location: 'westeurope',
    tags: { owner: 'netops' },
    rules: [
      {
        name: 'ops-allow-bastion-ssh',
        properties: {
          protocol: 'Tcp',
          sourcePortRange: '*',
          destinationPortRange: '22',
          sourceAddressPrefix: '198.51.100.0/24',
          destinationApplicationSecurityGroups: [
            {
              id: `/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/${RG}/providers/Microsoft.Network/applicationSecurityGroups/bastion`,
            },
          ],
          access: 'Allow',
          priority: 150,
          direction: 'Inbound',
          description: 'ops bastion',
        },
      },
      {
        name: 'ops-monitoring-out',
        properties: {
          protocol: '*',
          sourcePortRange: '*',
          destinationPortRange: '*',
          sourceAddressPrefix: '*',
          destinationAddressPrefix: 'AzureMonitor',
          access: 'Allow',
          priority: 160,
          direction: 'Outbound',
        },
      },
    ],
  });
}

function unownedSnapshot(): string {
  const nsg = h.emulator.nsgJson(RG, NSG)! as {
    tags?: Json;
    location: string;
    properties: { securityRules: { name: string }[] };
  };
  const rules = nsg.properties.securityRules.filter((r) => !r.name.startsWith('shop-'));
  return canonicalJson({
    tags: nsg.tags ?? null,
    location: nsg.location,
    rules: rules as unknown as Json,
    asg: h.emulator.asgJson(RG, 'bastion') as Json,
  });
}

describe('azure scenarios', () => {
  it('applies the shop to an empty resource group (creating the NSG), then re-plans empty', async () => {
    const rules = await compile();
    const p = await plan(rules);
    const byType = (t: string) =>
      changes(p)
        .filter((c) => c.type === t)
        .map((c) => c.action);
    expect(byType(AZURE_TYPES.asg)).toEqual(['create', 'create', 'create', 'create']);
    expect(byType(AZURE_TYPES.nsg)).toEqual(['create']);
    expect(byType(AZURE_TYPES.rcg)).toEqual(['create']);
    const from = h.emulator.calls.length;
    await apply(p, rules);
    const writes = h.emulator.calls.slice(from).filter((c) => c.method !== 'GET');
    // 4 ASG PUTs, ONE whole-NSG PUT with every rule, one rule-collection-group PUT.
    expect(writes.map((w) => `${w.method} ${w.path.split('/').slice(-2, -1)[0]}`).sort()).toEqual([
      'PUT applicationSecurityGroups',
      'PUT applicationSecurityGroups',
      'PUT applicationSecurityGroups',
      'PUT applicationSecurityGroups',
      'PUT networkSecurityGroups',
      'PUT ruleCollectionGroups',
    ]);
    console.log(`[measure] azure: shop → empty resource group: ${h.emulator.writeCount(from)} write calls`);
    // Long-running operations were polled to completion, then the resource read back (final GET).
    const after = h.emulator.calls.slice(from);
    expect(after.filter((c) => c.path.includes('/operations/')).length).toBeGreaterThanOrEqual(writes.length);
    after.forEach((c, i) => {
      if (c.method !== 'PUT') return;
      const rest = after.slice(i + 1);
      const done = rest.findIndex((x) => x.path.includes('/operations/') && x.status === 200);
      expect(done).toBeGreaterThanOrEqual(0);
      expect(rest.slice(done).some((x) => x.method === 'GET' && x.path === c.path)).toBe(true);
    });
    const nsg = h.emulator.nsgJson(RG, NSG)! as {
      tags: Record<string, string>;
      properties: { securityRules: unknown[]; defaultSecurityRules: unknown[] };
    };
    expect(nsg.tags).toEqual({ 'bulkhead:model': 'shop' });
    expect(nsg.properties.defaultSecurityRules).toHaveLength(6);
    expect(h.emulator.asgNames(RG)).toEqual(['shop-app', 'shop-db', 'shop-lb', 'shop-web']);
    await replanIsEmpty();
  });

  it("keeps unowned rules, the NSG's tags and an unowned ASG exactly as they were, through apply and edits", async () => {
    seedUnowned();
    const before = unownedSnapshot();
    const p = await plan();
    // The NSG exists: an update that adds the model's rules, and nothing about the unowned ones.
    const nsgChange = changes(p).find((c) => c.type === AZURE_TYPES.nsg)!;
    expect(nsgChange.action).toBe('update');
    expect(nsgChange.childChanges.every((c) => c.action === 'create' && c.key.startsWith('shop-'))).toBe(true);
    await applyShop();
    expect(unownedSnapshot()).toBe(before);
    await edit('ports: [tcp/8080] }', 'ports: [tcp/8081] }');
    await applyShop();
    expect(unownedSnapshot()).toBe(before);
    await replanIsEmpty();
  });

  it('edits one at a time: add a flow (measured), remove a segment, change a port, add an FQDN', async () => {
    await applyShop();

    // Add a flow: the office may reach web on https (IPv4 and IPv6 → two rules), plus web's side is the NSG's.
    await edit(
      'web: { ingress: [{ from: lb, ports: [tcp/8080] }] }',
      'web: { ingress: [{ from: lb, ports: [tcp/8080] }, { from: office, ports: [https] }] }',
    );
    let rules = await compile();
    let p = await plan(rules);
    expect(summary(p)).toEqual([
      `update ${AZURE_TYPES.nsg}.${NSG}`,
      '  create shop-in-web-from-office-tcp-443-v4',
      '  create shop-in-web-from-office-tcp-443-v6',
    ]);
    let from = h.emulator.calls.length;
    await apply(p, rules);
    console.log(`[measure] azure: add one flow afterwards: ${h.emulator.writeCount(from)} write calls`);
    expect(h.emulator.writeCount(from)).toBe(1);
    await replanIsEmpty();

    // Remove a segment (db, its tier and the guardrail about that tier).
    await edit(/\n {2}data: \[db\]/, '');
    await edit(/\n {2}db: .*/, '');
    await edit(/\nguardrails:[^\n]*\n {2}- name: data-only-from-backend\n(.*\n){2}/, '\n');
    rules = await compile();
    p = await plan(rules);
    expect(summary(p)).toEqual([
      `delete ${AZURE_TYPES.asg}.shop-db`,
      `update ${AZURE_TYPES.nsg}.${NSG}`,
      '  delete shop-in-db-from-app-tcp-5432',
      '  delete shop-out-app-to-db-tcp-5432',
    ]);
    from = h.emulator.calls.length;
    await apply(p, rules);
    // The rules go first (one NSG PUT), then the ASG (it would be "in use" otherwise).
    expect(
      h.emulator.calls
        .slice(from)
        .filter((c) => c.method !== 'GET')
        .map((c) => c.method),
    ).toEqual(['PUT', 'DELETE']);
    expect(h.emulator.asgNames(RG)).not.toContain('shop-db');
    await replanIsEmpty();

    // Change a port: the rule names carry the port, so the old rules go and new ones come, in one PUT.
    await edit('ports: [tcp/8080] }', 'ports: [tcp/8081] }');
    rules = await compile();
    p = await plan(rules);
    expect(summary(p)).toEqual([
      `update ${AZURE_TYPES.nsg}.${NSG}`,
      '  delete shop-in-web-from-lb-tcp-8080',
      '  create shop-in-web-from-lb-tcp-8081',
      '  delete shop-out-lb-to-web-tcp-8080',
      '  create shop-out-lb-to-web-tcp-8081',
    ]);
    from = h.emulator.calls.length;
    await apply(p, rules);
    expect(h.emulator.writeCount(from)).toBe(1);
    await replanIsEmpty();

    // Add an FQDN: the application rule's targets and the pinned NSG addresses change in place.
    await edit('fqdns: [api.stripe.com, api.paypal.com]', 'fqdns: [api.stripe.com, api.paypal.com, api.adyen.com]');
    rules = await compile();
    p = await plan(rules);
    const rcg = changes(p).find((c) => c.type === AZURE_TYPES.rcg)!;
    expect(rcg.action).toBe('update');
    expect(rcg.childChanges.map((c) => c.action)).toEqual(['update']);
    expect(rcg.childChanges[0]!.after!.attributes['targetFqdns'] as string[]).toEqual([
      'api.adyen.com',
      'api.paypal.com',
      'api.stripe.com',
    ]);
    const nsg = changes(p).find((c) => c.type === AZURE_TYPES.nsg)!;
    expect(nsg.childChanges.map((c) => `${c.action} ${c.key}`)).toEqual([
      'update shop-out-app-to-payment-apis-tcp-443-v4',
    ]);
    await apply(p, rules);
    await replanIsEmpty();
  });

  it('applies an IPv4-mapped IPv6 address (::ffff:192.0.2.1) and re-plans empty: render and read spell it alike', async () => {
    await edit(
      'office: { cidrs: [203.0.113.0/24, "2001:db8:100::/48"] }',
      'office: { cidrs: [203.0.113.0/24, "2001:db8:100::/48", "::ffff:192.0.2.1"] }',
    );
    await edit(
      'web: { ingress: [{ from: lb, ports: [tcp/8080] }] }',
      'web: { ingress: [{ from: lb, ports: [tcp/8080] }, { from: office, ports: [https] }] }',
    );
    await applyShop();
    const nsg = h.emulator.nsgJson(RG, NSG)! as {
      properties: { securityRules: { name: string; properties: { sourceAddressPrefixes?: string[] } }[] };
    };
    const v6 = nsg.properties.securityRules.find((r) => r.name === 'shop-in-web-from-office-tcp-443-v6')!;
    expect(v6.properties.sourceAddressPrefixes).toEqual(['2001:db8:100::/48', '::ffff:192.0.2.1/128']);
    await replanIsEmpty();
  });

  it("orders the delete of a removed segment's ASG after the NSG step that removes the rules naming it (read sets dependsOn)", async () => {
    await applyShop();
    const live = await h.provider.read(
      (await compile()).targets.find((t) => t.name === 'azure-prod')!,
      { kind: 'live' },
      { model: 'shop' },
    );
    const nsgLive = live.resources.find((r) => r.type === AZURE_TYPES.nsg)!;
    // Read gives every rule that names an owned ASG the dependsOn render gives it.
    expect(changes(await plan())).toEqual([]);
    const dbRule = nsgLive.children.find((c) => c.key === 'shop-in-db-from-app-tcp-5432')!;
    expect(dbRule.dependsOn).toEqual([
      'azure-prod.azure_application_security_group.shop-app',
      'azure-prod.azure_application_security_group.shop-db',
    ]);
    await edit(/\n {2}data: \[db\]/, '');
    await edit(/\n {2}db: .*/, '');
    await edit(/\nguardrails:[^\n]*\n {2}- name: data-only-from-backend\n(.*\n){2}/, '\n');
    const steps = buildSteps(await plan());
    const del = steps.find((s) => s.step.id === 'delete:azure-prod.azure_application_security_group.shop-db')!;
    expect(del.waitsFor).toContain(`remove:azure-prod.${AZURE_TYPES.nsg}.${NSG}`);
  });

  it('a second rule of the same name in another collection of the owned group is drift: the plan deletes it, the apply removes it (issue 15.2)', async () => {
    await applyShop();
    const group = await h.client.firewallPolicyRuleCollectionGroups.get(RG, POLICY, 'shop-fqdn-egress');
    const ours = group.ruleCollections![0]! as { rules?: { name?: string }[] };
    const twin = { ...ours.rules![0]!, description: "someone else's copy" };
    await h.client.firewallPolicyRuleCollectionGroups.beginCreateOrUpdateAndWait(
      RG,
      POLICY,
      'shop-fqdn-egress',
      {
        priority: group.priority,
        ruleCollections: [
          ...group.ruleCollections!,
          {
            ruleCollectionType: 'FirewallPolicyFilterRuleCollection',
            name: 'ops-extra',
            priority: 60000,
            action: { type: 'Allow' },
            rules: [twin],
          } as never,
        ],
      },
      { updateIntervalInMs: 1 },
    );
    const p = await plan();
    const rcg = changes(p).find((c) => c.type === AZURE_TYPES.rcg)!;
    expect(rcg.childChanges.map((c) => `${c.action} ${c.key}`)).toEqual([`delete ops-extra/${twin.name}`]);
    await apply(p, await compile());
    const after = h.emulator.rcgJson(RG, POLICY, 'shop-fqdn-egress') as {
      properties: { ruleCollections: { name: string }[] };
    };
    expect(after.properties.ruleCollections.map((c) => c.name)).toEqual(['shop-allow-fqdn']);
    await replanIsEmpty();
  });

  it("an owned ASG spelled Shop-Web is the segment's shop-web (Azure names ignore case): no create-and-delete of one object", async () => {
    h.emulator.seedAsg(RG, 'Shop-Web', { location: 'westeurope', tags: { 'bulkhead:model': 'shop' } });
    const p = await plan();
    const asgs = changes(p)
      .filter((c) => c.type === AZURE_TYPES.asg)
      .map((c) => `${c.action} ${c.name}`);
    expect(asgs).toEqual(['create shop-app', 'create shop-db', 'create shop-lb']);
    await apply(p, await compile());
    expect(h.emulator.asgNames(RG)).toEqual(['Shop-Web', 'shop-app', 'shop-db', 'shop-lb']);
    await replanIsEmpty();
  });

  it('reports out-of-band edits as drift and reverts them', async () => {
    await applyShop();
    // Someone widens an owned rule, adds a rule with the model's prefix, and deletes another owned rule.
    const web = await h.client.securityRules.get(RG, NSG, 'shop-in-web-from-lb-tcp-8080');
    await h.client.securityRules.beginCreateOrUpdateAndWait(
      RG,
      NSG,
      'shop-in-web-from-lb-tcp-8080',
      { ...web, destinationPortRange: '*' },
      { updateIntervalInMs: 1 },
    );
    await h.client.securityRules.beginCreateOrUpdateAndWait(
      RG,
      NSG,
      'shop-in-sneaky',
      {
        protocol: 'Tcp',
        sourcePortRange: '*',
        destinationPortRange: '22',
        sourceAddressPrefix: 'Internet',
        destinationAddressPrefix: '*',
        access: 'Allow',
        priority: 3000,
        direction: 'Inbound',
      },
      { updateIntervalInMs: 1 },
    );
    await h.client.securityRules.beginDeleteAndWait(RG, NSG, 'shop-deny-all-out', { updateIntervalInMs: 1 });
    const p = await plan();
    expect(summary(p)).toEqual([
      `update ${AZURE_TYPES.nsg}.${NSG}`,
      '  create shop-deny-all-out',
      '  delete shop-in-sneaky',
      '  update shop-in-web-from-lb-tcp-8080',
    ]);
    const rules = await compile();
    await apply(p, rules);
    await replanIsEmpty();
    const nsg = h.emulator.nsgJson(RG, NSG)! as { properties: { securityRules: { name: string }[] } };
    expect(nsg.properties.securityRules.map((r) => r.name)).not.toContain('shop-in-sneaky');
  });

  it("keeps a rule someone else writes between Bulkhead's read and its NSG PUT (If-Match → 412 → re-read)", async () => {
    seedUnowned();
    h.emulator.beforeNsgPut = () =>
      h.emulator.putRuleDirect(RG, NSG, {
        name: 'ops-late-rule',
        properties: {
          protocol: 'Udp',
          sourcePortRange: '*',
          destinationPortRange: '53',
          sourceAddressPrefix: '*',
          destinationAddressPrefix: 'VirtualNetwork',
          access: 'Allow',
          priority: 170,
          direction: 'Inbound',
        },
      });
    await applyShop();
    const preconditionFailed = h.emulator.calls.filter((c) => c.status === 412);
    expect(preconditionFailed).toHaveLength(1);
    const nsg = h.emulator.nsgJson(RG, NSG)! as { properties: { securityRules: { name: string }[] } };
    expect(nsg.properties.securityRules.map((r) => r.name)).toContain('ops-late-rule');
    await replanIsEmpty();
  });

  it('rides out 429s with and without Retry-After, and slow long-running operations', async () => {
    // Without Retry-After the SDK gives up at once; Bulkhead's own backoff retries.
    h.emulator.inject({ method: 'PUT', pathIncludes: '/networkSecurityGroups/', status: 429, count: 2 });
    // With Retry-After the SDK's own throttling policy retries.
    h.emulator.inject({
      method: 'PUT',
      pathIncludes: '/applicationSecurityGroups/shop-web',
      status: 429,
      retryAfter: 1,
      count: 1,
    });
    h.emulator.pollsBeforeDone = 3;
    await applyShop();
    const throttled = h.emulator.calls.filter((c) => c.status === 429);
    expect(throttled.length).toBe(3);
    await replanIsEmpty();
  });

  it('is one retrying layer: a lasting 429 with Retry-After is retried by the SDK only, and the engine does not start the step over', async () => {
    const rules = await compile();
    const p = await plan(rules);
    // The SDK's throttling policy retries it (1 + its 2 retries in the harness); before the kit the
    // provider's loop retried that 6 times and the engine the step 5 times: 90 PUTs.
    h.emulator.inject({
      method: 'PUT',
      pathIncludes: '/networkSecurityGroups/',
      status: 429,
      retryAfter: 0,
      count: 1_000_000,
    });
    const report = await applyPlan(p, rules, { ...options(), parallelism: 1, retryDelayMs: 1 });
    const failed = report.outcomes.filter((o) => o.status === 'failed');
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((o) => o.address.includes(AZURE_TYPES.nsg) && o.attempts === 1)).toBe(true);
    const puts = h.emulator.calls.filter((c) => c.method === 'PUT' && c.path.includes('/networkSecurityGroups/'));
    expect(puts).toHaveLength(3 * failed.length);
  });

  it('is one retrying layer: a lasting 429 without Retry-After is retried by the policy only (the SDK does not), and the engine does not start the step over', async () => {
    const rules = await compile();
    const p = await plan(rules);
    h.emulator.inject({
      method: 'PUT',
      pathIncludes: '/applicationSecurityGroups/shop-web',
      status: 429,
      count: 1_000_000,
    });
    const report = await applyPlan(p, rules, { ...options(), parallelism: 1, retryDelayMs: 1 });
    const failed = report.outcomes.filter((o) => o.status === 'failed');
    expect(failed.map((o) => [o.address.endsWith('.shop-web'), o.attempts])).toEqual([[true, 1]]);
    expect(failed[0]!.error).toMatch(/gave up after 6 attempts/);
    expect(
      h.emulator.calls.filter((c) => c.method === 'PUT' && c.path.includes('/applicationSecurityGroups/shop-web')),
    ).toHaveLength(6);
  });

  it('never writes one NSG twice at once, even when steps run concurrently', async () => {
    await applyShop();
    h.emulator.pollsBeforeDone = 4;
    await edit('ports: [tcp/8080] }', 'ports: [tcp/8081] }');
    const rules = await compile();
    const p = await plan(rules);
    const change = changes(p).find((c) => c.type === AZURE_TYPES.nsg)!;
    const target = rules.targets.find((t) => t.name === 'azure-prod')!;
    const applier = h.provider.createApplier(
      target,
      { target: 'azure-prod', source: 'live', resources: [], fingerprint: '', diagnostics: [] },
      { parallelism: 4 },
    );
    const step = (phase: 'add' | 'remove'): ApplyStep => ({
      id: `${phase}:${change.address}`,
      phase,
      change,
      children: change.childChanges.filter((c) => (phase === 'add') === (c.action !== 'delete')),
    });
    const from = h.emulator.calls.length;
    await Promise.all([applier.run(step('add')), applier.run(step('remove')), applier.run(step('add'))]);
    // Serialized: the first PUT converges, the others re-GET and find nothing to do.
    expect(h.emulator.writeCount(from)).toBe(1);
    await replanIsEmpty();
  });

  it("plans around a hand-made rule sitting on a model rule's hash slot: no conflict, the plan applies, the rule is untouched", async () => {
    const rules = await compile();
    const slotOf = (p: Plan, key: string) =>
      changes(p)
        .find((c) => c.type === AZURE_TYPES.nsg)!
        .childChanges.find((c) => c.key === key)!.after!.attributes['priority'] as number;
    const wanted = slotOf(await plan(rules), 'shop-in-web-from-lb-tcp-8080');
    const legacy = {
      name: 'legacy-web',
      properties: {
        protocol: 'Tcp',
        sourcePortRange: '*',
        destinationPortRange: '80',
        sourceAddressPrefix: '*',
        destinationAddressPrefix: '*',
        access: 'Allow',
        priority: wanted,
        direction: 'Inbound',
      },
    };
    h.emulator.seedNsg(RG, NSG, { location: 'westeurope', rules: [legacy] });
    const legacyNow = () =>
      canonicalJson(
        (
          h.emulator.nsgJson(RG, NSG) as { properties: { securityRules: { name: string }[] } }
        ).properties.securityRules.find((r) => r.name === 'legacy-web') as unknown as Json,
      );
    const before = legacyNow();
    const p = await plan(rules);
    const created = changes(p)
      .find((c) => c.type === AZURE_TYPES.nsg)!
      .childChanges.map((c) => c.after!.attributes);
    expect(slotOf(p, 'shop-in-web-from-lb-tcp-8080')).not.toBe(wanted);
    expect(created.filter((a) => a['direction'] === 'inbound' && a['priority'] === wanted)).toEqual([]);
    // The emulator answers a clash with SecurityRuleConflict (not expected here, so it would fail the apply).
    await apply(p, rules);
    expect(h.emulator.calls.filter((c) => c.status === 400)).toEqual([]);
    expect(legacyNow()).toBe(before);
    await replanIsEmpty();
  });

  it('refuses, with a clear error and no write, a stale plan whose priority an unowned rule took since', async () => {
    const rules = await compile();
    const p = await plan(rules);
    const nsgChange = changes(p).find((c) => c.type === AZURE_TYPES.nsg)!;
    const wanted = nsgChange.childChanges.find((c) => c.key === 'shop-in-web-from-lb-tcp-8080')!.after!.attributes[
      'priority'
    ] as number;
    h.emulator.seedNsg(RG, NSG, {
      location: 'westeurope',
      rules: [
        {
          name: 'legacy-web',
          properties: {
            protocol: 'Tcp',
            sourcePortRange: '*',
            destinationPortRange: '80',
            sourceAddressPrefix: '*',
            destinationAddressPrefix: '*',
            access: 'Allow',
            priority: wanted,
            direction: 'Inbound',
          },
        },
      ],
    });
    const target = rules.targets.find((t) => t.name === 'azure-prod')!;
    const applier = h.provider.createApplier(
      target,
      { target: 'azure-prod', source: 'live', resources: [], fingerprint: '', diagnostics: [] },
      { parallelism: 1 },
    );
    const from = h.emulator.calls.length;
    const err = await applier
      .run({ id: `add:${nsgChange.address}`, phase: 'add', change: nsgChange, children: nsgChange.childChanges })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).code).toBe('SecurityRuleConflict');
    expect((err as ProviderError).message).toContain('legacy-web');
    expect(h.emulator.writeCount(from)).toBe(0);
  });
});

describe('azure emulator behaviour (what the provider is tested against)', () => {
  it('rejects duplicate priority+direction with SecurityRuleConflict and in-use ASG deletion', async () => {
    h.emulator.seedNsg(RG, NSG, { location: 'westeurope' });
    h.emulator.seedAsg(RG, 'a1', { location: 'westeurope' });
    const rule = {
      protocol: 'Tcp',
      sourcePortRange: '*',
      destinationPortRange: '443',
      sourceAddressPrefix: '*',
      access: 'Allow',
      priority: 300,
      direction: 'Inbound',
    } as const;
    await h.client.securityRules.beginCreateOrUpdateAndWait(
      RG,
      NSG,
      'r1',
      {
        ...rule,
        destinationApplicationSecurityGroups: [
          {
            id: `/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/${RG}/providers/Microsoft.Network/applicationSecurityGroups/a1`,
          },
        ],
      },
      { updateIntervalInMs: 1 },
    );
    h.emulator.expectedErrors.add('SecurityRuleConflict');
    h.emulator.expectedErrors.add('InUseApplicationSecurityGroupCannotBeDeleted');
    const conflict = await h.client.securityRules
      .beginCreateOrUpdateAndWait(RG, NSG, 'r2', { ...rule, destinationAddressPrefix: '*' }, { updateIntervalInMs: 1 })
      .catch((e: unknown) => e);
    expect((conflict as { code?: string }).code).toBe('SecurityRuleConflict');
    const inUse = await h.client.applicationSecurityGroups
      .beginDeleteAndWait(RG, 'a1', { updateIntervalInMs: 1 })
      .catch((e: unknown) => e);
    expect((inUse as { code?: string }).code).toBe('InUseApplicationSecurityGroupCannotBeDeleted');
    // Default rules are only in defaultSecurityRules.
    const rulesList = [];
    for await (const r of h.client.securityRules.list(RG, NSG)) rulesList.push(r.name);
    const defaults = [];
    for await (const r of h.client.defaultSecurityRules.list(RG, NSG)) defaults.push(r.name);
    expect(rulesList).toEqual(['r1']);
    expect(defaults).toEqual([
      'AllowVnetInBound',
      'AllowAzureLoadBalancerInBound',
      'DenyAllInBound',
      'AllowVnetOutBound',
      'AllowInternetOutBound',
      'DenyAllOutBound',
    ]);
  });

  it('records a request the real API would reject (schema check)', async () => {
    h.emulator.seedNsg(RG, NSG, { location: 'westeurope' });
    // `Any` is portal wording; the API enum is `*` (trap 2). The SDK passes the string through.
    const bad = await h.client.securityRules
      .beginCreateOrUpdateAndWait(
        RG,
        NSG,
        'r1',
        {
          protocol: 'Any',
          sourcePortRange: '*',
          destinationPortRange: '*',
          sourceAddressPrefix: '*',
          destinationAddressPrefix: '*',
          access: 'Allow',
          priority: 300,
          direction: 'Inbound',
        },
        { updateIntervalInMs: 1 },
      )
      .catch((e: unknown) => e);
    expect((bad as { code?: string }).code).toBe('InvalidRequestFormat');
    expect(h.emulator.violations).toHaveLength(1);
    expect(h.emulator.violations[0]).toContain('"Any" is not one of');
    h.emulator.violations.length = 0;
  });
});
