/**
 * The bench's phase table (`npm run bench`) and the figures behind it: what one size's child
 * reports, and how each phase's time grows from one size to the next.
 */
import { PLANNED_TARGETS } from './model.js';
import type { StartupResult } from './startup.js';

/** What one size's child process reports. */
export interface SizeResult {
  readonly segments: number;
  readonly intents: number;
  readonly runs: number;
  /** Phase → median ms, in the order the table prints them. */
  readonly phases: Record<string, number>;
  /** Per provider: objects and rules (children) rendered, bytes of `render --json`, changes the diff found. */
  readonly sizes: Record<string, { objects: number; children: number; outputBytes: number; changes: number }>;
  readonly peakRssMb: number;
  /** Objects (groups, rules, ASGs) in each target's snapshot for the CLI's plan. */
  readonly snapshotObjects: Record<string, number>;
  /** `plan --snapshots` of the same model through the CLI. */
  plan?: StartupResult;
  /** The three-cloud pipeline alone, one fresh process a run: medians and the runs' figures. */
  pipelineAlone?: PipelineAlone;
}

/** One run of the three-cloud pipeline in a process of its own (bench/pipeline-child.mjs). */
export interface PipelineRun {
  readonly wallMs: number;
  /** User + system CPU of the process over the pipeline: the collector's threads included. */
  readonly cpuMs: number;
  readonly peakRssMb: number;
}

/** The pipeline-alone figures of one size: the median of each, and every run. */
export interface PipelineAlone extends PipelineRun {
  readonly runs: readonly PipelineRun[];
}

/**
 * The order of growth of each phase between consecutive sizes: k in time ∝ segments^k, that is
 * log(t₂/t₁) / log(n₂/n₁). 1.0 is linear; n·log n reads about 1.1 between 3,000 and 10,000
 * segments; quadratic reads 2. With three sizes or more it tells a step that grows faster than
 * the model from one that was merely cheap at the smallest size (a 1,000-segment heap that still
 * fits in the processor's cache, say), which one ratio of the ends cannot.
 * Phase → one exponent per step (null where a time is 0).
 */
export function growthExponents(rows: readonly SizeResult[]): Record<string, (number | null)[]> {
  const out: Record<string, (number | null)[]> = {};
  if (rows.length < 2) return out;
  for (const phase of Object.keys(rows[0]!.phases)) {
    out[phase] = rows.slice(1).map((b, i) => {
      const a = rows[i]!;
      const ta = a.phases[phase] ?? 0;
      const tb = b.phases[phase] ?? 0;
      return ta > 0 && tb > 0 ? Math.log(tb / ta) / Math.log(b.segments / a.segments) : null;
    });
  }
  return out;
}

export function fmt(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 2 : 0)} ms`;
}

/**
 * The phase table: one row per phase, one column per size, the ratio largest/smallest and, with
 * three sizes or more, the order of growth of each step (`growthExponents`).
 */
export function formatPhases(rows: readonly SizeResult[]): string {
  const first = rows[0]!;
  const lastRow = rows.at(-1)!;
  const count = (n: number) => n.toLocaleString('en-US');
  const ratio = rows.length > 1 ? `${lastRow.segments / first.segments}× / 1×` : undefined;
  const steps =
    rows.length > 2 ? rows.slice(1).map((b, i) => `k ${count(rows[i]!.segments)}→${count(b.segments)}`) : [];
  const head = ['phase', ...rows.map((r) => `${count(r.segments)} segments`), ...(ratio ? [ratio] : []), ...steps];
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  const out = [line(head), line(head.map(() => '---'))];
  /** A row: its label, one cell per size, and the ratio (blank when not given) and step cells. */
  const row = (label: string, cells: readonly string[], ratioCell = '', stepCells: readonly string[] = []) =>
    line([label, ...cells, ...(ratio ? [ratioCell] : []), ...steps.map((_, i) => stepCells[i] ?? '')]);
  const r = (a: number, b: number) => (a > 0 ? `${(b / a).toFixed(1)}` : '–');
  const growth = growthExponents(rows);
  for (const phase of Object.keys(first.phases)) {
    out.push(
      row(
        phase,
        rows.map((x) => fmt(x.phases[phase] ?? 0)),
        r(first.phases[phase]!, lastRow.phases[phase]!),
        (growth[phase] ?? []).map((k) => (k === null ? '–' : k.toFixed(2))),
      ),
    );
  }
  if (rows.every((x) => x.pipelineAlone)) {
    const a = (x: SizeResult) => x.pipelineAlone!;
    out.push(
      row(
        'pipeline (aws, azure, gcp) alone: wall',
        rows.map((x) => fmt(a(x).wallMs)),
        r(a(first).wallMs, a(lastRow).wallMs),
      ),
      row(
        'pipeline (aws, azure, gcp) alone: CPU',
        rows.map((x) => fmt(a(x).cpuMs)),
        r(a(first).cpuMs, a(lastRow).cpuMs),
      ),
      row(
        'pipeline (aws, azure, gcp) alone: peak RSS',
        rows.map((x) => `${a(x).peakRssMb.toFixed(0)} MB`),
        r(a(first).peakRssMb, a(lastRow).peakRssMb),
      ),
    );
  }
  out.push(
    row(
      'peak RSS (in-process phases)',
      rows.map((x) => `${x.peakRssMb.toFixed(0)} MB`),
      r(first.peakRssMb, lastRow.peakRssMb),
    ),
  );
  const plan = (x: SizeResult) =>
    x.plan ? `${fmt(x.plan.wallMs)}${x.plan.exitCode === 0 ? '' : ` (exit ${x.plan.exitCode})`}` : '–';
  out.push(
    row(
      `plan --snapshots (${PLANNED_TARGETS.join(', ')}), CLI wall`,
      rows.map(plan),
      rows.every((x) => x.plan) ? r(first.plan!.wallMs, lastRow.plan!.wallMs) : '',
    ),
    row(
      'plan --snapshots, CLI peak RSS',
      rows.map((x) => (x.plan ? `${x.plan.peakRssMb.toFixed(0)} MB` : '–')),
    ),
    row(
      'rule intents',
      rows.map((x) => count(x.intents)),
    ),
  );
  for (const id of Object.keys(first.sizes)) {
    out.push(
      row(
        `${id}: objects / rules / --json bytes`,
        rows.map((x) => {
          const s = x.sizes[id]!;
          return `${count(s.objects)} / ${count(s.children)} / ${(s.outputBytes / 2 ** 20).toFixed(0)} MiB`;
        }),
      ),
    );
  }
  out.push(
    row(
      'runs (median of)',
      rows.map((x) => String(x.runs)),
    ),
  );
  return out.join('\n');
}
