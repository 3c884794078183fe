import type { FlowRecord, FlowSink, FlowWarning, TextChunks } from '../../src/flows/types.js';

/** Text as chunks of `size` characters (1 exercises every chunk boundary). */
export function chunksOf(text: string, size = 1 << 20): TextChunks {
  return {
    async *[Symbol.asyncIterator]() {
      for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
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
