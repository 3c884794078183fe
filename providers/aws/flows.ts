import { Ipv4Names, parseIpv4 } from '../../src/flows/addresses.js';
import {
  newFlowRecord,
  type ByteChunks,
  type FlowLogReader,
  type FlowSink,
  type TextChunks,
} from '../../src/flows/types.js';

/**
 * AWS VPC Flow Logs (DESIGN §6): space-separated records, one per line.
 *
 * - S3 delivery starts each file with a header line naming the fields (custom formats up to v5
 *   and later list them in any order); a header may come again further down (concatenated files).
 * - CloudWatch Logs has no header: lines are the default v2 format (14 fields), optionally after
 *   the ISO timestamp a CloudWatch export to S3 puts in front of each event.
 * - `-` is an absent value. NODATA/SKIPDATA records carry no flow: skipped and counted.
 * - `pkt-srcaddr`/`pkt-dstaddr` (v3), when present, replace `srcaddr`/`dstaddr`: behind a NAT
 *   gateway or for a pod's secondary address they are the real ends of the connection.
 * - `tcp-flags` (v3): SYN without ACK is only ever sent by the client. `flow-direction` (v5) says
 *   which end's interface logged the record.
 *
 * The hot path (issue 12 item 7: parse + fold ≥ 1 million records per CPU-second) parses each
 * line where it lies in the chunk: fields found with indexOf, numbers and IPv4 addresses read from
 * char codes, no regex, no substring per line or per field (an address's text comes from
 * `Ipv4Names`, made once per distinct address).
 */

/** The default format (version 2), in order. */
export const AWS_DEFAULT_FIELDS: readonly string[] = [
  'version',
  'account-id',
  'interface-id',
  'srcaddr',
  'dstaddr',
  'srcport',
  'dstport',
  'protocol',
  'packets',
  'bytes',
  'start',
  'end',
  'action',
  'log-status',
];

/** Every field name of the flow-log record format (versions 2–8), to recognize a header line. */
const KNOWN_FIELDS = new Set([
  ...AWS_DEFAULT_FIELDS,
  'vpc-id',
  'subnet-id',
  'instance-id',
  'tcp-flags',
  'type',
  'pkt-srcaddr',
  'pkt-dstaddr',
  'region',
  'az-id',
  'sublocation-type',
  'sublocation-id',
  'pkt-src-aws-service',
  'pkt-dst-aws-service',
  'flow-direction',
  'traffic-path',
  'ecs-cluster-arn',
  'ecs-cluster-name',
  'ecs-container-instance-arn',
  'ecs-container-instance-id',
  'ecs-container-id',
  'ecs-second-container-id',
  'ecs-service-name',
  'ecs-task-definition-arn',
  'ecs-task-arn',
  'ecs-task-id',
  'reject-reason',
  'resource-id',
  'encryption-status',
]);

const NONE = 0,
  SRC = 1,
  DST = 2,
  SPORT = 3,
  DPORT = 4,
  PROTO = 5,
  PACKETS = 6,
  BYTES = 7,
  START = 8,
  END = 9,
  ACTION = 10,
  STATUS = 11,
  PKTSRC = 12,
  PKTDST = 13,
  FLAGS = 14,
  DIRECTION = 15;

const ROLE_OF: Readonly<Record<string, number>> = {
  srcaddr: SRC,
  dstaddr: DST,
  srcport: SPORT,
  dstport: DPORT,
  protocol: PROTO,
  packets: PACKETS,
  bytes: BYTES,
  start: START,
  end: END,
  action: ACTION,
  'log-status': STATUS,
  'pkt-srcaddr': PKTSRC,
  'pkt-dstaddr': PKTDST,
  'tcp-flags': FLAGS,
  'flow-direction': DIRECTION,
};

/** A record layout: the role of each column. */
interface Layout {
  readonly roles: Uint8Array;
  readonly columns: number;
  readonly fromHeader: boolean;
  /** The default fields in the default order (with or without a header): the straight-line parse applies. */
  readonly isDefault: boolean;
}

function layoutOf(fields: readonly string[], fromHeader: boolean): Layout {
  const roles = new Uint8Array(fields.length);
  for (let i = 0; i < fields.length; i++) roles[i] = ROLE_OF[fields[i]!] ?? NONE;
  const isDefault = fields.length === AWS_DEFAULT_FIELDS.length && fields.every((f, i) => f === AWS_DEFAULT_FIELDS[i]);
  return { roles, columns: fields.length, fromHeader, isDefault };
}

