import { describe, expect, it } from 'vitest';
import { canonicalJson, diffResources } from '../../src/plan/diff.js';
import type { Child, Resource } from '../../src/plan/types.js';

function child(key: string, attrs: Record<string, string | number> = {}, widens = false): Child {
  return { key, summary: key, attributes: { key, ...attrs }, ...(widens ? { widens: true } : {}) };
}

function res(
  name: string,
  children: Child[] = [],
  attributes: Resource['attributes'] = { description: 'd' },
): Resource {
  return {
    address: `t.fake_group.${name}`,
    target: 't',
    type: 'fake_group',
    name,
    attributes,
    children,
    forceNew: ['description'],
  };
}

describe('diffResources', () => {
  it('plans nothing for identical sides, whatever the key order of attributes', () => {
    const a = res('a', [child('r1', { x: 1, y: 2 })], { description: 'd', tags: { b: '1', a: '2' } });
    const b = res('a', [{ ...child('r1'), attributes: { y: 2, x: 1, key: 'r1' } }], {
      tags: { a: '2', b: '1' },
      description: 'd',
    });
    expect(diffResources([a], [b])).toEqual([]);
  });

  it('creates, deletes and updates by address, sorted', () => {
    const changes = diffResources(
      [res('c', [child('r1', {}, true)]), res('a', [child('keep'), child('new', {}, true), child('mod', { port: 2 })])],
      [res('b', [child('old')]), res('a', [child('keep'), child('gone'), child('mod', { port: 1 })])],
    );
    expect(changes.map((c) => [c.address, c.action])).toEqual([
      ['t.fake_group.a', 'update'],
      ['t.fake_group.b', 'delete'],
      ['t.fake_group.c', 'create'],
    ]);
    const update = changes[0]!;
    expect(update.childChanges.map((c) => [c.key, c.action])).toEqual([
      ['gone', 'delete'],
      ['mod', 'update'],
      ['new', 'create'],
    ]);
    expect(update.widensAccess).toBe(true);
    expect(changes[1]!.childChanges.map((c) => c.action)).toEqual(['delete']);
    expect(changes[1]!.widensAccess).toBe(false);
    expect(changes[2]!.widensAccess).toBe(true);
  });

  it('does not flag an update that only removes or rewrites rules as widening', () => {
    const [c] = diffResources([res('a', [])], [res('a', [child('r', {}, true)])]);
    expect(c!.widensAccess).toBe(false);
    const [u] = diffResources([res('a', [child('r', { port: 1 }, true)])], [res('a', [child('r', { port: 2 })])]);
    expect(u!.action).toBe('update');
    expect(u!.widensAccess).toBe(false);
  });

  it('replaces when a forceNew attribute changes, updates in place otherwise', () => {
    const [r] = diffResources(
      [res('a', [child('r1')], { description: 'new' })],
      [res('a', [child('r1')], { description: 'old' })],
    );
    expect(r!.action).toBe('replace');
    expect(r!.reason).toContain('description');
    expect(r!.childChanges.map((c) => [c.key, c.action])).toEqual([
      ['r1', 'delete'],
      ['r1', 'create'],
    ]);
    const [u] = diffResources(
      [res('a', [], { description: 'd', note: 'new' })],
      [res('a', [], { description: 'd', note: 'old' })],
    );
    expect(u!.action).toBe('update');
    expect(u!.attributeChanges).toEqual([{ name: 'note', before: 'old', after: 'new' }]);
  });

  it('ignores liveId, summary and origins', () => {
    const live = res('a', [{ ...child('r1'), liveId: 'sgr-1', summary: 'other' }]);
    const want = res('a', [{ ...child('r1'), origins: [{ pos: { file: 'f', line: 1, column: 1 }, label: 'x' }] }]);
    expect(diffResources([want], [{ ...live, liveId: 'sg-1' }])).toEqual([]);
  });

  it('takes either side in any order, the last of a repeated address winning (property)', async () => {
    const { default: fc } = await import('fast-check');
    // Small alphabets, so addresses repeat and both sides share some.
    const side = fc.array(
      fc.record({
        name: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
        port: fc.integer({ min: 1, max: 3 }),
        description: fc.constantFrom('d', 'x'),
      }),
      { maxLength: 12 },
    );
    const make = (xs: { name: string; port: number; description: string }[]) =>
      xs.map((x) => res(x.name, [child('r', { port: x.port })], { description: x.description }));
    // What the diff meant when it kept a Map per side: the last resource of each address, by address.
    const normal = (rs: readonly Resource[]) =>
      [...new Map(rs.map((r) => [r.address, r])).values()].sort((a, b) =>
        a.address < b.address ? -1 : a.address > b.address ? 1 : 0,
      );
    fc.assert(
      fc.property(side, side, (d, l) => {
        const desired = make(d);
        const live = make(l);
        expect(diffResources(desired, live)).toEqual(diffResources(normal(desired), normal(live)));
      }),
      { numRuns: 200 },
    );
  });

  it('canonicalJson sorts keys and keeps array order', () => {
    expect(canonicalJson({ b: [2, 1], a: { d: 1, c: null } })).toBe('{"a":{"c":null,"d":1},"b":[2,1]}');
  });
});

describe('jsonEqual', () => {
  it('agrees with canonicalJson on random values', async () => {
    const { default: fc } = await import('fast-check');
    const { jsonEqual } = await import('../../src/plan/diff.js');
    const json = fc.jsonValue() as unknown as import('fast-check').Arbitrary<import('../../src/plan/types.js').Json>;
    fc.assert(
      fc.property(json, json, (a, b) => {
        expect(jsonEqual(a, b)).toBe(canonicalJson(a) === canonicalJson(b));
        expect(jsonEqual(a, JSON.parse(JSON.stringify(a)))).toBe(true);
      }),
    );
  });
});
