import { DEFAULT_INTERNAL_RANGES } from '../../src/model/addresses.js';
import type { TargetDescriptor } from '../../src/provider.js';

/** Where a GCP target lives. */
export interface GcpTargetConfig {
  readonly project: string;
  /** VPC network name. */
  readonly network: string;
  /** Global network firewall policy for FQDN egress; required when a segment has FQDN egress. */
  readonly firewallPolicy?: string;
  /**
   * The network's internal ranges: egress between segments is allowed toward these (GCP egress
   * rules cannot name tags), and the built-in `internet` is everything outside them. Canonical
   * CIDRs; DEFAULT_INTERNAL_RANGES (RFC 1918, 100.64.0.0/10, fc00::/7) when the model does not say.
   */
  readonly internalRanges: readonly string[];
  /** Compute API endpoint override (emulators). */
  readonly endpoint?: string;
  /**
   * The project's VPC firewall rule quota (metric FIREWALLS), when it is raised above GCP's
   * default: what validate checks the rendered rules against (issue 11.5: estate scale).
   */
  readonly firewallQuota?: number;
}

declare module '../../src/compile/types.js' {
  interface TargetConfigs {
    gcp: GcpTargetConfig;
  }
  interface SegmentBindings {
    /** Match instances by service account instead of the network tag `<model>-<segment>`. */
    gcp: { readonly serviceAccount?: string };
  }
}

const ENDPOINT = { type: 'string', pattern: '^https?://', patternErrorMessage: 'an http(s) URL' };
const NAME = '^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$';

/** The GCP target as the core sees it (validation, compile, the commands): see TargetDescriptor. */
export const gcpTarget: TargetDescriptor<'gcp'> = {
  id: 'gcp',
  label: 'GCP',
  aLabel: 'a GCP',
  renders: 'GCP firewall rules',
  schema: {
    target: {
      type: 'object',
      additionalProperties: false,
      required: ['project', 'network'],
      properties: {
        project: {
          type: 'string',
          pattern: '^[a-z][a-z0-9-]{4,28}[a-z0-9]$',
          patternErrorMessage: 'a GCP project id like shop-prod',
        },
        network: { type: 'string', pattern: NAME, patternErrorMessage: 'a VPC network name' },
        firewallPolicy: { type: 'string', pattern: NAME, patternErrorMessage: 'a firewall policy name' },
        internalRanges: { $ref: '#/definitions/internalRanges' },
        endpoint: ENDPOINT,
        firewallQuota: {
          type: 'integer',
          minimum: 1,
          description:
            "the project's VPC firewall rule quota (metric FIREWALLS) when raised above GCP's default; validate checks the rendered rules against it",
        },
      },
    },
    entityBinding: {
      type: 'object',
      additionalProperties: false,
      properties: { cidrs: { $ref: '#/definitions/cidrs' } },
    },
    segmentBinding: {
      type: 'object',
      additionalProperties: false,
      properties: {
        serviceAccount: {
          type: 'string',
          pattern: '^[^@\\s]+@[^@\\s]+\\.iam\\.gserviceaccount\\.com$|^[^@\\s]+@developer\\.gserviceaccount\\.com$',
          patternErrorMessage: 'a service account email like app@project.iam.gserviceaccount.com',
        },
      },
    },
  },
  segmentBindingKeys: ['serviceAccount'],
  parse(c, ctx) {
    const project = c.string('project'),
      network = c.string('network');
    if (project === undefined || network === undefined) return undefined; // schema: required
    const firewallPolicy = c.string('firewallPolicy'),
      endpoint = c.string('endpoint');
    const quota = c.value('firewallQuota');
    return {
      project,
      network,
      ...(firewallPolicy !== undefined ? { firewallPolicy } : {}),
      // Always present: segment-to-segment egress is rendered toward these ranges.
      internalRanges: ctx.internalRanges ?? DEFAULT_INTERNAL_RANGES,
      ...(endpoint !== undefined ? { endpoint } : {}),
      // The schema reports anything but a positive integer.
      ...(Number.isInteger(quota) && (quota as number) >= 1 ? { firewallQuota: quota as number } : {}),
    };
  },
  canonical: (c) => ({
    project: c.project,
    network: c.network,
    ...(c.firewallPolicy !== undefined ? { firewallPolicy: c.firewallPolicy } : {}),
    internalRanges: [...c.internalRanges],
    ...(c.endpoint !== undefined ? { endpoint: c.endpoint } : {}),
    ...(c.firewallQuota !== undefined ? { firewallQuota: c.firewallQuota } : {}),
  }),
  place: (c) => `gcp network ${c.network} in ${c.project}`,
  summary: (c) => `gcp ${c.project}/${c.network}${c.firewallPolicy ? ` firewall policy ${c.firewallPolicy}` : ''}`,
  internalRanges: (c) => c.internalRanges,
  endpoint: (c) => c.endpoint,
  endpointEnv: 'BULKHEAD_GCP_ENDPOINT',
  // The firewall policy matches names (destFqdns): the resolved addresses are not rendered.
  usesResolvedAddresses: false,
  fqdnEgressProblem: (c) =>
    c.firewallPolicy
      ? undefined
      : 'has no firewallPolicy: VPC firewall rules cannot filter by name, so planning this target fails until one is set: FQDN egress needs a firewall policy',
  // Network tags and firewall rule names are RFC 1035 labels.
  managedNameLimit: { max: 63, why: 'the GCP network tag and rule name limit' },
  // google-auth probes the GCE metadata server when there are no credentials, and says so.
  silencedProcessWarnings: ['MetadataLookupWarning'],
};
