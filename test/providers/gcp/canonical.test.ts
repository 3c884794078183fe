import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canonicalCidr,
  canonicalFirewall,
  canonicalNetwork,
  canonicalPolicyRule,
  canonicalProtocolRules,
  firewallBody,
  policyRuleBody,
} from '../../../providers/gcp/canonical.js';
import { firewallWrite } from '../../../providers/gcp/apply.js';
import { ownerOfDescription } from '../../../providers/kit/ownership.js';

describe('gcp canonical form', () => {
  it('makes server-filled defaults explicit so they never show as changes', () => {
    const sent = {
      name: 'shop-x',
      network: 'global/networks/vpc',
      allowed: [{ IPProtocol: 'TCP', ports: ['443-443'] }],
      targetTags: ['shop-lb'],
    };
    const read = {
      ...sent,
      network: 'https://www.googleapis.com/compute/v1/projects/p/global/networks/vpc',
      direction: 'INGRESS',
      priority: 1000,
      sourceRanges: ['0.0.0.0/0'],
      logConfig: { enable: false },
      disabled: false,
      description: '',
      allowed: [{ IPProtocol: '6', ports: ['443'] }],
    };
    expect(canonicalFirewall(read, 'p')).toEqual(canonicalFirewall(sent, 'p'));
    const egress = canonicalFirewall({ name: 'e', direction: 'EGRESS', denied: [{ IPProtocol: 'all' }] }, 'p');
    expect(egress.destinationRanges).toEqual(['0.0.0.0/0']);
    expect(egress.action).toBe('deny');
    expect(canonicalFirewall({ name: 'l', logConfig: { enable: true } }, 'p').logging).toBe('INCLUDE_ALL_METADATA');
  });

  it('normalizes protocols, ports, CIDRs and network references', () => {
    expect(canonicalProtocolRules([{ IPProtocol: 'tcp', ports: ['443', '80-80', '0-65535'] }])).toEqual([
      { protocol: 'tcp', ports: [] },
    ]);
    expect(
      canonicalProtocolRules([
        { IPProtocol: '17', ports: ['53'] },
        { IPProtocol: 'udp', ports: ['123', '53'] },
      ]),
    ).toEqual([{ protocol: 'udp', ports: ['53', '123'] }]);
    expect(canonicalProtocolRules([{ IPProtocol: 'icmp' }, { IPProtocol: 'all' }])).toEqual([
      { protocol: 'all', ports: [] },
    ]);
    expect(canonicalProtocolRules([{ IPProtocol: '50' }])).toEqual([{ protocol: 'esp', ports: [] }]);
    // The kit's names (58 was kept as a number), and the kit's port set (every port is Compute's empty list; junk skipped).
    expect(canonicalProtocolRules([{ IPProtocol: '58' }, { IPProtocol: 'icmp' }])).toEqual([
      { protocol: 'icmp', ports: [] },
      { protocol: 'icmpv6', ports: [] },
    ]);
    expect(canonicalProtocolRules([{ IPProtocol: 'sctp', ports: ['80-100', '80-90', 'x', '99999'] }])).toEqual([
      { protocol: 'sctp', ports: ['80-90', '80-100'] },
    ]);
    expect(
      (firewallBody(canonicalFirewall({ name: 'x', allowed: [{ IPProtocol: '58' }] }, 'p'))['allowed'] as unknown[])[0],
    ).toEqual({ IPProtocol: '58' });
    expect(
      policyRuleBody(
        canonicalPolicyRule({ priority: 1, match: { layer4Configs: [{ ipProtocol: 'ipv6-icmp' }] } }, 'p'),
      )['match'],
    ).toMatchObject({ layer4Configs: [{ ipProtocol: '58' }] });
    expect(canonicalCidr('10.1.2.3')).toBe('10.1.2.3/32');
    expect(canonicalCidr('10.1.2.3/24')).toBe('10.1.2.0/24');
    expect(canonicalCidr('2001:DB8:0::1/32')).toBe('2001:db8::/32');
    // The kit's text: a mapped range stays IPv6 as the model writes it (was folded into 192.0.2.1/32); junk is kept for display.
    expect(canonicalCidr('::FFFF:C000:201/128')).toBe('::ffff:192.0.2.1/128');
    expect(canonicalCidr(' not-a-range ')).toBe('not-a-range');
    expect(canonicalNetwork('https://www.googleapis.com/compute/beta/projects/a/global/networks/n', 'p')).toBe(
      'projects/a/global/networks/n',
    );
    expect(canonicalNetwork('global/networks/n', 'p')).toBe('projects/p/global/networks/n');
    expect(canonicalNetwork('n', 'p')).toBe('projects/p/global/networks/n');
  });

  it('reads the ownership marker only as a whole token', () => {
    expect(ownerOfDescription('app ingress [bulkhead:model=shop]')).toBe('shop');
    expect(ownerOfDescription('bulkhead:model=shop-eu')).toBe('shop-eu');
    expect(ownerOfDescription('notbulkhead:model=shop')).toBeUndefined();
    expect(ownerOfDescription(undefined)).toBeUndefined();
  });

  it('is idempotent: canonical → API body → canonical is the same (property)', () => {
    const proto = fc.constantFrom('tcp', 'udp', 'TCP', '6', '17', 'icmp', 'esp', 'all', '58');
    const port = fc
      .tuple(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 100 }))
      .map(([a, d]) => (d === 0 ? `${a}` : `${a}-${Math.min(65535, a + d)}`));
    const v4 = fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })).map(([ip, len]) => `${ip}/${len}`);
    const fw = fc.record({
      name: fc.constant('shop-x'),
      direction: fc.constantFrom('INGRESS', 'EGRESS', undefined),
      priority: fc.option(fc.integer({ min: 0, max: 65535 }), { nil: undefined }),
      allowed: fc.array(fc.record({ IPProtocol: proto, ports: fc.array(port, { maxLength: 3 }) }), {
        minLength: 1,
        maxLength: 3,
      }),
      sourceRanges: fc.array(v4, { maxLength: 3 }),
      targetTags: fc.array(fc.constantFrom('a', 'b', 'c'), { maxLength: 3 }),
      logConfig: fc.option(fc.record({ enable: fc.boolean() }), { nil: undefined }),
      disabled: fc.option(fc.boolean(), { nil: undefined }),
    });
    fc.assert(
      fc.property(fw, (f) => {
        const once = canonicalFirewall(f, 'p');
        expect(canonicalFirewall(firewallBody(once), 'p')).toEqual(once);
        expect(canonicalFirewall(firewallBody(once, 'url'), 'p')).toEqual(once);
      }),
      { numRuns: 200 },
    );
    const rule = canonicalPolicyRule(
      {
        priority: 5,
        action: 'allow',
        direction: 'EGRESS',
        match: { destFqdns: ['API.Stripe.com.'], layer4Configs: [{ ipProtocol: 'tcp', ports: ['443'] }] },
      },
      'p',
    );
    expect(rule.destFqdns).toEqual(['api.stripe.com']);
    expect(canonicalPolicyRule(policyRuleBody(rule), 'p')).toEqual(rule);
  });

  it('chooses update (PUT) where patch cannot express the change', () => {
    const base = canonicalFirewall(
      {
        name: 'x',
        allowed: [{ IPProtocol: 'tcp', ports: ['1'] }],
        sourceTags: ['a'],
        targetTags: ['t'],
        description: 'd',
      },
      'p',
    );
    expect(firewallWrite(base, base)).toEqual({ kind: 'none' });
    expect(firewallWrite(base, { ...base, rules: [{ protocol: 'tcp', ports: ['2'] }] })).toEqual({
      kind: 'patch',
      body: { allowed: [{ IPProtocol: 'tcp', ports: ['2'] }] },
    });
    expect(firewallWrite(base, { ...base, logging: 'INCLUDE_ALL_METADATA' })).toEqual({
      kind: 'patch',
      body: { logConfig: { enable: true, metadata: 'INCLUDE_ALL_METADATA' } },
    });
    // tags → service accounts: the tag lists must be cleared.
    const toSa = {
      ...base,
      sourceTags: [],
      targetTags: [],
      sourceServiceAccounts: ['a@p.iam.gserviceaccount.com'],
      targetServiceAccounts: ['t@p.iam.gserviceaccount.com'],
    };
    expect(firewallWrite(base, toSa).kind).toBe('update');
    expect(firewallWrite(base, { ...base, action: 'deny' }).kind).toBe('update');
    expect(firewallWrite(base, { ...base, description: '' }).kind).toBe('update');
  });
});
