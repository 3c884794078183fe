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
  return Date.parse(v) / 1000;
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
      sink.add(r);
    },
    (w) => sink.warn(w),
  );
}
