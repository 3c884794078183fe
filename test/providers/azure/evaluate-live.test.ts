import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyPlan } from '../../../src/apply/apply-plan.js';
import { compileFile } from '../../../src/compile/index.js';
import type { RuleSet } from '../../../src/compile/types.js';
import { createPlan } from '../../../src/plan/create-plan.js';
import { effectiveDrift } from '../../../src/reach/effective-drift.js';
import { explainProbe } from '../../../src/reach/explain.js';
import { prepareTargets } from '../../../src/reach/targets.js';
import { NSG, POLICY, RG, startAzureHarness, type AzureHarness } from '../../helpers/azure/harness.js';

// The Azure evaluator on live state read through the real NetworkManagementClient from the ARM
// emulator: the NSG's rules the model does not own count, next to the model's and the defaults.

const REPO = resolve(import.meta.dirname, '../../..');
const DNS: Record<string, { ipv4: string[]; ipv6: string[] }> = {
  'api.stripe.com': { ipv4: ['192.0.2.10'], ipv6: [] },
  'api.paypal.com': { ipv4: ['192.0.2.20'], ipv6: [] },
};
let h: AzureHarness;
let dir: string;
let rules: RuleSet;
const resolved = new Map(Object.entries(DNS).map(([k, v]) => [k, { ipv4: v.ipv4.map((a) => `${a}/32`), ipv6: [] }]));

beforeAll(async () => {
  h = await startAzureHarness();
  h.emulator.seedFirewallPolicy(RG, POLICY, 'westeurope');
  // Another team's rule in the shared NSG, before the model is applied: it opens tcp/8443 to every NIC.
  h.emulator.seedNsg(RG, NSG, {
    location: 'westeurope',
    rules: [
      {
        name: 'ops-allow-8443',
        properties: {
          protocol: 'Tcp',
          sourcePortRange: '*',
          destinationPortRange: '8443',
          sourceAddressPrefix: 'Internet',
          destinationAddressPrefix: '*',
          access: 'Allow',
          priority: 150,
          direction: 'Inbound',
        },
      },
    ],
  });
  dir = await mkdtemp(join(tmpdir(), 'bulkhead-azure-reach-'));
  await cp(join(REPO, 'policies'), dir, { recursive: true });
  const r = await compileFile(join(dir, 'shop.yaml'));
  if (!r.ok) throw new Error('shop.yaml does not compile');
  rules = r.value;
  const options = {
    providers: () => h.provider,
    source: () => ({ kind: 'live' as const }),
    targets: ['azure-prod'],
    resolver: async (f: string) => DNS[f] ?? { ipv4: [], ipv6: [] },
  };
  const report = await applyPlan(await createPlan(rules, options), rules, options);
  expect(report.outcomes.filter((o) => o.status !== 'done')).toEqual([]);
}, 120_000);

afterAll(async () => {
  await h?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('Azure evaluator on live state (ARM emulator)', () => {
  it('explain: the model flows agree; another team rule opens what the model does not', async () => {
    const { targets } = await prepareTargets(rules, {
      providers: () => h.provider,
      source: () => ({ kind: 'live' }),
      targets: ['azure-prod'],
      resolved,
    });
    const ok = explainProbe(
      rules,
      {
        source: { kind: 'segment', name: 'web' },
        destination: { kind: 'segment', name: 'app' },
        service: { kind: 'ports', protocol: 'tcp', from: 8080, to: 8080 },
      },
      targets,
      resolved,
    );
    expect(ok.targets[0]).toMatchObject({ verdict: 'allow', source: 'live' });
    expect(ok.targets[0]!.disagreement).toBeUndefined();
    const open = explainProbe(
      rules,
      {
        source: { kind: 'address', address: '8.8.8.8' },
        destination: { kind: 'segment', name: 'db' },
        service: { kind: 'ports', protocol: 'tcp', from: 8443, to: 8443 },
      },
      targets,
      resolved,
    );
    expect(open.model.verdict).toBe('deny');
    expect(open.targets[0]).toMatchObject({ verdict: 'allow', disagreement: { cause: 'unowned-rule' } });
    expect(open.targets[0]!.rules[0]).toMatchObject({ rule: 'ops-allow-8443', owned: false, priority: 150 });
    // The guardrail deny (lowest priorities) still closes SSH from the internet, before any allow.
    const ssh = explainProbe(
      rules,
      {
        source: { kind: 'address', address: '8.8.8.8' },
        destination: { kind: 'segment', name: 'db' },
        service: { kind: 'ports', protocol: 'tcp', from: 22, to: 22 },
      },
      targets,
      resolved,
    );
    expect(ssh.targets[0]).toMatchObject({ verdict: 'deny' });
    expect(ssh.targets[0]!.disagreement).toBeUndefined();
    const [report] = effectiveDrift(rules, targets, resolved);
    expect(new Set(report!.findings.map((f) => `${f.service} ${f.disagreement?.cause}`))).toEqual(
      new Set(['tcp/8443 unowned-rule']),
    );
  });
});
