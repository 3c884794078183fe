import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { azureFlowLogReader } from '../../../providers/azure/flows.js';
import { ConnectionTable } from '../../../src/flows/aggregate.js';
import { chunksOf, recordingSink } from '../../flows/helpers.js';

const VENDOR = join(import.meta.dirname, '../../fixtures/vendor/flowlogs/azure');
const vnet = readFileSync(join(VENDOR, 'msdocs-vnet-flow-log-v4.sample.json'), 'utf8');
const nsg = readFileSync(join(VENDOR, 'msdocs-nsg-flow-log-v2.sample.json'), 'utf8');

async function parse(text: string, chunk?: number) {
  const sink = recordingSink();
  await azureFlowLogReader.read('PT1H.json', chunksOf(text, chunk), sink);
  return sink;
}

describe('Azure flow-log reader', () => {
  it('parses the vendor VNet flow log v4 sample: 19 tuples, B/E accepted, D denied, ms times', async () => {
    expect(azureFlowLogReader.detect(vnet)).toBe(true);
    const sink = await parse(vnet);
    expect(sink.warnings).toEqual([]);
    expect(sink.records).toHaveLength(19);
    const first = sink.records[1]!;
    expect(first).toEqual({
      start: 1663146003.606,
      end: 1663146003.606,
      srcAddr: '10.0.0.6',
      dstAddr: '52.239.184.180',
      srcPort: 23956,
      dstPort: 443,
      protocol: 6,
      accepted: true,
      packets: 5,
      bytes: 2347,
      role: 'src-client',
      reporter: 'src',
    });
    const denied = sink.records.filter((r) => !r.accepted);
    expect(denied.map((r) => `${r.srcAddr}:${r.srcPort}->${r.dstAddr}:${r.dstPort}`).slice(0, 2)).toEqual([
      '101.33.218.153:55188->10.0.0.6:22',
      '192.241.200.164:35276->10.0.0.6:119',
    ]);
    expect(denied.every((r) => r.reporter === 'dst')).toBe(true);
  });

  it('folds the VNet sample into connections: begin and end tuples of one flow count once', async () => {
    const table = new ConnectionTable();
    await azureFlowLogReader.read('PT1H.json', chunksOf(vnet), table);
    const accepted = table.connections().filter((c) => c.accepted);
    const storage = accepted.find((c) => c.server === '52.239.184.180')!;
    expect(storage).toMatchObject({
      client: '10.0.0.6',
      port: 443,
      protocol: 6,
      connections: 1,
      records: 2,
      bytes: 2347,
    });
    const frontDoor = accepted.find((c) => c.server === '40.74.146.17')!;
    expect(frontDoor).toMatchObject({ connections: 3, records: 6 });
  });

  it('parses the vendor NSG flow log v2 sample (T/U protocols, A/D decisions, empty counters on B)', async () => {
    expect(azureFlowLogReader.detect(nsg)).toBe(true);
    const sink = await parse(nsg);
    expect(sink.warnings).toEqual([]);
    const udp = sink.records[0]!;
    expect(udp).toMatchObject({
      srcAddr: '192.0.2.190',
      dstAddr: '10.5.16.4',
      srcPort: 28746,
      dstPort: 443,
      protocol: 17,
      accepted: false,
      bytes: 0,
      start: 1542110402,
    });
    const out = sink.records.find((r) => r.dstAddr === '203.0.113.115')!;
    expect(out).toMatchObject({
      protocol: 6,
      accepted: true,
      packets: 54,
      bytes: 30986,
      reporter: 'src',
      role: 'src-client',
    });
  });

  it('gives the same records whatever the chunk boundaries', async () => {
    const whole = await parse(vnet);
    expect((await parse(vnet, 5)).records).toEqual(whole.records);
    expect((await parse(JSON.stringify(JSON.parse(vnet)), 3)).records).toEqual(whole.records);
  });

  it('warns with the line and JSON path of a bad tuple and keeps the others', async () => {
    const broken = vnet.replace(
      '"1663146003637,10.0.0.6,40.74.146.17,22730,443,6,O,B,NX,0,0,0,0"',
      '"1663146003637,10.0.0.6,40.74.146.17,22730,443,6,X,B,NX,0,0,0,0"',
    );
    const sink = await parse(broken);
    expect(sink.records).toHaveLength(18);
    expect(sink.warnings).toEqual([
      {
        file: 'PT1H.json',
        line: 3,
        message: 'records[0].flowRecords.flows[0].flowGroups[0].flowTuples[2]: direction "X" is not I or O, skipped',
      },
    ]);
  });

  it('keeps the other records when one record is not valid JSON', async () => {
    const doc = JSON.parse(vnet) as { records: unknown[] };
    const text = `{"records": [\n${JSON.stringify(doc.records[0])},\n{"flowRecords": {"flows": [nope, ]}},\n${JSON.stringify(doc.records[0])}\n]}`;
    const sink = await parse(text);
    expect(sink.records).toHaveLength(38);
    expect(sink.warnings).toHaveLength(1);
    expect(sink.warnings[0]!.line).toBe(3);
  });

  it('reads NSG flow log version 1 tuples (eight fields, no counters)', async () => {
    const v1 = JSON.stringify({
      records: [
        {
          time: '2017-02-16T22:00:32Z',
          category: 'NetworkSecurityGroupFlowEvent',
          properties: {
            Version: 1,
            flows: [
              {
                rule: 'DefaultRule_DenyAllInBound',
                flows: [{ mac: '000D3AF8801A', flowTuples: ['1487282421,42.119.146.95,10.1.0.4,51529,5358,T,I,D'] }],
              },
            ],
          },
        },
      ],
    });
    const sink = await parse(v1);
    expect(sink.warnings).toEqual([]);
    expect(sink.records).toEqual([
      expect.objectContaining({
        srcAddr: '42.119.146.95',
        dstAddr: '10.1.0.4',
        dstPort: 5358,
        protocol: 6,
        accepted: false,
        bytes: 0,
      }),
    ]);
  });
});
