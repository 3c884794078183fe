import { describe, expect, it } from 'vitest';
import { boundedMemo } from '../src/bounded-memo.js';

describe('boundedMemo', () => {
  it('computes each key once, forgets everything when full, and never caches a throw', () => {
    const calls: string[] = [];
    const f = boundedMemo((k: string) => {
      calls.push(k);
      if (k === 'bad') throw new Error('bad input');
      return k.length;
    }, 2);
    expect([f('a'), f('bb'), f('a')]).toEqual([1, 2, 1]);
    expect(calls).toEqual(['a', 'bb']);
    f('ccc'); // full: cleared, then 'ccc' cached
    f('a');
    expect(calls).toEqual(['a', 'bb', 'ccc', 'a']);
    expect(() => f('bad')).toThrow('bad input');
    expect(() => f('bad')).toThrow('bad input');
    expect(calls.filter((k) => k === 'bad')).toHaveLength(2);
  });
});
