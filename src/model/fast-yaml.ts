import type { SourcePos } from '../diagnostics.js';
import type { YEntry, YNode } from './load.js';

/**
 * A fast path for the plain YAML that large models are written in: block mappings and sequences,
 * flow collections (`{ from: web, ports: [https] }`, also over several lines with end-of-line
 * comments, as policies/shop.yaml writes its targets: the `yaml` package alone costs ~30-50 ms of
 * module loading per process, issue 11.0), plain and simple quoted scalars, comments. It builds
 * the same YNode tree (values and positions) as `parseYaml`'s general path through the `yaml`
 * package's document API, about 10x faster: that path costs ~1.5 s for a 1,000-segment model (its
 * CST parser does per-token generator and `process.env` work).
 *
 * It is deliberately narrow: anything outside the subset, or anything that could be an error, a
 * warning or a subtle case (anchors, aliases, tags, merge keys, block scalars, multi-line scalars,
 * flow collections with a blank or comment-only line or a line not indented past their block,
 * escapes, duplicate keys, empty values, numbers other than plain decimal integers, plain scalars
 * with ':', tabs, CR, control characters, directives, several documents, ...) returns undefined
 * and the general path handles the file: errors, diagnostics and odd constructs always come from
 * the `yaml` package. test/model/fast-yaml.test.ts checks that both paths give identical trees.
 */

/**
 * An array built by `push` with its spare capacity dropped. V8 grows an array's store from 0 to
 * 17 slots on the first push, so the typical two-entry `{ from: a, ports: [b] }` keeps 15 empty
 * slots (120 bytes) per mapping and per list: ~90 MB of a 10,000-segment model's tree, which lives
 * through validation and is walked by every GC until then. `slice` copies into an exact-size store.
 */
function fit<T>(items: T[]): T[] {
  return items.slice();
}

/** Thrown (and caught in parseFastYaml) when the text leaves the subset. */
class NotSimple extends Error {}
const bail = (): never => {
  throw new NotSimple();
};

// The YAML 1.2 core schema's plain-scalar tags (yaml/dist/schema/core), in the order it tries them.
const NULL_RE = /^(?:~|[Nn]ull|NULL)?$/;
const BOOL_RE = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const NUMBER_RES = [
  /^0o[0-7]+$/,
  /^[-+]?[0-9]+$/,
  /^0x[0-9a-fA-F]+$/,
  /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/,
  /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/,
  /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/,
];
/** The letters a null, boolean or number of the core schema can start with (see resolvePlain). */
const PLAIN_TAG_STARTS = 'nNtTfF';
/** The only numbers the fast path resolves itself (anything else numeric goes to the general path). */
const SIMPLE_INT_RE = /^(?:0|[1-9][0-9]{0,14})$/;
/** Characters that make the whole text leave the subset. */
const UNSUPPORTED_CHARS_RE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\ufeff]/;
/** Characters a plain scalar may not start with (YAML indicators), and '-' (a sequence or a sign). */
const INDICATORS = new Set([
  '-',
  '?',
  ':',
  ',',
  '[',
  ']',
  '{',
  '}',
  '#',
  '&',
  '*',
  '!',
  '|',
  '>',
  "'",
  '"',
  '%',
  '@',
  '`',
]);
/** ASCII codes that end or leave a plain scalar inside a flow collection (1 = look closer). */
const FLOW_PLAIN_STOP = new Uint8Array(128);
for (const ch of ',]}:#[{"\'') FLOW_PLAIN_STOP[ch.charCodeAt(0)] = 1;
/** Characters of a plain mapping key (`[A-Za-z0-9_./-]`), by ASCII code: a table, as it is asked once per character. */
const KEY_CHAR = new Uint8Array(128);
for (const ch of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./-') KEY_CHAR[ch.charCodeAt(0)] = 1;
const isKeyChar = (code: number): boolean => code < 128 && KEY_CHAR[code] === 1;

/**
 * Drops trailing ASCII spaces only. YAML's white space is space and tab (tabs leave the subset),
 * so a trailing no-break space (U+00A0), ideographic space (U+3000) or other Unicode space is part
 * of the scalar for the `yaml` package; String.prototype.trimEnd would drop it, and a value's
 * validity would then depend on which path read the file.
 */
function trimSpaces(s: string): string {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 32) end--;
  return end === s.length ? s : s.slice(0, end);
}

