import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InternalError } from '../../../src/errors.js';
import { hexHash, labelSlug, nameWithHashTail } from '../../../providers/kit/names.js';

/** RFC 1035 label as GCP requires it. */
const LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

describe('nameWithHashTail', () => {
  it('is the slug of the parts and a hash tail of their identity', () => {
    const n = nameWithHashTail(['shop', 'Web', 'in', 'lb_tcp/443'], 63, 6);
    expect(n).toBe(`shop-web-in-lb-tcp-443-${hexHash('shop\nWeb\nin\nlb_tcp/443', 6)}`);
    expect(nameWithHashTail(['shop', 'x'], 63, 6, { identity: 'shop\nkey-1' })).toBe(
      `shop-x-${hexHash('shop\nkey-1', 6)}`,
    );
  });

  it('tells apart parts that slug alike', () => {
    expect(nameWithHashTail(['shop', 'a-b'], 63, 6)).not.toBe(nameWithHashTail(['shop', 'a', 'b'], 63, 6));
    expect(nameWithHashTail(['shop', 'a_b'], 63, 6)).not.toBe(nameWithHashTail(['shop', 'a.b'], 63, 6));
  });

  it('cuts the head, never the model prefix first, and leaves no dash before the tail', () => {
    const n = nameWithHashTail(['shop', 'x'.repeat(50), 'yyy'], 63, 6);
    expect(n.length).toBe(63 - 1); // the cut lands on a dash, which is dropped
    expect(n.startsWith('shop-xxx')).toBe(true);
    expect(n).not.toMatch(/--/);
  });

  it('refuses shapes that cannot make a label (a caller bug)', () => {
    expect(() => nameWithHashTail(['1shop'], 63, 6)).toThrow(InternalError);
    expect(() => nameWithHashTail(['shop'], 7, 6)).toThrow(InternalError);
    expect(() => nameWithHashTail(['shop'], 63, 0)).toThrow(InternalError);
  });

  it('always gives a DNS label within the limit, deterministically, with a different tail for different identities', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z][a-z0-9-]{0,70}$/),
        fc.array(fc.string({ maxLength: 30 }), { maxLength: 6 }),
        fc.integer({ min: 8, max: 80 }),
        fc.integer({ min: 1, max: 12 }),
        (model, parts, max, hashLength) => {
          fc.pre(max >= hashLength + 2);
          const n = nameWithHashTail([model, ...parts], max, hashLength);
          expect(n.length).toBeLessThanOrEqual(max);
          expect(n).toMatch(LABEL);
          expect(n).not.toMatch(/--/);
          expect(nameWithHashTail([model, ...parts], max, hashLength)).toBe(n);
          expect(n.endsWith(`-${hexHash([model, ...parts].join('\n'), hashLength)}`)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('labelSlug', () => {
  it('lower-cases and folds runs of other characters into one dash', () => {
    expect(labelSlug('  Shop__Web / DB ')).toBe('shop-web-db');
    expect(labelSlug('---')).toBe('');
  });

  it('agrees with the three-pass form on any text, slugs returned as they are (property)', () => {
    const threePass = (t: string) =>
      t
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/^-+|-+$/g, '');
    const text = fc.oneof(
      fc.string({ maxLength: 24 }),
      fc.stringMatching(/^[-a-zA-Z0-9_ ]{0,24}$/),
      fc.stringMatching(/^[a-z0-9]+(-[a-z0-9]+){0,4}$/),
    );
    fc.assert(
      fc.property(text, (t) => {
        expect(labelSlug(t)).toBe(threePass(t));
      }),
      { numRuns: 500 },
    );
    expect(labelSlug('shop-web-in-s12-v4')).toBe('shop-web-in-s12-v4');
  });
});

describe('nameWithHashTail cuts', () => {
  it('drops every trailing dash of a cut head and keeps a head that fits whole', () => {
    // The slug `m-a…a-b` (57 characters) is cut at 63 - 7 = 56, right after a dash.
    const n = nameWithHashTail(['m', `${'a'.repeat(53)}-----`, 'b'], 63, 6, { identity: 'k' });
    expect(n).toBe(`m-${'a'.repeat(53)}-${hexHash('k', 6)}`);
    expect(nameWithHashTail(['shop', 'web'], 63, 6, { identity: 'k' })).toBe(`shop-web-${hexHash('k', 6)}`);
    expect(() => nameWithHashTail(['-'], 63, 6)).toThrow(InternalError);
  });
});
