import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalDigest, canonicalJson, writeCanonicalJson } from '../../src/plan/diff.js';
import type { Json } from '../../src/plan/types.js';

/** The recursive form the streaming writer replaced: its text is the contract (state fingerprints). */
function reference(value: Json | undefined): string {
  if (value === undefined) return 'undefined';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${(value as readonly Json[]).map(reference).join(',')}]`;
  const obj = value as { readonly [key: string]: Json };
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${reference(obj[k])}`).join(',')}}`;
}

// Strings of any UTF-16 code units (quotes, controls, lone surrogates): the writer's escape shortcut must agree.
const anyString = fc.string({ unit: 'binary' });
const json = fc.oneof(
  fc.jsonValue() as fc.Arbitrary<Json>,
  fc.dictionary(anyString, fc.oneof(anyString, fc.array(fc.string({ unit: 'grapheme' })))) as fc.Arbitrary<Json>,
);

describe('canonical JSON', () => {
  it('writes the text the recursive form wrote, for any JSON value (keys sorted, undefined keys left out)', () => {
    fc.assert(
      fc.property(json, fc.dictionary(anyString, fc.option(json, { nil: undefined })), (v, o) => {
        expect(canonicalJson(v)).toBe(reference(v));
        const obj = o as unknown as Json;
        expect(canonicalJson(obj)).toBe(reference(obj));
      }),
      { numRuns: 300 },
    );
  });

  it('writes the text of the recursive form for objects of any key order and depth, holes, undefined and prototype key names', () => {
    // Objects rebuilt with their keys inserted in sorted order: a second shape of the same keys.
    const sortedDeep = (v: Json | undefined): Json | undefined => {
      if (v === null || typeof v !== 'object') return v;
      if (Array.isArray(v)) return (v as readonly (Json | undefined)[]).map(sortedDeep) as Json;
      const obj = v as { readonly [key: string]: Json | undefined };
      const out: { [key: string]: Json | undefined } = {};
      // defineProperty: an own `__proto__` stays an own property.
      for (const k of Object.keys(obj).sort())
        Object.defineProperty(out, k, {
          value: sortedDeep(obj[k]),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      return out as Json;
    };
    const withUndefined = fc.array(fc.option(json, { nil: undefined })) as fc.Arbitrary<Json>;
    const deep = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        json,
        withUndefined,
        fc.array(tie('node')),
        fc.dictionary(anyString, tie('node')),
      ),
    })).node as fc.Arbitrary<Json>;
    fc.assert(
      fc.property(deep, (v) => {
        expect(canonicalJson(sortedDeep(v))).toBe(reference(v));
        expect(canonicalJson(v)).toBe(reference(v));
      }),
      { numRuns: 300 },
    );
    // Integer-like keys: Object.keys (and JSON.stringify) put them first in numeric order, "9" before "10".
    const numeric: Json = { '10': 1, '9': [2], a: { '2': null, '10': 'x' } };
    expect(canonicalJson(numeric)).toBe('{"10":1,"9":[2],"a":{"10":"x","2":null}}');
    // Keys Object.prototype has: JSON.stringify reads a replacer's keys with Get, prototype included.
    const protoKeys = JSON.parse(
      '{"__proto__":{"b":1,"a":2},"constructor":"c","toString":[1],"z":{"valueOf":0}}',
    ) as Json;
    expect(canonicalJson(protoKeys)).toBe(reference(protoKeys));
    expect(canonicalJson({ a: { x: 1 }, b: { constructor: 2 } })).toBe('{"a":{"x":1},"b":{"constructor":2}}');
    // An array holding undefined (a hole too) is written as the walk writes it, not as JSON.stringify's null.
    expect(canonicalJson([1, undefined, 'a'] as unknown as Json)).toBe('[1,undefined,"a"]');
    // biome-ignore lint/suspicious/noSparseArray: a hole is what is tested
    expect(canonicalJson([1, , 2] as unknown as Json)).toBe('[1,undefined,2]');
  });

  it('tells apart objects whose key lists start alike, and writes numbers as JSON.stringify does', () => {
    // Shapes are remembered by their first key: these share it and differ after it.
    const alike: Json = [{ a: 1, c: 2 }, { a: 1, b: 2 }, { a: 1 }, { a: 1, c: 2, b: 3 }, {}];
    expect(canonicalJson(alike)).toBe(reference(alike));
    const numbers = [-0, 0.1, 1e21, 1e-7, Number.NaN, Number.POSITIVE_INFINITY, -1.5, true, false, null] as Json;
    expect(canonicalJson(numbers)).toBe(JSON.stringify(numbers));
    expect(canonicalJson({ n: numbers, x: -0 } as Json)).toBe(reference({ n: numbers, x: -0 } as Json));
  });

  it('escapes what JSON.stringify escapes: quotes, backslashes, controls, lone surrogates', () => {
    for (const s of ['plain', 'a"b', 'a\\b', '\u0001', '\n', '\ud800', 'x\udfff', '\ud83d\ude00', 'é', '\u2028']) {
      expect(canonicalJson({ [s]: s, list: [s] })).toBe(reference({ [s]: s, list: [s] }));
    }
  });

  it('hashes in pieces to the digest of the whole text, past the piece size', () => {
    // ~3 pieces of 64K characters: a state of a few thousand rules.
    const big: Json = {
      resources: Array.from({ length: 3000 }, (_, i) => ({ address: `t.fw.rule-${i}`, ports: ['443', `${i}`] })),
    };
    const pieces: string[] = [];
    writeCanonicalJson(big, (p) => pieces.push(p));
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.join('')).toBe(reference(big));
    expect(canonicalDigest(big)).toBe(createHash('sha256').update(reference(big)).digest('hex'));
  });
});
