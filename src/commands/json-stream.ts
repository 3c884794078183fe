import type { Json } from '../plan/types.js';

/**
 * `JSON.stringify(value, null, 2)`, written in pieces: the same bytes, never one string of the
 * whole. `render --provider gcp --json` of 10,000 segments is ~380 MB of text, close to V8's
 * largest string (~512 MB, past it JSON.stringify throws "Invalid string length") and held twice
 * while written.
 *
 * Lists and objects larger than `leafNodes` values are walked here; what is smaller (a firewall
 * rule, a security group, an NSG rule) is written by JSON.stringify, many list items in one call
 * (`stringifyItems`), and the pieces go to `write` about `chunk` characters at a time. Walking to
 * a fixed depth instead made one JSON.stringify call, and a re-indenting copy of its text, per
 * field of every GCP firewall rule: 75-80% of `render --json`'s time (issue 11).
 */
export function writeJson(
  value: Json,
  write: (text: string) => void,
  options: { readonly leafNodes?: number; readonly chunk?: number } = {},
): void {
  const leafNodes = Math.max(1, options.leafNodes ?? 2000);
  const chunk = options.chunk ?? 1 << 20;
  let buffer: string[] = [];
  let size = 0;
  const out = (text: string) => {
    buffer.push(text);
    size += text.length;
    if (size >= chunk) {
      write(buffer.join(''));
      buffer = [];
      size = 0;
    }
  };
  /** `v` at nesting `level`, its first line on the current line (after a key or an item's indent). */
  const walk = (v: Json | undefined, level: number): void => {
    if (v === null || typeof v !== 'object' || nodesUpTo(v, leafNodes) <= leafNodes) {
      if (level === 0) return out(JSON.stringify(v === undefined ? null : v, null, 2));
      // One item's text at this level: the batch's body without its leading "\n" + indent.
      return out(stringifyItems([v], level).slice(1 + 2 * level));
    }
    walkLarge(v, level);
  };
  /** `walk` of a list or object already counted past `leafNodes`. */
  const walkLarge = (v: readonly Json[] | { readonly [k: string]: Json }, level: number): void => {
    const indent = '  '.repeat(level);
    const inner = `${indent}  `;
    if (Array.isArray(v)) {
      const list = v as readonly (Json | undefined)[];
      out('[');
      // Runs of small items as batches of about `leafNodes` values each; large items walked.
      let start = 0;
      let nodes = 0;
      const flush = (end: number) => {
        if (end > start) out(`${start === 0 ? '' : ','}${stringifyItems(list.slice(start, end), level + 1)}`);
        start = end;
        nodes = 0;
      };
      for (let i = 0; i < list.length; i++) {
        const n = nodesUpTo(list[i], leafNodes);
        if (n > leafNodes) {
          flush(i);
          out(`${i === 0 ? '' : ','}\n${inner}`);
          walkLarge(list[i] as readonly Json[] | { readonly [k: string]: Json }, level + 1);
          start = i + 1;
          continue;
        }
        if (nodes + n > leafNodes) flush(i);
        nodes += n;
      }
      flush(list.length);
      return out(`\n${indent}]`);
    }
    // A value JSON.stringify would leave out (undefined) is left out here too.
    const entries = Object.entries(v as { readonly [k: string]: Json | undefined }).filter(([, x]) => x !== undefined);
    out('{');
    entries.forEach(([k, x], i) => {
      out(`${i === 0 ? '' : ','}\n${inner}${JSON.stringify(k)}: `);
      walk(x, level + 1);
    });
    out(`\n${indent}}`);
  };
  walk(value, 0);
  if (buffer.length > 0) write(buffer.join(''));
}

/**
 * How many values `v` holds (itself included), counted up to a little past `limit`: the walk
 * asks of every list and object it meets, so a count must not go through a large one.
 */
function nodesUpTo(v: Json | undefined, limit: number): number {
  if (v === null || typeof v !== 'object') return 1;
  let n = 1;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length && n <= limit; i++) n += nodesUpTo(v[i], limit - n);
  } else {
    for (const k in v) {
      if (n > limit) break;
      n += nodesUpTo((v as { readonly [k: string]: Json })[k], limit - n);
    }
  }
  return n;
}

/**
 * "\n<indent>item,\n<indent>item…": the items as JSON.stringify(…, null, 2) writes the items of a
 * list at nesting `level`, in one call. The items are put at that depth inside `level - 1` lists
 * of one item each, so JSON.stringify indents them itself (no copy of the text to re-indent), and
 * the text of those wrappers is cut off. An undefined item reads `null`, as in any list.
 */
function stringifyItems(items: readonly (Json | undefined)[], level: number): string {
  let wrapped: unknown = items;
  for (let i = 1; i < level; i++) wrapped = [wrapped];
  const text = JSON.stringify(wrapped, null, 2);
  // Each wrapper opens with "[\n" and its item's indent; the items' own list opens with "[".
  // The close: "\n" + the items' list's indent + "]", then each wrapper's "\n" + indent + "]".
  let open = 1;
  let close = 2 * (level - 1) + 2;
  for (let i = 1; i < level; i++) {
    open += 2 + 2 * i;
    close += 2 + 2 * (i - 1);
  }
  return text.slice(open, text.length - close);
}
