import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import {
  cidrContains,
  cidrsOverlap,
  DEFAULT_INTERNAL_RANGES,
  excludeCidrs,
  internetRanges,
  isInternalCidr,
  parseCidr,
  parseFqdn,
  reachesInternet,
  sortCidrs,
} from '../../src/model/addresses.js';
import { closest, didYouMean, editDistance } from '../../src/model/suggest.js';

describe('CIDRs', () => {
  it.each([
    ['10.0.0.0/8', 'ipv4', '10.0.0.0/8'],
    ['10.1.2.3', 'ipv4', '10.1.2.3/32'],
    ['0.0.0.0/0', 'ipv4', '0.0.0.0/0'],
    ['2001:DB8:0:0::/32', 'ipv6', '2001:db8::/32'],
    ['2001:db8:0:0:1:0:0:1', 'ipv6', '2001:db8::1:0:0:1/128'],
    ['::/0', 'ipv6', '::/0'],
    ['::ffff:192.0.2.1', 'ipv6', '::ffff:192.0.2.1/128'],
  ])('%s is canonical %s %s (bare address: /32 or /128; IPv6 in RFC 5952 form)', (raw, family, cidr) => {
    expect(parseCidr(raw)).toEqual({ kind: 'ok', family, cidr });
  });

  it('reports host bits with both readings instead of guessing', () => {
    expect(parseCidr('10.0.0.5/24')).toEqual({
      kind: 'host-bits',
      family: 'ipv4',
      network: '10.0.0.0/24',
      host: '10.0.0.5/32',
    });
    expect(parseCidr('2001:db8::1/64')).toEqual({
      kind: 'host-bits',
      family: 'ipv6',
      network: '2001:db8::/64',
      host: '2001:db8::1/128',
    });
  });

  it.each(['10.0.0.0/33', '::/129', '10.1/8', 'host.example.com', '10.0.0.0/x', '300.1.1.1/32', '0x0a.0.0.0/8'])(
    'refuses %s',
    (raw) => {
      expect(parseCidr(raw).kind).toBe('error');
    },
  );

  it('refuses what the providers refuse: octal-looking octets, zone indexes; reads a dotted tail as its low 32 bits (RFC 4291)', () => {
    // Before the kit, ipaddr.js read 010 as octal 8 and ::1.2.3.4 as ::ffff:1.2.3.4.
    expect(parseCidr('010.1.2.3')).toEqual({ kind: 'error', message: expect.stringContaining('leading zeros') });
    expect(parseCidr('fe80::1%eth0').kind).toBe('error');
    expect(parseCidr('::1.2.3.4')).toEqual({ kind: 'ok', family: 'ipv6', cidr: '::102:304/128' });
    expect(parseCidr('::FFFF:C000:201')).toEqual({ kind: 'ok', family: 'ipv6', cidr: '::ffff:192.0.2.1/128' });
  });

  it('sorts numerically with IPv4 first and decides overlap and containment per family', () => {
    expect(sortCidrs(['10.0.0.0/8', '9.0.0.0/8', '2001:db8::/32', '10.0.0.0/16', '10.0.0.0/8'])).toEqual([
      '9.0.0.0/8',
      '10.0.0.0/8',
      '10.0.0.0/16',
      '2001:db8::/32',
    ]);
    expect(cidrsOverlap('10.0.0.0/8', '10.1.0.0/16')).toBe(true);
    expect(cidrsOverlap('10.1.0.0/16', '10.0.0.0/8')).toBe(true);
    expect(cidrsOverlap('10.0.0.0/8', '11.0.0.0/8')).toBe(false);
    expect(cidrsOverlap('0.0.0.0/0', '::/0')).toBe(false);
    expect(cidrContains('10.0.0.0/8', '10.1.0.0/16')).toBe(true);
    expect(cidrContains('10.1.0.0/16', '10.0.0.0/8')).toBe(false);
  });
});

describe('FQDNs', () => {
  it('lower-cases and strips the trailing dot', () => {
    expect(parseFqdn('API.Stripe.com.')).toEqual({ kind: 'ok', fqdn: 'api.stripe.com' });
  });
  it.each([
    ['*.example.com', 'fqdn-wildcard'],
    ['192.0.2.1', 'bad-fqdn'],
    ['localhost', 'bad-fqdn'],
    ['bad_-.example.com', 'bad-fqdn'],
    ['-a.example.com', 'bad-fqdn'],
  ])('refuses %s (%s)', (raw, code) => {
    const f = parseFqdn(raw);
    expect(f.kind === 'error' && f.code).toBe(code);
  });
});

