import { gzipSync } from 'node:zlib';

/**
 * Synthetic multi-day estates for the flow tests, one per cloud, generated in the test: the same
 * workloads and traffic written as each cloud's flow logs and inventory export, with both ends
 * of each connection logging it (request and response), internet clients, port scanners
 * (rejected), a NAT gateway's own legs (AWS), an untagged bastion, a resolver outside the
 * inventory, NODATA records and one malformed line per file.
 *
 * Expected proposal (group by tag:tier): lb ← internet tcp/443; web ← lb tcp/8080; app ← web
 * tcp/9000-9002; db ← app tcp/5432 and ← bastion (a host entity) tcp/22; web ← bastion tcp/22;
 * web → resolver (a host entity) udp/53; app → the two partner addresses (public entities, few and
 * stable) tcp/443.
 */

export interface Host {
  readonly name: string;
  readonly ip: string;
  readonly tier?: string;
  /** Not a workload (AWS NAT gateway interface). */
  readonly kind?: string;
}

export const HOSTS: readonly Host[] = [
  { name: 'lb-1', ip: '10.0.1.10', tier: 'lb' },
  { name: 'lb-2', ip: '10.0.1.11', tier: 'lb' },
  { name: 'web-1', ip: '10.0.2.10', tier: 'web' },
  { name: 'web-2', ip: '10.0.2.11', tier: 'web' },
  { name: 'web-3', ip: '10.0.2.12', tier: 'web' },
  { name: 'app-1', ip: '10.0.3.10', tier: 'app' },
  { name: 'app-2', ip: '10.0.3.11', tier: 'app' },
  { name: 'db-1', ip: '10.0.4.10', tier: 'db' },
  { name: 'bastion', ip: '10.0.0.5' },
];
export const NAT: Host = { name: 'nat', ip: '10.0.0.6', kind: 'nat_gateway' };
export const PARTNERS = ['192.0.2.10', '192.0.2.11'];
export const RESOLVER = '10.200.0.53';
export const DAY0 = Date.parse('2026-11-01T00:00:00Z') / 1000;
export const DAYS = 3;

