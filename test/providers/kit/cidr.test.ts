import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { canonicalCidr, canonicalHostCidr } from '../../../providers/kit/cidr.js';

/** The canonical text, or a failure (readable in expectations). */
function text(s: string): string {
  const r = canonicalCidr(s);
  return r.ok ? r.text : `!${r.reason}`;
}

/** Zeroes the bits of `bytes` past `prefix`. */
function network(bytes: readonly number[], prefix: number): number[] {
  return bytes.map((b, i) => b & ((0xff << (8 - Math.max(0, Math.min(8, prefix - i * 8)))) & 0xff));
}

const hex4 = (bytes: readonly number[], i: number) => ((bytes[i]! << 8) | bytes[i + 1]!).toString(16);

/** One of the many spellings of an IPv6 address: full or compressed (any zero run), padded groups, any case, dotted tail. */
const ipv6Spelling = (bytes: readonly number[]) =>
  fc
    .record({
      pad: fc.boolean(),
      upper: fc.boolean(),
      dotted: fc.boolean(),
      compressAt: fc.nat(7),
      compressLen: fc.nat(8),
    })
    .map((o) => {
      let groups = Array.from({ length: 8 }, (_, g) => hex4(bytes, g * 2)).map((g) => (o.pad ? g.padStart(4, '0') : g));
      let tail = '';
      if (o.dotted) {
        tail = bytes.slice(12).join('.');
        groups = groups.slice(0, 6);
      }
      // Compress a run of zero groups starting at compressAt (only if they are all zero).
      const run = groups.slice(o.compressAt, o.compressAt + o.compressLen);
      let out: string;
      if (run.length >= 1 && run.every((g) => /^0+$/.test(g))) {
        const left = groups.slice(0, o.compressAt).join(':');
        const right = groups.slice(o.compressAt + run.length).join(':');
        out = `${left}::${right}${tail ? `${right ? ':' : ''}${tail}` : ''}`;
      } else out = groups.join(':') + (tail ? `:${tail}` : '');
      return o.upper ? out.toUpperCase() : out;
    });

const bytes4 = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 });
/** IPv6 bytes biased toward zero runs and the IPv4-mapped prefix (where the spellings disagree most). */
const bytes16 = fc.oneof(
  fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 255 })), { minLength: 16, maxLength: 16 }),
  bytes4.map((v4) => [...Array<number>(10).fill(0), 0xff, 0xff, ...v4]),
);

/** A CIDR given as (bytes, prefix) with host bits zeroed, and random spellings of it. */
const cidrSpellings = fc.oneof(
  bytes4.chain((b) =>
    fc.integer({ min: 0, max: 32 }).chain((p) => {
      const n = network(b, p);
      const addr = n.join('.');
      return fc.tuple(
        fc.constant({ bytes: n, prefix: p }),
        fc.array(fc.constantFrom(p === 32 ? addr : `${addr}/${p}`, `${addr}/${p}`, ` ${addr}/${p} `), {
          minLength: 2,
          maxLength: 4,
        }),
      );
    }),
  ),
  bytes16.chain((b) =>
    fc.integer({ min: 0, max: 128 }).chain((p) => {
      const n = network(b, p);
      return fc.tuple(
        fc.constant({ bytes: n, prefix: p }),
        fc.array(
          fc.tuple(ipv6Spelling(n), fc.boolean()).map(([s, bare]) => (p === 128 && bare ? s : `${s}/${p}`)),
          { minLength: 2, maxLength: 4 },
        ),
      );
    }),
  ),
);

