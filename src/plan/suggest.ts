import { closest } from '../model/suggest.js';

/**
 * "Did you mean …?" for unknown command-line names (targets, options), in the command line's
 * message shape. The matching is the model's (src/model/suggest.ts: Damerau–Levenshtein, so a
 * transposition is one edit; a case-only difference is the closest match; ties name both), so
 * every "did you mean" of Bulkhead suggests alike; this file only adds the "known: …" fallback.
 */

/**
 * The candidate closest to `name` (the model's measure and limits), or undefined; `name` itself
 * when it is one (the command line rewrites `-flag` to `--flag` before asking, so an exact match
 * is the answer, not "nothing close").
 */
export function suggest(name: string, candidates: readonly string[]): string | undefined {
  return candidates.includes(name) ? name : closest(name, candidates, 1)[0];
}

/** ` (did you mean "x"?)` (or `"x" or "y"` for a tie), else the list of valid names, for an error message. */
export function didYouMean(name: string, candidates: readonly string[]): string {
  const best = closest(name, candidates, 2);
  if (best.length > 0) return ` (did you mean ${best.map((b) => `"${b}"`).join(' or ')}?)`;
  return candidates.length > 0 ? ` (known: ${[...candidates].sort().join(', ')})` : '';
}
