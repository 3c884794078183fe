import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FIREWALL_TYPE, POLICY_TYPE } from '../../../providers/gcp/canonical.js';
import { createGcpProvider } from '../../../providers/gcp/index.js';
import { applyPlan } from '../../../src/apply/apply-plan.js';
import { planCounts, startGcpHarness, type GcpHarness } from '../../helpers/gcp/harness.js';

/**
 * End to end through the real pipeline (compileFile → createPlan → applyPlan) and the real
 * FirewallsClient / NetworkFirewallPoliciesClient / GlobalOperationsClient over HTTP against the
 * Compute emulator, which checks every request against the discovery document.
 */

let h: GcpHarness;

beforeEach(async () => {
  h = await startGcpHarness();
});

afterEach(async () => {
  const violations = [...h.emulator.violations];
  await h.close();
  expect(violations).toEqual([]);
});

async function applyShop(): Promise<void> {
  const rules = await h.compile();
  const plan = await h.plan(rules);
  const report = await h.apply(plan, rules);
  expect(report.outcomes.filter((o) => o.status !== 'done')).toEqual([]);
}

async function replanIsEmpty(): Promise<void> {
  const plan = await h.plan();
  expect(plan.targets[0]!.changes.map((c) => `${c.action} ${c.address}`)).toEqual([]);
}

