import type { SegmentSpec } from '../../src/compile/types.js';
import type { AzureTargetConfig } from './target.js';

/**
 * Which NSG carries which segment's rules. A target names one NSG (`nsg`, every segment's rules in
 * it) or several (`nsgs: { <nsg>: [segment | tier:<tier> | tier name] }`, each segment in exactly
 * one; model validation checks that, target.ts `checkTarget`). The NSGs sit on the segments'
 * subnets, so a segment's inbound and outbound rules both live in its own NSG. Pure.
 */

/** The prefix of a tier in an `nsgs` list, as elsewhere in the model (`tier:web`). */
export const TIER_PREFIX = 'tier:';

/** The NSG names of a target: the one `nsg`, or the keys of `nsgs` sorted. */
export function targetNsgs(cfg: AzureTargetConfig): readonly string[] {
  if (cfg.nsgs === undefined) return cfg.nsg === undefined ? [] : [cfg.nsg];
  return Object.keys(cfg.nsgs).sort();
}

/** True when the target spreads its segments over several NSGs (the `nsgs` form). */
export function hasNsgMap(cfg: AzureTargetConfig): boolean {
  return cfg.nsgs !== undefined;
}

/**
 * What an `nsgs` list item stands for: a segment, or a tier's segments. `segments` and `tiers`
 * are the model's; a bare name is a segment when one has it, else a tier (model validation
 * refuses a bare name that is both, so render never has to choose).
 */
export function resolveNsgMember(
  item: string,
  segments: ReadonlySet<string> | ReadonlyMap<string, unknown>,
  tiers: ReadonlyMap<string, readonly string[]>,
):
  | { readonly kind: 'segment'; readonly segments: readonly string[] }
  | { readonly kind: 'tier'; readonly segments: readonly string[] }
  | { readonly kind: 'unknown' } {
  if (item.startsWith(TIER_PREFIX)) {
    const t = tiers.get(item.slice(TIER_PREFIX.length));
    return t ? { kind: 'tier', segments: t } : { kind: 'unknown' };
  }
  if (segments.has(item)) return { kind: 'segment', segments: [item] };
  const t = tiers.get(item);
  return t ? { kind: 'tier', segments: t } : { kind: 'unknown' };
}

/**
 * The NSG of every segment of a RuleSet (segment name → NSG name). With `nsg`, all in it; with
 * `nsgs`, as listed (tiers from the segments' own `tier`). A segment missing from the map is one
 * the config does not place (model validation reports it; render reports it again for a RuleSet
 * that did not come through validation).
 */
export function nsgOfSegments(cfg: AzureTargetConfig, segments: readonly SegmentSpec[]): Map<string, string> {
  const out = new Map<string, string>();
  if (cfg.nsgs === undefined) {
    if (cfg.nsg !== undefined) for (const s of segments) out.set(s.name, cfg.nsg);
    return out;
  }
  const names = new Set(segments.map((s) => s.name));
  const tiers = new Map<string, string[]>();
  for (const s of segments)
    if (s.tier !== undefined) (tiers.get(s.tier) ?? tiers.set(s.tier, []).get(s.tier)!).push(s.name);
  for (const nsg of targetNsgs(cfg)) {
    for (const item of cfg.nsgs[nsg] ?? []) {
      const m = resolveNsgMember(item, names, tiers);
      if (m.kind === 'unknown') continue;
      for (const s of m.segments) if (!out.has(s)) out.set(s, nsg);
    }
  }
  return out;
}
