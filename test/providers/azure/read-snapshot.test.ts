import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAzureProvider } from '../../../providers/azure/index.js';
import { createNetworkClient, resolveEndpoint } from '../../../providers/azure/read.js';
import { AZURE_TYPES } from '../../../providers/azure/render.js';
import { ProviderError } from '../../../src/errors.js';
import { runCli } from '../../helpers/cli.js';
import { shopRules } from '../../helpers/rulesets.js';
import {
  emulatorTarget,
  FAKE_CREDENTIAL,
  RG,
  NSG,
  POLICY,
  startAzureHarness,
  type AzureHarness,
} from '../../helpers/azure/harness.js';
import { applyPlan } from '../../../src/apply/apply-plan.js';
import { createPlan } from '../../../src/plan/create-plan.js';
import { buildSteps } from '../../../src/apply/build-steps.js';
import { compileFile } from '../../../src/compile/index.js';

const REPO = resolve(import.meta.dirname, '../../..');

describe('azure snapshot mode and CLI JSON', () => {
  it('plans the bundled azure-prod snapshot: creates, updates and deletes, leaving unowned objects alone', async () => {
    const r = await runCli(
      ['plan', 'policies/shop.yaml', '--snapshots', 'policies/snapshots/shop', '--target', 'azure-prod', '--json'],
      { cwd: REPO },
    );
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout) as {
      summary: { add: number; change: number; destroy: number };
      targets: { changes: { action: string; address: string; childChanges: { action: string; key: string }[] }[] }[];
    };
    expect(plan.summary).toEqual({ add: 1, change: 2, destroy: 1 });
    const changes = plan.targets[0]!.changes;
    expect(changes.map((c) => `${c.action} ${c.address}`)).toEqual([
      'delete azure-prod.azure_application_security_group.shop-batch',
      'create azure-prod.azure_application_security_group.shop-db',
      'update azure-prod.azure_firewall_policy_rule_collection_group.shop-fqdn-egress',
      'update azure-prod.azure_network_security_group.shop-prod',
    ]);
    const keys = changes.flatMap((c) => c.childChanges.map((cc) => cc.key));
    expect(keys.some((k) => k.startsWith('ops-'))).toBe(false);
    expect(r.stdout).not.toContain('bastion');
  });

  it("plans the bundled snapshot's removed segment make-before-break: the ASG delete waits for the NSG step removing its rules", async () => {
    const compiled = await compileFile(join(REPO, 'policies/shop.yaml'));
    if (!compiled.ok) throw new Error('shop.yaml does not compile');
    const provider = createAzureProvider({ credential: FAKE_CREDENTIAL });
    const plan = await createPlan(compiled.value, {
      providers: () => provider,
      source: () => ({ kind: 'snapshot' as const, dir: join(REPO, 'policies/snapshots/shop') }),
      targets: ['azure-prod'],
      resolver: async () => ({ ipv4: [], ipv6: [] }),
      allowUnresolved: true,
    });
    const nsg = plan.targets[0]!.changes.find((c) => c.type === AZURE_TYPES.nsg)!;
    const batchRules = nsg.childChanges.filter(
      (c) =>
        c.action === 'delete' &&
        (c.before?.dependsOn ?? []).includes('azure-prod.azure_application_security_group.shop-batch'),
    );
    expect(batchRules.length).toBeGreaterThan(0);
    const del = buildSteps(plan).find(
      (s) => s.step.id === 'delete:azure-prod.azure_application_security_group.shop-batch',
    )!;
    expect(del.waitsFor).toContain(`remove:${nsg.address}`);
  });

  it('reads the snapshot: owned rules only, never the default rules', async () => {
    const provider = createAzureProvider({ credential: FAKE_CREDENTIAL });
    const target = shopRules([emulatorTarget('azure-prod')]).targets[0]!;
    const state = await provider.read(
      target,
      { kind: 'snapshot', dir: join(REPO, 'policies/snapshots/shop') },
      { model: 'shop' },
    );
    expect(state.source).toBe('snapshot');
    const nsg = state.resources.find((x) => x.type === AZURE_TYPES.nsg)!;
    expect(nsg.children.every((c) => c.key.startsWith('shop-'))).toBe(true);
    expect(nsg.children.some((c) => /DenyAll|AllowVnet/i.test(c.key))).toBe(false);
    expect(state.resources.filter((x) => x.type === AZURE_TYPES.asg).map((x) => x.name)).toEqual([
      'shop-app',
      'shop-batch',
      'shop-lb',
      'shop-web',
    ]);
    expect(state.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('prints `render --provider azure --json` in the shapes of az network nsg show / asg list', async () => {
    const r = await runCli(
      [
        'render',
        'policies/shop.yaml',
        '--provider',
        'azure',
        '--target',
        'azure-prod',
        '--snapshots',
        'policies/snapshots/shop',
        '--json',
      ],
      { cwd: REPO },
    );
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      nsg: { name: string; resourceGroup: string; type: string; securityRules: Record<string, unknown>[] };
      asgs: { name: string; tags: Record<string, string>; type: string; id: string }[];
      ruleCollectionGroup: { name: string; ruleCollections: { rules: { targetFqdns: string[] }[] }[] };
    };
    expect(out.nsg).toMatchObject({
      name: 'shop-prod',
      resourceGroup: 'shop-prod',
      type: 'Microsoft.Network/networkSecurityGroups',
    });
    const lb = out.nsg.securityRules.find((x) => x['name'] === 'shop-in-lb-from-internet-tcp-443')!;
    expect(lb).toMatchObject({
      protocol: 'Tcp',
      access: 'Allow',
      direction: 'Inbound',
      sourceAddressPrefix: 'Internet',
      destinationPortRange: '443',
      sourceAddressPrefixes: [],
      type: 'Microsoft.Network/networkSecurityGroups/securityRules',
    });
    expect((lb['destinationApplicationSecurityGroups'] as { id: string }[])[0]!.id).toMatch(
      /\/applicationSecurityGroups\/shop-lb$/,
    );
    expect(out.asgs.map((a) => a.name)).toEqual(['shop-app', 'shop-db', 'shop-lb', 'shop-web']);
    expect(out.asgs[0]!.tags).toEqual({ 'bulkhead:model': 'shop' });
    expect(out.ruleCollectionGroup.ruleCollections[0]!.rules[0]!.targetFqdns).toEqual([
      'api.paypal.com',
      'api.stripe.com',
    ]);
  });
});

describe('azure read: live, export, ownership', () => {
  let h: AzureHarness;
  let dir: string;
  beforeEach(async () => {
    h = await startAzureHarness();
    h.emulator.seedFirewallPolicy(RG, POLICY, 'westeurope');
    dir = await mkdtemp(join(tmpdir(), 'bulkhead-azure-snap-'));
  });
  afterEach(async () => {
    const violations = [...h.emulator.violations];
    await h.close();
    await rm(dir, { recursive: true, force: true });
    expect(violations).toEqual([]);
  });

  it('exports what read takes in snapshot mode, and both reads agree', async () => {
    const rules = shopRules([emulatorTarget('azure-prod')]);
    const target = rules.targets[0]!;
    const opts = { providers: () => h.provider, source: () => ({ kind: 'live' as const }) };
    await applyPlan(await createPlan(rules, opts), rules, opts);
    h.emulator.seedAsg(RG, 'bastion', { location: 'westeurope', tags: { team: 'ops' } });
    const files = await h.provider.exportSnapshot(target, {});
    expect(files.map((f) => f.path).sort()).toEqual(['asgs.json', 'nsg.json']);
    await mkdir(join(dir, 'azure-prod'));
    for (const f of files) await writeFile(join(dir, 'azure-prod', f.path), f.content);
    const live = await h.provider.read(target, { kind: 'live' }, { model: 'shop' });
    const snap = await h.provider.read(target, { kind: 'snapshot', dir }, { model: 'shop' });
    expect(snap.resources).toEqual(live.resources.map((x) => x));
    expect(snap.fingerprint).toBe(live.fingerprint);
    // The az shape: flattened, with resourceGroup.
    const nsg = JSON.parse(files.find((f) => f.path === 'nsg.json')!.content) as Record<string, unknown>;
    expect(nsg['resourceGroup']).toBe(RG);
    expect(nsg['properties']).toBeUndefined();
    expect(Array.isArray(nsg['defaultSecurityRules'])).toBe(true);
  });

  it('reports an unowned ASG in the way of a segment, with how to adopt it, and a missing firewall policy', async () => {
    h.emulator.seedAsg(RG, 'shop-web', { location: 'westeurope' });
    const rules = shopRules([emulatorTarget('azure-prod', 'no-such-policy')]);
    const state = await h.provider.read(
      rules.targets[0]!,
      { kind: 'live' },
      { model: 'shop', segments: rules.segments },
    );
    const codes = state.diagnostics.map((d) => d.code).sort();
    expect(codes).toEqual(['azure-firewall-policy-missing', 'azure-unowned-in-the-way']);
    const way = state.diagnostics.find((d) => d.code === 'azure-unowned-in-the-way')!;
    expect(way.message).toContain('az network asg update -g shop-prod -n shop-web --set tags.bulkhead:model=shop');
    expect(state.resources).toEqual([]);
  });

  it("reads only the model's rules (not those of a model named shop-admin) as children of the NSG", async () => {
    h.emulator.seedNsg(RG, NSG, {
      location: 'westeurope',
      rules: [
        {
          name: 'shop-admin-in-y',
          properties: {
            protocol: 'Tcp',
            sourcePortRange: '*',
            destinationPortRange: '81',
            sourceAddressPrefix: '*',
            destinationAddressPrefix: '*',
            access: 'Allow',
            priority: 301,
            direction: 'Inbound',
          },
        },
        {
          name: 'shop-in-x',
          properties: {
            protocol: 'Tcp',
            sourcePortRange: '*',
            destinationPortRange: '80-80',
            sourceAddressPrefix: '10.0.0.1',
            destinationAddressPrefix: '*',
            access: 'Allow',
            priority: 300,
            direction: 'Inbound',
          },
        },
        {
          name: 'other-rule',
          properties: {
            protocol: '*',
            sourcePortRange: '*',
            destinationPortRange: '*',
            sourceAddressPrefix: '*',
            destinationAddressPrefix: '*',
            access: 'Deny',
            priority: 400,
            direction: 'Inbound',
          },
        },
      ],
    });
    const state = await h.provider.read(emulatorTarget('azure-prod'), { kind: 'live' }, { model: 'shop' });
    const nsg = state.resources.find((x) => x.type === AZURE_TYPES.nsg)!;
    expect(nsg.children.map((c) => [c.key, c.attributes['destinationPorts'], c.attributes['source']])).toEqual([
      ['shop-in-x', ['80'], ['10.0.0.1/32']],
    ]);
  });
});

describe('azure client configuration', () => {
  const target = emulatorTarget('azure-prod');

  it('resolves the endpoint: target, then BULKHEAD_AZURE_ENDPOINT, then the caller, then the options', () => {
    const withEndpoint = {
      ...target,
      azure: { ...(target.kind === 'azure' ? target.azure : ({} as never)), endpoint: 'http://127.0.0.1:1' },
    } as typeof target;
    expect(resolveEndpoint(withEndpoint, { env: { BULKHEAD_AZURE_ENDPOINT: 'http://127.0.0.1:2' } })).toBe(
      'http://127.0.0.1:1',
    );
    expect(
      resolveEndpoint(
        target,
        { env: { BULKHEAD_AZURE_ENDPOINT: 'http://127.0.0.1:2' }, endpoint: 'http://127.0.0.1:4' },
        'http://127.0.0.1:3',
      ),
    ).toBe('http://127.0.0.1:2');
    expect(resolveEndpoint(target, { env: {}, endpoint: 'http://127.0.0.1:4' }, 'http://127.0.0.1:3')).toBe(
      'http://127.0.0.1:3',
    );
    expect(resolveEndpoint(target, { env: {} })).toBeUndefined();
  });

  it('refuses plain http to anything but loopback, and uses https://management.azure.com by default', async () => {
    await expect(
      createNetworkClient(target, {
        env: { BULKHEAD_AZURE_ENDPOINT: 'http://management.example.com' },
        credential: FAKE_CREDENTIAL,
      }),
    ).rejects.toThrow(ProviderError);
    // Constructing the default client makes no request (DefaultAzureCredential is lazy).
    const c = await createNetworkClient(target, { env: {} });
    expect(c.subscriptionId).toBe('00000000-0000-0000-0000-000000000000');
    expect((c as unknown as { $host: string }).$host).toBe('https://management.azure.com');
  });
});
