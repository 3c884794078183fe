/**
 * `npm run bench:aerleon` (optional): the bench's synthetic policy side by side with Aerleon's `gce`
 * generator, when a local Aerleon is available. AERLEON names its `aclgen` command (for example
 * `AERLEON=~/venvs/aerleon/bin/aclgen`); without it the harness says so and exits 0. Capirca, the
 * project Aerleon forked from (same policy language, same `gce` generator; Debian's
 * python3-capirca, `AERLEON=/usr/bin/aclgen`), runs the same policy and is labelled as such.
 *
 * The same work on both sides: the segments and ingress flows of bench/model.ts are written as an
 * Aerleon policy (one term per segment and peer, the peer's services together, network tags for
 * segments, address objects for the CIDR entities, `0.0.0.0/0` and `::/0` for the internet: the
 * `gce` generator's own vocabulary) and as the Bulkhead model; Bulkhead renders its GCP firewall
 * rules through the CLI (`render --provider gcp --json`). Both are whole processes timed the same
 * way (CPU and wall, medians of BENCH_AERLEON_RUNS, default 3, after a warm-up); the harness prints
 * both times, the ratio of CPU times, and both INGRESS allow rule counts, which must be equal (it
 * exits 1 when they are not: different work is no comparison). Bulkhead also renders the egress,
 * deny-all and guardrail rules the peer's policy has no words for (its total is printed): that is
 * extra work on Bulkhead's side only, so the ratio does not flatter Bulkhead. Sizes: BENCH_SIZES (default 100,1000,10000).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ESTATE_OPTIONS, SYNTHETIC_ENTITIES, SYNTHETIC_SERVICES, syntheticModel, syntheticSegments } from './model.js';
import { median } from './stats.js';

const ROOT = resolve(import.meta.dirname, '..');

/** The ports of a service as Aerleon's SERVICES.svc writes them (`443/tcp`). */
function aerleonPorts(service: string): string[] {
  const ports = SYNTHETIC_SERVICES[service] ?? [service];
  return ports.map((p) => {
    const [proto, range] = p.split('/');
    return `${range}/${proto}`;
  });
}

const token = (name: string) => name.toUpperCase().replace(/[^A-Z0-9]/g, '_');

/** The Aerleon policy and definitions of the synthetic model with `n` segments: files by path. */
export function aerleonFiles(n: number): Record<string, string> {
  const services = new Set<string>();
  const terms: string[] = [];
  for (const s of syntheticSegments(n)) {
    // One term per (segment, peer): the peer's services together, as Bulkhead groups them.
    const byPeer = new Map<string, Set<string>>();
    for (const f of s.ingress) (byPeer.get(f.from) ?? byPeer.set(f.from, new Set()).get(f.from)!).add(f.service);
    for (const [peer, svcs] of byPeer) {
      for (const svc of svcs) services.add(svc);
      const protocols = [...new Set([...svcs].flatMap((x) => aerleonPorts(x).map((p) => p.split('/')[1]!)))].sort();
      const source =
        peer.startsWith('s') && /^s\d+$/.test(peer)
          ? `  source-tag:: bench-${peer}`
          : `  source-address:: ${token(peer)}`;
      terms.push(
        [
          `term ${s.name}-from-${peer} {`,
          source,
          `  destination-tag:: bench-${s.name}`,
          `  protocol:: ${protocols.join(' ')}`,
          `  destination-port:: ${[...svcs].sort().map(token).join(' ')}`,
          '  action:: accept',
          '}',
        ].join('\n'),
      );
    }
  }
  const networks = [
    ...Object.entries(SYNTHETIC_ENTITIES).map(
      ([name, cidrs]) => `${token(name)} =\n${cidrs.map((c) => `    ${c}`).join('\n')}`,
    ),
    'INTERNET =\n    0.0.0.0/0\n    ::/0',
  ];
  const svcDefs = [...services].sort().map(
    (s) =>
      `${token(s)} =\n${aerleonPorts(s)
        .map((p) => `    ${p}`)
        .join('\n')}`,
  );
  return {
    'policies/pol/bench.pol': `header {\n  target:: gce bench INGRESS mixed\n}\n\n${terms.join('\n\n')}\n`,
    'def/NETWORK.net': `${networks.join('\n\n')}\n`,
    'def/SERVICES.svc': `${svcDefs.join('\n\n')}\n`,
  };
}

/**
 * Runs a command as a child of a small python3 wrapper that prints the CPU time (user + system) of
 * its children, `resource.getrusage(RUSAGE_CHILDREN)`: Node has no child rusage, and CPU time is
 * what stays comparable on a shared machine (wall time is printed too). python3 is here for moto.
 */
const CPU_WRAPPER = [
  '-c',
  'import resource, subprocess, sys\n' +
    'r = subprocess.run(sys.argv[1:], stdout=sys.stdout.buffer)\n' +
    'u = resource.getrusage(resource.RUSAGE_CHILDREN)\n' +
    'sys.stderr.write("\\nbench-cpu-seconds %f\\n" % (u.ru_utime + u.ru_stime))\n' +
    'sys.exit(r.returncode)',
];

