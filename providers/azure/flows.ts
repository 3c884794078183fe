import { Ipv4Names, parseIpv4 } from '../../src/flows/addresses.js';
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

/** The IPv4 numbers of the addresses of the last tuple `fastVnetTuple` read. */
let fastSrc4 = -1;
let fastDst4 = -1;

/** The digits-only field `t[from, to)` as a number (at most 15 digits), else -1. */
function digits(t: string, from: number, to: number): number {
  if (to <= from || to - from > 15) return -1;
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = t.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/**
 * The common VNet flow log tuple, straight through (issue 12 item 7): exactly 13 fields, IPv4
 * addresses, every number plain digits, a known direction and state. Fills `r` and the IPv4
 * numbers without splitting the tuple into 13 strings; false, having changed nothing a caller
 * uses, for anything else, which `parseTuple` then reads (and words its warning) as before.
 */
function fastVnetTuple(t: string, r: FlowRecord, names: Ipv4Names): boolean {
  const c0 = t.indexOf(',');
  const c1 = t.indexOf(',', c0 + 1);
  const c2 = t.indexOf(',', c1 + 1);
  const c3 = t.indexOf(',', c2 + 1);
  const c4 = t.indexOf(',', c3 + 1);
  const c5 = t.indexOf(',', c4 + 1);
  const c6 = t.indexOf(',', c5 + 1);
  const c7 = t.indexOf(',', c6 + 1);
  const c8 = t.indexOf(',', c7 + 1);
  const c9 = t.indexOf(',', c8 + 1);
  const c10 = t.indexOf(',', c9 + 1);
  const c11 = t.indexOf(',', c10 + 1);
  if (c11 < 0 || t.indexOf(',', c11 + 1) >= 0) return false;
  const time = digits(t, 0, c0);
  const src4 = parseIpv4(t, c0 + 1, c1);
  const dst4 = parseIpv4(t, c1 + 1, c2);
  const sport = digits(t, c2 + 1, c3);
  const dport = digits(t, c3 + 1, c4);
  const protocol = digits(t, c4 + 1, c5);
  if (time <= 0 || src4 < 0 || dst4 < 0 || sport < 0 || sport > 65535 || dport < 0 || dport > 65535) return false;
  if (protocol < 0 || protocol > 255 || c6 !== c5 + 2 || c7 !== c6 + 2) return false;
  const direction = t.charCodeAt(c5 + 1);
  const state = t.charCodeAt(c6 + 1);
  if (direction !== 73 /* I */ && direction !== 79 /* O */) return false;
  if (state !== 66 /* B */ && state !== 67 /* C */ && state !== 69 /* E */ && state !== 68 /* D */) return false;
  // Empty counters (a B tuple may have none) count 0, as in parseTuple.
  const p1 = c9 === c8 + 1 ? 0 : digits(t, c8 + 1, c9);
  const b1 = c10 === c9 + 1 ? 0 : digits(t, c9 + 1, c10);
  const p2 = c11 === c10 + 1 ? 0 : digits(t, c10 + 1, c11);
  const b2 = t.length === c11 + 1 ? 0 : digits(t, c11 + 1, t.length);
  if (p1 < 0 || b1 < 0 || p2 < 0 || b2 < 0) return false;
  r.start = time / 1000;
  r.end = r.start;
  r.srcAddr = names.text(src4);
  r.dstAddr = names.text(dst4);
  r.srcPort = sport;
  r.dstPort = dport;
  r.protocol = protocol;
  r.accepted = state !== 68;
  r.packets = p1 + p2;
  r.bytes = b1 + b2;
  r.role = 'src-client';
  r.reporter = direction === 73 ? 'dst' : 'src';
  fastSrc4 = src4;
  fastDst4 = dst4;
  return true;
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
  const names = new Ipv4Names();
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
              if (vnet && typeof t === 'string' && fastVnetTuple(t, r, names)) {
                if (sink.addIpv4) sink.addIpv4(r, fastSrc4, fastDst4);
                else sink.add(r);
                return;
              }
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
