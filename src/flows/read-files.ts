import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { StringDecoder } from 'node:string_decoder';
import { isAscii } from 'node:buffer';
import { UsageError } from '../errors.js';
import type { ByteChunks, FlowWarning, TextChunks } from './types.js';

/**
 * Streaming input for the flow-log readers: files are read in 1 MiB chunks, gunzipped when they
 * are gzip (by content, not name: S3 delivers `.log.gz`, a user may have unpacked it), and handed
 * on either as bytes (a reader that parses bytes) or decoded as UTF-8 across chunk boundaries.
 * Nothing here holds a whole file.
 *
 * A plain file is read with `FileHandle.read` into two buffers taken in turn, the next chunk's
 * read already under way while the reader parses the current one: no stream machinery, no new
 * buffer per chunk (so no fresh memory to fault in, nothing for the collector), and the disk read
 * overlaps the parse.
 */

const CHUNK = 1 << 20;

/** A file opened for reading: its first characters (to detect the format) and its content. */
export interface OpenedText {
  readonly head: string;
  /** The decoded text. Iterate `chunks` or `bytes`, not both. */
  readonly chunks: TextChunks;
  /** The bytes (gunzipped); each chunk is valid until the next is asked for. */
  readonly bytes: ByteChunks;
  /** Closes the file when neither `chunks` nor `bytes` is read to its end (not a flow log, say). */
  close(): Promise<void>;
}

/** Opens a (possibly gzipped) text file; `head` holds its first decoded characters (up to 64 KiB). */
export async function openText(path: string, display = path): Promise<OpenedText> {
  const iterator = rawChunks(path, display)[Symbol.asyncIterator]();
  const pending: Uint8Array[] = [];
  const headDecoder = new StringDecoder('utf8');
  let head = '';
  while (head.length < 65536) {
    // The reader reuses its buffers: a chunk still pending when the next one is read is copied
    // first (the first chunk, usually the only one, is not).
    if (pending.length > 0) pending[pending.length - 1] = Buffer.from(pending[pending.length - 1]!);
    const next = await iterator.next();
    if (next.done) break;
    pending.push(next.value);
    // Only what the head needs is decoded (a character is at most 4 bytes), not the whole chunk.
    const want = 4 * (65536 - head.length) + 4;
    const buffer = Buffer.from(next.value.buffer, next.value.byteOffset, Math.min(next.value.byteLength, want));
    head += headDecoder.write(buffer);
    if (next.value.byteLength > want) break;
  }
  const bytes: ByteChunks = {
    async *[Symbol.asyncIterator]() {
      yield* pending.splice(0);
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        yield next.value;
      }
    },
  };
  const close = async (): Promise<void> => {
    await iterator.return?.(undefined);
  };
  return { head: head.slice(0, 65536), chunks: decoded(bytes), bytes, close };
}

/** The bytes of a file, as UTF-8 text across chunk boundaries. */
async function* decoded(bytes: ByteChunks): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  // Flow logs are ASCII: while every chunk so far was, the decoder holds no partial character and
  // a chunk that is ASCII too is copied as latin1 (the same text, several times faster than
  // validating UTF-8). From the first chunk that is not, the decoder takes over for good.
  let ascii = true;
  for await (const raw of bytes) {
    const buffer = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    let text: string;
    if (ascii && isAscii(buffer)) text = buffer.toString('latin1');
    else {
      ascii = false;
      text = decoder.write(buffer);
    }
    if (text) yield text;
  }
  const rest = decoder.end();
  if (rest) yield rest;
}

/** The bytes of a file, gunzipped when it is gzip; read errors become usage errors naming the file. */
async function* rawChunks(path: string, display: string): AsyncGenerator<Uint8Array> {
  try {
    const handle = await open(path, 'r');
    let gzip = false;
    let reading: ReturnType<typeof handle.read> | undefined;
    try {
      let current: Buffer = Buffer.allocUnsafe(CHUNK);
      let spare: Buffer | undefined;
      reading = handle.read(current, 0, CHUNK, null);
      for (let first = true; ; first = false) {
        const { bytesRead } = await reading;
        if (bytesRead === 0) break;
        if (first && bytesRead >= 2 && current[0] === 0x1f && current[1] === 0x8b) {
          gzip = true;
          break;
        }
        const chunk = current.subarray(0, bytesRead);
        // Read ahead into the other buffer while the caller parses this one. The promise is
        // awaited on the next turn; the no-op handler only keeps a failure from counting as
        // unhandled while the caller is still busy with this chunk.
        spare ??= Buffer.allocUnsafe(CHUNK);
        reading = handle.read(spare, 0, CHUNK, null);
        reading.catch(() => {});
        [current, spare] = [spare, current];
        yield chunk;
      }
    } finally {
      // A caller that stops early (`close`) leaves a read under way: let it end before the file closes.
      await reading?.catch(() => {});
      await handle.close();
    }
    if (gzip) {
      // Gzip: start over through zlib (nothing has been yielded yet).
      const gunzip = createGunzip({ chunkSize: CHUNK });
      const zipped = createReadStream(path, { highWaterMark: CHUNK });
      zipped.on('error', (e) => gunzip.destroy(e));
      for await (const raw of zipped.pipe(gunzip)) yield raw as Buffer;
    }
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') throw new UsageError(`flow log file not found: ${display}`);
    if (err.code === 'EISDIR') throw new UsageError(`${display} is a folder, not a flow log file`);
    if (
      err.code === 'Z_DATA_ERROR' ||
      err.code === 'Z_BUF_ERROR' ||
      /incorrect header|unexpected end/.test(err.message)
    ) {
      throw new UsageError(`${display}: not a valid gzip file (${err.message})`);
    }
    throw new UsageError(`${display}: cannot read (${err.message})`);
  }
}

