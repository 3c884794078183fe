import { ProviderError } from '../../src/errors.js';
import { jsonSyntaxError } from '../kit/json-syntax.js';

/**
 * Checking the az CLI's JSON exports of a snapshot folder before read uses them: a `null` or a
 * wrongly typed entry is a ProviderError naming the file and the JSON path (`$.securityRules[2].priority`),
 * never a TypeError trace later; invalid JSON is reported at file:line:column. Unknown fields are
 * ignored (az prints many Bulkhead does not read), and `null` is accepted wherever az prints it
 * for an unset field.
 */

/** A problem found in a snapshot file (the caller adds the file name). */
class ShapeError extends Error {}

type Obj = Record<string, unknown>;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 39)}…` : v)}`;
  return `the ${typeof v} ${String(v)}`;
}

function fail(path: string, expected: string, found: unknown): never {
  throw new ShapeError(`${path} must be ${expected}, not ${describe(found)}`);
}

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The JSON path of `field` of `o` at `base`, where ARM may wrap fields in `properties` (read hoists them). */
function at(base: string, o: Obj, field: string): { path: string; value: unknown } {
  const props = o['properties'];
  if (isObj(props) && field in props) return { path: `${base}.properties.${field}`, value: props[field] };
  return { path: `${base}.${field}`, value: o[field] };
}

type Check = 'string' | 'number' | 'strings' | 'object';

function check(base: string, o: Obj, field: string, type: Check, required = false): void {
  const { path, value } = at(base, o, field);
  if (value === undefined || value === null) {
    if (required) fail(path, type === 'string' ? 'a string' : type === 'number' ? 'a number' : type === 'strings' ? 'an array of strings' : 'an object', value === undefined ? 'missing' : value);
    return;
  }
  switch (type) {
    case 'string':
      if (typeof value !== 'string') fail(path, 'a string', value);
      return;
    case 'number':
      if (typeof value !== 'number') fail(path, 'a number', value);
      return;
    case 'strings':
      if (!Array.isArray(value)) fail(path, 'an array of strings', value);
      value.forEach((v, i) => {
        if (typeof v !== 'string') fail(`${path}[${i}]`, 'a string', v);
      });
      return;
    case 'object':
      if (!isObj(value)) fail(path, 'an object', value);
      return;
  }
}

/** An optional array of objects at `field`; runs `each` on every element with its path. */
function objects(base: string, o: Obj, field: string, each: (path: string, item: Obj) => void): void {
  const { path, value } = at(base, o, field);
  if (value === undefined || value === null) return;
  if (!Array.isArray(value)) fail(path, 'an array', value);
  value.forEach((item, i) => {
    if (!isObj(item)) fail(`${path}[${i}]`, 'an object', item);
    each(`${path}[${i}]`, item);
  });
}

function tags(base: string, o: Obj): void {
  check(base, o, 'tags', 'object');
  const { path, value } = at(base, o, 'tags');
  if (isObj(value)) for (const [k, v] of Object.entries(value)) if (typeof v !== 'string') fail(`${path}[${JSON.stringify(k)}]`, 'a string', v);
}

function checkRule(path: string, r: Obj): void {
  check(path, r, 'name', 'string', true);
  check(path, r, 'priority', 'number', true);
  check(path, r, 'direction', 'string', true);
  check(path, r, 'access', 'string', true);
  for (const f of ['id', 'description', 'protocol', 'sourcePortRange', 'destinationPortRange', 'sourceAddressPrefix', 'destinationAddressPrefix']) check(path, r, f, 'string');
  for (const f of ['sourcePortRanges', 'destinationPortRanges', 'sourceAddressPrefixes', 'destinationAddressPrefixes']) check(path, r, f, 'strings');
  for (const f of ['sourceApplicationSecurityGroups', 'destinationApplicationSecurityGroups']) objects(path, r, f, (p, g) => check(p, g, 'id', 'string'));
}

/** `az network nsg show`: an object whose `securityRules` are rules. */
export function checkNsg(v: unknown): void {
  if (!isObj(v)) fail('$', 'an object (what `az network nsg show` prints)', v);
  for (const f of ['name', 'id', 'location']) check('$', v, f, 'string');
  tags('$', v);
  objects('$', v, 'securityRules', checkRule);
}

/** `az network asg list`: an array of ASGs with names. */
export function checkAsgs(v: unknown): void {
  if (!Array.isArray(v)) fail('$', 'an array (what `az network asg list` prints)', v);
  v.forEach((a, i) => {
    const path = `$[${i}]`;
    if (!isObj(a)) fail(path, 'an object', a);
    check(path, a, 'name', 'string', true);
    for (const f of ['id', 'location']) check(path, a, f, 'string');
    tags(path, a);
  });
}

/** `az network firewall policy rule-collection-group show`. */
export function checkRcg(v: unknown): void {
  if (!isObj(v)) fail('$', 'an object (what `az network firewall policy rule-collection-group show` prints)', v);
  check('$', v, 'name', 'string', true);
  check('$', v, 'id', 'string');
  check('$', v, 'priority', 'number');
  objects('$', v, 'ruleCollections', (cp, c) => {
    for (const f of ['ruleCollectionType', 'name']) check(cp, c, f, 'string');
    check(cp, c, 'priority', 'number');
    check(cp, c, 'action', 'object');
    const action = at(cp, c, 'action');
    if (isObj(action.value)) check(action.path, action.value, 'type', 'string');
    objects(cp, c, 'rules', (rp, r) => {
      for (const f of ['ruleType', 'name', 'description']) check(rp, r, f, 'string');
      for (const f of ['targetFqdns', 'sourceAddresses']) check(rp, r, f, 'strings');
      objects(rp, r, 'protocols', (pp, p) => {
        check(pp, p, 'protocolType', 'string');
        check(pp, p, 'port', 'number');
      });
    });
  });
}

/**
 * Parses a snapshot file and checks its shape. `file` is the path shown in messages. Throws a
 * ProviderError (code `snapshot-invalid`): `file:line:column: …` for invalid JSON, `file: $.path …`
 * for a wrong shape.
 */
export function parseSnapshotFile(file: string, text: string, shape: (v: unknown) => void): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text; // az on Windows may write a BOM
  let value: unknown;
  try {
    value = JSON.parse(body) as unknown;
  } catch (err) {
    const { line, column, reason } = jsonSyntaxError(body, err);
    throw new ProviderError(`${file}:${line}:${column}: not valid JSON (${reason})`, 'snapshot-invalid');
  }
  try {
    shape(value);
  } catch (err) {
    if (err instanceof ShapeError) throw new ProviderError(`${file}: ${err.message}`, 'snapshot-invalid');
    throw err;
  }
  return value;
}
