import { forEachJsonItem } from '../../src/flows/read-files.js';
import {
  newFlowRecord,
  type FlowLogReader,
  type FlowRecord,
  type FlowSink,
  type TextChunks,
} from '../../src/flows/types.js';

/**
 * Azure flow logs as Network Watcher writes them to blob storage (`{"records": [...]}`, one blob
 * per hour), streamed record by record (src/flows/read-files.ts):
 *
 * - VNet flow logs, `flowLogVersion` 4: `flowRecords.flows[].flowGroups[].flowTuples[]`, each
 *   `time(ms),src,dst,srcPort,dstPort,protocol(number),direction(I|O),state(B|C|E|D),encryption,
 *   packets src→dst,bytes src→dst,packets dst→src,bytes dst→src`. `D` is a denied flow.
 * - NSG flow logs v2 (retiring 2027-09-30): `properties.flows[].flows[].flowTuples[]`, each
 *   `time(s),src,dst,srcPort,dstPort,protocol(T|U),direction,decision(A|D),state(B|C|E),` then the
 *   same four counters (empty on B and on version 1 tuples).
 *
 * A tuple describes a flow from its initiator (both directions' counters in one tuple), so its
 * source is the client; `I`/`O` says which end's NIC logged it.
 */

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function count(text: string | undefined): number {
  if (text === undefined || text === '') return 0;
  const n = Number(text);
  return Number.isFinite(n) && n >= 0 ? n : -1;
}

function port(text: string | undefined): number {
  const n = Number(text);
  return text !== undefined && text !== '' && Number.isInteger(n) && n >= 0 && n <= 65535 ? n : -1;
}

/** Fills `r` from a tuple; the reason it cannot when it is malformed. */
function parseTuple(tuple: string, vnet: boolean, r: FlowRecord): string | undefined {
  const f = tuple.split(',');
  if (vnet ? f.length < 13 : f.length < 8)
    return `expected ${vnet ? 13 : '8 or 13'} comma-separated fields, found ${f.length}`;
  const time = Number(f[0]);
  if (!Number.isFinite(time) || time <= 0) return `time "${f[0]}" is not a number`;
  if (!f[1] || !f[2]) return 'a tuple without its source or destination address';
  const sport = port(f[3]),
    dport = port(f[4]);
  if (sport < 0 || dport < 0) return `ports "${f[3]}"/"${f[4]}" are not valid`;
  let protocol: number;
  if (vnet) {
    protocol = Number(f[5]);
    if (!Number.isInteger(protocol) || protocol < 0 || protocol > 255)
      return `protocol "${f[5]}" is not a protocol number`;
  } else if (f[5] === 'T') protocol = 6;
  else if (f[5] === 'U') protocol = 17;
  else return `protocol "${f[5]}" is not T or U`;
  const direction = f[6];
  if (direction !== 'I' && direction !== 'O') return `direction "${direction}" is not I or O`;
  let accepted: boolean;
  let counters: number;
  if (vnet) {
    const state = f[7];
    if (state !== 'B' && state !== 'C' && state !== 'E' && state !== 'D') return `state "${state}" is not B, C, E or D`;
    accepted = state !== 'D';
    counters = 9;
  } else {
    if (f[7] !== 'A' && f[7] !== 'D') return `decision "${f[7]}" is not A or D`;
    accepted = f[7] === 'A';
    counters = 9;
  }
  const p1 = count(f[counters]),
    b1 = count(f[counters + 1]),
    p2 = count(f[counters + 2]),
    b2 = count(f[counters + 3]);
  if (p1 < 0 || b1 < 0 || p2 < 0 || b2 < 0) return 'the packet and byte counters are not numbers';
  r.start = vnet ? time / 1000 : time;
  r.end = r.start;
  r.srcAddr = f[1];
  r.dstAddr = f[2];
  r.srcPort = sport;
  r.dstPort = dport;
  r.protocol = protocol;
  r.accepted = accepted;
  r.packets = p1 + p2;
  r.bytes = b1 + b2;
  r.role = 'src-client';
  r.reporter = direction === 'I' ? 'dst' : 'src';
  return undefined;
}

/** The Azure flow-log reader (VNet flow logs v4 and NSG flow logs v1/v2). */
export const azureFlowLogReader: FlowLogReader = {
  label: 'Azure VNet/NSG flow logs',
  detect(head: string): boolean {
    return (
      head.includes('"records"') &&
      (head.includes('flowLogVersion') ||
        head.includes('NetworkSecurityGroupFlowEvent') ||
        head.includes('"flowTuples"'))
    );
  },
  read(file: string, chunks: TextChunks, sink: FlowSink): Promise<void> {
    return readAzureFlowLog(file, chunks, sink);
  },
};

/** Parses one Azure flow-log blob into `sink`. */
export async function readAzureFlowLog(file: string, chunks: TextChunks, sink: FlowSink): Promise<void> {
  const r = newFlowRecord();
  let index = -1;
  await forEachJsonItem(
    file,
    chunks,
    (record, line) => {
      index++;
      const at = `records[${index}]`;
      const warn = (path: string, message: string) =>
        sink.warn({ file, line, message: `${at}${path}: ${message}, skipped` });
      if (!isObject(record)) return warn('', 'not an object');
      const each = (groups: unknown, groupsPath: string, inner: string, vnet: boolean) => {
        if (!Array.isArray(groups)) return warn(groupsPath, `is missing or not a list`);
        groups.forEach((g, gi) => {
          const innerList = isObject(g) ? g[inner] : undefined;
          if (!Array.isArray(innerList)) {
            warn(`${groupsPath}[${gi}].${inner}`, 'is missing or not a list');
            return;
          }
          innerList.forEach((x, xi) => {
            const tuples = isObject(x) ? x['flowTuples'] : undefined;
            const tuplesPath = `${groupsPath}[${gi}].${inner}[${xi}].flowTuples`;
            if (!Array.isArray(tuples)) {
              warn(tuplesPath, 'is missing or not a list');
              return;
            }
            tuples.forEach((t, ti) => {
              const problem = typeof t === 'string' ? parseTuple(t, vnet, r) : 'not a string';
              if (problem) warn(`${tuplesPath}[${ti}]`, problem);
              else sink.add(r);
            });
          });
        });
      };
      const flowRecords = record['flowRecords'];
      if (isObject(flowRecords)) return each(flowRecords['flows'], '.flowRecords.flows', 'flowGroups', true);
      const properties = record['properties'];
      if (isObject(properties)) return each(properties['flows'], '.properties.flows', 'flows', false);
      warn('', 'neither a VNet flow log record (flowRecords) nor an NSG flow log record (properties.flows)');
    },
    (w) => sink.warn(w),
  );
}