const DEFAULT_LAYOUT = layoutOf(AWS_DEFAULT_FIELDS, false);

/** The header's field names, or undefined when the line is not a header (`${field}` spellings accepted). */
function headerFields(line: string): string[] | undefined {
  const c = line.charCodeAt(0);
  if (c >= 48 && c <= 57) return undefined;
  const fields = line
    .trim()
    .split(/\s+/)
    .map((f) => (f.startsWith('${') && f.endsWith('}') ? f.slice(2, -1) : f));
  if (fields.length < 2 || !fields.every((f) => KNOWN_FIELDS.has(f))) return undefined;
  return fields;
}

/** Where the record starts after a CloudWatch export's timestamp (`2026-11-30T12:00:00.000Z 2 …`), else `from`. */
function cloudWatchPrefix(text: string, from: number, to: number): number {
  if (to - from > 20 && text.charCodeAt(from + 4) === 45 && text.charCodeAt(from + 10) === 84) {
    const sp = text.indexOf(' ', from);
    return sp > from && sp < to ? sp + 1 : from;
  }
  return from;
}

/** Where the field the last `scanNum`/`scanIpv4` read ends (the offset of its space, or the line's end). */
let scanEnd = 0;

/** The end of the field that starts at `pos` (its space, or `to`). */
function fieldEnd(text: string, pos: number, to: number): number {
  const sp = text.indexOf(' ', pos);
  return sp < 0 || sp > to ? to : sp;
}

/** The non-negative integer field at `pos` (-1 for `-`, -2 when not a number); sets `scanEnd`. */
function scanNum(text: string, pos: number, to: number): number {
  let n = 0;
  let i = pos;
  for (; i < to; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) break;
    n = n * 10 + d;
  }
  if (i === to || text.charCodeAt(i) === 32) {
    scanEnd = i;
    return i > pos ? n : -2;
  }
  const sp = fieldEnd(text, i, to);
  scanEnd = sp;
  return sp - pos === 1 && text.charCodeAt(pos) === 45 ? -1 : -2;
}

/** The address field at `pos` as an IPv4 number (-1 when it is not a canonical dotted quad); sets `scanEnd`. */
function scanIpv4(text: string, pos: number, to: number): number {
  scanEnd = fieldEnd(text, pos, to);
  return parseIpv4(text, pos, scanEnd);
}

/** Where the field the last `byteNum`/`byteIpv4` read ends (the offset of its space). */
let byteEnd = 0;

/**
 * The digits at `pos` followed by a space, as a number; -1 for anything else (`-`, no digits, the
 * line or the chunk ending first): the general parse then reads the line. Sets `byteEnd`.
 */
function byteNum(c: Uint8Array, pos: number, n: number): number {
  let v = 0;
  let i = pos;
  for (; i < n; i++) {
    const d = c[i]! - 48;
    if (d < 0 || d > 9) break;
    v = v * 10 + d;
  }
  if (i === pos || i === n || c[i] !== 32) return -1;
  byteEnd = i;
  return v;
}

/** The canonical dotted quad at `pos` followed by a space, as a number (`parseIpv4`'s rules); else -1. Sets `byteEnd`. */
function byteIpv4(c: Uint8Array, pos: number, n: number): number {
  let ip = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = pos; i < n; i++) {
    const b = c[i]!;
    if (b === 32) {
      if (dots !== 3 || digits === 0) return -1;
      byteEnd = i;
      return ip * 256 + part;
    }
    if (b === 46) {
      if (digits === 0 || dots === 3) return -1;
      ip = ip * 256 + part;
      part = 0;
      digits = 0;
      dots++;
      continue;
    }
    const d = b - 48;
    if (d < 0 || d > 9 || (digits > 0 && part === 0)) return -1;
    part = part * 10 + d;
    if (part > 255) return -1;
    digits++;
  }
  return -1;
}

/** srcport, dstport, protocol, packets, bytes, start, end of the line `defaultBytes` reads. */
const DEFAULT_NUMBERS = new Float64Array(7);

/** The offset of the space that ends the field at `pos`; -1 when the line or the chunk ends first. */
function byteSkip(c: Uint8Array, pos: number, n: number): number {
  for (let i = pos; i < n; i++) {
    const b = c[i]!;
    if (b === 32) return i;
    if (b === 10) return -1;
  }
  return -1;
}

/** `c` as a Buffer (the same memory) for its text methods. */
function asBuffer(c: Uint8Array): Buffer {
  return Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
}

