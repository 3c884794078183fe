import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ownsRuleName } from '../../../providers/azure/render.js';
import { hasOwnerPrefix } from '../../../providers/kit/ownership.js';

/**
 * The kit against the code it replaces: equal where the old behaviour is kept, different exactly
 * where the old behaviour is one of the measured bugs. Each block goes when its provider migrates
 * (providers/kit/README.md); a failure here before then means the old code changed meanwhile and
 * the migration must reconcile the two.
 */

describe('kit ownership vs the providers’ markers', () => {
  it('matches Azure rule-name ownership as ownsRuleName does', () => {
    fc.assert(
      fc.property(fc.constantFrom('shop', 'Shop', 'shop-admin'), fc.stringMatching(/^[a-zA-Z-]{0,20}$/), (model, rest) => {
        for (const name of [`${model}-${rest}`, `shop-${rest}`, `SHOP-IN-${rest}`, rest]) {
          expect(hasOwnerPrefix(model, name, { kinds: ['in', 'out', 'deny', 'allow'], caseInsensitive: true })).toBe(ownsRuleName(model, name));
        }
      }),
      { numRuns: 200 },
    );
  });
});
