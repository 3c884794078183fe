import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  descriptionMarker,
  hasOwnerPrefix,
  OWNER_KEY,
  ownerOfDescription,
  ownerOfTagList,
  ownerOfTagMap,
  ownerTag,
  ownerTagMap,
  withDescriptionMarker,
} from '../../../providers/kit/ownership.js';

const modelArb = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}[a-z0-9]$/);

describe('ownership markers', () => {
  it('uses the one key every provider writes today', () => {
    expect(OWNER_KEY).toBe('bulkhead:model');
  });

  it('round-trips each shape', () => {
    fc.assert(
      fc.property(modelArb, fc.string({ maxLength: 40 }), (model, summary) => {
        expect(ownerOfTagList([{ Key: 'Name', Value: 'x' }, ownerTag(model)])).toBe(model);
        expect(ownerOfTagMap({ env: 'prod', ...ownerTagMap(model) })).toBe(model);
        expect(ownerOfDescription(withDescriptionMarker(summary, model))).toBe(model);
        expect(ownerOfDescription(descriptionMarker(model))).toBe(model);
      }),
      { numRuns: 200 },
    );
  });

  it('reads the whole model name, so shop never claims shop-admin', () => {
    expect(ownerOfDescription('allow web [bulkhead:model=shop-admin]')).toBe('shop-admin');
    expect(ownerOfDescription('xbulkhead:model=shop')).toBeUndefined();
    expect(ownerOfDescription('(bulkhead:model=shop)')).toBe('shop');
    expect(ownerOfDescription(undefined)).toBeUndefined();
    expect(hasOwnerPrefix('shop', 'shop-admin-in-web', { kinds: ['in', 'out', 'deny', 'allow'] })).toBe(false);
    expect(hasOwnerPrefix('shop', 'shop-in-web', { kinds: ['in', 'out', 'deny', 'allow'] })).toBe(true);
    expect(hasOwnerPrefix('shop', 'shop-admin-web')).toBe(true);
    expect(hasOwnerPrefix('shop', 'shopx-web')).toBe(false);
  });

  it('matches names and Azure tag keys case-insensitively only where the cloud does', () => {
    expect(hasOwnerPrefix('shop', 'SHOP-In-web', { kinds: ['in'], caseInsensitive: true })).toBe(true);
    expect(hasOwnerPrefix('shop', 'SHOP-In-web', { kinds: ['in'] })).toBe(false);
    // ARM tag names are case-insensitive; AWS tag keys are not.
    expect(ownerOfTagMap({ 'Bulkhead:Model': 'shop' })).toBe('shop');
    expect(ownerOfTagList([{ Key: 'Bulkhead:Model', Value: 'shop' }])).toBeUndefined();
    expect(ownerOfTagMap(undefined)).toBeUndefined();
    expect(ownerOfTagList(undefined)).toBeUndefined();
  });
});