/** The AWS VPC Flow Logs reader. */
export const awsFlowLogReader: FlowLogReader = {
  label: 'AWS VPC Flow Logs',
  detect(head: string): boolean {
    const first = head.slice(0, head.indexOf('\n') >= 0 ? head.indexOf('\n') : head.length).trim();
    if (headerFields(first)) return true;
    const body = first.slice(cloudWatchPrefix(first, 0, first.length));
    return /^\d+ (\d{12}|-|unknown) (eni-[0-9a-f]+|-)\s/.test(body);
  },
  read(file: string, chunks: TextChunks, sink: FlowSink): Promise<void> {
    return readAwsFlowLog(file, chunks, sink);
  },
  readBytes(file: string, bytes: ByteChunks, sink: FlowSink): Promise<void> {
    return readAwsFlowLogBytes(file, bytes, sink);
  },
};

/** Parses one AWS flow-log file into `sink`. */
export async function readAwsFlowLog(file: string, chunks: TextChunks, sink: FlowSink): Promise<void> {
  const parser = new AwsLineParser(file, sink);
  // Lines are parsed where they lie in the chunk (offsets, no slice per line); only a line cut by a
  // chunk boundary is joined into a string of its own.
  let carry = '';
  let lineNo = 0;
  for await (const chunk of chunks) {
    let from = 0;
    let nl = chunk.indexOf('\n');
    if (carry.length > 0) {
      if (nl < 0) {
        carry += chunk;
        continue;
      }
      const line = carry + chunk.slice(0, nl);
      carry = '';
      parser.line(line, 0, line.charCodeAt(line.length - 1) === 13 ? line.length - 1 : line.length, ++lineNo);
      from = nl + 1;
      nl = chunk.indexOf('\n', from);
    }
    while (nl >= 0) {
      parser.line(chunk, from, nl > from && chunk.charCodeAt(nl - 1) === 13 ? nl - 1 : nl, ++lineNo);
      from = nl + 1;
      nl = chunk.indexOf('\n', from);
    }
    if (from < chunk.length) carry = chunk.slice(from);
  }
  if (carry.length > 0) {
    parser.line(carry, 0, carry.charCodeAt(carry.length - 1) === 13 ? carry.length - 1 : carry.length, ++lineNo);
  }
}

/**
 * Parses one AWS flow-log file from its bytes into `sink`: what `readAwsFlowLog` gives on the
 * file's UTF-8 text, without decoding it. A default-format line is parsed straight from the chunk
 * (`AwsLineParser.bytes`); any other line (a header, a custom format, IPv6, `-`, NODATA, a
 * malformed line) is decoded on its own and read by the general parse, so results and warnings
 * are the text path's. A line cut by a chunk boundary is copied (the chunk's buffer is reused).
 */
export async function readAwsFlowLogBytes(file: string, bytes: ByteChunks, sink: FlowSink): Promise<void> {
  const parser = new AwsLineParser(file, sink);
  let carry: Buffer | undefined;
  for await (const chunk of bytes) {
    let from = 0;
    if (carry) {
      const nl = chunk.indexOf(10);
      if (nl < 0) {
        carry = Buffer.concat([carry, chunk]);
        continue;
      }
      const line = Buffer.concat([carry, chunk.subarray(0, nl + 1)]);
      carry = undefined;
      parser.bytes(line, 0);
      from = nl + 1;
    }
    from = parser.bytes(chunk, from);
    if (from < chunk.length) carry = Buffer.from(chunk.subarray(from));
  }
  // The last line, without a line break.
  if (carry) parser.byteLine(carry, 0, carry.length);
}

/**
 * The parser of one file's lines: its current layout (a header line changes it), its scratch
 * record and the texts of the IPv4 addresses it has met (so a record's addresses are not sliced).
 */
class AwsLineParser {
  private layout: Layout = DEFAULT_LAYOUT;
  private readonly r = newFlowRecord();
  private readonly names = new Ipv4Names();
  private readonly file: string;
  private readonly sink: FlowSink;

  constructor(file: string, sink: FlowSink) {
    this.file = file;
    this.sink = sink;
  }

  private warn(line: number, message: string): void {
    this.sink.warn({ file: this.file, line, message: `${message}, skipped` });
  }

