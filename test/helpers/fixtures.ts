import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The vendor API descriptions and examples (`shared/fixtures`, beside the repository: that is how
 * CI lays out a clone). `BULKHEAD_FIXTURES` overrides it; a missing folder fails loudly.
 */
export const FIXTURES: string = (() => {
  const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
  const candidates = [process.env['BULKHEAD_FIXTURES'], join(repo, '../shared/fixtures')].filter((c): c is string => !!c);
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new Error(`vendor fixtures not found (looked in ${candidates.join(', ')}); set BULKHEAD_FIXTURES`);
  return found;
})();
