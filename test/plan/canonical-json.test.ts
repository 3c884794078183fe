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
