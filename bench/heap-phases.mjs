// Live heap (MB, after a full collection) once the model is compiled and after each cloud's
// render, and the process's peak RSS: where the pipeline's memory goes. Runs the built code.
// Usage: npm run build && node --expose-gc bench/heap-phases.mjs <model.yaml> [aws,azure,gcp]
import { PROVIDERS } from '../dist/providers/index.js';
import { compileFile } from '../dist/src/compile/index.js';

const [file, ids = 'aws,azure,gcp'] = process.argv.slice(2);
if (!file || typeof globalThis.gc !== 'function') {
  console.error('usage: node --expose-gc bench/heap-phases.mjs <model.yaml> [aws,azure,gcp]');
  process.exit(2);
}
const liveMb = () => {
  globalThis.gc();
  return Math.round(process.memoryUsage().heapUsed / 2 ** 20);
};
// compileFile, as every command loads a model: the YAML trees are garbage once it returns.
const compiled = await compileFile(file);
if (!compiled.ok) {
  console.error(compiled.diagnostics.map((d) => d.message).join('\n'));
  process.exit(1);
}
const rules = compiled.value;
const out = { compile: liveMb() };
for (const id of ids.split(',')) {
  const target = rules.targets.find((t) => t.kind === id);
  if (!target) continue;
  // The render held while measuring, dropped before the next: what one render keeps.
  const desired = PROVIDERS[id]().render(rules, target, { resolved: new Map() });
  out[`render ${id}`] = liveMb();
  out[`render ${id} objects`] = desired.length;
}
out.peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
console.log(JSON.stringify(out));
