/** "Did you mean …?" for unknown names: the closest candidate by edit distance, when close enough. */

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

/** The candidate closest to `name` (at most a third of its length away), or undefined. */
export function suggest(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.ceil(name.length / 3)) + 1;
  for (const c of [...candidates].sort()) {
    const d = distance(name.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/** ` (did you mean "x"?)` or the list of valid names, for an error message. */
export function didYouMean(name: string, candidates: readonly string[]): string {
  const s = suggest(name, candidates);
  if (s) return ` (did you mean "${s}"?)`;
  return candidates.length > 0 ? ` (known: ${[...candidates].sort().join(', ')})` : '';
}
