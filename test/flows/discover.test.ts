import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateFile } from '../../src/compile/index.js';
import type { Connection } from '../../src/flows/aggregate.js';
import { discoverModel, type DiscoverOptions } from '../../src/flows/discover.js';
import { segmentName } from '../../src/flows/naming.js';
import type { Inventory } from '../../src/flows/types.js';

const DAY = 86400;
const dir = mkdtempSync(join(tmpdir(), 'bulkhead-discover-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const inventory: Inventory = {
  cloud: 'aws',
  workloads: [
    { id: 'eni-1', name: 'web-1', addresses: ['10.0.1.10'], tags: { app: 'Web Tier' }, groups: [] },
    { id: 'eni-2', name: 'api-1', addresses: ['10.0.2.10', '2001:db8::10'], tags: { app: 'api' }, groups: [] },
    { id: 'eni-3', name: 'nat', addresses: ['10.0.0.6'], tags: {}, groups: [], kind: 'nat_gateway' },
  ],
  target: { name: 'aws-eu-west-1', config: { region: 'eu-west-1', vpc: 'vpc-0123456789abcdef0' } },
  warnings: [],
};
const options: DiscoverOptions = {
  name: 'shop',
  groupBy: { kind: 'tag', key: 'app' },
  minFlows: 1,
  cloud: 'aws',
  provenance: ['test'],
};

function conn(client: string, server: string, port: number, o: Partial<Connection> = {}): Connection {
  return {
    accepted: true,
    protocol: 6,
    client,
    server,
    port,
    connections: 5,
    records: 10,
    packets: 10,
    bytes: 1000,
    firstSeen: 1_790_000_000,
    lastSeen: 1_790_000_000 + 2 * DAY,
    ...o,
  };
}

const rulesOf = (cs: Connection[], o: Partial<DiscoverOptions> = {}) =>
  discoverModel(cs, inventory, { ...options, ...o }).rules.map(
    (r) => `${r.segment} ${r.direction} ${r.peer} ${r.service} ${r.connections}`,
  );

describe('discoverModel', () => {
  it('names segments from tag values (lower-case, dashes, starting with a letter)', () => {
    expect(segmentName('Web Tier')).toBe('web-tier');
    expect(segmentName('9lives')).toBe('s-9lives');
    expect(segmentName('--')).toBeUndefined();
    expect(segmentName('Internet')).toBe('s-internet');
    expect(segmentName('host-a')).toBe('s-host-a');
    expect(discoverModel([], inventory, options).segments).toEqual(['api', 'web-tier']);
  });

  it('merges ports into ranges only where they are contiguous', () => {
    expect(rulesOf([80, 81, 82, 443, 8080].map((p) => conn('10.0.1.10', '10.0.2.10', p)))).toEqual([
      'api ingress web-tier tcp/80-82 15',
      'api ingress web-tier tcp/443 5',
      'api ingress web-tier tcp/8080 5',
    ]);
  });

  it('public peers: internet when many or short-lived, one entity each when few and stable', async () => {
    const many = ['198.51.100.1', '198.51.100.2', '198.51.100.3', '198.51.100.4'].map((a) => conn(a, '10.0.1.10', 443));
    expect(rulesOf(many)).toEqual(['web-tier ingress internet tcp/443 20']);
    const fresh = [conn('10.0.2.10', '192.0.2.10', 443, { lastSeen: 1_790_000_000 + 3600 })];
    expect(rulesOf(fresh)).toEqual(['api egress internet tcp/443 5']);
    const stable = [conn('10.0.2.10', '192.0.2.10', 443), conn('10.0.2.10', '2001:db8:ff::7', 443)];
    const r = discoverModel(stable, inventory, options);
    expect(r.rules.map((x) => x.peer)).toEqual(['public-192-0-2-10', 'public-2001-db8-ff--7']);
    expect([...r.entities]).toEqual([
      ['public-192-0-2-10', '192.0.2.10/32'],
      ['public-2001-db8-ff--7', '2001:db8:ff::7/128'],
    ]);
    expect(r.yaml).toContain('  public-2001-db8-ff--7: { cidrs: ["2001:db8:ff::7/128"] }');
    // The proposal is a valid model, IPv6 entities included.
    writeFileSync(join(dir, 'v6.yaml'), r.yaml);
    const valid = await validateFile(join(dir, 'v6.yaml'), { cwd: dir });
    expect(valid.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(valid.ok).toBe(true);
  });

  it('private peers outside the inventory become host entities; NAT legs and peer-to-peer traffic are left out', () => {
    const r = discoverModel(
      [
        conn('10.0.1.10', '10.9.9.9', 53, { protocol: 17 }),
        conn('10.0.0.6', '192.0.2.10', 443),
        conn('10.9.9.9', '10.9.9.8', 22),
      ],
      inventory,
      options,
    );
    expect(r.rules.map((x) => `${x.segment} ${x.direction} ${x.peer} ${x.service}`)).toEqual([
      'web-tier egress host-10-9-9-9 udp/53',
    ]);
    expect(r.outside).toBe(2);
  });

  it('--min-flows leaves out thin rules; rejected connections are never proposed', () => {
    const cs = [
      conn('10.0.1.10', '10.0.2.10', 443),
      conn('10.0.1.10', '10.0.2.10', 8443, { connections: 2 }),
      conn('10.0.1.10', '10.0.2.10', 22, { accepted: false }),
    ];
    const r = discoverModel(cs, inventory, { ...options, minFlows: 3 });
    expect(r.rules.map((x) => x.service)).toEqual(['tcp/443']);
    expect(r.belowMinimum).toBe(1);
  });

  it('protocols without ports: icmp, icmpv6, named protocols, numbers', () => {
    const cs = [1, 58, 47, 99].map((p) => conn('10.0.1.10', '10.0.2.10', 0, { protocol: p }));
    expect(rulesOf(cs)).toEqual([
      'api ingress web-tier icmp 5',
      'api ingress web-tier gre 5',
      'api ingress web-tier icmpv6 5',
      'api ingress web-tier 99 5',
    ]);
  });

  it('writes the evidence above each rule, the target from the inventory, and targets: {} when it has none', () => {
    const r = discoverModel([conn('10.0.1.10', '10.0.2.10', 443, { bytes: 12_345_678 })], inventory, options);
    expect(r.yaml).toContain('  aws-eu-west-1: { aws: { region: "eu-west-1", vpc: "vpc-0123456789abcdef0" } }');
    expect(r.yaml).toContain(
      '      # 5 connections, 12.3 MB, first seen 2026-09-21T14:13:20Z, last seen 2026-09-23T14:13:20Z\n      - { from: web-tier, ports: [tcp/443] }',
    );
    const { target: _t, ...bare } = inventory;
    expect(discoverModel([], bare, options).yaml).toContain('\ntargets: {}\n');
  });
});
