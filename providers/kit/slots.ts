import { hash } from 'node:crypto';

/**
 * A stable slot allocator: Azure NSG priorities (unique per direction, 100-4096) and GCP network
 * firewall policy priorities (the rule's identity) are slots in a range. The promise, for every
 * caller: a key that holds a valid slot keeps it; adding or removing keys never moves another;
 * new keys are placed by hash (not by position), deterministically; reserved slots (held by rules
 * the model does not own) are never used; not fitting is reported, never papered over.
 */

/** An inclusive range of slots. */
export interface SlotRange {
  readonly from: number;
  readonly to: number;
}

/** What `allocateSlots` places. */
export interface SlotRequest {
  readonly range: SlotRange;
  /** The keys that need a slot (duplicates ignored; order does not matter). */
  readonly keys: readonly string[];
  /** The slot each key holds now (read from the cloud). Keys not in `keys` are being removed: their slots are free. */
  readonly live?: ReadonlyMap<string, number>;
  /** Slots no key may take (held by others). Slots outside the range are ignored. */
  readonly reserved?: Iterable<number>;
  /** A key's home: any non-negative integer, reduced modulo the range's size. Default `slotHash`. */
  readonly hash?: (key: string) => number;
}

/** Why a live key did not keep its slot (only for live states that break the promise's premises). */
export type SlotMoveReason = 'outside-range' | 'reserved' | 'shared';

/** The outcome of `allocateSlots`. */
export type SlotAllocation =
  | {
      readonly kind: 'ok';
      /** Key → slot, for every key. */
      readonly slots: ReadonlyMap<string, number>;
      /**
       * Live keys that could not keep their slot: outside the range, on a reserved slot, or a slot
       * two live keys claim (the first key in code-unit order keeps it). Empty for any consistent
       * live state: the case the "never moves" promise is about.
       */
      readonly moved: readonly { readonly key: string; readonly from: number; readonly reason: SlotMoveReason }[];
    }
  | {
      readonly kind: 'overflow' /** Keys needing a slot. */;
      readonly needed: number /** Slots not reserved. */;
      readonly free: number;
    };

/** The default home of a key: the first 4 bytes of sha256(key), big-endian (what Azure's and GCP's placements use). */
export function slotHash(key: string): number {
  return isAscii(key) ? sha256First32Ascii(key) : hash('sha256', key, 'buffer').readUInt32BE(0);
}

/** True when every code unit is ASCII (so the UTF-8 bytes are the code units). */
function isAscii(key: string): boolean {
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** SHA-256's round constants (FIPS 180-4 §4.2.2). */
const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);
/** The message schedule, reused by every call (the function is synchronous). */
const W = new Int32Array(64);

/**
 * The first 4 bytes of sha256(key), big-endian, for an ASCII key: the same number as
 * `hash('sha256', key).readUInt32BE(0)` (test/providers/kit/slots.test.ts compares them). Worth
 * its lines because every Azure NSG rule and GCP policy rule gets a home: at 3,000 segments
 * node:crypto's one-shot hash (string to bytes, a call into C++, a Buffer per key) was a quarter of
 * the Azure render (~2.6 µs a key); this reads the key's code units straight into the schedule
 * (~0.8-1 µs a key of one or two blocks) and allocates nothing.
 */
