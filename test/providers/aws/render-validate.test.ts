import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createAwsProvider } from '../../../providers/aws/index.js';
import { RULES_PER_GROUP_PER_DIRECTION_PER_FAMILY } from '../../../providers/aws/limits.js';
import { fqdnMaxEntries, sanitizeDescription } from '../../../providers/aws/render.js';
import { parseCidr } from '../../../src/model/addresses.js';
import {
  canonicalCidr,
  canonicalProtocol,
  childRule,
  ruleKey,
  wireProtocol,
} from '../../../providers/aws/canonical.js';
import type { PortMatch, RuleIntent } from '../../../src/compile/types.js';
import type { RenderContext } from '../../../src/provider.js';
import { awsTarget, cidrs, flow, fqdns, internet, ruleSet, seg, shopRules, tcp } from '../../helpers/rulesets.js';

const provider = createAwsProvider();
const target = awsTarget('aws-test');
const noDns: RenderContext = { resolved: new Map() };

function children(rules: ReturnType<typeof ruleSet>, ctx: RenderContext = noDns) {
  return Object.fromEntries(provider.render(rules, target, ctx).map((r) => [r.name, r.children.map((c) => c.key)]));
}

describe('render', () => {
  it('renders one group per segment, peers as SG references, internet per family, no default egress', () => {
    const out = provider.render(shopRules([target]), target, noDns);
    expect(out.map((r) => r.address)).toEqual([
      'aws-test.aws_security_group.shop-app',
      'aws-test.aws_security_group.shop-db',
      'aws-test.aws_security_group.shop-lb',
      'aws-test.aws_security_group.shop-web',
    ]);
    expect(children(shopRules([target]))).toEqual({
      'shop-app': ['egress tcp 5432-5432 sg:shop-db', 'ingress tcp 8080-8080 sg:shop-web'],
      'shop-db': ['ingress tcp 5432-5432 sg:shop-app'],
      'shop-lb': [
        'egress tcp 8080-8080 sg:shop-web',
        'ingress tcp 443-443 cidr:0.0.0.0/0',
        'ingress tcp 443-443 cidr:::/0',
      ],
      'shop-web': ['egress tcp 8080-8080 sg:shop-app', 'ingress tcp 8080-8080 sg:shop-lb'],
    });
    const db = out.find((r) => r.name === 'shop-db')!;
    expect(db.attributes).toEqual({ description: 'Bulkhead shop: segment db', owner: 'shop' });
    expect(db.children[0]!.dependsOn).toEqual(['aws-test.aws_security_group.shop-app']);
    // Descriptions name the flow, in AWS's charset (no '>').
    expect(childRule(db.children[0]!).description).toBe('shop: app to db tcp/5432');
  });

  it('renders FQDN entities as one prefix list per family of the resolved addresses', () => {
    const rules = ruleSet({
      segments: ['app'],
      rules: flow(seg('app'), fqdns('pay', ['b.example', 'a.example']), tcp(443)),
    });
    const ctx: RenderContext = {
      resolved: new Map([
        ['a.example', { ipv4: ['192.0.2.1/32', '192.0.2.2/32'], ipv6: ['2001:db8::1/128'] }],
        ['b.example', { ipv4: ['192.0.2.2/32', '192.0.2.3/32', '192.0.2.4/32', '192.0.2.5/32'], ipv6: [] }],
      ]),
    };
    const out = provider.render(rules, target, ctx);
    const v4 = out.find((r) => r.name === 'shop-pay-ipv4')!;
    expect(v4.attributes).toEqual({ addressFamily: 'IPv4', maxEntries: 8, owner: 'shop' });
    expect(v4.children.map((c) => c.key)).toEqual([
      '192.0.2.1/32',
      '192.0.2.2/32',
      '192.0.2.3/32',
      '192.0.2.4/32',
      '192.0.2.5/32',
    ]);
    expect(out.find((r) => r.name === 'shop-pay-ipv6')!.children.map((c) => c.key)).toEqual(['2001:db8::1/128']);
    expect(children(rules, ctx)['shop-app']).toEqual([
      'egress tcp 443-443 pl:shop-pay-ipv4',
      'egress tcp 443-443 pl:shop-pay-ipv6',
    ]);
  });

  it('renders cloud-bound entities through the AWS-managed prefix list, and large CIDR entities as a list', () => {
    const s3: RuleIntent['peer'] = {
      kind: 'cloud',
      entity: 'storage',
      aws: { prefixList: 'com.amazonaws.eu-west-1.s3', ipv4: [], ipv6: [] },
    };
    const many = Array.from({ length: 12 }, (_, i) => `10.${i}.0.0/16`);
    const rules = ruleSet({
      segments: ['app'],
      rules: [
        ...flow(seg('app'), s3, tcp(443)),
        ...flow(cidrs('partners', many, ['2001:db8:1::/48']), seg('app'), tcp(22)),
      ],
    });
    const out = provider.render(rules, target, noDns);
    expect(children(rules)['shop-app']).toEqual([
      'egress tcp 443-443 pl:com.amazonaws.eu-west-1.s3',
      'ingress tcp 22-22 cidr:2001:db8:1::/48',
      'ingress tcp 22-22 pl:shop-partners-ipv4',
    ]);
    expect(out.find((r) => r.name === 'shop-partners-ipv4')!.attributes['maxEntries']).toBe(12);
  });

  it('maps every port match to AWS protocol and ports', () => {
    const matches: [PortMatch, string][] = [
      [{ kind: 'all' }, 'ingress all sg:shop-b'],
      [{ kind: 'ports', protocol: 'udp', from: 53, to: 53 }, 'ingress udp 53-53 sg:shop-b'],
      [{ kind: 'icmp', protocol: 'icmp', type: 8, code: null }, 'ingress icmp 8:-1 sg:shop-b'],
      [{ kind: 'icmp', protocol: 'icmp', type: null, code: null }, 'ingress icmp -1:-1 sg:shop-b'],
      // The kit's names (were the numbers 50 and 132): the same text on every provider.
      [{ kind: 'protocol', number: 50 }, 'ingress esp sg:shop-b'],
      [{ kind: 'protocol', number: 47 }, 'ingress 47 sg:shop-b'],
      [{ kind: 'ports', protocol: 'sctp', from: 1, to: 2 }, 'ingress sctp sg:shop-b'],
    ];
    for (const [m, key] of matches) {
      const rules = ruleSet({ segments: ['a', 'b'], rules: flow(seg('b'), seg('a'), m) });
      expect(children(rules)['shop-a']).toEqual([key]);
    }
  });

  it('renders ICMP only toward its own address family, and says so', () => {
    const rules = ruleSet({
      segments: ['lb'],
      rules: flow(internet(), seg('lb'), { kind: 'icmp', protocol: 'icmp', type: 8, code: null }),
    });
    expect(children(rules)['shop-lb']).toEqual(['ingress icmp 8:-1 cidr:0.0.0.0/0']);
    expect(provider.validate(rules, target, noDns).map((d) => [d.severity, d.code])).toEqual([
      ['warning', 'aws-icmp-family'],
    ]);
  });

  it('merges intents that render to one AWS rule: every distinct flow in the description, every origin', () => {
    // AWS cannot filter SCTP ports: two SCTP flows between the same segments are one rule per side.
    const rules = ruleSet({
      targets: [target],
      segments: ['app', 'db'],
      rules: [
        ...flow(seg('app'), seg('db'), { kind: 'ports', protocol: 'sctp', from: 5, to: 6 }, 40),
        ...flow(seg('app'), seg('db'), { kind: 'ports', protocol: 'sctp', from: 1, to: 2 }, 30),
        ...flow(seg('app'), seg('db'), tcp(5432), 50),
      ],
    });
    const out = provider.render(rules, target, noDns);
    const db = out.find((r) => r.name === 'shop-db')!;
    expect(db.children.map((c) => c.key)).toEqual(['ingress sctp sg:shop-app', 'ingress tcp 5432-5432 sg:shop-app']);
    const sctp = db.children[0]!;
    expect(childRule(sctp).description).toBe('shop: app to db sctp/1-2; app to db sctp/5-6');
    expect(sctp.origins!.map((o) => o.pos.line).sort()).toEqual([30, 40]);
    expect(childRule(db.children[1]!).description).toBe('shop: app to db tcp/5432');
    const app = out.find((r) => r.name === 'shop-app')!;
    expect(app.children.map((c) => [c.key, childRule(c).description])).toEqual([
      ['egress sctp sg:shop-db', 'shop: app to db sctp/1-2; app to db sctp/5-6'],
      ['egress tcp 5432-5432 sg:shop-db', 'shop: app to db tcp/5432'],
    ]);
  });

  it('is deterministic and canonical: the same rules in any order render byte-identical output', () => {
    const base = shopRules([target]);
    fc.assert(
      fc.property(
        fc.shuffledSubarray([...base.rules], { minLength: base.rules.length, maxLength: base.rules.length }),
        (shuffled) => {
          const again = { ...base, rules: shuffled };
          expect(JSON.stringify(provider.render(again, target, noDns))).toBe(
            JSON.stringify(provider.render(base, target, noDns)),
          );
        },
      ),
      { numRuns: 25 },
    );
  });
  it('gives each FQDN prefix list the positions of the flows that use it, so drift points at them', () => {
    const rules = ruleSet({
      targets: [target],
      segments: ['app', 'web'],
      rules: [
        ...flow(seg('app'), fqdns('apis', ['api.example.com']), tcp(443), 30),
        ...flow(seg('web'), fqdns('apis', ['api.example.com']), tcp(443), 12),
        ...flow(seg('web'), seg('app'), tcp(8080), 20),
      ],
    });
    const ctx: RenderContext = { resolved: new Map([['api.example.com', { ipv4: ['192.0.2.1/32'], ipv6: [] }]]) };
    const list = provider.render(rules, target, ctx).find((r) => r.type === 'aws_managed_prefix_list')!;
    expect(list.name).toBe('shop-apis-ipv4');
    expect(list.origins!.map((o) => o.pos.line)).toEqual([12, 30]);
  });
});

