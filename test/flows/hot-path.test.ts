import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { AWS_DEFAULT_FIELDS, awsFlowLogReader } from '../../providers/aws/flows.js';
import { azureFlowLogReader } from '../../providers/azure/flows.js';
import { utcSeconds } from '../../providers/gcp/flows.js';
import { Ipv4Names, ipv4Text, parseIpv4 } from '../../src/flows/addresses.js';
import { ConnectionTable } from '../../src/flows/aggregate.js';
import { openText } from '../../src/flows/read-files.js';
import { newFlowRecord, type FlowRecord } from '../../src/flows/types.js';
import { bytesOf, chunksOf, recordingSink } from './helpers.js';

/**
 * The fast paths of the flow-log hot path (issue 12 item 7) must never change a result: the AWS
 * reader's straight-line parse of the default format against its general per-column parse, the
 * fold's IPv4-by-number interning against interning by text, its batching against reading it at
 * any moment, its id sets at every growth step, and the ASCII decoding shortcut against UTF-8.
 */

const dir = mkdtempSync(join(tmpdir(), 'bulkhead-hot-path-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('IPv4 addresses as numbers', () => {
  it('reads canonical dotted quads only, and prints them back the same', () => {
    expect(parseIpv4('10.0.1.5', 0, 8)).toBe(0x0a000105);
    expect(parseIpv4('x 255.255.255.255 y', 2, 17)).toBe(0xffffffff);
    expect(parseIpv4('0.0.0.0', 0, 7)).toBe(0);
    for (const bad of ['010.0.0.1', '256.0.0.1', '1.2.3', '1.2.3.4.5', '1..2.3', '-', '', '::1', '1.2.3.a', '1.2.3.4 '])
      expect(parseIpv4(bad, 0, bad.length)).toBe(-1);
    fc.assert(
      fc.property(fc.ipV4(), (ip) => {
        const n = parseIpv4(ip, 0, ip.length);
        expect(n).toBeGreaterThanOrEqual(0);
        expect(ipv4Text(n)).toBe(ip);
      }),
      { numRuns: 200 },
    );
  });

  it('names each address right even after the bounded cache starts over', () => {
    const names = new Ipv4Names(3);
    const ips = [0x0a000001, 0x0a000002, 0x0a000003, 0x0a000004, 0x0a000001, 0xc0000201, 0x0a000002];
    for (let round = 0; round < 3; round++) for (const ip of ips) expect(names.text(ip)).toBe(ipv4Text(ip));
  });
});

/** Mostly `valid`, sometimes one of `odd`: so that many lines are well-formed and many are not. */
const mostly = <T>(valid: fc.Arbitrary<T>, ...odd: T[]) =>
  fc.oneof({ arbitrary: valid, weight: 12 }, { arbitrary: fc.constantFrom(...odd), weight: 1 });

/** One default-format line from generated parts: well-formed, odd and broken values alike. */
const part = {
  version: fc.constantFrom('2', '3', '5'),
  account: fc.constantFrom('123456789012', 'unknown', '-'),
  eni: fc.constantFrom('eni-0123456789abcdef0', 'eni-1', '-'),
  address: mostly(fc.ipV4(), '-', '010.0.0.1', '256.1.1.1', '1.2.3', '2001:db8::1', ''),
  port: mostly(fc.integer({ min: 0, max: 65535 }).map(String), '-', 'x', '', '99999'),
  protocol: mostly(fc.constantFrom('6', '17', '1', '58'), '-', 'tcp'),
  counter: mostly(fc.nat().map(String), '-', '1e3', ''),
  time: mostly(fc.integer({ min: 1_400_000_000, max: 1_900_000_000 }).map(String), '-', 'now'),
  action: mostly(fc.constantFrom('ACCEPT', 'REJECT'), '-', 'ALLOW'),
  status: mostly(fc.constant('OK'), 'NODATA', 'SKIPDATA', 'OKAY'),
};
const line = fc
  .tuple(
    part.version,
    part.account,
    part.eni,
    part.address,
    part.address,
    part.port,
    part.port,
    part.protocol,
    part.counter,
    part.counter,
    part.time,
    part.time,
    part.action,
    part.status,
    mostly(fc.constant(''), ' extra', ' '),
  )
  .map(([...fields]) => {
    const tail = fields.pop()!;
    return fields.join(' ') + tail;
  });

