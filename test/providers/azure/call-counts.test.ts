import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyPlan } from '../../../src/apply/apply-plan.js';
import { compileFile } from '../../../src/compile/index.js';
import type { RuleSet } from '../../../src/compile/types.js';
import { allDiagnostics, createPlan } from '../../../src/plan/create-plan.js';
import { AZURE_TYPES } from '../../../providers/azure/render.js';
import { NSG, RG, startAzureHarness, SUBSCRIPTION, type AzureHarness } from '../../helpers/azure/harness.js';

// Issue 11.6: a plan's reads stay minimal at estate scale. A 1,000-segment model (1,000 ASGs, one
// NSG with ~500 rules, or the same segments spread over 50 NSGs with `nsgs`) applied to the ARM
// emulator, then planned: each NSG, every rule in it, is ONE GET; the ASGs are one list call per page of the resource group's ASGs; nothing per object.
// One NSG's rules may name at most 100 ASGs (Azure's limit), so 100 segments have rules: 50 pairs
// of segments, and ingress from 4 CIDR entities into each of the 100.
const SEGMENTS = 1000;
const FLOWS = 50;
const ENTITIES = 4;

/** With `nsgs`: 50 NSGs of 20 consecutive segments each (`estate-0: [s0 … s19]`, …). */
const NSGS = 50;

function model(spread = false): string {
  const per = SEGMENTS / NSGS;
  const nsgKey = spread
    ? `nsgs: { ${Array.from({ length: NSGS }, (_, g) => `estate-${g}: [${Array.from({ length: per }, (_, k) => `s${g * per + k}`).join(', ')}]`).join(', ')} }`
    : `nsg: ${NSG}`;
  const lines = [
    'bulkhead: 1',
    'name: estate',
    'targets:',
    `  azure-prod: { azure: { subscription: ${SUBSCRIPTION}, resourceGroup: ${RG}, location: westeurope, ${nsgKey} } }`,
    'entities:',
    ...Array.from({ length: ENTITIES }, (_, e) => `  net${e}: { cidrs: [198.51.${100 + e}.0/24] }`),
    'segments:',
  ];
  const fromEntities = Array.from({ length: ENTITIES }, (_, e) => `{ from: net${e}, ports: [tcp/${8000 + e}] }`);
  for (let i = 0; i < SEGMENTS; i++) {
    const ingress = [
      ...(i < FLOWS ? [`{ from: s${i + FLOWS}, ports: [tcp/443] }`] : []),
      ...(i < 2 * FLOWS ? fromEntities : []),
    ];
    lines.push(`  s${i}: { ingress: [${ingress.join(', ')}] }`);
  }
  return `${lines.join('\n')}\n`;
}

for (const spread of [false, true]) {
  describe(`Azure reads of a ${SEGMENTS}-segment plan${spread ? ` spread over ${NSGS} NSGs (nsgs)` : ''}`, () => {
    let h: AzureHarness;
    let dir: string;
    let rules: RuleSet;

    beforeAll(async () => {
      h = await startAzureHarness();
      // Pages of 100 ASGs (the emulator's default of 3 would make this 334 pages of a list ARM pages by the thousand).
      h.emulator.pageSize = 100;
      dir = await mkdtemp(join(tmpdir(), 'bulkhead-azure-counts-'));
      await writeFile(join(dir, 'estate.yaml'), model(spread));
      const r = await compileFile(join(dir, 'estate.yaml'));
      if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
      rules = r.value;
    }, 120_000);

    afterAll(async () => {
      await h?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    const options = () => ({
      providers: () => h.provider,
      source: () => ({ kind: 'live' as const }),
      resolver: async () => ({ ipv4: [], ipv6: [] }),
    });
    const nsgCount = spread ? NSGS : 1;

    it(`reads ${spread ? 'each NSG with exactly one GET' : 'the NSG with one GET'} and the ASGs one page at a time, whatever the number of rules`, async () => {
      const first = await createPlan(rules, options());
      expect(
        allDiagnostics(first)
          .filter((d) => d.severity === 'error')
          .map((d) => d.message),
      ).toEqual([]);
      await applyPlan(first, rules, { ...options(), parallelism: 8, retries: 0 });

      const from = h.emulator.calls.length;
      const plan = await createPlan(rules, options());
      const calls = h.emulator.calls.slice(from);
      expect(plan.targets[0]!.changes).toEqual([]);
      const nsgs = plan.targets[0]!.prior.filter((r) => r.type === AZURE_TYPES.nsg);
      expect(nsgs).toHaveLength(nsgCount);
      // Every rule came with the GETs: the segment pairs (both directions) and the entities' ingress.
      expect(nsgs.reduce((n, r) => n + r.children.length, 0)).toBeGreaterThanOrEqual(2 * FLOWS + 2 * FLOWS * ENTITIES);

      const nsgGets = calls.filter((c) => c.method === 'GET' && /\/networkSecurityGroups\/[^/]+$/i.test(c.path));
      const asgLists = calls.filter((c) => c.method === 'GET' && /\/applicationSecurityGroups$/i.test(c.path));
      // Exactly one GET per NSG: no NSG read twice, none per rule.
      expect(nsgGets).toHaveLength(nsgCount);
      expect(new Set(nsgGets.map((c) => c.path.toLowerCase())).size).toBe(nsgCount);
      expect(asgLists.length).toBeLessThanOrEqual(Math.ceil(SEGMENTS / h.emulator.pageSize));
      expect(calls.filter((c) => c.method !== 'GET')).toEqual([]);
      // Nothing per object: every call is one of those (or the firewall policy's, absent here).
      expect(calls.length, calls.map((c) => `${c.method} ${c.path}`).join('\n')).toBeLessThanOrEqual(
        nsgCount + Math.ceil(SEGMENTS / h.emulator.pageSize) + 2,
      );
    }, 300_000);
  });
}
