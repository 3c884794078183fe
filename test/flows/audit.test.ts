import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileFile } from '../../src/compile/index.js';
import type { Connection } from '../../src/flows/aggregate.js';
import { auditConnections } from '../../src/flows/audit.js';
import type { Inventory } from '../../src/flows/types.js';

const dir = mkdtempSync(join(tmpdir(), 'bulkhead-audit-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function rules(yaml: string) {
  writeFileSync(join(dir, 'm.yaml'), yaml);
  const r = await compileFile(join(dir, 'm.yaml'), { cwd: dir });
  if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('; '));
  return r.value;
}

const conn = (client: string, server: string, port: number, o: Partial<Connection> = {}): Connection => ({
  accepted: true,
  protocol: 6,
  client,
  server,
  port,
  connections: 3,
  records: 6,
  packets: 6,
  bytes: 600,
  firstSeen: 1_790_000_000,
  lastSeen: 1_790_000_600,
  ...o,
});

describe('auditConnections', () => {
  it('places a workload by an identity its segment adopts (an existing group id), else by the managed name', async () => {
    const rs = await rules(
      'bulkhead: 1\nname: shop\ntargets:\n  aws-prod: { aws: { region: eu-west-1, vpc: vpc-0123456789abcdef0 } }\nsegments:\n  web: { aws: { groupId: sg-0123456789abcdef0 } }\n  app:\n    ingress: [{ from: web, ports: [tcp/8080] }]\n',
    );
    const inventory: Inventory = {
      cloud: 'aws',
      workloads: [
        {
          id: 'eni-1',
          name: 'web',
          addresses: ['10.0.1.10'],
          tags: {},
          groups: ['legacy-web'],
          groupIds: ['sg-0123456789abcdef0'],
        },
        {
          id: 'eni-2',
          name: 'app',
          addresses: ['10.0.2.10'],
          tags: {},
          groups: ['shop-app'],
          groupIds: ['sg-0aaaaaaaaaaaaaaaa'],
        },
      ],
      warnings: [],
    };
    const report = auditConnections(rs, [conn('10.0.1.10', '10.0.2.10', 8080)], inventory);
    expect(report.flows).toEqual([
      expect.objectContaining({ source: 'web', destination: 'app', verdict: 'allow', rule: 'm.yaml:8:15' }),
    ]);
    expect(report.summary.workloadsInSegments).toBe(2);
  });

  it('names peers as the model does: the most specific CIDR entity, internet, or the address', async () => {
    const rs = await rules(
      'bulkhead: 1\nname: shop\ntargets: {}\nentities:\n  office: { cidrs: [203.0.113.0/24] }\n  desk: { cidrs: [203.0.113.7/32] }\nsegments:\n  web:\n    ingress: [{ from: office, ports: [tcp/443] }]\n',
    );
    const inventory: Inventory = {
      cloud: 'aws',
      workloads: [{ id: 'eni-1', name: 'web', addresses: ['10.0.1.10'], tags: { app: 'web' }, groups: [] }],
      warnings: [],
    };
    const report = auditConnections(
      rs,
      [
        conn('203.0.113.7', '10.0.1.10', 443),
        conn('203.0.113.9', '10.0.1.10', 443),
        conn('198.51.100.1', '10.0.1.10', 443),
        conn('10.9.9.9', '10.0.1.10', 443),
      ],
      inventory,
      { groupBy: { kind: 'tag', key: 'app' } },
    );
    expect(report.flows.map((f) => `${f.verdict} ${f.source} -> ${f.destination}`)).toEqual([
      'deny 10.9.9.9 -> web',
      'deny internet -> web',
      'allow desk -> web',
      'allow office -> web',
    ]);
  });
});
