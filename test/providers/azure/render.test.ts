import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AZURE_TYPES, renderAzure, ruleName, ruleSummary } from '../../../providers/azure/render.js';
import { validateAzure } from '../../../providers/azure/validate.js';
import { ruleFromWire, ruleToWire, type RuleAttributes } from '../../../providers/azure/canonical.js';
import { ALLOW_BAND, DENY_BAND } from '../../../providers/azure/limits.js';
import type { GuardrailDeny, RuleIntent, RuleSet, TargetSpec } from '../../../src/compile/types.js';
import type { Resource } from '../../../src/plan/types.js';
import type { RenderContext } from '../../../src/provider.js';
import { cidrs, flow, fqdns, internet, pos, ruleSet, seg, shopRules, tcp } from '../../helpers/rulesets.js';
import { emulatorTarget } from '../../helpers/azure/harness.js';
import { liveStateAfter } from '../../helpers/azure/live-state.js';

const CTX: RenderContext = {
  resolved: new Map([['api.stripe.com', { ipv4: ['192.0.2.10/32'], ipv6: ['2001:db8::10/128'] }]]),
};

function nsgOf(resources: Resource[]): Resource {
  return resources.find((r) => r.type === AZURE_TYPES.nsg)!;
}

function rulesByName(resources: Resource[]): Map<string, RuleAttributes> {
  return new Map(nsgOf(resources).children.map((c) => [c.key, c.attributes as RuleAttributes]));
}

/** A model of `n` segments in a ring of flows plus chords: 2 intents (in + out) per flow. */
function bigModel(flows: number, target: TargetSpec, extra: RuleIntent[] = []): RuleSet {
  const segments = Array.from({ length: 40 }, (_, i) => `s${i}`);
  const rules: RuleIntent[] = [];
  for (let i = 0; i < flows; i++) {
    const from = segments[i % 40]!;
    const to = segments[(i * 7 + 1) % 40]!;
    rules.push(...flow(seg(from), seg(to), tcp(1000 + i), 100 + i));
  }
  return ruleSet({ name: 'big', targets: [target], segments, rules: [...rules, ...extra] });
}

function withDenies(rules: RuleSet, denies: GuardrailDeny[]): RuleSet {
  return { ...rules, denies };
}

