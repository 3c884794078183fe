import { boundedMemo } from '../bounded-memo.js';
import type { PortMatch } from '../compile/types.js';

/**
 * The service syntax of the model, parsed into canonical `PortMatch`es:
 *
 *   tcp/443   tcp/9000-9010   udp/53   sctp/3868   tcp (= tcp/0-65535)   all
 *   icmp   icmp/8 (type)   icmp/3/4 (type/code)   icmpv6   icmpv6/128
 *   esp   ah   gre   any IANA protocol number 0-255 (6 = tcp, 17 = udp, 1 = icmp, 58 = icmpv6, 132 = sctp)
 *
 * Protocol names are case-insensitive and become lower case. Anything else is a service name.
 */

/** Protocols without ports, by IANA name. */
export const NAMED_PROTOCOLS: Readonly<Record<string, number>> = { esp: 50, ah: 51, gre: 47 };
/** Protocols that carry port ranges. */
export const PORT_PROTOCOLS = ['tcp', 'udp', 'sctp'] as const;
/** Every protocol keyword of the syntax (for "did you mean"). */
export const PROTOCOL_KEYWORDS: readonly string[] = [
  'all',
  ...PORT_PROTOCOLS,
  'icmp',
  'icmpv6',
  ...Object.keys(NAMED_PROTOCOLS),
];

/** Parse outcome of one service item. */
export type ServiceParse =
  | { readonly kind: 'match'; readonly match: PortMatch }
  /** Not literal syntax: look it up as a service name. */
  | { readonly kind: 'name'; readonly name: string }
  | { readonly kind: 'error'; readonly code: string; readonly message: string };

const fail = (code: string, message: string): ServiceParse => ({ kind: 'error', code, message });

function parsePort(text: string, item: string): number | ServiceParse {
  if (!/^\d+$/.test(text)) return fail('bad-port', `"${item}": "${text}" is not a port number (0-65535)`);
  const n = Number(text);
  if (n > 65535) return fail('bad-port', `"${item}": port ${n} is out of range (0-65535)`);
  return n;
}

/** Canonical PortMatch of a protocol number (names where IANA has one we model). */
export function protocolNumberMatch(n: number): PortMatch {
  switch (n) {
    case 6:
      return { kind: 'ports', protocol: 'tcp', from: 0, to: 65535 };
    case 17:
      return { kind: 'ports', protocol: 'udp', from: 0, to: 65535 };
    case 132:
      return { kind: 'ports', protocol: 'sctp', from: 0, to: 65535 };
    case 1:
      return { kind: 'icmp', protocol: 'icmp', type: null, code: null };
    case 58:
      return { kind: 'icmp', protocol: 'icmpv6', type: null, code: null };
    default:
      return { kind: 'protocol', number: n };
  }
}

/**
 * Parses one service item (a YAML string or number). Results are immutable and memoized: a large
 * model writes the same few services tens of thousands of times (the same object for the same
 * text; the cache is emptied when it holds 10,000 texts).
 */
export const parseService: (raw: string | number) => ServiceParse = boundedMemo(parseServiceText, 10_000);

