/**
 * Reachability in `npm run bench` (issue 13 item 7): `explain` on the 1,000-segment bench model
 * (the model's verdict and each cloud's effective verdict, after loading), and the full
 * segment × segment × service matrix of the model's verdicts for 1,000 segments, plus sampled rows
 * of each cloud's matrix on the model's own render (with how often they agree).
 * `BENCH_REACH_SEGMENTS` changes the size (default 1000); `BENCH_REACH_ROWS` the cloud rows (20).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { getProvider } from '../providers/index.js';
import { compileFile } from '../src/compile/index.js';
import type { PortMatch, RuleSet } from '../src/compile/types.js';
import { renderedState, targetVerdict } from '../src/reach/effective.js';
import { modelVerdict } from '../src/reach/model-verdict.js';
import type { Probe, ProbeEndpoint } from '../src/reach/probe.js';

/** The figures, as JSON for `.bench/results.json`. */
export interface ReachFigures {
  readonly segments: number;
  readonly loadMs: number;
  readonly explain: {
    readonly firstMs: number;
    readonly medianUs: number;
    readonly maxMs: number;
    readonly probes: number;
  };
  readonly targets: Record<
    string,
    {
      readonly invalid: number;
      readonly invalidCode?: string;
      readonly renderMs: number;
      readonly firstMs: number;
      readonly medianUs: number;
      readonly maxMs: number;
      readonly rowsMs: number;
      readonly rows: number;
      readonly agree: number;
      readonly compared: number;
    }
  >;
  readonly matrix: { readonly cells: number; readonly allowed: number; readonly ms: number };
}

const SERVICES: readonly PortMatch[] = [
  { kind: 'ports', protocol: 'tcp', from: 443, to: 443 },
  { kind: 'ports', protocol: 'tcp', from: 8080, to: 8080 },
  { kind: 'ports', protocol: 'tcp', from: 9005, to: 9005 },
  { kind: 'ports', protocol: 'tcp', from: 5432, to: 5432 },
  { kind: 'ports', protocol: 'tcp', from: 6379, to: 6379 },
  { kind: 'ports', protocol: 'udp', from: 53, to: 53 },
];

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

/** A deterministic mix of probes: segment pairs, internet, an entity and addresses into segments. */
function probes(rules: RuleSet, count: number): Probe[] {
  let seed = 13;
  const next = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const seg = (): ProbeEndpoint => ({
    kind: 'segment',
    name: rules.segments[Math.floor(next() * rules.segments.length)]!.name,
  });
  const others: ProbeEndpoint[] = [
    { kind: 'entity', name: 'internet' },
    { kind: 'entity', name: 'office' },
    { kind: 'address', address: '198.51.100.7' },
    { kind: 'address', address: '10.9.8.7' },
  ];
  return Array.from({ length: count }, (_, i) => ({
    source: i % 4 === 3 ? others[i % others.length]! : seg(),
    destination: seg(),
    service: SERVICES[i % SERVICES.length]!,
  }));
}

