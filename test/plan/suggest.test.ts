import { describe, expect, it } from 'vitest';
import { closest } from '../../src/model/suggest.js';
import { didYouMean, suggest } from '../../src/plan/suggest.js';

/**
 * One "did you mean" for the whole tool: the command line's suggestions (targets, options) match
 * with the model's measure. Before, the command line had its own plain Levenshtein (one
 * suggestion, lower-cased), so the same typo got different answers in a model file and on the
 * command line.
 */
describe('command-line did you mean', () => {
  it('suggests what the model suggests, and names tied candidates', () => {
    for (const [name, candidates] of [
      ['aws-prd', ['aws-prod', 'azure-prod']],
      ['aws-tset', ['aws-test', 'gcp-test']],
      ['--detailed-exitcodes', ['--detailed-exitcode', '--out']],
    ] as const) {
      expect(suggest(name, candidates)).toBe(closest(name, candidates)[0]);
    }
    // A tie: both are one edit away (the old one named only the first).
    expect(didYouMean('aws-prd', ['aws-pro', 'aws-prod'])).toBe(' (did you mean "aws-pro" or "aws-prod"?)');
  });

  it('counts a transposition as one edit', () => {
    // Plain Levenshtein counted "ab" → "ba" as two edits, tying "bacd" with "abxy" and picking "abxy" by order.
    expect(suggest('abcd', ['abxy', 'bacd'])).toBe('bacd');
    expect(suggest('Prod', ['pro', 'prod'])).toBe('prod');
  });

  it('lists the known names when nothing is close', () => {
    expect(didYouMean('zzzzzz', ['b', 'a'])).toBe(' (known: a, b)');
    expect(didYouMean('zzzzzz', [])).toBe('');
  });
});
