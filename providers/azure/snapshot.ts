import { readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ProviderError } from '../../src/errors.js';
import type { SnapshotFile } from '../../src/provider.js';
import { jsonSyntaxError } from '../kit/json-syntax.js';
import type { WireRule } from './canonical.js';
import type { RawAzureState, WireAsg, WireNsg, WireRcg } from './state.js';

/**
 * A target's snapshot folder: the az CLI's JSON exports, read into the raw state (state.ts turns it
 * into the ProviderState) and written by `bulkhead export` from a live read:
 *
 *   nsg.json                    az network nsg show -g <rg> -n <nsg>
 *   nsgs/<nsg>.json             the same, per NSG, for a target with `nsgs` (instead of nsg.json)
 *   asgs.json                   az network asg list -g <rg>
 *   rule-collection-group.json  az network firewall policy rule-collection-group show
 *                                 -g <rg> --policy-name <policy> -n <model>-fqdn-egress   (when present)
 *
 * Reading accepts the ARM `properties`-wrapped shape too, and checks every file before it is used.
 */

/** File names of a target's snapshot folder (documented in policies/snapshots/README.md). */
export const SNAPSHOT_FILES = {
  nsg: 'nsg.json',
  /** The folder of a target with `nsgs`: one `<nsg>.json` per NSG. */
  nsgs: 'nsgs',
  asgs: 'asgs.json',
  rcg: 'rule-collection-group.json',
} as const;

/** `properties`-wrapped ARM JSON → the flattened shape (az prints flattened; accept both). */
export function hoist<T>(o: unknown): T {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return o as T;
  const { properties, ...rest } = o as Record<string, unknown>;
  if (properties === null || typeof properties !== 'object' || Array.isArray(properties)) return o as T;
  return { ...rest, ...(properties as Record<string, unknown>) } as T;
}

async function readJson(path: string, shape: (v: unknown) => void): Promise<unknown | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return undefined;
    throw new ProviderError(`cannot read ${path}: ${String(err)}`, 'snapshot-unreadable');
  }
  return parseSnapshotFile(path, text, shape);
}

/**
 * Reads a target's snapshot folder: `nsg.json` (az network nsg show), `asgs.json` (az network asg
 * list), optional `rule-collection-group.json`. A file may be absent (the NSG or the group does
 * not exist yet), the folder may not: a missing folder is a typo or a forgotten export, and
 * planning against it would mean "create everything" (issue 11), so it fails like AWS and GCP.
 * Every file is checked (below) before it is used.
 */
export async function readSnapshotRaw(
  dir: string,
  targetName?: string,
  nsgNames?: readonly string[],
): Promise<RawAzureState> {
  const folder = await stat(dir).catch(() => undefined);
  if (!folder?.isDirectory()) {
    throw new ProviderError(
      `snapshot of ${targetName ?? basename(dir)}: no folder ${dir}; export it with \`bulkhead export <model> --out <snapshots>\` ` +
        `or the az commands in policies/snapshots/README.md (${SNAPSHOT_FILES.nsg}, ${SNAPSHOT_FILES.asgs}, ${SNAPSHOT_FILES.rcg})`,
      'snapshot-missing',
    );
  }
  // A target with `nsgs` (nsgNames given): nsgs/<nsg>.json per NSG, any of them absent when that NSG does not exist.
  let nsgs: Record<string, WireNsg | null> | undefined;
  if (nsgNames !== undefined) {
    nsgs = {};
    for (const name of nsgNames) {
      const v = await readJson(join(dir, SNAPSHOT_FILES.nsgs, `${name}.json`), checkNsg);
      nsgs[name] = v === undefined ? null : wireNsg(hoist<WireNsg>(v));
    }
  }
  const nsgJson = nsgNames === undefined ? await readJson(join(dir, SNAPSHOT_FILES.nsg), checkNsg) : undefined;
  const asgJson = await readJson(join(dir, SNAPSHOT_FILES.asgs), checkAsgs);
  const rcgJson = await readJson(join(dir, SNAPSHOT_FILES.rcg), checkRcg);
  const nsg = nsgJson === undefined ? null : hoist<WireNsg>(nsgJson);
  const rcg = rcgJson === undefined ? null : hoist<WireRcg>(rcgJson);
  return {
    nsg: nsg ? wireNsg(nsg) : null,
    ...(nsgs !== undefined ? { nsgs } : {}),
    asgs: ((asgJson as unknown[] | undefined) ?? []).map((a) => hoist<WireAsg>(a)),
    rcg: rcg
      ? { ...rcg, ruleCollections: (rcg.ruleCollections ?? []).map((c) => ({ ...c, rules: c.rules ?? [] })) }
      : null,
    policyFound: true,
  };
}

/** An NSG with its rules' `properties` hoisted too. */
function wireNsg(nsg: WireNsg): WireNsg {
  return { ...nsg, securityRules: (nsg.securityRules ?? []).map((r) => hoist<WireRule>(r)) };
}

/** The files `bulkhead export` writes for a live raw state, in the shapes the az CLI prints (flattened properties plus `resourceGroup`). */
export function snapshotFiles(raw: RawAzureState, resourceGroup: string): SnapshotFile[] {
  const withRg = (o: object) => ({ ...o, resourceGroup });
  const files: SnapshotFile[] = [];
  if (raw.nsg) files.push({ path: SNAPSHOT_FILES.nsg, content: `${JSON.stringify(withRg(raw.nsg), null, 2)}\n` });
  for (const [name, nsg] of Object.entries(raw.nsgs ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    if (nsg)
      files.push({
        path: `${SNAPSHOT_FILES.nsgs}/${name}.json`,
        content: `${JSON.stringify(withRg(nsg), null, 2)}\n`,
      });
  files.push({ path: SNAPSHOT_FILES.asgs, content: `${JSON.stringify(raw.asgs.map(withRg), null, 2)}\n` });
  if (raw.rcg) files.push({ path: SNAPSHOT_FILES.rcg, content: `${JSON.stringify(withRg(raw.rcg), null, 2)}\n` });
  return files;
}

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
    if (required)
      fail(
        path,
        type === 'string'
          ? 'a string'
          : type === 'number'
            ? 'a number'
            : type === 'strings'
              ? 'an array of strings'
              : 'an object',
        value === undefined ? 'missing' : value,
      );
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
  if (isObj(value))
    for (const [k, v] of Object.entries(value))
      if (typeof v !== 'string') fail(`${path}[${JSON.stringify(k)}]`, 'a string', v);
}

function checkRule(path: string, r: Obj): void {
  check(path, r, 'name', 'string', true);
  check(path, r, 'priority', 'number', true);
  check(path, r, 'direction', 'string', true);
  check(path, r, 'access', 'string', true);
  for (const f of [
    'id',
    'description',
    'protocol',
    'sourcePortRange',
    'destinationPortRange',
    'sourceAddressPrefix',
    'destinationAddressPrefix',
  ])
    check(path, r, f, 'string');
  for (const f of ['sourcePortRanges', 'destinationPortRanges', 'sourceAddressPrefixes', 'destinationAddressPrefixes'])
    check(path, r, f, 'strings');
  for (const f of ['sourceApplicationSecurityGroups', 'destinationApplicationSecurityGroups'])
    objects(path, r, f, (p, g) => check(p, g, 'id', 'string'));
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
