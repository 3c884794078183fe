/**
 * `npm run bench:floor [segments…]` (default 1,000 and 10,000, each in a process of its own): what the work of the three-cloud pipeline
 * costs on this machine when nothing but the work is done. Issue 11's 2-second target is for load
 * → validate → compile → render × 3 → diff × 3; whatever the design, that pipeline reads the model,
 * hashes an id per intent and a name per GCP rule, makes each rule the clouds hold, sorts each
 * cloud's objects (outputs are deterministic) and matches desired against live by key. Here each
 * of those is timed alone, on the real texts and counts of the synthetic model (compiled and
 * rendered first, untimed), with the fastest primitive Node has for it:
 *
 * - read: `JSON.parse` of the model as JSON (native code; YAML is more to parse than JSON).
 * - hash: one-shot `crypto.hash` sha256 of each intent's id and each GCP rule's name.
 * - make: one object per object and per rule, and one for its fields, all alive until the last
 *   cloud's are made.
 * - sort: each cloud's object addresses and each object's rule keys, by code unit.
 * - match: a Map of each cloud's desired addresses and rule keys, looked up once per key.
 *
 * Their sum is a floor for a pipeline that does nothing else (no validation, no merging of rules,
 * no cloud semantics): median of 5 runs of each, after one untimed run, each after a full collection.
 */
import { spawnSync } from 'node:child_process';
import { hash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parse } from 'yaml';
import { PROVIDERS } from '../providers/index.js';
import { compileFile } from '../src/compile/index.js';
import type { Resource } from '../src/plan/types.js';
import { ESTATE_OPTIONS, syntheticModel } from './model.js';
import { fmt } from './table.js';

const CLOUDS = ['aws', 'azure', 'gcp'] as const;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const RUNS = 5;

/** The texts and keys of one size, as the pipeline has them. */
interface Work {
  readonly modelJson: string;
  /** One text per hash the pipeline makes: the intents' ids, the GCP rules' names. */
  readonly hashed: readonly string[];
  /** Per cloud: its objects' addresses, and per object its rules' keys. */
  readonly clouds: readonly { readonly addresses: readonly string[]; readonly keys: readonly (readonly string[])[] }[];
}

