import ipaddr from 'ipaddr.js';
import { boundedMemo } from '../../src/bounded-memo.js';

/**
 * The one CIDR canonicalizer (cloud-semantics §4 traps 10, 11), for the core and every provider.
 *
 * Policy, in full:
 * - A bare address is a host: `/32` (IPv4) or `/128` (IPv6).
 * - IPv4 is four decimal octets without leading zeros. ipaddr.js also accepts `10.1`, `0x0a.1.2.3`
 *   and reads `010` as octal 8; no cloud does, so those are refused, never reinterpreted.
 * - IPv6 is RFC 5952: lower case, longest zero run compressed. An IPv4-mapped address
 *   (`::ffff:0:0/96`) stays IPv6 and keeps the dotted quad (RFC 5952 §5): `::ffff:192.0.2.1/128`,
 *   whatever spelling came in (`::FFFF:C000:201`, `0:0:0:0:0:ffff:192.0.2.1`). It is NOT folded into
 *   `192.0.2.1/32`: the clouds keep the families apart (trap 9), so folding would move a rule across
 *   quota buckets and families.
 * - Zone indexes (`fe80::1%eth0`) are refused: no cloud rule can carry one.
 * - Host bits set (`10.0.0.5/24`) are reported, never silently zeroed: the result carries the
 *   `network` it would widen to and the `host` it names, and the caller decides (the model refuses,
 *   a reader of live state may accept the network and warn).
 */

/** Address family of a CIDR. */
export type CidrFamily = 'ipv4' | 'ipv6';

/** Why a text is not a canonical CIDR. */
export type CidrRefusal = 'not-an-address' | 'bad-prefix' | 'legacy-ipv4' | 'zone-index';

/** The outcome of `canonicalCidr`. */
export type CidrResult =
  /** A canonical CIDR: `text` is `<address>/<prefix>`. */
  | { readonly ok: true; readonly family: CidrFamily; readonly text: string; readonly prefix: number }
  /** Valid syntax, but bits are set beyond the prefix: `network` is what it would mean, `host` what it names. */
  | {
      readonly ok: false;
      readonly reason: 'host-bits';
      readonly family: CidrFamily;
      readonly network: string;
      readonly host: string;
      readonly message: string;
    }
  /** Not a CIDR at all (`not-an-address` may be a name: a service tag, an FQDN). */
  | { readonly ok: false; readonly reason: CidrRefusal; readonly message: string };

/** Canonical text of an address (no prefix), per the policy above. */
function addressText(addr: ipaddr.IPv4 | ipaddr.IPv6): string {
  if (addr.kind() === 'ipv4') return addr.toString();
  const v6 = addr as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return `::ffff:${v6.toIPv4Address().toString()}`;
  return v6.toRFC5952String();
}

/**
 * An IPv6 text with its dotted IPv4 tail (`::1.2.3.4`, `::ffff:1.2.3.4`) rewritten as two hex
 * groups, because ipaddr.js reads `::1.2.3.4` as `::ffff:1.2.3.4`, a different address (RFC 4291
 * §2.5.5: the tail is just the low 32 bits). Undefined when the tail is not four decimal octets.
 */
function hexTail(text: string): string | undefined {
  const m = /^(.*:)([^:]*\.[^:]*)$/.exec(text);
  if (!m) return text;
  if (!ipaddr.IPv4.isValidFourPartDecimal(m[2]!)) return undefined;
  const [a, b, c, d] = ipaddr.IPv4.parse(m[2]!).octets as [number, number, number, number];
  return `${m[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
}

/** Longest decimal prefix length we read (`/0128` would be a typo, not a prefix). */
const PREFIX_DIGITS = /^\d{1,3}$/;

function parse(raw: string): CidrResult {
  const s = raw.trim();
  const slash = s.indexOf('/');
  const addrText = slash === -1 ? s : s.slice(0, slash);
  const prefixText = slash === -1 ? undefined : s.slice(slash + 1);
  if (addrText.includes('%'))
    return { ok: false, reason: 'zone-index', message: `"${raw}": zone indexes (%…) cannot appear in a cloud rule` };
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  const v6Text = hexTail(addrText);
  // Choose the family by syntax first: ipaddr.parse tries IPv6 and throws for every IPv4 text.
  if (ipaddr.IPv4.isValidFourPartDecimal(addrText)) addr = ipaddr.IPv4.parse(addrText);
  else if (v6Text !== undefined && ipaddr.IPv6.isValid(v6Text)) addr = ipaddr.IPv6.parse(v6Text);
  else if (ipaddr.IPv4.isValid(addrText)) {
    const message = /^\d+\.\d+\.\d+\.\d+$/.test(addrText)
      ? `"${raw}": write IPv4 addresses as four decimal octets without leading zeros (010 would be read as octal 8)`
      : `"${raw}": write IPv4 addresses as four decimal octets`;
    return { ok: false, reason: 'legacy-ipv4', message };
  } else if (prefixText === undefined) {
    return { ok: false, reason: 'not-an-address', message: `"${raw}" is not an IPv4 or IPv6 address or CIDR` };
  } else {
    return { ok: false, reason: 'not-an-address', message: `"${raw}": "${addrText}" is not an IPv4 or IPv6 address` };
  }
  const family: CidrFamily = addr.kind() === 'ipv6' ? 'ipv6' : 'ipv4';
  const max = family === 'ipv6' ? 128 : 32;
  let prefix = max;
  if (prefixText !== undefined) {
    if (!PREFIX_DIGITS.test(prefixText))
      return {
        ok: false,
        reason: 'bad-prefix',
        message: `"${raw}": the prefix length "${prefixText}" is not a number`,
      };
    prefix = Number(prefixText);
    if (prefix > max)
      return { ok: false, reason: 'bad-prefix', message: `"${raw}": the prefix length must be 0-${max}` };
  }
  const bytes = addr.toByteArray();
  const net = bytes.map((b, i) => {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    return b & ((0xff << (8 - keep)) & 0xff);
  });
  const network = ipaddr.fromByteArray(net);
  const text = `${addressText(network)}/${prefix}`;
  if (net.some((b, i) => b !== bytes[i])) {
    return {
      ok: false,
      reason: 'host-bits',
      family,
      network: text,
      host: `${addressText(addr)}/${max}`,
      message: `"${raw}" has host bits set: the network is ${text}, the host ${addressText(addr)}/${max}`,
    };
  }
  return { ok: true, family, text, prefix };
}

/**
 * Canonical CIDR of a text (see the policy at the top of this file). Pure and memoized: render
 * canonicalizes the same few ranges thousands of times and one parse costs microseconds; the
 * bound (10,000 texts) keeps a huge live state from growing the cache without limit.
 */
export const canonicalCidr: (text: string) => CidrResult = boundedMemo(parse, 10_000);

/**
 * The host CIDR (`/32`, `/128`) of a resolved address of `family`, or undefined when the text is
 * not one (what FQDN resolution needs: src/resolve.ts `hostCidr`). `1.2.3.4/32` is accepted too.
 */
export function canonicalHostCidr(address: string, family: CidrFamily): string | undefined {
  const r = canonicalCidr(address);
  return r.ok && r.family === family && r.prefix === (family === 'ipv4' ? 32 : 128) ? r.text : undefined;
}
