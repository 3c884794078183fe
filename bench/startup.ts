/**
 * Start-up of the CLI as users and pipelines meet it: whole `node dist/src/commands/main.js …` processes,
 * wall time and peak RSS, median of runs. Part of `npm run bench`; needs `npm run build` first.
 * Alone (the table only, without the estate-scale bench): `node --import tsx bench/startup.ts`
 * (`BENCH_STARTUP_RUNS`, default 11).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { median } from './stats.js';

const ROOT = resolve(import.meta.dirname, '..');

/** One measured command line (arguments of the CLI). */
export interface StartupCase {
  readonly label: string;
  readonly args: readonly string[];
}

/** The start-up figures of one command: medians over the runs. */
export interface StartupResult {
  readonly label: string;
  readonly runs: number;
  readonly wallMs: number;
  readonly minWallMs: number;
  readonly maxWallMs: number;
  readonly peakRssMb: number;
  readonly exitCode: number | null;
}

/** What the bench measures through the CLI. */
export const STARTUP_CASES: readonly StartupCase[] = [
  { label: 'bulkhead --version', args: ['--version'] },
  { label: 'bulkhead --help', args: ['--help'] },
  { label: 'bulkhead validate policies/shop.yaml', args: ['validate', 'policies/shop.yaml'] },
  {
    label: 'bulkhead render --provider gcp policies/shop.yaml --json',
    args: ['render', '--provider', 'gcp', 'policies/shop.yaml', '--json'],
  },
  {
    label: 'bulkhead plan policies/shop.yaml --snapshots …',
    args: ['plan', 'policies/shop.yaml', '--snapshots', 'policies/snapshots/shop'],
  },
];

/** Runs each start-up case `runs` times (after one warm-up) in the repository and returns the medians. */
export function benchStartup(runs: number, cases: readonly StartupCase[] = STARTUP_CASES): StartupResult[] {
  return benchCli(cases, runs, ROOT);
}

/** Runs each CLI case `runs` times (after one warm-up, unless `warmup: false`) in `cwd` and returns the medians. */
export function benchCli(
  cases: readonly StartupCase[],
  runs: number,
  cwd: string,
  options: { readonly warmup?: boolean } = {},
): StartupResult[] {
  const first = options.warmup === false ? 1 : 0;
  const cli = join(ROOT, 'dist/src/commands/main.js');
  const probe = join(ROOT, 'bench/rss-probe.mjs');
  const dir = mkdtempSync(join(tmpdir(), 'bulkhead-startup-'));
  try {
    return cases.map((c, i) => {
      const rssFile = join(dir, `rss-${i}.txt`);
      const walls: number[] = [];
      let exitCode: number | null = null;
      for (let run = first; run <= runs; run++) {
        const t0 = performance.now();
        const r = spawnSync(process.execPath, ['--import', probe, cli, ...c.args], {
          cwd,
          env: { ...process.env, BENCH_RSS_FILE: run === 0 ? '' : rssFile, NO_COLOR: '1' },
          stdio: ['ignore', 'ignore', 'ignore'],
        });
        const ms = performance.now() - t0;
        exitCode = r.status;
        if (run > 0) walls.push(ms);
      }
      const rss = readFileSync(rssFile, 'utf8').trim().split('\n').map(Number);
      return {
        label: c.label,
        runs,
        wallMs: median(walls),
        minWallMs: Math.min(...walls),
        maxWallMs: Math.max(...walls),
        peakRssMb: median(rss) / 1024,
        exitCode,
      };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The start-up table, Markdown. */
export function formatStartup(results: readonly StartupResult[]): string {
  const rows = results.map(
    (r) =>
      `| ${r.label} | ${r.wallMs.toFixed(0)} ms | ${r.minWallMs.toFixed(0)}–${r.maxWallMs.toFixed(0)} ms | ${r.peakRssMb.toFixed(0)} MB | ${r.exitCode} | ${r.runs} |`,
  );
  return [
    '| command | wall (median) | min–max | peak RSS (median) | exit | runs |',
    '|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.stdout.write(`${formatStartup(benchStartup(Number(process.env['BENCH_STARTUP_RUNS'] ?? 11)))}\n`);
}
