/**
 * The flow-log section of `npm run bench` (DESIGN §6, issue 12 item 7): records per second of each
 * cloud's reader folded into connections (parse + aggregate, one core), of audit over the folded
 * connections, and the process's RSS while a large AWS file streams through (it must stay flat).
 *
 * The inputs are generated here: an AWS VPC Flow Logs file of BENCH_FLOWS_MB megabytes (default
 * 100; `BENCH_FLOWS_1GB=1` adds a 1 GB run), and Azure and GCP files of BENCH_FLOWS_JSON_RECORDS
 * records (default 200,000). 2,000 clients talk to 200 servers on 10 ports with random ephemeral
 * client ports, so the fold keeps ~40,000 entries however large the file.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { once } from 'node:events';
import { awsFlowLogReader } from '../providers/aws/flows.js';
import { azureFlowLogReader } from '../providers/azure/flows.js';
import { gcpFlowLogReader } from '../providers/gcp/flows.js';
import { ConnectionTable } from '../src/flows/aggregate.js';
import { auditConnections } from '../src/flows/audit.js';
import { openText } from '../src/flows/read-files.js';
import type { FlowLogReader, Inventory } from '../src/flows/types.js';
import { compileFile } from '../src/compile/index.js';

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const CLIENTS = 2000;
const SERVERS = 200;
const PORTS = [22, 80, 443, 3306, 5432, 6379, 8080, 8443, 9000, 9200];
const clientIp = (i: number) => `10.${1 + (i >> 8)}.${i & 255}.${10 + (i % 7)}`;
const serverIp = (i: number) => `10.100.${i >> 4}.${i & 15}`;

/** One connection's endpoints: ~40,000 distinct client → server services. */
function pair(rand: () => number): [string, string, number, number] {
  const c = Math.floor(rand() * CLIENTS);
  const s = (c * 7 + Math.floor(rand() * 20)) % SERVERS;
  return [clientIp(c), serverIp(s), PORTS[(c + s) % PORTS.length]!, 32768 + Math.floor(rand() * 28000)];
}