describe('validate', () => {
  it('passes the shop model', () => {
    expect(provider.validate(shopRules([target]), target, noDns)).toEqual([]);
  });

  it('fails a group over 60 rules per direction and family, naming segment, count and limit', () => {
    const peers = Array.from({ length: 31 }, (_, i) => `p${String(i).padStart(2, '0')}`);
    // 31 peers × 2 port ranges = 62 ingress rules on `hub`, all references (counted as IPv4).
    const rules = ruleSet({
      segments: ['hub', ...peers],
      rules: peers.flatMap((p) => [...flow(seg(p), seg('hub'), tcp(443)), ...flow(seg(p), seg('hub'), tcp(8443))]),
    });
    const diags = provider.validate(rules, target, noDns);
    expect(diags.map((d) => d.code)).toEqual(['aws-rules-per-group']);
    expect(diags[0]!.message).toContain('segment hub needs 62 ingress IPv4 rules');
    expect(diags[0]!.message).toContain(`limit of ${RULES_PER_GROUP_PER_DIRECTION_PER_FAMILY}`);
    expect(diags[0]!.pos?.line).toBe(rules.segments.find((s) => s.name === 'hub')!.pos.line);
  });

  it('weighs a prefix list by its MaxEntries, not its size', () => {
    // 3 resolved addresses → MaxEntries 4; 15 port ranges to it = 60 weight (fits); 16 = 64 (does not).
    const ctx: RenderContext = {
      resolved: new Map([['x.example', { ipv4: ['192.0.2.1/32', '192.0.2.2/32', '192.0.2.3/32'], ipv6: [] }]]),
    };
    const make = (n: number) =>
      ruleSet({
        segments: ['app'],
        rules: Array.from({ length: n }, (_, i) => flow(seg('app'), fqdns('x', ['x.example']), tcp(1000 + i))).flat(),
      });
    expect(provider.validate(make(15), target, ctx)).toEqual([]);
    const diags = provider.validate(make(16), target, ctx);
    expect(diags.map((d) => d.code)).toEqual(['aws-rules-per-group']);
    expect(diags[0]!.message).toContain('64 egress IPv4 rules');
  });

  it('rejects names AWS does not accept and warns on unresolved FQDNs and SCTP ports', () => {
    const rules = ruleSet({
      name: 'shöp',
      segments: ['app'],
      rules: [
        ...flow(seg('app'), fqdns('gone', ['gone.example']), tcp(443)),
        ...flow(internet(), seg('app'), { kind: 'ports', protocol: 'sctp', from: 5, to: 6 }),
      ],
    });
    const diags = provider.validate(rules, target, noDns);
    expect(diags.filter((d) => d.severity === 'error').map((d) => d.code)).toContain('aws-description');
    expect(
      diags
        .filter((d) => d.severity === 'warning')
        .map((d) => d.code)
        .sort(),
    ).toEqual(['aws-fqdn-unresolved', 'aws-sctp-ports']);
  });

  it('fails a model with more groups than a Region allows', () => {
    const names = Array.from({ length: 2501 }, (_, i) => `s${i}`);
    const diags = provider.validate(ruleSet({ segments: names }), target, noDns);
    expect(diags.map((d) => d.code)).toEqual(['aws-groups-per-region']);
    expect(diags[0]!.message).toContain('2501 security groups');
  });
});

