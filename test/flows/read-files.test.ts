import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { forEachJsonItem, forEachLine, openText } from '../../src/flows/read-files.js';
import type { FlowWarning } from '../../src/flows/types.js';
import { chunksOf } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'bulkhead-read-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function text(path: string): Promise<string> {
  const o = await openText(path);
  let s = '';
  for await (const c of o.chunks) s += c;
  return s;
}

describe('streaming text input', () => {
  it('gunzips by content, whatever the name, and reads plain files named .gz as they are', async () => {
    const body = 'version srcaddr\n2 10.0.0.1\n'.repeat(50_000);
    writeFileSync(join(dir, 'zipped.log'), gzipSync(body));
    writeFileSync(join(dir, 'plain.log.gz'), body);
    expect(await text(join(dir, 'zipped.log'))).toBe(body);
    expect(await text(join(dir, 'plain.log.gz'))).toBe(body);
    expect((await openText(join(dir, 'zipped.log'))).head.startsWith('version srcaddr')).toBe(true);
  });

  it('a missing file or a broken gzip is a usage error naming the file', async () => {
    await expect(openText(join(dir, 'nope.log'), 'nope.log')).rejects.toThrow('flow log file not found: nope.log');
    writeFileSync(
      join(dir, 'broken.gz'),
      Buffer.concat([gzipSync('x'.repeat(1000)).subarray(0, 12), Buffer.from('garbage')]),
    );
    await expect(text(join(dir, 'broken.gz'))).rejects.toThrow(/not a valid gzip file|cannot read/);
  });

  it('close() releases a file read only as far as its head (a file of no known format)', async () => {
    const fds = () => readdirSync('/proc/self/fd').length;
    writeFileSync(join(dir, 'big.txt'), 'not a flow log\n'.repeat(300_000));
    const before = fds();
    const o = await openText(join(dir, 'big.txt'));
    expect(o.head.startsWith('not a flow log')).toBe(true);
    expect(fds()).toBe(before + 1);
    await o.close();
    expect(fds()).toBe(before);
  });

  it("hands on the file's bytes (gunzipped when gzip) across the two reused buffers", async () => {
    const body = Buffer.from(Array.from({ length: 250_000 }, (_, i) => `line ${i} é\n`).join(''));
    for (const [name, content] of [
      ['bytes.log', body],
      ['bytes.log.gz', gzipSync(body)],
    ] as const) {
      writeFileSync(join(dir, name), content);
      const o = await openText(join(dir, name));
      const parts: Buffer[] = [];
      for await (const c of o.bytes) parts.push(Buffer.from(c));
      expect(Buffer.concat(parts).equals(body)).toBe(true);
    }
  });

  it('splits lines across any chunk boundary, CRLF or LF, last line without a newline', async () => {
    const lines: string[] = [];
    await forEachLine(chunksOf('a b\r\nc\n\nd e f', 1), (l, n) => lines.push(`${n}:${l}`));
    expect(lines).toEqual(['1:a b', '2:c', '3:', '4:d e f']);
  });

  it('streams JSON items: a top-level array, a records array, one value per line; strings with brackets and escapes', async () => {
    const items = [
      { a: '}]"x\\', b: [1, { c: '{' }] },
      { a: 'ü', b: [] },
    ];
    const shapes = [
      JSON.stringify(items, null, 2),
      JSON.stringify({ other: { records: 1 }, records: items }),
      items.map((i) => JSON.stringify(i)).join('\n'),
    ];
    for (const shape of shapes) {
      for (const size of [1, 3, 1 << 20]) {
        const got: unknown[] = [];
        const warnings: FlowWarning[] = [];
        await forEachJsonItem(
          'f.json',
          chunksOf(shape, size),
          (v) => got.push(v),
          (w) => warnings.push(w),
        );
        expect(warnings).toEqual([]);
        expect(got).toEqual(items);
      }
    }
  });

  it('an entry per line: a cut-short line is one warning at its line, the lines after it are kept', async () => {
    const got: unknown[] = [];
    const warnings: FlowWarning[] = [];
    await forEachJsonItem(
      'f.json',
      chunksOf('{"a": 1}\n{"a": \n{"a": 3}\n', 2),
      (v) => got.push(v),
      (w) => warnings.push(w),
    );
    expect(got).toEqual([{ a: 1 }, { a: 3 }]);
    expect(warnings.map((w) => w.line)).toEqual([2]);
  });

  it('a pretty-printed entry cut short before another in column 1 is one warning; both neighbours are kept', async () => {
    const got: unknown[] = [];
    const warnings: FlowWarning[] = [];
    await forEachJsonItem(
      'f.json',
      chunksOf('{\n  "a": 1\n}\n{\n  "a": \n{\n  "a": 3\n}\n', 3),
      (v) => got.push(v),
      (w) => warnings.push(w),
    );
    expect(got).toEqual([{ a: 1 }, { a: 3 }]);
    expect(warnings).toEqual([
      { file: 'f.json', line: 4, message: 'the entry does not end (truncated line?), skipped' },
    ]);
  });

  it('a file cut short is one warning; the items before it are kept', async () => {
    const got: unknown[] = [];
    const warnings: FlowWarning[] = [];
    await forEachJsonItem(
      'f.json',
      chunksOf('[{"a": 1},\n{"a": 2},\n{"a": ', 4),
      (v) => got.push(v),
      (w) => warnings.push(w),
    );
    expect(got).toEqual([{ a: 1 }, { a: 2 }]);
    expect(warnings).toEqual([
      { file: 'f.json', line: 3, message: 'the file ends inside a JSON value (truncated?), skipped' },
    ]);
  });
});
