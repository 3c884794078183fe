import ipaddr from 'ipaddr.js';
import { canonicalCidr } from '../../providers/kit/cidr.js';

/**
 * CIDR and FQDN parsing into canonical text (cloud-semantics "Normalization traps" 10, 11, 16):
 * a bare address becomes /32 or /128, IPv6 is RFC 5952 (lower case, compressed), FQDNs are lower
 * case without the trailing dot. Address math is ipaddr.js's.
 */

/** A parsed CIDR. */
export type CidrParse =
  | { readonly kind: 'ok'; readonly family: 'ipv4' | 'ipv6'; readonly cidr: string }
  /** Valid syntax, but the address has bits set beyond the prefix: `network` is what it would mean. */
  | { readonly kind: 'host-bits'; readonly family: 'ipv4' | 'ipv6'; readonly network: string; readonly host: string }
  | { readonly kind: 'error'; readonly message: string };

function text(addr: ipaddr.IPv4 | ipaddr.IPv6): string {
  if (addr.kind() === 'ipv4') return addr.toString();
  const v6 = addr as ipaddr.IPv6;
  // RFC 5952 §5: IPv4-mapped addresses keep the dotted quad (::ffff:192.0.2.1).
  if (v6.isIPv4MappedAddress()) return `::ffff:${v6.toIPv4Address().toString()}`;
  return v6.toRFC5952String();
}

/**
 * ipaddr.parseCIDR of a canonical CIDR, with the family told by its text. ipaddr's own tries the
 * IPv6 parser first, whose failure on an IPv4 text costs many times an IPv4 parse: that was most
 * of `internetRanges()`' ~30 ms, paid by every render and plan of a GCP or Kubernetes target
 * (issue 11.0, start-up). An IPv6 text (IPv4-mapped ones too) has a ':', an IPv4 text has none.
 */
function parseCanonical(cidr: string): [ipaddr.IPv4 | ipaddr.IPv6, number] {
  return cidr.includes(':') ? ipaddr.IPv6.parseCIDR(cidr) : ipaddr.IPv4.parseCIDR(cidr);
}

/**
 * Parses `a.b.c.d/n`, `a.b.c.d`, `x:y::/n` or `x:y::z` with the providers' one canonicalizer
 * (providers/kit/cidr.ts), so the model and every cloud agree on each text: the model's result is
 * the one a provider reads back (no perpetual diff), and what the kit refuses (octal-looking
 * octets, zone indexes) is refused here with its message.
 */
export function parseCidr(raw: string): CidrParse {
  const r = canonicalCidr(raw);
  if (r.ok) return { kind: 'ok', family: r.family, cidr: r.text };
  if (r.reason === 'host-bits') return { kind: 'host-bits', family: r.family, network: r.network, host: r.host };
  return { kind: 'error', message: r.message };
}

/** Compares canonical CIDRs of one family numerically (address, then prefix length). */
export function compareCidr(a: string, b: string): number {
  const [pa, la] = parseCanonical(a);
  const [pb, lb] = parseCanonical(b);
  if (pa.kind() !== pb.kind()) return pa.kind() === 'ipv4' ? -1 : 1;
  const ba = pa.toByteArray(),
    bb = pb.toByteArray();
  for (let i = 0; i < ba.length; i++) if (ba[i] !== bb[i]) return ba[i]! - bb[i]!;
  return la - lb;
}

/** Sorts and de-duplicates canonical CIDRs. */
export function sortCidrs(cidrs: Iterable<string>): string[] {
  return [...new Set(cidrs)].sort(compareCidr);
}

/** True when two canonical CIDRs of the same family share an address (one contains the other). */
export function cidrsOverlap(a: string, b: string): boolean {
  const [pa, la] = parseCanonical(a);
  const [pb, lb] = parseCanonical(b);
  if (pa.kind() !== pb.kind()) return false;
  return la <= lb ? pb.match(pa, la) : pa.match(pb, lb);
}

/** True when `outer` contains every address of `inner` (same family). */
export function cidrContains(outer: string, inner: string): boolean {
  const [po, lo] = parseCanonical(outer);
  const [pi, li] = parseCanonical(inner);
  return po.kind() === pi.kind() && lo <= li && pi.match(po, lo);
}

/** A parsed FQDN. */
export type FqdnParse =
  | { readonly kind: 'ok'; readonly fqdn: string }
  | { readonly kind: 'error'; readonly code: string; readonly message: string };

