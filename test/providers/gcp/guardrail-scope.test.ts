import { join } from 'node:path';
import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { compileFile } from '../../../src/compile/index.js';
import type { GuardrailDeny, PortMatch, RuleSet, TargetSpec } from '../../../src/compile/types.js';
import { cidrContains, cidrsOverlap } from '../../../src/model/addresses.js';
import {
  host,
  inRanges,
  matching,
  verdict,
  winner,
  type Instance,
  type Packet,
} from '../../helpers/gcp/firewall-evaluator.js';
import { FIREWALL_TYPE, firewallSpecOf, isV6, type FirewallSpec } from '../../../providers/gcp/canonical.js';
import { MAX_RANGES, PRIORITY } from '../../../providers/gcp/limits.js';
import { renderGcp } from '../../../providers/gcp/render.js';
import { flow, seg, tcp } from '../../helpers/rulesets.js';

/**
 * A guardrail deny of the built-in `internet` means every address OUTSIDE the model (the
 * compiler checks flows with that meaning). On GCP it is rendered at top precedence, so it must
 * cover exactly the addresses outside the network's internal ranges: a deny of 0.0.0.0/0 would
 * cut the segment-to-segment flows the compiler allowed. Checked on policies/pci.yaml with a
 * small evaluator of the rendered VPC firewall rules.
 */

const repo = join(import.meta.dirname, '../../..');

async function pci(): Promise<{ rules: RuleSet; target: TargetSpec & { kind: 'gcp' } }> {
  const r = await compileFile(join(repo, 'policies/pci.yaml'), { cwd: repo });
  if (!r.ok) throw new Error(JSON.stringify(r.diagnostics));
  const target = r.value.targets.find((t): t is TargetSpec & { kind: 'gcp' } => t.kind === 'gcp')!;
  return { rules: r.value, target };
}

function firewalls(rules: RuleSet, target: TargetSpec): FirewallSpec[] {
  return renderGcp(rules, target)
    .resources.filter((r) => r.type === FIREWALL_TYPE)
    .map(firewallSpecOf);
}

/** One VM per segment, inside the target's first IPv4 internal range. */
function instances(rules: RuleSet, target: TargetSpec & { kind: 'gcp' }): Map<string, Instance> {
  const base = target.gcp.internalRanges.find((r) => !isV6(r))!;
  const [addr] = ipaddr.parseCIDR(base);
  const start = addr.toByteArray().reduce((n, b) => n * 256 + b, 0);
  const out = new Map<string, Instance>();
  rules.segments.forEach((s, i) => {
    const n = start + (i + 1) * 256 + 10;
    const ip = [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
    expect(cidrContains(base, host(ip))).toBe(true);
    const sa = s.gcp?.serviceAccount?.toLowerCase();
    out.set(s.name, sa ? { ip, sa } : { ip, tag: `${rules.model.name}-${s.name}` });
  });
  return out;
}

function packetFor(service: PortMatch, src: Instance, dst: Instance): Packet {
  switch (service.kind) {
    case 'ports':
      return { src, dst, protocol: service.protocol, port: service.to };
    case 'all':
      return { src, dst, protocol: 'tcp', port: 22 };
    case 'icmp':
      return { src, dst, protocol: service.protocol === 'icmp' ? 'icmp' : '58' };
    case 'protocol':
      return { src, dst, protocol: String(service.number) };
  }
}

/** Every segment-to-segment flow the RuleSet allows, as packets between the segments' VMs. */
function segmentFlows(rules: RuleSet, vms: Map<string, Instance>): { label: string; packet: Packet }[] {
  const out = new Map<string, { label: string; packet: Packet }>();
  for (const intent of rules.rules) {
    if (intent.peer.kind !== 'segment') continue;
    const [from, to] =
      intent.direction === 'ingress' ? [intent.peer.name, intent.segment] : [intent.segment, intent.peer.name];
    const label = `${from} → ${to} ${JSON.stringify(intent.service)}`;
    out.set(label, { label, packet: packetFor(intent.service, vms.get(from)!, vms.get(to)!) });
  }
  return [...out.values()].sort((a, b) => (a.label < b.label ? -1 : 1));
}

/** Matching denies that outrank (or tie) the best matching allow, per direction. */
function outrankingDenies(rules: readonly FirewallSpec[], p: Packet): string[] {
  const out: string[] = [];
  for (const direction of ['EGRESS', 'INGRESS'] as const) {
    const m = matching(rules, direction, p);
    const bestAllow = Math.min(...m.filter((r) => r.action === 'allow').map((r) => r.priority), 65535);
    out.push(...m.filter((r) => r.action === 'deny' && r.priority <= bestAllow).map((r) => `${direction} ${r.name}`));
  }
  return out;
}

function internetDenies(rules: RuleSet): GuardrailDeny[] {
  return rules.denies.filter((d) => d.peer.kind === 'cidrs' && d.peer.builtin === 'internet');
}

/** The rendered rules of one guardrail deny. */
function renderedOf(specs: readonly FirewallSpec[], deny: GuardrailDeny): FirewallSpec[] {
  return specs.filter(
    (s) =>
      s.action === 'deny' &&
      s.priority === PRIORITY.guardrailDeny &&
      s.description.startsWith(`guardrail ${deny.guardrail} [`),
  );
}

/** Sample addresses: two per /8, plus the edges of every internal range. */
function sampleV4(internal: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < 256; i++)
    out.push(`${i}.0.0.1`, `${i}.255.255.254`, `${i}.${(i * 37) % 256}.${(i * 91) % 256}.${(i * 13) % 256}`);
  for (const r of internal.filter((x) => !isV6(x))) {
    const [addr, len] = ipaddr.parseCIDR(r);
    const n = addr.toByteArray().reduce((a, b) => a * 256 + b, 0);
    const size = 2 ** (32 - len);
    for (const v of [n - 1, n, n + size - 1, n + size]) {
      if (v >= 0 && v < 2 ** 32) out.push([24, 16, 8, 0].map((s) => Math.floor(v / 2 ** s) % 256).join('.'));
    }
  }
  return out;
}

