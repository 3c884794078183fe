import type { TargetSpec } from '../../src/compile/types.js';
import { error, warning, type Diagnostic } from '../../src/diagnostics.js';
import { canonicalDigest } from '../../src/plan/diff.js';
import type { Child, Json, ProviderState, Resource } from '../../src/plan/types.js';
import { LOCK_TAGS } from '../../src/lock.js';
import type { ReadContext } from '../../src/provider.js';
import { OWNER_KEY, ownerOfTagMap } from '../kit/ownership.js';
import {
  appRuleFromWire,
  asgRef,
  canonicalLocation,
  ruleFromWire,
  type RuleAttributes,
  type WireAppRule,
  type WireRule,
} from './canonical.js';
import { DENY_ALL_PRIORITY, LOAD_BALANCER_PRIORITY } from './limits.js';
import {
  appRuleSummary,
  asgName,
  AZURE_TYPES,
  azureConfig,
  ownsRuleName,
  ruleCollectionName,
  ruleSummary,
  reservedJson,
  reservedJsonByNsg,
} from './render.js';
import { hasNsgMap, targetNsgs } from './nsgs.js';

/**
 * The raw objects of an Azure target (the flattened shapes the SDK and `az` print, filled by
 * read.ts from the live API or by snapshot.ts from the az CLI's JSON exports) and their canonical
 * ProviderState. Pure: no SDK, no file. Only owned objects enter `resources`: ASGs tagged
 * `bulkhead:model=<model>`, the NSG's rules named `<model>-…` (as children of the NSG; the NSG
 * itself is the target's, so it is listed whenever it exists), and the rule collection group
 * `<model>-fqdn-egress`. The NSG's default rules are never read as rules (they sit in
 * `defaultSecurityRules`), and rules the model does not own only count in the fingerprint and in
 * `reserved` (their priorities per direction, which render's placement skips).
 */

/** The raw objects of a target, in the flattened shape the SDK and `az` print. */
export interface RawAzureState {
  /** The target's one NSG (`nsg`); null when it does not exist, or when the target has `nsgs`. */
  readonly nsg: WireNsg | null;
  /** With `nsgs`: each NSG of the target by its configured name, null when it does not exist. */
  readonly nsgs?: Readonly<Record<string, WireNsg | null>>;
  readonly asgs: readonly WireAsg[];
  readonly rcg: WireRcg | null;
  /** False when the target names a firewall policy that does not exist (live reads only). */
  readonly policyFound: boolean;
}

/** NSG, flattened (`az network nsg show`, SDK `NetworkSecurityGroup`). */
export interface WireNsg {
  name?: string;
  id?: string;
  location?: string;
  tags?: Record<string, string>;
  securityRules?: WireRule[];
  [key: string]: unknown;
}

/** ASG, flattened (`az network asg list` item, SDK `ApplicationSecurityGroup`). */
export interface WireAsg {
  name?: string;
  id?: string;
  location?: string;
  tags?: Record<string, string>;
  [key: string]: unknown;
}

/** Rule collection group, flattened (`az network firewall policy rule-collection-group show`). */
export interface WireRcg {
  name?: string;
  id?: string;
  priority?: number;
  ruleCollections?: {
    ruleCollectionType?: string;
    name?: string;
    priority?: number;
    action?: { type?: string };
    rules?: (WireAppRule | { ruleType?: string; name?: string })[];
  }[];
  [key: string]: unknown;
}
/**
 * The NSGs of a raw state as the target configures them: `[{ name, wire }]`, the one `nsg` or
 * every NSG of `nsgs` (sorted by name), `wire` null for one that does not exist.
 */
export function rawNsgs(
  raw: RawAzureState,
  cfg: Parameters<typeof targetNsgs>[0],
): { readonly name: string; readonly wire: WireNsg | null }[] {
  if (!hasNsgMap(cfg)) return targetNsgs(cfg).map((name) => ({ name, wire: raw.nsg }));
  return targetNsgs(cfg).map((name) => ({ name, wire: raw.nsgs?.[name] ?? null }));
}

/** The model that owns the target's objects when the engine did not say: the single marker value found. */
export function inferModel(raw: RawAzureState): string | undefined {
  const values = new Set<string>();
  const nsgTags = [raw.nsg?.tags, ...Object.values(raw.nsgs ?? {}).map((n) => n?.tags)];
  for (const owner of [...raw.asgs.map((a) => ownerOfTagMap(a.tags)), ...nsgTags.map((t) => ownerOfTagMap(t))])
    if (owner) values.add(owner);
  return values.size === 1 ? [...values][0] : undefined;
}

