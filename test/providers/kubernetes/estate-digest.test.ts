import { describe, expect, it } from 'vitest';
import { renderDigest } from '../../helpers/render-digest.js';

// What main (77a0189, before the issue 11 speed work on this provider) made of these models:
// render's resources, validate's diagnostics and the CLI JSON, hashed (test/helpers/render-digest.ts).
// The speed work must not change one byte; a deliberate change of the output updates these.
const MAIN = {
  shop: '5809f8d1e9e54216789328f6c9cd57cc81d0a529a57829803d04d336f1568118',
  features: '5ea8abb73c73cb24950ec28fabe02f3b83c7fb27f0cc52447d11f470f742d23c',
  synthetic: 'f865b5099dc2ff27a27deb1907ce54c4093174b65c385e8728e68effacc4fd21',
};

describe('kubernetes render, validate and CLI JSON stay byte-identical', () => {
  it('the shop example', async () => {
    expect(await renderDigest('kubernetes', { example: 'shop' })).toBe(MAIN.shop);
  });
  it('a model that takes every path of the render (test/fixtures/render-digest/features.yaml)', async () => {
    expect(await renderDigest('kubernetes', { file: 'features.yaml' })).toBe(MAIN.features);
  });
  it('the bench model of 300 segments (20 flows each)', async () => {
    expect(await renderDigest('kubernetes', { synthetic: 300 })).toBe(MAIN.synthetic);
  });
});
