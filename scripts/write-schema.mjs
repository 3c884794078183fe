// Writes src/model/schema.json, the JSON Schema shipped as `bulkhead/schema`, from the
// provider-neutral base (src/model/schema-base.ts) and the bundled providers' fragments
// (providers/<id>/target.ts). Run with `npm run schema:update` after changing either;
// test/model/schema.test.ts fails while the committed file differs from the assembly.
import { writeFileSync } from 'node:fs';
import { MODEL_SCHEMA } from '../src/model/schema-check.js';

const out = new URL('../src/model/schema.json', import.meta.url);
writeFileSync(out, `${JSON.stringify(MODEL_SCHEMA, null, 2)}\n`);
process.stdout.write(`wrote ${out.pathname}\n`);
