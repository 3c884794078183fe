import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { median } from '../../bench/stats.js';

const ROOT = resolve(import.meta.dirname, '../..');

describe('the bench figures', () => {
  it('take the middle run, or the mean of the middle two, in any order', () => {
    expect(median([30, 10, 20])).toBe(20);
    expect(median([40, 10, 30, 20])).toBe(25);
    expect(median([7])).toBe(7);
  });

  // Before the model is built: one line naming the bad size, exit 2, no stack trace.
  it.each([
    ['bench:floor', ['bench/floor.ts', '1000', '10k'], {}, 'bench: bench:floor: "10k" is not a number of segments'],
    ['BENCH_SIZES', ['bench/run.ts'], { BENCH_SIZES: '1000,0' }, 'bench: BENCH_SIZES: "0" is not a number of segments'],
  ])('refuse a size that is not a number of segments (%s)', (_, args, env, message) => {
    const out = spawnSync(process.execPath, ['--import', 'tsx', ...args], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, ...env },
      timeout: 60_000,
    });
    expect(out.status).toBe(2);
    expect(out.stdout).toBe('');
    expect(out.stderr.trim().split('\n')).toEqual([expect.stringContaining(message)]);
  });
});