describe('canonicalCidr', () => {
  it('writes an IPv4-mapped IPv6 address one way, whatever the spelling (RFC 5952 §5 dotted form, still IPv6)', () => {
    for (const s of ['::ffff:192.0.2.1', '::FFFF:C000:201', '0:0:0:0:0:ffff:c000:0201/128', '::ffff:192.0.2.1/128']) {
      expect(canonicalCidr(s)).toEqual({ ok: true, family: 'ipv6', text: '::ffff:192.0.2.1/128', prefix: 128 });
    }
    expect(text('::ffff:192.0.2.0/120')).toBe('::ffff:192.0.2.0/120');
    // A dotted tail without ffff is just the low 32 bits (ipaddr.js alone reads ::1.2.3.4 as ::ffff:1.2.3.4).
    expect(text('::1.2.3.4')).toBe('::102:304/128');
    expect(text('::0.0.0.0/2')).toBe('::/2');
    // Not folded into IPv4: the clouds keep the families (and quota buckets) apart.
    expect(text('::ffff:192.0.2.1')).not.toBe(text('192.0.2.1'));
  });

  it('makes a bare address a host and writes IPv6 in RFC 5952 form', () => {
    expect(text('10.1.2.3')).toBe('10.1.2.3/32');
    expect(text('2001:DB8:0::1')).toBe('2001:db8::1/128');
    expect(text('2001:db8:0:0:1:0:0:1/128')).toBe('2001:db8::1:0:0:1/128');
    expect(text(' 0.0.0.0/0 ')).toBe('0.0.0.0/0');
    expect(text('::/0')).toBe('::/0');
  });

  it('reports host bits with the network and the host instead of zeroing them', () => {
    const r = canonicalCidr('10.0.0.5/24');
    expect(r).toMatchObject({
      ok: false,
      reason: 'host-bits',
      family: 'ipv4',
      network: '10.0.0.0/24',
      host: '10.0.0.5/32',
    });
    expect(canonicalCidr('2001:db8::1/32')).toMatchObject({
      ok: false,
      reason: 'host-bits',
      network: '2001:db8::/32',
      host: '2001:db8::1/128',
    });
  });

  it('refuses what no cloud accepts, with a reason', () => {
    expect(text('10.1')).toBe('!legacy-ipv4');
    expect(text('0x0a.1.2.3')).toBe('!legacy-ipv4');
    expect(text('010.1.2.3')).toBe('!legacy-ipv4'); // ipaddr.js alone reads this as 8.1.2.3
    expect(text('fe80::1%eth0')).toBe('!zone-index');
    expect(text('10.0.0.0/33')).toBe('!bad-prefix');
    expect(text('::/129')).toBe('!bad-prefix');
    expect(text('10.0.0.0/x')).toBe('!bad-prefix');
    expect(text('10.0.0.0/8/9')).toBe('!bad-prefix');
    expect(text('10.0.0.0/')).toBe('!bad-prefix');
    expect(text('VirtualNetwork')).toBe('!not-an-address');
    expect(text('api.example.com/32')).toBe('!not-an-address');
    expect(text('')).toBe('!not-an-address');
  });

  it('keeps the model’s messages (src/model/addresses.ts parseCidr)', () => {
    const msg = (s: string) => {
      const r = canonicalCidr(s);
      return r.ok ? '' : r.message;
    };
    expect(msg('10.0.0.0/x')).toBe('"10.0.0.0/x": the prefix length "x" is not a number');
    expect(msg('nope/8')).toBe('"nope/8": "nope" is not an IPv4 or IPv6 address');
    expect(msg('nope')).toBe('"nope" is not an IPv4 or IPv6 address or CIDR');
    expect(msg('10.0.0.0/40')).toBe('"10.0.0.0/40": the prefix length must be 0-32');
    expect(msg('10.1')).toBe('"10.1": write IPv4 addresses as four decimal octets');
  });

  it('is idempotent: canonical(canonical(x)) = canonical(x)', () => {
    fc.assert(
      fc.property(cidrSpellings, ([, spellings]) => {
        for (const s of spellings) {
          const once = canonicalCidr(s);
          expect(once.ok).toBe(true);
          if (once.ok) expect(canonicalCidr(once.text)).toEqual(once);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('gives equal sets of addresses equal text, and different sets different text', () => {
    fc.assert(
      fc.property(cidrSpellings, cidrSpellings, ([a, as], [b, bs]) => {
        const ta = new Set(as.map(text));
        const tb = new Set(bs.map(text));
        expect(ta.size).toBe(1);
        expect(tb.size).toBe(1);
        const same =
          a.prefix === b.prefix && a.bytes.length === b.bytes.length && a.bytes.every((x, i) => x === b.bytes[i]);
        expect([...ta][0] === [...tb][0]).toBe(same);
        // The text means exactly the set it came from.
        const [addr, len] = ipaddr.parseCIDR([...ta][0]!);
        expect(len).toBe(a.prefix);
        expect(addr.toByteArray()).toEqual(a.bytes);
      }),
      { numRuns: 300 },
    );
  });

  it('reports host bits for every address with bits past its prefix, never widening silently', () => {
    fc.assert(
      fc.property(fc.oneof(bytes4, bytes16), fc.nat(128), (bytes, p0) => {
        const max = bytes.length * 8;
        const p = p0 % (max + 1);
        const n = network(bytes, p);
        if (n.every((x, i) => x === bytes[i])) return;
        const addr = ipaddr.fromByteArray(bytes).toString();
        const r = canonicalCidr(`${addr}/${p}`);
        expect(r).toMatchObject({
          ok: false,
          reason: 'host-bits',
          network: text(`${ipaddr.fromByteArray(n).toString()}/${p}`),
        });
      }),
      { numRuns: 300 },
    );
  });
});

describe('canonicalHostCidr', () => {
  it('accepts host addresses of the asked family only', () => {
    expect(canonicalHostCidr('192.0.2.1', 'ipv4')).toBe('192.0.2.1/32');
    expect(canonicalHostCidr('192.0.2.1/32', 'ipv4')).toBe('192.0.2.1/32');
    expect(canonicalHostCidr('2001:DB8::1', 'ipv6')).toBe('2001:db8::1/128');
    expect(canonicalHostCidr('192.0.2.1', 'ipv6')).toBeUndefined();
    expect(canonicalHostCidr('192.0.2.0/24', 'ipv4')).toBeUndefined();
    expect(canonicalHostCidr('garbage', 'ipv4')).toBeUndefined();
  });
});
