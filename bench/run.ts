/**
 * `npm run bench`: how each phase scales with the size of a model, and what the CLI costs.
 *
 * Sizes 1,000 and 10,000 segments by default (`BENCH_SIZES=100,1000`), the synthetic model of
 * bench/model.ts (~20 flows a segment). Each size runs in a child process of its own, so its
 * peak RSS is its own: per run, load (YAML → trees), validate (trees → model), compile (model →
 * RuleSet), then per provider (every registered one: Kubernetes too once it lands) render
 * (RuleSet → resources), check (the provider's `validate`: quotas and names, on a render of its
 * own; the CLI's render then takes that one), output (`render --json`'s serialization) and diff
 * (the render against a reordered copy with 5% of the objects drifted).
 * "pipeline (aws, azure, gcp)" is load → validate → compile → render × 3 → diff × 3 of one run, the
 * 2-second target of issue 11; "pipeline" adds every registered provider. Median of 3 runs at every size (`BENCH_RUNS`;
 * one run at 10,000 moved its phases by 10-30% from run to run, enough to swing a 10× / 1× ratio
 * across the issue's 11); a size above 1,000 is timed after an untimed run of 1,000 segments, so both sizes run optimized code.
 * Then "pipeline (aws, azure, gcp) alone": the same pipeline once in a fresh process that does nothing
 * else, on the built code as the CLI runs it (bench/pipeline-child.mjs: wall, CPU and the peak RSS of
 * that process, the issue's 1 GiB), median of 3 processes
 * (`BENCH_PIPELINE_RUNS`; 0 skips it).
 *
 * Through the CLI (whole processes, wall and peak RSS, median of `BENCH_CLI_RUNS`, default 3):
 * `plan --snapshots` of the same model (its targets declaring raised quotas: ESTATE_OPTIONS) against
 * snapshots of the same size (bench/snapshots.ts), for every target of PLANNED_TARGETS (no warm-up run),
 * and the start-up table (`--version`, `validate`, `plan --snapshots` of the shop;
 * `BENCH_STARTUP_RUNS`). Needs `npm run build` first (the CLI runs from dist/).
 *
 * Then the reachability section (bench/reach.ts) and the flow-log section (bench/flows.ts):
 * records/s of each cloud's reader + fold, audit, RSS.
 *
 * Prints Markdown tables (with time(largest)/time(smallest) per phase and, with three sizes or more
 * — `BENCH_SIZES=1000,3000,10000` — the order of growth of each step: bench/table.ts) and writes
 * every figure to `.bench/results.json` (or BENCH_JSON), so a regression check can read them.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { PROVIDERS } from '../providers/index.js';
import { compileRules } from '../src/compile/index.js';
import type { CloudId, RuleSet } from '../src/compile/types.js';
import { hasErrors } from '../src/diagnostics.js';
import { loadModel } from '../src/model/load.js';
import { validateModelPartial } from '../src/model/validate.js';
import { writeJson } from '../src/commands/json-stream.js';
import { diffResources } from '../src/plan/diff.js';
import type { Provider } from '../src/provider.js';
import { driftedCopy } from './drifted-copy.mjs';
import { ESTATE_OPTIONS, PLANNED_TARGETS, syntheticModel } from './model.js';
import { writeSnapshots } from './snapshots.js';
import { benchCli, benchStartup, formatStartup } from './startup.js';
import { formatPhases, growthExponents, type PipelineAlone, type PipelineRun, type SizeResult } from './table.js';
import { benchFlows } from './flows.js';
import { benchReach } from './reach.js';
import { median, segmentCounts } from './stats.js';

/** The clouds of the 2-second target (load → validate → compile → render × 3 → diff × 3). */
const THREE_CLOUDS: ReadonlySet<string> = new Set(['aws', 'azure', 'gcp']);

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

function time<T>(fn: () => T): [T, number] {
  const t0 = performance.now();
  const out = fn();
  return [out, performance.now() - t0];
}

async function timeAsync<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const out = await fn();
  return [out, performance.now() - t0];
}

/** The registered providers' factories, by id. */
function providersOf(): Map<CloudId, () => Provider> {
  return new Map(Object.entries(PROVIDERS) as [CloudId, () => Provider][]);
}

/**
 * Load, validate and compile, timed apart, in a function of its own so that the YAML trees and the
 * SegmentModel are garbage once it returns, as in every command (`compileFile`): a caller's local
 * holding them would keep them alive through every phase timed after it (the trees are a third of
 * the heap after compile).
 */
