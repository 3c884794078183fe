import { ipv4Text, mix32 } from './addresses.js';
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

const mix = mix32;

/** Adds `id` to the HyperLogLog at `hll[at, at + HLL_SIZE)`. */
function hllAdd(hll: Uint8Array, at: number, id: number): void {
  const h = mix(id);
  const index = at + (h >>> (32 - HLL_BITS));
  const rest = (h << HLL_BITS) >>> 0;
  const rank = rest === 0 ? 32 - HLL_BITS + 1 : Math.clz32(rest) + 1;
  if (rank > hll[index]!) hll[index] = rank;
}

function hllCount(hll: Uint8Array, at: number): number {
  let sum = 0;
  let zeros = 0;
  for (let i = at; i < at + HLL_SIZE; i++) {
    sum += 2 ** -hll[i]!;
    if (hll[i] === 0) zeros++;
  }
  const alpha = 0.7213 / (1 + 1.079 / HLL_SIZE);
  const estimate = (alpha * HLL_SIZE * HLL_SIZE) / sum;
  if (estimate <= 2.5 * HLL_SIZE && zeros > 0) return Math.round(HLL_SIZE * Math.log(HLL_SIZE / zeros));
  return Math.round(estimate);
}

/**
 * The capacity of an entry's id set holding `count` (≥ 2) ids: 16, doubled whenever the set would
 * be more than three quarters full (a probe run stays within a cache line or two, and the arena
 * half the size of a half-full one), so it follows from the count and needs no field of its own.
 */