  /**
   * The common case, straight through: a default-format record (CloudWatch Logs, S3 without a
   * custom format, header or not) with IPv4 addresses, every number present and log-status OK. False, having
   * sent nothing, for anything else: the general parse below then reads the line (and words its
   * warnings), so this path never changes a result, it only skips the per-column dispatch.
   */
  private defaultLine(text: string, from: number, to: number): boolean {
    let p = text.indexOf(' ', from); // version
    if (p < 0 || p >= to) return false;
    p = text.indexOf(' ', p + 1); // account-id
    if (p < 0 || p >= to) return false;
    p = text.indexOf(' ', p + 1); // interface-id
    if (p < 0 || p >= to) return false;
    const src4 = scanIpv4(text, p + 1, to);
    p = scanEnd;
    if (src4 < 0 || p >= to) return false;
    const dst4 = scanIpv4(text, p + 1, to);
    p = scanEnd;
    if (dst4 < 0 || p >= to) return false;
    const sport = scanNum(text, p + 1, to);
    p = scanEnd;
    if (sport < 0 || p >= to) return false;
    const dport = scanNum(text, p + 1, to);
    p = scanEnd;
    if (dport < 0 || p >= to) return false;
    const proto = scanNum(text, p + 1, to);
    p = scanEnd;
    if (proto < 0 || p >= to) return false;
    const packets = scanNum(text, p + 1, to);
    p = scanEnd;
    if (packets < 0 || p >= to) return false;
    const bytes = scanNum(text, p + 1, to);
    p = scanEnd;
    if (bytes < 0 || p >= to) return false;
    const start = scanNum(text, p + 1, to);
    p = scanEnd;
    if (start < 0 || p >= to) return false;
    const end = scanNum(text, p + 1, to);
    p = scanEnd;
    if (end < 0 || p >= to) return false;
    const action = text.charCodeAt(p + 1);
    if (action !== 65 && action !== 82) return false;
    p = text.indexOf(' ', p + 1);
    if (p < 0 || p >= to) return false;
    // log-status OK, the last field.
    if (to - p !== 3 || text.charCodeAt(p + 1) !== 79 || text.charCodeAt(p + 2) !== 75) return false;
    const r = this.r;
    r.srcAddr = this.names.text(src4);
    r.dstAddr = this.names.text(dst4);
    r.srcPort = sport;
    r.dstPort = dport;
    r.protocol = proto;
    r.packets = packets;
    r.bytes = bytes;
    r.start = start;
    r.end = end;
    r.accepted = action === 65;
    r.role = 'unknown';
    r.reporter = 'unknown';
    if (this.sink.addIpv4) this.sink.addIpv4(r, src4, dst4);
    else this.sink.add(r);
    return true;
  }

  /** Lines read by `bytes` so far (the byte path numbers its own lines). */
  private lineNo = 0;

  /**
   * Parses the whole lines of `c` from `from`; returns where the line it could not finish (cut by
   * the end of `c`) starts, or `c.length`. One loop, monomorphic: a default-format line takes
   * `defaultBytes`, anything else `byteLine`.
   */
  bytes(c: Uint8Array, from: number): number {
    const n = c.length;
    while (from < n) {
      if (this.layout.isDefault) {
        const next = this.defaultBytes(c, from, n);
        if (next > 0) {
          from = next;
          continue;
        }
      }
      const nl = c.indexOf(10, from);
      if (nl < 0) return from;
      this.byteLine(c, from, nl);
      from = nl + 1;
    }
    return from;
  }

  /** The line `c[from, nl)` (without its `\n`) through the general parse, decoded as UTF-8 on its own. */
  byteLine(c: Uint8Array, from: number, nl: number): void {
    const lineNo = ++this.lineNo;
    const to = nl > from && c[nl - 1] === 13 ? nl - 1 : nl;
    if (to <= from) return;
    const text = asBuffer(c).toString('utf8', from, to);
    this.line(text, 0, text.length, lineNo);
  }