function resolvePlain(s: string): string | number | boolean | null {
  // Every tag but `str` needs the text to be empty or start with one of `~nNtTfF0-9+-.`: other
  // texts (segment names, `tcp/443`) skip the regular expressions.
  const c = s.charCodeAt(0);
  if (((c >= 97 && c <= 122) || (c >= 65 && c <= 90)) && !PLAIN_TAG_STARTS.includes(s[0]!)) return s;
  if (NULL_RE.test(s)) return null;
  if (BOOL_RE.test(s)) return s[0] === 't' || s[0] === 'T';
  if (SIMPLE_INT_RE.test(s)) return Number(s);
  if (NUMBER_RES.some((r) => r.test(s))) bail();
  return s;
}

/** A non-blank, non-comment line; `indent` and `pos` move for a compact mapping in a sequence item (`- key: v`). */
interface Line {
  readonly start: number;
  /** Offset of the '\n' ending the line (or the text's length). */
  readonly end: number;
  indent: number;
  /** Where the content to parse starts. */
  pos: number;
}

/**
 * Parses `text` into a YNode tree when it is in the simple subset; undefined when it is not (or
 * might not be): the caller then uses the `yaml` package.
 */
export function parseFastYaml(text: string, file: string): YNode | undefined {
  if (UNSUPPORTED_CHARS_RE.test(text)) return undefined;
  try {
    return new FastParser(text, file).parse();
  } catch (e) {
    if (e instanceof NotSimple) return undefined;
    throw e;
  }
}

class FastParser {
  readonly #text: string;
  readonly #file: string;
  readonly #lines: Line[] = [];
  /** Offsets of line starts, for positions. */
  readonly #lineStarts: number[] = [];
  #li = 0;
  #lastLine = 0;
  /** The offset just after what #key, #quoted or #flowNode last read (their second result, without a tuple per call). */
  #end = 0;
  /** The indent of the block line a flow collection starts on: its continuation lines must be indented past it. */
  #flowIndent = 0;

