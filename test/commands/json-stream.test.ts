import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { writeJson } from '../../src/commands/json-stream.js';
import type { Json } from '../../src/plan/types.js';

// `render --json` writes its JSON in pieces (issue 11: no 400 MB string at 10,000 segments);
// the bytes must be JSON.stringify(value, null, 2)'s, whatever the value and the piece sizes.
function streamed(value: Json, options: { leafNodes?: number; chunk?: number } = {}): { text: string; writes: number } {
  const parts: string[] = [];
  writeJson(value, (t) => parts.push(t), options);
  return { text: parts.join(''), writes: parts.length };
}

describe('writeJson', () => {
  it('writes exactly JSON.stringify(value, null, 2), whatever is walked and what is stringified, at any chunk size', () => {
    fc.assert(
      fc.property(
        fc.jsonValue({ maxDepth: 6 }),
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 1, max: 64 }),
        (value, leafNodes, chunk) => {
          expect(streamed(value as Json, { leafNodes, chunk }).text).toBe(JSON.stringify(value, null, 2));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('writes deep lists of small items in batches with the indentation JSON.stringify gives them', () => {
    // Items at nesting 1 to 5, batched (leafNodes 7: a few items a batch) and walked around big ones.
    const item = (i: number) => ({ name: `r-${i}`, ports: ['443', `${i}`], nested: { on: i % 2 === 0 } });
    let value: Json = Array.from({ length: 40 }, (_, i) =>
      i % 13 === 5 ? { big: Array.from({ length: 9 }, (_, k) => item(k)) } : item(i),
    );
    for (let level = 0; level < 5; level++) {
      expect(streamed(value, { leafNodes: 7 }).text).toBe(JSON.stringify(value, null, 2));
      expect(streamed(value).text).toBe(JSON.stringify(value, null, 2));
      value = { level, items: value, tail: [value, []] } as Json;
    }
  });

  it('leaves out undefined values of objects and writes null for undefined items, as JSON.stringify does', () => {
    const value = { a: undefined, b: [1, undefined, { c: undefined, d: 'x\ny' }], e: {}, f: [] } as unknown as Json;
    expect(streamed(value).text).toBe(JSON.stringify(value, null, 2));
  });

  it('hands the text over in pieces of about the chunk size (or one batch), not as one string', () => {
    const value = Array.from({ length: 2000 }, (_, i) => ({ name: `rule-${i}`, ports: ['443', '8080-8090'] }));
    const parts: string[] = [];
    // A batch is at most leafNodes values (60: 12 items of 5, ~80 characters each).
    writeJson(value, (t) => parts.push(t), { chunk: 4096, leafNodes: 60 });
    const text = parts.join('');
    expect(text).toBe(JSON.stringify(value, null, 2));
    expect(parts.length).toBeGreaterThan(text.length / 8192);
    expect(Math.max(...parts.map((p) => p.length))).toBeLessThan(4096 + 1200);
    // With the default batch (2,000 values), pieces of about the chunk size still.
    expect(streamed(value, { chunk: 16384 }).writes).toBeGreaterThan(text.length / 65536);
  });
});