  /**
   * `defaultLine` on bytes: the line at `c[from]` when it is a default-format record that
   * `defaultLine` would take (every field as it expects, `\n` or `\r\n` after OK), sent to the
   * sink; returns the offset after its `\n`. Anything else returns -1 having sent nothing and
   * counted no line, and the caller hands the line to the general parse.
   */
  private defaultBytes(c: Uint8Array, from: number, n: number): number {
    const c0 = c[from]!;
    if (c0 < 48 || c0 > 57) return -1; // a header, a blank line, not a record: the general parse
    let p = from;
    // A CloudWatch export's timestamp in front (`cloudWatchPrefix`): the record starts after it.
    // (`cloudWatchPrefix` also wants more than 20 characters: no line shorter than that is a record.)
    const cloudWatch = !this.layout.fromHeader && from + 10 < n && c[from + 4] === 45 && c[from + 10] === 84;
    if (cloudWatch) {
      p = byteSkip(c, from, n);
      if (p < 0) return -1;
      p++;
    }
    // version, account-id, interface-id: skipped.
    for (let k = 0; k < 3; k++) {
      p = byteSkip(c, p, n);
      if (p < 0) return -1;
      p++;
    }
    const src4 = byteIpv4(c, p, n);
    if (src4 < 0) return -1;
    const dst4 = byteIpv4(c, byteEnd + 1, n);
    if (dst4 < 0) return -1;
    // srcport … end: seven numbers in a row, read by one loop (one copy of the digit loop for the
    // compiler to optimize, not seven: a smaller function reaches optimized code sooner).
    const v = DEFAULT_NUMBERS;
    p = byteEnd + 1;
    for (let k = 0; k < 7; k++) {
      const x = byteNum(c, p, n);
      if (x < 0) return -1;
      v[k] = x;
      p = byteEnd + 1;
    }
    const action = p < n ? c[p]! : 0;
    if (action !== 65 && action !== 82) return -1;
    p = byteSkip(c, p, n);
    if (p < 0 || p + 3 >= n || c[p + 1] !== 79 || c[p + 2] !== 75) return -1;
    // log-status OK, the last field: then the line break.
    const to = p + 3;
    let next: number;
    if (c[to] === 10) next = to + 1;
    else if (c[to] === 13 && to + 1 < n && c[to + 1] === 10) next = to + 2;
    else return -1;
    this.lineNo++;
    const r = this.r;
    // The fold names the addresses by their numbers: no text to find per record.
    if (this.sink.namesIpv4ByNumber !== true) {
      r.srcAddr = this.names.text(src4);
      r.dstAddr = this.names.text(dst4);
    }
    r.srcPort = v[0]!;
    r.dstPort = v[1]!;
    r.protocol = v[2]!;
    r.packets = v[3]!;
    r.bytes = v[4]!;
    r.start = v[5]!;
    r.end = v[6]!;
    r.accepted = action === 65;
    r.role = 'unknown';
    r.reporter = 'unknown';
    if (this.sink.addIpv4) this.sink.addIpv4(r, src4, dst4);
    else this.sink.add(r);
    return next;
  }