describe('did you mean', () => {
  it('measures edits, with a swap of neighbours as one', () => {
    expect(editDistance('web', 'wbe')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
  });
  it('suggests close names only, best first', () => {
    expect(closest('wbe', ['web', 'db', 'app'])).toEqual(['web']);
    expect(closest('postgress', ['postgres', 'https', 'mysql'])).toEqual(['postgres']);
    expect(closest('zzz', ['web', 'db'])).toEqual([]);
    expect(didYouMean('HTTPS', ['https'])).toBe('; did you mean "https"?');
    expect(didYouMean('x', [])).toBe('');
  });
});

describe('excludeCidrs', () => {
  it('gives everything but the excluded ranges, minimal and sorted', () => {
    expect(excludeCidrs(['10.0.0.0/8'], ['10.0.0.0/9'])).toEqual(['10.128.0.0/9']);
    expect(excludeCidrs(['10.0.0.0/8'], ['10.0.0.0/8'])).toEqual([]);
    expect(excludeCidrs(['10.0.0.0/8'], ['11.0.0.0/8', '2001:db8::/32'])).toEqual(['10.0.0.0/8']);
    expect(excludeCidrs(['::/0'], ['::/1'])).toEqual(['8000::/1']);
  });

  it('partitions the base exactly: nothing excluded is kept, nothing else is lost', () => {
    const v4 = fc
      .tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 4, max: 24 }))
      .map(([a, b, len]) => {
        const [addr] = ipaddr.parseCIDR(`${a}.${b}.0.0/${len}`);
        return `${ipaddr.IPv4.networkAddressFromCIDR(`${addr.toString()}/${len}`).toString()}/${len}`;
      });
    const probe = fc.tuple(
      fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 0, max: 255 }),
    );
    fc.assert(
      fc.property(
        fc.array(v4, { maxLength: 4 }),
        fc.array(probe, { minLength: 1, maxLength: 20 }),
        (exclude, probes) => {
          const kept = excludeCidrs(['0.0.0.0/0'], exclude);
          for (const p of probes) {
            const host = `${p.join('.')}/32`;
            const inKept = kept.some((k) => cidrContains(k, host));
            const inExcluded = exclude.some((e) => cidrContains(e, host));
            expect(inKept).toBe(!inExcluded);
          }
          for (let i = 1; i < kept.length; i++) expect(cidrsOverlap(kept[i - 1]!, kept[i]!)).toBe(false);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('internal ranges and internet (one definition)', () => {
  it('defaults to RFC 1918, RFC 6598 and IPv6 ULA', () => {
    expect(DEFAULT_INTERNAL_RANGES).toEqual([
      '10.0.0.0/8',
      '100.64.0.0/10',
      '172.16.0.0/12',
      '192.168.0.0/16',
      'fc00::/7',
    ]);
  });
  it('internet is the complement of the internal ranges, per family', () => {
    const net = internetRanges();
    expect(net).toContain('11.0.0.0/8');
    expect(net).toContain('100.0.0.0/10');
    expect(net).toContain('fe00::/7');
    for (const c of DEFAULT_INTERNAL_RANGES)
      expect(
        net.some((n) => cidrsOverlap(n, c)),
        c,
      ).toBe(false);
    // Together they cover everything: nothing is left of 0.0.0.0/0 or ::/0.
    expect(excludeCidrs(['0.0.0.0/0', '::/0'], [...net, ...DEFAULT_INTERNAL_RANGES])).toEqual([]);
    expect(internetRanges(['10.0.0.0/8'])).toEqual(excludeCidrs(['0.0.0.0/0'], ['10.0.0.0/8']).concat(['::/0']));
  });
  it('says whether a CIDR is entirely internal', () => {
    expect(isInternalCidr('172.16.50.0/24')).toBe(true);
    expect(isInternalCidr('100.64.1.0/24')).toBe(true);
    expect(isInternalCidr('fd00:1::/64')).toBe(true);
    expect(isInternalCidr('203.0.113.0/24')).toBe(false);
    expect(isInternalCidr('172.0.0.0/8')).toBe(false); // partly outside
    expect(reachesInternet('172.0.0.0/8')).toBe(true);
    // Covered by two ranges together, by neither alone.
    expect(isInternalCidr('10.0.0.0/7', ['10.0.0.0/8', '11.0.0.0/8'])).toBe(true);
    expect(isInternalCidr('172.16.50.0/24', ['10.0.0.0/8'])).toBe(false);
  });
});
