import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allocateSlots, slotHash, type SlotRange } from '../../../providers/kit/slots.js';

/** Azure NSG, per direction: guardrail denies 100-199, allows 200-4094, fixed rules at 4095 and 4096 (providers/azure/limits.ts). */
const AZURE = { deny: { from: 100, to: 199 }, allow: { from: 200, to: 4094 }, fixed: [4095, 4096] } as const;
/** GCP network firewall policy: Bulkhead's band 10,000,000 + 1,000,000 (providers/gcp/limits.ts POLICY_PRIORITY_BAND). */
const GCP_POLICY: SlotRange = { from: 10_000_000, to: 10_999_999 };

/** Real hash, and a coarse one that piles keys onto a few homes so probing (and wrapping) is exercised. */
const hashes = fc.constantFrom<(k: string) => number>(
  slotHash,
  (k) => k.length * 7919,
  (k) => (k.charCodeAt(0) ?? 0) * 1_000_003,
);

const keyArb = fc.stringMatching(/^[a-z][a-z0-9-]{0,12}$/);

/** Slots of an ok allocation (fails the test on overflow). */
function ok(r: ReturnType<typeof allocateSlots>): ReadonlyMap<string, number> {
  if (r.kind !== 'ok') throw new Error(`unexpected overflow ${JSON.stringify(r)}`);
  return r.slots;
}

/** A random shuffle of a list, driven by fast-check. */

/**
 * The promise, for one range: from a live state that the allocator itself produced (as the cloud
 * holds it after an apply), a random edit (removals, additions) moves no surviving key, gives no
 * two keys one slot, never uses a reserved slot, stays in range, and does not depend on order.
 */
function promiseHolds(range: SlotRange, maxKeys: number, reservedArb: fc.Arbitrary<number[]>) {
  return fc.asyncProperty(
    fc.uniqueArray(keyArb, { maxLength: maxKeys }),
    fc.uniqueArray(keyArb, { maxLength: maxKeys }),
    fc.array(fc.boolean(), { minLength: maxKeys, maxLength: maxKeys }),
    reservedArb,
    hashes,
    fc.integer({ min: 1, max: 4 }),
    async (before, added, removeMask, reserved, hash, rounds) => {
      let live = ok(allocateSlots({ range, keys: before, reserved, hash }));
      let keys = before;
      for (let round = 0; round < rounds; round++) {
        const next = [
          ...keys.filter((_, i) => !removeMask[(i + round) % maxKeys]),
          ...added.map((k) => `${k}-${round}`),
        ];
        const r = allocateSlots({ range, keys: next, live, reserved, hash });
        if (r.kind === 'overflow') {
          expect(r.needed).toBeGreaterThan(r.free);
          return;
        }
        expect(r.moved).toEqual([]);
        const slots = r.slots;
        expect([...slots.keys()].sort()).toEqual([...new Set(next)].sort());
        for (const [k, s] of live) if (slots.has(k)) expect(slots.get(k)).toBe(s);
        const values = [...slots.values()];
        expect(new Set(values).size).toBe(values.length);
        for (const s of values) {
          expect(s).toBeGreaterThanOrEqual(range.from);
          expect(s).toBeLessThanOrEqual(range.to);
          expect(reserved).not.toContain(s);
        }
        // Deterministic: the same request in another order (and with duplicates) gives the same slots.
        const again = ok(
          allocateSlots({
            range,
            keys: [...next].reverse().concat(next),
            live: new Map([...live].reverse()),
            reserved: [...reserved].reverse(),
            hash,
          }),
        );
        expect([...again].sort()).toEqual([...slots].sort());
        live = slots;
        keys = next;
      }
    },
  );
}