describe('azure render', () => {
  const target = emulatorTarget('azure-test');

  it('renders one tagged ASG per segment and ASG-to-ASG rules on both sides of a flow', () => {
    const out = renderAzure(shopRules([target]), target, CTX);
    const asgs = out.filter((r) => r.type === AZURE_TYPES.asg);
    expect(asgs.map((a) => a.name)).toEqual(['shop-app', 'shop-db', 'shop-lb', 'shop-web']);
    expect(asgs[0]!.attributes).toEqual({ location: 'westeurope', model: 'shop' });
    const rules = rulesByName(out);
    const inWeb = rules.get('shop-in-web-from-lb-tcp-8080')!;
    expect(inWeb).toMatchObject({
      access: 'allow',
      direction: 'inbound',
      protocol: 'tcp',
      source: ['asg:shop-prod/shop-lb'],
      destination: ['asg:shop-prod/shop-web'],
      destinationPorts: ['8080'],
    });
    const outLb = rules.get('shop-out-lb-to-web-tcp-8080')!;
    expect(outLb).toMatchObject({
      direction: 'outbound',
      source: ['asg:shop-prod/shop-lb'],
      destination: ['asg:shop-prod/shop-web'],
    });
    // The internet is the Internet service tag, not 0.0.0.0/0 (trap 9).
    expect(rules.get('shop-in-lb-from-internet-tcp-443')!.source).toEqual(['Internet']);
    // Rules depend on the ASGs they name, so the engine creates ASGs first and deletes them last.
    const child = nsgOf(out).children.find((c) => c.key === 'shop-in-web-from-lb-tcp-8080')!;
    expect(child.dependsOn).toEqual([
      'azure-test.azure_application_security_group.shop-lb',
      'azure-test.azure_application_security_group.shop-web',
    ]);
  });

  it('puts guardrail denies at the lowest numbers and deny-all at 4096 in both directions', () => {
    const deny: GuardrailDeny = {
      id: 'd1',
      guardrail: 'no-remote-admin-from-internet',
      direction: 'ingress',
      segments: [],
      allSegments: true,
      peer: internet(),
      services: [tcp(22), tcp(3389)],
      origins: [{ pos: pos(50), label: 'guardrail' }],
    };
    const out = renderAzure(withDenies(shopRules([target]), [deny]), target, CTX);
    const rules = [...rulesByName(out)];
    const denies = rules.filter(([n]) => n.startsWith('shop-deny-no-remote'));
    expect(denies).toHaveLength(2);
    for (const [, a] of denies) {
      expect(a.access).toBe('deny');
      expect(a.priority).toBeGreaterThanOrEqual(DENY_BAND.from);
      expect(a.priority).toBeLessThanOrEqual(DENY_BAND.to);
      expect(a.source).toEqual(['Internet']);
    }
    const allows = rules.filter(([, a]) => a.access === 'allow' && a.priority < 4095);
    expect(Math.min(...allows.map(([, a]) => a.priority))).toBeGreaterThan(DENY_BAND.to);
    expect(rules.find(([n]) => n === 'shop-deny-all-in')![1]).toMatchObject({
      priority: 4096,
      direction: 'inbound',
      access: 'deny',
      source: ['*'],
      destination: ['*'],
    });
    expect(rules.find(([n]) => n === 'shop-deny-all-out')![1]).toMatchObject({
      priority: 4096,
      direction: 'outbound',
      access: 'deny',
    });
    // Priorities are unique per direction, as Azure requires.
    for (const dir of ['inbound', 'outbound']) {
      const ps = rules.filter(([, a]) => a.direction === dir).map(([, a]) => a.priority);
      expect(new Set(ps).size).toBe(ps.length);
    }
  });

  it('splits IPv4 and IPv6 into separate rules and renders FQDN egress as NSG pins plus a Firewall Policy rule', () => {
    const rules = ruleSet({
      name: 'shop',
      targets: [target],
      segments: ['app', 'web'],
      rules: [
        ...flow(cidrs('office', ['203.0.113.0/24'], ['2001:db8:100::/48']), seg('web'), tcp(443)),
        ...flow(seg('app'), fqdns('payment-apis', ['api.stripe.com']), tcp(443)),
      ],
    });
    const out = renderAzure(rules, target, CTX);
    const byName = rulesByName(out);
    expect(byName.get('shop-in-web-from-office-tcp-443-v4')!.source).toEqual(['203.0.113.0/24']);
    expect(byName.get('shop-in-web-from-office-tcp-443-v6')!.source).toEqual(['2001:db8:100::/48']);
    expect(byName.get('shop-out-app-to-payment-apis-tcp-443-v4')!.destination).toEqual(['192.0.2.10/32']);
    const rcg = out.find((r) => r.type === AZURE_TYPES.rcg)!;
    expect(rcg.name).toBe('shop-fqdn-egress');
    expect(rcg.children.map((c) => c.attributes)).toEqual([
      {
        protocols: ['https:443'],
        targetFqdns: ['api.stripe.com'],
        sourceAddresses: ['*'],
        description: expect.any(String),
      },
    ]);
  });

  it('fails FQDN egress without a firewall policy, saying NSGs cannot filter by name and how to configure one', () => {
    const noPolicy = emulatorTarget('azure-test', null);
    const rules = ruleSet({
      name: 'shop',
      targets: [noPolicy],
      segments: ['app'],
      rules: flow(seg('app'), fqdns('payment-apis', ['api.stripe.com']), tcp(443), 42),
    });
    const d = validateAzure(rules, noPolicy, CTX).filter((x) => x.severity === 'error');
    expect(d).toHaveLength(1);
    expect(d[0]!.code).toBe('azure-fqdn-needs-firewall-policy');
    expect(d[0]!.message).toMatch(/NSGs cannot filter by name/);
    expect(d[0]!.message).toMatch(/targets\.azure-test\.azure\.firewallPolicy/);
    expect(d[0]!.pos?.line).toBe(42);
    expect(renderAzure(rules, noPolicy, CTX).some((r) => r.type === AZURE_TYPES.rcg)).toBe(false);
  });

  it('round-trips every rendered rule through the wire form unchanged (render and read canonicalize alike)', () => {
    const out = renderAzure(bigModel(30, target), target, CTX);
    for (const c of nsgOf(out).children) {
      const wire = ruleToWire(c.key, c.attributes as RuleAttributes, '00000000-0000-0000-0000-000000000000');
      expect(ruleFromWire(wire)).toEqual(c.attributes);
    }
  });

  it('reads az CLI nulls as absent fields', () => {
    const a = ruleFromWire(
      JSON.parse(
        '{"name":"x","protocol":"*","access":"Deny","direction":"Outbound","priority":4096,"description":null,"sourcePortRange":"*","sourcePortRanges":null,"destinationPortRange":null,"destinationPortRanges":["443"],"sourceAddressPrefix":"*","sourceAddressPrefixes":[],"sourceApplicationSecurityGroups":null,"destinationAddressPrefix":null,"destinationAddressPrefixes":["10.0.0.0/8"],"destinationApplicationSecurityGroups":null}',
      ),
    );
    expect(a).toEqual({
      access: 'deny',
      direction: 'outbound',
      priority: 4096,
      protocol: '*',
      sourcePorts: ['*'],
      destinationPorts: ['443'],
      source: ['*'],
      destination: ['10.0.0.0/8'],
      description: '',
    });
  });

  it('canonicalizes what Azure returns: singular/plural, 0-65535, 80-80, Any, bare IPs, ARM id case', () => {
    const a = ruleFromWire({
      name: 'x',
      protocol: 'TCP',
      access: 'Allow',
      direction: 'Inbound',
      priority: 200,
      sourcePortRange: '0-65535',
      sourcePortRanges: [],
      destinationPortRanges: ['443-443', '80'],
      sourceAddressPrefixes: ['10.1.2.3', '10.0.0.5/8'],
      destinationApplicationSecurityGroups: [
        { id: '/subscriptions/s/resourcegroups/RG/providers/microsoft.network/applicationSecurityGroups/Shop-Web' },
      ],
    });
    expect(a).toEqual({
      access: 'allow',
      direction: 'inbound',
      priority: 200,
      protocol: 'tcp',
      sourcePorts: ['*'],
      destinationPorts: ['80', '443'],
      source: ['10.0.0.0/8', '10.1.2.3/32'],
      destination: ['asg:rg/shop-web'],
      description: '',
    });
  });

  it('orders and keeps ports as the kit does: by start then end, never merged; a malformed live range is kept so the diff shows it', () => {
    const read = (destinationPortRanges: string[], protocol = 'Udp') =>
      ruleFromWire({
        name: 'x',
        protocol,
        access: 'Allow',
        direction: 'Inbound',
        priority: 200,
        destinationPortRanges,
      });
    // The old sort compared "80-100" < "80-90" as text; the kit compares the numbers.
    expect(read(['80-100', '80-90', ' 80 - 90 ', '79']).destinationPorts).toEqual(['79', '80-90', '80-100']);
    expect(read(['443', 'http']).destinationPorts).toEqual(['443', 'http']);
    expect(read(['443', '0-65535']).destinationPorts).toEqual(['*']);
    expect(['Any', '*', 'Icmp', 'Esp', 'AH'].map((p) => read(['*'], p).protocol)).toEqual([
      '*',
      '*',
      'icmp',
      'esp',
      'ah',
    ]);
  });
});

