import { error, warning, type Diagnostic, type SourcePos } from '../diagnostics.js';

/**
 * "Did you mean" suggestions by edit distance (Damerau–Levenshtein, optimal string alignment), the
 * way git and cargo suggest commands. Small enough to write here; no dependency needed.
 */

/** Edit distance between two strings (insert, delete, substitute, swap two neighbours). */
export function editDistance(a: string, b: string): number {
  const m = a.length,
    n = b.length;
  const d: number[][] = Array.from({ length: m + 1 }, (_, i) =>
    Array.from({ length: n + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= m; i++) {
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const row = d[i]!,
        prev = d[i - 1]!;
      let v = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      row[j] = v;
    }
  }
  return d[m]![n]!;
}

/**
 * The candidates closest to `name`, best first: those within a third of the name's length (at
 * least 1, at most 3 edits), or that differ only in case. Ties are sorted alphabetically.
 */
export function closest(name: string, candidates: Iterable<string>, max = 3): string[] {
  const limit = Math.min(3, Math.max(1, Math.floor(name.length / 3)));
  const scored: { c: string; d: number }[] = [];
  for (const c of new Set(candidates)) {
    if (c === name) continue;
    const d = c.toLowerCase() === name.toLowerCase() ? 0 : editDistance(name, c);
    if (d <= limit || (c.startsWith(name) && name.length >= 3)) scored.push({ c, d });
  }
  scored.sort((x, y) => x.d - y.d || (x.c < y.c ? -1 : x.c > y.c ? 1 : 0));
  return scored.slice(0, max).map((s) => s.c);
}

/** `; did you mean "x"?` (or `"x" or "y"`), or '' when nothing is close. */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const best = closest(name, candidates, 2);
  if (best.length === 0) return '';
  return `; did you mean ${best.map((b) => `"${b}"`).join(' or ')}?`;
}

/** A name without its trailing number (`eu-west-1` → `eu-west`, `westus2` → `westus`). */
const family = (name: string): string => name.replace(/-?\d+$/, '');

/**
 * Checks a place name (a region, a location) against a provider's list of known ones. Within 2
 * edits of a known name it is a typo: an error `misspelled-<what>` with "did you mean"
 * (`eu-wset-1`, `westeurop`), except when only the trailing number differs (`eu-west-4`,
 * `westus4`), which is how new places are named. Anything else is a warning `unknown-<what>` the
 * model can silence with `ignoreWarnings` (the list may predate a new place). Undefined when known.
 */
export function checkKnownName(
  value: string,
  pos: SourcePos,
  known: readonly string[],
  what: string,
  noun: string,
): Diagnostic | undefined {
  if (known.includes(value)) return undefined;
  const near = known.filter((k) => family(k) !== family(value) && editDistance(k, value) <= 2);
  if (near.length > 0) {
    // The closest names only: `eu-wset-1` suggests eu-west-1, not eu-west-2 as well.
    const min = Math.min(...near.map((k) => editDistance(k, value)));
    const best = near
      .filter((k) => editDistance(k, value) === min)
      .sort()
      .slice(0, 2);
    return error(
      `misspelled-${what}`,
      `"${value}" is not ${noun}; did you mean ${best.map((b) => `"${b}"`).join(' or ')}?`,
      pos,
    );
  }
  return warning(
    `unknown-${what}`,
    `"${value}" is not ${noun} Bulkhead knows (the list may predate a new one); check the name, or silence with "ignoreWarnings: [unknown-${what}]"`,
    pos,
  );
}