describe('allocateSlots', () => {
  it('keeps live slots, places new keys from their hash home, probes past used slots and wraps', () => {
    const range = { from: 10, to: 14 };
    const hash = (k: string) => ({ a: 0, b: 0, c: 4, d: 4 })[k] ?? 0;
    expect([...ok(allocateSlots({ range, keys: ['a', 'b', 'c', 'd'], hash }))]).toEqual([
      ['a', 10],
      ['b', 11],
      ['c', 14],
      ['d', 12],
    ]);
    // With b live at 13 and 10 reserved, a probes to 11, d wraps past 14 (c) to 12.
    const r = allocateSlots({
      range,
      keys: ['a', 'b', 'c', 'd'],
      hash,
      live: new Map([['b', 13]]),
      reserved: [10, 99],
    });
    expect(r).toEqual({
      kind: 'ok',
      slots: new Map([
        ['b', 13],
        ['a', 11],
        ['c', 14],
        ['d', 12],
      ]),
      moved: [],
    });
  });

  it('reports overflow instead of placing keys on reserved slots', () => {
    expect(allocateSlots({ range: { from: 1, to: 3 }, keys: ['a', 'b', 'c'], reserved: [2] })).toEqual({
      kind: 'overflow',
      needed: 3,
      free: 2,
    });
    expect(allocateSlots({ range: { from: 1, to: 3 }, keys: ['a', 'b'], reserved: [2] }).kind).toBe('ok');
  });

  it('says which live keys could not keep a slot, and why', () => {
    const r = allocateSlots({
      range: { from: 100, to: 199 },
      keys: ['a', 'b', 'c', 'd'],
      live: new Map([
        ['a', 150],
        ['b', 150],
        ['c', 250],
        ['d', 120],
      ]),
      reserved: [120],
    });
    if (r.kind !== 'ok') throw new Error('overflow');
    expect(r.slots.get('a')).toBe(150);
    expect(r.moved).toEqual([
      { key: 'b', from: 150, reason: 'shared' },
      { key: 'c', from: 250, reason: 'outside-range' },
      { key: 'd', from: 120, reason: 'reserved' },
    ]);
    for (const k of ['b', 'c', 'd']) expect([150, 120]).not.toContain(r.slots.get(k));
  });

  it('reuses a removed key’s slot only for keys that need one', () => {
    const hash = () => 0;
    const live = ok(allocateSlots({ range: { from: 0, to: 9 }, keys: ['a', 'b', 'c'], hash }));
    const after = ok(allocateSlots({ range: { from: 0, to: 9 }, keys: ['a', 'c', 'z'], live, hash }));
    expect(after.get('a')).toBe(live.get('a'));
    expect(after.get('c')).toBe(live.get('c'));
    expect(after.get('z')).toBe(live.get('b'));
  });

  it('keeps the promise in one Azure direction: both sub-bands, fixed rules and unowned priorities', async () => {
    const unowned = fc.uniqueArray(fc.integer({ min: 100, max: 4096 }), { maxLength: 40 });
    await fc.assert(promiseHolds(AZURE.deny, 30, unowned), { numRuns: 60 });
    await fc.assert(promiseHolds(AZURE.allow, 60, unowned), { numRuns: 60 });
    // And the two sub-bands together never share a priority with each other or the fixed rules.
    await fc.assert(
      fc.property(
        fc.uniqueArray(keyArb, { maxLength: 40 }),
        fc.uniqueArray(keyArb, { maxLength: 40 }),
        unowned,
        hashes,
        (denies, allows, reserved, hash) => {
          const d = ok(allocateSlots({ range: AZURE.deny, keys: denies, reserved, hash }));
          const a = ok(allocateSlots({ range: AZURE.allow, keys: allows, reserved, hash }));
          const all = [...d.values(), ...a.values()];
          expect(new Set(all).size).toBe(all.length);
          for (const s of all) expect(AZURE.fixed).not.toContain(s);
          for (const s of d.values()) expect(s).toBeLessThan(AZURE.allow.from);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('keeps the promise in GCP’s policy band, with priorities held by unowned policy rules', async () => {
    const unowned = fc.uniqueArray(
      fc.oneof(
        fc.integer({ min: GCP_POLICY.from, max: GCP_POLICY.from + 2000 }),
        fc.integer({ min: 0, max: 2_147_483_547 }),
      ),
      { maxLength: 40 },
    );
    await fc.assert(promiseHolds(GCP_POLICY, 60, unowned), { numRuns: 60 });
  });

  it('reports overflow in a band that is nearly full, and places everything that fits', async () => {
    await fc.assert(
      fc.property(
        fc.uniqueArray(keyArb, { maxLength: 12 }),
        fc.uniqueArray(fc.integer({ min: 0, max: 9 }), { maxLength: 10 }),
        (keys, reserved) => {
          const r = allocateSlots({ range: { from: 0, to: 9 }, keys, reserved });
          const free = 10 - reserved.length;
          if (keys.length > free) expect(r).toEqual({ kind: 'overflow', needed: keys.length, free });
          else expect(ok(r).size).toBe(keys.length);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('slotHash is the first 4 bytes of node:crypto sha256, big-endian, for every length and any text', () => {
    const plain = (k: string) => createHash('sha256').update(k).digest().readUInt32BE(0);
    // Every length across the one-, two- and three-block boundaries (55/56, 119/120 bytes).
    for (let n = 0; n <= 200; n++) {
      const k = Array.from({ length: n }, (_, i) => String.fromCharCode(32 + ((i * 37 + n) % 95))).join('');
      expect(slotHash(k)).toBe(plain(k));
    }
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 150 }), fc.string({ unit: 'binary', maxLength: 40 })), (k) => {
        expect(slotHash(k)).toBe(plain(k));
      }),
      { numRuns: 500 },
    );
  });

  it('places exactly as the plain allocator (Sets, sorts of keys) does, live and reserved slots included', () => {
    // The allocator as first written: the reference for its byte-per-slot, index-sorted version.
    const plain = (request: Parameters<typeof allocateSlots>[0]): ReturnType<typeof allocateSlots> => {
      const { from, to } = request.range;
      const size = to - from + 1;
      const home = request.hash ?? slotHash;
      const used = new Set<number>();
      for (const s of request.reserved ?? []) if (Number.isInteger(s) && s >= from && s <= to) used.add(s);
      const reservedCount = used.size;
      const keys = [...new Set(request.keys)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      if (keys.length > size - reservedCount)
        return { kind: 'overflow', needed: keys.length, free: size - reservedCount };
      const slots = new Map<string, number>();
      const moved: { key: string; from: number; reason: 'outside-range' | 'reserved' | 'shared' }[] = [];
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
        .sort((a, b) => a.h - b.h || (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
      for (const { k, h } of order) {
        let s = h;
        while (used.has(from + s)) s = (s + 1) % size;
        used.add(from + s);
        slots.set(k, from + s);
      }
      return { kind: 'ok', slots, moved };
    };
    const slotsArb = fc.array(fc.oneof(fc.integer({ min: 0, max: 30 }), fc.constant(2.5)), { maxLength: 12 });
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10 }),
        fc.integer({ min: 0, max: 25 }),
        fc.array(fc.stringMatching(/^[a-c]{0,3}$/), { maxLength: 20 }),
        fc.array(
          fc.tuple(fc.stringMatching(/^[a-c]{0,3}$/), fc.oneof(fc.integer({ min: -2, max: 32 }), fc.constant(4.5))),
        ),
        slotsArb,
        hashes,
        (from, width, keys, liveEntries, reserved, hash) => {
          const request = { range: { from, to: from + width }, keys, live: new Map(liveEntries), reserved, hash };
          expect(allocateSlots(request)).toEqual(plain(request));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