describe('gcp scenarios', () => {
  it('applies the shop to an empty project, then re-plans empty', async () => {
    const rules = await h.compile();
    const plan = await h.plan(rules);
    const counts = planCounts(plan);
    const firewalls = plan.targets[0]!.changes.filter((c) => c.type === FIREWALL_TYPE);
    expect(counts.create).toBe(firewalls.length);
    // The policy exists (not created by us): its FQDN rule is an update adding one child.
    const policy = plan.targets[0]!.changes.find((c) => c.type === POLICY_TYPE)!;
    expect(policy.action).toBe('update');
    expect(policy.childChanges.map((c) => c.action)).toEqual(['create']);

    h.emulator.resetCalls();
    const report = await h.apply(plan, rules);
    expect(report.ok).toBe(true);
    const writes = h.emulator.writeCalls();
    // One insert per rule, one addRule for the FQDN rule, nothing else.
    expect(writes).toEqual({ 'firewalls.insert': firewalls.length, 'networkFirewallPolicies.addRule': 1 });
    console.log(`[measure] shop → empty project: ${h.emulator.writeCount()} write calls ${JSON.stringify(writes)}`);
    expect(h.emulator.firewalls.size).toBe(firewalls.length);
    // Every operation was awaited: a wait call per write at least (the first wait sees RUNNING).
    const waits = h.emulator.calls.filter((c) => c.method === 'globalOperations.wait').length;
    expect(waits).toBeGreaterThanOrEqual(2 * h.emulator.writeCount());
    await replanIsEmpty();
  });

  it('adds one flow: three in-place patches (or two inserts for a new peer), then re-plans empty', async () => {
    await applyShop();
    await h.editModel((t) =>
      t.replace(
        'db:  { ingress: [{ from: app, ports: [postgres] }] }',
        'db:  { ingress: [{ from: app, ports: [postgres, tcp/6432] }] }',
      ),
    );
    const rules = await h.compile();
    const plan = await h.plan(rules);
    expect(planCounts(plan)).toEqual({ create: 0, update: 3, delete: 0, replace: 0 });
    h.emulator.resetCalls();
    await h.apply(plan, rules);
    const writes = h.emulator.writeCalls();
    console.log(
      `[measure] add one flow (app → db tcp/6432): ${h.emulator.writeCount()} write calls ${JSON.stringify(writes)}`,
    );
    // The ingress on db and the egress on app (one rule per family: the default internal ranges
    // include fc00::/7) each gain a port: patched in place.
    expect(writes).toEqual({ 'firewalls.patch': 3 });
    await replanIsEmpty();

    // A flow to a new peer is a new rule pair: two inserts.
    await h.editModel((t) =>
      t.replace(
        'lb:  { ingress: [{ from: internet, ports: [https] }] }',
        'lb:  { ingress: [{ from: internet, ports: [https] }, { from: office, ports: [tcp/8443] }] }',
      ),
    );
    const rules2 = await h.compile();
    const plan2 = await h.plan(rules2);
    h.emulator.resetCalls();
    await h.apply(plan2, rules2);
    // office has IPv4 and IPv6 ranges: two ingress rules on lb.
    expect(h.emulator.writeCalls()).toEqual({ 'firewalls.insert': 2 });
    console.log(`[measure] add one flow to a new peer (office → lb tcp/8443): ${h.emulator.writeCount()} write calls`);
    await replanIsEmpty();
  });

  it('removes a segment: its rules are deleted, the deny-all and guardrail rules shrink', async () => {
    await applyShop();
    await h.editModel((t) =>
      t
        .replace('  data: [db]\n', '')
        .replace('  db:  { ingress: [{ from: app, ports: [postgres] }] }\n', '')
        .replace(/ {2}- name: data-only-from-backend\n(.*\n){2}/, '')
        .replace(/\nguardrails:.*\n/, '\n'),
    );
    const rules = await h.compile();
    const plan = await h.plan(rules);
    const changes = plan.targets[0]!.changes;
    const deleted = changes.filter((c) => c.action === 'delete').map((c) => c.name);
    expect(deleted.some((n) => n.startsWith('shop-db-in-app'))).toBe(true);
    expect(deleted.some((n) => n.startsWith('shop-app-out-db'))).toBe(true);
    expect(changes.filter((c) => c.action === 'update').every((c) => c.type === FIREWALL_TYPE)).toBe(true);
    h.emulator.resetCalls();
    await h.apply(plan, rules);
    const writes = h.emulator.writeCalls();
    expect(writes['firewalls.delete']).toBe(deleted.length);
    // Removing shop-db from target tag lists is a patch (the lists stay non-empty).
    expect(writes['firewalls.patch']).toBeGreaterThan(0);
    expect([...h.emulator.firewalls.values()].some((f) => JSON.stringify(f).includes('shop-db'))).toBe(false);
    // Additions before deletions: every patch happened before the first delete.
    const order = h.emulator.calls.filter((c) => c.write).map((c) => c.method);
    expect(order.lastIndexOf('firewalls.patch')).toBeLessThan(order.indexOf('firewalls.delete'));
    await replanIsEmpty();
  });

  it('changes a port with a patch of the allowed list', async () => {
    await applyShop();
    await h.editModel((t) =>
      t.replace(
        'web: { ingress: [{ from: lb, ports: [tcp/8080] }] }',
        'web: { ingress: [{ from: lb, ports: [tcp/8081] }] }',
      ),
    );
    const rules = await h.compile();
    const plan = await h.plan(rules);
    // web's ingress and lb's egress toward the internal ranges, IPv4 and IPv6 (fc00::/7).
    expect(planCounts(plan)).toEqual({ create: 0, update: 3, delete: 0, replace: 0 });
    h.emulator.resetCalls();
    await h.apply(plan, rules);
    expect(h.emulator.writeCalls()).toEqual({ 'firewalls.patch': 3 });
    const patch = h.emulator.calls.find((c) => c.method === 'firewalls.patch')!;
    expect(patch.url).toMatch(/requestId=[0-9a-f-]{36}/);
    const web = [...h.emulator.firewalls.values()].find((f) => f.name.startsWith('shop-web-in-lb'))!;
    expect(web['allowed']).toEqual([{ IPProtocol: 'tcp', ports: ['8081'] }]);
    await replanIsEmpty();
  });

  it('adds an FQDN: the policy rule is patched with the new name', async () => {
    await applyShop();
    await h.editModel((t) =>
      t.replace('fqdns: [api.stripe.com, api.paypal.com]', 'fqdns: [api.stripe.com, api.paypal.com, api.adyen.com]'),
    );
    const rules = await h.compile();
    const plan = await h.plan(rules);
    const policy = plan.targets[0]!.changes.find((c) => c.type === POLICY_TYPE)!;
    expect(policy.childChanges.map((c) => c.action)).toEqual(['update']);
    h.emulator.resetCalls();
    await h.apply(plan, rules);
    expect(h.emulator.writeCalls()).toEqual({ 'networkFirewallPolicies.patchRule': 1 });
    const owned = [...h.emulator.policies.get('shop-egress')!.rules.values()].filter((r) => r.priority < 2147483644);
    expect(owned).toHaveLength(1);
    expect((owned[0]!['match'] as { destFqdns: string[] }).destFqdns).toEqual([
      'api.adyen.com',
      'api.paypal.com',
      'api.stripe.com',
    ]);
    await replanIsEmpty();
  });

  it('switches segments from tags to service accounts with update (patch cannot clear the tag lists)', async () => {
    await applyShop();
    const sa = (n: string) => `${n}@shop-prod.iam.gserviceaccount.com`;
    await h.editModel((t) =>
      t
        .replace(
          'lb:  { ingress: [{ from: internet, ports: [https] }] }',
          `lb:  { ingress: [{ from: internet, ports: [https] }], gcp: { serviceAccount: ${sa('lb')} } }`,
        )
        .replace(
          'web: { ingress: [{ from: lb, ports: [tcp/8080] }] }',
          `web: { ingress: [{ from: lb, ports: [tcp/8080] }], gcp: { serviceAccount: ${sa('web')} } }`,
        )
        .replace(
          'db:  { ingress: [{ from: app, ports: [postgres] }] }',
          `db:  { ingress: [{ from: app, ports: [postgres] }], gcp: { serviceAccount: ${sa('db')} } }`,
        )
        .replace('  app:\n', `  app:\n    gcp: { serviceAccount: ${sa('app')} }\n`),
    );
    const rules = await h.compile();
    expect(rules.segments.every((s) => s.gcp?.serviceAccount)).toBe(true);
    const plan = await h.plan(rules);
    h.emulator.resetCalls();
    const report = await h.apply(plan, rules);
    expect(report.ok).toBe(true);
    const writes = h.emulator.writeCalls();
    // Every rule that named tags now names service accounts: PUT, never PATCH (which would keep the tags).
    expect(writes['firewalls.update']).toBeGreaterThanOrEqual(8);
    expect(writes['firewalls.patch'] ?? 0).toBe(0);
    // The FQDN rule moves from "every instance of the network" to the app service account:
    // patchRule cannot clear targetResources, so the rule is replaced.
    expect(writes['networkFirewallPolicies.removeRule']).toBe(1);
    expect(writes['networkFirewallPolicies.addRule']).toBe(1);
    const live = [...h.emulator.firewalls.values()];
    expect(live.filter((f) => f['targetTags'] !== undefined || f['sourceTags'] !== undefined)).toEqual([]);
    await replanIsEmpty();
  });

  it('detects out-of-band edits as drift and reverts them; unowned rules are never touched', async () => {
    await applyShop();
    const unowned = h.emulator.seedFirewall({
      name: 'legacy-allow-ssh',
      network: 'global/networks/shop-vpc',
      allowed: [{ IPProtocol: 'tcp', ports: ['22'] }],
      sourceRanges: ['0.0.0.0/0'],
      targetTags: ['shop-app'],
    });
    // Another model whose name extends ours (shop-eu): its own rules (its marker, its prefix) are its, not in our way.
    const neighbour = h.emulator.seedFirewall({
      name: 'shop-eu-web-in-lb-0a1b2c',
      network: 'global/networks/shop-vpc',
      allowed: [{ IPProtocol: 'tcp', ports: ['8080'] }],
      sourceTags: ['shop-eu-lb'],
      targetTags: ['shop-eu-web'],
      description: 'web ingress from lb [bulkhead:model=shop-eu]',
    });
    const web = [...h.emulator.firewalls.values()].find((f) => f.name.startsWith('shop-web-in-lb'))!;
    // Someone widens a rule, turns on logging and disables another one; someone deletes a third.
    h.emulator.firewalls.set(web.name, {
      ...web,
      allowed: [{ IPProtocol: 'tcp', ports: ['8080', '22'] }],
      logConfig: { enable: true },
    });
    const db = [...h.emulator.firewalls.values()].find((f) => f.name.startsWith('shop-db-in-app'))!;
    h.emulator.firewalls.set(db.name, { ...db, disabled: true, sourceTags: [], sourceRanges: ['10.0.0.0/8'] });
    const lb = [...h.emulator.firewalls.values()].find((f) => f.name.startsWith('shop-lb-in-internet-v4'))!;
    h.emulator.firewalls.delete(lb.name);
    const pol = h.emulator.policies.get('shop-egress')!;
    const owned = [...pol.rules.values()].find((r) => r.priority < 2147483644)!;
    pol.rules.set(owned.priority, {
      ...owned,
      match: { ...(owned['match'] as object), destFqdns: ['evil.example.com'] },
    });

    const rules = await h.compile();
    const plan = await h.plan(rules);
    const changes = plan.targets[0]!.changes;
    expect(changes.map((c) => `${c.action} ${c.name}`).sort()).toEqual(
      [`create ${lb.name}`, `update ${db.name}`, `update ${web.name}`, 'update shop-egress'].sort(),
    );
    expect(plan.targets[0]!.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(plan.targets[0]!.diagnostics.some((d) => d.message.includes(neighbour.name))).toBe(false);
    h.emulator.resetCalls();
    await h.apply(plan, rules);
    const writes = h.emulator.writeCalls();
    // web: patch (allowed + logConfig); db: update (its sourceRanges must be cleared); lb: insert.
    expect(writes).toEqual({
      'firewalls.insert': 1,
      'firewalls.patch': 1,
      'firewalls.update': 1,
      'networkFirewallPolicies.patchRule': 1,
    });
    await replanIsEmpty();
    expect(h.emulator.firewalls.get('legacy-allow-ssh')).toEqual(unowned);
    expect(h.emulator.firewalls.get(neighbour.name)).toEqual(neighbour);
    expect(h.emulator.calls.some((c) => c.url.includes('legacy-allow-ssh') || c.url.includes(neighbour.name))).toBe(
      false,
    );
  });

  it('exports the live project as gcloud JSON that reads back to the same state', async () => {
    await applyShop();
    h.emulator.seedFirewall({
      name: 'legacy-allow-ssh',
      network: 'global/networks/shop-vpc',
      allowed: [{ IPProtocol: 'tcp', ports: ['22'] }],
    });
    const rules = await h.compile();
    const target = rules.targets.find((t) => t.name === 'gcp-prod')!;
    const files = await h.provider.exportSnapshot(target, { endpoint: h.emulator.url });
    expect(files.map((f) => f.path)).toEqual(['firewall-rules.json', 'firewall-policy.json']);
    const exported = JSON.parse(files[0]!.content) as { name: string }[];
    // Everything gcloud would list, unowned rules included, without the SDK's `_field` markers.
    expect(exported.map((f) => f.name)).toContain('legacy-allow-ssh');
    expect(files[0]!.content).not.toMatch(/"_[a-zA-Z]+"/);
    const dir = join(h.dir, 'snap');
    await mkdir(join(dir, 'gcp-prod'), { recursive: true });
    for (const f of files) await writeFile(join(dir, 'gcp-prod', f.path), f.content);
    const fromFiles = await h.provider.read(target, { kind: 'snapshot', dir }, { model: 'shop' });
    const live = await h.provider.read(target, { kind: 'live', endpoint: h.emulator.url }, { model: 'shop' });
    const strip = (rs: typeof live.resources) =>
      rs.map((r) => ({ address: r.address, attributes: r.attributes, children: r.children.map((c) => c.attributes) }));
    expect(strip(fromFiles.resources)).toEqual(strip(live.resources));
    expect(fromFiles.fingerprint).toBe(live.fingerprint);
  });

  it('retries injected 429s and 503s with the same requestId and converges', async () => {
    h.emulator.faults.push({ method: 'firewalls.insert', status: 429, count: 3 });
    h.emulator.faults.push({ method: 'globalOperations.wait', status: 503, count: 2 });
    // A lost response: the insert is carried out, the client sees 503 and retries with the same requestId.
    h.emulator.faults.push({ method: 'networkFirewallPolicies.addRule', status: 503, count: 1, when: 'after' });
    h.emulator.faults.push({ method: 'firewalls.list', status: 429, count: 1 });
    await applyShop();
    const rejected = h.emulator.calls.filter((c) => c.status === 429 || c.status === 503);
    expect(rejected.length).toBe(7);
    const adds = h.emulator.calls.filter((c) => c.method === 'networkFirewallPolicies.addRule');
    expect(adds).toHaveLength(2);
    expect(adds[1]!.deduped).toBe(true);
    expect(new URL(adds[0]!.url, 'http://x').searchParams.get('requestId')).toBe(
      new URL(adds[1]!.url, 'http://x').searchParams.get('requestId'),
    );
    expect([...h.emulator.policies.get('shop-egress')!.rules.keys()].filter((p) => p < 2147483644)).toHaveLength(1);
    await replanIsEmpty();
  });

  it('is one retrying layer: an insert throttled without end costs the policy’s 6 calls, and the engine (default retries) does not start the step over', async () => {
    h.emulator.faults.push({ method: 'firewalls.insert', status: 429, count: 1_000_000 });
    const rules = await h.compile();
    const plan = await h.plan(rules);
    // The engine with its default retries (the harness turns them off): before the kit, each failed step cost 6 × 5 inserts.
    const report = await applyPlan(plan, rules, {
      providers: (id) => (id === 'gcp' ? h.provider : undefined),
      source: () => ({ kind: 'live', endpoint: h.emulator.url }),
      parallelism: 1,
      retryDelayMs: 1,
    });
    const failed = report.outcomes.filter((o) => o.status === 'failed');
    expect(failed.length).toBeGreaterThan(0);
    for (const o of failed) {
      expect(o.attempts).toBe(1);
      expect(o.code).toBe('rateLimitExceeded');
      expect(o.error).toMatch(/gave up after 6 attempts/);
    }
    const inserts = h.emulator.calls.filter((c) => c.method === 'firewalls.insert');
    expect(inserts.length).toBe(6 * failed.length);
  });

  it('reports an operation that finishes DONE with an error, holds back removals, and a re-run converges', async () => {
    await applyShop();
    await h.editModel((t) =>
      t
        .replace(
          'web: { ingress: [{ from: lb, ports: [tcp/8080] }] }',
          'web: { ingress: [{ from: lb, ports: [tcp/8081] }] }',
        )
        .replace('  db:  { ingress: [{ from: app, ports: [postgres] }] }\n', '  db:  { ingress: [] }\n'),
    );
    const rules = await h.compile();
    const plan = await h.plan(rules);
    h.emulator.operationFailures.push({
      method: 'firewalls.patch',
      code: 'RESOURCE_NOT_READY',
      message: 'The resource is not ready',
      count: 1,
    });
    const report = await h.apply(plan, rules);
    expect(report.ok).toBe(false);
    const failed = report.outcomes.find((o) => o.status === 'failed')!;
    expect(failed.error).toMatch(/RESOURCE_NOT_READY/);
    // The deletes wait for every addition of the target: held back.
    expect(report.outcomes.filter((o) => o.phase === 'delete').every((o) => o.status === 'skipped')).toBe(true);
    const again = await h.plan(rules);
    const rerun = await h.apply(again, rules);
    expect(rerun.ok).toBe(true);
    await replanIsEmpty();
  });

  it('stops the plan when an unowned rule is in the way, and plans an update once it is adopted', async () => {
    const rules = await h.compile();
    const first = (await h.plan(rules)).targets[0]!.changes.find((c) => c.type === FIREWALL_TYPE)!;
    const squatter = h.emulator.seedFirewall({
      name: first.name,
      network: 'global/networks/shop-vpc',
      allowed: [{ IPProtocol: 'icmp' }],
      description: 'hand-made',
    });
    const blocked = await h.plan(rules);
    const err = blocked.diagnostics.find((d) => d.code === 'gcp-unowned-in-the-way')!;
    expect(err.severity).toBe('error');
    expect(err.message).toContain(first.name);
    expect(err.message).toMatch(/adopt it by adding the marker/);
    expect(blocked.targets).toEqual([]);
    // Adopted: the marker is added by hand; the next plan updates it in place (no create, no 409).
    h.emulator.firewalls.set(first.name, { ...squatter, description: 'hand-made [bulkhead:model=shop]' });
    const adopted = await h.plan(rules);
    expect(adopted.targets[0]!.changes.find((c) => c.name === first.name)!.action).toBe('update');
    const report = await h.apply(adopted, rules);
    expect(report.ok).toBe(true);
    await replanIsEmpty();
  });

  it('reports any rule with the model prefix but no marker from read alone, without a validate or render first', async () => {
    await applyShop();
    // A name the model does not render: still in the model's name space, so still an error.
    h.emulator.seedFirewall({
      name: 'shop-handmade',
      network: 'global/networks/shop-vpc',
      allowed: [{ IPProtocol: 'icmp' }],
    });
    const rules = await h.compile();
    const target = rules.targets.find((t) => t.name === 'gcp-prod')!;
    // A fresh provider that has never validated or rendered anything: read decides from its arguments.
    const fresh = createGcpProvider({ clients: () => h.clients, retry: { attempts: 2, baseMs: 1, maxMs: 2 } });
    const state = await fresh.read(
      target,
      { kind: 'live', endpoint: h.emulator.url },
      { model: rules.model.name, segments: rules.segments },
    );
    const errors = state.diagnostics.filter((d) => d.code === 'gcp-unowned-in-the-way');
    expect(errors.map((d) => [d.severity, d.message.includes('shop-handmade')])).toEqual([['error', true]]);
    expect(errors[0]!.message).toMatch(/adopt it by adding the marker/);
    expect(state.resources.some((r) => r.name === 'shop-handmade')).toBe(false);
    // The same read for another model: not its name space, nothing to say.
    const other = await fresh.read(target, { kind: 'live', endpoint: h.emulator.url }, { model: 'shop-eu' });
    expect(other.diagnostics).toEqual([]);
    // Through the engine: the plan stops; once the rule is renamed away it goes through, untouched.
    const blocked = await h.plan(rules);
    expect(blocked.targets).toEqual([]);
    const handmade = h.emulator.firewalls.get('shop-handmade')!;
    h.emulator.firewalls.delete('shop-handmade');
    h.emulator.firewalls.set('handmade', { ...handmade, name: 'handmade' });
    await replanIsEmpty();
    expect(h.emulator.calls.some((c) => c.url.includes('handmade'))).toBe(false);
  });

  it('places the FQDN rule around a policy priority an unowned rule holds (read reserves it, render skips it)', async () => {
    const rules = await h.compile();
    const planned = (await h.plan(rules)).targets[0]!.changes.find((c) => c.type === POLICY_TYPE)!;
    const priority = Number(planned.childChanges[0]!.key);
    // Someone else's rule lands on exactly that priority before the plan.
    const pol = h.emulator.policies.get('shop-egress')!;
    pol.rules.set(priority, {
      priority,
      ruleName: 'netops-allow-dns',
      description: 'netops',
      direction: 'EGRESS',
      action: 'allow',
      match: { destIpRanges: ['8.8.8.8/32'], layer4Configs: [{ ipProtocol: 'udp', ports: ['53'] }] },
    });
    const plan = await h.plan(rules);
    const policy = plan.targets[0]!.changes.find((c) => c.type === POLICY_TYPE)!;
    expect(policy.childChanges.map((c) => c.action)).toEqual(['create']);
    expect(Number(policy.childChanges[0]!.key)).not.toBe(priority);
    const report = await h.apply(plan, rules);
    expect(report.ok).toBe(true);
    expect(pol.rules.get(priority)!['ruleName']).toBe('netops-allow-dns');
    await replanIsEmpty();
  });

  it('plans the removal of a second owned policy rule with the same rule name at another priority (15.2), and converges', async () => {
    const rules = await h.compile();
    expect((await h.apply(await h.plan(rules), rules)).ok).toBe(true);
    const pol = h.emulator.policies.get('shop-egress')!;
    const ours = [...pol.rules.entries()].filter(([, r]) =>
      String(r['description'] ?? '').includes('bulkhead:model=shop'),
    );
    expect(ours).toHaveLength(1);
    const [priority, owned] = ours[0]!;
    // A copy of the owned rule (same ruleName, same marker) at the next free priority of the band.
    let extra = priority + 1;
    while (pol.rules.has(extra)) extra++;
    pol.rules.set(extra, { ...owned, priority: extra });
    const plan = await h.plan(rules);
    const policy = plan.targets[0]!.changes.find((c) => c.type === POLICY_TYPE);
    expect(policy?.childChanges.map((c) => [c.action, c.key])).toEqual([['delete', String(extra)]]);
    expect(plan.summary).toEqual({ add: 0, change: 1, destroy: 0 });
    expect((await h.apply(plan, rules)).ok).toBe(true);
    expect([...pol.rules.keys()]).toContain(priority);
    expect([...pol.rules.keys()]).not.toContain(extra);
    await replanIsEmpty();
  });

  it('rejects the same name twice (alreadyExists) and reports how to adopt', async () => {
    const rules = await h.compile();
    const plan = await h.plan(rules);
    const first = plan.targets[0]!.changes.find((c) => c.type === FIREWALL_TYPE)!;
    // Someone creates a rule with the planned name (no marker) between plan and apply.
    h.emulator.seedFirewall({
      name: first.name,
      network: 'global/networks/shop-vpc',
      allowed: [{ IPProtocol: 'icmp' }],
    });
    const report = await h.apply(plan, rules);
    const failed = report.outcomes.find((o) => o.address === first.address)!;
    expect(failed.status).toBe('failed');
    expect(failed.code).toBe('alreadyExists');
    expect(failed.error).toMatch(/adopt/);
  });
});