async function workOf(segments: number): Promise<Work> {
  const dir = await mkdtemp(join(tmpdir(), 'bulkhead-floor-'));
  try {
    const file = join(dir, 'model.yaml');
    const text = syntheticModel(segments, ESTATE_OPTIONS);
    await writeFile(file, text);
    const compiled = await compileFile(file, { cwd: dir });
    if (!compiled.ok) throw new Error('the synthetic model does not compile');
    const rules = compiled.value;
    const hashed: string[] = rules.rules.map((r) => r.id);
    const clouds = CLOUDS.map((id) => {
      const target = rules.targets.find((t) => t.kind === id);
      if (!target) throw new Error(`the synthetic model has no ${id} target`);
      const make = PROVIDERS[id];
      if (!make) throw new Error(`no ${id} provider`);
      const desired: Resource[] = make().render(rules, target, { resolved: new Map() });
      if (id === 'gcp') for (const r of desired) hashed.push(r.name);
      return { addresses: desired.map((r) => r.address), keys: desired.map((r) => r.children.map((c) => c.key)) };
    });
    return { modelJson: JSON.stringify(parse(text)), hashed, clouds };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The floor's steps, each on `w`; each returns something derived from its work, so none is dead code. */
const STEPS: Record<string, (w: Work) => number> = {
  read: (w) => Object.keys(JSON.parse(w.modelJson) as object).length,
  hash: (w) => {
    let n = 0;
    for (const t of w.hashed) n += hash('sha256', t, 'base64').charCodeAt(0);
    return n;
  },
  make: (w) => {
    const made: { key: string; summary: string; attributes: { direction: string; ports: string; peer: string } }[] = [];
    const one = (key: string) =>
      made.push({ key, summary: key, attributes: { direction: key, ports: key, peer: key } });
    for (const c of w.clouds) {
      for (const address of c.addresses) one(address);
      for (const keys of c.keys) for (const key of keys) one(key);
    }
    return made.length;
  },
  sort: (w) => {
    let n = 0;
    for (const c of w.clouds) {
      n += [...c.addresses].sort(byCodeUnit).length;
      for (const keys of c.keys) n += [...keys].sort(byCodeUnit).length;
    }
    return n;
  },
  match: (w) => {
    let n = 0;
    for (const c of w.clouds) {
      const objects = new Map(c.addresses.map((a, i) => [a, i]));
      for (const a of c.addresses) n += objects.get(a)! & 1;
      for (const keys of c.keys) {
        const rules = new Map(keys.map((k, i) => [k, i]));
        for (const k of keys) n += rules.get(k)! & 1;
      }
    }
    return n;
  },
};

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** One size's floor (`floorOf`): its counts, and the median ms of each step. */
interface Floor {
  readonly segments: number;
  readonly modelMiB: number;
  readonly hashes: number;
  readonly objects: number;
  readonly rules: number;
  readonly steps: Record<string, number>;
}

/** Every step on one size's work, in this process: one untimed run, then the median of RUNS. */
async function floorOf(segments: number): Promise<Floor> {
  const work = await workOf(segments);
  const steps: Record<string, number> = {};
  let sink = 0;
  for (const [name, step] of Object.entries(STEPS)) {
    const times: number[] = [];
    for (let run = -1; run < RUNS; run++) {
      gc(); // each run on a heap holding only the work: the previous run's objects are not its cost
      const t0 = performance.now();
      sink += step(work);
      if (run >= 0) times.push(performance.now() - t0);
    }
    steps[name] = median(times);
  }
  if (sink === -1) process.stderr.write('\n');
  return {
    segments,
    modelMiB: work.modelJson.length / 2 ** 20,
    hashes: work.hashed.length,
    objects: work.clouds.reduce((n, c) => n + c.addresses.length, 0),
    rules: work.clouds.reduce((n, c) => n + c.keys.reduce((k, keys) => k + keys.length, 0), 0),
    steps,
  };
}

/** The table: a column per size, and the ratio largest / smallest. */
function formatFloors(floors: readonly Floor[]): string {
  const count = (n: number) => n.toLocaleString('en-US');
  const first = floors[0]!;
  const last = floors.at(-1)!;
  const ratio = floors.length > 1 ? [`${last.segments / first.segments}× / 1×`] : [];
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  const head = ['step', ...floors.map((f) => `${count(f.segments)} segments`), ...ratio];
  const sum = (f: Floor) => Object.values(f.steps).reduce((s, ms) => s + ms, 0);
  const row = (name: string, of: (f: Floor) => number) =>
    line([name, ...floors.map((f) => fmt(of(f))), ...(ratio.length > 0 ? [(of(last) / of(first)).toFixed(1)] : [])]);
  return [
    line(head),
    line(head.map(() => '---')),
    ...Object.keys(first.steps).map((name) => row(name, (f) => f.steps[name]!)),
    row('sum', sum),
    line([
      'work: model JSON / hashes / objects / rules',
      ...floors.map(
        (f) => `${f.modelMiB.toFixed(1)} MiB / ${count(f.hashes)} / ${count(f.objects)} / ${count(f.rules)}`,
      ),
      ...ratio.map(() => ''),
    ]),
  ].join('\n');
}

/** Each size in a process of its own (its heap and its cache are its own), then the table. */
async function main(): Promise<void> {
  const sizes = process.argv.length > 2 ? process.argv.slice(2).map(Number) : [1_000, 10_000];
  const floors = sizes.map((n) => {
    process.stderr.write(`floor: ${n} segments (compiled and rendered untimed, then the steps)…\n`);
    const child = spawnSync(process.execPath, [...process.execArgv, import.meta.filename, '--one', String(n)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    if (child.status !== 0) throw new Error(`floor: the ${n}-segment child failed (exit ${child.status})`);
    return JSON.parse(child.stdout) as Floor;
  });
  process.stdout.write(
    `${formatFloors(floors)}\n\nFloor of the three-cloud pipeline: each step alone on the real texts, median of ${RUNS} runs (bench/floor.ts).\n`,
  );
}

if (process.argv[2] === '--one') process.stdout.write(JSON.stringify(await floorOf(Number(process.argv[3]))));
else await main();
