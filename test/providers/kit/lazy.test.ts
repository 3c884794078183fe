import { describe, expect, it } from 'vitest';
import type { Applier, ApplyStep } from '../../../src/provider.js';
import { lazyApplier, once } from '../../../providers/kit/lazy.js';

const step = (id: string) => ({ id }) as unknown as ApplyStep;

describe('kit/lazy', () => {
  it('once loads on the first call only, and every caller gets the same promise', async () => {
    let loads = 0;
    const load = once(async () => ++loads);
    expect(loads).toBe(0);
    const [a, b] = await Promise.all([load(), load()]);
    expect([a, b, await load(), loads]).toEqual([1, 1, 1, 1]);
  });

  it('lazyApplier creates nothing until a step runs, then one applier for every step', async () => {
    let created = 0;
    const ran: string[] = [];
    const applier = lazyApplier(async (): Promise<Applier> => {
      created++;
      return { run: async (s) => void ran.push(s.id) };
    });
    expect(created).toBe(0);
    await Promise.all([applier.run(step('a')), applier.run(step('b'))]);
    await applier.run(step('c'));
    expect(created).toBe(1);
    expect(ran.sort()).toEqual(['a', 'b', 'c']);
  });

  it('lazyApplier fails every step with the error of a failed creation', async () => {
    const applier = lazyApplier(async () => {
      throw new Error('no client');
    });
    await expect(applier.run(step('a'))).rejects.toThrow('no client');
    await expect(applier.run(step('b'))).rejects.toThrow('no client');
  });
});
