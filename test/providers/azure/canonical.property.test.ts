import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ruleFromWire, ruleToWire, type WireRule } from '../../../providers/azure/canonical.js';

/**
 * Whatever shape Azure (or az, or a hand edit) gives a rule, canonicalizing is idempotent through
 * the wire: read → write → read gives the same canonical rule. That is what keeps a plan right after
 * an apply empty.
 */

const port = fc.oneof(
  fc.constant('*'),
  fc.constant('0-65535'),
  fc.integer({ min: 0, max: 65535 }).map(String),
  fc
    .tuple(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 65535 }))
    .map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`),
);
const v4 = fc
  .tuple(
    fc.integer({ min: 0, max: 255 }),
    fc.integer({ min: 0, max: 255 }),
    fc.integer({ min: 0, max: 255 }),
    fc.integer({ min: 0, max: 255 }),
    fc.option(fc.integer({ min: 0, max: 32 }), { nil: undefined }),
  )
  .map(([a, b, c, d, len]) => `${a}.${b}.${c}.${d}${len === undefined ? '' : `/${len}`}`);
const v6 = fc
  .tuple(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 1, max: 128 }))
  .map(([a, b, len]) => `2001:DB8:${a.toString(16)}:0:0::${b.toString(16)}/${len}`);
const tag = fc.constantFrom('Internet', 'VirtualNetwork', 'AzureLoadBalancer', 'Storage.WestEurope', '*', 'Any');
const asg = fc.constantFrom('shop-web', 'Shop-App', 'x').map((n) => ({
  id: `/subscriptions/s/resourcegroups/RG/providers/Microsoft.Network/applicationSecurityGroups/${n}`,
}));

const side = (name: 'source' | 'destination') =>
  fc.oneof(
    tag.map((t): WireRule => ({ [`${name}AddressPrefix`]: t })),
    fc
      .array(v4, { minLength: 1, maxLength: 4 })
      .map((p): WireRule => ({ [`${name}AddressPrefixes`]: p, [`${name}AddressPrefix`]: undefined })),
    fc.array(v6, { minLength: 1, maxLength: 3 }).map((p): WireRule => ({ [`${name}AddressPrefixes`]: p })),
    asg.map((a): WireRule => ({ [`${name}ApplicationSecurityGroups`]: [a], [`${name}AddressPrefixes`]: [] })),
  );

const wire: fc.Arbitrary<WireRule> = fc
  .record({
    protocol: fc.constantFrom('Tcp', 'TCP', 'udp', 'Icmp', 'Esp', 'Ah', '*', 'Any'),
    access: fc.constantFrom('Allow', 'Deny', 'allow'),
    direction: fc.constantFrom('Inbound', 'Outbound', 'outbound'),
    priority: fc.integer({ min: 100, max: 4096 }),
    description: fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
    sourcePorts: fc.oneof(
      port.map((p) => ({ sourcePortRange: p })),
      fc.array(port, { minLength: 1, maxLength: 3 }).map((p) => ({ sourcePortRanges: p })),
    ),
    destinationPorts: fc.oneof(
      port.map((p) => ({ destinationPortRange: p })),
      fc
        .array(port, { minLength: 1, maxLength: 4 })
        .map((p) => ({ destinationPortRanges: p, destinationPortRange: undefined })),
    ),
    source: side('source'),
    destination: side('destination'),
  })
  .map(({ sourcePorts, destinationPorts, source, destination, description, ...rest }) => ({
    name: 'r',
    ...rest,
    ...(description !== undefined ? { description } : {}),
    ...sourcePorts,
    ...destinationPorts,
    ...source,
    ...destination,
  }));

describe('azure canonical form', () => {
  it('is idempotent through the wire (read → write → read)', () => {
    fc.assert(
      fc.property(wire, (w) => {
        const once = ruleFromWire(w);
        const again = ruleFromWire(ruleToWire('r', once, 's'));
        expect(again).toEqual(once);
        expect(ruleFromWire(ruleToWire('r', again, 's'))).toEqual(again);
      }),
      { numRuns: 500 },
    );
  });

  it('gives equivalent spellings one canonical rule (singular vs plural, bare IP vs /32, a-a vs a, case)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 65535 }), v4, fc.constantFrom('Tcp', 'TCP', 'tcp'), (p, ip, proto) => {
        const host = ip.replace(/\/\d+$/, '');
        const a = ruleFromWire({
          protocol: proto,
          access: 'Allow',
          direction: 'Inbound',
          priority: 300,
          sourcePortRange: '*',
          destinationPortRange: String(p),
          sourceAddressPrefix: host,
          destinationAddressPrefix: '*',
        });
        const b = ruleFromWire({
          protocol: 'Tcp',
          access: 'allow',
          direction: 'inbound',
          priority: 300,
          sourcePortRanges: ['0-65535'],
          destinationPortRanges: [`${p}-${p}`],
          sourceAddressPrefixes: [`${host}/32`],
          destinationAddressPrefix: 'Any',
          description: '',
        });
        expect(b).toEqual(a);
      }),
      { numRuns: 300 },
    );
  });
});