function parseServiceText(raw: string | number): ServiceParse {
  if (typeof raw === 'number') {
    if (!Number.isInteger(raw) || raw < 0 || raw > 255) {
      return fail(
        'bad-protocol',
        `protocol number ${raw} is out of range (0-255); for a port write tcp/${raw} or udp/${raw}`,
      );
    }
    return { kind: 'match', match: protocolNumberMatch(raw) };
  }
  const item = raw.trim();
  if (item === '') return fail('bad-service', 'empty service');
  if (/[\s,;]/.test(item)) {
    const parts = item.split(/[\s,;]+/).filter(Boolean);
    return fail('bad-service', `"${item}" holds several services: write a list, [${parts.join(', ')}]`);
  }
  const parts = item.split('/');
  const proto = parts[0]!.toLowerCase();
  const rest = parts.slice(1);
  if (/^\d+$/.test(proto)) {
    const n = Number(proto);
    if (n > 255)
      return fail(
        'bad-protocol',
        `"${item}": protocol number ${n} is out of range (0-255); for a port write tcp/${n} or udp/${n}`,
      );
    if (rest.length > 0) {
      const m = protocolNumberMatch(n);
      if (m.kind !== 'ports' && m.kind !== 'icmp') return fail('bad-service', `"${item}": protocol ${n} has no ports`);
      return parseService([m.protocol, ...rest].join('/'));
    }
    return { kind: 'match', match: protocolNumberMatch(n) };
  }
  if (proto === 'all' || proto === 'any' || proto === '*') {
    if (rest.length > 0) return fail('bad-service', `"${item}": "all" takes no ports`);
    return { kind: 'match', match: { kind: 'all' } };
  }
  if ((PORT_PROTOCOLS as readonly string[]).includes(proto)) {
    const protocol = proto as (typeof PORT_PROTOCOLS)[number];
    if (rest.length === 0) return { kind: 'match', match: { kind: 'ports', protocol, from: 0, to: 65535 } };
    if (rest.length > 1) return fail('bad-service', `"${item}": write ${protocol}/PORT or ${protocol}/FROM-TO`);
    const spec = rest[0]!;
    const range = spec.split('-');
    if (range.length > 2 || spec === '')
      return fail('bad-port', `"${item}": "${spec}" is not a port or a FROM-TO range`);
    const from = parsePort(range[0]!, item);
    if (typeof from !== 'number') return from;
    const to = range.length === 2 ? parsePort(range[1]!, item) : from;
    if (typeof to !== 'number') return to;
    if (from > to)
      return fail(
        'bad-port-range',
        `"${item}": the range ${from}-${to} is reversed; did you mean ${protocol}/${to}-${from}?`,
      );
    return { kind: 'match', match: { kind: 'ports', protocol, from, to } };
  }
  if (proto === 'icmp' || proto === 'icmpv6') {
    if (rest.length > 2) return fail('bad-icmp', `"${item}": write ${proto}, ${proto}/TYPE or ${proto}/TYPE/CODE`);
    const nums: number[] = [];
    for (const [i, t] of rest.entries()) {
      const what = i === 0 ? 'type' : 'code';
      if (!/^\d+$/.test(t) || Number(t) > 255)
        return fail('bad-icmp', `"${item}": ICMP ${what} "${t}" must be a number 0-255`);
      nums.push(Number(t));
    }
    return { kind: 'match', match: { kind: 'icmp', protocol: proto, type: nums[0] ?? null, code: nums[1] ?? null } };
  }
  if (proto in NAMED_PROTOCOLS) {
    if (rest.length > 0) return fail('bad-service', `"${item}": ${proto} has no ports (write just "${proto}")`);
    return { kind: 'match', match: { kind: 'protocol', number: NAMED_PROTOCOLS[proto]! } };
  }
  if (rest.length > 0)
    return { kind: 'error', code: 'bad-protocol', message: `"${item}": unknown protocol "${parts[0]}"` };
  return { kind: 'name', name: item };
}

/** The canonical text of a match, in the model's own syntax (`tcp/443`, `icmp/3/4`, `all`, `esp`). */
export function formatPortMatch(m: PortMatch): string {
  switch (m.kind) {
    case 'all':
      return 'all';
    case 'ports':
      return m.from === m.to
        ? `${m.protocol}/${m.from}`
        : m.from === 0 && m.to === 65535
          ? m.protocol
          : `${m.protocol}/${m.from}-${m.to}`;
    case 'icmp':
      return m.type === null
        ? m.protocol
        : m.code === null
          ? `${m.protocol}/${m.type}`
          : `${m.protocol}/${m.type}/${m.code}`;
    case 'protocol': {
      const name = Object.entries(NAMED_PROTOCOLS).find(([, n]) => n === m.number)?.[0];
      return name ?? String(m.number);
    }
  }
}

/** A total order on matches, for sorted output: all, ports (tcp, udp, sctp), icmp, icmpv6, protocol numbers. */
export function comparePortMatch(a: PortMatch, b: PortMatch): number {
  const rank = (m: PortMatch): number =>
    m.kind === 'all'
      ? 0
      : m.kind === 'ports'
        ? 1 + PORT_PROTOCOLS.indexOf(m.protocol)
        : m.kind === 'icmp'
          ? m.protocol === 'icmp'
            ? 10
            : 11
          : 20;
  const ra = rank(a),
    rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (a.kind === 'ports' && b.kind === 'ports') return a.from - b.from || a.to - b.to;
  if (a.kind === 'icmp' && b.kind === 'icmp') return (a.type ?? -1) - (b.type ?? -1) || (a.code ?? -1) - (b.code ?? -1);
  if (a.kind === 'protocol' && b.kind === 'protocol') return a.number - b.number;
  return 0;
}

/** True when some packet matches both (port ranges intersect, ICMP types agree, `all` matches everything). */
export function portMatchesOverlap(a: PortMatch, b: PortMatch): boolean {
  if (a.kind === 'all' || b.kind === 'all') return true;
  if (a.kind === 'ports' && b.kind === 'ports') return a.protocol === b.protocol && a.from <= b.to && b.from <= a.to;
  if (a.kind === 'icmp' && b.kind === 'icmp') {
    if (a.protocol !== b.protocol) return false;
    if (a.type === null || b.type === null) return true;
    if (a.type !== b.type) return false;
    return a.code === null || b.code === null || a.code === b.code;
  }
  if (a.kind === 'protocol' && b.kind === 'protocol') return a.number === b.number;
  return false;
}
