/**
 * Where a JSON text breaks, for the messages of the providers' snapshot readers (`file:line:column:
 * not valid JSON (…)`). Written by hand because Node 20's JSON.parse names the offending token but
 * often not its position, and no small, well-kept library reports one for plain JSON.
 */

/**
 * Offset of the first syntax error of a JSON text (a strict RFC 8259 scan; the text's length when
 * the text ends too soon), or -1 when the text is valid. V8's messages carry a position only sometimes.
 */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const ws = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const stop = (): never => {
    throw i;
  };
  const string = (): void => {
    i++;
    while (i < text.length) {
      const ch = text.charCodeAt(i);
      if (ch === 0x22) {
        i++;
        return;
      }
      if (ch === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
            i++;
            stop();
          }
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else {
          i++;
          stop();
        }
        continue;
      }
      if (ch < 0x20) stop();
      i++;
    }
    stop();
  };
  const value = (depth: number): void => {
    ws();
    if (depth > 512) stop();
    const c = text[i];
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i++;
      ws();
      if (text[i] === close) {
        i++;
        return;
      }
      for (;;) {
        if (c === '{') {
          ws();
          if (text[i] !== '"') stop();
          string();
          ws();
          if (text[i] !== ':') stop();
          i++;
        }
        value(depth + 1);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === close) {
          i++;
          return;
        }
        stop();
      }
    }
    if (c === '"') return string();
    const m = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 64));
    if (!m) stop();
    i += m![0].length;
  };
  try {
    value(0);
    ws();
    if (i < text.length) stop();
    return -1;
  } catch (e) {
    if (typeof e === 'number') return e;
    throw e;
  }
}

/** 1-based line and column of an offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let k = 0; k < offset && k < text.length; k++) {
    if (text.charCodeAt(k) === 10) {
      line++;
      start = k + 1;
    }
  }
  return { line, column: offset - start + 1 };
}

/** The place and reason of a JSON.parse failure of `text`: 1-based line and column, and V8's message without its quoted excerpt. */
export function jsonSyntaxError(text: string, err: unknown): { line: number; column: number; reason: string } {
  const offset = jsonErrorOffset(text);
  const { line, column } = lineColumn(text, offset < 0 ? text.length : offset);
  const reason = (err instanceof Error ? err.message : String(err))
    .replace(/\s*\(line \d+ column \d+\)/, '')
    .replace(/ in JSON at position \d+.*$/s, '')
    // Node 20 quotes the text around the error, newlines included: the place says it better.
    .replace(/, (?:\.\.\.)?".*$/s, '');
  return { line, column, reason };
}
