import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { targetDescriptors } from '../../providers/index.js';
import { assembleModelSchema } from '../../src/model/schema-base.js';
import {
  checkSchema,
  compileValidator,
  loadPrecompiledValidator,
  MODEL_SCHEMA,
  schemaDigest,
  standaloneValidatorSource,
} from '../../src/model/schema-check.js';
import { parseYaml } from '../../src/model/load.js';

describe('the shipped JSON Schema', () => {
  it("is the assembly of the base and the providers' fragments (else run npm run schema:update)", () => {
    const shipped: unknown = JSON.parse(readFileSync(new URL('../../src/model/schema.json', import.meta.url), 'utf8'));
    // Key order too: editors list properties in the schema's order.
    expect(JSON.stringify(shipped)).toBe(JSON.stringify(MODEL_SCHEMA));
    expect(MODEL_SCHEMA).toEqual(assembleModelSchema(targetDescriptors()));
    // Every provider's fragments are in it, under its id.
    const defs = MODEL_SCHEMA['definitions'] as Record<string, { properties: Record<string, unknown> }>;
    for (const d of targetDescriptors()) {
      expect(defs['target']!.properties[d.id]).toEqual(d.schema.target);
      if (d.schema.entityBinding) expect(defs['entity']!.properties[d.id]).toEqual(d.schema.entityBinding);
      if (d.schema.segmentBinding) expect(defs['segment']!.properties[d.id]).toEqual(d.schema.segmentBinding);
    }
  });

  it('is a valid draft-07 schema that a plain ajv (as editors use) compiles', () => {
    const ajv = new Ajv({ strict: false, allowUnionTypes: true });
    expect(ajv.validateSchema(MODEL_SCHEMA)).toBe(true);
    expect(() => ajv.compile(MODEL_SCHEMA)).not.toThrow();
  });

  it('maps errors to the offending node, with a hint for misspelt keys', () => {
    const { root } = parseYaml(
      'bulkhead: 1\nname: x\ntargets:\n  t:\n    aws: { regoin: eu-west-1, vpc: vpc-01234567 }\n',
      'm.yaml',
    );
    const lines = checkSchema(root!).map((d) => `${d.pos!.line}:${d.pos!.column} ${d.code} ${d.message}`);
    expect(lines).toEqual(
      expect.arrayContaining([
        '5:12 unknown-key targets.t.aws: unknown key "regoin"; did you mean "region"?',
        '5:10 missing-key targets.t.aws: missing required key "region"',
      ]),
    );
    expect(lines).toHaveLength(2);
  });

  it('reports a bad name once, at the key, with what a valid one looks like', () => {
    const { root } = parseYaml(
      'bulkhead: 1\nname: x\ntargets:\n  aws.prod: { aws: { region: eu-west-1, vpc: vpc-01234567 } }\n',
      'm.yaml',
    );
    expect(checkSchema(root!).map((x) => `${x.pos!.line}:${x.pos!.column} ${x.code} ${x.message}`)).toEqual([
      `4:3 bad-name targets: invalid name "aws.prod": use letters, digits, '_' and '-' (no '.': plan addresses are <target>.<type>.<name>)`,
    ]);
  });

  it('reports the expected type of a oneOf (one item or a list) once', () => {
    const { root } = parseYaml('bulkhead: 1\nname: x\nservices:\n  a: { tcp: 1 }\n', 'm.yaml');
    const d = checkSchema(root!);
    expect(d.map((x) => `${x.pos!.line}:${x.pos!.column} ${x.code} ${x.message}`)).toEqual([
      '4:6 wrong-type services.a: expected a string, an integer or a list, found a mapping',
    ]);
  });
});

// The build compiles the schema once (scripts/copy-assets.mjs writes ajv's standalone code next
// to schema-check.js) instead of in every CLI process: the precompiled validator must give the
// errors the run-time one gives, and must never be used once schema.json has changed.
describe('the precompiled schema validator', () => {
  const REPO = resolve(import.meta.dirname, '../..');
  const bad = [
    { bulkhead: 1, name: 'X', segments: { a: { ingres: [] } } },
    { bulkhead: '1', name: 'ok', targets: { 'aws.prod': { aws: { regoin: 'eu-west-1' } } }, segments: [] },
    {
      bulkhead: 1,
      name: 'ok',
      services: { https: 443 },
      entities: { e: { cidrs: 'x', fqdns: [1] } },
      segments: { s: { ingress: [{ frm: 'x' }] } },
    },
  ];

  it('reports the same errors as the validator compiled at run time', () => {
    const dir = mkdtempSync(join(REPO, 'test', '.tmp-schema-'));
    try {
      const file = join(dir, 'v.cjs');
      writeFileSync(file, standaloneValidatorSource());
      const pre = loadPrecompiledValidator(file)!;
      expect(pre, 'the digest of the source matches').toBeTypeOf('function');
      const now = compileValidator();
      for (const value of bad) {
        expect(pre(value)).toBe(false);
        expect(now(value)).toBe(false);
        expect(pre.errors).toEqual(now.errors);
      }
      expect(pre({ bulkhead: 1, name: 'ok', segments: {} })).toBe(now({ bulkhead: 1, name: 'ok', segments: {} }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is refused when it was built from another schema text (or is missing)', () => {
    const dir = mkdtempSync(join(REPO, 'test', '.tmp-schema-'));
    try {
      const file = join(dir, 'v.cjs');
      writeFileSync(file, standaloneValidatorSource().replace(schemaDigest(), '0'.repeat(64)));
      expect(loadPrecompiledValidator(file)).toBeUndefined();
      expect(loadPrecompiledValidator(join(dir, 'missing.cjs'))).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
