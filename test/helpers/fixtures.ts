import { existsSync, readFileSync } from 'node:fs';
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

/**
 * The 1-based line of a bundled example (`policies/<file>`) that starts with `prefix`, so a test that
 * names a model line follows the example when it grows. Throws when no line matches.
 */
export function exampleLine(file: string, prefix: string): number {
  const path = join(resolve(dirname(fileURLToPath(import.meta.url)), '../..'), 'policies', file);
  const i = readFileSync(path, 'utf8')
    .split('\n')
    .findIndex((l) => l.startsWith(prefix));
  if (i < 0) throw new Error(`no line of policies/${file} starts with ${JSON.stringify(prefix)}`);
  return i + 1;
}
