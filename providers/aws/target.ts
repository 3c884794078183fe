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
        region: { type: 'string', pattern: '^[a-z]{2}(-[a-z]+)+-\\d+$', patternErrorMessage: 'an AWS region like eu-west-1' },
        vpc: { type: 'string', pattern: '^vpc-[0-9a-f]{8}([0-9a-f]{9})?$', patternErrorMessage: 'a VPC id like vpc-0123456789abcdef0' },
        profile: { type: 'string' },
        internalRanges: { $ref: '#/definitions/internalRanges' },
        endpoint: ENDPOINT,
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
        groupId: { type: 'string', pattern: '^sg-[0-9a-f]{8}([0-9a-f]{9})?$', patternErrorMessage: 'a security group id like sg-0123456789abcdef0' },
      },
    },
  },
  entityBindingKeys: ['prefixList'],
  segmentBindingKeys: ['groupId'],
  parse(c, ctx) {
    const region = c.string('region'), vpc = c.string('vpc');
    if (region !== undefined) {
      const d = checkKnownName(region, c.pos('region'), AWS_REGIONS, 'region', 'an AWS region');
      if (d) c.report(d);
    }
    if (region === undefined || vpc === undefined) return undefined; // schema: required
    const profile = c.string('profile'), endpoint = c.string('endpoint');
    return {
      region,
      vpc,
      ...(profile !== undefined ? { profile } : {}),
      ...(ctx.internalRanges !== undefined ? { internalRanges: ctx.internalRanges } : {}),
      ...(endpoint !== undefined ? { endpoint } : {}),
    };
  },
  canonical: (c) => ({
    region: c.region,
    vpc: c.vpc,
    ...(c.profile !== undefined ? { profile: c.profile } : {}),
    ...(c.internalRanges !== undefined ? { internalRanges: [...c.internalRanges] } : {}),
    ...(c.endpoint !== undefined ? { endpoint: c.endpoint } : {}),
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
          error('duplicate-override', `segments "${prev.name}" and "${seg.name}" both adopt the security group ${id}: a group belongs to one segment`, seg.pos, [
            { message: `segment "${prev.name}"`, pos: prev.pos },
          ]),
        );
      } else adopted.set(id, seg);
    }
    return out;
  },
};