/** Turns raw objects into the canonical state (pure). */
export function stateFromRaw(
  raw: RawAzureState,
  target: TargetSpec,
  source: 'live' | 'snapshot',
  context?: ReadContext,
): ProviderState {
  const cfg = azureConfig(target);
  const model = context?.model ?? inferModel(raw);
  const diagnostics: Diagnostic[] = [];
  const resources: Resource[] = [];
  // The lock ASG (lock.ts) is owned but no segment's: plan and drift never see it.
  const owned = (a: WireAsg) =>
    model !== undefined && ownerOfTagMap(a.tags) === model && a.tags?.[LOCK_TAGS.lock] === undefined;
  const ownedAsgByRef = new Map<string, string>();
  // Azure names are case-insensitive: an owned ASG `Shop-Web` IS the segment's `shop-web`. Read
  // gives it the model's spelling, so the plan does not "create" shop-web and delete Shop-Web,
  // which are one object (the delete would take the ASG the rules need).
  const spelling = new Map(
    (context?.segments ?? []).map((s) => [asgName(model ?? '', s.name).toLowerCase(), asgName(model ?? '', s.name)]),
  );
  const seenAsgs = new Set<string>();
  for (const a of raw.asgs) {
    if (!owned(a) || !a.name) continue;
    const name = spelling.get(a.name.toLowerCase()) ?? a.name;
    // One ARM object per name, ignoring case; only a hand-edited snapshot can list a name twice.
    if (seenAsgs.has(name.toLowerCase())) continue;
    seenAsgs.add(name.toLowerCase());
    ownedAsgByRef.set(
      asgRef(
        a.id ?? `/resourceGroups/${cfg.resourceGroup}/providers/Microsoft.Network/applicationSecurityGroups/${a.name}`,
      ),
      name,
    );
    resources.push({
      address: `${target.name}.${AZURE_TYPES.asg}.${name}`,
      target: target.name,
      type: AZURE_TYPES.asg,
      name,
      attributes: { location: canonicalLocation(a.location ?? ''), model: model ?? null },
      children: [],
      ...(a.id ? { liveId: a.id } : {}),
      forceNew: ['location'],
    });
  }
  if (model !== undefined) {
    // The first unowned ASG of each name (ignoring case): one lookup per segment, not a scan of
    // every ASG per segment (10,000 × 10,000 name comparisons at 10,000 segments, issue 11).
    const unownedByName = new Map<string, WireAsg>();
    for (const a of raw.asgs) {
      const key = (a.name ?? '').toLowerCase();
      if (!owned(a) && !unownedByName.has(key)) unownedByName.set(key, a);
    }
    for (const s of context?.segments ?? []) {
      const other = unownedByName.get(asgName(model, s.name).toLowerCase());
      if (other) {
        diagnostics.push(
          error(
            'azure-unowned-in-the-way',
            `application security group ${other.name} in resource group ${cfg.resourceGroup} (target ${target.name}) is not tagged ${OWNER_KEY}=${model}, so Bulkhead will not touch it; ` +
              `to adopt it: az network asg update -g ${cfg.resourceGroup} -n ${other.name} --set tags.${OWNER_KEY}=${model}`,
            s.pos,
          ),
        );
      }
    }
  }
  // Each rule's canonical attributes, computed once: the unowned list, the children and the
  // fingerprint all read them (read-only), and they were three calls of ruleFromWire per rule.
  const attributesOf = memoRuleAttributes();
  let reserved: Json | undefined;
  const unownedResources: Resource[] = [];
  const unownedByNsg = new Map<string, { name: string; direction: string; priority: number }[]>();
  for (const { name: nsgName, wire: nsg } of rawNsgs(raw, cfg)) {
    if (!nsg) continue;
    const isOwned = (r: WireRule) => model !== undefined && r.name !== undefined && ownsRuleName(model, r.name);
    if (context?.unowned) {
      // Reachability: the NSG's rules the model does not own, as the cloud evaluates them (never diffed).
      const foreign = (nsg.securityRules ?? []).filter((r) => !isOwned(r));
      unownedResources.push({
        address: `${target.name}.${AZURE_TYPES.nsg}.${nsgName}#unowned`,
        target: target.name,
        type: AZURE_TYPES.nsg,
        name: nsgName,
        attributes: {},
        children: foreign.map((r) => {
          const attributes = attributesOf(r);
          return { key: r.name ?? '', summary: ruleSummary(attributes), attributes, ...(r.id ? { liveId: r.id } : {}) };
        }),
        ...(nsg.id ? { liveId: nsg.id } : {}),
      });
    }
    const unowned = (nsg.securityRules ?? [])
      .filter((r) => !isOwned(r))
      .map((r) => ({ name: r.name ?? '', ...attributesOf(r) }));
    unownedByNsg.set(nsgName, unowned);
    // The model's fixed rules (deny-all in/out at 4096, load-balancer allow at 4095) cannot move.
    if (model !== undefined) {
      const fixed = [
        { direction: 'inbound', priority: DENY_ALL_PRIORITY, rule: `${model}-deny-all-in` },
        { direction: 'outbound', priority: DENY_ALL_PRIORITY, rule: `${model}-deny-all-out` },
        { direction: 'inbound', priority: LOAD_BALANCER_PRIORITY, rule: `${model}-allow-azure-lb-in` },
      ];
      for (const f of fixed) {
        const other = unowned.find((r) => r.direction === f.direction && r.priority === f.priority);
        if (!other) continue;
        diagnostics.push(
          error(
            'azure-priority-in-the-way',
            `rule ${other.name} of NSG ${nsgName} (target ${target.name}) holds ${f.direction} priority ${f.priority}, which Bulkhead's ${f.rule} needs; ` +
              `it is not the model's, so Bulkhead will not move it: give it a free priority (az network nsg rule update -g ${cfg.resourceGroup} --nsg-name ${nsgName} -n ${other.name} --priority <100-4094>)`,
            target.pos,
          ),
        );
      }
    }
    if (nsg.location && canonicalLocation(nsg.location) !== canonicalLocation(cfg.location)) {
      diagnostics.push(
        warning(
          'azure-nsg-location',
          `NSG ${nsgName} is in ${nsg.location} but target ${target.name} says ${cfg.location}; ASGs are created in ${cfg.location}`,
          target.pos,
        ),
      );
    }
    const children: Child[] = uniqueKeys(
      (nsg.securityRules ?? []).filter(isOwned).map((r) => {
        const attributes = attributesOf(r);
        const deps = [...(r.sourceApplicationSecurityGroups ?? []), ...(r.destinationApplicationSecurityGroups ?? [])]
          .map((g) => ownedAsgByRef.get(asgRef(g.id ?? '')))
          .filter((n): n is string => n !== undefined)
          .map((n) => `${target.name}.${AZURE_TYPES.asg}.${n}`);
        return {
          key: r.name!,
          summary: ruleSummary(attributes),
          attributes,
          ...(r.id ? { liveId: r.id } : {}),
          ...(deps.length > 0 ? { dependsOn: [...new Set(deps)].sort() } : {}),
        };
      }),
    ).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    resources.push({
      address: `${target.name}.${AZURE_TYPES.nsg}.${nsgName}`,
      target: target.name,
      type: AZURE_TYPES.nsg,
      name: nsgName,
      attributes: { model: model ?? null },
      children,
      ...(nsg.id ? { liveId: nsg.id } : {}),
    });
  }
  if (unownedByNsg.size > 0)
    reserved = hasNsgMap(cfg) ? reservedJsonByNsg(unownedByNsg) : reservedJson([...unownedByNsg.values()][0]!);
  if (!raw.policyFound && cfg.firewallPolicy) {
    diagnostics.push(
      error(
        'azure-firewall-policy-missing',
        `firewall policy ${cfg.firewallPolicy} (target ${target.name}) does not exist in resource group ${cfg.resourceGroup}; Bulkhead adds rules to a policy but does not create one: ` +
          `az network firewall policy create -g ${cfg.resourceGroup} -n ${cfg.firewallPolicy} --sku Standard`,
        target.pos,
      ),
    );
  }
  if (raw.rcg?.name && cfg.firewallPolicy) {
    const collections = raw.rcg.ruleCollections ?? [];
    const first = collections[0];
    // The group Bulkhead writes has one collection, `<model>-allow-fqdn`, whose rules are keyed by
    // name. A rule in any other collection is keyed `<collection>/<rule>`: it is not one of the
    // model's, even when it shares a name with one (Azure allows that across collections), so the
    // plan deletes it (the group PUT replaces every collection) instead of folding the two into one key.
    const mine = model !== undefined ? ruleCollectionName(model).toLowerCase() : undefined;
    const children: Child[] = uniqueKeys(
      collections.flatMap((c) =>
        (c.rules ?? []).map((r): Child => {
          const name = r.name ?? '';
          const key = (c.name ?? '').toLowerCase() === mine ? name : `${c.name ?? ''}/${name}`;
          if (r.ruleType === 'ApplicationRule') {
            const attributes = appRuleFromWire(r as WireAppRule);
            return { key, summary: appRuleSummary(attributes), attributes };
          }
          return {
            key,
            summary: `${r.ruleType ?? 'unknown'} rule (not managed by Bulkhead)`,
            attributes: { ruleType: r.ruleType ?? null },
          };
        }),
      ),
    ).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    resources.push({
      address: `${target.name}.${AZURE_TYPES.rcg}.${raw.rcg.name}`,
      target: target.name,
      type: AZURE_TYPES.rcg,
      name: raw.rcg.name,
      attributes: {
        policy: cfg.firewallPolicy.toLowerCase(),
        priority: raw.rcg.priority ?? null,
        collection: collections.map((c) => c.name ?? '').join(','),
        collectionPriority: first?.priority ?? null,
        action:
          collections.length === 1 && first?.ruleCollectionType === 'FirewallPolicyFilterRuleCollection'
            ? (first.action?.type ?? '').toLowerCase()
            : null,
      },
      children,
      ...(raw.rcg.id ? { liveId: raw.rcg.id } : {}),
      forceNew: ['policy'],
    });
  }
  resources.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  return {
    target: target.name,
    source,
    resources,
    fingerprint: context?.fingerprint === false ? '' : fingerprintOf(raw, attributesOf),
    diagnostics,
    ...(reserved !== undefined ? { reserved } : {}),
    ...(context?.unowned ? { unowned: unownedResources } : {}),
  };
}

