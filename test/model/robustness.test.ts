import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { compileFile } from '../../src/compile/index.js';
import { writeFiles } from './write-model.js';

/**
 * Whatever the file holds, loading and validation answer with diagnostics (with positions),
 * never an exception: the CLI must never show a stack trace for a user's file.
 */
const KEYS = [
  'bulkhead',
  'name',
  'include',
  'targets',
  'services',
  'entities',
  'tiers',
  'segments',
  'guardrails',
  'ingress',
  'egress',
  'from',
  'to',
  'ports',
  'cidrs',
  'fqdns',
  'aws',
  'azure',
  'gcp',
  'deny',
  'only',
  'region',
  'vpc',
  'web',
  'db',
  'internet',
  'tier:web',
];
const leaf = fc.oneof(
  fc.constantFrom(
    ...KEYS,
    'tcp/443',
    'tcp',
    '10.0.0.0/8',
    '10.0.0.1/8',
    'a.example.com',
    '*.x.com',
    1,
    0,
    -1,
    70000,
    null,
    true,
    '',
  ),
  fc.string({ maxLength: 8 }),
);
const tree = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('list'), tie('map')),
  list: fc.array(tie('node'), { maxLength: 4 }),
  map: fc.dictionary(fc.constantFrom(...KEYS), tie('node'), { maxKeys: 5 }),
})).map;

describe('robustness', () => {
  it('never throws on a random model-shaped file', async () => {
    await fc.assert(
      fc.asyncProperty(tree, fc.boolean(), async (doc, versioned) => {
        const text = stringify(versioned ? { bulkhead: 1, ...doc } : doc);
        const dir = writeFiles({ 'm.yaml': text });
        const r = await compileFile('m.yaml', { cwd: dir });
        for (const d of r.diagnostics) expect(d.message.length).toBeGreaterThan(0);
        if (!r.ok) expect(r.diagnostics.some((d) => d.severity === 'error')).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('never throws on random bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200 }), async (text) => {
        const dir = writeFiles({ 'm.yaml': text });
        const r = await compileFile('m.yaml', { cwd: dir });
        expect(r.ok).toBe(false);
      }),
      { numRuns: 100 },
    );
  });
});