  constructor(text: string, file: string) {
    this.#text = text;
    this.#file = file;
    let start = 0;
    while (start <= text.length) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      this.#lineStarts.push(start);
      let i = start;
      while (i < end && text.charCodeAt(i) === 32) i++;
      if (i < end && text[i] !== '#') {
        if (i === start && (text.startsWith('---', i) || text.startsWith('...', i) || text[i] === '%')) bail();
        this.#lines.push({ start, end, indent: i - start, pos: i });
      }
      start = end + 1;
    }
  }

  parse(): YNode {
    if (this.#lines.length === 0) bail(); // empty: the general path reports it
    const root = this.#blockNode(0, 0);
    if (this.#li !== this.#lines.length) bail();
    return root;
  }

  /** file:line:column of an offset (the same numbers as yaml's LineCounter). */
  #pos(offset: number): SourcePos {
    const starts = this.#lineStarts;
    // Positions are asked for in (nearly) increasing order: try the last line found first.
    const last = this.#lastLine;
    if (starts[last]! <= offset && (last + 1 === starts.length || offset < starts[last + 1]!)) {
      return { file: this.#file, line: last + 1, column: offset - starts[last]! + 1 };
    }
    let lo = 0,
      hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    this.#lastLine = lo;
    return { file: this.#file, line: lo + 1, column: offset - starts[lo]! + 1 };
  }

  #isSeqItem(line: Line): boolean {
    const t = this.#text;
    return t[line.pos] === '-' && (line.pos + 1 === line.end || t[line.pos + 1] === ' ');
  }

  /** A block node starting on the current line, indented at least `minIndent`. */
  #blockNode(minIndent: number, depth: number): YNode {
    if (depth > 60) bail(); // toTree's depth limit
    const line = this.#lines[this.#li];
    if (!line || line.indent < minIndent) bail();
    return this.#isSeqItem(line!) ? this.#blockSeq(line!.indent, depth) : this.#blockMap(line!.indent, depth);
  }

  #blockMap(indent: number, depth: number): YNode {
    const entries: YEntry[] = [];
    const seen = new Set<string>();
    const mapStart = this.#lines[this.#li]!.pos;
    while (this.#li < this.#lines.length) {
      const line = this.#lines[this.#li]!;
      if (line.indent < indent) break;
      if (line.indent > indent || this.#isSeqItem(line)) bail();
      const keyStart = line.pos;
      const key = this.#key(keyStart, line);
      let p = this.#end;
      if (seen.has(key)) bail(); // duplicate keys: the general path reports them
      seen.add(key);
      p = this.#skipSpaces(p, line);
      let value: YNode;
      if (this.#atLineEnd(p, line)) {
        this.#li++;
        const next = this.#lines[this.#li];
        if (next && next.indent > indent) value = this.#blockNode(indent + 1, depth + 1);
        else if (next && next.indent === indent && this.#isSeqItem(next)) value = this.#blockSeq(indent, depth + 1);
        else return bail(); // an empty value
      } else {
        value = this.#inline(p, line, depth + 1);
      }
      entries.push({ key, keyPos: this.#pos(keyStart), value });
    }
    return { kind: 'map', pos: this.#pos(mapStart), entries: fit(entries) };
  }

  #blockSeq(indent: number, depth: number): YNode {
    const t = this.#text;
    const items: YNode[] = [];
    const seqStart = this.#lines[this.#li]!.pos;
    while (this.#li < this.#lines.length) {
      const line = this.#lines[this.#li]!;
      if (line.indent < indent) break;
      if (line.indent > indent) bail();
      if (!this.#isSeqItem(line)) break; // a key of the mapping this sequence is a value of
      const p = this.#skipSpaces(line.pos + 1, line);
      if (this.#atLineEnd(p, line)) {
        this.#li++;
        const next = this.#lines[this.#li];
        if (!next || next.indent <= indent) bail(); // an empty item
        items.push(this.#blockNode(indent + 1, depth + 1));
      } else if (t[p] === '-') {
        bail(); // `- - x`, or a plain scalar starting with '-'
      } else if (this.#isCompactKey(p, line)) {
        // `- key: value`: a mapping whose keys are indented like this first one.
        line.indent = p - line.start;
        line.pos = p;
        items.push(this.#blockMap(line.indent, depth + 1));
      } else {
        items.push(this.#inline(p, line, depth + 1));
      }
    }
    return { kind: 'seq', pos: this.#pos(seqStart), items: fit(items) };
  }

  /** A mapping key at `p` (plain or quoted), the offset after its ':' in #end; bails when it is not one. */
  #key(p: number, line: Line): string {
    const t = this.#text;
    const keyStart = p;
    let key: string;
    if (t[p] === '"' || t[p] === "'") {
      key = this.#quoted(p, line);
      p = this.#end;
    } else {
      const start = p;
      while (p < line.end && isKeyChar(t.charCodeAt(p))) p++;
      if (p === start || INDICATORS.has(t[start]!)) bail();
      key = String(resolvePlain(t.slice(start, p)));
    }
    if (t[p] !== ':' || (p + 1 < line.end && t[p + 1] !== ' ')) bail();
    if (key === '<<') bail();
    if (p - keyStart > 1000) bail(); // yaml's strict mode limits implicit keys to 1024 characters
    this.#end = p + 1;
    return key;
  }

  /** Does a compact mapping (`key: ...`) start at `p`? */
  #isCompactKey(p: number, line: Line): boolean {
    const t = this.#text;
    if (t[p] === '"' || t[p] === "'") {
      const close = t.indexOf(t[p]!, p + 1);
      return close > 0 && close < line.end && t[close + 1] === ':';
    }
    let q = p;
    while (q < line.end && isKeyChar(t.charCodeAt(q))) q++;
    return q > p && t[q] === ':' && (q + 1 === line.end || t[q + 1] === ' ');
  }

  /** A ':' inside a plain scalar: only `x:y` with a letter or digit after it (`tier:web`) stays in the subset. */
  #colonOk(q: number): boolean {
    const c = this.#text.charCodeAt(q + 1); // NaN past the end
    return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
  }

  #skipSpaces(p: number, line: Line): number {
    while (p < line.end && this.#text.charCodeAt(p) === 32) p++;
    return p;
  }

  /** Nothing but spaces and a comment left on the line? */
  #atLineEnd(p: number, line: Line): boolean {
    p = this.#skipSpaces(p, line);
    return p === line.end || (this.#text[p] === '#' && this.#text[p - 1] === ' ');
  }

  /** A value after `key: ` or `- `: the rest of the line. */
  #inline(p: number, line: Line, depth: number): YNode {
    const t = this.#text;
    let node: YNode;
    if (t[p] === '{' || t[p] === '[' || t[p] === '"' || t[p] === "'") {
      this.#flowIndent = line.indent;
      node = this.#flowNode(p, depth);
      // A flow collection may have gone on over the lines below: the rest of its last line must be empty.
      if (!this.#atLineEnd(this.#end, this.#lines[this.#li]!)) bail();
    } else {
      if (INDICATORS.has(t[p]!)) bail();
      let q = p;
      while (q < line.end && !(t[q] === '#' && t[q - 1] === ' ')) q++;
      const raw = trimSpaces(t.slice(p, q));
      for (let i = raw.indexOf(':'); i >= 0; i = raw.indexOf(':', i + 1)) if (!this.#colonOk(p + i)) bail();
      node = { kind: 'scalar', pos: this.#pos(p), value: resolvePlain(raw) };
    }
    this.#li++;
    return node;
  }

  /**
   * Space inside a flow collection from `p`: spaces, and past the end of the line (after an
   * end-of-line comment too) onto the next line, so a collection may go on over several lines
   * (`{ namespace: shop,  # why` / `fqdn: cilium }`, as policies/shop.yaml writes its targets).
   * Only onto the line right below, indented past the block line the collection started on:
   * a blank or comment-only line inside a collection, or a less indented one, leaves the subset.
   * Moves #li to the line it stops on; returns the offset of the next token.
   */
  #flowSpace(p: number): number {
    for (;;) {
      const line = this.#lines[this.#li]!;
      p = this.#skipSpaces(p, line);
      if (!this.#atLineEnd(p, line)) return p;
      const next = this.#lines[this.#li + 1];
      if (!next || next.start !== line.end + 1 || next.indent <= this.#flowIndent) bail();
      this.#li++;
      p = next!.pos;
    }
  }

  /**
   * A flow node: `{...}` or `[...]` (over several lines: #flowSpace), or a quoted or plain scalar
   * (on one line); the offset after it in #end, #li on the line it ends on.
   */
  #flowNode(p: number, depth: number): YNode {
    if (depth > 60) bail();
    const t = this.#text;
    const line = this.#lines[this.#li]!;
    const c = t[p];
    if (c === '"' || c === "'") {
      return { kind: 'scalar', pos: this.#pos(p), value: this.#quoted(p, line) };
    }
    if (c === '{') {
      const entries: YEntry[] = [];
      let seen: Set<string> | undefined;
      let q = this.#flowSpace(p + 1);
      if (t[q] !== '}') {
        for (;;) {
          const keyStart = q;
          const keyLine = this.#lines[this.#li]!;
          const key = this.#key(q, keyLine);
          const afterColon = this.#end;
          // The value starts on the key's line (`a:` at a line's end leaves the subset).
          if (afterColon >= keyLine.end || t[afterColon] !== ' ') bail();
          // A one-line mapping has a few keys: a scan rather than a Set per mapping (one per
          // flow), and a Set only past 8 keys (a long line must not make this quadratic).
          if (entries.length === 8) seen = new Set(entries.map((e) => e.key));
          if (seen ? seen.has(key) : entries.some((e) => e.key === key)) bail();
          seen?.add(key);
          const valueStart = this.#skipSpaces(afterColon, keyLine);
          if (this.#atLineEnd(valueStart, keyLine)) bail();
          const value = this.#flowNode(valueStart, depth + 1);
          const after = this.#end;
          entries.push({ key, keyPos: this.#pos(keyStart), value });
          q = this.#flowSpace(after);
          if (t[q] === ',') {
            q = this.#flowSpace(q + 1);
            if (t[q] === '}') bail(); // a trailing comma
            continue;
          }
          if (t[q] === '}') break;
          bail();
        }
      }
      this.#end = q + 1;
      return { kind: 'map', pos: this.#pos(p), entries: fit(entries) };
    }
    if (c === '[') {
      const items: YNode[] = [];
      let q = this.#flowSpace(p + 1);
      if (t[q] !== ']') {
        for (;;) {
          const item = this.#flowNode(q, depth + 1);
          const after = this.#end;
          items.push(item);
          q = this.#flowSpace(after);
          if (t[q] === ',') {
            q = this.#flowSpace(q + 1);
            if (t[q] === ']') bail();
            continue;
          }
          if (t[q] === ']') break;
          bail();
        }
      }
      this.#end = q + 1;
      return { kind: 'seq', pos: this.#pos(p), items: fit(items) };
    }
    // A plain scalar in a flow collection: up to ',', ']' or '}'.
    if (p >= line.end || INDICATORS.has(c!)) bail();
    let q = p;
    while (q < line.end) {
      const code = t.charCodeAt(q);
      if (code < 128 && FLOW_PLAIN_STOP[code] !== 0) {
        const ch = t[q]!;
        if (ch === ',' || ch === ']' || ch === '}') break;
        if (ch !== ':' || !this.#colonOk(q)) bail(); // '#', '[', '{', quotes, or a ':' that could be an indicator
      }
      q++;
    }
    const raw = trimSpaces(t.slice(p, q));
    if (raw === '') bail();
    this.#end = q;
    return { kind: 'scalar', pos: this.#pos(p), value: resolvePlain(raw) };
  }

  /** A quoted scalar on one line, without escapes (`\`) or doubled quotes (`''`); the offset after it in #end. */
  #quoted(p: number, line: Line): string {
    const t = this.#text;
    const quote = t[p]!;
    const close = t.indexOf(quote, p + 1);
    if (close < 0 || close >= line.end) bail();
    if (quote === "'" && t[close + 1] === "'") bail();
    if (t.slice(p + 1, close).includes('\\')) bail(); // escapes (double quotes); literal in single quotes, but rare
    this.#end = close + 1;
    return t.slice(p + 1, close);
  }
}
