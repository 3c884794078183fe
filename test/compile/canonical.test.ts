import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { shortHash, shortHashOfJson } from '../../src/compile/canonical.js';

// Rule ids are the first 12 hex digits of a sha256: shortHashOfJson reads them from the base64
// digest (faster, issue 11); they must be the very digits the hex digest starts with.
describe('shortHashOfJson', () => {
  const reference = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 12);

  it('is the first 12 hex digits of the sha256 of the text, for any text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => {
        expect(shortHashOfJson(text)).toBe(reference(text));
      }),
      { numRuns: 500 },
    );
  });

  it('covers every base64 digit (the digests of these texts start with all 64 of them)', () => {
    const firsts = new Set<string>();
    for (let i = 0; firsts.size < 64 && i < 100_000; i++) {
      const text = `{"i":${i}}`;
      firsts.add(createHash('sha256').update(text).digest('base64')[0]!);
      expect(shortHashOfJson(text)).toBe(reference(text));
    }
    expect(firsts.size).toBe(64);
  });

  it('shortHash is shortHashOfJson of the JSON text', () => {
    const value = {
      direction: 'ingress',
      segment: 'web',
      peer: { kind: 'segment', name: 'lb' },
      service: { kind: 'ports', protocol: 'tcp', from: 443, to: 443 },
    };
    expect(shortHash(value)).toBe(reference(JSON.stringify(value)));
  });
});
