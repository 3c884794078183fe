import { error, type Diagnostic, type SourcePos } from '../../src/diagnostics.js';
import { DEFAULT_INTERNAL_RANGES } from '../../src/model/addresses.js';
import { checkKnownName, didYouMean } from '../../src/model/suggest.js';
import type { ConfigReader, TargetCheckContext, TargetDescriptor } from '../../src/provider.js';
import { NAME_MAX } from './limits.js';
import { AZURE_LOCATIONS } from './locations.js';
import { resolveNsgMember, TIER_PREFIX } from './nsgs.js';

/** Where an Azure target lives. */
export interface AzureTargetConfig {
  readonly subscription: string;
  readonly resourceGroup: string;
  readonly location: string;
  /**
   * Name of the NSG that carries the model's rules (in `resourceGroup`). A target gives exactly
   * one of `nsg` and `nsgs`.
   */
  readonly nsg?: string;
  /**
   * Several NSGs (in `resourceGroup`), each carrying the rules of the segments it lists (segment
   * names, `tier:<tier>` or a tier's name for its segments): NSG name → list. Every segment of the
   * model is in exactly one. An NSG sits on its segments' subnets, so a segment's inbound and
   * outbound rules are both in its own NSG (providers/azure/nsgs.ts).
   */
  readonly nsgs?: Readonly<Record<string, readonly string[]>>;
  /** Azure Firewall Policy for FQDN egress (in `resourceGroup`); required when a segment has FQDN egress. */
  readonly firewallPolicy?: string;
  /**
   * The network's internal ranges, when the model gives them (canonical CIDRs, sorted): what the
   * built-in `internet` is outside of. Absent means DEFAULT_INTERNAL_RANGES (src/model/addresses.ts).
   */
  readonly internalRanges?: readonly string[];
  /** ARM endpoint override (emulators, sovereign clouds). */
  readonly endpoint?: string;
}

declare module '../../src/compile/types.js' {
  interface TargetConfigs {
    azure: AzureTargetConfig;
  }
  interface EntityBindingFields {
    azure: {
      /** Azure service tag (`Storage.WestEurope`). */
      readonly serviceTag?: string;
    };
  }
}

const ENDPOINT = { type: 'string', pattern: '^https?://', patternErrorMessage: 'an http(s) URL' };

