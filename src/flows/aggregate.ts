import type { FlowRecord, FlowSink, FlowWarning } from './types.js';

/**
 * Connections, not packets (DESIGN §6). Every record is folded, as it arrives, into one entry per
 * (action, protocol, client, server, service port): the request and the response records of one
 * connection, logged by one or both of its ends, land in the same entry, and the ephemeral client
 * port never becomes part of the key, so memory grows with the number of distinct client → server
 * services, not with the records or the connections.
 *
 * Which end is the server:
 * 1. what the record says (`role`): an Azure flow tuple is written from the initiator's side; an
 *    AWS v5 record with SYN and no ACK in `tcp-flags` comes from the client;
 * 2. otherwise the port heuristic (`srcIsClient`): an ephemeral port (32768–65535, the union of
 *    Linux's 32768–60999 and the IANA/Windows 49152–65535) is the client's; else a well-known port
 *    (< 1024) is the server's; else the lower port is. When both ports are ephemeral the record
 *    cannot be placed without risking an ephemeral port as a service port: it is counted as
 *    `unplaced` and kept out of the connections.
 *
 * Connections are counted once: an entry counts the distinct (client port, hour) pairs it saw, so
 * the four records of one short connection (request and response, at both ends) count 1, and a
 * client port reused an hour later counts again. The count is exact up to 256 per entry (a small
 * open-addressing table) and a HyperLogLog estimate (±3 %, 1 KiB) above, so memory stays bounded. Every fold is commutative (sums, min,
 * max, set union), so the order of records and their split across files never changes the result.
 */

/** One client → server service, accepted or rejected, with its evidence. */
export interface Connection {
  readonly accepted: boolean;
  readonly protocol: number;
  readonly client: string;
  readonly server: string;
  /** The server's port (0 for protocols without ports). */
  readonly port: number;
  /** Distinct connections (see the module comment). */
  readonly connections: number;
  /** Flow-log records folded into this entry. */
  readonly records: number;
  readonly packets: number;
  /** Bytes of the server's records when the server's end logged, else the client's; plus records that do not say. */
  readonly bytes: number;
  /** Seconds since the epoch. */
  readonly firstSeen: number;
  readonly lastSeen: number;
}

/** Counters of what the fold did not turn into connections. */
export interface FoldStats {
  records: number;
  /** Records outside `--since`/`--until`. */
  outsideWindow: number;
  /** Records whose client and server could not be told apart (both ports ephemeral, no hint). */
  unplaced: number;
  /** Records without a flow, by reason (NODATA, SKIPDATA …). */
  skipped: Record<string, number>;
  warnings: number;
}

const EXACT_LIMIT = 256;
const HLL_BITS = 10;
const HLL_SIZE = 1 << HLL_BITS;

/** True for ports in an ephemeral range (Linux 32768–60999, IANA/Windows 49152–65535). */
export function isEphemeralPort(port: number): boolean {
  return port >= 32768;
}

/** True for protocols whose records carry ports (tcp, udp, sctp). */
export function hasPorts(protocol: number): boolean {
  return protocol === 6 || protocol === 17 || protocol === 132;
}

/**
 * The port heuristic: true when the record's source is the client, false when it is the server,
 * undefined when both ports are ephemeral (never guess a service port there).
 */
export function srcIsClient(srcPort: number, dstPort: number): boolean | undefined {
  const se = isEphemeralPort(srcPort);
  const de = isEphemeralPort(dstPort);
  if (se !== de) return se;
  if (se) return undefined;
  const sw = srcPort < 1024;
  const dw = dstPort < 1024;
  if (sw !== dw) return dw;
  return dstPort <= srcPort;
}

