import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { awsFlowLogReader, AWS_DEFAULT_FIELDS } from '../../../providers/aws/flows.js';
import { chunksOf, recordingSink } from '../../flows/helpers.js';

const VENDOR = join(import.meta.dirname, '../../fixtures/vendor/flowlogs/aws');
const sample = readFileSync(join(VENDOR, 'vpc-flow-logs-default-format-v2.log'), 'utf8');

async function parse(text: string, chunk?: number) {
  const sink = recordingSink();
  await awsFlowLogReader.read('flows.log', chunksOf(text, chunk), sink);
  return sink;
}

describe('AWS VPC Flow Logs reader', () => {
  it('knows the documented default fields in order', () => {
    const doc = readFileSync(join(VENDOR, 'vpc-flow-logs-default-format-v2.fields.txt'), 'utf8').trim().split(/\s+/);
    expect(AWS_DEFAULT_FIELDS).toEqual(doc);
  });

  it('parses the vendor examples (no header, CloudWatch style): NODATA and SKIPDATA skipped and counted', async () => {
    const sink = await parse(sample);
    expect(awsFlowLogReader.detect(sample)).toBe(true);
    expect(sink.warnings).toEqual([]);
    expect(sink.skipped).toEqual(['NODATA', 'SKIPDATA']);
    expect(
      sink.records.map((r) => [
        r.srcAddr,
        r.srcPort,
        r.dstAddr,
        r.dstPort,
        r.protocol,
        r.accepted,
        r.packets,
        r.bytes,
        r.start,
        r.end,
      ]),
    ).toEqual([
      ['172.31.16.139', 20641, '172.31.16.21', 22, 6, true, 20, 4249, 1418530010, 1418530070],
      ['172.31.9.69', 49761, '172.31.9.12', 3389, 6, false, 20, 4249, 1418530010, 1418530070],
      ['203.0.113.12', 0, '172.31.16.139', 0, 1, true, 4, 336, 1432917027, 1432917142],
      ['172.31.16.139', 0, '203.0.113.12', 0, 1, false, 4, 336, 1432917094, 1432917142],
      [
        '2001:db8:1234:a100:8d6e:3477:df66:f105',
        34892,
        '2001:db8:1234:a102:3304:8879:34cf:4071',
        22,
        6,
        true,
        54,
        8855,
        1477913708,
        1477913820,
      ],
    ]);
  });

  it('gives the same records whatever the chunk boundaries', async () => {
    const whole = await parse(sample);
    const bytewise = await parse(sample.replace(/\n/g, '\r\n'), 7);
    expect(bytewise.records).toEqual(whole.records);
    expect(bytewise.skipped).toEqual(whole.skipped);
  });

  it('reads a custom v5 format from its header line, fields in any order, - for absent values', async () => {
    const text = [
      'action dstport srcport dstaddr srcaddr protocol packets bytes start end log-status tcp-flags flow-direction pkt-srcaddr pkt-dstaddr version',
      'ACCEPT 443 51234 10.0.2.9 10.0.1.5 6 10 5000 1700000000 1700000060 OK 2 egress - - 5',
      'ACCEPT 51234 443 10.0.1.5 10.0.2.9 6 8 9000 1700000000 1700000060 OK 18 ingress - - 5',
      'ACCEPT 443 40000 203.0.113.7 10.0.0.9 6 3 300 1700000000 1700000060 OK 19 egress 10.0.1.5 - 5',
      'ACCEPT - - - - - - - 1700000000 1700000060 NODATA - - - - 5',
    ].join('\n');
    const sink = await parse(text);
    expect(sink.warnings).toEqual([]);
    expect(sink.skipped).toEqual(['NODATA']);
    expect(sink.records.map((r) => [r.srcAddr, r.srcPort, r.dstAddr, r.dstPort, r.role, r.reporter])).toEqual([
      ['10.0.1.5', 51234, '10.0.2.9', 443, 'src-client', 'src'],
      ['10.0.2.9', 443, '10.0.1.5', 51234, 'unknown', 'dst'],
      // Behind a NAT the packet's own source (pkt-srcaddr) is the client.
      ['10.0.1.5', 40000, '203.0.113.7', 443, 'unknown', 'src'],
    ]);
  });

  it('reads CloudWatch export lines (ISO timestamp in front) and a header repeated mid-file', async () => {
    const text = [
      '2026-11-30T12:00:00.000Z 2 123456789010 eni-1235b8ca123456789 10.0.1.5 10.0.2.9 51234 443 6 10 5000 1700000000 1700000060 ACCEPT OK',
      'version srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status',
      '2 10.0.1.6 10.0.2.9 51235 443 6 10 5000 1700000000 1700000060 REJECT OK',
    ].join('\n');
    expect(awsFlowLogReader.detect(text)).toBe(true);
    const sink = await parse(text);
    expect(sink.warnings).toEqual([]);
    expect(sink.records.map((r) => [r.srcAddr, r.accepted])).toEqual([
      ['10.0.1.5', true],
      ['10.0.1.6', false],
    ]);
  });

  it('warns with file:line about malformed lines and keeps every other line', async () => {
    const lines = sample.trim().split('\n');
    lines.splice(
      1,
      0,
      '2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 x 4 1 2 ACCEPT OK',
      'garbage here',
      '2 truncated 10.0.0.1',
    );
    const sink = await parse(lines.join('\n'));
    expect(sink.records).toHaveLength(5);
    expect(sink.warnings.map((w) => `${w.file}:${w.line}: ${w.message}`)).toEqual([
      'flows.log:2: field packets is not valid, skipped',
      'flows.log:3: not a flow-log record (it does not start with a version number), skipped',
      'flows.log:4: expected 14 fields (the default format), found 3, skipped',
    ]);
  });

  it('does not take other clouds’ logs for its own', () => {
    expect(awsFlowLogReader.detect('{"records": [{"flowLogVersion": 4}]}')).toBe(false);
    expect(awsFlowLogReader.detect('[{"jsonPayload": {}}]')).toBe(false);
  });
});
