/**
 * `npm run bench`: how compile, render and diff scale with the size of a model.
 *
 * Synthetic models of 100, 1,000 and 10,000 segments, about 20 flows each (17 from other
 * segments on a few services, 2 from CIDR entities, 1 from the internet on some), one guardrail,
 * one target per cloud. Per size: compile (load + validate + compile of the YAML file), render with
 * each registered provider (pure), and diff of that render against a "live" copy in another order
 * with 5% of the objects drifted. Median of 5 runs (3 for 10,000 segments, override with
 * BENCH_RUNS); peak heap = most heap in use (after a forced GC, outputs alive) over the size's runs.
 * Prints Markdown tables and writes the figures as JSON to `.bench/results.json` (or BENCH_JSON), so
 * a regression check can read them. `BENCH_SIZES=100,1000` picks sizes; `BENCH_STARTUP_RUNS` the
 * runs of the start-up table (whole CLI processes: `--version`, `validate`, `plan --snapshots`).
 * Then the flow-log section (bench/flows.ts): records/s of each cloud's reader + fold, audit, RSS.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { getProvider } from '../providers/index.js';
import { compileFile } from '../src/compile/index.js';
import type { CloudId, RuleSet } from '../src/compile/types.js';
import { diffResources } from '../src/plan/diff.js';
import type { Resource } from '../src/plan/types.js';
import type { Provider } from '../src/provider.js';
import { createFakeCloud, createFakeProvider } from '../test/helpers/fake-provider.js';
import { benchReach } from './reach.js';
import { benchStartup, formatStartup } from './startup.js';
import { benchFlows } from './flows.js';

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const SIZES = (process.env['BENCH_SIZES'] ?? '100,1000,10000').split(',').map(Number);
const FLOWS_PER_SEGMENT = 20;

/** A deterministic pseudo-random generator (the same model on every run). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** The YAML text of a synthetic model with `n` segments. */
export function syntheticModel(n: number): string {
  const rand = rng(n);
  const lines: string[] = [
    'bulkhead: 1',
    'name: bench',
    'targets:',
    '  aws-bench: { aws: { region: eu-west-1, vpc: vpc-0123456789abcdef0 } }',
    '  azure-bench: { azure: { subscription: 00000000-0000-0000-0000-000000000000, resourceGroup: rg, location: westeurope, nsg: bench } }',
    '  gcp-bench: { gcp: { project: bench-proj, network: bench-vpc } }',
    'services:',
    '  https: tcp/443',
    '  api: [tcp/8080, tcp/9000-9010]',
    '  postgres: tcp/5432',
    'entities:',
    '  office: { cidrs: [203.0.113.0/24, "2001:db8:100::/48"] }',
    '  partners: { cidrs: [198.51.100.0/24] }',
    'guardrails:',
    '  - name: no-remote-admin-from-internet',
    '    deny: { from: internet, ports: [tcp/22, tcp/3389] }',
    'segments:',
  ];
  const services = ['https', 'api', 'postgres', 'tcp/6379', 'udp/53'];
  for (let i = 0; i < n; i++) {
    const ingress: string[] = [];
    const peers = new Set<number>();
    const fromSegments = Math.min(FLOWS_PER_SEGMENT - 3, n - 1);
    while (peers.size < fromSegments) {
      const p = Math.floor(rand() * n);
      if (p !== i) peers.add(p);
    }
    for (const p of [...peers].sort((a, b) => a - b)) {
      ingress.push(`{ from: s${p}, ports: [${services[Math.floor(rand() * services.length)]}] }`);
    }
    ingress.push('{ from: office, ports: [https] }', '{ from: partners, ports: [api] }');
    if (i % 10 === 0) ingress.push('{ from: internet, ports: [https] }');
    lines.push(`  s${i}:`, `    ingress:`);
    for (const r of ingress) lines.push(`      - ${r}`);
  }
  return `${lines.join('\n')}\n`;
}