  /** Parses the line `text[from, to)` (without its line break). */
  line(text: string, from: number, to: number, lineNo: number): void {
    if (to <= from) return;
    const layout = this.layout;
    const c0 = text.charCodeAt(from);
    if (c0 < 48 || c0 > 57) {
      const fields = headerFields(text.slice(from, to));
      if (fields) {
        this.layout = layoutOf(fields, true);
        return;
      }
      // With a header the first field may be anything (fields in any order); without, a version.
      if (!layout.fromHeader) {
        this.warn(lineNo, 'not a flow-log record (it does not start with a version number)');
        return;
      }
    }
    let pos = layout.fromHeader ? from : cloudWatchPrefix(text, from, to);
    if (layout.isDefault && this.defaultLine(text, pos, to)) return;
    const roles = layout.roles;
    const n = layout.columns;
    // Addresses as [from, to) offsets and, when canonical IPv4, as numbers.
    let srcFrom = 0,
      srcTo = 0,
      src4 = -1,
      dstFrom = 0,
      dstTo = 0,
      dst4 = -1,
      pktSrcFrom = 0,
      pktSrcTo = 0,
      pktSrc4 = -1,
      pktDstFrom = 0,
      pktDstTo = 0,
      pktDst4 = -1;
    let sport = -1,
      dport = -1,
      proto = -1,
      packets = 0,
      bytes = 0,
      start = -1,
      end = -1,
      flags = -1;
    let action = 0,
      status = 79,
      direction = 0;
    let col = 0;
    // One pass over the line: numbers and addresses are read as they are scanned (their end is
    // `scanEnd`); only the fields the fold does not use are skipped with indexOf.
    while (pos <= to && col < n) {
      let sp: number;
      switch (roles[col]) {
        case SRC:
          srcFrom = pos;
          src4 = scanIpv4(text, pos, to);
          sp = srcTo = scanEnd;
          break;
        case DST:
          dstFrom = pos;
          dst4 = scanIpv4(text, pos, to);
          sp = dstTo = scanEnd;
          break;
        case PKTSRC:
          pktSrc4 = scanIpv4(text, pos, to);
          sp = scanEnd;
          if (sp - pos !== 1 || text.charCodeAt(pos) !== 45) {
            pktSrcFrom = pos;
            pktSrcTo = sp;
          }
          break;
        case PKTDST:
          pktDst4 = scanIpv4(text, pos, to);
          sp = scanEnd;
          if (sp - pos !== 1 || text.charCodeAt(pos) !== 45) {
            pktDstFrom = pos;
            pktDstTo = sp;
          }
          break;
        case SPORT:
          sport = scanNum(text, pos, to);
          sp = scanEnd;
          break;
        case DPORT:
          dport = scanNum(text, pos, to);
          sp = scanEnd;
          break;
        case PROTO:
          proto = scanNum(text, pos, to);
          sp = scanEnd;
          break;
        case PACKETS:
          packets = scanNum(text, pos, to);
          sp = scanEnd;
          break;
        case BYTES:
          bytes = scanNum(text, pos, to);
          sp = scanEnd;
          break;
        case START:
          start = scanNum(text, pos, to);
          sp = scanEnd;
          break;
        case END:
          end = scanNum(text, pos, to);
          sp = scanEnd;
          break;
        case FLAGS:
          flags = scanNum(text, pos, to);
          sp = scanEnd;
          break;
        default: {
          const role = roles[col];
          if (role === ACTION) action = pos < to ? text.charCodeAt(pos) : 0;
          else if (role === STATUS) status = pos < to ? text.charCodeAt(pos) : 0;
          else if (role === DIRECTION) direction = pos < to ? text.charCodeAt(pos) : 0;
          sp = text.indexOf(' ', pos);
          if (sp < 0 || sp > to) sp = to;
        }
      }
      pos = sp + 1;
      col++;
    }
    if (col < n || pos <= to) {
      this.warn(
        lineNo,
        `expected ${n} fields${layout.fromHeader ? ' (as the header line says)' : ' (the default format)'}, found ${col < n ? col : 'more'}`,
      );
      return;
    }
    if (status === 78 /* N */ || status === 83 /* S */) {
      this.sink.skip(status === 78 ? 'NODATA' : 'SKIPDATA');
      return;
    }
    // pkt-srcaddr/pkt-dstaddr (v3), when present, are the real ends of the connection.
    if (pktSrcTo > pktSrcFrom) {
      srcFrom = pktSrcFrom;
      srcTo = pktSrcTo;
      src4 = pktSrc4;
    }
    if (pktDstTo > pktDstFrom) {
      dstFrom = pktDstFrom;
      dstTo = pktDstTo;
      dst4 = pktDst4;
    }
    const noSrc = srcTo === srcFrom || (srcTo - srcFrom === 1 && text.charCodeAt(srcFrom) === 45);
    const noDst = dstTo === dstFrom || (dstTo - dstFrom === 1 && text.charCodeAt(dstFrom) === 45);
    if (noSrc || noDst) {
      if (action === 45) this.sink.skip('no addresses');
      else this.warn(lineNo, 'the record has no source or destination address');
      return;
    }
    let bad = '';
    if (proto < 0) bad = 'protocol';
    else if (sport === -2) bad = 'srcport';
    else if (dport === -2) bad = 'dstport';
    else if (packets === -2) bad = 'packets';
    else if (bytes === -2) bad = 'bytes';
    else if (start === -2) bad = 'start';
    else if (end === -2) bad = 'end';
    else if (action !== 65 && action !== 82) bad = 'action';
    if (bad) {
      this.warn(lineNo, `field ${bad} is not valid`);
      return;
    }
    const r = this.r;
    r.srcAddr = src4 >= 0 ? this.names.text(src4) : text.slice(srcFrom, srcTo);
    r.dstAddr = dst4 >= 0 ? this.names.text(dst4) : text.slice(dstFrom, dstTo);
    // -1 is `-` (absent): no ports, no counters.
    r.srcPort = Math.max(sport, 0);
    r.dstPort = Math.max(dport, 0);
    r.protocol = proto;
    r.packets = Math.max(packets, 0);
    r.bytes = Math.max(bytes, 0);
    r.start = start < 0 ? Math.max(end, 0) : start;
    r.end = end < 0 ? r.start : end;
    r.accepted = action === 65;
    r.role = flags >= 0 && (flags & 2) !== 0 && (flags & 16) === 0 ? 'src-client' : 'unknown';
    r.reporter = direction === 105 /* ingress */ ? 'dst' : direction === 101 /* egress */ ? 'src' : 'unknown';
    if (this.sink.addIpv4) this.sink.addIpv4(r, src4, dst4);
    else this.sink.add(r);
  }
}
