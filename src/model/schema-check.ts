import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Ajv as AjvClass, ErrorObject, ValidateFunction } from 'ajv';
import { error, type Diagnostic, type SourcePos } from '../diagnostics.js';
import { toPlain, type YNode } from './load.js';
import { didYouMean } from './suggest.js';
import { assembleModelSchema } from './schema-base.js';
import type { JsonSchema } from '../provider.js';
import { registryGeneration, targetDescriptors } from '../targets.js';

/**
 * The structural check: the shipped JSON Schema (`schema.json`, the same file editors use through
 * the yaml-language-server modeline), run by ajv, with each error mapped back to the position of
 * the offending node (the key itself for unknown keys and bad names).
 */

/**
 * The model's JSON Schema for the registered providers: the provider-neutral base with each
 * provider's fragments (schema-base.ts). The shipped `schema.json` (`bulkhead/schema`) is this for
 * the bundled providers (test/model/schema.test.ts keeps it so; `npm run schema:update` rewrites it).
 */
export function modelSchema(): Record<string, unknown> {
  if (!assembled || assembled.generation !== registryGeneration()) {
    assembled = { generation: registryGeneration(), schema: assembleModelSchema(targetDescriptors()) };
    compiled = undefined;
  }
  return assembled.schema as Record<string, unknown>;
}
let assembled: { readonly generation: number; readonly schema: JsonSchema } | undefined;
let compiled: ValidateFunction | undefined;

/** The model's JSON Schema for the bundled providers, as shipped (`bulkhead/schema`). */
export const MODEL_SCHEMA: Record<string, unknown> = modelSchema();

/** sha256 of a schema's JSON text: a precompiled validator is used only for the schema it was built from. */
export function schemaDigest(schema: Record<string, unknown> = modelSchema()): string {
  return createHash('sha256').update(JSON.stringify(schema)).digest('hex');
}

/** The precompiled validator's file, next to this module in dist/ (written by scripts/copy-assets.mjs). */
export const PRECOMPILED_VALIDATOR = 'schema-validator.cjs';

/** The ajv that checks models: every error, with the schema that failed (messages use its hints). */
function createAjv(extra: { code?: { source: boolean } } = {}): AjvClass {
  // Loaded on first use, not at start-up: `--version`, `--help` and the commands that never check
  // a model file do not pay for it (ajv is CommonJS, so a synchronous require keeps this sync).
  const { Ajv } = createRequire(import.meta.url)('ajv') as { Ajv: typeof AjvClass };
  const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true, ...extra });
  // VS Code's JSON language service shows this message for a failed `pattern`; so do we.
  ajv.addKeyword({ keyword: 'patternErrorMessage', schemaType: 'string' });
  return ajv;
}

/**
 * The source of a standalone validator of the registered providers' schema (ajv's `standalone`
 * code: a CommonJS module), recording the digest of the schema it was built from. The build writes
 * it to dist/ (scripts/copy-assets.mjs): compiling the schema at run time costs ~0.1 s of every
 * `validate`, `plan` and `render` (issue 11.0), loading the compiled code ~5 ms.
 */
export function standaloneValidatorSource(): string {
  const schema = modelSchema();
  const ajv = createAjv({ code: { source: true } });
  const standalone = (
    createRequire(import.meta.url)('ajv/dist/standalone') as { default: (a: AjvClass, v: ValidateFunction) => string }
  ).default;
  return `${standalone(ajv, ajv.compile(schema))}\nmodule.exports.schemaDigest = ${JSON.stringify(schemaDigest(schema))};\n`;
}

/** A precompiled validator at `path`, when there is one built from `schema`; else undefined. */
export function loadPrecompiledValidator(
  path: string,
  schema: Record<string, unknown> = modelSchema(),
): ValidateFunction | undefined {
  try {
    const v = createRequire(import.meta.url)(path) as ValidateFunction & { schemaDigest?: string };
    return typeof v === 'function' && v.schemaDigest === schemaDigest(schema) ? v : undefined;
  } catch {
    return undefined; // not built (tests run the TypeScript sources): compile instead
  }
}

function validator(): ValidateFunction {
  const schema = modelSchema();
  compiled ??=
    loadPrecompiledValidator(fileURLToPath(new URL(`./${PRECOMPILED_VALIDATOR}`, import.meta.url)), schema) ??
    createAjv().compile(schema);
  return compiled;
}

/** The validator compiled now, never the precompiled one (for the test that they agree). */
export function compileValidator(): ValidateFunction {
  return createAjv().compile(modelSchema());
}

const TYPE_WORDS: Record<string, string> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
  null: 'empty',
};

function kindOf(node: YNode): string {
  if (node.kind === 'map') return 'a mapping';
  if (node.kind === 'seq') return 'a list';
  const v = node.value;
  return v === null ? 'empty' : typeof v === 'string' ? `"${v}"` : String(v);
}

