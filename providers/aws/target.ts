import type { SegmentSpec } from '../../src/compile/types.js';
import { error, type Diagnostic } from '../../src/diagnostics.js';
import { DEFAULT_INTERNAL_RANGES } from '../../src/model/addresses.js';
import { checkKnownName } from '../../src/model/suggest.js';
import type { TargetDescriptor } from '../../src/provider.js';
import { AWS_REGIONS } from './regions.js';

/** Where an AWS target lives. */
export interface AwsTargetConfig {
  readonly region: string;
  /** The VPC whose security groups the model owns (`vpc-…`). */
  readonly vpc: string;
  /** Named profile of the AWS shared config, when not the default chain's choice. */
  readonly profile?: string;
  /**
   * The VPC's internal ranges, when the model gives them (canonical CIDRs, sorted): what the
   * built-in `internet` is outside of. Absent means DEFAULT_INTERNAL_RANGES (src/model/addresses.ts).
   */
  readonly internalRanges?: readonly string[];
  /** API endpoint override (emulators, sovereign partitions). */
  readonly endpoint?: string;
  /**
   * The account's quotas where they are raised above AWS's defaults (Service Quotas): what
   * validate checks the rendered groups against (issue 11.5: estate scale).
   */
  readonly quotas?: AwsQuotas;
}

/** Raised EC2 quotas a target declares (each absent: AWS's default, providers/aws/limits.ts). */
export interface AwsQuotas {
  /** VPC security groups per Region (default 2,500). */
  readonly securityGroupsPerRegion?: number;
  /** Inbound or outbound rules per security group, per address family (default 60). */
  readonly rulesPerGroup?: number;
}

declare module '../../src/compile/types.js' {
  interface TargetConfigs {
    aws: AwsTargetConfig;
  }
  interface EntityBindingFields {
    aws: {
      /** AWS-managed prefix list name (`com.amazonaws.eu-west-1.s3`) or id (`pl-…`). */
      readonly prefixList?: string;
    };
  }
  interface SegmentBindings {
    /** Adopt an existing security group instead of creating `<model>-<segment>`. */
    aws: { readonly groupId?: string };
  }
}

const ENDPOINT = { type: 'string', pattern: '^https?://', patternErrorMessage: 'an http(s) URL' };

/** The declared quotas, keys in a fixed order; what is not a positive integer the schema reports. */
function parseQuotas(value: unknown): AwsQuotas | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const v = value as Record<string, unknown>;
  const n = (k: string) => (Number.isInteger(v[k]) && (v[k] as number) >= 1 ? (v[k] as number) : undefined);
  const groups = n('securityGroupsPerRegion'),
    rules = n('rulesPerGroup');
  if (groups === undefined && rules === undefined) return undefined;
  return {
    ...(groups !== undefined ? { securityGroupsPerRegion: groups } : {}),
    ...(rules !== undefined ? { rulesPerGroup: rules } : {}),
  };
}

/** The AWS target as the core sees it (validation, compile, the commands): see TargetDescriptor. */
export const awsTarget: TargetDescriptor<'aws'> = {
  id: 'aws',
  label: 'AWS',
  aLabel: 'an AWS',
  renders: 'AWS security groups',
  schema: {
    target: {
      type: 'object',
      additionalProperties: false,
      required: ['region', 'vpc'],
      properties: {
        region: {
          type: 'string',
          pattern: '^[a-z]{2}(-[a-z]+)+-\\d+$',
          patternErrorMessage: 'an AWS region like eu-west-1',
        },
        vpc: {
          type: 'string',
          pattern: '^vpc-[0-9a-f]{8}([0-9a-f]{9})?$',
          patternErrorMessage: 'a VPC id like vpc-0123456789abcdef0',
        },
        profile: { type: 'string' },
        internalRanges: { $ref: '#/definitions/internalRanges' },
        endpoint: ENDPOINT,
        quotas: {
          type: 'object',
          additionalProperties: false,
          description:
            "the account's EC2 quotas where raised above AWS's defaults; validate checks the rendered groups against them",
          properties: {
            securityGroupsPerRegion: {
              type: 'integer',
              minimum: 1,
              description: 'VPC security groups per Region (default 2500)',
            },
            rulesPerGroup: {
              type: 'integer',
              minimum: 1,
              description: 'inbound or outbound rules per security group and address family (default 60)',
            },
          },
        },
      },
    },
    entityBinding: {
      type: 'object',
      additionalProperties: false,
      properties: { prefixList: { type: 'string', minLength: 1 }, cidrs: { $ref: '#/definitions/cidrs' } },
    },
    segmentBinding: {
      type: 'object',
      additionalProperties: false,
      properties: {
        groupId: {
          type: 'string',
          pattern: '^sg-[0-9a-f]{8}([0-9a-f]{9})?$',
          patternErrorMessage: 'a security group id like sg-0123456789abcdef0',
        },
      },
    },
  },
  entityBindingKeys: ['prefixList'],
  segmentBindingKeys: ['groupId'],
  parse(c, ctx) {
    const region = c.string('region'),
      vpc = c.string('vpc');
    if (region !== undefined) {
      const d = checkKnownName(region, c.pos('region'), AWS_REGIONS, 'region', 'an AWS region');
      if (d) c.report(d);
    }
    if (region === undefined || vpc === undefined) return undefined; // schema: required
    const profile = c.string('profile'),
      endpoint = c.string('endpoint');
    const quotas = parseQuotas(c.value('quotas'));
    return {
      region,
      vpc,
      ...(profile !== undefined ? { profile } : {}),
      ...(ctx.internalRanges !== undefined ? { internalRanges: ctx.internalRanges } : {}),
      ...(endpoint !== undefined ? { endpoint } : {}),
      ...(quotas ? { quotas } : {}),
    };
  },
  canonical: (c) => ({
    region: c.region,
    vpc: c.vpc,
    ...(c.profile !== undefined ? { profile: c.profile } : {}),
    ...(c.internalRanges !== undefined ? { internalRanges: [...c.internalRanges] } : {}),
    ...(c.endpoint !== undefined ? { endpoint: c.endpoint } : {}),
    ...(c.quotas !== undefined ? { quotas: { ...c.quotas } } : {}),
  }),
  place: (c) => `aws VPC ${c.vpc} in ${c.region}`,
  summary: (c) => `aws ${c.region} ${c.vpc}`,
  internalRanges: (c) => c.internalRanges ?? DEFAULT_INTERNAL_RANGES,
  endpoint: (c) => c.endpoint,
  endpointEnv: 'BULKHEAD_AWS_ENDPOINT',
  // Managed prefix lists hold the addresses an FQDN resolves to.
  usesResolvedAddresses: true,
  // The SDK's notice that it will need Node 22, a plain warning whose message starts with its name.
  silencedProcessWarnings: ['NodeVersionSupportWarning'],
  checkSegments(segments: readonly SegmentSpec[]): Diagnostic[] {
    // Two segments adopting one security group would fight over its rules.
    const out: Diagnostic[] = [];
    const adopted = new Map<string, SegmentSpec>();
    for (const seg of segments) {
      const id = seg.aws?.groupId;
      if (id === undefined) continue;
      const prev = adopted.get(id);
      if (prev) {
        out.push(
          error(
            'duplicate-override',
            `segments "${prev.name}" and "${seg.name}" both adopt the security group ${id}: a group belongs to one segment`,
            seg.pos,
            [{ message: `segment "${prev.name}"`, pos: prev.pos }],
          ),
        );
      } else adopted.set(id, seg);
    }
    return out;
  },
};
