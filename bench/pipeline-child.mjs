// Spawned by bench/run.ts (`pipeline (aws, azure, gcp) alone`): the three-cloud pipeline once, on
// the built code (dist/, what the CLI runs, without the TypeScript loader the rest of the bench
// runs under: its transformed sources put 25-50 MiB and some noise on a peak RSS measured against
// the 1 GiB target). Prints {wallMs, cpuMs, peakRssMb}. Usage: node bench/pipeline-child.mjs <model.yaml>
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { PROVIDERS } from '../dist/providers/index.js';
import { compileFile } from '../dist/src/compile/index.js';
import { diffResources } from '../dist/src/plan/diff.js';
import { driftedCopy } from './drifted-copy.mjs';

/** The clouds of the 2-second target. */
const THREE_CLOUDS = ['aws', 'azure', 'gcp'];

const file = process.argv[2];
const cpu0 = process.cpuUsage();
const t0 = performance.now();
// `compileFile` is the path every command takes: it lets the YAML trees go once the model is built
// from them (a third of the heap after compile).
const compiled = await compileFile(file, { cwd: dirname(file) });
if (!compiled.ok) throw new Error('the synthetic model does not compile');
const rules = compiled.value;
/**
 * One cloud's render and diff, in a function of its own as `plan` plans each target: its render is
 * garbage once it returns. A loop body's locals would keep the previous cloud's render alive in
 * the frame until the next render returned (Azure's ~190 MB through the GCP render).
 */
function renderAndDiff(id) {
  const target = rules.targets.find((t) => t.kind === id);
  if (!target) throw new Error(`the synthetic model has no ${id} target`);
  const desired = PROVIDERS[id]().render(rules, target, { resolved: new Map() });
  diffResources(desired, driftedCopy(desired));
}
for (const id of THREE_CLOUDS) renderAndDiff(id);
const wallMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
process.stdout.write(
  JSON.stringify({ wallMs, cpuMs: (cpu.user + cpu.system) / 1000, peakRssMb: process.resourceUsage().maxRSS / 1024 }),
);