async function compileTimed(
  file: string,
  dir: string,
): Promise<{ rules: RuleSet; loadMs: number; validateMs: number; compileMs: number }> {
  const { model, loadMs, validateMs } = await loadAndValidateTimed(file, dir);
  const [compiled, compileMs] = time(() => compileRules(model));
  if (!compiled.ok)
    throw new Error(
      `the synthetic model does not compile: ${compiled.diagnostics
        .slice(0, 3)
        .map((d) => d.message)
        .join('; ')}`,
    );
  return { rules: compiled.value, loadMs, validateMs, compileMs };
}

/** Load and validate, timed apart (`compileTimed`); the YAML trees are garbage once it returns. */
async function loadAndValidateTimed(
  file: string,
  dir: string,
): Promise<{
  model: NonNullable<ReturnType<typeof validateModelPartial>['model']>;
  loadMs: number;
  validateMs: number;
}> {
  const [loaded, loadMs] = await timeAsync(() => loadModel(file, { cwd: dir }));
  const [validated, validateMs] = time(() => validateModelPartial(loaded.model));
  const model = validated.model;
  if (!model || hasErrors([...loaded.diagnostics, ...validated.diagnostics]))
    throw new Error('the synthetic model is not valid');
  return { model, loadMs, validateMs };
}

/** One provider's timed phases and sizes (`childSize`). */
interface ProviderPhases {
  readonly checkMs: number;
  readonly renderMs: number;
  readonly outputMs: number;
  readonly diffMs: number;
  readonly sizes: SizeResult['sizes'][string];
}

/**
 * One provider's phases on one RuleSet, in a function of its own, as `plan` and `render` handle
 * each target: what a phase makes is garbage once the CLI is done with it, so each phase runs with
 * what the CLI would hold then and no more. A loop body's locals stayed alive in the frame until
 * the next provider's phases overwrote them, so every render ran beside the previous provider's
 * render, check render and drifted copy (2.97 GB peak at 10,000 segments; the GCP render 7.6 s
 * in the phase child against 4.6 s alone), which is garbage-collector work no command does.
 */
function providerPhases(make: () => Provider, rules: RuleSet, target: RuleSet['targets'][number]): ProviderPhases {
  const ctx = { resolved: new Map() };
  // The check first, on a provider of its own: its render is garbage once it returns. A render
  // after a validate on the same provider takes validate's render (the kit's render share) and
  // would measure nothing, so render runs on another.
  const [, checkMs] = time(() => make().validate(rules, target, ctx));
  const [desired, renderMs] = time(() => make().render(rules, target, ctx));
  // As `render --json` writes it: in pieces (one string of a 10,000-segment Azure or GCP render
  // would pass V8's largest string), counted instead of written.
  const [outputBytes, outputMs] = time(() => {
    let size = 0;
    writeJson(make().toCliJson(desired, target), (text) => {
      size += text.length;
    });
    return size;
  });
  const live = driftedCopy(desired);
  const [changes, diffMs] = time(() => diffResources(desired, live));
  return {
    checkMs,
    renderMs,
    outputMs,
    diffMs,
    sizes: {
      objects: desired.length,
      children: desired.reduce((k, r) => k + r.children.length, 0),
      outputBytes,
      changes: changes.length,
    },
  };
}

/**
 * One run of every in-process phase on `file`: load, validate and compile, then each provider's
 * phases (`providerPhases`), recorded under their names; `sizes` gets each provider's counts.
 * Returns the run's RuleSet (for the snapshots of the last run).
 */
async function timedRun(
  file: string,
  dir: string,
  providers: ReadonlyMap<CloudId, () => Provider>,
  record: (phase: string, ms: number) => void,
  sizes: SizeResult['sizes'],
): Promise<RuleSet> {
  const { rules, loadMs, validateMs, compileMs } = await compileTimed(file, dir);
  record('load', loadMs);
  record('validate', validateMs);
  record('compile', compileMs);
  let pipeline = loadMs + validateMs + compileMs;
  // The target counts the three clouds; "pipeline" adds every registered provider (Kubernetes too).
  let clouds = pipeline;
  for (const [id, make] of providers) {
    const target = rules.targets.find((t) => t.kind === id);
    if (!target) continue;
    const m = providerPhases(make, rules, target);
    record(`check ${id}`, m.checkMs);
    record(`render ${id}`, m.renderMs);
    record(`output ${id}`, m.outputMs);
    record(`diff ${id}`, m.diffMs);
    pipeline += m.renderMs + m.diffMs;
    if (THREE_CLOUDS.has(id)) clouds += m.renderMs + m.diffMs;
    sizes[id] = m.sizes;
  }
  record('pipeline (aws, azure, gcp)', clouds);
  record('pipeline', pipeline);
  return rules;
}

