import type { RuleSet, TargetSpec } from '../../src/compile/types.js';
import { error, type Diagnostic } from '../../src/diagnostics.js';
import type { RenderContext } from '../../src/provider.js';
import { canonicalPrefix } from './canonical.js';
import { ADDRESSES_PER_NSG, ASGS_PER_NSG, DESCRIPTION_MAX, NAME_MAX, NAME_PATTERN, RULES_PER_NSG } from './limits.js';
import { layoutAzure, type AzureLayout } from './render.js';
import { hasNsgMap } from './nsgs.js';

/**
 * Validate (pure): Azure's limits and naming rules for one target, checked at plan time so a model
 * that cannot fit fails the plan, never half an apply. Each message names the object and the limit.
 * The counts are the model's own rules; rules of the NSG that the model does not own also count
 * toward Azure's quotas and are checked when apply builds the NSG PUT.
 */
export function validateAzure(
  rules: RuleSet,
  target: TargetSpec,
  ctx: RenderContext,
  layout: AzureLayout = layoutAzure(rules, target, ctx),
): Diagnostic[] {
  const out: Diagnostic[] = [...layout.problems];
  const isAddress = (v: string) => v !== '*' && !v.startsWith('asg:') && canonicalPrefix(v).includes('/');
  // A side's ASGs and address count, once per list: the layout shares a side's list between the
  // rules that have it (one per segment, peer or entity), so ~470,000 rules at 10,000 segments
  // parse a few thousand lists, not every address of every rule.
  const sideCounts = new Map<readonly string[], { readonly asgs: readonly string[]; readonly addresses: number }>();
  const countsOf = (side: readonly string[]) => {
    let c = sideCounts.get(side);
    if (c === undefined) {
      const asgs = side.filter((v) => v.startsWith('asg:'));
      sideCounts.set(side, (c = { asgs, addresses: side.filter(isAddress).length }));
    }
    return c;
  };
  // Azure's limits hold per NSG: with `nsgs`, each NSG is counted on its own (none of the three
  // can be raised: the limits page lists no maximum for them, so a target declares no quota here).
  for (const { name, rules: nsgRules } of layout.nsgs) {
    const nsg = `NSG ${name} (target ${target.name})`;
    if (nsgRules.length > RULES_PER_NSG) {
      out.push(
        error(
          'azure-rules-per-nsg',
          `${nsg} would hold ${nsgRules.length} rules; Azure allows ${RULES_PER_NSG} security rules per NSG${spreadHint(target)}`,
          target.pos,
        ),
      );
    }
    let addresses = 0;
    const asgs = new Set<string>();
    for (const r of nsgRules) {
      const source = countsOf(r.attributes.source);
      const destination = countsOf(r.attributes.destination);
      addresses += source.addresses + destination.addresses;
      for (const g of source.asgs) asgs.add(g);
      for (const g of destination.asgs) asgs.add(g);
    }
    if (addresses > ADDRESSES_PER_NSG) {
      out.push(
        error(
          'azure-addresses-per-nsg',
          `${nsg} would use ${addresses} source/destination addresses and ranges; Azure allows ${ADDRESSES_PER_NSG} per NSG${spreadHint(target)}`,
          target.pos,
        ),
      );
    }
    if (asgs.size > ASGS_PER_NSG) {
      out.push(
        error(
          'azure-asgs-per-nsg',
          `${nsg} would reference ${asgs.size} application security groups; Azure allows ${ASGS_PER_NSG} across the rules of one NSG${spreadHint(target)}`,
          target.pos,
        ),
      );
    }
    for (const r of nsgRules) {
      if (r.key.length > NAME_MAX || !NAME_PATTERN.test(r.key)) {
        out.push(
          error(
            'azure-name',
            `security rule name ${r.key} in ${nsg} is invalid: Azure rule names are 1-${NAME_MAX} characters of letters, digits, '_', '.', '-', starting with a letter, digit or '_' and ending with a letter, digit or '_'`,
            r.origins?.[0]?.pos ?? target.pos,
          ),
        );
      }
      if (r.attributes.description.length > DESCRIPTION_MAX) {
        out.push(
          error(
            'azure-description',
            `security rule ${r.key} in ${nsg}: description longer than Azure's ${DESCRIPTION_MAX} characters`,
            r.origins?.[0]?.pos ?? target.pos,
          ),
        );
      }
    }
  }
  for (const a of layout.asgs) {
    if (a.name.length > NAME_MAX || !NAME_PATTERN.test(a.name)) {
      out.push(
        error(
          'azure-name',
          `application security group name ${a.name} (segment ${a.segment}) is invalid: Azure names are 1-${NAME_MAX} characters of letters, digits, '_', '.', '-', starting with a letter, digit or '_' and ending with a letter, digit or '_'`,
          a.pos,
        ),
      );
    }
  }
  return out;
}

/** What to do about a full NSG: with one `nsg`, spread the segments over several. */
function spreadHint(target: TargetSpec): string {
  return target.kind === 'azure' && !hasNsgMap(target.azure)
    ? ' (spread the segments over several NSGs with nsgs: { <nsg>: [segments or tier:<tier>] })'
    : '';
}