/**
 * Children with distinct keys. Azure names are case-insensitive, and the engine's diff keeps one
 * child per key, so a second child whose key equals an earlier one (ignoring case) would vanish
 * from the plan and stay in the cloud forever. It is kept as `<key>#2`, `#3` …, a key no desired
 * child has: the plan deletes it and drift reports it (issue 15.2). Live NSGs cannot hold two
 * rules of one name (Azure refuses); rule collection groups and hand-edited snapshots can.
 */
export function uniqueKeys(children: readonly Child[]): Child[] {
  const seen = new Map<string, number>();
  return children.map((c) => {
    const k = c.key.toLowerCase();
    const n = (seen.get(k) ?? 0) + 1;
    seen.set(k, n);
    return n === 1 ? c : { ...c, key: `${c.key}#${n}` };
  });
}

/** `ruleFromWire`, remembered per wire rule object (for one read: the map dies with the call). */
function memoRuleAttributes(): (r: WireRule) => RuleAttributes {
  const seen = new Map<WireRule, RuleAttributes>();
  return (r) => {
    let a = seen.get(r);
    if (a === undefined) {
      a = ruleFromWire(r);
      seen.set(r, a);
    }
    return a;
  };
}

/**
 * Digest of everything read that matters, owned or not (a saved plan compares it). `attributesOf`
 * is `ruleFromWire` or a memo of it (stateFromRaw's, which has computed them already).
 */
