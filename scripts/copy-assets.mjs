// Copies the non-TypeScript assets that ship with the package (the model's JSON Schema) into dist/.
import { chmodSync, cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';

const assets = [['src/model/schema.json', 'dist/src/model/schema.json']];
for (const [from, to] of assets) {
  if (existsSync(from)) cpSync(from, to);
}

// The model's schema validator, compiled once here instead of in every CLI process (issue 11.0):
// src/model/schema-check.ts loads it when it was built from the registered providers' schema, else compiles.
const check = 'dist/src/model/schema-check.js';
if (existsSync(check)) {
  const { PRECOMPILED_VALIDATOR, standaloneValidatorSource } = await import(
    new URL(`../${check}`, import.meta.url).href
  );
  writeFileSync(`dist/src/model/${PRECOMPILED_VALIDATOR}`, standaloneValidatorSource());
}

// The executables named in package.json's `bin`: npm marks them executable on install, a plain
// `npm run build` (tsc writes 0644) does not, and `npx bulkhead` then finds no command.
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
for (const bin of Object.values(pkg.bin ?? {})) if (existsSync(bin)) chmodSync(bin, 0o755);
