import { DEFAULT_INTERNAL_RANGES } from '../../src/model/addresses.js';
import { checkKnownName } from '../../src/model/suggest.js';
import type { TargetDescriptor } from '../../src/provider.js';
import { AZURE_LOCATIONS } from './locations.js';

/** Where an Azure target lives. */
export interface AzureTargetConfig {
  readonly subscription: string;
  readonly resourceGroup: string;
  readonly location: string;
  /** Name of the NSG that carries the model's rules (in `resourceGroup`). */
  readonly nsg: string;
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
      required: ['subscription', 'resourceGroup', 'location', 'nsg'],
      properties: {
        subscription: {
          type: 'string',
          pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
          patternErrorMessage: 'a subscription id (GUID)',
        },
        resourceGroup: { type: 'string', minLength: 1, maxLength: 90 },
        location: { type: 'string', pattern: '^[a-z0-9]+$', patternErrorMessage: 'an Azure location like westeurope' },
        nsg: { type: 'string', minLength: 1, maxLength: 80 },
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
    if (subscription === undefined || resourceGroup === undefined || location === undefined || nsg === undefined)
      return undefined; // schema: required
    const firewallPolicy = c.string('firewallPolicy'),
      endpoint = c.string('endpoint');
    return {
      // Subscription ids are GUIDs, case-insensitive in ARM: one spelling, one identity.
      subscription: subscription.toLowerCase(),
      resourceGroup,
      location,
      nsg,
      ...(firewallPolicy !== undefined ? { firewallPolicy } : {}),
      ...(ctx.internalRanges !== undefined ? { internalRanges: ctx.internalRanges } : {}),
      ...(endpoint !== undefined ? { endpoint } : {}),
    };
  },
  canonical: (c) => ({
    subscription: c.subscription,
    resourceGroup: c.resourceGroup,
    location: c.location,
    nsg: c.nsg,
    ...(c.firewallPolicy !== undefined ? { firewallPolicy: c.firewallPolicy } : {}),
    ...(c.internalRanges !== undefined ? { internalRanges: [...c.internalRanges] } : {}),
    ...(c.endpoint !== undefined ? { endpoint: c.endpoint } : {}),
  }),
  // Resource group names are case-insensitive in ARM.
  place: (c) => `azure NSG ${c.nsg} in ${c.subscription}/${c.resourceGroup.toLowerCase()}`,
  summary: (c) => `azure ${c.resourceGroup}/${c.nsg}${c.firewallPolicy ? ` firewall policy ${c.firewallPolicy}` : ''}`,
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