/** Writes an AWS default-format file of about `bytes` bytes; returns the records written. */
async function writeAwsFile(path: string, bytes: number): Promise<number> {
  const out = createWriteStream(path);
  const rand = rng(42);
  let written = 0;
  let records = 0;
  let t = 1_790_000_000;
  while (written < bytes) {
    const lines: string[] = [];
    for (let i = 0; i < 5000; i++) {
      const [client, server, port, cport] = pair(rand);
      t += rand() < 0.01 ? 1 : 0;
      const req = i % 2 === 0;
      lines.push(
        req
          ? `2 123456789012 eni-0123456789abcdef0 ${client} ${server} ${cport} ${port} 6 12 4800 ${t} ${t + 60} ACCEPT OK`
          : `2 123456789012 eni-0123456789abcdef0 ${server} ${client} ${port} ${cport} 6 10 52000 ${t} ${t + 60} ${rand() < 0.02 ? 'REJECT' : 'ACCEPT'} OK`,
      );
    }
    const text = `${lines.join('\n')}\n`;
    written += text.length;
    records += lines.length;
    if (!out.write(text)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return records;
}

async function writeAzureFile(path: string, n: number): Promise<void> {
  const rand = rng(7);
  const tuples: string[] = [];
  for (let i = 0; i < n; i++) {
    const [client, server, port, cport] = pair(rand);
    tuples.push(
      `${1_790_000_000_000 + i},${client},${server},${cport},${port},6,O,${i % 2 ? 'E' : 'B'},NX,12,4800,10,52000`,
    );
  }
  const records = [];
  for (let i = 0; i < tuples.length; i += 1000) {
    records.push({
      time: '2026-09-21T00:00:00Z',
      flowLogVersion: 4,
      flowRecords: { flows: [{ aclID: 'x', flowGroups: [{ rule: 'r', flowTuples: tuples.slice(i, i + 1000) }] }] },
    });
  }
  await writeFile(path, JSON.stringify({ records }));
}

async function writeGcpFile(path: string, n: number): Promise<void> {
  const rand = rng(9);
  const out = createWriteStream(path);
  for (let i = 0; i < n; i += 5000) {
    const lines: string[] = [];
    for (let j = i; j < Math.min(n, i + 5000); j++) {
      const [client, server, port, cport] = pair(rand);
      lines.push(
        JSON.stringify({
          insertId: String(j),
          jsonPayload: {
            connection: { src_ip: client, src_port: cport, dest_ip: server, dest_port: port, protocol: 6 },
            bytes_sent: '4800',
            packets_sent: '12',
            reporter: j % 2 ? 'SRC' : 'DEST',
            start_time: '2026-09-21T00:00:00Z',
            end_time: '2026-09-21T00:00:05Z',
          },
        }),
      );
    }
    if (!out.write(`${lines.join('\n')}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** One measured read: records/s of parse + fold, peak RSS while it ran. */
export interface FlowBenchRow {
  readonly reader: string;
  readonly fileMb: number;
  readonly records: number;
  readonly seconds: number;
  readonly recordsPerSecond: number;
  /** Records per CPU-second of this process (user + system): the per-core rate on a shared machine. */
  readonly recordsPerCpuSecond: number;
  readonly entries: number;
  /** RSS before the read and the highest RSS sampled during it (MB). */
  readonly rssBeforeMb: number;
  readonly rssPeakMb: number;
  /** Heap and array buffers still in use after the read and a forced GC, the fold alive (MB): grows with entries, not with the file. */
  readonly retainedMb: number;
}

async function measure(
  label: string,
  reader: FlowLogReader,
  path: string,
): Promise<{ row: FlowBenchRow; table: ConnectionTable }> {
  gc();
  // The fold keeps its tables in typed arrays, outside the JS heap: count their buffers too.
  const kept = () => {
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  const heapBefore = kept();
  const before = process.memoryUsage().rss;
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const table = new ConnectionTable();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const opened = await openText(path);
  // The bytes when the reader parses bytes (AWS), as `discover` and `audit` read them.
  if (reader.readBytes) await reader.readBytes(path, opened.bytes, table);
  else await reader.read(path, opened.chunks, table);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss);
  const records = table.stats.records;
  gc();
  // A GC during the read may free more than the fold keeps: never below 0.
  const retained = Math.max(0, kept() - heapBefore) / 2 ** 20;
  const size = (await stat(path)).size;
  return {
    row: {
      reader: label,
      fileMb: size / 1e6,
      records,
      seconds,
      recordsPerSecond: records / seconds,
      recordsPerCpuSecond: records / ((cpu.user + cpu.system) / 1e6),
      entries: table.size,
      rssBeforeMb: before / 2 ** 20,
      rssPeakMb: peak / 2 ** 20,
      retainedMb: retained,
    },
    table,
  };
}

/** Audit throughput: the folded connections replayed against a model of the 200 servers. */
async function benchAudit(
  dir: string,
  table: ConnectionTable,
): Promise<{ connections: number; seconds: number; perSecond: number }> {
  const lines = [
    'bulkhead: 1',
    'name: bench',
    'targets:',
    '  aws-bench: { aws: { region: eu-west-1, vpc: vpc-0123456789abcdef0 } }',
    'segments:',
    '  clients: {}',
  ];
  for (let s = 0; s < SERVERS; s++)
    lines.push(`  s${s}:`, '    ingress:', `      - { from: clients, ports: [tcp/${PORTS[s % PORTS.length]}] }`);
  const file = join(dir, 'model.yaml');
  await writeFile(file, `${lines.join('\n')}\n`);
  const compiled = await compileFile(file, { cwd: dir });
  if (!compiled.ok) throw new Error(`bench model does not compile: ${compiled.diagnostics[0]?.message}`);
  const workloads: Inventory['workloads'][number][] = [];
  for (let c = 0; c < CLIENTS; c++)
    workloads.push({ id: `c${c}`, name: `c${c}`, addresses: [clientIp(c)], tags: { seg: 'clients' }, groups: [] });
  for (let s = 0; s < SERVERS; s++)
    workloads.push({ id: `s${s}`, name: `s${s}`, addresses: [serverIp(s)], tags: { seg: `s${s}` }, groups: [] });
  const connections = table.connections();
  const t0 = performance.now();
  auditConnections(
    compiled.value,
    connections,
    { cloud: 'aws', workloads, warnings: [] },
    { groupBy: { kind: 'tag', key: 'seg' } },
  );
  const seconds = (performance.now() - t0) / 1000;
  return { connections: connections.length, seconds, perSecond: connections.length / seconds };
}

/** Runs the flow-log bench; returns the Markdown and the figures. */
export async function benchFlows(log: (m: string) => void): Promise<{
  markdown: string;
  rows: FlowBenchRow[];
  audit: { connections: number; seconds: number; perSecond: number };
}> {
  const dir = await mkdtemp(join(tmpdir(), 'bulkhead-bench-flows-'));
  try {
    const rows: FlowBenchRow[] = [];
    const sizes = [
      Number(process.env['BENCH_FLOWS_MB'] ?? 100),
      ...(process.env['BENCH_FLOWS_1GB'] === '1' ? [1000] : []),
    ];
    let auditTable: ConnectionTable | undefined;
    for (const mb of sizes) {
      const path = join(dir, `aws-${mb}.log`);
      log(`bench: writing a ${mb} MB AWS flow log…`);
      await writeAwsFile(path, mb * 1e6);
      log('bench: reading it…');
      // BENCH_FLOWS_REPEAT reads the same file again in this process: the first read pays the
      // JIT and first-touch memory, the later ones show the steady rate.
      const repeat = Math.max(1, Number(process.env['BENCH_FLOWS_REPEAT'] ?? 1));
      for (let run = 1; run <= repeat; run++) {
        const label = repeat > 1 ? `AWS VPC Flow Logs (v2), read ${run} of ${repeat}` : 'AWS VPC Flow Logs (v2)';
        const { row, table } = await measure(label, awsFlowLogReader, path);
        rows.push(row);
        auditTable ??= table;
      }
      await rm(path);
    }
    const n = Number(process.env['BENCH_FLOWS_JSON_RECORDS'] ?? 200_000);
    log(`bench: Azure and GCP files of ${n.toLocaleString('en-US')} records…`);
    await writeAzureFile(join(dir, 'azure.json'), n);
    rows.push((await measure('Azure VNet flow logs (v4)', azureFlowLogReader, join(dir, 'azure.json'))).row);
    await writeGcpFile(join(dir, 'gcp.json'), n);
    rows.push((await measure('GCP VPC Flow Logs (one entry per line)', gcpFlowLogReader, join(dir, 'gcp.json'))).row);
    log('bench: audit…');
    const audit = await benchAudit(dir, auditTable!);
    const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
    const md = [
      '| reader (parse + fold, 1 core) | file | records | records/s (wall) | records/CPU-s | fold entries | kept (heap + buffers) | RSS before → peak |',
      '|---|---|---|---|---|---|---|---|',
      ...rows.map(
        (r) =>
          `| ${r.reader} | ${r.fileMb.toFixed(0)} MB | ${fmt(r.records)} | ${fmt(r.recordsPerSecond)} | ${fmt(r.recordsPerCpuSecond)} | ${fmt(r.entries)} | ${r.retainedMb.toFixed(0)} MB | ${r.rssBeforeMb.toFixed(0)} → ${r.rssPeakMb.toFixed(0)} MB |`,
      ),
      '',
      `AWS parse + fold: ${rows
        // The cold figure: a file's first read in this process (BENCH_FLOWS_REPEAT's later reads are warm).
        .filter((r) => r.reader.startsWith('AWS') && !/, read (?!1 of)\d+ of/.test(r.reader))
        .map((r) => `${fmt(r.recordsPerCpuSecond)} records/CPU-s on ${r.fileMb.toFixed(0)} MB`)
        .join(
          ', ',
        )} (the first read of each file in this process, CPU of every thread; target: 1,000,000 per core; load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores while it ran).`,
      '',
      `Audit: ${fmt(audit.connections)} folded connections against a 201-segment model in ${(audit.seconds * 1000).toFixed(0)} ms (${fmt(audit.perSecond)} connections/s).`,
    ].join('\n');
    return { markdown: md, rows, audit };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// Run on its own: `node --expose-gc --import tsx bench/flows.ts`.
if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await benchFlows((m) => process.stderr.write(`${m}\n`));
  process.stdout.write(`${r.markdown}\n`);
}
