import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/**
 * Issue 11.0: no SDK is loaded unless the command talks to the cloud. The provider module and
 * everything it imports at load time use type-only imports of `@google-cloud/compute` and
 * `google-auth-library`; read/apply/export load them with `await import()`. Checked in a fresh
 * Node process (this worker may have loaded the SDK for other tests).
 */

const run = promisify(execFile);
const repo = join(import.meta.dirname, '../../..');

describe('gcp provider loading', () => {
  it('runs render, validate and a snapshot read without loading the Google SDK, and loads it for live clients', async () => {
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', join(repo, 'test/helpers/gcp/sdk-load-probe.ts'), 'live'],
      {
        cwd: repo,
        env: { ...process.env, METADATA_SERVER_DETECTION: 'none' },
        timeout: 120_000,
      },
    );
    const out = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, number>;
    expect(out['rendered']).toBeGreaterThan(0);
    expect(out['read']).toBeGreaterThan(0);
    expect(out['errors']).toBe(0);
    expect(out['sdk']).toBe(0);
    // The probe's detection works: making clients does load the SDK.
    expect(out['sdkAfterClients']).toBeGreaterThan(0);
  }, 150_000);
});
