/**
 * IPv4 addresses as numbers on the flow-log hot path (DESIGN §6, issue 12 item 7). A reader that
 * scans an address's digits into a 32-bit number hands the fold that number beside the text
 * (`FlowSink.addIpv4`), and the fold finds the address by the number: no string is sliced,
 * hashed or compared per record. The text is still there for every other sink, built once per
 * distinct address by `Ipv4Names`, never per record.
 *
 * Only canonical dotted quads (`10.0.1.5`, no leading zeros, each part 0–255) become numbers:
 * number and text then name each other one to one, so an address read as a number and the same
 * address read as text (another reader, another file) are the same address to the fold.
 */

/**
 * A 32-bit mix (murmur3's finalizer) for the open-addressing tables of the flow code, as a SIGNED
 * 32-bit integer: callers only mask it or shift it with `>>>`, which read the same 32 bits, and a
 * signed one is a small integer to V8 where `>>> 0` would make half of the hashes heap numbers,
 * allocated each time one crosses a call that is not inlined (one per record on the fold's path,
 * found with the sampling heap profiler: the young GC had that much more to do).
 */
export function mix32(x: number): number {
  let h = x | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/** The canonical dotted text of an IPv4 address given as an unsigned 32-bit number. */
export function ipv4Text(ip: number): string {
  return `${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}`;
}

/**
 * The IPv4 address in `text[from, to)` as an unsigned 32-bit number, or -1 when it is not a
 * canonical dotted quad (IPv6, `-`, leading zeros, a part above 255 …): the caller then keeps the text.
 */
export function parseIpv4(text: string, from: number, to: number): number {
  let ip = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      ip = ip * 256 + part;
      part = 0;
      digits = 0;
      dots++;
      continue;
    }
    const d = c - 48;
    if (d < 0 || d > 9 || (digits > 0 && part === 0)) return -1;
    part = part * 10 + d;
    if (part > 255) return -1;
    digits++;
  }
  if (dots !== 3 || digits === 0) return -1;
  return ip * 256 + part;
}

/**
 * The text of each IPv4 address a reader meets, made once per distinct address: a reader fills
 * `FlowRecord.srcAddr` from here without slicing its input. Bounded: past `capacity` distinct
 * addresses it starts over (a cache, so correctness does not depend on what it still holds), which
 * keeps a reader's memory flat on a scan of the whole internet.
 */
export class Ipv4Names {
  private keys: Int32Array;
  private names: (string | undefined)[];
  private size = 0;
  private readonly capacity: number;

  constructor(capacity = 1 << 18) {
    this.capacity = capacity;
    this.keys = new Int32Array(1024);
    this.names = new Array<string | undefined>(1024).fill(undefined);
  }

  /** The dotted text of `ip` (an unsigned 32-bit number). */
  text(ip: number): string {
    const keys = this.keys;
    const names = this.names;
    const mask = keys.length - 1;
    const key = ip | 0;
    let i = mix32(key) & mask;
    for (;;) {
      const name = names[i];
      if (name === undefined) break;
      if (keys[i] === key) return name;
      i = (i + 1) & mask;
    }
    const name = ipv4Text(ip);
    if (this.size >= this.capacity) {
      this.keys.fill(0);
      this.names.fill(undefined);
      this.size = 0;
      return name;
    }
    keys[i] = key;
    names[i] = name;
    if (++this.size * 2 > keys.length) this.grow();
    return name;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldNames = this.names;
    const keys = new Int32Array(oldKeys.length * 2);
    const names = new Array<string | undefined>(keys.length).fill(undefined);
    const mask = keys.length - 1;
    for (let j = 0; j < oldKeys.length; j++) {
      const name = oldNames[j];
      if (name === undefined) continue;
      let i = mix32(oldKeys[j]!) & mask;
      while (names[i] !== undefined) i = (i + 1) & mask;
      keys[i] = oldKeys[j]!;
      names[i] = name;
    }
    this.keys = keys;
    this.names = names;
  }
}
