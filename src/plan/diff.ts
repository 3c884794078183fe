import { createHash } from 'node:crypto';
import type { AttributeChange, Change, Child, ChildChange, Json, Resource } from './types.js';

/**
 * The semantic diff: desired resources (rendered) against live ones (read), both already canonical.
 * Objects are matched by address, attributes compared deeply (key order never matters), children
 * compared as a set keyed by `key`. Output is sorted by address, child changes by key, so the same
 * inputs always give the same plan.
 */

/** Deterministic JSON text of a value with object keys sorted: the identity used for deep comparison. */
export function canonicalJson(value: Json | undefined): string {
  let text = '';
  writeCanonicalJson(value, (piece) => {
    text += piece;
  });
  return text;
}

/**
 * `canonicalJson(value)`'s text, given to `write` in pieces of about 64K characters. The state
 * fingerprints hash the canonical text of every object read: at 1,000 segments a GCP project's is
 * tens of MB, which the recursive map/join built as a tree of temporary arrays and strings (the
 * largest cost of a `plan` after the garbage collector); at 10,000 it nears V8's largest string.
 */
export function writeCanonicalJson(value: Json | undefined, write: (piece: string) => void): void {
  let buffer = '';
  const out = (text: string) => {
    buffer += text;
    if (buffer.length >= 1 << 16) {
      write(buffer);
      buffer = '';
    }
  };
  const walk = (v: Json | undefined): void => {
    if (typeof v === 'string') return out(jsonString(v));
    if (v === undefined) return out('undefined');
    if (v === null || typeof v !== 'object') return out(scalarText(v));
    if (Array.isArray(v)) {
      const list = v as readonly (Json | undefined)[];
      // A list of strings (CIDRs, tags, ports) as one piece: the most common value of a state.
      // JSON.stringify would write the same text, but a call of it costs more than this loop on
      // the short lists of a state (it was half of a fingerprint's walk: issue 11).
      const plain = plainListText(list);
      if (plain !== undefined) return out(plain);
      out('[');
      for (let i = 0; i < list.length; i++) {
        if (i > 0) out(',');
        walk(list[i]);
      }
      return out(']');
    }
    const obj = v as { readonly [key: string]: Json };
    out('{');
    let first = true;
    for (const [k, firstPiece, nextPiece] of shapeOf(obj).sorted) {
      const x = obj[k];
      if (x === undefined) continue;
      out(first ? firstPiece : nextPiece);
      first = false;
      walk(x);
    }
    out('}');
  };
  walk(value);
  if (buffer.length > 0) write(buffer);
}

/** JSON.stringify's text of a number, boolean or null. */
function scalarText(v: number | boolean | null): string {
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  return v === null ? 'null' : v ? 'true' : 'false';
}

/**
 * JSON.stringify's text of a list of strings, numbers, booleans and nulls; undefined when an item
 * is an object or undefined (the walk writes undefined as `undefined`; a hole reads as undefined).
 */
function plainListText(list: readonly (Json | undefined)[]): string | undefined {
  let text = '[';
  for (let i = 0; i < list.length; i++) {
    const v = list[i];
    if (typeof v === 'string') text += i === 0 ? jsonString(v) : `,${jsonString(v)}`;
    else if (v === undefined || (v !== null && typeof v === 'object')) return undefined;
    else text += i === 0 ? scalarText(v) : `,${scalarText(v)}`;
  }
  return `${text}]`;
}

/** An object's key, with its text as the first key of an object (`"k":`) and as a later one (`,"k":`). */
type KeyPieces = readonly [key: string, first: string, next: string];

/** One list of keys in `Object.keys` order and the same keys sorted. */
interface Shape {
  readonly keys: readonly string[];
  readonly sorted: readonly KeyPieces[];
}

/**
 * An object's keys sorted, with their texts, remembered per list of keys in `Object.keys` order:
 * a state's millions of objects have a few dozen shapes, and sorting and quoting every object's
 * keys again was most of a fingerprint's walk (issue 11). Found by the first key, then compared
 * key by key (joining the keys into one string to look them up cost more than the rest of the
 * lookup). Bounded: cleared past SHAPES_KEPT lists, so objects keyed by names (tags) cannot grow
 * it without limit.
 */