function sha256First32Ascii(key: string): number {
  const n = key.length;
  // The padded message: the bytes, 0x80, zeros, the bit length in the last 8 bytes of the last block.
  const blocks = ((n + 8) >>> 6) + 1;
  let h0 = 0x6a09e667 | 0;
  let h1 = 0xbb67ae85 | 0;
  let h2 = 0x3c6ef372 | 0;
  let h3 = 0xa54ff53a | 0;
  let h4 = 0x510e527f | 0;
  let h5 = 0x9b05688c | 0;
  let h6 = 0x1f83d9ab | 0;
  let h7 = 0x5be0cd19 | 0;
  for (let b = 0; b < blocks; b++) {
    const base = b * 64;
    W.fill(0, 0, 16);
    const end = Math.min(n, base + 64);
    for (let p = base; p < end; p++) W[(p - base) >> 2]! |= key.charCodeAt(p) << (24 - ((p & 3) << 3));
    if (n >= base && n < base + 64) W[(n - base) >> 2]! |= 0x80 << (24 - ((n & 3) << 3));
    if (b === blocks - 1) {
      W[14] = Math.floor(n / 0x20000000) | 0;
      W[15] = (n << 3) | 0;
    }
    for (let t = 16; t < 64; t++) {
      const x = W[t - 15]!;
      const y = W[t - 2]!;
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      W[t] = (W[t - 16]! + s0 + W[t - 7]! + s1) | 0;
    }
    let a = h0;
    let c1 = h1;
    let c2 = h2;
    let d = h3;
    let e = h4;
    let f = h5;
    let g = h6;
    let h = h7;
    for (let t = 0; t < 64; t++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const ch = (e & f) ^ (~e & g);
      const t1 = (h + S1 + ch + K[t]! + W[t]!) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const maj = (a & c1) ^ (a & c2) ^ (c1 & c2);
      h = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c2;
      c2 = c1;
      c1 = a;
      a = (t1 + S0 + maj) | 0;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + c1) | 0;
    h2 = (h2 + c2) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
    h5 = (h5 + f) | 0;
    h6 = (h6 + g) | 0;
    h7 = (h7 + h) | 0;
  }
  return h0 >>> 0;
}

const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Places `keys` in `range`. First every key with a valid live slot keeps it (in key order, so a
 * shared slot goes to the first). Then the other keys, in (home, key) order, each take the first
 * free slot from its home, probing upward and wrapping inside the range. The result depends only on
 * the set of keys, the live map and the reserved set.
 */
export function allocateSlots(request: SlotRequest): SlotAllocation {
  const { from, to } = request.range;
  const size = to - from + 1;
  const home = request.hash ?? slotHash;
  // Slots in use, by offset in the range: a byte per slot instead of a Set (a call places a few
  // dozen keys in a band of a few thousand slots, tens of thousands of calls at estate scale; GCP's
  // band of a million slots is one call per policy, a megabyte for its duration).
  const used = new Uint8Array(size);
  let reservedCount = 0;
  for (const s of request.reserved ?? [])
    if (Number.isInteger(s) && s >= from && s <= to && used[s - from] === 0) {
      used[s - from] = RESERVED;
      reservedCount++;
    }
  const keys = sortedUnique(request.keys);
  if (keys.length > size - reservedCount) return { kind: 'overflow', needed: keys.length, free: size - reservedCount };
  const slots = new Map<string, number>();
  const moved: { key: string; from: number; reason: SlotMoveReason }[] = [];
  // The keys left to place, by index into `keys` (so index order is key order).
  const unplaced: number[] = [];
  const live = request.live;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const s = live?.get(k);
    if (s === undefined) {
      unplaced.push(i);
      continue;
    }
    if (!Number.isInteger(s) || s < from || s > to) moved.push({ key: k, from: s, reason: 'outside-range' });
    else if (used[s - from] === RESERVED) moved.push({ key: k, from: s, reason: 'reserved' });
    else if (used[s - from] === TAKEN) moved.push({ key: k, from: s, reason: 'shared' });
    else {
      used[s - from] = TAKEN;
      slots.set(k, s);
      continue;
    }
    unplaced.push(i);
  }
  // (home, key) order: equal homes fall back to index order, which is key order.
  const homes = new Float64Array(keys.length);
  for (const i of unplaced) homes[i] = home(keys[i]!) % size;
  unplaced.sort((a, b) => homes[a]! - homes[b]! || a - b);
  for (const i of unplaced) {
    let s = homes[i]!;
    // Terminates: the overflow check above leaves at least one free slot per unplaced key (and a
    // hash outside its contract, NaN, reads no byte: it ends the loop where the Set version did).
    while (used[s]! > 0) s = (s + 1) % size;
    used[s] = TAKEN;
    slots.set(keys[i]!, from + s);
  }
  return { kind: 'ok', slots, moved };
}

/** Marks of `used` in allocateSlots: a reserved slot, a slot a key took. */
const RESERVED = 1;
const TAKEN = 2;

/** The keys without repeats, in code-unit order; the caller's array itself when it already is (no copy). */
function sortedUnique(keys: readonly string[]): readonly string[] {
  let sorted = true;
  for (let i = 1; i < keys.length && sorted; i++) sorted = keys[i - 1]! < keys[i]!;
  return sorted ? keys : [...new Set(keys)].sort(byCodeUnit);
}
