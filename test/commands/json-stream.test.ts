import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { writeJson } from '../../src/commands/json-stream.js';
import type { Json } from '../../src/plan/types.js';

// `render --json` writes its JSON in pieces (issue 11: no 400 MB string at 10,000 segments);
// the bytes must be JSON.stringify(value, null, 2)'s, whatever the value and the piece sizes.
function streamed(value: Json, options: { depth?: number; chunk?: number } = {}): { text: string; writes: number } {
  const parts: string[] = [];
  writeJson(value, (t) => parts.push(t), options);
  return { text: parts.join(''), writes: parts.length };
}

describe('writeJson', () => {
  it('writes exactly JSON.stringify(value, null, 2), at any depth and chunk size', () => {
    fc.assert(
      fc.property(
        fc.jsonValue({ maxDepth: 5 }),
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 1, max: 64 }),
        (value, depth, chunk) => {
          expect(streamed(value as Json, { depth, chunk }).text).toBe(JSON.stringify(value, null, 2));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('leaves out undefined values of objects and writes null for undefined items, as JSON.stringify does', () => {
    const value = { a: undefined, b: [1, undefined, { c: undefined, d: 'x\ny' }], e: {}, f: [] } as unknown as Json;
    expect(streamed(value).text).toBe(JSON.stringify(value, null, 2));
  });

  it('hands the text over in pieces of about the chunk size, not as one string', () => {
    const value = Array.from({ length: 2000 }, (_, i) => ({ name: `rule-${i}`, ports: ['443', '8080-8090'] }));
    const { text, writes } = streamed(value, { chunk: 4096 });
    expect(text).toBe(JSON.stringify(value, null, 2));
    expect(writes).toBeGreaterThan(text.length / 8192);
  });
});