function shapeOf(obj: { readonly [key: string]: Json }): Shape {
  const keys = Object.keys(obj);
  const first = keys.length === 0 ? '' : keys[0]!;
  const bucket = shapes.get(first);
  if (bucket !== undefined) {
    for (const known of bucket) if (sameKeys(known.keys, keys)) return known;
  }
  const ordered = [...keys].sort();
  const shape: Shape = {
    keys,
    sorted: ordered.map((k): KeyPieces => [k, `${jsonString(k)}:`, `,${jsonString(k)}:`]),
  };
  if (shapeCount >= SHAPES_KEPT) {
    shapes.clear();
    shapeCount = 0;
  }
  shapeCount++;
  if (bucket !== undefined) bucket.push(shape);
  else shapes.set(first, [shape]);
  return shape;
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
const SHAPES_KEPT = 10_000;
let shapeCount = 0;
/** Known shapes by their first key (`''` for no keys). */
const shapes = new Map<string, Shape[]>();

/** Characters JSON.stringify escapes in a string: quote, backslash, controls, and any surrogate (a lone one is escaped). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * `JSON.stringify` of a string. Nearly every string of a state (names, CIDRs, ports, tags) needs
 * no escape, and the test is cheaper than the call, which was most of a fingerprint's cost.
 */
function jsonString(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

/** sha256 (hex) of `canonicalJson(value)`, hashed in pieces: no one string of the whole. */
export function canonicalDigest(value: Json): string {
  const h = createHash('sha256');
  writeCanonicalJson(value, (piece) => h.update(piece));
  return h.digest('hex');
}

/**
 * True when two JSON values are equal, ignoring object key order (and keys whose value is
 * undefined). Structural, without building strings: the diff calls it for every child.
 */
export function jsonEqual(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (
    a === null ||
    b === null ||
    a === undefined ||
    b === undefined ||
    typeof a !== 'object' ||
    typeof b !== 'object'
  ) {
    return false;
  }
  const aIsArray = Array.isArray(a);
  if (aIsArray !== Array.isArray(b)) return false;
  if (aIsArray) {
    const x = a as readonly Json[];
    const y = b as readonly Json[];
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) {
      // Equal scalars (most items: CIDRs, ports) without a call; objects and differences recurse.
      const u = x[i];
      if (u !== y[i] && (typeof u !== 'object' || !jsonEqual(u, y[i]))) return false;
    }
    return true;
  }
  const x = a as { readonly [key: string]: Json };
  const y = b as { readonly [key: string]: Json };
  let xCount = 0;
  for (const k in x) {
    const u = x[k];
    if (u === undefined) continue;
    xCount++;
    const v = y[k];
    if (u !== v && (typeof u !== 'object' || !jsonEqual(u, v))) return false;
  }
  let yCount = 0;
  for (const k in y) if (y[k] !== undefined) yCount++;
  return xCount === yCount;
}

function byString(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Strings sorted by code units. */
function sortedStrings(strings: Iterable<string>): string[] {
  return [...strings].sort(byString);
}

/** Attribute differences of two attribute maps, sorted by name. */
export function diffAttributes(
  before: { readonly [key: string]: Json },
  after: { readonly [key: string]: Json },
): AttributeChange[] {
  const names = sortedStrings(new Set([...Object.keys(before), ...Object.keys(after)]));
  const changes: AttributeChange[] = [];
  for (const name of names) {
    const b = before[name];
    const a = after[name];
    if (!jsonEqual(b, a)) changes.push({ name, before: b, after: a });
  }
  return changes;
}

/** Child differences of two child sets, sorted by key (a key present twice keeps its last entry). */
export function diffChildren(before: readonly Child[], after: readonly Child[]): ChildChange[] {
  const live = new Map(before.map((c) => [c.key, c]));
  const want = new Map(after.map((c) => [c.key, c]));
  const keys = sortedStrings(new Set([...live.keys(), ...want.keys()]));
  const changes: ChildChange[] = [];
  for (const key of keys) {
    const b = live.get(key) ?? null;
    const a = want.get(key) ?? null;
    if (b === null && a !== null) changes.push({ action: 'create', key, before: null, after: a });
    else if (a === null && b !== null) changes.push({ action: 'delete', key, before: b, after: null });
    else if (a !== null && b !== null && !jsonEqual(b.attributes, a.attributes)) {
      changes.push({ action: 'update', key, before: b, after: a });
    }
  }
  return changes;
}

/** True when two child lists (each sorted by key, as the contract says) hold the same children. */
function sameChildren(a: readonly Child[], b: readonly Child[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i]!.key !== b[i]!.key || !jsonEqual(a[i]!.attributes, b[i]!.attributes)) return false;
  }
  return true;
}

/**
 * True when a child change opens access: an added child marked `widens` (DESIGN §3: new internet
 * ingress, a new peer). An in-place update of a child keeps its identity (its peer), and live
 * children carry no `widens` to compare with, so updates are not flagged: flagging them would mark
 * every narrowing edit as widening.
 */
function childWidens(change: ChildChange): boolean {
  return change.action === 'create' && change.after?.widens === true;
}

function sortChildChanges(changes: ChildChange[]): ChildChange[] {
  // Within one key (only a replace has two), the delete comes first: that is the order it happens in.
  const rank = { delete: 0, update: 1, create: 2 } as const;
  return changes.sort((x, y) => byString(x.key, y.key) || rank[x.action] - rank[y.action]);
}

