import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { CloudId } from '../compile/types.js';
import { UsageError } from '../errors.js';
import { ConnectionTable, type FoldOptions } from './aggregate.js';
import { openText } from './read-files.js';
import type { FlowLogReader, FlowRecord, FlowSink, Inventory, InventoryReader } from './types.js';

/**
 * Reading the inputs of `discover` and `audit`: flow-log files (each file's format detected by its
 * content, from the readers the providers expose) folded into one ConnectionTable, and an
 * inventory file parsed by the provider whose export it is. Core code: the clouds arrive as
 * `{cloud, reader}` pairs from the provider registry, never by import.
 */

/** A flow-log reader with the cloud it belongs to. */
export interface CloudFlowReader {
  readonly cloud: CloudId;
  readonly reader: FlowLogReader;
}

/** A progress report while files are read (stderr for large inputs). */
export type Progress = (message: string) => void;

/** What `readFlowFiles` returns: the fold and the clouds whose logs were read. */
export interface FlowInput {
  readonly table: ConnectionTable;
  readonly clouds: ReadonlySet<CloudId>;
  readonly files: number;
}

const PROGRESS_EVERY = 1 << 21;

/** Counts records for progress lines without touching the fold's hot path more than a counter. */
function withProgress(table: ConnectionTable, file: string, progress: Progress | undefined): FlowSink {
  if (!progress) return table;
  let n = 0;
  return {
    add(r: FlowRecord) {
      table.add(r);
      if (++n % PROGRESS_EVERY === 0) progress(`${file}: ${n.toLocaleString('en-US')} records…`);
    },
    addIpv4(r: FlowRecord, srcIp4: number, dstIp4: number) {
      table.addIpv4(r, srcIp4, dstIp4);
      if (++n % PROGRESS_EVERY === 0) progress(`${file}: ${n.toLocaleString('en-US')} records…`);
    },
    skip: (reason) => table.skip(reason),
    warn: (w) => table.warn(w),
    namesIpv4ByNumber: table.namesIpv4ByNumber,
  };
}

/**
 * Reads every flow-log file into one fold. Paths are relative to `cwd`; a file of no known format
 * is a usage error naming it and the formats tried.
 */
export async function readFlowFiles(
  files: readonly string[],
  readers: readonly CloudFlowReader[],
  options: FoldOptions & { readonly cwd: string; readonly progress?: Progress },
): Promise<FlowInput> {
  if (files.length === 0) throw new UsageError('no flow-log file given (--flows FILE…)');
  const table = new ConnectionTable(options);
  const clouds = new Set<CloudId>();
  for (const file of files) {
    const opened = await openText(resolve(options.cwd, file), file);
    const found = readers.find((r) => r.reader.detect(opened.head));
    if (!found) {
      await opened.close();
      if (opened.head.trim() === '') continue;
      throw new UsageError(
        `${file}: not a flow log Bulkhead reads (tried ${readers.map((r) => r.reader.label).join(', ')})`,
      );
    }
    clouds.add(found.cloud);
    options.progress?.(`reading ${file} (${found.reader.label})`);
    const sink = withProgress(table, file, options.progress);
    // The bytes when the reader parses bytes (AWS): no decoded copy of the file.
    if (found.reader.readBytes) await found.reader.readBytes(file, opened.bytes, sink);
    else await found.reader.read(file, opened.chunks, sink);
  }
  return { table, clouds, files: files.length };
}

/** An inventory reader with its cloud. */
export interface CloudInventoryReader {
  readonly cloud: CloudId;
  readonly reader: InventoryReader;
}

/** Reads an inventory file (the cloud CLI's JSON); a usage error when it is not one Bulkhead knows. */
export async function readInventoryFile(
  file: string,
  readers: readonly CloudInventoryReader[],
  cwd: string,
): Promise<Inventory> {
  let text: string;
  try {
    text = await readFile(resolve(cwd, file), 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(
      code === 'ENOENT' ? `inventory file not found: ${file}` : `${file}: cannot read (${(e as Error).message})`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  const found = readers.find((r) => r.reader.detect(json));
  if (!found)
    throw new UsageError(
      `${file}: not an inventory Bulkhead reads (expected the JSON of ${readers.map((r) => `\`${r.reader.source}\``).join(', ')})`,
    );
  return found.reader.parse(json, file);
}

/**
 * A time option (`--since`, `--until`): RFC 3339 / ISO 8601 (`2026-11-01`, `2026-11-01T12:00:00Z`),
 * seconds since the epoch, or a duration back from now (`30d`, `12h`, `90m`). Seconds since the epoch.
 */
export function parseTimeOption(name: string, value: string, now: number = Date.now() / 1000): number {
  const rel = /^(\d+)([dhm])$/.exec(value);
  if (rel) return now - Number(rel[1]) * (rel[2] === 'd' ? 86400 : rel[2] === 'h' ? 3600 : 60);
  if (/^\d+$/.test(value)) return Number(value);
  const t = Date.parse(value);
  if (Number.isNaN(t) || !/^\d{4}-\d{2}-\d{2}/.test(value)) {
    throw new UsageError(
      `${name} needs a time (2026-11-01, 2026-11-01T12:00:00Z), seconds since the epoch or a duration (30d, 12h), not "${value}"`,
    );
  }
  return t / 1000;
}
