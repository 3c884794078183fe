import { parseIpv4 } from '../../src/flows/addresses.js';
import { forEachJsonItem } from '../../src/flows/read-files.js';
import { newFlowRecord, type FlowLogReader, type FlowSink, type TextChunks } from '../../src/flows/types.js';

/**
 * GCP VPC Flow Logs as Cloud Logging entries: `gcloud logging read --format=json` (one array) or a
 * log sink's files (one entry per line). The flow is in `jsonPayload`: `connection` {src_ip,
 * src_port, dest_ip, dest_port, protocol}, `bytes_sent`/`packets_sent` (int64, so JSON strings),
 * `start_time`/`end_time` (RFC 3339), `reporter` (SRC or DEST: which VM's interface sampled it),
 * and `src_instance`/`dest_instance` for VMs of the project. VPC Flow Logs only record traffic
 * that was delivered; a Firewall Rules Logging entry (`disposition` DENIED) of the same shape is
 * read as rejected. A record is one direction of a connection, so the client is found by the
 * port heuristic of src/flows/aggregate.ts; `reporter` lets the fold count bytes once.
 */

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An int64 field: a JSON string of digits (also a plain number); -1 when absent or invalid. */
function int64(v: unknown): number {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 ? v : -2;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  return v === undefined ? -1 : -2;
}

function seconds(v: unknown): number {
  if (typeof v !== 'string') return Number.NaN;
  const fast = utcSeconds(v);
  return fast >= 0 ? fast : Date.parse(v) / 1000;
}

/** Two digits at `s[i]`, or -1. */
function two(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48,
    b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Seconds since the epoch of the time Cloud Logging writes (`2026-11-01T10:00:00.123456Z`, UTC,
 * a valid calendar date from 1970), without Date.parse (issue 12 item 7: two per entry); -1 for
 * any other spelling, which Date.parse then reads. Equal to Date.parse / 1000 where both read it:
 * milliseconds from the first three fraction digits, the rest dropped, as V8 does.
 */
export function utcSeconds(s: string): number {
  const n = s.length;
  if (n < 20 || s.charCodeAt(n - 1) !== 90 /* Z */) return -1;
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 84) return -1;
  if (s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return -1;
  const century = two(s, 0),
    yy = two(s, 2),
    month = two(s, 5),
    day = two(s, 8),
    hour = two(s, 11),
    minute = two(s, 14),
    second = two(s, 17);
  if (century < 0 || yy < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23) return -1;
  if (minute < 0 || minute > 59 || second < 0 || second > 59) return -1;
  const year = century * 100 + yy;
  if (year < 1970) return -1;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > DAYS_IN_MONTH[month - 1]! + (month === 2 && leap ? 1 : 0)) return -1;
  let ms = 0;
  if (n > 20) {
    // A fraction: `.` and at least one digit before the Z.
    if (s.charCodeAt(19) !== 46 || n < 22) return -1;
    let scale = 100;
    for (let i = 20; i < n - 1; i++) {
      const d = s.charCodeAt(i) - 48;
      if (d < 0 || d > 9) return -1;
      ms += d * scale;
      scale /= 10;
    }
    ms = Math.floor(ms);
  }
  // Days from 1970-01-01 (the civil-from-days algorithm of H. Hinnant, for years from 1970).
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const days = era * 146097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719468;
  // Whole milliseconds, divided once: the same double as Date.parse(s) / 1000.
  return ((((days * 24 + hour) * 60 + minute) * 60 + second) * 1000 + ms) / 1000;
}

/** The GCP VPC Flow Logs reader. */
export const gcpFlowLogReader: FlowLogReader = {
  label: 'GCP VPC Flow Logs',
  detect(head: string): boolean {
    return (
      head.includes('"jsonPayload"') &&
      head.includes('"connection"') &&
      (head.includes('"src_ip"') || head.includes('vpc_flows'))
    );
  },
  read(file: string, chunks: TextChunks, sink: FlowSink): Promise<void> {
    return readGcpFlowLog(file, chunks, sink);
  },
};

/** Parses one file of Cloud Logging entries into `sink`. */
export async function readGcpFlowLog(file: string, chunks: TextChunks, sink: FlowSink): Promise<void> {
  const r = newFlowRecord();
  let index = -1;
  await forEachJsonItem(
    file,
    chunks,
    (entry, line) => {
      index++;
      const warn = (path: string, message: string) =>
        sink.warn({ file, line, message: `[${index}]${path}: ${message}, skipped` });
      if (!isObject(entry)) return warn('', 'not a log entry object');
      const p = entry['jsonPayload'];
      if (!isObject(p)) return warn('.jsonPayload', 'is missing');
      const c = p['connection'];
      if (!isObject(c)) return warn('.jsonPayload.connection', 'is missing');
      const src = c['src_ip'],
        dst = c['dest_ip'];
      if (typeof src !== 'string' || typeof dst !== 'string' || !src || !dst)
        return warn('.jsonPayload.connection', 'has no src_ip or dest_ip');
      const protocol = c['protocol'];
      if (typeof protocol !== 'number' || !Number.isInteger(protocol) || protocol < 0 || protocol > 255) {
        return warn('.jsonPayload.connection.protocol', 'is not a protocol number');
      }
      const sport = c['src_port'] ?? 0,
        dport = c['dest_port'] ?? 0;
      if (
        typeof sport !== 'number' ||
        typeof dport !== 'number' ||
        !Number.isInteger(sport) ||
        !Number.isInteger(dport) ||
        sport < 0 ||
        dport < 0 ||
        sport > 65535 ||
        dport > 65535
      ) {
        return warn('.jsonPayload.connection', 'src_port/dest_port are not port numbers');
      }
      const bytes = int64(p['bytes_sent']),
        packets = int64(p['packets_sent']);
      if (bytes === -2) return warn('.jsonPayload.bytes_sent', 'is not an int64 (a string of digits)');
      if (packets === -2) return warn('.jsonPayload.packets_sent', 'is not an int64 (a string of digits)');
      let start = seconds(p['start_time']);
      let end = seconds(p['end_time']);
      if (Number.isNaN(start)) start = seconds(entry['timestamp']);
      if (Number.isNaN(end)) end = start;
      if (Number.isNaN(start)) return warn('.jsonPayload.start_time', 'is missing or not an RFC 3339 time');
      const reporter = p['reporter'];
      r.start = start;
      r.end = end;
      r.srcAddr = src;
      r.dstAddr = dst;
      r.srcPort = sport;
      r.dstPort = dport;
      r.protocol = protocol;
      r.accepted = p['disposition'] !== 'DENIED';
      r.bytes = Math.max(bytes, 0);
      r.packets = Math.max(packets, 0);
      r.role = 'unknown';
      r.reporter = reporter === 'SRC' ? 'src' : reporter === 'DEST' ? 'dst' : 'unknown';
      // The fold finds IPv4 addresses by number, without hashing the entry's fresh strings.
      if (sink.addIpv4) sink.addIpv4(r, parseIpv4(src, 0, src.length), parseIpv4(dst, 0, dst.length));
      else sink.add(r);
    },
    (w) => sink.warn(w),
  );
}
