import { describe, expect, it } from 'vitest';
import { renderDigest } from '../../helpers/render-digest.js';

// What main (77a0189, before the issue 11 speed work on this provider) made of these models:
// render's resources, validate's diagnostics and the CLI JSON, hashed (test/helpers/render-digest.ts).
// The speed work must not change one byte; a deliberate change of the output updates these.
const MAIN = {
  pci: '3922642815ca6509abb98edca9c76e6e99bb41efd74e3fc04c183e5ec37f21b2',
  wordpress: '5f1eacf1cce3f58286bc87d9407a56427ed35bda8de6716022f0cb8e1e67975b',
  shop: 'c35409b9decb51d4758c845ef991fee2401c4a20c44c3d785542a19a5c1fad9d',
  features: '6cc89a42de9a62ddbff2afc776233b82a8b638b35c4bc1cf86e74b66f6672e4d',
  synthetic: '100037d38a69a5045ca018e68ae51f0bbec937fb648cbc3cd1fd034a6b96ee64',
};

describe('aws render, validate and CLI JSON stay byte-identical', () => {
  it('the shop example', async () => {
    expect(await renderDigest('aws', { example: 'shop' })).toBe(MAIN.shop);
  });
  for (const example of ['pci', 'wordpress'] as const)
    it(`the ${example} example`, async () => {
      expect(await renderDigest('aws', { example })).toBe(MAIN[example]);
    });
  it('a model that takes every path of the render (test/fixtures/render-digest/features.yaml)', async () => {
    expect(await renderDigest('aws', { file: 'features.yaml' })).toBe(MAIN.features);
  });
  it('the bench model of 300 segments (20 flows each)', async () => {
    expect(await renderDigest('aws', { synthetic: 300 })).toBe(MAIN.synthetic);
  });
});
