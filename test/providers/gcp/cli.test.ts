import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/cli.js';
import { startComputeEmulator, type ComputeEmulator } from '../../helpers/gcp/compute-emulator.js';

/**
 * The command line against the Compute emulator (BULKHEAD_GCP_ENDPOINT, plain http, no
 * credentials): apply, re-plan, drift, export, then plan offline against the export. The model has
 * no FQDN, so nothing is resolved through DNS (tests never leave 127.0.0.1).
 */

const MODEL = `bulkhead: 1
name: shop
targets:
  gcp-prod: { gcp: { project: shop-prod, network: shop-vpc } }
services:
  https: tcp/443
segments:
  lb:  { ingress: [{ from: internet, ports: [https] }] }
  web: { ingress: [{ from: lb, ports: [tcp/8080] }] }
  app: { ingress: [{ from: web, ports: [tcp/9000-9010] }] }
`;

let emu: ComputeEmulator;
let dir: string;
let env: Record<string, string>;

beforeEach(async () => {
  emu = await startComputeEmulator({ project: 'shop-prod', operationPolls: 1 });
  dir = await mkdtemp(join(tmpdir(), 'bulkhead-gcp-cli-'));
  await writeFile(join(dir, 'bulkhead.yaml'), MODEL);
  env = { BULKHEAD_GCP_ENDPOINT: emu.url };
});

afterEach(async () => {
  const violations = [...emu.violations];
  await emu.close();
  await rm(dir, { recursive: true, force: true });
  expect(violations).toEqual([]);
});

describe('bulkhead with the gcp provider', () => {
  it('applies, re-plans empty, reports drift, exports, and plans the export offline', async () => {
    const applied = await runCli(['apply', '--auto-approve'], { cwd: dir, env });
    expect(applied.code).toBe(0);
    const names = [...emu.firewalls.keys()];
    expect(names.length).toBeGreaterThan(5);
    expect(names.every((n) => n.startsWith('shop-'))).toBe(true);

    const again = await runCli(['plan', '--detailed-exitcode'], { cwd: dir, env });
    expect(again.code).toBe(0);

    // Out of band: someone opens ssh on the web rule.
    const web = [...emu.firewalls.values()].find((f) => f.name.startsWith('shop-web-in-lb'))!;
    emu.firewalls.set(web.name, { ...web, allowed: [{ IPProtocol: 'tcp', ports: ['22', '8080'] }] });
    const drift = await runCli(['drift'], { cwd: dir, env });
    expect(drift.code).toBe(2);
    expect(drift.stdout).toContain(web.name);

    const exported = await runCli(['export', '--out', 'snap', '--no-dns'], { cwd: dir, env });
    expect(exported.code).toBe(0);
    const rules = JSON.parse(await readFile(join(dir, 'snap/gcp-prod/firewall-rules.json'), 'utf8')) as {
      name: string;
    }[];
    expect(rules.map((r) => r.name).sort()).toEqual(names.sort());
    const offline = await runCli(['plan', '--snapshots', 'snap'], { cwd: dir });
    expect(offline.stdout).toContain('Plan: 0 to add, 1 to change, 0 to destroy.');
  });
});