/** Parses an FQDN: lower case, trailing dot stripped; wildcards and IP addresses are refused. */
export function parseFqdn(raw: string): FqdnParse {
  const s = raw.trim().toLowerCase().replace(/\.$/, '');
  if (s.includes('*')) {
    return {
      kind: 'error',
      code: 'fqdn-wildcard',
      message: `"${raw}": wildcard FQDNs are not supported (the clouds' FQDN rules and DNS-resolved address lists match exact names only); list the names`,
    };
  }
  if (ipaddr.isValid(s))
    return {
      kind: 'error',
      code: 'bad-fqdn',
      message: `"${raw}" is an address, not a name: put it in a "cidrs" entity`,
    };
  if (s.length > 253 || !s.includes('.'))
    return {
      kind: 'error',
      code: 'bad-fqdn',
      message: `"${raw}" is not a fully qualified domain name (like api.example.com)`,
    };
  for (const label of s.split('.')) {
    if (!/^[a-z0-9_]([a-z0-9-]{0,61}[a-z0-9])?$/.test(label)) {
      return { kind: 'error', code: 'bad-fqdn', message: `"${raw}": "${label}" is not a valid DNS label` };
    }
  }
  return { kind: 'ok', fqdn: s };
}

/** The two halves of a CIDR (prefix + 1), as canonical text. */
function halves(cidr: string): [string, string] {
  const [addr, len] = parseCanonical(cidr);
  const bytes = addr.toByteArray();
  const hi = [...bytes];
  hi[len >> 3] = hi[len >> 3]! | (0x80 >> (len & 7));
  const make = (b: number[]) => `${text(ipaddr.fromByteArray(b))}/${len + 1}`;
  return [make(bytes), make(hi)];
}

/**
 * The addresses of `base` that are in none of `exclude`, as a sorted, minimal set of canonical
 * CIDRs (per family). For example everything but the internal ranges: the "outside" that a
 * deny of the built-in `internet` means on a cloud whose deny cannot say "except": GCP, where a
 * deny of 0.0.0.0/0 would also cut the model's own segment-to-segment flows.
 */
export function excludeCidrs(base: readonly string[], exclude: readonly string[]): string[] {
  const out: string[] = [];
  // Each range parsed once, not twice per visited half (cidrContains and cidrsOverlap parse both
  // sides): ipaddr's parsers are most of this function's time (issue 11.0, start-up).
  const ex = exclude.map(parseCanonical);
  const visit = (c: string) => {
    const [pc, lc] = parseCanonical(c);
    const kin = ex.filter(([pe]) => pe.kind() === pc.kind());
    // Some excluded range contains c: nothing of it stays.
    if (kin.some(([pe, le]) => le <= lc && pc.match(pe, le))) return;
    // No excluded range inside c either (so none overlaps it): all of it stays.
    if (!kin.some(([pe, le]) => le > lc && pe.match(pc, lc))) {
      out.push(c);
      return;
    }
    for (const h of halves(c)) visit(h);
  };
  for (const b of base) visit(b);
  return sortCidrs(out);
}

/**
 * The internal ranges a target has when its `internalRanges` does not say (DESIGN §5): RFC 1918,
 * the RFC 6598 shared address space (carrier-grade NAT, also used by VPN and peering ranges) and
 * IPv6 unique local addresses (RFC 4193). Canonical and sorted.
 */
export const DEFAULT_INTERNAL_RANGES: readonly string[] = [
  '10.0.0.0/8',
  '100.64.0.0/10',
  '172.16.0.0/12',
  '192.168.0.0/16',
  'fc00::/7',
];

/**
 * What the built-in `internet` means, for one set of internal ranges: every address outside them
 * (0.0.0.0/0 and ::/0 minus the ranges), as a sorted, minimal list of canonical CIDRs. This is the
 * one definition: guardrail checks (compile-rules.ts) and the native renderings of a deny of
 * `internet` (GCP) use it, and the README says it.
 */
export function internetRanges(internal: readonly string[] = DEFAULT_INTERNAL_RANGES): string[] {
  const v4 = internal.filter((c) => !c.includes(':'));
  const v6 = internal.filter((c) => c.includes(':'));
  return [...excludeCidrs(['0.0.0.0/0'], v4), ...excludeCidrs(['::/0'], v6)];
}

/** True when every address of the canonical `cidr` lies inside one of the `internal` ranges. */
export function isInternalCidr(cidr: string, internal: readonly string[] = DEFAULT_INTERNAL_RANGES): boolean {
  // Ranges are canonical CIDRs, so a CIDR is covered by their union exactly when one contains it
  // or it is exactly covered by several (both halves covered, recursively): excludeCidrs decides.
  return internal.some((r) => cidrContains(r, cidr)) || excludeCidrs([cidr], internal).length === 0;
}

/** True when some address of the canonical `cidr` lies outside the `internal` ranges: it overlaps `internet`. */
export function reachesInternet(cidr: string, internal: readonly string[] = DEFAULT_INTERNAL_RANGES): boolean {
  return !isInternalCidr(cidr, internal);
}

/** How messages say what `internet` means: "internet (addresses outside the internal ranges 10.0.0.0/8, …)". */
export function describeInternet(sets: readonly (readonly string[])[]): string {
  if (sets.length === 1) return `internet (addresses outside the internal ranges ${sets[0]!.join(', ')})`;
  return "internet (addresses outside each target's internal ranges)";
}