describe('azure priority stability', () => {
  const target = emulatorTarget('azure-test');
  const base = bigModel(200, target);
  const before = rulesByName(renderAzure(base, target, CTX));

  it('places 200 flows (400 rules) deterministically inside the allow band', () => {
    expect(before.size).toBe(400 + 3);
    const again = rulesByName(renderAzure(base, target, CTX));
    expect([...again]).toEqual([...before]);
    for (const [n, a] of before) {
      if (n.startsWith('big-in-') || n.startsWith('big-out-')) {
        expect(a.priority).toBeGreaterThanOrEqual(ALLOW_BAND.from);
        expect(a.priority).toBeLessThanOrEqual(ALLOW_BAND.to);
      }
    }
  });

  it("adding one flow to a 200-flow model changes only that flow's rules", () => {
    const added = flow(seg('s3'), seg('s17'), tcp(8443), 999);
    const after = rulesByName(renderAzure(bigModel(200, target, added), target, CTX));
    const changed = [...after]
      .filter(([n, a]) => JSON.stringify(before.get(n)) !== JSON.stringify(a))
      .map(([n]) => n)
      .sort();
    expect(changed).toEqual(['big-in-s17-from-s3-tcp-8443', 'big-out-s3-to-s17-tcp-8443']);
    expect([...before.keys()].filter((n) => !after.has(n))).toEqual([]);
  });

  it('removing one flow removes only its rules', () => {
    const smaller = {
      ...base,
      rules: base.rules.filter((r) => !(r.service.kind === 'ports' && r.service.from === 1042)),
    };
    const after = rulesByName(renderAzure(smaller, target, CTX));
    const gone = [...before.keys()].filter((n) => !after.has(n)).sort();
    expect(gone).toHaveLength(2);
    expect(gone.every((n) => n.endsWith('tcp-1042'))).toBe(true);
    for (const [n, a] of after) expect(a).toEqual(before.get(n));
  });

  it('without a live state (bulkhead render), over many single additions other rules move only inside a hash cluster (rare), never by position', () => {
    let moved = 0;
    const trials = 30;
    for (let i = 0; i < trials; i++) {
      const after = rulesByName(
        renderAzure(
          bigModel(200, target, flow(seg(`s${i % 40}`), seg(`s${(i + 11) % 40}`), tcp(20000 + i))),
          target,
          CTX,
        ),
      );
      moved += [...before].filter(([n, a]) => after.get(n)?.priority !== a.priority).length;
    }
    // Positional numbering would move hundreds of rules per addition; hash placement moves almost none.
    expect(moved).toBeLessThanOrEqual(3);
  });

  it('with the live state (plan), the same 30 single additions move no other rule at all', () => {
    const live = liveStateAfter(renderAzure(base, target, CTX), [], target, 'big');
    let moved = 0;
    let added = 0;
    for (let i = 0; i < 30; i++) {
      const after = rulesByName(
        renderAzure(bigModel(200, target, flow(seg(`s${i % 40}`), seg(`s${(i + 11) % 40}`), tcp(20000 + i))), target, {
          ...CTX,
          live,
        }),
      );
      moved += [...before].filter(([n, a]) => after.get(n)?.priority !== a.priority).length;
      added += after.size - before.size;
    }
    expect(added).toBe(60);
    expect(moved).toBe(0);
  });
});