/**
 * Calls `onLine` for every line of the chunks (without `\n` or a trailing `\r`) with its 1-based
 * number. Lines are cut with indexOf, not a regex: this is the hot path of the AWS reader.
 */
export async function forEachLine(chunks: TextChunks, onLine: (line: string, lineNo: number) => void): Promise<void> {
  let carry = '';
  let lineNo = 0;
  for await (const chunk of chunks) {
    let from = 0;
    let nl = chunk.indexOf('\n');
    if (nl >= 0 && carry.length > 0) {
      let line = carry + chunk.slice(0, nl);
      carry = '';
      if (line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
      onLine(line, ++lineNo);
      from = nl + 1;
      nl = chunk.indexOf('\n', from);
    }
    while (nl >= 0) {
      const end = nl > from && chunk.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      onLine(chunk.slice(from, end), ++lineNo);
      from = nl + 1;
      nl = chunk.indexOf('\n', from);
    }
    carry = from < chunk.length ? carry + chunk.slice(from) : carry;
  }
  if (carry.length > 0) {
    onLine(carry.charCodeAt(carry.length - 1) === 13 ? carry.slice(0, -1) : carry, ++lineNo);
  }
}

/**
 * Streams the JSON items of a flow-log file without holding the document: the elements of a
 * top-level array (`gcloud logging read --format=json`), the elements of a top-level object's
 * `records` array (Azure blobs), or each top-level object of a file with one JSON value per line
 * (log sinks). Each item is parsed on its own; a malformed one is a warning at its line and is
 * skipped, so one bad entry never drops the others.
 */
export async function forEachJsonItem(
  file: string,
  chunks: TextChunks,
  onItem: (value: unknown, line: number) => void,
  onWarn: (warning: FlowWarning) => void,
): Promise<void> {
  const iterator = chunks[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) return;
  const rest: TextChunks = {
    async *[Symbol.asyncIterator]() {
      yield first.value;
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        yield next.value;
      }
    },
  };
  if (isOneValuePerLine(first.value)) {
    // One JSON value per line (log sinks): each line parsed on its own, no character scan.
    await forEachLine(rest, (line, lineNo) => {
      if (line.trim() === '') return;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (e) {
        onWarn({ file, line: lineNo, message: `not valid JSON (${(e as Error).message}), skipped` });
        return;
      }
      onItem(value, lineNo);
    });
    return;
  }
  const scanner = new JsonItemScanner(file, onItem, onWarn);
  for await (const chunk of rest) scanner.push(chunk);
  scanner.end();
}

/** True when the text starts with a whole JSON object on its first line that is not an Azure blob. */
function isOneValuePerLine(head: string): boolean {
  const start = head.search(/\S/);
  if (start < 0 || head[start] !== '{') return false;
  const nl = head.indexOf('\n', start);
  if (nl < 0) return false;
  try {
    const value: unknown = JSON.parse(head.slice(start, nl));
    return typeof value === 'object' && value !== null && !('records' in value);
  } catch {
    return false;
  }
}

const QUOTE = 34,
  BACKSLASH = 92,
  LBRACE = 123,
  RBRACE = 125,
  LBRACKET = 91,
  RBRACKET = 93,
  COMMA = 44,
  COLON = 58,
  NL = 10;

/** The state machine behind `forEachJsonItem`; see there. */
class JsonItemScanner {
  /** Open containers: true for `{`, false for `[`. */
  private readonly stack: boolean[] = [];
  private inString = false;
  private escaped = false;
  /** The text of the current string while it is a key candidate of the top-level object. */
  private keyParts: string[] | undefined;
  private keyStart = -1;
  private lastKey = '';
  private lastSignificant = 0;
  /** Depth (stack length) whose direct children are items; -1 while not yet known. */
  private itemDepth = -1;
  /** Capturing an item: parts gathered from earlier chunks and the start index in this chunk. */
  private capturing = false;
  private parts: string[] = [];
  private start = 0;
  private itemLine = 0;
  /** A top-level object is captured whole unless it turns out to hold `records`. */
  private topObject = false;
  private line = 1;
  private prev = NL;

