/**
 * `npm run bench:floor [segments…]` (default 1,000 and 10,000, each in a process of its own): what
 * the work of the three-cloud pipeline costs on this machine when nothing but the work is done. Issue 11's 2-second target is for load
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
 * - match: the live side arrives in the cloud's order, so matching it to the desired side by key
 *   takes either a Map (`match by map`: of each cloud's addresses, and of each object's rule keys,
 *   looked up once per key) or a sort of the live side and a walk beside the sorted desired one
 *   (`match by sort`); the sum counts the faster.
 *
 * A render can emit its objects in order, so sorting the desired side is not counted. The sum is a
 * floor for a pipeline that does nothing else (no validation, no merging of flows into rules, no
 * cloud semantics, nothing compared but keys): median of 5 runs of each step, after one untimed
 * run, each after a full collection.
 */
import { spawnSync } from 'node:child_process';
import { hash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parse } from 'yaml';
import { PROVIDERS } from '../providers/index.js';
import { compareStrings } from '../src/compile/canonical.js';
import { compileFile } from '../src/compile/index.js';
import type { Resource } from '../src/plan/types.js';
import { ESTATE_OPTIONS, rng, syntheticModel } from './model.js';
import { fmt } from './table.js';
import { median, segmentCounts } from './stats.js';

const CLOUDS = ['aws', 'azure', 'gcp'] as const;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const RUNS = 5;

/** The texts and keys of one size, as the pipeline has them. */
interface Work {
  readonly modelJson: string;
  /** One text per hash the pipeline makes: the intents' ids, the GCP rules' names. */
  readonly hashed: readonly string[];
  /** Per cloud: its objects' addresses, and per object its rules' keys, each list sorted by code unit. */
  readonly clouds: readonly Keys[];
  /** The same, each list shuffled: the live side, in the cloud's order. */
  readonly shuffled: readonly Keys[];
}

interface Keys {
  readonly addresses: readonly string[];
  readonly keys: readonly (readonly string[])[];
}

/** A copy of `xs` in a shuffled order, the same on every run (Fisher-Yates on a seeded generator). */
function shuffle<T>(xs: readonly T[], next: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
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
      return {
        addresses: desired.map((r) => r.address).sort(compareStrings),
        keys: desired.map((r) => r.children.map((c) => c.key).sort(compareStrings)),
      };
    });
    const next = rng(1);
    const shuffled = clouds.map((c) => ({
      addresses: shuffle(c.addresses, next),
      keys: c.keys.map((k) => shuffle(k, next)),
    }));
    return { modelJson: JSON.stringify(parse(text)), hashed, clouds, shuffled };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

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
  'match by map': (w) => {
    let n = 0;
    w.clouds.forEach((desired, i) => {
      const live = w.shuffled[i]!;
      const objects = new Map(desired.addresses.map((a, j) => [a, j]));
      for (const a of live.addresses) n += objects.get(a)! & 1;
      desired.keys.forEach((keys, j) => {
        const rules = new Map(keys.map((k, r) => [k, r]));
        for (const k of live.keys[j]!) n += rules.get(k)! & 1;
      });
    });
    return n;
  },
  'match by sort': (w) => {
    let n = 0;
    w.clouds.forEach((desired, i) => {
      const live = w.shuffled[i]!;
      n += matched(desired.addresses, [...live.addresses].sort(compareStrings));
      desired.keys.forEach((keys, j) => {
        n += matched(keys, [...live.keys[j]!].sort(compareStrings));
      });
    });
    return n;
  },
};

/** How many keys two sorted lists share: one walk beside both. */
function matched(a: readonly string[], b: readonly string[]): number {
  let n = 0;
  for (let i = 0, j = 0; i < a.length && j < b.length; ) {
    if (a[i]! === b[j]!) {
      n++;
      i++;
      j++;
    } else if (a[i]! < b[j]!) i++;
    else j++;
  }
  return n;
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
  // The steps' results, used so that no compiler drops a step's work as dead code.
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
  const sum = (f: Floor) => {
    const [byMap, bySort] = [f.steps['match by map']!, f.steps['match by sort']!];
    const rest = Object.entries(f.steps).filter(([name]) => !name.startsWith('match'));
    return rest.reduce((s, [, ms]) => s + ms, Math.min(byMap, bySort));
  };
  const row = (name: string, of: (f: Floor) => number) =>
    line([name, ...floors.map((f) => fmt(of(f))), ...(ratio.length > 0 ? [(of(last) / of(first)).toFixed(1)] : [])]);
  return [
    line(head),
    line(head.map(() => '---')),
    ...Object.keys(first.steps).map((name) => row(name, (f) => f.steps[name]!)),
    row('sum (the faster match)', sum),
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
  const sizes = process.argv.length > 2 ? segmentCounts(process.argv.slice(2), 'bench:floor') : [1_000, 10_000];
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