async function parse(text: string, chunk?: number) {
  const sink = recordingSink();
  await awsFlowLogReader.read('f.log', chunksOf(text, chunk), sink);
  return sink;
}

describe('AWS default format: the straight-line parse gives what the general parse gives', () => {
  it('for any mix of well-formed, odd and broken lines (property)', async () => {
    const header = AWS_DEFAULT_FIELDS.join(' ');
    await fc.assert(
      fc.asyncProperty(
        fc.array(line, { minLength: 1, maxLength: 40, size: 'max' }),
        fc.integer({ min: 1, max: 200 }),
        async (lines, chunk) => {
          // The default layout takes the fast path, without a header or with one naming the default
          // fields; with one more field (the format allows any), every line takes the general parse.
          const fast = await parse(lines.join('\n'), chunk);
          const fastWithHeader = await parse(`${header}\n${lines.join('\n')}`, chunk);
          const general = await parse(`${header} vpc-id\n${lines.map((l) => `${l} vpc-1`).join('\n')}`);
          expect(fast.records).toEqual(general.records);
          expect(fast.skipped).toEqual(general.skipped);
          expect(fast.warnings.map((w) => w.line + 1)).toEqual(general.warnings.map((w) => w.line));
          expect(fastWithHeader.records).toEqual(general.records);
          expect(fastWithHeader.skipped).toEqual(general.skipped);
          expect(fastWithHeader.warnings.map((w) => w.line)).toEqual(general.warnings.map((w) => w.line));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('gives the fold each IPv4 address as a number beside its text', async () => {
    const calls: [string, number, string, number][] = [];
    const sink = {
      ...recordingSink(),
      addIpv4: (r: FlowRecord, s: number, d: number) => calls.push([r.srcAddr, s, r.dstAddr, d]),
    };
    await awsFlowLogReader.read(
      'f.log',
      chunksOf(
        [
          '2 1 eni-1 10.0.1.5 10.0.2.9 51234 443 6 10 5000 1700000000 1700000060 ACCEPT OK',
          '2 1 eni-1 2001:db8::1 10.0.2.9 51234 443 6 10 5000 1700000000 1700000060 ACCEPT OK',
          '2 1 eni-1 010.0.1.5 10.0.2.9 51234 443 6 10 5000 1700000000 1700000060 ACCEPT OK',
        ].join('\n'),
      ),
      sink,
    );
    expect(calls).toEqual([
      ['10.0.1.5', 0x0a000105, '10.0.2.9', 0x0a000209],
      ['2001:db8::1', -1, '10.0.2.9', 0x0a000209],
      ['010.0.1.5', -1, '10.0.2.9', 0x0a000209],
    ]);
  });
});

/** A whole file of lines: default records (well-formed or not) and what else a file may hold. */
const fileLines = fc.array(
  fc.oneof(
    { arbitrary: line, weight: 20 },
    // A CloudWatch export's timestamp in front, sometimes on a line too short to be one.
    { arbitrary: line.map((l) => `2026-11-30T12:00:00.000Z ${l}`), weight: 3 },
    { arbitrary: fc.constantFrom('2026-11-30T1 2', '1234-67890T', '2 x'), weight: 1 },
    // Headers: the default fields (the byte path goes on), a custom order (it steps aside), junk.
    { arbitrary: fc.constantFrom(AWS_DEFAULT_FIELDS.join(' '), `${AWS_DEFAULT_FIELDS.join(' ')} vpc-id`), weight: 1 },
    { arbitrary: fc.constantFrom('', ' ', '\r', 'garbage line', 'é 2 ü', '2 123456789012 eni-é 10.0.0.1'), weight: 2 },
    // Two fields run together (a tab, a stray character for the space), a field short: any field.
    {
      arbitrary: fc.tuple(line, fc.nat(), fc.constantFrom('\t', 'x', '.', '-', '5')).map(([l, k, sep]) => {
        const spaces = [...l.matchAll(/ /g)].map((m) => m.index);
        const at = spaces[k % Math.max(1, spaces.length)] ?? 0;
        return spaces.length ? l.slice(0, at) + sep + l.slice(at + 1) : l;
      }),
      weight: 3,
    },
    // Non-ASCII and invalid UTF-8 inside a record (decoded as a whole-file decode would).
    { arbitrary: line.map((l) => l.replace(' ', ' \u00e9\uFFFD ')), weight: 1 },
  ),
  { minLength: 1, maxLength: 50, size: 'max' },
);

describe('AWS bytes: the byte path gives what the text path gives', () => {
  it('for any file of records, headers, CloudWatch prefixes, CRLF, non-ASCII and broken UTF-8, cut anywhere (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fileLines,
        fc.constantFrom('\n', '\r\n'),
        fc.boolean(),
        fc.integer({ min: 1, max: 300 }),
        fc.constantFrom(undefined, 0xff, 0xc3, 0x80),
        async (lines, eol, trailing, chunk, oddByte) => {
          let bytes = Buffer.from(lines.join(eol) + (trailing ? eol : ''), 'utf8');
          if (oddByte !== undefined && bytes.length > 0) {
            // One raw byte that is not valid UTF-8 where it lands (a cut sequence, a lone continuation).
            const at = (chunk * 7919) % bytes.length;
            bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from([oddByte]), bytes.subarray(at)]);
          }
          const text = recordingSink();
          await awsFlowLogReader.read('f.log', chunksOf(bytes.toString('utf8'), chunk), text);
          const byBytes = recordingSink();
          await awsFlowLogReader.readBytes!('f.log', bytesOf(bytes, chunk), byBytes);
          expect(byBytes.records).toEqual(text.records);
          expect(byBytes.skipped).toEqual(text.skipped);
          expect(byBytes.warnings).toEqual(text.warnings);
          // Into the fold, which names addresses by number (the byte path then skips their texts).
          const foldText = new ConnectionTable();
          await awsFlowLogReader.read('f.log', chunksOf(bytes.toString('utf8'), chunk), foldText);
          const foldBytes = new ConnectionTable();
          await awsFlowLogReader.readBytes!('f.log', bytesOf(bytes, chunk), foldBytes);
          expect(foldBytes.connections()).toEqual(foldText.connections());
          expect(foldBytes.stats).toEqual(foldText.stats);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('hands the fold the same addresses as numbers as the text path does', async () => {
    const body = [
      '2 1 eni-1 10.0.1.5 10.0.2.9 51234 443 6 10 5000 1700000000 1700000060 ACCEPT OK',
      '2 1 eni-1 2001:db8::1 10.0.2.9 51234 443 6 10 5000 1700000000 1700000060 ACCEPT OK',
      '2 1 eni-1 10.0.1.5 010.0.2.9 51234 443 6 10 5000 1700000000 1700000060 REJECT OK',
    ].join('\n');
    const calls = (into: unknown[][]) => ({
      ...recordingSink(),
      addIpv4: (r: FlowRecord, s: number, d: number) => into.push([{ ...r }, s, d]),
    });
    const fromText: unknown[][] = [];
    const fromBytes: unknown[][] = [];
    await awsFlowLogReader.read('f.log', chunksOf(body, 7), calls(fromText));
    await awsFlowLogReader.readBytes!('f.log', bytesOf(Buffer.from(body), 7), calls(fromBytes));
    expect(fromBytes).toEqual(fromText);
    expect(fromBytes.map((c) => [c[1], c[2]])).toEqual([
      [0x0a000105, 0x0a000209],
      [-1, 0x0a000209],
      [0x0a000105, -1],
    ]);
  });
});

function record(o: Partial<FlowRecord>): FlowRecord {
  return { ...newFlowRecord(), start: 1000, end: 1060, protocol: 6, ...o };
}

interface Row {
  c: number;
  s: number;
  port: number;
  cport: number;
  hour: number;
  reply: boolean;
  accepted: boolean;
}

/** Records between a few addresses, many client ports and hours: entries with 1 to ~400 connections. */
const records: fc.Arbitrary<Row[]> = fc.array(
  fc.record({
    // Skewed so one entry gets most records: its id set grows through every size and past 256.
    c: fc.oneof(fc.constant(0), fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 5 })),
    s: fc.oneof(fc.constant(0), fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 2 })),
    port: fc.constantFrom(443, 443, 443, 22, 5432),
    cport: fc.integer({ min: 32768, max: 32768 + 400 }),
    hour: fc.integer({ min: 0, max: 2 }),
    reply: fc.boolean(),
    accepted: fc.constantFrom(true, true, true, false),
  }),
  { minLength: 100, maxLength: 1500, size: 'max' },
);
const addr = (i: number) => `10.0.${i}.${i * 7}`;

function toRecord(x: Row): FlowRecord {
  const client = addr(x.c),
    server = addr(10 + x.s);
  const start = 3600 * x.hour + 5;
  return x.reply
    ? record({
        srcAddr: server,
        dstAddr: client,
        srcPort: x.port,
        dstPort: x.cport,
        start,
        end: start + 60,
        accepted: x.accepted,
        bytes: 9,
      })
    : record({
        srcAddr: client,
        dstAddr: server,
        srcPort: x.cport,
        dstPort: x.port,
        start,
        end: start + 60,
        accepted: x.accepted,
        bytes: 1,
      });
}

describe('the fold: fast paths change nothing', () => {
  it('addresses by number, by text or both in turn fold the same, and counts stay exact up to 256 (property)', () => {
    fc.assert(
      fc.property(records, (xs) => {
        const byText = new ConnectionTable();
        const byNumber = new ConnectionTable();
        const mixed = new ConnectionTable();
        xs.forEach((x, i) => {
          const r = toRecord(x);
          const s4 = parseIpv4(r.srcAddr, 0, r.srcAddr.length);
          const d4 = parseIpv4(r.dstAddr, 0, r.dstAddr.length);
          byText.add(r);
          byNumber.addIpv4(r, s4, d4);
          if (i % 2 === 0) mixed.add(r);
          else mixed.addIpv4(r, s4, d4);
        });
        const expected = byText.connections();
        expect(byNumber.connections()).toEqual(expected);
        expect(mixed.connections()).toEqual(expected);
        // Exact distinct (hour, client port) pairs per entry while they are at most 256.
        const distinct = new Map<string, Set<string>>();
        for (const x of xs) {
          const key = `${x.accepted}|${addr(x.c)}|${addr(10 + x.s)}|${x.port}`;
          const set = distinct.get(key) ?? new Set<string>();
          set.add(`${x.hour}:${x.cport}`);
          distinct.set(key, set);
        }
        for (const c of expected) {
          const n = distinct.get(`${c.accepted}|${c.client}|${c.server}|${c.port}`)!.size;
          if (n <= 256) expect(c.connections).toBe(n);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('keeps every id set exact while the arena is packed and grown under it', () => {
    // 3,000 entries whose sets grow side by side (2 to 61 connections each, every record twice):
    // far more cells than the first arena holds, so it is packed and grown many times.
    const t = new ConnectionTable();
    const order: [number, number][] = [];
    for (let i = 0; i < 3000; i++) for (let k = 0; k < 2 + (i % 60); k++) order.push([i, k], [i, k]);
    order.sort((a, b) => ((a[0] * 7919 + a[1] * 104729) % 65521) - ((b[0] * 7919 + b[1] * 104729) % 65521));
    for (const [i, k] of order)
      t.add(record({ srcAddr: `10.1.${i >> 8}.${i & 255}`, srcPort: 40000 + k, dstAddr: '10.0.0.2', dstPort: 443 }));
    const counts = new Map(t.connections().map((c) => [c.client, c.connections]));
    expect(counts.size).toBe(3000);
    for (let i = 0; i < 3000; i++) expect(counts.get(`10.1.${i >> 8}.${i & 255}`)).toBe(2 + (i % 60));
  });

  it('whatever is read of it is up to date: size and connections see every record added so far', () => {
    const t = new ConnectionTable();
    t.add(record({ srcAddr: '10.0.0.1', srcPort: 40000, dstAddr: '10.0.0.2', dstPort: 443 }));
    expect(t.size).toBe(1);
    expect(t.connections()[0]!.records).toBe(1);
    for (let i = 0; i < 1000; i++)
      t.add(record({ srcAddr: '10.0.0.1', srcPort: 40001 + i, dstAddr: `10.0.1.${i % 100}`, dstPort: 443 }));
    expect(t.size).toBe(101);
    expect(t.connections().reduce((n, c) => n + c.records, 0)).toBe(1001);
    t.add(record({ srcAddr: '10.0.0.9', srcPort: 40000, dstAddr: '10.0.0.2', dstPort: 443 }));
    expect(t.connections()).toHaveLength(102);
  });
});

/** One VNet flow log v4 tuple from generated parts, mostly well-formed. */
const tuple = fc
  .tuple(
    mostly(fc.integer({ min: 1_600_000_000_000, max: 1_900_000_000_000 }).map(String), '0', '-1', '1.5e12', ''),
    part.address,
    part.address,
    part.port,
    part.port,
    mostly(fc.constantFrom('6', '17', '1'), '256', 'T', ''),
    mostly(fc.constantFrom('I', 'O'), 'X', 'II'),
    mostly(fc.constantFrom('B', 'C', 'E', 'D'), 'A', ''),
    fc.constantFrom('X', 'NX'),
    part.counter,
    part.counter,
    part.counter,
    part.counter,
  )
  .map((fields) => fields.join(','));

describe('Azure VNet tuples: the straight-line parse gives what the general parse gives', () => {
  it('for any mix of well-formed and broken tuples (property)', async () => {
    const blob = (ts: readonly string[]) =>
      JSON.stringify({
        records: [{ flowLogVersion: 4, flowRecords: { flows: [{ flowGroups: [{ rule: 'r', flowTuples: ts }] }] } }],
      });
    await fc.assert(
      fc.asyncProperty(fc.array(tuple, { minLength: 1, maxLength: 40, size: 'max' }), async (tuples) => {
        const fast = recordingSink();
        await azureFlowLogReader.read('a.json', chunksOf(blob(tuples)), fast);
        // A 14th field (ignored by the format) keeps every tuple off the straight-line parse.
        const general = recordingSink();
        await azureFlowLogReader.read('a.json', chunksOf(blob(tuples.map((t) => `${t},extra`))), general);
        expect(fast.records).toEqual(general.records);
        expect(fast.warnings.map((w) => w.message.split(':')[0])).toEqual(
          general.warnings.map((w) => w.message.split(':')[0]),
        );
      }),
      { numRuns: 60 },
    );
  });
});

describe('GCP times: the RFC 3339 shortcut is Date.parse', () => {
  it('for every UTC time Cloud Logging writes, any fraction length (property), and hands odd ones back', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2200-01-01T00:00:00Z'), noInvalidDate: true }),
        fc.integer({ min: 0, max: 9 }),
        fc.nat(999_999_999),
        (d, digits, fraction) => {
          const whole = d.toISOString().slice(0, 19);
          const s = digits === 0 ? `${whole}Z` : `${whole}.${String(fraction).padStart(9, '0').slice(0, digits)}Z`;
          expect(utcSeconds(s)).toBe(Date.parse(s) / 1000);
        },
      ),
      { numRuns: 2000 },
    );
    for (const odd of [
      '2026-02-30T00:00:00Z',
      '2026-11-01T10:00:00+01:00',
      '2026-11-01T10:00:00.Z',
      '2026-11-01',
      '1969-12-31T23:59:59Z',
      '2026-11-01T24:00:00Z',
    ])
      expect(utcSeconds(odd)).toBe(-1);
  });
});

describe('decoding: the ASCII shortcut never changes the text', () => {
  it('a UTF-8 character cut by the 1 MiB chunk boundary after ASCII chunks', async () => {
    const ascii = 'a'.repeat((1 << 20) * 2 - 1);
    const body = `${ascii}é → ü\n${'b'.repeat(1 << 20)}ß\n`;
    writeFileSync(join(dir, 'utf8.log'), body);
    const o = await openText(join(dir, 'utf8.log'));
    let s = '';
    for await (const c of o.chunks) s += c;
    expect(s).toBe(body);
  });

  it('a broken UTF-8 sequence cut by the boundary, ASCII after it: decoded as a whole-file decode would', async () => {
    const bytes = Buffer.concat([
      Buffer.from('a'.repeat((1 << 20) * 2 - 1)),
      Buffer.from([0xc3]),
      Buffer.from(`${'b'.repeat(1 << 20)}\n`),
    ]);
    writeFileSync(join(dir, 'broken-utf8.log'), bytes);
    const o = await openText(join(dir, 'broken-utf8.log'));
    let s = '';
    for await (const c of o.chunks) s += c;
    expect(s).toBe(bytes.toString('utf8'));
  });
});
