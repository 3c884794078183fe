// Untracked: live heap (after a full GC) at each step of the pipeline, and peak RSS.
const [file, ids = 'aws,azure,gcp'] = process.argv.slice(2);
const { loadModel } = await import('../dist/src/model/load.js');
const { validateModelPartial } = await import('../dist/src/model/validate.js');
const { compileRules } = await import('../dist/src/compile/index.js');
const { PROVIDERS } = await import('../dist/providers/index.js');
const { diffResources } = await import('../dist/src/plan/diff.js');
const mb = () => {
  globalThis.gc();
  return Math.round(process.memoryUsage().heapUsed / 1048576);
};
const out = {};
let loaded = await loadModel(file, { cwd: process.cwd() });
out.load = mb();
const v = validateModelPartial(loaded.model);
out.validate = mb();
const rules = compileRules(v.model).value;
out.compile = mb();
for (const id of ids.split(',')) {
  const target = rules.targets.find((x) => x.kind === id);
  let desired = PROVIDERS[id]().render(rules, target, { resolved: new Map() });
  out[`render ${id}`] = mb();
  const live = desired.slice().reverse();
  diffResources(desired, live);
  out[`diff ${id}`] = mb();
}
out.rssMb = Math.round(process.resourceUsage().maxRSS / 1024);
console.log(JSON.stringify(out));