/** A 32-bit mix of a 32-bit integer (murmur3's finalizer), for the hash tables and the HyperLogLog. */
function mix(x: number): number {
  let h = x | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hllAdd(hll: Uint8Array, id: number): void {
  const h = mix(id);
  const index = h >>> (32 - HLL_BITS);
  const rest = (h << HLL_BITS) >>> 0;
  const rank = rest === 0 ? 32 - HLL_BITS + 1 : Math.clz32(rest) + 1;
  if (rank > hll[index]!) hll[index] = rank;
}

function hllCount(hll: Uint8Array): number {
  let sum = 0;
  let zeros = 0;
  for (let i = 0; i < HLL_SIZE; i++) {
    sum += 2 ** -hll[i]!;
    if (hll[i] === 0) zeros++;
  }
  const alpha = 0.7213 / (1 + 1.079 / HLL_SIZE);
  const estimate = (alpha * HLL_SIZE * HLL_SIZE) / sum;
  if (estimate <= 2.5 * HLL_SIZE && zeros > 0) return Math.round(HLL_SIZE * Math.log(HLL_SIZE / zeros));
  return Math.round(estimate);
}

/** Inserts `id` (≥ 0) into an open-addressing table; true when it was not there. */
function idsInsert(table: Int32Array, id: number): boolean {
  const mask = table.length - 1;
  const v = id + 1;
  let i = mix(id) & mask;
  for (;;) {
    const x = table[i]!;
    if (x === v) return false;
    if (x === 0) {
      table[i] = v;
      return true;
    }
    i = (i + 1) & mask;
  }
}

function idsGrow(table: Int32Array): Int32Array {
  const next = new Int32Array(table.length * 2);
  for (const x of table) if (x !== 0) idsInsert(next, x - 1);
  return next;
}

/** Options of the fold. */
export interface FoldOptions {
  /** Keep records whose window ends at or after this (seconds since the epoch). */
  readonly since?: number;
  /** Keep records whose window starts before this (seconds since the epoch). */
  readonly until?: number;
  readonly onWarning?: (warning: FlowWarning) => void;
}

/** A copy of a string that shares no memory with the chunk it was sliced from (kept by the fold). */
function own(s: string): string {
  return s.length < 13 ? s : Buffer.from(s, 'latin1').toString('latin1');
}

/** Per-entry numbers, in typed arrays (contiguous: the hot path touches no object). */
const RECORDS = 0,
  PACKETS = 1,
  BYTES_SERVER = 2,
  BYTES_CLIENT = 3,
  BYTES_UNKNOWN = 4,
  FIRST = 5,
  LAST = 6,
  FIRST_ID = 7,
  COUNT = 8,
  WIDTH = 9;

/**
 * The fold: a FlowSink that keeps one entry per client → server service. The hot path builds no
 * string and no object: addresses are interned to small integers, entries are found in one
 * open-addressing table keyed by (client, server, action|protocol|port), and their counters live
 * in typed arrays.
 */
export class ConnectionTable implements FlowSink {
  private readonly addresses = new Map<string, number>();
  private readonly addressList: string[] = [];
  /** Slots: entry index + 1, 0 = empty. */
  private slots = new Int32Array(1 << 12);
  /** Per entry: client id, server id, service (accepted << 24 | protocol << 16 | port). */
  private keys = new Int32Array(3 * 1024);
  private nums = new Float64Array(WIDTH * 1024);
  /** Per entry: its id table (made on the second distinct connection) or HyperLogLog (above EXACT_LIMIT). */
  private readonly idTables: (Int32Array | undefined)[] = [];
  private readonly hlls: (Uint8Array | undefined)[] = [];
  private count = 0;
  readonly stats: FoldStats = { records: 0, outsideWindow: 0, unplaced: 0, skipped: {}, warnings: 0 };
  private readonly since: number;
  private readonly until: number;
  private readonly onWarning: ((warning: FlowWarning) => void) | undefined;

  constructor(options: FoldOptions = {}) {
    this.since = options.since ?? -Infinity;
    this.until = options.until ?? Infinity;
    this.onWarning = options.onWarning;
  }

  private intern(address: string): number {
    let id = this.addresses.get(address);
    if (id === undefined) {
      id = this.addressList.length;
      const copy = own(address);
      this.addressList.push(copy);
      this.addresses.set(copy, id);
    }
    return id;
  }

  /** The entry of (client, server, service), made when new. */
  private entry(client: number, server: number, service: number, start: number, end: number): number {
    const slots = this.slots;
    const mask = slots.length - 1;
    let i = mix(client * 31 + mix(server * 17 + service)) & mask;
    const keys = this.keys;
    for (;;) {
      const x = slots[i]!;
      if (x === 0) break;
      const k = (x - 1) * 3;
      if (keys[k] === client && keys[k + 1] === server && keys[k + 2] === service) return x - 1;
      i = (i + 1) & mask;
    }
    const e = this.count++;
    if ((e + 1) * 3 > this.keys.length) {
      const nk = new Int32Array(this.keys.length * 2);
      nk.set(this.keys);
      this.keys = nk;
      const nn = new Float64Array(this.nums.length * 2);
      nn.set(this.nums);
      this.nums = nn;
    }
    this.keys[e * 3] = client;
    this.keys[e * 3 + 1] = server;
    this.keys[e * 3 + 2] = service;
    const n = e * WIDTH;
    this.nums[n + FIRST] = start;
    this.nums[n + LAST] = end;
    this.nums[n + FIRST_ID] = -1;
    slots[i] = e + 1;
    this.idTables.push(undefined);
    this.hlls.push(undefined);
    if (this.count * 2 > slots.length) this.rehash();
    return e;
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const mask = slots.length - 1;
    const keys = this.keys;
    for (let e = 0; e < this.count; e++) {
      let i = mix(keys[e * 3]! * 31 + mix(keys[e * 3 + 1]! * 17 + keys[e * 3 + 2]!)) & mask;
      while (slots[i] !== 0) i = (i + 1) & mask;
      slots[i] = e + 1;
    }
    this.slots = slots;
  }

  add(r: FlowRecord): void {
    this.stats.records++;
    if (r.end < this.since || r.start >= this.until) {
      this.stats.outsideWindow++;
      return;
    }
    const ports = hasPorts(r.protocol);
    let forward: boolean;
    if (r.role === 'src-client') forward = true;
    else if (r.role === 'src-server') forward = false;
    else if (!ports) forward = true;
    else {
      const guess = srcIsClient(r.srcPort, r.dstPort);
      if (guess === undefined) {
        this.stats.unplaced++;
        return;
      }
      forward = guess;
    }
    const client = this.intern(forward ? r.srcAddr : r.dstAddr);
    const server = this.intern(forward ? r.dstAddr : r.srcAddr);
    const port = ports ? (forward ? r.dstPort : r.srcPort) : 0;
    const clientPort = ports ? (forward ? r.srcPort : r.dstPort) : 0;
    const service = ((r.accepted ? 1 : 0) << 24) | ((r.protocol & 255) << 16) | port;
    const e = this.entry(client, server, service, r.start, r.end);
    const nums = this.nums;
    const n = e * WIDTH;
    nums[n + RECORDS]! += 1;
    nums[n + PACKETS]! += r.packets;
    if (r.reporter === 'unknown') nums[n + BYTES_UNKNOWN]! += r.bytes;
    else if ((r.reporter === 'src') === forward) nums[n + BYTES_CLIENT]! += r.bytes;
    else nums[n + BYTES_SERVER]! += r.bytes;
    if (r.start < nums[n + FIRST]!) nums[n + FIRST] = r.start;
    if (r.end > nums[n + LAST]!) nums[n + LAST] = r.end;
    // (hour mod 2^15, client port): a small integer.
    const id = (Math.floor(r.start / 3600) & 32767) * 65536 + clientPort;
    const firstId = nums[n + FIRST_ID]!;
    if (firstId === -1) {
      nums[n + FIRST_ID] = id;
      nums[n + COUNT] = 1;
      return;
    }
    const hll = this.hlls[e];
    if (hll !== undefined) {
      hllAdd(hll, id);
      return;
    }
    let ids = this.idTables[e];
    if (ids === undefined) {
      if (id === firstId) return;
      ids = new Int32Array(16);
      idsInsert(ids, firstId);
      this.idTables[e] = ids;
    }
    if (!idsInsert(ids, id)) return;
    const count = ++nums[n + COUNT]!;
    if (count > EXACT_LIMIT) {
      const h = new Uint8Array(HLL_SIZE);
      for (const x of ids) if (x !== 0) hllAdd(h, x - 1);
      this.hlls[e] = h;
      this.idTables[e] = undefined;
    } else if (count * 2 > ids.length) this.idTables[e] = idsGrow(ids);
  }

  skip(reason: string): void {
    this.stats.skipped[reason] = (this.stats.skipped[reason] ?? 0) + 1;
  }

  warn(warning: FlowWarning): void {
    this.stats.warnings++;
    this.onWarning?.(warning);
  }

  /** Number of entries so far (memory grows with this, not with the records). */
  get size(): number {
    return this.count;
  }

  /** Every entry, sorted (accepted first, then protocol, client, server, port): deterministic. */
  connections(): Connection[] {
    const out: Connection[] = [];
    const nums = this.nums;
    for (let e = 0; e < this.count; e++) {
      const service = this.keys[e * 3 + 2]!;
      const n = e * WIDTH;
      const hll = this.hlls[e];
      const bytesServer = nums[n + BYTES_SERVER]!;
      out.push({
        accepted: service >>> 24 === 1,
        protocol: (service >>> 16) & 255,
        client: this.addressList[this.keys[e * 3]!]!,
        server: this.addressList[this.keys[e * 3 + 1]!]!,
        port: service & 65535,
        connections: hll !== undefined ? hllCount(hll) : nums[n + COUNT]!,
        records: nums[n + RECORDS]!,
        packets: nums[n + PACKETS]!,
        bytes: (bytesServer > 0 ? bytesServer : nums[n + BYTES_CLIENT]!) + nums[n + BYTES_UNKNOWN]!,
        firstSeen: nums[n + FIRST]!,
        lastSeen: nums[n + LAST]!,
      });
    }
    return out.sort(compareConnections);
  }
}

/** The order of `connections()`. */
export function compareConnections(a: Connection, b: Connection): number {
  if (a.accepted !== b.accepted) return a.accepted ? -1 : 1;
  if (a.protocol !== b.protocol) return a.protocol - b.protocol;
  if (a.client !== b.client) return a.client < b.client ? -1 : 1;
  if (a.server !== b.server) return a.server < b.server ? -1 : 1;
  return a.port - b.port;
}

/** Protocol number → the model's protocol name, where the model has one. */
export function protocolName(n: number): string {
  switch (n) {
    case 6:
      return 'tcp';
    case 17:
      return 'udp';
    case 132:
      return 'sctp';
    case 1:
      return 'icmp';
    case 58:
      return 'icmpv6';
    default:
      return String(n);
  }
}
