import { describe, expect, it } from 'vitest';
import { formatPhases, growthExponents, type SizeResult } from '../../bench/table.js';

function size(segments: number, phases: Record<string, number>): SizeResult {
  return {
    segments,
    intents: segments * 44,
    runs: 3,
    phases,
    sizes: { aws: { objects: segments, children: segments * 40, outputBytes: segments * 9000, changes: 0 } },
    peakRssMb: segments / 10,
    snapshotObjects: {},
  };
}

describe('the bench table', () => {
  // a linear phase, an n² one, and one that is only cheap at the smallest size
  const rows = [
    size(1000, { linear: 100, quadratic: 10, cliff: 50 }),
    size(3000, { linear: 300, quadratic: 90, cliff: 300 }),
    size(10000, { linear: 1000, quadratic: 1000, cliff: 1000 }),
  ];

  it('gives each step the order of growth of its time (time ∝ segments^k)', () => {
    const k = growthExponents(rows);
    expect(k['linear']!.map((x) => x!.toFixed(3))).toEqual(['1.000', '1.000']);
    expect(k['quadratic']!.map((x) => x!.toFixed(3))).toEqual(['2.000', '2.000']);
    // 6× for a 3× step, then 3.33× for a 3.33× step: superlinear at the small end only
    expect(k['cliff']![0]!).toBeCloseTo(Math.log(6) / Math.log(3), 6);
    expect(k['cliff']![1]!).toBeCloseTo(1, 6);
  });

  it('reads a step with a zero time as unknown, and has no steps below two sizes', () => {
    expect(growthExponents([size(1000, { p: 0 }), size(10000, { p: 5 })])['p']).toEqual([null]);
    expect(growthExponents([size(1000, { p: 1 })])).toEqual({});
  });

  it('prints a column per step with three sizes, and every row as wide as the head', () => {
    const table = formatPhases(rows).split('\n');
    const cells = (l: string) => l.split('|').length;
    expect(table[0]).toBe(
      '| phase | 1,000 segments | 3,000 segments | 10,000 segments | 10× / 1× | k 1,000→3,000 | k 3,000→10,000 |',
    );
    for (const l of table) expect(cells(l)).toBe(cells(table[0]!));
    expect(table.find((l) => l.startsWith('| quadratic '))).toBe(
      '| quadratic | 10 ms | 90 ms | 1.00 s | 100.0 | 2.00 | 2.00 |',
    );
  });

  it('prints no step columns with two sizes (the default bench)', () => {
    const table = formatPhases([rows[0]!, rows[2]!]).split('\n');
    expect(table[0]).toBe('| phase | 1,000 segments | 10,000 segments | 10× / 1× |');
    expect(table.find((l) => l.startsWith('| linear '))).toBe('| linear | 100 ms | 1.00 s | 10.0 |');
  });
});