/**
 * Resources sorted by address, one per address: the last one given wins, as it did when the
 * diff kept a Map per side. A list already strictly sorted (render's, read's) is returned as is.
 */
function byAddress(resources: readonly Resource[]): readonly Resource[] {
  let strict = true;
  for (let k = 1; k < resources.length && strict; k++) strict = resources[k - 1]!.address < resources[k]!.address;
  if (strict) return resources;
  // A stable sort keeps equal addresses in the order given, so the last of each run is the last given.
  const sorted = [...resources].sort((a, b) => byString(a.address, b.address));
  return sorted.filter((r, k) => k === sorted.length - 1 || sorted[k + 1]!.address !== r.address);
}

/**
 * The changes that turn `live` into `desired`, sorted by address:
 * - only desired → `create` (every child created); only live → `delete` (every child deleted);
 * - both, and an attribute named in `forceNew` differs → `replace` (delete, then create the same
 *   address; every old child deleted, every new child created);
 * - both, other attributes or children differ → `update`; identical → no change.
 * `widensAccess` is set when a created child is marked `widens` (for a replace: only children that
 * were not already there with the same content).
 */
export function diffResources(desired: readonly Resource[], live: readonly Resource[]): Change[] {
  // Both sides as lists sorted by address, then one merge walk: no Map of 540,000 addresses per
  // side at 10,000 segments on GCP (issue 11), whose random accesses cost more per object the
  // bigger the estate. Render's output and read's are sorted already, so this is a check, not a sort.
  const wants = byAddress(desired);
  const haves = byAddress(live);
  const changes: Change[] = [];
  let i = 0;
  let j = 0;
  while (i < wants.length || j < haves.length) {
    const order = i === wants.length ? 1 : j === haves.length ? -1 : byString(wants[i]!.address, haves[j]!.address);
    const want = order <= 0 ? wants[i++] : undefined;
    const have = order >= 0 ? haves[j++] : undefined;
    if (want && !have) {
      const childChanges = [...want.children]
        .sort((a, b) => byString(a.key, b.key))
        .map((c): ChildChange => ({ action: 'create', key: c.key, before: null, after: c }));
      changes.push({
        address: want.address,
        target: want.target,
        type: want.type,
        name: want.name,
        action: 'create',
        before: null,
        after: want,
        attributeChanges: diffAttributes({}, want.attributes),
        childChanges,
        widensAccess: childChanges.some(childWidens),
      });
      continue;
    }
    if (have && !want) {
      const childChanges = [...have.children]
        .sort((a, b) => byString(a.key, b.key))
        .map((c): ChildChange => ({ action: 'delete', key: c.key, before: c, after: null }));
      changes.push({
        address: have.address,
        target: have.target,
        type: have.type,
        name: have.name,
        action: 'delete',
        before: have,
        after: null,
        attributeChanges: diffAttributes(have.attributes, {}),
        childChanges,
        widensAccess: false,
      });
      continue;
    }
    if (!want || !have) continue;
    const address = want.address;
    // Fast path: most objects are unchanged; compare without building change lists.
    const sameAttributes = jsonEqual(have.attributes, want.attributes);
    if (sameAttributes && sameChildren(have.children, want.children)) continue;
    const attributeChanges = sameAttributes ? [] : diffAttributes(have.attributes, want.attributes);
    const forceNew = new Set([...(want.forceNew ?? []), ...(have.forceNew ?? [])]);
    const forcing = attributeChanges.filter((c) => forceNew.has(c.name)).map((c) => c.name);
    if (forcing.length > 0) {
      const childChanges = sortChildChanges([
        ...have.children.map((c): ChildChange => ({ action: 'delete', key: c.key, before: c, after: null })),
        ...want.children.map((c): ChildChange => ({ action: 'create', key: c.key, before: null, after: c })),
      ]);
      const existing = new Map(have.children.map((c) => [c.key, c]));
      const widens = want.children.some((c) => {
        const old = existing.get(c.key);
        return c.widens === true && (old === undefined || !jsonEqual(old.attributes, c.attributes));
      });
      changes.push({
        address,
        target: want.target,
        type: want.type,
        name: want.name,
        action: 'replace',
        before: have,
        after: want,
        attributeChanges,
        childChanges,
        widensAccess: widens,
        reason: `${forcing.join(', ')} cannot be changed in place`,
      });
      continue;
    }
    const childChanges = diffChildren(have.children, want.children);
    if (attributeChanges.length === 0 && childChanges.length === 0) continue;
    changes.push({
      address,
      target: want.target,
      type: want.type,
      name: want.name,
      action: 'update',
      before: have,
      after: want,
      attributeChanges,
      childChanges,
      widensAccess: childChanges.some(childWidens),
    });
  }
  return changes;
}