function decode(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** The node at a JSON pointer, and a readable path (`segments.web.ingress[0]`). */
function locate(root: YNode, pointer: string): { node: YNode; path: string } {
  let node = root;
  let path = '';
  for (const raw of pointer.split('/').slice(1)) {
    const key = decode(raw);
    if (node.kind === 'map') {
      const e = node.entries.find((x) => x.key === key);
      if (!e) break;
      node = e.value;
      path += path === '' ? key : `.${key}`;
    } else if (node.kind === 'seq') {
      const item = node.items[Number(key)];
      if (!item) break;
      node = item;
      path += `[${key}]`;
    } else break;
  }
  return { node, path };
}

function keyPos(node: YNode, key: string): SourcePos {
  return node.kind === 'map' ? (node.entries.find((e) => e.key === key)?.keyPos ?? node.pos) : node.pos;
}

/** Checks one file's tree against the schema; every error with its position. */
export function checkSchema(root: YNode): Diagnostic[] {
  const validate = validator();
  if (validate(toPlain(root))) return [];
  // `propertyNames` repeats the nested name error (which carries the name); `oneOf` repeats its branches'.
  const errors = (validate.errors ?? []).filter(
    (e) => e.keyword !== 'oneOf' && e.keyword !== 'if' && e.keyword !== 'propertyNames',
  );
  // In a oneOf, the branch that went deeper is the one the writer meant: keep the deepest errors,
  // except key errors (unknown/missing keys) which are always precise.
  const isKeyError = (e: ErrorObject) =>
    e.keyword === 'additionalProperties' || e.keyword === 'required' || e.propertyName !== undefined;
  const deepest = errors.filter(
    (e) => isKeyError(e) || !errors.some((o) => o !== e && o.instancePath.startsWith(`${e.instancePath}/`)),
  );
  const out = new Map<string, Diagnostic>();
  const typeErrors = new Map<string, Set<string>>();
  for (const e of deepest) {
    const { node, path } = locate(root, e.instancePath);
    const where = path === '' ? '' : `${path}: `;
    const schema = e.parentSchema as
      | { patternErrorMessage?: string; description?: string; properties?: Record<string, unknown> }
      | undefined;
    if (e.propertyName !== undefined) {
      const hint = (schema?.patternErrorMessage ?? e.message ?? '').toString();
      const d = error(
        'bad-name',
        `${where}invalid name "${e.propertyName}": use ${hint}`,
        keyPos(node, e.propertyName),
      );
      out.set(`name:${e.instancePath}:${e.propertyName}`, d);
      continue;
    }
    switch (e.keyword) {
      case 'additionalProperties': {
        const key = String((e.params as { additionalProperty: string }).additionalProperty);
        const allowed = Object.keys(schema?.properties ?? {});
        const hint = didYouMean(key, allowed);
        const msg = `${where}unknown key "${key}"${hint || (allowed.length > 0 ? `; expected one of ${allowed.map((a) => `"${a}"`).join(', ')}` : '')}`;
        out.set(`add:${e.instancePath}:${key}`, error('unknown-key', msg, keyPos(node, key)));
        break;
      }
      case 'required': {
        const key = String((e.params as { missingProperty: string }).missingProperty);
        // validate.ts reports a missing `bulkhead:` (the format version) with a better message.
        if (e.instancePath === '' && key === 'bulkhead') break;
        out.set(
          `req:${e.instancePath}:${key}`,
          error('missing-key', `${where}missing required key "${key}"`, node.pos),
        );
        break;
      }
      case 'type': {
        const set = typeErrors.get(e.instancePath) ?? new Set<string>();
        const t = (e.params as { type: string | string[] }).type;
        for (const x of Array.isArray(t) ? t : [t]) set.add(x);
        typeErrors.set(e.instancePath, set);
        break;
      }
      case 'pattern':
      case 'maxLength':
      case 'minLength': {
        const hint = schema?.patternErrorMessage;
        const value = node.kind === 'scalar' ? String(node.value) : '';
        const msg =
          e.keyword === 'pattern'
            ? `${where}"${value}" is not valid${hint ? `: expected ${hint}` : ''}`
            : e.keyword === 'maxLength'
              ? `${where}"${value}" is too long (at most ${(e.params as { limit: number }).limit} characters)`
              : `${where}must not be empty`;
        out.set(`val:${e.instancePath}`, error('bad-value', msg, node.pos));
        break;
      }
      case 'const':
        // Only `bulkhead:` uses const; validate.ts reports the version with a better message.
        break;
      default:
        out.set(
          `other:${e.instancePath}:${e.keyword}`,
          error('bad-value', `${where}${e.message ?? 'invalid value'}`, node.pos),
        );
    }
  }
  for (const [pointer, types] of typeErrors) {
    const { node, path } = locate(root, pointer);
    const words = [...types].map((t) => TYPE_WORDS[t] ?? t);
    const expected =
      words.length <= 2 ? words.join(' or ') : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
    out.set(
      `type:${pointer}`,
      error('wrong-type', `${path === '' ? 'the file' : path}: expected ${expected}, found ${kindOf(node)}`, node.pos),
    );
  }
  return [...out.values()];
}
