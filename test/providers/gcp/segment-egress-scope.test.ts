import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileFile } from '../../../src/compile/index.js';
import type { RuleSet, TargetSpec } from '../../../src/compile/types.js';
import { cidrsOverlap } from '../../../src/model/addresses.js';
import { FIREWALL_TYPE, firewallSpecOf, type FirewallSpec } from '../../../providers/gcp/canonical.js';
import { renderGcp } from '../../../providers/gcp/render.js';
import { inRanges, verdict, type Instance } from '../../helpers/gcp/firewall-evaluator.js';

/**
 * DESIGN §5: GCP egress toward segments goes to the internal ranges minus every CIDR entity the
 * model declares inside them, so a segment allowed to reach another segment on a port cannot
 * also reach the VPN or on-premises range on that port. Checked with the evaluator of rendered
 * rules (test/helpers/gcp/firewall-evaluator.ts), not by reading render's own output shape. The
 * internal ranges are stated on the target, not taken from the default.
 */

const INTERNAL = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fd00::/8'];

const MODEL = `bulkhead: 1
name: corp
targets:
  gcp-prod:
    gcp: { project: corp-prod, network: corp-vpc, internalRanges: [${INTERNAL.map((r) => JSON.stringify(r)).join(', ')}] }
entities:
  vpn: { cidrs: [10.8.0.0/16, "fd00:8::/48"] }
  onprem: { cidrs: [192.168.100.0/24] }
  # Larger than an internal range: its part inside (all of 172.16/12) is carved out.
  lab: { cidrs: [172.0.0.0/11] }
  partner: { cidrs: [203.0.113.0/24] }
segments:
  web: { egress: [{ to: app, ports: [tcp/8080] }] }
  app: { egress: [{ to: vpn, ports: [tcp/22] }] }
  db: { ingress: [{ from: app, ports: [tcp/5432] }, { from: partner, ports: [tcp/5432] }] }
`;