/** The size of the untimed warm-up run before a larger size (`childSize`). */
const WARMUP_SEGMENTS = 1_000;

/** The child side: every in-process phase of one size, `runs` times. */
async function childSize(n: number, dir: string): Promise<SizeResult> {
  const providers = providersOf();
  const file = join(dir, 'model.yaml');
  await writeFile(file, syntheticModel(n, ESTATE_OPTIONS));
  const runs = Number(process.env['BENCH_RUNS'] ?? 3);
  const times = new Map<string, number[]>();
  const add = (phase: string, ms: number) => (times.get(phase) ?? times.set(phase, []).get(phase)!).push(ms);
  const sizes: SizeResult['sizes'] = {};
  let intents = 0;
  let last: RuleSet | undefined;
  // One untimed run of a 1,000-segment model first for a larger size: the median of three runs at
  // 1,000 is a run whose code the JIT has already optimized, and a cold run at 10,000 next to it
  // put the compiler's warm-up (~0.1 s of validate alone) in every 10× / 1× ratio. The timed runs
  // then differ only in size.
  const warmups = n > WARMUP_SEGMENTS ? 1 : 0;
  const warmFile = join(dir, 'warmup.yaml');
  if (warmups > 0) await writeFile(warmFile, syntheticModel(WARMUP_SEGMENTS, ESTATE_OPTIONS));
  for (let run = -warmups; run < runs; run++) {
    // The previous run's RuleSet goes before this run loads: held in `last` alone (a loop-body
    // binding could stay alive in the suspended frame across this run's awaits).
    last = undefined;
    gc();
    last = await timedRun(run < 0 ? warmFile : file, dir, providers, run < 0 ? () => {} : add, sizes);
    intents = last.rules.length;
  }
  // The snapshots for the CLI's plan, from the last run's RuleSet (not timed).
  const snapshotObjects = Object.fromEntries(await writeSnapshots(join(dir, 'snapshots'), last!, providers));
  const phases: Record<string, number> = {};
  const order = [
    'load',
    'validate',
    'compile',
    ...['render', 'check', 'output', 'diff'].flatMap((p) => [...providers.keys()].map((id) => `${p} ${id}`)),
    'pipeline (aws, azure, gcp)',
    'pipeline',
  ];
  for (const p of order) if (times.has(p)) phases[p] = median(times.get(p)!);
  return {
    segments: n,
    intents,
    runs,
    phases,
    sizes,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    snapshotObjects,
  };
}

/**
 * The target as a user meets it: load → validate → compile → render and diff of AWS,
 * Azure and GCP, once, in a fresh process that does nothing else (bench/pipeline-child.mjs, on the
 * built code), so its peak RSS is the pipeline's (the phase child's peak also holds each output's
 * CLI JSON tree beside its render, and the YAML trees, which the child's `compileFile`, like every
 * command, lets go once the model is built: ~190 MiB of the peak at 10,000 segments).
 * `runs` such processes on the model in `dir`: the medians and each run.
 */
function pipelineAlone(dir: string, runs: number): PipelineAlone {
  const all: PipelineRun[] = [];
  for (let i = 0; i < runs; i++) {
    const child = spawnSync(
      process.execPath,
      [join(dirname(import.meta.filename), 'pipeline-child.mjs'), join(dir, 'model.yaml')],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
    );
    if (child.status !== 0) throw new Error(`bench: the pipeline child failed (exit ${child.status})`);
    all.push(JSON.parse(child.stdout) as PipelineRun);
  }
  return {
    wallMs: median(all.map((r) => r.wallMs)),
    cpuMs: median(all.map((r) => r.cpuMs)),
    peakRssMb: median(all.map((r) => r.peakRssMb)),
    runs: all,
  };
}

