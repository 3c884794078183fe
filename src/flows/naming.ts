import { UsageError } from '../errors.js';
import { DEFAULT_INTERNAL_RANGES, cidrContains, parseCidr } from '../model/addresses.js';
import type { Inventory, Workload } from './types.js';

/**
 * Who an address is, for `discover` and `audit`: the inventory's workload and the segment it
 * belongs to (`--group-by`), else an address inside or outside the internal ranges.
 */

/** How workloads are grouped into segments. */
export type GroupBy =
  /** The value of a tag (AWS, Azure) or label (GCP). */
  | { readonly kind: 'tag'; readonly key: string }
  /** The workload's current group: network tag (GCP), ASG (Azure), security group (AWS); the first when several. */
  | { readonly kind: 'group' };

/** Parses `--group-by`: `tag:KEY`, `label:KEY`, or `networkTag` (also `group`). */
export function parseGroupBy(text: string): GroupBy {
  const m = /^(tag|label):(.+)$/.exec(text);
  if (m) return { kind: 'tag', key: m[2]! };
  if (text === 'networkTag' || text === 'group') return { kind: 'group' };
  throw new UsageError(`--group-by needs tag:KEY (a tag or label of the workloads) or networkTag, not "${text}"`);
}

/** A tag value as a segment name (lower-case letters, digits, '-'; starting with a letter; at most 40 characters). */
export function segmentName(raw: string): string | undefined {
  let s = raw
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (s === '') return undefined;
  // `internet` is built in, and the entity names discovery makes start with host-/public-.
  if (!/^[a-z]/.test(s) || s === 'internet' || /^(host|public)-/.test(s)) s = `s-${s}`;
  return s.slice(0, 40).replace(/-+$/, '');
}

/** The canonical text of an address (IPv6 in RFC 5952 form), memoized by the caller's book. */
export function canonicalAddress(address: string): string {
  const p = parseCidr(address);
  if (p.kind === 'ok') return p.cidr.slice(0, p.cidr.lastIndexOf('/'));
  return address.toLowerCase();
}

/** The host CIDR of an address (`/32`, `/128`). */
export function hostCidr(address: string): string {
  const a = canonicalAddress(address);
  return `${a}/${a.includes(':') ? 128 : 32}`;
}

/** What an address is to the inventory. */
export type AddressInfo =
  /** A workload the grouping puts in a segment. */
  | { readonly kind: 'segment'; readonly segment: string; readonly workload: Workload }
  /** A workload outside every segment: no such tag, or an interface that is not a workload (NAT gateway …). */
  | { readonly kind: 'ungrouped'; readonly workload: Workload; readonly internal: boolean }
  /** An address the inventory does not know. */
  | { readonly kind: 'unknown'; readonly internal: boolean };

/** Address → workload, grouped into segments. */
export class AddressBook {
  private readonly byAddress = new Map<string, Workload>();
  private readonly memo = new Map<string, AddressInfo>();
  private readonly groupBy: GroupBy | undefined;
  private readonly segmentOf: ((w: Workload) => string | undefined) | undefined;
  private readonly internal: readonly string[];

  constructor(
    inventory: Inventory,
    options: {
      readonly groupBy?: GroupBy;
      readonly segmentOf?: (w: Workload) => string | undefined;
      readonly internalRanges?: readonly string[];
    } = {},
  ) {
    for (const w of inventory.workloads) for (const a of w.addresses) this.byAddress.set(canonicalAddress(a), w);
    this.groupBy = options.groupBy;
    this.segmentOf = options.segmentOf;
    this.internal = options.internalRanges ?? DEFAULT_INTERNAL_RANGES;
  }

  /** The segment of a workload under the grouping, if any. */
  segment(w: Workload): string | undefined {
    if (w.kind !== undefined) return undefined;
    if (this.segmentOf) return this.segmentOf(w);
    const g = this.groupBy;
    if (!g) return undefined;
    const raw = g.kind === 'tag' ? w.tags[g.key] : w.groups[0];
    return raw === undefined ? undefined : segmentName(raw);
  }

  /** True when the address is inside the internal ranges. */
  isInternal(address: string): boolean {
    const cidr = hostCidr(address);
    return this.internal.some((r) => cidr.includes(':') === r.includes(':') && cidrContains(r, cidr));
  }

  info(address: string): AddressInfo {
    let hit = this.memo.get(address);
    if (hit) return hit;
    const w = this.byAddress.get(canonicalAddress(address));
    if (w) {
      const segment = this.segment(w);
      hit =
        segment !== undefined
          ? { kind: 'segment', segment, workload: w }
          : { kind: 'ungrouped', workload: w, internal: this.isInternal(address) };
    } else hit = { kind: 'unknown', internal: this.isInternal(address) };
    this.memo.set(address, hit);
    return hit;
  }
}

/** `2026-11-01T10:00:00Z` (seconds precision) for evidence and reports. */
export function isoTime(seconds: number): string {
  return new Date(Math.round(seconds) * 1000).toISOString().replace('.000Z', 'Z');
}

/** 1,234,567 bytes → `1.2 MB` (decimal units, one decimal). */
export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}
