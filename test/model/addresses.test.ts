import { describe, expect, it } from 'vitest';
import { cidrContains, cidrsOverlap, parseCidr, parseFqdn, sortCidrs } from '../../src/model/addresses.js';
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
    expect(parseCidr('10.0.0.5/24')).toEqual({ kind: 'host-bits', family: 'ipv4', network: '10.0.0.0/24', host: '10.0.0.5/32' });
    expect(parseCidr('2001:db8::1/64')).toEqual({ kind: 'host-bits', family: 'ipv6', network: '2001:db8::/64', host: '2001:db8::1/128' });
  });

  it.each(['10.0.0.0/33', '::/129', '10.1/8', 'host.example.com', '10.0.0.0/x', '300.1.1.1/32', '0x0a.0.0.0/8'])('refuses %s', (raw) => {
    expect(parseCidr(raw).kind).toBe('error');
  });

  it('sorts numerically with IPv4 first and decides overlap and containment per family', () => {
    expect(sortCidrs(['10.0.0.0/8', '9.0.0.0/8', '2001:db8::/32', '10.0.0.0/16', '10.0.0.0/8'])).toEqual(['9.0.0.0/8', '10.0.0.0/8', '10.0.0.0/16', '2001:db8::/32']);
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
