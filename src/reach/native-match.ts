import type { PortMatch } from '../compile/types.js';
import { cidrContains, cidrsOverlap, excludeCidrs, internetRanges } from '../model/addresses.js';
import { portMatchesOverlap } from '../model/services.js';
import { portMatchContains } from './probe.js';
import type { NativeEnd } from './native.js';

/**
 * Matching helpers every cloud evaluator shares (cloud-neutral). Two strengths: an allow must
 * cover the whole probe (`contains`), a deny closes it when it touches any of it (`overlaps`).
 * For a single address and a single port, both are the same question.
 */

/** How a rule must match: an allow admits only what it contains, a deny closes what it overlaps. */
export type MatchMode = 'contains' | 'overlaps';

/** Does a native rule's traffic (one or more PortMatches) match the probe's? */
export function serviceMatches(rule: readonly PortMatch[], probe: PortMatch, mode: MatchMode): boolean {
  return mode === 'contains'
    ? rule.some((m) => portMatchContains(m, probe))
    : rule.some((m) => portMatchesOverlap(m, probe));
}

const familyOf = (cidr: string) => (cidr.includes(':') ? 'ipv6' : 'ipv4');

const internetMemo = new Map<string, readonly string[]>();

/** `internetRanges(internal)` (src/model/addresses.ts), memoized: the address math costs milliseconds and probes ask it again and again. */
export function internetBlocks(internal?: readonly string[]): readonly string[] {
  const key = internal ? internal.join(',') : '';
  let v = internetMemo.get(key);
  if (!v) {
    if (internetMemo.size > 100) internetMemo.clear();
    v = internetRanges(internal);
    internetMemo.set(key, v);
  }
  return v;
}

const publicMemo = new Map<string, boolean>();

/**
 * Do the ranges cover every public address of a family (0.0.0.0/0, ::/0, or the complement of
 * the default internal ranges)? What an address we do not know (an unresolved FQDN) matches.
 */
export function coversEveryPublicAddress(ranges: readonly string[]): boolean {
  if (ranges.includes('0.0.0.0/0') || ranges.includes('::/0')) return true;
  const key = ranges.join(',');
  let v = publicMemo.get(key);
  if (v === undefined) {
    const v4 = ranges.filter((r) => familyOf(r) === 'ipv4');
    const v6 = ranges.filter((r) => familyOf(r) === 'ipv6');
    const pub = internetBlocks();
    const pub4 = pub.filter((r) => familyOf(r) === 'ipv4'),
      pub6 = pub.filter((r) => familyOf(r) === 'ipv6');
    v =
      (v4.length > 0 && excludeCidrs(pub4, v4).length === 0) || (v6.length > 0 && excludeCidrs(pub6, v6).length === 0);
    if (publicMemo.size > 1000) publicMemo.clear();
    publicMemo.set(key, v);
  }
  return v;
}

/** The address of an end (a segment's representative one, an external block), if known. */
export function endAddress(end: NativeEnd): string | undefined {
  return end.kind === 'segment' ? end.address : end.cidr;
}

/**
 * Do canonical ranges match an end's address? An unknown address (an FQDN entity without
 * resolved addresses) is some public address: only ranges covering every public one match it.
 */
export function rangesMatch(ranges: readonly string[], end: NativeEnd, mode: MatchMode): boolean {
  const addr = endAddress(end);
  if (addr === undefined) return end.kind === 'external' && coversEveryPublicAddress(ranges);
  const fam = familyOf(addr);
  return ranges.some((r) => familyOf(r) === fam && pair(mode, r, addr));
}

/** Is an end's address inside the ranges (all of it)? Unknown addresses are public: never inside. */
export function insideRanges(ranges: readonly string[], end: NativeEnd): boolean {
  const addr = endAddress(end);
  if (addr === undefined) return false;
  const fam = familyOf(addr);
  return ranges.some((r) => familyOf(r) === fam && pair('contains', r, addr));
}

/** Does some address of an end lie outside the ranges? Unknown addresses are public: always. */
export function outsideRanges(ranges: readonly string[], end: NativeEnd): boolean {
  const addr = endAddress(end);
  if (addr === undefined) return true;
  const key = `${addr}|${ranges.join(',')}`;
  let v = outsideMemo.get(key);
  if (v === undefined) {
    const fam = familyOf(addr);
    const own = ranges.filter((r) => familyOf(r) === fam);
    v = !own.some((r) => cidrContains(r, addr)) && excludeCidrs([addr], own).length > 0;
    if (outsideMemo.size > 10_000) outsideMemo.clear();
    outsideMemo.set(key, v);
  }
  return v;
}

const outsideMemo = new Map<string, boolean>();

const pairMemo = new Map<string, boolean>();

/** `cidrContains` / `cidrsOverlap` memoized by pair: evaluators ask the same few pairs again and again, and each parse costs microseconds. */
function pair(mode: MatchMode, range: string, addr: string): boolean {
  const key = `${mode === 'contains' ? 'c' : 'o'}${range}|${addr}`;
  let v = pairMemo.get(key);
  if (v === undefined) {
    v = mode === 'contains' ? cidrContains(range, addr) : cidrsOverlap(range, addr);
    if (pairMemo.size > 50_000) pairMemo.clear();
    pairMemo.set(key, v);
  }
  return v;
}
