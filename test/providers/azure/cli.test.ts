import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/cli.js';
import { NSG, RG, startAzureHarness, type AzureHarness } from '../../helpers/azure/harness.js';

/**
 * The commands with the registered Azure provider (DefaultAzureCredential, endpoint from
 * BULKHEAD_AZURE_ENDPOINT: a loopback http endpoint drops the bearer policy, so no token is ever
 * requested). The model has no FQDN, so nothing is resolved through DNS.
 */

const MODEL = `bulkhead: 1
name: tiny
targets:
  azure-e2e: { azure: { subscription: 00000000-0000-0000-0000-000000000000, resourceGroup: ${RG}, location: westeurope, nsg: ${NSG} } }
services:
  https: tcp/443
segments:
  web: { ingress: [{ from: internet, ports: [https] }] }
  app: { ingress: [{ from: web, ports: [tcp/8080] }] }
`;

let h: AzureHarness;
let dir: string;

beforeEach(async () => {
  h = await startAzureHarness();
  h.emulator.lroRetryAfter = 0;
  dir = await mkdtemp(join(tmpdir(), 'bulkhead-azure-cli-'));
  await writeFile(join(dir, 'tiny.yaml'), MODEL);
});

afterEach(async () => {
  const violations = [...h.emulator.violations];
  await h.close();
  await rm(dir, { recursive: true, force: true });
  expect(violations).toEqual([]);
});

describe('azure through the CLI', () => {
  it('plan → apply → drift is clean; an out-of-band edit is drift (exit 2)', async () => {
    const env = { BULKHEAD_AZURE_ENDPOINT: h.emulator.url };
    const plan = await runCli(['plan', 'tiny.yaml', '--detailed-exitcode'], { cwd: dir, env });
    expect(plan.stderr).not.toMatch(/Error/);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain('Plan: 3 to add, 0 to change, 0 to destroy.');
    const apply = await runCli(['apply', 'tiny.yaml', '--auto-approve'], { cwd: dir, env });
    expect(apply.code, apply.stderr).toBe(0);
    expect(h.emulator.asgNames(RG)).toEqual(['tiny-app', 'tiny-web']);
    const clean = await runCli(['drift', 'tiny.yaml'], { cwd: dir, env });
    expect(clean.code).toBe(0);
    // export writes what plan --snapshots reads: planning against it right after the apply is empty.
    const exported = await runCli(['export', 'tiny.yaml', '--out', 'snap'], { cwd: dir, env });
    expect(exported.code).toBe(0);
    expect(exported.stdout.split('\n').filter(Boolean).sort()).toEqual([
      'snap/azure-e2e/asgs.json',
      'snap/azure-e2e/nsg.json',
    ]);
    const offline = await runCli(['plan', 'tiny.yaml', '--snapshots', 'snap', '--detailed-exitcode'], {
      cwd: dir,
      env: {},
    });
    expect(offline.code).toBe(0);
    await h.client.securityRules.beginDeleteAndWait(RG, NSG, 'tiny-deny-all-in', { updateIntervalInMs: 1 });
    const drift = await runCli(['drift', 'tiny.yaml', '--format', 'json'], { cwd: dir, env });
    expect(drift.code).toBe(2);
    expect(drift.stdout).toContain('tiny-deny-all-in');
  });

  it('with nsgs: plan → apply → export → plan --snapshots is empty; a misspelt segment fails validate at its line and column', async () => {
    const env = { BULKHEAD_AZURE_ENDPOINT: h.emulator.url };
    await writeFile(
      join(dir, 'tiny.yaml'),
      MODEL.replace(`nsg: ${NSG}`, 'nsgs: { tiny-front: [web], tiny-back: [app] }'),
    );
    const apply = await runCli(['apply', 'tiny.yaml', '--auto-approve'], { cwd: dir, env });
    expect(apply.code, apply.stderr).toBe(0);
    expect(h.emulator.nsgJson(RG, 'tiny-front')).toBeDefined();
    expect(h.emulator.nsgJson(RG, 'tiny-back')).toBeDefined();
    const exported = await runCli(['export', 'tiny.yaml', '--out', 'snap'], { cwd: dir, env });
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout.split('\n').filter(Boolean).sort()).toEqual([
      'snap/azure-e2e/asgs.json',
      'snap/azure-e2e/nsgs/tiny-back.json',
      'snap/azure-e2e/nsgs/tiny-front.json',
    ]);
    const offline = await runCli(['plan', 'tiny.yaml', '--snapshots', 'snap', '--detailed-exitcode'], {
      cwd: dir,
      env: {},
    });
    expect(offline.code, offline.stdout + offline.stderr).toBe(0);
    const drift = await runCli(['drift', 'tiny.yaml'], { cwd: dir, env });
    expect(drift.code).toBe(0);

    await writeFile(
      join(dir, 'bad.yaml'),
      MODEL.replace(`nsg: ${NSG}`, 'nsgs: { tiny-front: [wbe], tiny-back: [app] }'),
    );
    const bad = await runCli(['validate', 'bad.yaml'], { cwd: dir });
    expect(bad.code).toBe(1);
    const line = MODEL.split('\n').findIndex((l) => l.includes(`nsg: ${NSG}`)) + 1;
    const column = MODEL.split('\n')[line - 1]!.indexOf(`nsg: ${NSG}`) + 'nsgs: { tiny-front: ['.length + 1;
    expect(bad.stderr).toContain(
      `bad.yaml:${line}:${column}: error: target azure-e2e: NSG tiny-front lists "wbe", which is not a segment or tier of the model; did you mean "web"?`,
    );
    expect(bad.stderr).not.toMatch(/at .*\.ts:\d+/); // no stack trace
  });
});