/** One connection: client → server, with its bytes each way. */
export interface Conn {
  readonly client: string;
  readonly cport: number;
  readonly server: string;
  readonly port: number;
  readonly proto: number;
  readonly start: number;
  readonly end: number;
  readonly accepted: boolean;
  readonly reqBytes: number;
  readonly respBytes: number;
  /** Through the NAT gateway (AWS writes its legs too). */
  readonly nat?: boolean;
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const tier = (t: string) => HOSTS.filter((h) => h.tier === t).map((h) => h.ip);
export const inInventory = (ip: string) => HOSTS.some((h) => h.ip === ip) || ip === NAT.ip;

/** The estate's connections over DAYS days (deterministic for a seed). */
export function estateConnections(seed = 1, perDay = 6): Conn[] {
  const rand = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const out: Conn[] = [];
  const internet = Array.from({ length: 40 }, (_, i) => (i % 2 ? `198.51.100.${i + 1}` : `203.0.113.${i + 1}`));
  const specs: {
    clients: () => string;
    servers: () => string;
    port: () => number;
    proto?: number;
    accepted?: boolean;
    nat?: boolean;
    n: number;
  }[] = [
    { clients: () => pick(internet), servers: () => pick(tier('lb')), port: () => 443, n: perDay * 4 },
    { clients: () => pick(tier('lb')), servers: () => pick(tier('web')), port: () => 8080, n: perDay * 2 },
    {
      clients: () => pick(tier('web')),
      servers: () => pick(tier('app')),
      port: () => pick([9000, 9001, 9002]),
      n: perDay * 3,
    },
    { clients: () => pick(tier('app')), servers: () => '10.0.4.10', port: () => 5432, n: perDay },
    { clients: () => '10.0.0.5', servers: () => '10.0.4.10', port: () => 22, n: 1 },
    { clients: () => '10.0.0.5', servers: () => pick(tier('web')), port: () => 22, n: 1 },
    { clients: () => pick(tier('web')), servers: () => RESOLVER, port: () => 53, proto: 17, n: perDay },
    { clients: () => pick(tier('app')), servers: () => pick(PARTNERS), port: () => 443, nat: true, n: perDay },
    // Scanners: rejected, never proposed.
    {
      clients: () => `45.33.${Math.floor(rand() * 250)}.7`,
      servers: () => pick([...tier('lb'), ...tier('web')]),
      port: () => 1 + Math.floor(rand() * 1023),
      accepted: false,
      n: perDay,
    },
  ];
  for (let d = 0; d < DAYS; d++) {
    for (const s of specs) {
      for (let i = 0; i < s.n; i++) {
        const start = DAY0 + d * 86400 + Math.floor(rand() * 86000);
        out.push({
          client: s.clients(),
          cport: 32768 + Math.floor(rand() * 28000),
          server: s.servers(),
          port: s.port(),
          proto: s.proto ?? 6,
          start,
          end: start + 30,
          accepted: s.accepted ?? true,
          reqBytes: 200 + Math.floor(rand() * 1000),
          respBytes: 1000 + Math.floor(rand() * 10000),
          ...(s.nat ? { nat: true } : {}),
        });
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------- AWS

const V5_HEADER =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status vpc-id tcp-flags flow-direction pkt-srcaddr pkt-dstaddr';

const eniOf = (ip: string) =>
  `eni-${ip
    .split('.')
    .map((o) => Number(o).toString(16).padStart(2, '0'))
    .join('')}0000000`;

/** AWS flow-log lines for the connections: `v5` adds tcp-flags, flow-direction, pkt-* fields. */
export function awsLines(conns: readonly Conn[], v5: boolean): string[] {
  const lines: string[] = [];
  const line = (
    eni: string,
    src: string,
    dst: string,
    sp: number,
    dp: number,
    c: Conn,
    bytes: number,
    accepted: boolean,
    flags: number,
    dir: string,
    pktSrc = '-',
  ) =>
    lines.push(
      v5
        ? `5 123456789012 ${eni} ${src} ${dst} ${sp} ${dp} ${c.proto} 4 ${bytes} ${c.start} ${c.end} ${accepted ? 'ACCEPT' : 'REJECT'} OK vpc-0123456789abcdef0 ${c.proto === 6 ? flags : 0} ${dir} ${pktSrc} -`
        : `2 123456789012 ${eni} ${src} ${dst} ${sp} ${dp} ${c.proto} 4 ${bytes} ${c.start} ${c.end} ${accepted ? 'ACCEPT' : 'REJECT'} OK`,
    );
  for (const c of conns) {
    if (!c.accepted) {
      line(eniOf(c.server), c.client, c.server, c.cport, c.port, c, 44, false, 2, 'ingress');
      continue;
    }
    for (const end of [c.client, c.server]) {
      if (!inInventory(end)) continue;
      const atClient = end === c.client;
      line(eniOf(end), c.client, c.server, c.cport, c.port, c, c.reqBytes, true, 19, atClient ? 'egress' : 'ingress');
      line(eniOf(end), c.server, c.client, c.port, c.cport, c, c.respBytes, true, 19, atClient ? 'ingress' : 'egress');
    }
    if (c.nat) {
      // The NAT gateway's interface: the instance's packets arriving, and its own leg to the partner.
      line(eniOf(NAT.ip), c.client, c.server, c.cport, c.port, c, c.reqBytes, true, 19, 'ingress', c.client);
      line(eniOf(NAT.ip), NAT.ip, c.server, c.cport + 1, c.port, c, c.reqBytes, true, 19, 'egress');
      line(eniOf(NAT.ip), c.server, NAT.ip, c.port, c.cport + 1, c, c.respBytes, true, 19, 'ingress');
    }
  }
  lines.push(
    v5
      ? '5 123456789012 eni-0a1b2c3d4e5f60718 - - - - - - - 1762000000 1762000060 - NODATA vpc-0123456789abcdef0 - - - -'
      : '2 123456789012 eni-0a1b2c3d4e5f60718 - - - - - - - 1762000000 1762000060 - NODATA',
  );
  return lines;
}

/** The AWS estate as files: day 1 in the default format (CloudWatch style), days 2–3 as a gzipped S3 object with a v5 header. */
export function awsFiles(conns: readonly Conn[]): Record<string, string | Buffer> {
  const day1 = conns.filter((c) => c.start < DAY0 + 86400);
  const rest = conns.filter((c) => c.start >= DAY0 + 86400);
  const a = awsLines(day1, false);
  a.splice(3, 0, '2 123456789012 eni-broken 10.0.1.10');
  return {
    'day1.log': `${a.join('\n')}\n`,
    'days2-3.log.gz': gzipSync(`${V5_HEADER}\n${awsLines(rest, true).join('\n')}\n`),
  };
}

/** `aws ec2 describe-network-interfaces` of the estate. */
export function awsInventory(): unknown {
  return {
    NetworkInterfaces: [...HOSTS, NAT].map((h) => ({
      NetworkInterfaceId: eniOf(h.ip),
      PrivateIpAddress: h.ip,
      PrivateIpAddresses: [{ PrivateIpAddress: h.ip, Primary: true }],
      Ipv6Addresses: [],
      Groups: h.kind ? [] : [{ GroupName: 'default', GroupId: 'sg-0123456789abcdef0' }],
      TagSet: h.tier
        ? [
            { Key: 'tier', Value: h.tier },
            { Key: 'Name', Value: h.name },
          ]
        : [],
      VpcId: 'vpc-0123456789abcdef0',
      AvailabilityZone: 'eu-west-1a',
      InterfaceType: h.kind ?? 'interface',
      ...(h.kind ? {} : { Attachment: { InstanceId: `i-${eniOf(h.ip).slice(4)}` } }),
    })),
  };
}

// -------------------------------------------------------------------------------------- Azure

const macOf = (ip: string) =>
  `00224871${ip
    .split('.')
    .slice(2)
    .map((o) => Number(o).toString(16).padStart(2, '0'))
    .join('')
    .toUpperCase()}`;

/** Azure VNet flow log (v4) blobs, one per day: begin and end tuples at both ends' NICs. */
export function azureFiles(conns: readonly Conn[]): Record<string, string> {
  const files: Record<string, string> = {};
  for (let d = 0; d < DAYS; d++) {
    const byNic = new Map<string, string[]>();
    const add = (ip: string, t: string) => {
      const list = byNic.get(ip) ?? [];
      list.push(t);
      byNic.set(ip, list);
    };
    for (const c of conns.filter((x) => x.start >= DAY0 + d * 86400 && x.start < DAY0 + (d + 1) * 86400)) {
      const base = `${c.client},${c.server},${c.cport},${c.port},${c.proto}`;
      if (!c.accepted) {
        add(c.server, `${c.start * 1000},${base},I,D,NX,0,0,0,0`);
        continue;
      }
      for (const end of [c.client, c.server]) {
        if (!HOSTS.some((h) => h.ip === end)) continue;
        const dir = end === c.client ? 'O' : 'I';
        add(end, `${c.start * 1000},${base},${dir},B,NX,0,0,0,0`);
        add(end, `${c.end * 1000},${base},${dir},E,NX,4,${c.reqBytes},4,${c.respBytes}`);
      }
    }
    const records = [...byNic].map(([ip, tuples]) => ({
      time: new Date((DAY0 + d * 86400) * 1000).toISOString(),
      flowLogVersion: 4,
      flowLogGUID: '00000000-0000-0000-0000-000000000001',
      macAddress: macOf(ip),
      category: 'FlowLogFlowEvent',
      flowLogResourceID:
        '/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/NETWORKWATCHERRG/PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/NW/FLOWLOGS/SHOP',
      targetResourceID:
        '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/shop/providers/Microsoft.Network/virtualNetworks/shop-vnet',
      operationName: 'FlowLogFlowEvent',
      flowRecords: {
        flows: [
          {
            aclID: '00000000-1234-abcd-ef00-c1c2c3c4c5c6',
            flowGroups: [{ rule: 'DefaultRule_AllowVnetInBound', flowTuples: tuples }],
          },
        ],
      },
    }));
    // One malformed tuple per blob: a warning, never a stop.
    records[0]!.flowRecords.flows[0]!.flowGroups[0]!.flowTuples.push(
      '1762000000000,10.0.0.1,10.0.0.2,1,2,6,Q,B,NX,0,0,0,0',
    );
    files[`PT1H-day${d + 1}.json`] = JSON.stringify({ records });
  }
  return files;
}

/** `az network nic list` of the estate. */
export function azureInventory(): unknown {
  const rg = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/shop';
  return HOSTS.map((h) => ({
    id: `${rg}/providers/Microsoft.Network/networkInterfaces/${h.name}-nic`,
    name: `${h.name}-nic`,
    location: 'westeurope',
    tags: h.tier ? { tier: h.tier } : {},
    ipConfigurations: [{ name: 'ipconfig1', privateIPAddress: h.ip, privateIPAddressVersion: 'IPv4' }],
    networkSecurityGroup: { id: `${rg}/providers/Microsoft.Network/networkSecurityGroups/shop-nsg` },
    virtualMachine: { id: `${rg}/providers/Microsoft.Compute/virtualMachines/${h.name}` },
  }));
}

// ---------------------------------------------------------------------------------------- GCP

function gcpEntry(
  src: string,
  sp: number,
  dst: string,
  dp: number,
  c: Conn,
  bytes: number,
  reporter: 'SRC' | 'DEST',
  accepted: boolean,
) {
  return {
    insertId: `${src}:${sp}>${dst}:${dp}/${reporter}`,
    logName: 'projects/shop-prod/logs/compute.googleapis.com%2Fvpc_flows',
    resource: {
      type: 'gce_subnetwork',
      labels: { project_id: 'shop-prod', subnetwork_name: 'shop', location: 'europe-west4' },
    },
    timestamp: new Date(c.end * 1000).toISOString(),
    jsonPayload: {
      connection: { src_ip: src, src_port: sp, dest_ip: dst, dest_port: dp, protocol: c.proto },
      bytes_sent: String(bytes),
      packets_sent: '4',
      reporter,
      start_time: new Date(c.start * 1000).toISOString(),
      end_time: new Date(c.end * 1000).toISOString(),
      ...(accepted ? {} : { disposition: 'DENIED' }),
    },
  };
}

/** GCP Cloud Logging entries: day 1 one per line, days 2–3 as gcloud's JSON array. */
export function gcpFiles(conns: readonly Conn[]): Record<string, string> {
  const entries = (list: readonly Conn[]) => {
    const out: unknown[] = [];
    const vm = (ip: string) => HOSTS.some((h) => h.ip === ip);
    for (const c of list) {
      if (!c.accepted) {
        out.push(gcpEntry(c.client, c.cport, c.server, c.port, c, 44, 'DEST', false));
        continue;
      }
      for (const [src, sp, dst, dp, bytes] of [
        [c.client, c.cport, c.server, c.port, c.reqBytes],
        [c.server, c.port, c.client, c.cport, c.respBytes],
      ] as const) {
        if (vm(src)) out.push(gcpEntry(src, sp, dst, dp, c, bytes, 'SRC', true));
        if (vm(dst)) out.push(gcpEntry(src, sp, dst, dp, c, bytes, 'DEST', true));
      }
    }
    return out;
  };
  const day1 = entries(conns.filter((c) => c.start < DAY0 + 86400)).map((e) => JSON.stringify(e));
  day1.splice(2, 0, '{"insertId": "cut-short", "jsonPayload": {"connection": ');
  return {
    'vpc_flows-day1.json': `${day1.join('\n')}\n`,
    'vpc_flows-days2-3.json': JSON.stringify(entries(conns.filter((c) => c.start >= DAY0 + 86400)), null, 2),
  };
}

/** `gcloud compute instances list --format=json` of the estate. */
export function gcpInventory(): unknown {
  return HOSTS.map((h) => ({
    name: h.name,
    selfLink: `https://www.googleapis.com/compute/v1/projects/shop-prod/zones/europe-west4-a/instances/${h.name}`,
    zone: 'https://www.googleapis.com/compute/v1/projects/shop-prod/zones/europe-west4-a',
    labels: h.tier ? { tier: h.tier } : {},
    tags: { items: h.tier ? [`legacy-${h.tier}`] : [] },
    networkInterfaces: [
      {
        name: 'nic0',
        networkIP: h.ip,
        network: 'https://www.googleapis.com/compute/v1/projects/shop-prod/global/networks/shop-vpc',
      },
    ],
  }));
}