let dir: string;
let rules: RuleSet;
let target: TargetSpec & { kind: 'gcp' };
let specs: FirewallSpec[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bulkhead-gcp-egress-'));
  await writeFile(join(dir, 'corp.yaml'), MODEL);
  const r = await compileFile(join(dir, 'corp.yaml'), { cwd: dir });
  if (!r.ok) throw new Error(JSON.stringify(r.diagnostics));
  rules = r.value;
  target = rules.targets.find((t): t is TargetSpec & { kind: 'gcp' } => t.kind === 'gcp')!;
  const rendered = renderGcp(rules, target);
  expect(rendered.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  specs = rendered.resources.filter((r) => r.type === FIREWALL_TYPE).map(firewallSpecOf);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** VMs of the segments: one IPv4 and one IPv6 address each, outside every entity. */
function vm(segment: string, family: 'v4' | 'v6' = 'v4'): Instance {
  const i = ['web', 'app', 'db'].indexOf(segment) + 1;
  return { ip: family === 'v4' ? `10.1.${i}.10` : `fd00:1:${i}::10`, tag: `corp-${segment}` };
}

/** Addresses spread over each internal entity range: its edges and points inside. */
const SAMPLES: Readonly<Record<string, readonly string[]>> = {
  '10.8.0.0/16': ['10.8.0.0', '10.8.0.1', '10.8.3.4', '10.8.77.200', '10.8.128.1', '10.8.255.254', '10.8.255.255'],
  'fd00:8::/48': ['fd00:8::', 'fd00:8::1', 'fd00:8:0:1::5', 'fd00:8:0:ffff:ffff:ffff:ffff:ffff'],
  '192.168.100.0/24': ['192.168.100.0', '192.168.100.1', '192.168.100.128', '192.168.100.255'],
  '172.16.0.0/12': ['172.16.0.1', '172.20.3.4', '172.31.255.254'],
};

describe('gcp egress between segments', () => {
  it('compiles every declared CIDR entity into the RuleSet (sorted, internet excluded)', () => {
    expect(rules.entities).toEqual([
      { name: 'lab', ipv4: ['172.0.0.0/11'], ipv6: [] },
      { name: 'onprem', ipv4: ['192.168.100.0/24'], ipv6: [] },
      { name: 'partner', ipv4: ['203.0.113.0/24'], ipv6: [] },
      { name: 'vpn', ipv4: ['10.8.0.0/16'], ipv6: ['fd00:8::/48'] },
    ]);
  });

  it('denies probes from segments to internal CIDR entities on the segment-to-segment ports', () => {
    const ports = [8080, 5432];
    const entityRanges = Object.keys(SAMPLES);
    const leaks: string[] = [];
    let probes = 0;
    for (const sender of ['web', 'app', 'db']) {
      for (const range of entityRanges) {
        for (const ip of SAMPLES[range]!) {
          expect(inRanges([range], ip), `${ip} in ${range}`).toBe(true);
          for (const port of ports) {
            probes++;
            const v = verdict(specs, {
              src: vm(sender, range.includes(':') ? 'v6' : 'v4'),
              dst: { ip },
              protocol: 'tcp',
              port,
            });
            if (v.egress !== 'deny') leaks.push(`${sender} → ${ip}:${port}`);
          }
        }
      }
    }
    expect(probes).toBe(3 * 18 * 2);
    expect(leaks).toEqual([]);
  });

  it('still allows every segment-to-segment flow, both families, and the explicit egress to the VPN', () => {
    for (const family of ['v4', 'v6'] as const) {
      expect(verdict(specs, { src: vm('web', family), dst: vm('app', family), protocol: 'tcp', port: 8080 })).toEqual({
        egress: 'allow',
        ingress: 'allow',
      });
      expect(verdict(specs, { src: vm('app', family), dst: vm('db', family), protocol: 'tcp', port: 5432 })).toEqual({
        egress: 'allow',
        ingress: 'allow',
      });
      // Not a modelled flow: the receiver's ingress rule still segments.
      expect(
        verdict(specs, { src: vm('web', family), dst: vm('db', family), protocol: 'tcp', port: 5432 }).ingress,
      ).toBe('deny');
    }
    // Internal addresses outside every entity stay reachable on the segment ports (other subnets).
    for (const ip of ['10.9.0.1', '10.255.255.254', '192.168.99.1', '192.168.101.1', 'fd00:9::1']) {
      expect(
        verdict(specs, { src: vm('app', ip.includes(':') ? 'v6' : 'v4'), dst: { ip }, protocol: 'tcp', port: 5432 })
          .egress,
        ip,
      ).toBe('allow');
    }
    // app's own egress to the VPN on tcp/22 is unaffected by the carve-out.
    expect(verdict(specs, { src: vm('app'), dst: { ip: '10.8.3.4' }, protocol: 'tcp', port: 22 }).egress).toBe('allow');
    expect(verdict(specs, { src: vm('app', 'v6'), dst: { ip: 'fd00:8::5' }, protocol: 'tcp', port: 22 }).egress).toBe(
      'allow',
    );
  });

  it('keeps the egress rules inside the internal ranges and out of every internal entity', () => {
    const egress = specs.filter(
      (s) => s.direction === 'EGRESS' && s.action === 'allow' && /(?:-out-(?:app|db))/.test(s.name),
    );
    expect(egress.length).toBeGreaterThan(0);
    for (const s of egress) {
      for (const r of s.destinationRanges) {
        expect(
          INTERNAL.some((i) => cidrsOverlap(i, r)),
          r,
        ).toBe(true);
        for (const e of ['10.8.0.0/16', 'fd00:8::/48', '192.168.100.0/24', '172.16.0.0/12'])
          expect(cidrsOverlap(r, e), `${s.name} ${r} overlaps ${e}`).toBe(false);
      }
    }
  });

  it('carves thousands of internal entity ranges out exactly (bounded work, no per-range rescans)', () => {
    const many = Array.from({ length: 3000 }, (_, i) => `10.${Math.floor(i / 250)}.${i % 250}.0/24`);
    const big: RuleSet = { ...rules, entities: [{ name: 'branches', ipv4: many, ipv6: [] }] };
    const egress = renderGcp(big, target)
      .resources.filter((r) => r.type === FIREWALL_TYPE)
      .map(firewallSpecOf)
      .filter((s) => s.direction === 'EGRESS' && /-out-db-v4-/.test(s.name));
    expect(egress).toHaveLength(1);
    const ranges = egress[0]!.destinationRanges;
    for (const ip of ['10.0.0.1', '10.5.249.9', '10.11.249.200']) expect(inRanges(ranges, ip), ip).toBe(false);
    for (const ip of ['10.0.250.1', '10.12.0.1', '10.200.0.1', '172.16.0.1', '192.168.1.1'])
      expect(inRanges(ranges, ip), ip).toBe(true);
  });

  it('is an error when an entity covers all internal ranges of a family', () => {
    const covering: RuleSet = {
      ...rules,
      entities: [...(rules.entities ?? []), { name: 'all-of-ten', ipv4: ['0.0.0.0/0'], ipv6: [] }],
    };
    const d = renderGcp(covering, target).diagnostics.filter((x) => x.code === 'gcp-internal-ranges-covered');
    expect(d).toHaveLength(1);
    expect(d[0]!.message).toContain('all-of-ten');
  });
});
