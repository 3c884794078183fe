import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGcpProvider } from '../../../providers/gcp/index.js';
import { toGcpCliJson } from '../../../providers/gcp/cli-json.js';
import { createGcpClients, type GcpClients } from '../../../providers/gcp/read.js';
import { compileFile } from '../../../src/compile/index.js';
import type { RuleSet } from '../../../src/compile/types.js';
import { allDiagnostics, createPlan } from '../../../src/plan/create-plan.js';
import { startComputeEmulator, type ComputeEmulator } from '../../helpers/gcp/compute-emulator.js';

// Issue 11.6: a plan's reads stay minimal at estate scale. The VPC firewall rules of a
// 1,000-segment model (~1,000 rules) seeded into the Compute emulator as if applied, then planned
// through the real REST clients: one `firewalls.list` per page, and no call per rule.
const SEGMENTS = 1000;
const PAGE = 100;

function model(): string {
  const lines = [
    'bulkhead: 1',
    'name: estate',
    'targets:',
    '  gcp-prod: { gcp: { project: estate-prod, network: estate-vpc } }',
    'segments:',
  ];
  for (let i = 0; i < SEGMENTS; i++)
    lines.push(`  s${i}: { ingress: [{ from: s${(i + 1) % SEGMENTS}, ports: [tcp/443] }] }`);
  return `${lines.join('\n')}\n`;
}

let emulator: ComputeEmulator;
let clients: GcpClients;
let dir: string;
let rules: RuleSet;

beforeAll(async () => {
  emulator = await startComputeEmulator({ project: 'estate-prod' });
  clients = await createGcpClients(emulator.url);
  dir = await mkdtemp(join(tmpdir(), 'bulkhead-gcp-counts-'));
  await writeFile(join(dir, 'estate.yaml'), model());
  const r = await compileFile(join(dir, 'estate.yaml'));
  if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  rules = r.value;
}, 120_000);

afterAll(async () => {
  await clients?.close();
  await emulator?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe(`GCP reads of a ${SEGMENTS}-segment plan`, () => {
  it('lists the firewall rules one page at a time and reads nothing per rule', async () => {
    // The project's quota raised for the estate (the default of 100 would refuse the model).
    const provider = createGcpProvider({
      clients: () => ({ ...clients, close: async () => undefined }),
      pageSize: PAGE,
      firewallQuota: 10_000,
    });
    const target = rules.targets[0]!;
    const desired = toGcpCliJson(provider.render(rules, target, { resolved: new Map() }), target) as ({
      name: string;
    } & Record<string, unknown>)[];
    expect(desired.length).toBeGreaterThanOrEqual(SEGMENTS);
    for (const { kind: _kind, selfLink: _self, ...fw } of desired)
      emulator.seedFirewall(fw as { name: string } & Record<string, unknown>);
    emulator.resetCalls();

    const plan = await createPlan(rules, {
      providers: () => provider,
      source: () => ({ kind: 'live' as const, endpoint: emulator.url }),
      resolver: async () => ({ ipv4: [], ipv6: [] }),
    });
    expect(
      allDiagnostics(plan)
        .filter((d) => d.severity === 'error')
        .map((d) => d.message),
    ).toEqual([]);
    expect(plan.targets[0]!.changes).toEqual([]);
    const methods = emulator.calls.map((c) => c.method);
    expect(methods.filter((m) => m === 'firewalls.list')).toHaveLength(Math.ceil(desired.length / PAGE));
    expect(
      methods.filter((m) => m !== 'firewalls.list'),
      'no call per rule',
    ).toEqual([]);
  }, 300_000);
});
