import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { awsFlowLogReader } from '../../providers/aws/flows.js';
import { azureFlowLogReader } from '../../providers/azure/flows.js';
import { gcpFlowLogReader } from '../../providers/gcp/flows.js';
import { ConnectionTable, isEphemeralPort, srcIsClient } from '../../src/flows/aggregate.js';
import { discoverModel } from '../../src/flows/discover.js';
import { parseAwsInventory } from '../../providers/aws/inventory.js';
import { newFlowRecord, type FlowLogReader, type FlowRecord } from '../../src/flows/types.js';
import { awsInventory, awsLines, azureFiles, estateConnections, gcpFiles } from './estates.js';
import { chunksOf } from './helpers.js';

function record(o: Partial<FlowRecord>): FlowRecord {
  return { ...newFlowRecord(), start: 1000, end: 1060, protocol: 6, ...o };
}

describe('connection folding', () => {
  it('counts the request and response records of one connection, at both ends, once', () => {
    const t = new ConnectionTable();
    for (let i = 0; i < 2; i++) {
      t.add(record({ srcAddr: '10.0.0.1', srcPort: 40000, dstAddr: '10.0.0.2', dstPort: 443, bytes: 100 }));
      t.add(record({ srcAddr: '10.0.0.2', srcPort: 443, dstAddr: '10.0.0.1', dstPort: 40000, bytes: 900 }));
    }
    expect(t.connections()).toEqual([
      {
        accepted: true,
        protocol: 6,
        client: '10.0.0.1',
        server: '10.0.0.2',
        port: 443,
        connections: 1,
        records: 4,
        packets: 0,
        bytes: 2000,
        firstSeen: 1000,
        lastSeen: 1060,
      },
    ]);
  });

  it('counts bytes once when both ends report (the server’s records win)', () => {
    const t = new ConnectionTable();
    t.add(
      record({ srcAddr: '10.0.0.1', srcPort: 40000, dstAddr: '10.0.0.2', dstPort: 443, bytes: 100, reporter: 'src' }),
    );
    t.add(
      record({ srcAddr: '10.0.0.1', srcPort: 40000, dstAddr: '10.0.0.2', dstPort: 443, bytes: 100, reporter: 'dst' }),
    );
    t.add(
      record({ srcAddr: '10.0.0.2', srcPort: 443, dstAddr: '10.0.0.1', dstPort: 40000, bytes: 900, reporter: 'src' }),
    );
    t.add(
      record({ srcAddr: '10.0.0.2', srcPort: 443, dstAddr: '10.0.0.1', dstPort: 40000, bytes: 900, reporter: 'dst' }),
    );
    expect(t.connections()[0]!.bytes).toBe(1000);
  });

  it('keeps rejected records apart from accepted ones', () => {
    const t = new ConnectionTable();
    t.add(record({ srcAddr: '198.51.100.1', srcPort: 50000, dstAddr: '10.0.0.2', dstPort: 22, accepted: false }));
    t.add(record({ srcAddr: '198.51.100.1', srcPort: 50001, dstAddr: '10.0.0.2', dstPort: 22 }));
    expect(t.connections().map((c) => [c.accepted, c.connections])).toEqual([
      [true, 1],
      [false, 1],
    ]);
  });

  it('the port heuristic: ephemeral → client, else well-known → server, else the lower port; two ephemeral ports stay unplaced', () => {
    expect(srcIsClient(51234, 443)).toBe(true);
    expect(srcIsClient(443, 51234)).toBe(false);
    expect(srcIsClient(1025, 22)).toBe(true);
    expect(srcIsClient(5432, 8080)).toBe(false);
    expect(srcIsClient(40000, 50000)).toBeUndefined();
    const t = new ConnectionTable();
    t.add(record({ srcAddr: '10.0.0.1', srcPort: 40000, dstAddr: '10.0.0.2', dstPort: 50000 }));
    expect(t.size).toBe(0);
    expect(t.stats.unplaced).toBe(1);
  });

  it('never makes an ephemeral port a service port without a hint (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.integer({ min: 1, max: 65535 }), fc.integer({ min: 1, max: 65535 }), fc.constantFrom(6, 17)),
          { maxLength: 50 },
        ),
        (rows) => {
          const t = new ConnectionTable();
          for (const [sp, dp, proto] of rows)
            t.add(record({ srcAddr: '10.0.0.1', dstAddr: '10.0.0.2', srcPort: sp, dstPort: dp, protocol: proto }));
          for (const c of t.connections()) expect(isEphemeralPort(c.port)).toBe(false);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('trusts the record’s own hint (Azure tuples, SYN without ACK) over the ports', () => {
    const t = new ConnectionTable();
    t.add(record({ srcAddr: '10.0.0.1', srcPort: 443, dstAddr: '10.0.0.2', dstPort: 50000, role: 'src-client' }));
    expect(t.connections()[0]).toMatchObject({ client: '10.0.0.1', server: '10.0.0.2', port: 50000 });
  });

  it('counts many connections with bounded memory: exact up to 256, an estimate within 5 % above', () => {
    const t = new ConnectionTable();
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      t.add(
        record({
          srcAddr: '10.0.0.1',
          srcPort: 32768 + (i % 20000),
          dstAddr: '10.0.0.2',
          dstPort: 443,
          start: 3600 * Math.floor(i / 20000),
        }),
      );
    }
    const c = t.connections()[0]!.connections;
    expect(Math.abs(c - n) / n).toBeLessThan(0.05);
    const small = new ConnectionTable();
    for (let i = 0; i < 256; i++) small.add(record({ srcAddr: 'a', srcPort: 32768 + i, dstAddr: 'b', dstPort: 443 }));
    expect(small.connections()[0]!.connections).toBe(256);
  });

  it('keeps only the records of the --since/--until window', () => {
    const t = new ConnectionTable({ since: 2000, until: 3000 });
    t.add(record({ srcAddr: 'a', srcPort: 40000, dstAddr: 'b', dstPort: 443, start: 1000, end: 1060 }));
    t.add(record({ srcAddr: 'a', srcPort: 40001, dstAddr: 'b', dstPort: 443, start: 2500, end: 2560 }));
    t.add(record({ srcAddr: 'a', srcPort: 40002, dstAddr: 'b', dstPort: 443, start: 3000, end: 3060 }));
    expect(t.connections()[0]!.connections).toBe(1);
    expect(t.stats.outsideWindow).toBe(2);
  });
});