export function fingerprintOf(
  raw: RawAzureState,
  attributesOf: (r: WireRule) => RuleAttributes = ruleFromWire,
): string {
  const nsgView = (nsg: WireNsg | null): Json =>
    nsg
      ? {
          location: canonicalLocation(nsg.location ?? ''),
          rules: (nsg.securityRules ?? []).map((r) => ({ name: r.name ?? '', ...attributesOf(r) })),
        }
      : null;
  const view: Json = {
    nsg: nsgView(raw.nsg),
    // With `nsgs` (absent for one `nsg`, so its fingerprint is what it always was).
    ...(raw.nsgs !== undefined
      ? {
          nsgs: Object.fromEntries(
            Object.keys(raw.nsgs)
              .sort()
              .map((k) => [k.toLowerCase(), nsgView(raw.nsgs![k] ?? null)]),
          ),
        }
      : {}),
    // The lock ASG (lock.ts) comes and goes with every apply: taking it must not make a plan stale.
    asgs: raw.asgs
      .filter((a) => a.tags?.[LOCK_TAGS.lock] === undefined)
      .map((a) => ({
        name: a.name ?? '',
        location: canonicalLocation(a.location ?? ''),
        tags: (a.tags ?? {}) as Json,
      })),
    rcg: raw.rcg
      ? (JSON.parse(
          JSON.stringify({ priority: raw.rcg.priority ?? null, ruleCollections: raw.rcg.ruleCollections ?? [] }),
        ) as Json)
      : null,
  };
  return `sha256:${canonicalDigest(view)}`;
}
