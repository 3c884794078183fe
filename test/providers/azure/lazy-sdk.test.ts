import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/**
 * Issue 11.0: no SDK is loaded unless the command talks to Azure. A child process runs the Azure
 * provider's validate, render and snapshot read under a module hook that makes every @azure/*
 * import fail; the same child building a live client is the control that the hook does bite.
 */

const REPO = resolve(import.meta.dirname, '../../..');
const run = promisify(execFile);

function child(mode: 'offline' | 'live') {
  return run(
    process.execPath,
    [
      '--import',
      'tsx',
      '--import',
      './test/helpers/azure/forbid-azure-sdk.mjs',
      'test/helpers/azure/no-sdk-child.ts',
      mode,
    ],
    {
      cwd: REPO,
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '' },
      timeout: 60_000,
    },
  ).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({
      code: e.code ?? -1,
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? '',
    }),
  );
}

describe('azure provider loads no SDK offline', () => {
  it('validates, renders and reads a snapshot without importing @azure/*', async () => {
    const r = await child('offline');
    expect(r.stderr).not.toContain('forbidden');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { rendered: number; read: number };
    expect(out.rendered).toBeGreaterThan(4);
    expect(out.read).toBeGreaterThan(4);
  }, 90_000);

  it('control: building the live client does import the SDK, and the hook stops it', async () => {
    const r = await child('live');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('forbidden: @azure/');
  }, 90_000);
});
