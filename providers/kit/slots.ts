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
  return hash('sha256', key, 'buffer').readUInt32BE(0);
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
  const used = new Set<number>();
  for (const s of request.reserved ?? []) if (Number.isInteger(s) && s >= from && s <= to) used.add(s);
  const reservedCount = used.size;
  const keys = [...new Set(request.keys)].sort(byCodeUnit);
  if (keys.length > size - reservedCount) return { kind: 'overflow', needed: keys.length, free: size - reservedCount };
  const slots = new Map<string, number>();
  const moved: { key: string; from: number; reason: SlotMoveReason }[] = [];
  const reserved = new Set(used);
  for (const k of keys) {
    const s = request.live?.get(k);
    if (s === undefined) continue;
    if (!Number.isInteger(s) || s < from || s > to) moved.push({ key: k, from: s, reason: 'outside-range' });
    else if (reserved.has(s)) moved.push({ key: k, from: s, reason: 'reserved' });
    else if (used.has(s)) moved.push({ key: k, from: s, reason: 'shared' });
    else {
      used.add(s);
      slots.set(k, s);
    }
  }
  const order = keys
    .filter((k) => !slots.has(k))
    .map((k) => ({ k, h: home(k) % size }))
    .sort((a, b) => a.h - b.h || byCodeUnit(a.k, b.k));
  for (const { k, h } of order) {
    let s = h;
    // Terminates: the overflow check above leaves at least one free slot per unplaced key.
    while (used.has(from + s)) s = (s + 1) % size;
    used.add(from + s);
    slots.set(k, from + s);
  }
  return { kind: 'ok', slots, moved };
}