/** Runs the reachability bench on `modelText(n)`; returns the Markdown section and the figures. */
export async function benchReach(
  modelText: (n: number) => string,
): Promise<{ markdown: string; figures: ReachFigures }> {
  const n = Number(process.env['BENCH_REACH_SEGMENTS'] ?? 1000);
  const rowsWanted = Number(process.env['BENCH_REACH_ROWS'] ?? 20);
  const dir = await mkdtemp(join(tmpdir(), 'bulkhead-bench-reach-'));
  try {
    await writeFile(join(dir, 'model.yaml'), modelText(n));
    const t0 = performance.now();
    const compiled = await compileFile('model.yaml', { cwd: dir });
    if (!compiled.ok) throw new Error('the bench model does not compile');
    const rules = compiled.value;
    const loadMs = performance.now() - t0;

    const list = probes(rules, 400);
    const t1 = performance.now();
    modelVerdict(rules, list[0]!);
    const firstMs = performance.now() - t1;
    const times: number[] = [];
    for (const p of list) {
      const t = performance.now();
      modelVerdict(rules, p);
      times.push(performance.now() - t);
    }
    const explain = { firstMs, medianUs: median(times) * 1000, maxMs: Math.max(...times), probes: list.length };

    // The full model matrix: every segment to every segment on every service.
    const t2 = performance.now();
    let allowed = 0;
    const names = rules.segments.map((s) => s.name);
    for (const a of names) {
      const source: ProbeEndpoint = { kind: 'segment', name: a };
      for (const b of names) {
        const destination: ProbeEndpoint = { kind: 'segment', name: b };
        for (const service of SERVICES)
          if (modelVerdict(rules, { source, destination, service }).verdict === 'allow') allowed++;
      }
    }
    const matrix = { cells: names.length * names.length * SERVICES.length, allowed, ms: performance.now() - t2 };

    const targets: ReachFigures['targets'] = {};
    for (const target of rules.targets) {
      const provider = getProvider(target.kind);
      if (!provider?.evaluate) continue;
      const tr = performance.now();
      const resources = provider.render(rules, target, { resolved: new Map() });
      const renderMs = performance.now() - tr;
      // A model too big for a target (Azure: 1,000 rules per NSG) renders what fits: say so, the cells then differ.
      const invalid = provider.validate(rules, target, { resolved: new Map() }).filter((d) => d.severity === 'error');
      const te = performance.now();
      const evaluator = await provider.evaluate(target, renderedState(target, resources), {
        model: rules.model.name,
        segments: rules.segments,
      });
      targetVerdict(evaluator, rules, target, list[0]!);
      const first = performance.now() - te;
      const ts: number[] = [];
      for (const p of list) {
        const t = performance.now();
        targetVerdict(evaluator, rules, target, p);
        ts.push(performance.now() - t);
      }
      // Sampled rows of the cloud matrix, compared with the model's verdicts.
      const rows = names.slice(0, Math.min(rowsWanted, names.length));
      let agree = 0,
        compared = 0;
      const tm = performance.now();
      for (const a of rows) {
        for (const b of names) {
          for (const service of SERVICES) {
            const probe: Probe = {
              source: { kind: 'segment', name: a },
              destination: { kind: 'segment', name: b },
              service,
            };
            compared++;
            if (targetVerdict(evaluator, rules, target, probe).verdict === modelVerdict(rules, probe).verdict) agree++;
          }
        }
      }
      targets[target.kind] = {
        invalid: invalid.length,
        ...(invalid[0] ? { invalidCode: invalid[0].code } : {}),
        renderMs,
        firstMs: first,
        medianUs: median(ts) * 1000,
        maxMs: Math.max(...ts),
        rowsMs: performance.now() - tm,
        rows: rows.length,
        agree,
        compared,
      };
    }
    const figures: ReachFigures = { segments: names.length, loadMs, explain, targets, matrix };
    return { markdown: formatReach(figures), figures };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const ms = (x: number) => (x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(x < 10 ? 2 : 0)} ms`);

/** The Markdown section of `npm run bench`. */
export function formatReach(f: ReachFigures): string {
  const lines = [
    `Reachability on the ${f.segments.toLocaleString('en-US')}-segment model (load + compile ${ms(f.loadMs)}):`,
    '',
    '| verdict | first probe (index/evaluator build) | median probe | slowest probe | matrix |',
    '|---|---|---|---|---|',
    `| model | ${ms(f.explain.firstMs)} | ${f.explain.medianUs.toFixed(1)} µs | ${ms(f.explain.maxMs)} | full ${f.matrix.cells.toLocaleString('en-US')} cells (segment × segment × ${SERVICES.length} services): ${ms(f.matrix.ms)}, ${f.matrix.allowed.toLocaleString('en-US')} allowed |`,
    ...Object.entries(f.targets).map(
      ([id, t]) =>
        `| ${id} (render ${ms(t.renderMs)}${t.invalid > 0 ? `; does not validate: ${t.invalid} ${t.invalidCode} errors` : ''}) | ${ms(t.firstMs)} | ${t.medianUs.toFixed(1)} µs | ${ms(t.maxMs)} | ${t.rows} rows (${t.compared.toLocaleString('en-US')} cells): ${ms(t.rowsMs)}, ${t.agree === t.compared ? 'all agree with the model' : `${(t.compared - t.agree).toLocaleString('en-US')} differ from the model`} |`,
    ),
    '',
    `${f.explain.probes} probes of \`explain\`'s kinds (segment pairs, internet, an entity, addresses); the cloud columns evaluate the model's own render.`,
  ];
  return `${lines.join('\n')}\n`;
}
