/**
 * Canonical ports and protocols (cloud-semantics §4 traps 1-6), the one vocabulary the providers
 * translate to and from their wire forms.
 *
 * Ports: `80-80` is `80`; `*` and `0-65535` are the one "every port" token `*` (trap 4), while
 * `1-65535` stays a range (AWS stores it apart from 0-65535). A list is a sorted set: ordered by
 * start then end, duplicates dropped, `*` absorbs the rest; adjacent or overlapping ranges are
 * NOT merged (trap 6: the clouds store them as written, merging would diff forever).
 *
 * Protocols: the lower-case IANA name where one exists, else the decimal number; every spelling of
 * "all protocols" (`all`, `*`, `any`, AWS `-1`) is `all` (trap 2).
 */

/** Lowest and highest port number (16-bit field; 0 is legal on the wire though rarely meaningful). */
export const PORT_MIN = 0;
/** See PORT_MIN. */
export const PORT_MAX = 65535;

/** A canonical port range. */
export type PortRange =
  | { readonly kind: 'all' }
  | { readonly kind: 'range'; readonly from: number; readonly to: number };

/** The outcome of a port canonicalization. */
export type PortResult =
  | { readonly ok: true; readonly range: PortRange; readonly text: string }
  | { readonly ok: false; readonly message: string };

/** `*`, `80` or `80-90`. */
export function formatPortRange(r: PortRange): string {
  if (r.kind === 'all') return '*';
  return r.from === r.to ? String(r.from) : `${r.from}-${r.to}`;
}

/** A range from two numbers (AWS FromPort/ToPort): checked, `0-65535` → every port. */
export function portRange(from: number, to: number): PortResult {
  const what = `${from}-${to}`;
  if (!Number.isInteger(from) || !Number.isInteger(to) || from < PORT_MIN || to > PORT_MAX) {
    return { ok: false, message: `port range "${what}": ports are whole numbers ${PORT_MIN}-${PORT_MAX}` };
  }
  if (from > to) return { ok: false, message: `port range "${what}": the first port is above the last` };
  const range: PortRange = from === PORT_MIN && to === PORT_MAX ? { kind: 'all' } : { kind: 'range', from, to };
  return { ok: true, range, text: formatPortRange(range) };
}

/** Digits only: `+80`, `8e1` and `0x50` are not ports. Blanks around the dash are tolerated (gcloud prints none, people write them). */
const PORT_TEXT = /^\s*(\d{1,5})\s*(?:-\s*(\d{1,5})\s*)?$/;

/** Canonical text of one port spec: `*`, `80`, `80-80`, `0-65535`, ` 80 - 90 `. */
export function canonicalPortRange(text: string): PortResult {
  if (text.trim() === '*') return { ok: true, range: { kind: 'all' }, text: '*' };
  const m = PORT_TEXT.exec(text);
  if (!m) return { ok: false, message: `"${text}" is not a port, a range "from-to" or "*"` };
  const r = portRange(Number(m[1]), Number(m[2] ?? m[1]));
  return r.ok ? r : { ok: false, message: r.message.replace(/^port range "[^"]*"/, `"${text}"`) };
}

/** A canonical port list: sorted set of texts (see the file comment). Empty input means every port (GCP's empty `ports`). */
export function canonicalPortList(
  texts: readonly string[],
): { readonly ok: true; readonly texts: readonly string[] } | { readonly ok: false; readonly message: string } {
  const ranges: { from: number; to: number; text: string }[] = [];
  for (const t of texts) {
    const r = canonicalPortRange(t);
    if (!r.ok) return r;
    if (r.range.kind === 'all') return { ok: true, texts: ['*'] };
    ranges.push({ from: r.range.from, to: r.range.to, text: r.text });
  }
  if (ranges.length === 0) return { ok: true, texts: ['*'] };
  ranges.sort((a, b) => a.from - b.from || a.to - b.to);
  const out: string[] = [];
  for (const r of ranges) if (out[out.length - 1] !== r.text) out.push(r.text);
  return { ok: true, texts: out };
}

/** IANA numbers of the protocols that have a canonical name (names as AWS/GCP/Azure spell them, lower case). */
const NAMES: { readonly [n: number]: string } = {
  1: 'icmp',
  4: 'ipip',
  6: 'tcp',
  17: 'udp',
  50: 'esp',
  51: 'ah',
  58: 'icmpv6',
  132: 'sctp',
};
/** Name → number, with the spellings seen on the wire (`ipv6-icmp` is IANA's keyword for 58). */
const NUMBERS: { readonly [name: string]: number } = {
  icmp: 1,
  ipip: 4,
  tcp: 6,
  udp: 17,
  esp: 50,
  ah: 51,
  icmpv6: 58,
  'ipv6-icmp': 58,
  sctp: 132,
};
/** Every spelling of "all protocols" (trap 2): GCP `all`, Azure `*`/`Any`, AWS `-1`. */
const ALL = new Set(['all', '*', 'any', '-1']);

/** A canonical protocol: `all`, a name of NAMES, or a decimal number 0-255 as text. */
export type ProtocolResult =
  | {
      readonly ok: true;
      readonly protocol: string /** IANA number; undefined for `all`. */;
      readonly number: number | undefined;
    }
  | { readonly ok: false; readonly message: string };

/** Canonical protocol of any cloud's spelling: `TCP`, `6`, `Tcp`, `-1`, `Any`, `58`, `ipv6-icmp`. */
export function canonicalProtocol(text: string | number): ProtocolResult {
  const t = String(text).trim().toLowerCase();
  if (ALL.has(t)) return { ok: true, protocol: 'all', number: undefined };
  if (/^\d{1,3}$/.test(t)) {
    const n = Number(t);
    if (n > 255) return { ok: false, message: `protocol "${text}": IANA protocol numbers are 0-255` };
    return { ok: true, protocol: NAMES[n] ?? String(n), number: n };
  }
  const n = NUMBERS[t];
  if (n !== undefined) return { ok: true, protocol: NAMES[n]!, number: n };
  return {
    ok: false,
    message: `protocol "${text}" is not known: use tcp, udp, icmp, icmpv6, esp, ah, sctp, ipip, all or an IANA number 0-255`,
  };
}

/** True for the protocols whose rules carry ports (trap 3: the others' ports are dropped). */
export function takesPorts(protocol: string): boolean {
  return protocol === 'tcp' || protocol === 'udp' || protocol === 'sctp';
}
