import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The vendor API descriptions and examples the tests check against, kept in the repository
 * (`test/fixtures/vendor`, origins and licenses in its SOURCES.md) so a fresh clone runs every test
 * with nothing beside it. A missing folder fails loudly rather than skipping a test.
 */
export const FIXTURES: string = (() => {
  const dir = join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), 'fixtures/vendor');
  if (!existsSync(dir)) throw new Error(`vendor fixtures not found in ${dir}`);
  return dir;
})();
