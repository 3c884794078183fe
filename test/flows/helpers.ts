import type { ByteChunks, FlowRecord, FlowSink, FlowWarning, TextChunks } from '../../src/flows/types.js';

/** Text as chunks of `size` characters (1 exercises every chunk boundary). */
export function chunksOf(text: string, size = 1 << 20): TextChunks {
  return {
    async *[Symbol.asyncIterator]() {
      for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
    },
  };
}

/**
 * Bytes as chunks of `size` bytes, each copied into the SAME buffer (as src/flows/read-files.ts
 * reuses its buffers): a reader that keeps a view of a chunk past the next one reads garbage.
 */
export function bytesOf(bytes: Uint8Array, size = 1 << 20): ByteChunks {
  return {
    async *[Symbol.asyncIterator]() {
      const shared = Buffer.alloc(Math.max(1, Math.min(size, bytes.length)));
      for (let i = 0; i < bytes.length; i += size) {
        const part = bytes.subarray(i, i + size);
        shared.fill(0x2a);
        shared.set(part);
        yield shared.subarray(0, part.length);
      }
      shared.fill(0x2a);
    },
  };
}

/** A sink that keeps copies of every record, skip and warning. */
export function recordingSink(): FlowSink & { records: FlowRecord[]; skipped: string[]; warnings: FlowWarning[] } {
  const records: FlowRecord[] = [];
  const skipped: string[] = [];
  const warnings: FlowWarning[] = [];
  return {
    records,
    skipped,
    warnings,
    add: (r) => records.push({ ...r }),
    skip: (reason) => skipped.push(reason),
    warn: (w) => warnings.push(w),
  };
}
