import { describe, expect, it } from 'vitest';
import { gcpFlowLogReader } from '../../../providers/gcp/flows.js';
import { ConnectionTable } from '../../../src/flows/aggregate.js';
import { chunksOf, recordingSink } from '../../flows/helpers.js';

/**
 * No vendor sample with an open license exists for GCP VPC Flow Logs (test/fixtures/vendor/SOURCES.md):
 * these entries follow the documented Cloud Logging shape (jsonPayload.connection, reporter,
 * bytes_sent/packets_sent as int64 strings, start_time/end_time, src_instance/dest_instance).
 */
function gcpEntry(o: {
  src: string;
  sport: number;
  dst: string;
  dport: number;
  proto?: number;
  reporter: 'SRC' | 'DEST';
  bytes?: number;
  start?: string;
  end?: string;
}) {
  return {
    insertId: `${o.src}-${o.sport}-${o.reporter}`,
    logName: 'projects/shop-prod/logs/compute.googleapis.com%2Fvpc_flows',
    resource: {
      type: 'gce_subnetwork',
      labels: { project_id: 'shop-prod', subnetwork_name: 'default', location: 'europe-west4' },
    },
    timestamp: o.end ?? '2026-11-01T10:00:05Z',
    jsonPayload: {
      connection: { src_ip: o.src, src_port: o.sport, dest_ip: o.dst, dest_port: o.dport, protocol: o.proto ?? 6 },
      bytes_sent: String(o.bytes ?? 1000),
      packets_sent: '4',
      reporter: o.reporter,
      start_time: o.start ?? '2026-11-01T10:00:00Z',
      end_time: o.end ?? '2026-11-01T10:00:05Z',
      src_instance: { project_id: 'shop-prod', vm_name: 'web-1', zone: 'europe-west4-a' },
      dest_vpc: { project_id: 'shop-prod', vpc_name: 'default', subnetwork_name: 'default' },
    },
  };
}

async function parse(text: string, chunk?: number) {
  const sink = recordingSink();
  await gcpFlowLogReader.read('flows.json', chunksOf(text, chunk), sink);
  return sink;
}

describe('GCP VPC Flow Logs reader', () => {
  const entries = [
    gcpEntry({ src: '10.0.0.5', sport: 40001, dst: '10.0.1.7', dport: 5432, reporter: 'SRC', bytes: 900 }),
    gcpEntry({ src: '10.0.0.5', sport: 40001, dst: '10.0.1.7', dport: 5432, reporter: 'DEST', bytes: 900 }),
    gcpEntry({ src: '10.0.1.7', sport: 5432, dst: '10.0.0.5', dport: 40001, reporter: 'SRC', bytes: 5000 }),
    gcpEntry({ src: '10.0.1.7', sport: 5432, dst: '10.0.0.5', dport: 40001, reporter: 'DEST', bytes: 5000 }),
  ];

  it('reads gcloud logging read --format=json (one pretty-printed array), int64 strings as numbers', async () => {
    const text = JSON.stringify(entries, null, 2);
    expect(gcpFlowLogReader.detect(text)).toBe(true);
    const sink = await parse(text);
    expect(sink.warnings).toEqual([]);
    expect(sink.records[0]).toEqual({
      start: Date.parse('2026-11-01T10:00:00Z') / 1000,
      end: Date.parse('2026-11-01T10:00:05Z') / 1000,
      srcAddr: '10.0.0.5',
      dstAddr: '10.0.1.7',
      srcPort: 40001,
      dstPort: 5432,
      protocol: 6,
      accepted: true,
      packets: 4,
      bytes: 900,
      role: 'unknown',
      reporter: 'src',
    });
    expect((await parse(text, 3)).records).toEqual(sink.records);
  });

  it('reads one entry per line and folds both reporters of both directions into one connection, bytes once', async () => {
    const text = entries.map((e) => JSON.stringify(e)).join('\n');
    const table = new ConnectionTable();
    await gcpFlowLogReader.read('flows.json', chunksOf(text, 11), table);
    expect(table.connections()).toEqual([
      expect.objectContaining({
        client: '10.0.0.5',
        server: '10.0.1.7',
        port: 5432,
        connections: 1,
        records: 4,
        bytes: 5900,
      }),
    ]);
  });

  it('warns with the line of a bad or truncated entry and keeps the others', async () => {
    const lines = entries.map((e) => JSON.stringify(e));
    const bad = JSON.parse(lines[1]!) as { jsonPayload: { bytes_sent: unknown } };
    bad.jsonPayload.bytes_sent = 'lots';
    lines[1] = JSON.stringify(bad);
    lines.splice(2, 0, lines[0]!.slice(0, 40));
    const sink = await parse(lines.join('\n'));
    expect(sink.records).toHaveLength(3);
    expect(sink.warnings.map((w) => [w.line, w.message])).toEqual([
      [2, '[1].jsonPayload.bytes_sent: is not an int64 (a string of digits), skipped'],
      [3, 'not valid JSON (Unterminated string in JSON at position 40), skipped'],
    ]);
  });

  it('reads a Firewall Rules Logging entry with disposition DENIED as rejected', async () => {
    const e = gcpEntry({ src: '198.51.100.9', sport: 50000, dst: '10.0.0.5', dport: 22, reporter: 'DEST' });
    (e.jsonPayload as Record<string, unknown>)['disposition'] = 'DENIED';
    const sink = await parse(JSON.stringify([e]));
    expect(sink.records[0]!.accepted).toBe(false);
  });
});