/** A "live" copy of a render: reversed, 5% of the objects drifted (a rule dropped, one added). */
function driftedCopy(desired: readonly Resource[]): Resource[] {
  return [...desired].reverse().map((r, i) => {
    if (i % 20 !== 0) return r;
    const children = r.children.slice(1);
    children.push({ key: `zz-drift-${i}`, summary: 'hand-made rule', attributes: { drift: i } });
    return { ...r, children };
  });
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

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

function heapMb(): number {
  return process.memoryUsage().heapUsed / 2 ** 20;
}

interface Row {
  segments: number;
  intents: number;
  compile: number;
  render: Map<CloudId, { ms: number; objects: number; children: number }>;
  diff: Map<CloudId, { ms: number; changes: number }>;
  peakHeap: number;
  runs: number;
}

async function benchSize(n: number, providers: Map<CloudId, Provider>): Promise<Row> {
  const dir = await mkdtemp(join(tmpdir(), 'bulkhead-bench-'));
  const file = join(dir, 'model.yaml');
  await writeFile(file, syntheticModel(n));
  const runs = Number(process.env['BENCH_RUNS'] ?? (n >= 10_000 ? 3 : 5));
  const compileTimes: number[] = [];
  const renderTimes = new Map<CloudId, number[]>();
  const diffTimes = new Map<CloudId, number[]>();
  const renderSizes = new Map<CloudId, { objects: number; children: number }>();
  const changeCounts = new Map<CloudId, number>();
  let intents = 0;
  gc();
  const base = heapMb();
  let peak = 0;
  for (let run = 0; run < runs; run++) {
    gc();
    const [result, compileMs] = await timeAsync(() => compileFile(file, { cwd: dir }));
    if (!result.ok) {
      const first = result.diagnostics.filter((d) => d.severity === 'error').slice(0, 3);
      throw new Error(`the synthetic model does not compile: ${first.map((d) => d.message).join('; ')}`);
    }
    const rules: RuleSet = result.value;
    intents = rules.rules.length;
    compileTimes.push(compileMs);
    gc();
    peak = Math.max(peak, heapMb() - base);
    for (const [id, provider] of providers) {
      const target = rules.targets.find((t) => t.kind === id)!;
      const ctx = { resolved: new Map() };
      const [desired, renderMs] = time(() => provider.render(rules, target, ctx));
      (renderTimes.get(id) ?? renderTimes.set(id, []).get(id)!).push(renderMs);
      renderSizes.set(id, { objects: desired.length, children: desired.reduce((k, r) => k + r.children.length, 0) });
      const live = driftedCopy(desired);
      const [changes, diffMs] = time(() => diffResources(desired, live));
      (diffTimes.get(id) ?? diffTimes.set(id, []).get(id)!).push(diffMs);
      changeCounts.set(id, changes.length);
      gc();
      peak = Math.max(peak, heapMb() - base);
    }
  }
  await rm(dir, { recursive: true, force: true });
  const render = new Map([...renderTimes].map(([id, ts]) => [id, { ms: median(ts), ...renderSizes.get(id)! }]));
  const diff = new Map([...diffTimes].map(([id, ts]) => [id, { ms: median(ts), changes: changeCounts.get(id)! }]));
  return { segments: n, intents, compile: median(compileTimes), render, diff, peakHeap: peak, runs };
}

function fmt(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 2 : 0)} ms`;
}

async function main(): Promise<void> {
  const providers = new Map<CloudId, Provider>();
  for (const id of ['aws', 'azure', 'gcp'] as const) {
    const p = getProvider(id);
    if (p) providers.set(id, p);
  }
  if (providers.size === 0) providers.set('aws', createFakeProvider(createFakeCloud()));
  const ids = [...providers.keys()];
  process.stderr.write(`bench: node ${process.version}, providers ${ids.join(', ')}, gc ${'gc' in globalThis ? 'exposed' : 'NOT exposed (peak heap is approximate)'}\n`);
  const rows: Row[] = [];
  for (const n of SIZES) {
    process.stderr.write(`bench: ${n} segments…\n`);
    rows.push(await benchSize(n, providers));
  }
  const head = [
    'segments',
    'rule intents',
    'compile',
    ...ids.map((id) => `render ${id} (objects/rules)`),
    ...ids.map((id) => `diff ${id}`),
    'peak heap',
    'runs',
  ];
  const out = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) {
    out.push(
      `| ${[
        r.segments.toLocaleString('en-US'),
        r.intents.toLocaleString('en-US'),
        fmt(r.compile),
        ...ids.map((id) => {
          const x = r.render.get(id)!;
          return `${fmt(x.ms)} (${x.objects.toLocaleString('en-US')}/${x.children.toLocaleString('en-US')})`;
        }),
        ...ids.map((id) => fmt(r.diff.get(id)!.ms)),
        `${r.peakHeap.toFixed(0)} MB`,
        String(r.runs),
      ].join(' | ')} |`,
    );
  }
  process.stdout.write(`${out.join('\n')}\n\nMedian of the runs; diff = the render against a reordered copy with 5% of objects drifted.\n`);

  process.stdout.write(`\n${(await benchReach(syntheticModel)).markdown}`);
  process.stderr.write('bench: start-up through the CLI…\n');
  const startup = benchStartup(Number(process.env['BENCH_STARTUP_RUNS'] ?? 9));
  process.stdout.write(`\n${formatStartup(startup)}\n`);

  process.stderr.write('bench: flow logs (parse + fold, audit)…\n');
  const flows = await benchFlows((m) => process.stderr.write(`${m}\n`));
  process.stdout.write(`\n${flows.markdown}\n`);

  const json = resolve(process.env['BENCH_JSON'] ?? '.bench/results.json');
  await mkdir(dirname(json), { recursive: true });
  const pipeline = rows.map((r) => ({
    segments: r.segments,
    intents: r.intents,
    runs: r.runs,
    compileMs: r.compile,
    render: Object.fromEntries([...r.render].map(([id, x]) => [id, x])),
    diff: Object.fromEntries([...r.diff].map(([id, x]) => [id, x])),
    peakHeapMb: r.peakHeap,
  }));
  await writeFile(json, `${JSON.stringify({ formatVersion: 1, node: process.version, pipeline, startup, flows: { readers: flows.rows, audit: flows.audit } }, null, 2)}\n`);
  process.stderr.write(`bench: figures written to ${json}\n`);
}

await main();
