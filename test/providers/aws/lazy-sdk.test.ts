import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// The speed issue (11.0): render, validate and snapshot reads never load @aws-sdk. A fresh Node
// process runs them (test/helpers/aws/sdk-probe.ts) and counts the SDK modules it loaded; the
// `live` run loads the SDK on purpose, so a probe that could not see it would fail there.

const run = async (mode: 'offline' | 'live') => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', 'test/helpers/aws/sdk-probe.ts', mode],
    {
      env: { ...process.env, NODE_OPTIONS: '' },
      timeout: 90_000,
    },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as { targets: number; resources: number; sdkModules: number };
};

describe('AWS SDK loading', () => {
  it('validate, render, CLI JSON and a snapshot plan load no @aws-sdk module; the live paths do', async () => {
    const [offline, live] = await Promise.all([run('offline'), run('live')]);
    expect(offline.targets).toBe(1);
    expect(offline.resources).toBeGreaterThan(0);
    expect(offline.sdkModules).toBe(0);
    expect(live.sdkModules).toBeGreaterThan(0);
  }, 120_000);
});