/** The Azure target as the core sees it (validation, compile, the commands): see TargetDescriptor. */
export const azureTarget: TargetDescriptor<'azure'> = {
  id: 'azure',
  label: 'Azure',
  aLabel: 'an Azure',
  renders: 'Azure NSGs/ASGs',
  schema: {
    target: {
      type: 'object',
      additionalProperties: false,
      // `nsg` or `nsgs`, exactly one: parse says so with a message of its own.
      required: ['subscription', 'resourceGroup', 'location'],
      properties: {
        subscription: {
          type: 'string',
          pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
          patternErrorMessage: 'a subscription id (GUID)',
        },
        resourceGroup: { type: 'string', minLength: 1, maxLength: 90 },
        location: { type: 'string', pattern: '^[a-z0-9]+$', patternErrorMessage: 'an Azure location like westeurope' },
        nsg: { type: 'string', minLength: 1, maxLength: 80 },
        nsgs: {
          type: 'object',
          minProperties: 1,
          description:
            'several NSGs, each with the segments (or tier:<tier>) whose rules it carries; every segment in exactly one (instead of nsg)',
          propertyNames: {
            type: 'string',
            minLength: 1,
            maxLength: NAME_MAX,
            pattern: '^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?$',
            patternErrorMessage: "an NSG name (letters, digits, '_', '.', '-'; starting with a letter, digit or '_')",
          },
          additionalProperties: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
        },
        firewallPolicy: { type: 'string', minLength: 1, maxLength: 80 },
        internalRanges: { $ref: '#/definitions/internalRanges' },
        endpoint: ENDPOINT,
      },
    },
    entityBinding: {
      type: 'object',
      additionalProperties: false,
      properties: { serviceTag: { type: 'string', minLength: 1 }, cidrs: { $ref: '#/definitions/cidrs' } },
    },
  },
  entityBindingKeys: ['serviceTag'],
  parse(c, ctx) {
    const subscription = c.string('subscription'),
      resourceGroup = c.string('resourceGroup'),
      location = c.string('location'),
      nsg = c.string('nsg');
    if (location !== undefined) {
      const d = checkKnownName(location, c.pos('location'), AZURE_LOCATIONS, 'location', 'an Azure location');
      if (d) c.report(d);
    }
    const nsgs = parseNsgs(c, ctx.name);
    if (nsg !== undefined && c.has('nsgs')) {
      c.report(
        error(
          'azure-nsg-and-nsgs',
          `target ${ctx.name} gives both nsg and nsgs: name one NSG (nsg) or spread the segments over several (nsgs), not both`,
          c.pos('nsgs'),
        ),
      );
      return undefined;
    }
    if (nsg === undefined && !c.has('nsgs') && !c.has('nsg')) {
      c.report(
        error(
          'azure-no-nsg',
          `target ${ctx.name} names no NSG: give nsg (one NSG for every segment) or nsgs ({ <nsg>: [segments or tier:<tier>] })`,
          c.pos('nsg'),
        ),
      );
      return undefined;
    }
    if (subscription === undefined || resourceGroup === undefined || location === undefined) return undefined; // schema: required
    if (nsg === undefined && nsgs === undefined) return undefined; // the schema reports the shape
    const firewallPolicy = c.string('firewallPolicy'),
      endpoint = c.string('endpoint');
    const config: AzureTargetConfig = {
      // Subscription ids are GUIDs, case-insensitive in ARM: one spelling, one identity.
      subscription: subscription.toLowerCase(),
      resourceGroup,
      location,
      ...(nsg !== undefined ? { nsg } : {}),
      ...(nsgs !== undefined ? { nsgs: nsgs.map } : {}),
      ...(firewallPolicy !== undefined ? { firewallPolicy } : {}),
      ...(ctx.internalRanges !== undefined ? { internalRanges: ctx.internalRanges } : {}),
      ...(endpoint !== undefined ? { endpoint } : {}),
    };
    if (nsgs) NSG_ITEM_POSITIONS.set(config, nsgs.positions);
    return config;
  },
  checkTarget: (config, ctx) => checkNsgs(config, ctx),
  canonical: (c) => ({
    subscription: c.subscription,
    resourceGroup: c.resourceGroup,
    location: c.location,
    ...(c.nsg !== undefined ? { nsg: c.nsg } : {}),
    ...(c.nsgs !== undefined
      ? {
          nsgs: Object.fromEntries(
            Object.keys(c.nsgs)
              .sort()
              .map((k) => [k, [...c.nsgs![k]!]]),
          ),
        }
      : {}),
    ...(c.firewallPolicy !== undefined ? { firewallPolicy: c.firewallPolicy } : {}),
    ...(c.internalRanges !== undefined ? { internalRanges: [...c.internalRanges] } : {}),
    ...(c.endpoint !== undefined ? { endpoint: c.endpoint } : {}),
  }),
  // Resource group names are case-insensitive in ARM.
  place: (c) =>
    c.nsgs === undefined
      ? `azure NSG ${c.nsg} in ${c.subscription}/${c.resourceGroup.toLowerCase()}`
      : `azure NSGs ${Object.keys(c.nsgs)
          .map((n) => n.toLowerCase())
          .sort()
          .join(', ')} in ${c.subscription}/${c.resourceGroup.toLowerCase()}`,
  summary: (c) =>
    `azure ${c.resourceGroup}/${c.nsgs === undefined ? c.nsg : nsgsSummary(Object.keys(c.nsgs))}${c.firewallPolicy ? ` firewall policy ${c.firewallPolicy}` : ''}`,
  internalRanges: (c) => c.internalRanges ?? DEFAULT_INTERNAL_RANGES,
  endpoint: (c) => c.endpoint,
  endpointEnv: 'BULKHEAD_AZURE_ENDPOINT',
  // The NSG egress rules beside the Firewall Policy's application rules hold resolved addresses.
  usesResolvedAddresses: true,
  fqdnEgressProblem: (c) =>
    c.firewallPolicy
      ? undefined
      : 'has no firewallPolicy: NSGs cannot filter by name, so planning this target fails until one is set: FQDN egress needs a firewall policy',
};

/** `3 NSGs (a, b, c)`, or the first few and a count. */
function nsgsSummary(names: readonly string[]): string {
  const sorted = [...names].sort();
  const shown = sorted.length <= 3 ? sorted.join(', ') : `${sorted.slice(0, 3).join(', ')}, …`;
  return `${sorted.length} NSGs (${shown})`;
}

/**
 * Where an `nsgs` list item is written, for checkTarget's messages. Looked up only for a message:
 * finding a key of a mapping is a scan of its keys, and 5,000 NSGs × 10,000 items of them ahead of
 * time would be quadratic.
 */
type NsgItemPositions = (nsg: string, index: number) => SourcePos;

/**
 * The item positions of a parsed config's `nsgs`: kept beside the config, not in it, so the
 * RuleSet's canonical config (and its digest) does not change when a line moves.
 */
const NSG_ITEM_POSITIONS = new WeakMap<AzureTargetConfig, NsgItemPositions>();