describe('gcp guardrail denies of internet', () => {
  it('cover every address outside the internal ranges and none inside (policies/pci.yaml, gcp-cde)', async () => {
    const { rules, target } = await pci();
    const specs = firewalls(rules, target);
    const internal = target.gcp.internalRanges;
    const denies = internetDenies(rules);
    expect(denies.map((d) => `${d.guardrail} ${d.direction}`).sort()).toEqual([
      'pci-no-internet-egress-from-data egress',
      'pci-no-ssh-rdp-from-internet ingress',
    ]);
    for (const deny of denies) {
      const rendered = renderedOf(specs, deny);
      expect(rendered.length).toBeGreaterThan(0);
      const ranges = rendered.flatMap((s) => [...s.sourceRanges, ...s.destinationRanges]);
      // (a) no internal address is denied ...
      for (const r of ranges)
        for (const i of internal) expect(cidrsOverlap(r, i), `${r} overlaps internal ${i}`).toBe(false);
      // ... every outside address is (IPv4 samples, and all of IPv6: pci has no IPv6 internal range) ...
      for (const ip of sampleV4(internal)) {
        const isInternal = inRanges(internal, ip);
        expect(inRanges(ranges, ip), `${ip} (internal: ${isInternal})`).toBe(!isInternal);
      }
      for (const ip of ['2001:db8::1', '2606:4700::1111', 'fd00::1', '::1']) expect(inRanges(ranges, ip)).toBe(true);
      // ... within GCP's per-rule range limit, one address family per rule.
      for (const s of rendered) {
        const list = [...s.sourceRanges, ...s.destinationRanges];
        expect(list.length).toBeLessThanOrEqual(MAX_RANGES);
        expect(new Set(list.map(isV6)).size).toBe(1);
      }
    }
  });

  it('excludes IPv6 internal ranges from ::/0 too', async () => {
    const { rules, target } = await pci();
    const v6: TargetSpec = {
      ...target,
      gcp: { ...target.gcp, internalRanges: [...target.gcp.internalRanges, 'fd20:0:0::/48'] },
    };
    const deny = internetDenies(rules).find((d) => d.direction === 'egress')!;
    const ranges = renderedOf(firewalls(rules, v6), deny)
      .flatMap((s) => s.destinationRanges)
      .filter(isV6);
    expect(ranges.some((r) => cidrsOverlap(r, 'fd20::/48'))).toBe(false);
    for (const ip of ['fd20:0:1::1', 'fd21::1', '2001:db8::1', '::1']) expect(inRanges(ranges, ip)).toBe(true);
    expect(inRanges(ranges, 'fd20::5')).toBe(false);
  });

  it('(b) never outrank an allowed segment-to-segment flow of pci.yaml', async () => {
    const { rules, target } = await pci();
    const specs = firewalls(rules, target);
    const vms = instances(rules, target);
    const flows = segmentFlows(rules, vms);
    // card-vault → log-collector (card-vault has no internet egress) is among them.
    expect(flows.map((f) => f.label).some((l) => l.startsWith('card-vault → log-collector'))).toBe(true);
    for (const f of flows) expect(outrankingDenies(specs, f.packet), f.label).toEqual([]);
  });

  it('leave every segment flow allowed end to end, SSH between segments included, and still deny the internet', async () => {
    const { rules: base, target } = await pci();
    // All segments by network tag (pci.yaml's payment-api service account cannot meet tagged
    // peers in one GCP rule: render refuses those flows), plus an SSH flow between segments.
    const rules: RuleSet = {
      ...base,
      segments: base.segments.map(({ gcp: _gcp, ...rest }) => rest),
      rules: [...base.rules, ...flow(seg('storefront'), seg('log-collector'), tcp(22))],
    };
    const rendered = renderGcp(rules, target);
    expect(rendered.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const specs = rendered.resources.filter((r) => r.type === FIREWALL_TYPE).map(firewallSpecOf);
    const vms = instances(rules, target);
    const flows = segmentFlows(rules, vms);
    expect(flows.some((f) => f.packet.port === 22)).toBe(true);
    for (const f of flows) {
      expect(outrankingDenies(specs, f.packet), f.label).toEqual([]);
      expect(verdict(specs, f.packet), f.label).toEqual({ egress: 'allow', ingress: 'allow' });
    }
    // The guardrails still bite outside the model.
    const outside: Instance = { ip: '203.0.113.7' };
    const toOutside = verdict(specs, { src: vms.get('card-vault')!, dst: outside, protocol: 'tcp', port: 443 });
    expect(toOutside.egress).toBe('deny');
    expect(
      winner(matching(specs, 'EGRESS', { src: vms.get('card-vault')!, dst: outside, protocol: 'tcp', port: 443 }))!
        .priority,
    ).toBe(PRIORITY.guardrailDeny);
    for (const segment of ['lb', 'storefront', 'card-vault']) {
      const ssh = matching(specs, 'INGRESS', { src: outside, dst: vms.get(segment)!, protocol: 'tcp', port: 22 });
      expect(winner(ssh), segment).toMatchObject({ action: 'deny', priority: PRIORITY.guardrailDeny });
    }
    // And the internet's https to lb (an allow of 0.0.0.0/0) is not cut by the SSH deny.
    expect(verdict(specs, { src: outside, dst: vms.get('lb')!, protocol: 'tcp', port: 443 }).ingress).toBe('allow');
  });
});
