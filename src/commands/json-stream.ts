import type { Json } from '../plan/types.js';

/**
 * `JSON.stringify(value, null, 2)`, written in pieces: the same bytes, never one string of the
 * whole. `render --provider gcp --json` of 10,000 segments is ~380 MB of text, close to V8's
 * largest string (~512 MB, past it JSON.stringify throws "Invalid string length") and held twice
 * while written. Arrays and objects down to `depth` levels are walked here; what is below is one
 * JSON.stringify each (an object per firewall rule, security group, NSG rule), re-indented, and
 * the pieces go to `write` about `chunk` characters at a time.
 */
export function writeJson(
  value: Json,
  write: (text: string) => void,
  options: { readonly depth?: number; readonly chunk?: number } = {},
): void {
  const maxDepth = options.depth ?? 3;
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
  const walk = (v: Json | undefined, indent: string, depth: number): void => {
    if (depth >= maxDepth || v === null || typeof v !== 'object') {
      // JSON.stringify's own text, its lines indented by where it sits (strings never hold a raw
      // newline: JSON escapes it, so every '\n' is a line break of the layout).
      const text = JSON.stringify(v === undefined ? null : v, null, 2);
      out(indent === '' ? text : text.replaceAll('\n', `\n${indent}`));
      return;
    }
    const inner = `${indent}  `;
    if (Array.isArray(v)) {
      if (v.length === 0) return out('[]');
      out('[');
      (v as readonly (Json | undefined)[]).forEach((item, i) => {
        out(i === 0 ? `\n${inner}` : `,\n${inner}`);
        walk(item, inner, depth + 1);
      });
      return out(`\n${indent}]`);
    }
    // A value JSON.stringify would leave out (undefined) is left out here too.
    const entries = Object.entries(v as { readonly [k: string]: Json | undefined }).filter(([, x]) => x !== undefined);
    if (entries.length === 0) return out('{}');
    out('{');
    entries.forEach(([k, x], i) => {
      out(`${i === 0 ? '' : ','}\n${inner}${JSON.stringify(k)}: `);
      walk(x, inner, depth + 1);
    });
    out(`\n${indent}}`);
  };
  walk(value, '', 0);
  if (buffer.length > 0) write(buffer.join(''));
}
