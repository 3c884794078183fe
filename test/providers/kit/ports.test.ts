import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canonicalPortList,
  canonicalPortRange,
  canonicalProtocol,
  portRange,
  takesPorts,
} from '../../../providers/kit/ports.js';

const t = (s: string) => {
  const r = canonicalPortRange(s);
  return r.ok ? r.text : `!${r.message}`;
};

describe('canonicalPortRange', () => {
  it('writes one port one way and every port as *', () => {
    expect(t('80')).toBe('80');
    expect(t('80-80')).toBe('80');
    expect(t(' 80 - 90 ')).toBe('80-90');
    expect(t('080')).toBe('80');
    expect(t('*')).toBe('*');
    expect(t('0-65535')).toBe('*');
    // AWS stores 1-65535 apart from 0-65535 (trap 4): not "every port".
    expect(t('1-65535')).toBe('1-65535');
    expect(t('0')).toBe('0');
  });

  it('refuses what is not a port range', () => {
    for (const bad of ['90-80', '65536', '0-65536', '-1', '+80', '8e1', '0x50', '80,81', '', 'http', '123456'])
      expect(t(bad)).toMatch(/^!/);
    expect(portRange(1.5, 2).ok).toBe(false);
    expect(portRange(0, 65535)).toEqual({ ok: true, range: { kind: 'all' }, text: '*' });
  });

  it('is idempotent and equal ranges get equal text', () => {
    const spelling = fc.integer({ min: 0, max: 65535 }).chain((a) =>
      fc.integer({ min: a, max: 65535 }).chain((b) => {
        const forms = [`${a}-${b}`, ` ${a} - ${b}`, `${String(a).padStart(5, '0')}-${b}`];
        if (a === b) forms.push(String(a));
        if (a === 0 && b === 65535) forms.push('*');
        return fc.tuple(fc.constant([a, b] as const), fc.constantFrom(...forms), fc.constantFrom(...forms));
      }),
    );
    fc.assert(
      fc.property(spelling, ([[a, b], x, y]) => {
        expect(t(x)).toBe(t(y));
        expect(t(t(x))).toBe(t(x));
        expect(t(x)).toBe(a === 0 && b === 65535 ? '*' : a === b ? String(a) : `${a}-${b}`);
      }),
      { numRuns: 200 },
    );
  });
});

describe('canonicalPortList', () => {
  it('is a sorted set without merging, * absorbing the rest', () => {
    expect(canonicalPortList(['443', '80', '80-80', '8080-8090'])).toEqual({
      ok: true,
      texts: ['80', '443', '8080-8090'],
    });
    expect(canonicalPortList(['80-81', '82'])).toEqual({ ok: true, texts: ['80-81', '82'] });
    expect(canonicalPortList(['80', '0-65535'])).toEqual({ ok: true, texts: ['*'] });
    expect(canonicalPortList([])).toEqual({ ok: true, texts: ['*'] });
    expect(canonicalPortList(['80', 'x']).ok).toBe(false);
  });

  it('does not depend on the order or repetition of the input', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 2000 }), fc.nat(5)), { maxLength: 8 }), (pairs) => {
        const texts = pairs.map(([a, d]) => `${a}-${a + d}`);
        const a = canonicalPortList(texts);
        const b = canonicalPortList([...texts].reverse().concat(texts));
        expect(a).toEqual(b);
        if (a.ok) expect(canonicalPortList(a.texts)).toEqual(a);
      }),
      { numRuns: 200 },
    );
  });
});

describe('canonicalProtocol', () => {
  it('maps every cloud spelling to the IANA name, else the number; every "all" to all', () => {
    const p = (s: string | number) => {
      const r = canonicalProtocol(s);
      return r.ok ? r.protocol : '!';
    };
    expect(['tcp', 'TCP', 'Tcp', '6', 6].map(p)).toEqual(['tcp', 'tcp', 'tcp', 'tcp', 'tcp']);
    expect(['17', 'Udp'].map(p)).toEqual(['udp', 'udp']);
    expect(['1', 'ICMP'].map(p)).toEqual(['icmp', 'icmp']);
    expect(['58', 'icmpv6', 'ipv6-icmp'].map(p)).toEqual(['icmpv6', 'icmpv6', 'icmpv6']);
    expect(['50', '51', '132', '4'].map(p)).toEqual(['esp', 'ah', 'sctp', 'ipip']);
    expect(['all', '*', 'Any', '-1'].map(p)).toEqual(['all', 'all', 'all', 'all']);
    expect(['47', '0'].map(p)).toEqual(['47', '0']);
    expect(['256', 'gre', '', '1.5'].map(p)).toEqual(['!', '!', '!', '!']);
  });

  it('is idempotent over every protocol number', () => {
    for (let n = 0; n <= 255; n++) {
      const r = canonicalProtocol(n);
      expect(r.ok).toBe(true);
      if (r.ok) expect(canonicalProtocol(r.protocol)).toEqual(r);
    }
  });

  it('says which protocols carry ports', () => {
    expect(['tcp', 'udp', 'sctp', 'icmp', 'all', '47'].map(takesPorts)).toEqual([
      true,
      true,
      true,
      false,
      false,
      false,
    ]);
  });
});