/** The parent side: one child per size, then the CLI's plan against the child's snapshots. */
async function benchSize(n: number, cliRuns: number): Promise<SizeResult> {
  const dir = await mkdtemp(join(tmpdir(), 'bulkhead-bench-'));
  try {
    const child = spawnSync(process.execPath, [...process.execArgv, import.meta.filename, '--child', String(n), dir], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 64 * 1024 * 1024,
    });
    if (child.status !== 0) throw new Error(`bench: the ${n}-segment child failed (exit ${child.status})`);
    const result = JSON.parse(child.stdout) as SizeResult;
    const alone = Number(process.env['BENCH_PIPELINE_RUNS'] ?? 3);
    if (alone > 0) {
      process.stderr.write(`bench: ${n} segments: the three-cloud pipeline alone, ${alone} fresh processes…\n`);
      result.pipelineAlone = pipelineAlone(dir, alone);
    }
    process.stderr.write(`bench: ${n} segments: plan --snapshots through the CLI…\n`);
    const [plan] = benchCli(
      [
        {
          label: `plan --snapshots (${n} segments)`,
          args: ['plan', 'model.yaml', '--snapshots', 'snapshots', '--target', PLANNED_TARGETS.join(',')],
        },
      ],
      cliRuns,
      dir,
      { warmup: false },
    );
    result.plan = plan!;
    return result;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const sizes = segmentCounts((process.env['BENCH_SIZES'] ?? '1000,10000').split(','), 'BENCH_SIZES');
  const cliRuns = Number(process.env['BENCH_CLI_RUNS'] ?? 3);
  process.stderr.write(
    `bench: node ${process.version}, providers ${Object.keys(PROVIDERS).join(', ')}, gc ${'gc' in globalThis ? 'exposed' : 'NOT exposed'}\n`,
  );
  const rows: SizeResult[] = [];
  for (const n of sizes) {
    process.stderr.write(`bench: ${n} segments…\n`);
    rows.push(await benchSize(n, cliRuns));
  }
  process.stdout.write(
    `${formatPhases(rows)}\n\nMedian of the runs. check = the provider's validate (quotas, names); output = \`render --json\`'s serialization; ` +
      'diff = the render against a reordered copy with 5% of objects drifted; pipeline (aws, azure, gcp) = load + validate + compile + render and diff of the three clouds (the target of issue 11), pipeline = the same with every provider, one run.\n',
  );

  process.stdout.write(`\n${(await benchReach((n) => syntheticModel(n, ESTATE_OPTIONS))).markdown}`);
  process.stderr.write('bench: start-up through the CLI…\n');
  const startup = benchStartup(Number(process.env['BENCH_STARTUP_RUNS'] ?? 9));
  process.stdout.write(`\n${formatStartup(startup)}\n`);

  process.stderr.write('bench: flow logs (parse + fold, audit)…\n');
  const flows = flowsInChild();
  process.stdout.write(`\n${flows.markdown}\n`);

  const json = resolve(process.env['BENCH_JSON'] ?? '.bench/results.json');
  await mkdir(dirname(json), { recursive: true });
  const ratios: Record<string, number> = {};
  if (rows.length > 1) {
    for (const p of Object.keys(rows[0]!.phases)) ratios[p] = rows.at(-1)!.phases[p]! / rows[0]!.phases[p]!;
  }
  // growth: per phase, the order of growth of each step between consecutive sizes (bench/table.ts).
  const growth = growthExponents(rows);
  await writeFile(
    json,
    `${JSON.stringify({ formatVersion: 2, node: process.version, sizes: rows, ratios, growth, startup, flows: { readers: flows.rows, audit: flows.audit } }, null, 2)}\n`,
  );
  process.stderr.write(`bench: figures written to ${json}\n`);
}

/**
 * The flow section in a process of its own, as `bulkhead audit` runs: this process has just
 * rendered and evaluated estates, and its heap of several hundred MB (every collection walking
 * it, on CPU that `process.cpuUsage()` counts) and its JIT state would be measured with the
 * reader (0.72M records per CPU-second here against 1.0-1.2M in a fresh process, same code).
 */
function flowsInChild(): Awaited<ReturnType<typeof benchFlows>> {
  const child = spawnSync(process.execPath, [...process.execArgv, import.meta.filename, '--flows'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 2 ** 20,
  });
  if (child.status !== 0) throw new Error(`bench: the flow-log child failed (exit ${child.status})`);
  return JSON.parse(child.stdout) as Awaited<ReturnType<typeof benchFlows>>;
}

if (process.argv[2] === '--flows') {
  process.stdout.write(JSON.stringify(await benchFlows((m) => process.stderr.write(`${m}\n`))));
} else if (process.argv[2] === '--child') {
  const n = Number(process.argv[3]);
  const dir = process.argv[4]!;
  const result = await childSize(n, dir);
  process.stdout.write(JSON.stringify(result));
} else {
  await main();
}
