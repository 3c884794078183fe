import { describe, expect, it } from 'vitest';
import { renderDigest } from '../../helpers/render-digest.js';

// What main (77a0189, before the issue 11 speed work on this provider) made of these models:
// render's resources, validate's diagnostics and the CLI JSON, hashed (test/helpers/render-digest.ts).
// The speed work must not change one byte; a deliberate change of the output updates these.
const MAIN = {
  pci: 'b2cfdde6b5d32634e19d44b7cd3b3e33fa9cf0469c81d15566338006896345f5',
  wordpress: '00da339d8c8335bc5138de9c3e73645559ef93c3941868d672cf7fb16a970fff',
  shop: '7c291c4d20d18bd054d65c12e38ee8c26d53a4401cb8ba862c7ac84f989adbca',
  features: 'b254323b632ec14b39176762d5f2ea2705ded8e84a1f27f906e9eef27bc99537',
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
