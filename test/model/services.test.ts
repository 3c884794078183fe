import { describe, expect, it } from 'vitest';
import type { PortMatch } from '../../src/compile/types.js';
import { comparePortMatch, formatPortMatch, parseService, portMatchesOverlap } from '../../src/model/services.js';

const match = (raw: string | number): PortMatch => {
  const p = parseService(raw);
  if (p.kind !== 'match') throw new Error(`${raw}: ${JSON.stringify(p)}`);
  return p.match;
};

describe('service syntax', () => {
  it.each([
    ['tcp/443', { kind: 'ports', protocol: 'tcp', from: 443, to: 443 }],
    ['tcp/9000-9010', { kind: 'ports', protocol: 'tcp', from: 9000, to: 9010 }],
    ['udp/53', { kind: 'ports', protocol: 'udp', from: 53, to: 53 }],
    ['tcp', { kind: 'ports', protocol: 'tcp', from: 0, to: 65535 }],
    ['tcp/1-65535', { kind: 'ports', protocol: 'tcp', from: 1, to: 65535 }],
    ['sctp/3868', { kind: 'ports', protocol: 'sctp', from: 3868, to: 3868 }],
    ['TCP/443', { kind: 'ports', protocol: 'tcp', from: 443, to: 443 }],
    ['icmp', { kind: 'icmp', protocol: 'icmp', type: null, code: null }],
    ['icmp/8', { kind: 'icmp', protocol: 'icmp', type: 8, code: null }],
    ['icmp/3/4', { kind: 'icmp', protocol: 'icmp', type: 3, code: 4 }],
    ['icmpv6/128', { kind: 'icmp', protocol: 'icmpv6', type: 128, code: null }],
    ['all', { kind: 'all' }],
    ['any', { kind: 'all' }],
    ['esp', { kind: 'protocol', number: 50 }],
    ['ah', { kind: 'protocol', number: 51 }],
    ['gre', { kind: 'protocol', number: 47 }],
    [47, { kind: 'protocol', number: 47 }],
    ['6/443', { kind: 'ports', protocol: 'tcp', from: 443, to: 443 }],
    [6, { kind: 'ports', protocol: 'tcp', from: 0, to: 65535 }],
    [17, { kind: 'ports', protocol: 'udp', from: 0, to: 65535 }],
    [1, { kind: 'icmp', protocol: 'icmp', type: null, code: null }],
    [58, { kind: 'icmp', protocol: 'icmpv6', type: null, code: null }],
  ] as const)('%s is canonical', (raw, expected) => {
    expect(match(raw)).toEqual(expected);
  });

  it.each([
    ['tcp/65536', 'bad-port'],
    ['tcp/x', 'bad-port'],
    ['tcp/', 'bad-port'],
    ['tcp/5-1', 'bad-port-range'],
    ['foo/1', 'bad-protocol'],
    ['icmp/256', 'bad-icmp'],
    ['icmp/1/2/3', 'bad-icmp'],
    ['esp/1', 'bad-service'],
    ['all/1', 'bad-service'],
    ['tcp/443 udp/53', 'bad-service'],
    [300, 'bad-protocol'],
  ] as const)('%s is refused (%s)', (raw, code) => {
    const p = parseService(raw);
    expect(p.kind === 'error' && p.code).toBe(code);
  });

  it('treats anything else as a service name', () => {
    expect(parseService('https')).toEqual({ kind: 'name', name: 'https' });
  });

  it('formats back to the model syntax', () => {
    for (const s of [
      'tcp/443',
      'tcp/9000-9010',
      'tcp',
      'udp/53',
      'icmp',
      'icmp/8',
      'icmp/3/4',
      'icmpv6',
      'all',
      'esp',
      '99',
      'tcp/1-65535',
    ]) {
      expect(formatPortMatch(match(s))).toBe(s);
    }
  });

  it('decides overlap by protocol, range and ICMP type/code', () => {
    const o = (a: string, b: string) => portMatchesOverlap(match(a), match(b));
    expect(o('tcp', 'tcp/22')).toBe(true);
    expect(o('tcp/20-30', 'tcp/22')).toBe(true);
    expect(o('tcp/23-30', 'tcp/22')).toBe(false);
    expect(o('udp/22', 'tcp/22')).toBe(false);
    expect(o('all', 'esp')).toBe(true);
    expect(o('icmp', 'icmp/3/4')).toBe(true);
    expect(o('icmp/3', 'icmp/3/4')).toBe(true);
    expect(o('icmp/3/1', 'icmp/3/4')).toBe(false);
    expect(o('icmp', 'icmpv6')).toBe(false);
    expect(o('esp', 'ah')).toBe(false);
  });

  it('sorts matches into a total order', () => {
    const items = ['esp', 'icmpv6', 'udp/53', 'tcp/443', 'all', 'tcp/22', 'icmp/8', 'icmp'].map(match);
    expect(items.sort(comparePortMatch).map(formatPortMatch)).toEqual([
      'all',
      'tcp/22',
      'tcp/443',
      'udp/53',
      'icmp',
      'icmp/8',
      'icmpv6',
      'esp',
    ]);
  });
});
