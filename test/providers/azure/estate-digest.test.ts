import { describe, expect, it } from 'vitest';
import { renderDigest } from '../../helpers/render-digest.js';

// What main (ca8d940, before the issue 11 speed work on the Azure render, check and output) made of
// these models: render's resources, validate's diagnostics and the CLI JSON, hashed
// (test/helpers/render-digest.ts). The speed work must not change one byte; a deliberate change of
// the output updates these. The synthetic models are the bench's (ESTATE_OPTIONS: the `nsgs` form,
// two segments per NSG).
const MAIN = {
  shop: '77021e533ad97480736e84a0c3187f4f1d99e995b73d5a06c7bd646ab25215bc',
  pci: 'df77b7f9686d8472ca64e6214668f12cdbfa9b4aefed4927ce5c62a758322316',
  wordpress: '09a5f5344b015b4b7a2a2425e6ebbdfd827bc43d5ebf368abf81db4f5cb6144b',
  features: '0accfd6ae7c78bd9922b510872c7b3de798690a3a134f03f0a700c9410388c4b',
  synthetic300: '995eb6b30eb929b53acf86da89da0e4c63646003e13da1ae16f8cf0d5bdece9a',
  synthetic1000: '40382537ed4061f2f7546f47cca10b6e648dbeda71d6934d84fd17866e6c2d20',
};

describe('azure render, validate and CLI JSON stay byte-identical', () => {
  for (const example of ['shop', 'pci', 'wordpress'] as const)
    it(`the ${example} example`, async () => {
      expect(await renderDigest('azure', { example })).toBe(MAIN[example]);
    });
  it('a model that takes every path of the render (test/fixtures/render-digest/azure-features.yaml)', async () => {
    expect(await renderDigest('azure', { file: 'azure-features.yaml' })).toBe(MAIN.features);
  });
  it('the bench model of 300 segments (150 NSGs)', async () => {
    expect(await renderDigest('azure', { synthetic: 300 })).toBe(MAIN.synthetic300);
  });
  // ~47,000 rules over 500 NSGs: every NSG-level path (per-NSG counts, placement, CLI JSON per NSG) many times.
  it('the bench model of 1,000 segments (500 NSGs)', { timeout: 120_000 }, async () => {
    expect(await renderDigest('azure', { synthetic: 1000 })).toBe(MAIN.synthetic1000);
  });
});