/** Wall and CPU time (ms, medians of `runs` after a warm-up) of a command, and its last run's stdout. */
function timed(
  command: string,
  args: readonly string[],
  cwd: string,
  runs: number,
): { ms: number; cpuMs: number; stdout: string } {
  const walls: number[] = [];
  const cpus: number[] = [];
  let stdout = '';
  for (let i = 0; i <= runs; i++) {
    const t0 = performance.now();
    const r = spawnSync('python3', [...CPU_WRAPPER, command, ...args], { cwd, encoding: 'utf8', maxBuffer: 1 << 30 });
    const ms = performance.now() - t0;
    if (r.status !== 0)
      throw new Error(`${command} ${args.join(' ')} failed (exit ${r.status}): ${(r.stderr ?? '').slice(0, 2000)}`);
    const cpu = /bench-cpu-seconds ([\d.]+)/.exec(r.stderr ?? '');
    if (i > 0) {
      walls.push(ms);
      cpus.push(cpu ? Number(cpu[1]) * 1000 : Number.NaN);
    }
    stdout = r.stdout;
  }
  return { ms: median(walls), cpuMs: median(cpus), stdout };
}

/** INGRESS allow rules of a list of GCP firewall rules (Bulkhead's `render --json`, Aerleon's .gce output). */
export function ingressAllows(rules: readonly { direction?: string; allowed?: unknown }[]): number {
  return rules.filter((r) => (r.direction ?? 'INGRESS') === 'INGRESS' && Array.isArray(r.allowed)).length;
}

/**
 * Which peer AERLEON names: Aerleon, or Capirca (the project Aerleon forked from, with the same
 * policy language and `gce` generator; Debian packages it as python3-capirca).
 */
function peerName(aclgen: string): string {
  let text = '';
  try {
    text = readFileSync(aclgen, 'utf8').slice(0, 4096);
  } catch {
    // Not a readable script (a binary wrapper): the name the variable says.
  }
  return /capirca/i.test(text) && !/aerleon/i.test(text) ? 'Capirca' : 'Aerleon';
}

function main(): number {
  const aclgen = process.env['AERLEON'];
  if (!aclgen) {
    process.stdout.write(
      'bench:aerleon: AERLEON is not set (the path of a local Aerleon `aclgen`): nothing compared.\n',
    );
    return 0;
  }
  const runs = Number(process.env['BENCH_AERLEON_RUNS'] ?? 3);
  const peer = peerName(aclgen);
  const sizes = (process.env['BENCH_SIZES'] ?? '100,1000,10000').split(',').map(Number);
  const rows: string[] = [
    `| segments | Bulkhead CPU (wall) | ${peer} CPU (wall) | Bulkhead / ${peer} (CPU) | ingress allows (Bulkhead / ${peer}) | all rules |`,
    '|---|---|---|---|---|---|',
  ];
  let mismatch = false;
  for (const n of sizes) {
    const dir = mkdtempSync(join(tmpdir(), 'bulkhead-aerleon-'));
    try {
      writeFileSync(join(dir, 'model.yaml'), syntheticModel(n, ESTATE_OPTIONS));
      for (const [path, text] of Object.entries(aerleonFiles(n))) {
        mkdirSync(join(dir, path, '..'), { recursive: true });
        writeFileSync(join(dir, path), text);
      }
      mkdirSync(join(dir, 'out'), { recursive: true });
      const bulkhead = timed(
        process.execPath,
        [join(ROOT, 'dist/src/commands/main.js'), 'render', '--provider', 'gcp', 'model.yaml', '--json'],
        dir,
        runs,
      );
      const aerleon = timed(
        aclgen,
        ['--base_directory=policies', '--definitions_directory=def', '--output_directory=out'],
        dir,
        runs,
      );
      const out = readdirSync(join(dir, 'out')).filter((f) => f.endsWith('.gce'));
      const aerleonRules = out.flatMap(
        (f) => JSON.parse(readFileSync(join(dir, 'out', f), 'utf8')) as { direction?: string; allowed?: unknown }[],
      );
      const bulkheadRules = JSON.parse(bulkhead.stdout) as { direction?: string; allowed?: unknown }[];
      const b = ingressAllows(bulkheadRules);
      const a = ingressAllows(aerleonRules);
      if (a !== b) mismatch = true;
      const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
      rows.push(
        `| ${n.toLocaleString('en-US')} | ${fmt(bulkhead.cpuMs)} (${fmt(bulkhead.ms)}) | ${fmt(aerleon.cpuMs)} (${fmt(aerleon.ms)}) | ${(bulkhead.cpuMs / aerleon.cpuMs).toFixed(2)} | ${b} / ${a}${a === b ? '' : ' (DIFFERENT WORK)'} | ${bulkheadRules.length} / ${aerleonRules.length} |`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  process.stdout.write(
    `${rows.join('\n')}\n\nCPU time (user + system) and wall time of whole processes, medians of ${runs} runs after a warm-up; ${peer}: ${aclgen}.\n`,
  );
  if (mismatch)
    process.stderr.write(
      'bench:aerleon: the rule counts differ: the two sides did not do the same work, the times are no comparison\n',
    );
  return mismatch ? 1 : 0;
}

if (import.meta.filename === process.argv[1]) process.exitCode = main();
