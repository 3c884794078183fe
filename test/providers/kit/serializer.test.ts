import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createKeyedSerializer } from '../../../providers/kit/serializer.js';

/** A promise with its resolver (to hold a call open until the test lets it go). */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = () => {};
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** Lets every queued microtask and timer-free continuation run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('createKeyedSerializer', () => {
  it('never overlaps two calls of one key and runs them in call order', async () => {
    const s = createKeyedSerializer();
    const log: string[] = [];
    const g1 = gate();
    const a = s.run('nsg', async () => {
      log.push('a start');
      await g1.promise;
      log.push('a end');
      return 'a';
    });
    const b = s.run('nsg', async () => {
      log.push('b start');
      return 'b';
    });
    await settle();
    expect(log).toEqual(['a start']);
    g1.open();
    expect(await Promise.all([a, b])).toEqual(['a', 'b']);
    expect(log).toEqual(['a start', 'a end', 'b start']);
  });

  it('runs different keys in parallel', async () => {
    const s = createKeyedSerializer();
    const g = gate();
    const started: string[] = [];
    const a = s.run('one', async () => {
      started.push('one');
      await g.promise;
    });
    const b = s.run('two', async () => {
      started.push('two');
      await g.promise;
    });
    await settle();
    expect(started).toEqual(['one', 'two']);
    g.open();
    await Promise.all([a, b]);
  });

  it('releases the key when a call fails, and the failure reaches only its caller', async () => {
    const s = createKeyedSerializer();
    const a = s.run('k', async () => {
      throw new Error('boom');
    });
    const b = s.run('k', async () => 'after');
    await expect(a).rejects.toThrow('boom');
    await expect(b).resolves.toBe('after');
    expect(s.busyKeys()).toEqual([]);
  });

  it('releases the key when a call throws synchronously', async () => {
    const s = createKeyedSerializer();
    const a = s.run('k', (() => {
      throw new Error('sync');
    }) as () => Promise<void>);
    await expect(a).rejects.toThrow('sync');
    await expect(s.run('k', async () => 1)).resolves.toBe(1);
  });

  it('holds at most one call per key at any time, for random interleavings, and ends idle', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ key: fc.constantFrom('a', 'b', 'c'), fail: fc.boolean(), yields: fc.nat(3) }), {
          minLength: 1,
          maxLength: 25,
        }),
        async (calls) => {
          const s = createKeyedSerializer();
          const running = new Map<string, number>();
          let maxPerKey = 0;
          let maxOverall = 0;
          const order = new Map<string, number[]>();
          const all = calls.map((c, i) =>
            s
              .run(c.key, async () => {
                running.set(c.key, (running.get(c.key) ?? 0) + 1);
                maxPerKey = Math.max(maxPerKey, running.get(c.key)!);
                maxOverall = Math.max(
                  maxOverall,
                  [...running.values()].reduce((x, y) => x + y, 0),
                );
                order.set(c.key, [...(order.get(c.key) ?? []), i]);
                for (let y = 0; y < c.yields; y++) await settle();
                running.set(c.key, running.get(c.key)! - 1);
                if (c.fail) throw new Error(`call ${i}`);
                return i;
              })
              .catch(() => -1),
          );
          await Promise.all(all);
          expect(maxPerKey).toBe(1);
          // Call order per key is kept.
          for (const idx of order.values()) expect(idx).toEqual([...idx].sort((x, y) => x - y));
          expect(s.busyKeys()).toEqual([]);
          // Different keys did overlap whenever two keys were used with some waiting.
          if (new Set(calls.map((c) => c.key)).size > 1 && calls.every((c) => c.yields > 0))
            expect(maxOverall).toBeGreaterThan(1);
        },
      ),
      { numRuns: 60 },
    );
  });
});