describe('helpers', () => {
  it('sanitizes descriptions into the AWS charset and 255 characters', () => {
    expect(sanitizeDescription('web -> app tcp/8080')).toBe('web to app tcp/8080');
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (s) => {
        const d = sanitizeDescription(s);
        expect(d.length).toBeLessThanOrEqual(255);
        expect(d).toMatch(/^[A-Za-z0-9 ._\-:/()#,@[\]+=&;{}!$*]*$/);
      }),
    );
  });

  it('canonicalizes CIDRs the way the compiler does', () => {
    expect(canonicalCidr('10.0.0.5/24')).toBe('10.0.0.0/24');
    expect(canonicalCidr('2001:DB8:0::/32')).toBe('2001:db8::/32');
    expect(canonicalCidr('192.0.2.7')).toBe('192.0.2.7/32');
    // The kit's text, the model's too: an IPv4-mapped range read back from EC2 in hex form keys as the model's (was ::ffff:c000:201/128).
    expect(canonicalCidr('::FFFF:C000:201/128')).toBe('::ffff:192.0.2.1/128');
    expect(canonicalCidr('::ffff:c000:201')).toBe((parseCidr('::ffff:192.0.2.1') as { cidr: string }).cidr);
    expect(() => canonicalCidr('010.1.2.3/32')).toThrow(/leading zeros/);
    expect(fqdnMaxEntries(0)).toBe(4);
    // The wire keeps what EC2 accepts: names for tcp/udp/icmp/icmpv6 only, numbers for the rest; read names them back.
    expect(['all', 'tcp', 'icmpv6', 'esp', 'sctp', '47'].map(wireProtocol)).toEqual([
      '-1',
      'tcp',
      'icmpv6',
      '50',
      '132',
      '47',
    ]);
    expect(['-1', '6', '58', '50', '132', '47', 'TCP'].map(canonicalProtocol)).toEqual([
      'all',
      'tcp',
      'icmpv6',
      'esp',
      'sctp',
      '47',
      'tcp',
    ]);
    expect(fqdnMaxEntries(5)).toBe(8);
    expect(
      ruleKey({
        direction: 'egress',
        protocol: 'all',
        fromPort: null,
        toPort: null,
        peer: { kind: 'cidr', cidr: '::/0' },
      }),
    ).toBe('egress all cidr:::/0');
  });
});