/** Reads `nsgs` (its shape is the schema's); undefined when absent or not usable. */
function parseNsgs(
  c: ConfigReader,
  target: string,
): { map: Record<string, readonly string[]>; positions: NsgItemPositions } | undefined {
  const v = c.value('nsgs');
  if (v === undefined || v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const map: Record<string, readonly string[]> = {};
  const seen = new Map<string, string>();
  for (const [name, list] of Object.entries(v as Record<string, unknown>)) {
    if (!Array.isArray(list) || list.length === 0 || !list.every((x) => typeof x === 'string' && x !== ''))
      return undefined; // the schema reports it
    // NSG names are case-insensitive in ARM: two spellings are one NSG.
    const prev = seen.get(name.toLowerCase());
    if (prev !== undefined) {
      c.report(
        error(
          'azure-nsgs-duplicate',
          `target ${target}: nsgs names ${prev} and ${name}, which are one NSG (Azure names ignore case)`,
          c.posAt?.(['nsgs', name]) ?? c.pos('nsgs'),
        ),
      );
      return undefined;
    }
    seen.set(name.toLowerCase(), name);
    map[name] = [...(list as string[])];
  }
  return { map, positions: (nsg, i) => c.posAt?.(['nsgs', nsg, i]) ?? c.pos('nsgs') };
}

/**
 * Model validation of `nsgs`: every item names a segment or a tier (with "did you mean"), every
 * segment of the model is in exactly one NSG. One error lists the segments in none, so a model of
 * thousands does not print thousands of lines.
 */
function checkNsgs(config: AzureTargetConfig, ctx: TargetCheckContext): Diagnostic[] {
  if (config.nsgs === undefined) return [];
  const out: Diagnostic[] = [];
  const positions = NSG_ITEM_POSITIONS.get(config);
  const placed = new Map<string, { nsg: string; index: number }>();
  const candidates = [...ctx.segments.keys(), ...[...ctx.tiers.keys()].map((t) => `${TIER_PREFIX}${t}`)];
  for (const nsg of Object.keys(config.nsgs)) {
    config.nsgs[nsg]!.forEach((item, i) => {
      const pos = () => positions?.(nsg, i) ?? ctx.pos;
      const bare = !item.startsWith(TIER_PREFIX);
      if (bare && ctx.segments.has(item) && ctx.tiers.has(item)) {
        out.push(
          error(
            'azure-nsgs-ambiguous',
            `target ${ctx.name}: NSG ${nsg} lists "${item}", which is both a segment and a tier: write "${item}" only for the segment and "${TIER_PREFIX}${item}" for the tier`,
            pos(),
          ),
        );
        return;
      }
      const m = resolveNsgMember(item, ctx.segments, ctx.tiers);
      if (m.kind === 'unknown') {
        const hint =
          !bare && ctx.segments.has(item.slice(TIER_PREFIX.length))
            ? `; "${item.slice(TIER_PREFIX.length)}" is a segment: write "${item.slice(TIER_PREFIX.length)}"`
            : didYouMean(item, candidates);
        out.push(
          error(
            'unknown-reference',
            `target ${ctx.name}: NSG ${nsg} lists "${item}", which is not a segment or tier of the model${hint}`,
            pos(),
          ),
        );
        return;
      }
      for (const s of m.segments) {
        const prev = placed.get(s);
        if (prev === undefined) placed.set(s, { nsg, index: i });
        else if (prev.nsg !== nsg)
          out.push(
            error(
              'azure-nsgs-twice',
              `target ${ctx.name}: segment ${s} is in NSG ${prev.nsg} and in NSG ${nsg}; a segment's rules live in one NSG (the one on its subnet)`,
              pos(),
              [{ message: `segment ${s} in NSG ${prev.nsg}`, pos: positions?.(prev.nsg, prev.index) ?? ctx.pos }],
            ),
          );
      }
    });
  }
  const missing = [...ctx.segments.keys()].filter((s) => !placed.has(s)).sort();
  // An unknown item is most often a misspelt segment: its error says so, and "in none" would repeat it.
  if (missing.length > 0 && !out.some((d) => d.code === 'unknown-reference')) {
    const shown =
      missing.length <= 5 ? missing.join(', ') : `${missing.slice(0, 5).join(', ')} and ${missing.length - 5} more`;
    out.push(
      error(
        'azure-nsgs-missing',
        `target ${ctx.name}: ${missing.length === 1 ? 'segment' : `${missing.length} segments`} ${shown} ${missing.length === 1 ? 'is' : 'are'} in none of its nsgs: add ${missing.length === 1 ? 'it' : 'each'} to the NSG on ${missing.length === 1 ? 'its' : 'their'} subnet`,
        positions?.(Object.keys(config.nsgs)[0]!, 0) ?? ctx.pos,
        missing.slice(0, 5).flatMap((s) => {
          const p = ctx.segments.get(s);
          return p ? [{ message: `segment ${s}`, pos: p }] : [];
        }),
      ),
    );
  }
  return out;
}