describe('azure validate', () => {
  const target = emulatorTarget('azure-test');

  it('names the NSG and the limit for rules per NSG, addresses per NSG, ASGs per NSG and priority space', () => {
    // 101 segments each reached from one CIDR entity of 40 addresses: > 1000 rules? no: 202 rules, 101 ASGs, 4040 addresses.
    const segments = Array.from({ length: 101 }, (_, i) => `s${i}`);
    const addrs = Array.from({ length: 40 }, (_, i) => `198.51.${i}.0/24`);
    const rules = ruleSet({
      name: 'm',
      targets: [target],
      segments,
      rules: segments.flatMap((s) => flow(cidrs('partners', addrs), seg(s), tcp(443))),
    });
    const codes = validateAzure(rules, target, CTX).map((d) => `${d.code}: ${d.message}`);
    expect(
      codes.some((c) => c.startsWith('azure-asgs-per-nsg') && c.includes('NSG shop-prod') && c.includes('100')),
    ).toBe(true);
    expect(codes.some((c) => c.startsWith('azure-addresses-per-nsg') && c.includes('4040') && c.includes('4000'))).toBe(
      true,
    );

    const many = ruleSet({
      name: 'm',
      targets: [target],
      segments: ['a', 'b'],
      rules: Array.from({ length: 600 }, (_, i) => flow(seg('a'), seg('b'), tcp(1 + i))).flat(),
    });
    const d2 = validateAzure(many, target, CTX).map((d) => `${d.code}: ${d.message}`);
    expect(d2.some((c) => c.startsWith('azure-rules-per-nsg') && c.includes('1203') && c.includes('1000'))).toBe(true);

    const huge = ruleSet({
      name: 'm',
      targets: [target],
      segments: ['a', 'b'],
      rules: Array.from({ length: 3900 }, (_, i) => flow(seg('a'), cidrs('x', ['10.0.0.0/8']), tcp(1 + i))).flat(),
    });
    const d3 = validateAzure(huge, target, CTX).map((d) => `${d.code}: ${d.message}`);
    expect(
      d3.some((c) => c.startsWith('azure-priority-exhausted') && c.includes('3900 outbound') && c.includes('200-4094')),
    ).toBe(true);
  });

  it('names rules as ruleName of their parts and writes summaries as ruleSummary, whatever the segment names', () => {
    // The render builds names from parts sanitized once and plan lines from cached heads and tails:
    // both must equal the plain functions, for names needing sanitizing or a hash tail too.
    const segName = fc.oneof(
      fc.stringMatching(/^[a-z][a-z0-9]{0,6}$/),
      fc.stringMatching(/^[a-z][a-z0-9 .!é_-]{0,10}[a-z]$/),
      fc.stringMatching(/^[a-z]{60,70}$/),
    );
    fc.assert(
      fc.property(
        fc.uniqueArray(segName, { minLength: 2, maxLength: 6 }),
        fc.array(fc.tuple(fc.nat(), fc.nat(), fc.integer({ min: 1, max: 65535 })), { minLength: 1, maxLength: 12 }),
        (segments, picks) => {
          const flows = picks
            .map(([a, b, port]) => [segments[a % segments.length]!, segments[b % segments.length]!, port] as const)
            .filter(([a, b]) => a !== b);
          const intents = [
            ...flows.flatMap(([a, b, port]) => flow(seg(a), seg(b), tcp(port))),
            ...flow(cidrs('office', ['203.0.113.0/24'], ['2001:db8:100::/48']), seg(segments[0]!), tcp(443)),
            ...flow(seg(segments[1]!), internet(), { kind: 'all' }),
            ...flow(seg(segments[0]!), seg(segments[1]!), { kind: 'icmp', protocol: 'icmp', type: null, code: null }),
          ];
          const rules = ruleSet({ name: 'm', targets: [target], segments, rules: intents });
          const nsg = nsgOf(renderAzure(rules, target, CTX));
          for (const c of nsg.children) expect(c.summary).toBe(ruleSummary(c.attributes as RuleAttributes));
          const names = new Set(nsg.children.map((c) => c.key));
          for (const [a, b, port] of flows) {
            expect(names).toContain(ruleName(['m', 'in', b, 'from', a, `tcp-${port}`]));
            expect(names).toContain(ruleName(['m', 'out', a, 'to', b, `tcp-${port}`]));
          }
          expect(names).toContain(ruleName(['m', 'in', segments[0]!, 'from', 'office', 'tcp-443', 'v6']));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('rejects names Azure would refuse, naming the object and the 80-character limit', () => {
    const long = 'x'.repeat(79);
    const rules = ruleSet({ name: 'shop', targets: [target], segments: [long], rules: [] });
    const d = validateAzure(rules, target, CTX).filter((x) => x.code === 'azure-name');
    expect(d).toHaveLength(1);
    expect(d[0]!.message).toContain(`shop-${long}`);
    expect(d[0]!.message).toContain('1-80 characters');
  });

  it('rejects what NSGs cannot express (SCTP, ICMP types, unbound cloud entities)', () => {
    const rules = ruleSet({
      name: 'shop',
      targets: [target],
      segments: ['a'],
      rules: [
        ...flow(internet(), seg('a'), { kind: 'ports', protocol: 'sctp', from: 1, to: 1 }),
        ...flow(internet(), seg('a'), { kind: 'icmp', protocol: 'icmp', type: 8, code: null }),
        ...flow(
          seg('a'),
          { kind: 'cloud', entity: 'storage', aws: { prefixList: 'pl-1', ipv4: [], ipv6: [] } },
          tcp(443),
        ),
      ],
    });
    expect(
      validateAzure(rules, target, CTX)
        .map((d) => d.code)
        .sort(),
    ).toEqual(['azure-entity-unbound', 'azure-unsupported-service', 'azure-unsupported-service']);
  });
  it('warns that an Icmp allow between ASGs opens ICMPv6 too, and stays quiet toward IPv4 prefixes', () => {
    const icmp = { kind: 'icmp', protocol: 'icmp', type: null, code: null } as const;
    const betweenSegments = ruleSet({
      name: 'ping',
      targets: [target],
      segments: ['a', 'b'],
      rules: flow(seg('a'), seg('b'), icmp),
    });
    const warned = validateAzure(betweenSegments, target, CTX).filter((d) => d.code === 'azure-icmp-both-families');
    // Both sides of the flow (a's outbound, b's inbound) are ASG to ASG.
    expect(warned).toHaveLength(2);
    expect(warned[0]!.message).toMatch(/also admits icmpv6/);
    const fromPrefix = ruleSet({
      name: 'ping',
      targets: [target],
      segments: ['b'],
      rules: flow(cidrs('office', ['203.0.113.0/24']), seg('b'), icmp),
    });
    expect(validateAzure(fromPrefix, target, CTX).map((d) => d.code)).not.toContain('azure-icmp-both-families');
  });
});
