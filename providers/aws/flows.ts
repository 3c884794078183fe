import { forEachLine } from '../../src/flows/read-files.js';
import { newFlowRecord, type FlowLogReader, type FlowSink, type TextChunks } from '../../src/flows/types.js';

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
 * The hot path splits with indexOf and parses numbers from char codes: no regex, no per-field
 * substrings beyond the two addresses the fold keys on.
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
}

function layoutOf(fields: readonly string[], fromHeader: boolean): Layout {
  const roles = new Uint8Array(fields.length);
  for (let i = 0; i < fields.length; i++) roles[i] = ROLE_OF[fields[i]!] ?? NONE;
  return { roles, columns: fields.length, fromHeader };
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

/** True at the start of a CloudWatch export line (`2026-11-30T12:00:00.000Z 2 …`). */
function cloudWatchPrefix(line: string): number {
  if (line.length > 20 && line.charCodeAt(4) === 45 && line.charCodeAt(10) === 84) {
    const sp = line.indexOf(' ');
    return sp > 0 ? sp + 1 : 0;
  }
  return 0;
}

/** A non-negative integer from `line[from, to)`, -1 for `-`, -2 when not a number. */
function num(line: string, from: number, to: number): number {
  if (to - from === 1 && line.charCodeAt(from) === 45) return -1;
  if (to <= from) return -2;
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = line.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -2;
    n = n * 10 + d;
  }
  return n;
}

/** The AWS VPC Flow Logs reader. */
export const awsFlowLogReader: FlowLogReader = {
  label: 'AWS VPC Flow Logs',
  detect(head: string): boolean {
    const first = head.slice(0, head.indexOf('\n') >= 0 ? head.indexOf('\n') : head.length).trim();
    if (headerFields(first)) return true;
    const body = first.slice(cloudWatchPrefix(first));
    return /^\d+ (\d{12}|-|unknown) (eni-[0-9a-f]+|-)\s/.test(body);
  },
  read(file: string, chunks: TextChunks, sink: FlowSink): Promise<void> {
    return readAwsFlowLog(file, chunks, sink);
  },
};

/** Parses one AWS flow-log file into `sink`. */
export async function readAwsFlowLog(file: string, chunks: TextChunks, sink: FlowSink): Promise<void> {
  let layout = DEFAULT_LAYOUT;
  const r = newFlowRecord();
  const warn = (line: number, message: string) => sink.warn({ file, line, message: `${message}, skipped` });
  await forEachLine(chunks, (line, lineNo) => {
    if (line.length === 0) return;
    const c0 = line.charCodeAt(0);
    if (c0 < 48 || c0 > 57) {
      const fields = headerFields(line);
      if (fields) {
        layout = layoutOf(fields, true);
        return;
      }
      // With a header the first field may be anything (fields in any order); without, a version.
      if (!layout.fromHeader) {
        warn(lineNo, 'not a flow-log record (it does not start with a version number)');
        return;
      }
    }
    let pos = layout.fromHeader ? 0 : cloudWatchPrefix(line);
    const roles = layout.roles;
    const n = layout.columns;
    let src = '',
      dst = '',
      pktSrc = '',
      pktDst = '';
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
    let bad = '';
    const len = line.length;
    while (pos <= len && col < n) {
      let sp = line.indexOf(' ', pos);
      if (sp < 0) sp = len;
      switch (roles[col]) {
        case NONE:
          break;
        case SRC:
          src = line.slice(pos, sp);
          break;
        case DST:
          dst = line.slice(pos, sp);
          break;
        case PKTSRC:
          if (sp - pos !== 1 || line.charCodeAt(pos) !== 45) pktSrc = line.slice(pos, sp);
          break;
        case PKTDST:
          if (sp - pos !== 1 || line.charCodeAt(pos) !== 45) pktDst = line.slice(pos, sp);
          break;
        case SPORT:
          sport = num(line, pos, sp);
          break;
        case DPORT:
          dport = num(line, pos, sp);
          break;
        case PROTO:
          proto = num(line, pos, sp);
          break;
        case PACKETS:
          packets = num(line, pos, sp);
          break;
        case BYTES:
          bytes = num(line, pos, sp);
          break;
        case START:
          start = num(line, pos, sp);
          break;
        case END:
          end = num(line, pos, sp);
          break;
        case FLAGS:
          flags = num(line, pos, sp);
          break;
        case ACTION:
          action = line.charCodeAt(pos);
          break;
        case STATUS:
          status = line.charCodeAt(pos);
          break;
        case DIRECTION:
          direction = line.charCodeAt(pos);
          break;
      }
      pos = sp + 1;
      col++;
    }
    if (col < n || pos <= len) {
      warn(
        lineNo,
        `expected ${n} fields${layout.fromHeader ? ' (as the header line says)' : ' (the default format)'}, found ${col < n ? col : 'more'}`,
      );
      return;
    }
    if (status === 78 /* N */ || status === 83 /* S */) {
      sink.skip(status === 78 ? 'NODATA' : 'SKIPDATA');
      return;
    }
    if (src === '-' || dst === '-' || src === '' || dst === '') {
      if (action === 45) sink.skip('no addresses');
      else warn(lineNo, 'the record has no source or destination address');
      return;
    }
    if (proto < 0) bad = 'protocol';
    else if (sport === -2) bad = 'srcport';
    else if (dport === -2) bad = 'dstport';
    else if (packets === -2) bad = 'packets';
    else if (bytes === -2) bad = 'bytes';
    else if (start === -2) bad = 'start';
    else if (end === -2) bad = 'end';
    else if (action !== 65 && action !== 82) bad = 'action';
    if (bad) {
      warn(lineNo, `field ${bad} is not valid`);
      return;
    }
    r.srcAddr = pktSrc || src;
    r.dstAddr = pktDst || dst;
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
    sink.add(r);
  });
}