  private readonly file: string;
  private readonly onItem: (value: unknown, line: number) => void;
  private readonly onWarn: (warning: FlowWarning) => void;

  constructor(file: string, onItem: (value: unknown, line: number) => void, onWarn: (warning: FlowWarning) => void) {
    this.file = file;
    this.onItem = onItem;
    this.onWarn = onWarn;
  }

  push(chunk: string): void {
    const stack = this.stack;
    const n = chunk.length;
    this.start = 0;
    for (let i = 0; i < n; i++) {
      const c = chunk.charCodeAt(i);
      const lineStart = this.prev === NL;
      this.prev = c;
      if (c === NL) this.line++;
      if (lineStart && c === LBRACE && this.stack.length > 0 && (this.topObject || this.inString)) {
        // A `{` in column 1 inside a top-level object: in a one-entry-per-line file the entry
        // before was cut short. Report it and start over with this line's entry.
        this.fail('the entry does not end (truncated line?)');
        this.stack.length = 0;
        this.inString = false;
        this.escaped = false;
        this.keyParts = undefined;
        this.capturing = false;
        this.parts = [];
        this.topObject = false;
        this.itemDepth = -1;
      }
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === BACKSLASH) this.escaped = true;
        else if (c === QUOTE) {
          this.inString = false;
          if (this.keyParts) {
            this.keyParts.push(chunk.slice(this.keyStart, i));
            this.lastKey = this.keyParts.join('');
            this.keyParts = undefined;
          }
          this.lastSignificant = QUOTE;
        }
        continue;
      }
      if (c === 32 || c === NL || c === 13 || c === 9) continue;
      const depth = stack.length;
      // The start of an item: a value directly inside the items container.
      if (!this.capturing && this.itemDepth >= 0 && depth === this.itemDepth && c !== COMMA && c !== RBRACKET) {
        this.beginCapture(i);
      }
      if (c === QUOTE) {
        this.inString = true;
        if (depth === 1 && stack[0] === true && this.lastSignificant !== COLON) {
          this.keyParts = [];
          this.keyStart = i + 1;
        }
      } else if (c === LBRACE || c === LBRACKET) {
        if (depth === 0) {
          if (c === LBRACKET) this.itemDepth = 1;
          else {
            this.topObject = true;
            this.itemDepth = -1;
            this.beginCapture(i);
          }
        } else if (
          c === LBRACKET &&
          depth === 1 &&
          this.topObject &&
          this.lastSignificant === COLON &&
          this.lastKey === 'records'
        ) {
          // An Azure blob: stream the records instead of the whole object.
          this.capturing = false;
          this.parts = [];
          this.topObject = false;
          this.itemDepth = 2;
        }
        stack.push(c === LBRACE);
      } else if (c === RBRACE || c === RBRACKET) {
        if (depth === 0) {
          this.fail(`unbalanced ${String.fromCharCode(c)}`);
          continue;
        }
        // A mismatched bracket closes the innermost container anyway: the item it is in fails
        // JSON.parse (one warning) and the scan stays in step for the items after it.
        stack.pop();
        if (this.capturing && stack.length === (this.topObject ? 0 : this.itemDepth)) this.endCapture(chunk, i + 1);
        if (stack.length === 0) {
          this.itemDepth = -1;
          this.topObject = false;
        } else if (stack.length === 1 && this.itemDepth === 2 && c === RBRACKET) {
          this.itemDepth = -1;
        }
      } else if ((c === COMMA || c === RBRACKET) && this.capturing && depth === this.itemDepth) {
        // A scalar item ended.
        this.endCapture(chunk, i);
      }
      if (c === COMMA && depth === 1 && stack[0] === true) this.lastKey = '';
      this.lastSignificant = c;
    }
    if (this.capturing) {
      this.parts.push(chunk.slice(this.start));
    }
    if (this.keyParts) {
      this.keyParts.push(chunk.slice(this.keyStart));
      this.keyStart = 0;
    }
  }

  end(): void {
    if (this.capturing || this.stack.length > 0) this.fail('the file ends inside a JSON value (truncated?)');
  }

  private beginCapture(i: number): void {
    this.capturing = true;
    this.parts = [];
    this.start = i;
    this.itemLine = this.line;
  }

  private endCapture(chunk: string, to: number): void {
    this.parts.push(chunk.slice(this.start, to));
    const text = this.parts.join('');
    this.parts = [];
    this.capturing = false;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      this.onWarn({
        file: this.file,
        line: this.itemLine,
        message: `not valid JSON (${(e as Error).message}), skipped`,
      });
      return;
    }
    this.onItem(value, this.itemLine);
  }

  private fail(message: string): void {
    this.onWarn({ file: this.file, line: this.capturing ? this.itemLine : this.line, message: `${message}, skipped` });
  }
}