function idsCapacity(count: number): number {
  // One expression, no branch: a branch first taken when the first set passes 12 ids threw away
  // the optimized fold it was inlined into (V8 had no feedback for it yet), in every cold run.
  return Math.max(16, 1 << (32 - Math.clz32((((4 * count + 2) / 3) | 0) - 1)));
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

/** Per-entry numbers, in one Float64Array (contiguous: the hot path touches no object). */
const RECORDS = 0,
  PACKETS = 1,
  BYTES_SERVER = 2,
  BYTES_CLIENT = 3,
  BYTES_UNKNOWN = 4,
  FIRST = 5,
  LAST = 6,
  /** The entry's first id (-1 before its first record): one connection needs no id set. */
  FIRST_ID = 7,
  /** Distinct ids so far, exact while ≤ EXACT_LIMIT; above, the HyperLogLog counts. */
  COUNT = 8,
  /** Where the entry's id set starts in `ids` (COUNT ≥ 2), or its HyperLogLog in `hlls` (COUNT > EXACT_LIMIT). */
  AT = 9,
  WIDTH = 10;

/** Slot stride of the entry table: entry index + 1 (0 = empty), client, server, service. */
const SLOT = 4;

/** The hash of an entry's key. */
function slotHash(client: number, server: number, service: number): number {
  return mix(client * 31 + mix(server * 17 + service));
}

/** The sum of the last batch's pre-reads (see `flush`): stored, so the compiler cannot drop them. */
// biome-ignore lint/correctness/noUnusedVariables: written only, on purpose (see flush).
let preread = 0;

/** Records folded together (see `flush`), and what is kept of each until then. */
const BATCH = 256;
const B_CLIENT = 0,
  B_SERVER = 1,
  B_SERVICE = 2,
  B_START = 3,
  B_END = 4,
  B_PACKETS = 5,
  B_BYTES = 6,
  /** Which BYTES_* counter the bytes go to. */
  B_BYTES_AT = 7,
  B_ID = 8,
  /** The slot hash, then the entry. */
  B_ENTRY = 9,
  B_WIDTH = 10;

/**
 * The fold: a FlowSink that keeps one entry per client → server service. The hot path builds no
 * string and no object, and touches few cache lines per record (issue 12 item 7: memory latency,
 * not arithmetic, is what a record costs):
 * - addresses are interned to small integers, IPv4 ones by their number (`addIpv4`) in an
 *   integer table, others by their text;
 * - entries are found in one open-addressing table whose slots hold their keys inline (client,
 *   server, action|protocol|port): one probe, no second lookup to compare keys;
 * - an entry's counters are one row of a Float64Array;
 * - the distinct-connection ids of all entries live in one Int32Array arena, an open-addressing
 *   set per entry whose capacity follows from its count; a set that grows leaves its old block
 *   on a free list of its size for the next entry, and HyperLogLogs share one Uint8Array.
 */
export class ConnectionTable implements FlowSink {
  /** An address given as a number is named by it (`intern4`): a reader need not find its text. */
  readonly namesIpv4ByNumber = true;
  private readonly addresses = new Map<string, number>();
  private readonly addressList: string[] = [];
  /** IPv4 address (as int32) → address id + 1 (0 = empty), open addressing. */
  private v4Keys = new Int32Array(1 << 10);
  private v4Ids = new Int32Array(1 << 10);
  private v4Count = 0;
  /** Entry slots, SLOT ints each. */
  private slots = new Int32Array(SLOT << 12);
  /** Per entry: client id, server id, service (accepted << 24 | protocol << 16 | port). */
  private keys = new Int32Array(3 * 1024);
  private nums = new Float64Array(WIDTH * 1024);
  /** The id sets of all entries: id + 1 per cell, 0 = empty. */
  private ids = new Int32Array(1 << 16);
  private idsTop = 0;
  /** Cells of the sets in use (the rest of the arena below the top is free blocks). */
  private idsLive = 0;
  /** Free id-set blocks by capacity (log2). */
  /**
   * One list per log2 capacity, all made up front: a list made on first use would change the
   * outer array's elements kind (holey) under optimized code, and that code would be thrown away.
   */
  private readonly idsFree: number[][] = Array.from({ length: 32 }, () => []);
  /** The HyperLogLogs of the entries above EXACT_LIMIT, HLL_SIZE bytes each. */
  private hlls = new Uint8Array(0);
  private hllsTop = 0;
  private count = 0;
  /** Records placed but not yet folded (`flush`): every read of the entries flushes first. */
  private readonly batch = new Float64Array(BATCH * B_WIDTH);
  private pending = 0;
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

  /** The id of an IPv4 address given as a number (its text is `ipv4Text(ip)`: see `namesIpv4ByNumber`). */
  private intern4(ip: number): number {
    const keys = this.v4Keys;
    const ids = this.v4Ids;
    const mask = keys.length - 1;
    const key = ip | 0;
    let i = mix(key) & mask;
    for (;;) {
      const x = ids[i]!;
      if (x === 0) break;
      if (keys[i] === key) return x - 1;
      i = (i + 1) & mask;
    }
    // New as a number: it may have come as text before (a reader that does not parse addresses).
    const id = this.intern(ipv4Text(ip));
    keys[i] = key;
    ids[i] = id + 1;
    if (++this.v4Count * 2 > keys.length) this.growV4();
    return id;
  }

  private growV4(): void {
    const oldKeys = this.v4Keys;
    const oldIds = this.v4Ids;
    const keys = new Int32Array(oldKeys.length * 2);
    const ids = new Int32Array(keys.length);
    const mask = keys.length - 1;
    for (let j = 0; j < oldKeys.length; j++) {
      if (oldIds[j] === 0) continue;
      let i = mix(oldKeys[j]!) & mask;
      while (ids[i] !== 0) i = (i + 1) & mask;
      keys[i] = oldKeys[j]!;
      ids[i] = oldIds[j]!;
    }
    this.v4Keys = keys;
    this.v4Ids = ids;
  }

  /** The entry of (client, server, service), made when new. */
  private entry(client: number, server: number, service: number, hash: number, start: number, end: number): number {
    const slots = this.slots;
    const mask = (slots.length >> 2) - 1;
    let i = hash & mask;
    for (;;) {
      const s = i << 2;
      const x = slots[s]!;
      if (x === 0) break;
      if (slots[s + 1] === client && slots[s + 2] === server && slots[s + 3] === service) return x - 1;
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
    const s = i << 2;
    slots[s] = e + 1;
    slots[s + 1] = client;
    slots[s + 2] = server;
    slots[s + 3] = service;
    if (this.count * 2 > slots.length >> 2) this.rehash();
    return e;
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const mask = (slots.length >> 2) - 1;
    const keys = this.keys;
    for (let e = 0; e < this.count; e++) {
      const client = keys[e * 3]!,
        server = keys[e * 3 + 1]!,
        service = keys[e * 3 + 2]!;
      let i = slotHash(client, server, service) & mask;
      while (slots[i << 2] !== 0) i = (i + 1) & mask;
      const s = i << 2;
      slots[s] = e + 1;
      slots[s + 1] = client;
      slots[s + 2] = server;
      slots[s + 3] = service;
    }
    this.slots = slots;
  }

  /** A zeroed block of `capacity` cells in `ids` (from the free list of its size, else the top). */
  private idsAlloc(capacity: number): number {
    const reused = this.idsFree[31 - Math.clz32(capacity)]!.pop();
    if (reused !== undefined) {
      this.idsLive += capacity;
      return reused;
    }
    if (this.idsTop + capacity > this.ids.length) this.idsCompact(capacity);
    const at = this.idsTop;
    this.idsTop += capacity;
    this.idsLive += capacity;
    return at;
  }

  /**
   * Makes room for `capacity` more cells at the top of the arena. The arena doubles when the sets
   * in use fill more than half of it. If little of it is blocks that sets left behind when they
   * grew (a quarter at most), every set stays where it is: one copy of the array, no walk over the
   * entries. Otherwise the sets in use are copied, packed, into the new arena (or one of the same
   * size when it need not grow): the left-behind blocks are dropped with the free lists, and the
   * sets move (their AT changes). So the arena stays within about twice what the sets need.
   */
  private idsCompact(capacity: number): void {
    const old = this.ids;
    const grow = this.idsLive + capacity > old.length / 2;
    if (grow && (this.idsTop - this.idsLive) * 4 <= old.length) {
      const ids = new Int32Array(Math.max(old.length * 2, this.idsTop + capacity));
      ids.set(old);
      this.ids = ids;
      return;
    }
    const ids = new Int32Array(Math.max(grow ? old.length * 2 : old.length, this.idsLive + capacity));
    const nums = this.nums;
    let top = 0;
    for (let e = 0; e < this.count; e++) {
      const n = e * WIDTH;
      const count = nums[n + COUNT]!;
      if (count < 2 || count > EXACT_LIMIT) continue;
      const at = nums[n + AT]!;
      const size = idsCapacity(count);
      // A loop, not set(subarray): a subarray is an object per entry for the collector.
      for (let j = 0; j < size; j++) ids[top + j] = old[at + j]!;
      nums[n + AT] = top;
      top += size;
    }
    this.ids = ids;
    this.idsTop = top;
    for (const free of this.idsFree) free.length = 0;
  }

  /** Returns a block to the free list of its size, zeroed for its next owner. */
  private idsRelease(at: number, capacity: number): void {
    this.idsLive -= capacity;
    this.ids.fill(0, at, at + capacity);
    // `| 0`: an offset read from the Float64Array rows arrives as a double; pushed as one, it would
    // turn the list into a list of doubles (another map) under the optimized code that pops it.
    this.idsFree[31 - Math.clz32(capacity)]!.push(at | 0);
  }

  /** Inserts `id` (≥ 0) into the set at `ids[at, at + capacity)`; true when it was not there. */
  private idsInsert(at: number, capacity: number, id: number): boolean {
    const ids = this.ids;
    const mask = capacity - 1;
    const v = id + 1;
    let i = mix(id) & mask;
    for (;;) {
      const x = ids[at + i]!;
      if (x === v) return false;
      if (x === 0) {
        ids[at + i] = v;
        return true;
      }
      i = (i + 1) & mask;
    }
  }

  /** Moves the set of the entry at row `n` (capacity `from`) into a new block of `to` cells; returns where. */
  private idsMove(n: number, from: number, to: number): number {
    const next = this.idsAlloc(to);
    // Read after the allocation: making room may have moved the set.
    const at = this.nums[n + AT]!;
    for (let j = at; j < at + from; j++) {
      const x = this.ids[j]!;
      if (x !== 0) this.idsInsert(next, to, x - 1);
    }
    this.idsRelease(at, from);
    return next;
  }

  /** Turns the set at `at` (capacity `capacity`) into a HyperLogLog; returns where it is in `hlls`. */
  private toHll(at: number, capacity: number): number {
    if (this.hllsTop + HLL_SIZE > this.hlls.length) {
      const next = new Uint8Array(Math.max(HLL_SIZE * 16, this.hlls.length * 2));
      next.set(this.hlls);
      this.hlls = next;
    }
    const h = this.hllsTop;
    this.hllsTop += HLL_SIZE;
    for (let j = at; j < at + capacity; j++) {
      const x = this.ids[j]!;
      if (x !== 0) hllAdd(this.hlls, h, x - 1);
    }
    this.idsRelease(at, capacity);
    return h;
  }

  add(r: FlowRecord): void {
    this.addIpv4(r, -1, -1);
  }

  addIpv4(r: FlowRecord, srcIp4: number, dstIp4: number): void {
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
    const src = srcIp4 >= 0 ? this.intern4(srcIp4) : this.intern(r.srcAddr);
    const dst = dstIp4 >= 0 ? this.intern4(dstIp4) : this.intern(r.dstAddr);
    const port = ports ? (forward ? r.dstPort : r.srcPort) : 0;
    const clientPort = ports ? (forward ? r.srcPort : r.dstPort) : 0;
    const b = this.pending * B_WIDTH;
    const batch = this.batch;
    batch[b + B_CLIENT] = forward ? src : dst;
    batch[b + B_SERVER] = forward ? dst : src;
    batch[b + B_SERVICE] = ((r.accepted ? 1 : 0) << 24) | ((r.protocol & 255) << 16) | port;
    batch[b + B_START] = r.start;
    batch[b + B_END] = r.end;
    batch[b + B_PACKETS] = r.packets;
    batch[b + B_BYTES] = r.bytes;
    batch[b + B_BYTES_AT] =
      r.reporter === 'unknown' ? BYTES_UNKNOWN : (r.reporter === 'src') === forward ? BYTES_CLIENT : BYTES_SERVER;
    // (hour mod 2^15, client port): a small integer.
    batch[b + B_ID] = (Math.floor(r.start / 3600) & 32767) * 65536 + clientPort;
    if (++this.pending === BATCH) this.flush();
  }

  /**
   * Folds the batched records. Each record's entry, counters and id set are usually in three
   * different places of memory far apart, and a record waits for each in turn; so the batch is
   * walked three times, each walk only reading what the next needs (slot, then counters, then the
   * id set's cell) with no walk's reads depending on each other, so the processor fetches many at
   * once, and the last walk folds every record in order with its memory already in cache.
   */
  private flush(): void {
    const count = this.pending;
    if (count === 0) return;
    this.pending = 0;
    const batch = this.batch;
    // An int32 throughout (`| 0`): a sum that turned into a double would change what `preread` holds.
    let touched = 0;
    // 1. The slot of each record's entry.
    const slots = this.slots;
    const mask = (slots.length >> 2) - 1;
    for (let b = 0; b < count * B_WIDTH; b += B_WIDTH) {
      const h = slotHash(batch[b + B_CLIENT]!, batch[b + B_SERVER]!, batch[b + B_SERVICE]!);
      batch[b + B_ENTRY] = h;
      touched = (touched + slots[(h & mask) << 2]!) | 0;
    }
    // 2. The entries (made when new) and their counters.
    for (let b = 0; b < count * B_WIDTH; b += B_WIDTH) {
      const e = this.entry(
        batch[b + B_CLIENT]!,
        batch[b + B_SERVER]!,
        batch[b + B_SERVICE]!,
        batch[b + B_ENTRY]!,
        batch[b + B_START]!,
        batch[b + B_END]!,
      );
      batch[b + B_ENTRY] = e;
      // A row spans two cache lines at most: its first and last cells bring both.
      touched = (touched + this.nums[e * WIDTH]! + this.nums[e * WIDTH + WIDTH - 1]!) | 0;
    }
    // 3. The cell of each id in its entry's set or HyperLogLog.
    const nums = this.nums;
    for (let b = 0; b < count * B_WIDTH; b += B_WIDTH) {
      const n = batch[b + B_ENTRY]! * WIDTH;
      const c = nums[n + COUNT]!;
      if (c < 2) continue;
      const h = mix(batch[b + B_ID]!);
      if (c > EXACT_LIMIT) touched = (touched + this.hlls[nums[n + AT]! + (h >>> (32 - HLL_BITS))]!) | 0;
      else touched = (touched + this.ids[nums[n + AT]! + (h & (idsCapacity(c) - 1))]!) | 0;
    }
    preread = touched;
    // 4. Fold, in order.
    for (let b = 0; b < count * B_WIDTH; b += B_WIDTH) this.fold(batch, b);
  }

  /** Folds the batched record at `batch[b]` into its entry (found by `flush`). */
  private fold(batch: Float64Array, b: number): void {
    const nums = this.nums;
    const n = batch[b + B_ENTRY]! * WIDTH;
    const start = batch[b + B_START]!;
    const end = batch[b + B_END]!;
    nums[n + RECORDS]! += 1;
    nums[n + PACKETS]! += batch[b + B_PACKETS]!;
    nums[n + batch[b + B_BYTES_AT]!]! += batch[b + B_BYTES]!;
    if (start < nums[n + FIRST]!) nums[n + FIRST] = start;
    if (end > nums[n + LAST]!) nums[n + LAST] = end;
    const id = batch[b + B_ID]!;
    const firstId = nums[n + FIRST_ID]!;
    if (firstId === -1) {
      nums[n + FIRST_ID] = id;
      nums[n + COUNT] = 1;
      return;
    }
    const count = nums[n + COUNT]!;
    if (count > EXACT_LIMIT) {
      hllAdd(this.hlls, nums[n + AT]!, id);
      return;
    }
    let at: number;
    if (count === 1) {
      if (id === firstId) return;
      at = this.idsAlloc(16);
      this.idsInsert(at, 16, firstId);
      nums[n + AT] = at;
    } else at = nums[n + AT]!;
    const capacity = idsCapacity(count);
    if (!this.idsInsert(at, capacity, id)) return;
    const next = count + 1;
    if (next > EXACT_LIMIT) {
      nums[n + AT] = this.toHll(at, capacity);
      nums[n + COUNT] = next;
    } else if (next * 4 > capacity * 3) {
      // The count changes after the move: while the arena makes room, it names the set's old size.
      const moved = this.idsMove(n, capacity, capacity * 2);
      nums[n + AT] = moved;
      nums[n + COUNT] = next;
    } else nums[n + COUNT] = next;
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
    this.flush();
    return this.count;
  }

  /** Every entry, sorted (accepted first, then protocol, client, server, port): deterministic. */
  connections(): Connection[] {
    this.flush();
    const out: Connection[] = [];
    const nums = this.nums;
    for (let e = 0; e < this.count; e++) {
      const service = this.keys[e * 3 + 2]!;
      const n = e * WIDTH;
      const count = nums[n + COUNT]!;
      const bytesServer = nums[n + BYTES_SERVER]!;
      out.push({
        accepted: service >>> 24 === 1,
        protocol: (service >>> 16) & 255,
        client: this.addressList[this.keys[e * 3]!]!,
        server: this.addressList[this.keys[e * 3 + 1]!]!,
        port: service & 65535,
        connections: count > EXACT_LIMIT ? hllCount(this.hlls, nums[n + AT]!) : count,
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
