import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';

describe('cli', () => {
  it('prints its version', async () => {
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('rejects an unknown command with exit code 1 and no stack trace', async () => {
    const r = await runCli(['frobnicate']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: (unknown command|too many arguments)/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
