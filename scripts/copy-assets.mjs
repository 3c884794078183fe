// Copies the non-TypeScript assets that ship with the package (the model's JSON Schema) into dist/.
import { cpSync, existsSync } from 'node:fs';

const assets = [['src/model/schema.json', 'dist/src/model/schema.json']];
for (const [from, to] of assets) {
  if (existsSync(from)) cpSync(from, to);
}