/** Folds `files` (each a list of lines/entries joined by `join`) with `reader`. */
async function fold(reader: FlowLogReader, files: readonly string[]) {
  const t = new ConnectionTable();
  for (const [i, text] of files.entries()) await reader.read(`f${i}`, chunksOf(text, 4096), t);
  return t;
}

/** Splits a list at the cut points into consecutive parts. */
function split<T>(items: readonly T[], cuts: readonly number[]): T[][] {
  const points = [...new Set(cuts.map((c) => c % (items.length + 1)))].sort((a, b) => a - b);
  const parts: T[][] = [];
  let from = 0;
  for (const p of [...points, items.length]) {
    parts.push(items.slice(from, p));
    from = p;
  }
  return parts;
}

describe('shuffling the records or splitting them across files changes nothing (property)', () => {
  const conns = estateConnections(3, 3);
  const params = fc.tuple(fc.array(fc.nat(), { minLength: 1, maxLength: 400 }), fc.array(fc.nat(), { maxLength: 4 }));
  const shuffle = <T>(xs: readonly T[], keys: readonly number[]) =>
    xs
      .map((x, i) => [keys[i % keys.length]! * 1000 + i * 7919, x] as const)
      .sort((a, b) => a[0] - b[0])
      .map(([, x]) => x);

  it('AWS lines', async () => {
    const lines = awsLines(conns, false);
    const base = await fold(awsFlowLogReader, [lines.join('\n')]);
    const inventory = parseAwsInventory(awsInventory(), 'inv.json');
    const model = (t: ConnectionTable) =>
      discoverModel(t.connections(), inventory, {
        name: 'shop',
        groupBy: { kind: 'tag', key: 'tier' },
        minFlows: 1,
        cloud: 'aws',
        provenance: [],
      }).yaml;
    const baseModel = model(base);
    await fc.assert(
      fc.asyncProperty(params, async ([keys, cuts]) => {
        const files = split(shuffle(lines, keys), cuts).map((p) => p.join('\n'));
        const t = await fold(awsFlowLogReader, files);
        expect(t.connections()).toEqual(base.connections());
        expect(model(t)).toBe(baseModel);
      }),
      { numRuns: 15 },
    );
  });

  it('GCP entries', async () => {
    const entries = Object.values(gcpFiles(conns)).flatMap((text) =>
      text.trimStart().startsWith('[')
        ? (JSON.parse(text) as unknown[]).map((e) => JSON.stringify(e))
        : text.split('\n').filter((l) => l.trim()),
    );
    const base = await fold(gcpFlowLogReader, [entries.join('\n')]);
    await fc.assert(
      fc.asyncProperty(params, async ([keys, cuts]) => {
        const files = split(shuffle(entries, keys), cuts).map(
          (p) => `[${p.filter((l) => l.endsWith('}')).join(',\n')}]`,
        );
        const t = await fold(gcpFlowLogReader, files);
        expect(t.connections()).toEqual(base.connections());
      }),
      { numRuns: 15 },
    );
  });

  it('Azure tuples across records and blobs', async () => {
    type Rec = { flowRecords: { flows: { flowGroups: { flowTuples: string[] }[] }[] } };
    const records = Object.values(azureFiles(conns)).flatMap((t) => (JSON.parse(t) as { records: Rec[] }).records);
    const tuples = records.flatMap((r) =>
      r.flowRecords.flows.flatMap((f) => f.flowGroups.flatMap((g) => g.flowTuples)),
    );
    const blob = (ts: readonly string[]) =>
      JSON.stringify({
        records: [{ flowLogVersion: 4, flowRecords: { flows: [{ flowGroups: [{ rule: 'r', flowTuples: ts }] }] } }],
      });
    const base = await fold(azureFlowLogReader, [blob(tuples)]);
    await fc.assert(
      fc.asyncProperty(params, async ([keys, cuts]) => {
        const t = await fold(azureFlowLogReader, split(shuffle(tuples, keys), cuts).map(blob));
        expect(t.connections()).toEqual(base.connections());
      }),
      { numRuns: 15 },
    );
  });
});
