// The import-structure check of `npm test` (dependency-cruiser, rules in .dependency-cruiser.cjs):
// no import cycle, nothing imports the CLI folder src/commands/ from below, and src/ reaches a
// provider only through the registry providers/index.ts (or its descriptor half, providers/descriptors.ts).
//
// dependency-cruiser 17 parses TypeScript with the `typescript` package's JS API, which
// TypeScript 7 (the native compiler this project uses) no longer ships. So the sources are
// first transpiled one file at a time with esbuild (already installed: tsx and vitest use it)
// into a scratch folder, keeping paths, and the JavaScript is cruised: exactly the imports
// Node runs (type-only imports are erased, as tsc erases them under verbatimModuleSyntax).
// Paths in the report are the source's (`.ts`). Takes about a second.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transform } from 'esbuild';
import { cruise, format } from 'dependency-cruiser';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const folders = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const scan = folders.length > 0 ? folders : ['src', 'providers'];
const scratch = mkdtempSync(join(tmpdir(), 'bulkhead-imports-'));

function* tsFiles(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* tsFiles(p);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) yield p;
    else if (e.name.endsWith('.json')) yield p;
  }
}

try {
  const jobs = [];
  for (const folder of scan) {
    for (const file of tsFiles(join(root, folder))) {
      const rel = relative(root, file);
      const out = join(scratch, rel.replace(/\.ts$/, '.js'));
      mkdirSync(dirname(out), { recursive: true });
      const source = readFileSync(file, 'utf8');
      if (file.endsWith('.json')) {
        writeFileSync(out, source);
        continue;
      }
      jobs.push(
        transform(source, {
          loader: 'ts',
          format: 'esm',
          sourcefile: rel,
          tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true } },
        }).then((r) => writeFileSync(out, r.code)),
      );
    }
  }
  await Promise.all(jobs);
  const { default: config } = await import(join(root, '.dependency-cruiser.cjs'));
  process.chdir(scratch);
  const result = await cruise(scan, { ...config.options, ruleSet: { forbidden: config.forbidden }, validate: true });
  const text = (await format(result.output, { outputType: 'err-long' })).output;
  process.stdout.write(text.replace(/(\b(?:src|providers)\/[\w./-]+?)\.js\b/g, '$1.ts'));
  process.exitCode = result.output.summary.error > 0 ? 1 : 0;
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
