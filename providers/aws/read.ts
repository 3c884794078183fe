// Types only: the SDK is loaded (`await import`) by the commands that talk to EC2, never by
// render, validate or a snapshot read (the speed issue, 11.0).
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { TargetSpec } from '../../src/compile/types.js';
import { ProviderError } from '../../src/errors.js';
import { ownerOfTagList } from '../kit/ownership.js';
import { classifyAwsError, credentialsError } from './errors.js';
import { DESCRIBE_PAGE_SIZE, SDK_MAX_ATTEMPTS } from './limits.js';
import type { AwsRawState, Ownership, RawPrefixList, RawSecurityGroup, RawSecurityGroupRule } from './state.js';

/** How the provider builds its EC2 clients (tests inject endpoint and static credentials). */
export interface AwsClientOptions {
  /** Endpoint override when neither the target nor BULKHEAD_AWS_ENDPOINT sets one. */
  readonly endpoint?: string;
  /** Static credentials instead of the default provider chain. */
  readonly credentials?: {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken?: string;
  };
  /** SDK attempts per call (adaptive retry). */
  readonly maxAttempts?: number;
  /** Builds the client for a target instead (full control in tests). */
  readonly client?: (target: TargetSpec & { kind: 'aws' }, endpoint: string | undefined) => EC2Client;
}

/**
 * The endpoint for a target: the target's own, then the caller's (the engine resolves
 * BULKHEAD_AWS_ENDPOINT into it), then the provider's option.
 */
export function endpointFor(
  target: TargetSpec & { kind: 'aws' },
  live: string | undefined,
  options: AwsClientOptions,
): string | undefined {
  return target.aws.endpoint ?? live ?? options.endpoint;
}

/** The EC2 SDK module, loaded on first use. */
export function loadEc2Sdk(): Promise<typeof import('@aws-sdk/client-ec2')> {
  return import('@aws-sdk/client-ec2');
}

/**
 * An EC2 client for a target: adaptive retry (throttling backs off), the default credential chain
 * or a profile. Its credentials are resolved before it is returned, so a machine without any fails
 * here with one line per target (`credentialsError`), before the first call.
 */
export async function createEc2Client(
  target: TargetSpec & { kind: 'aws' },
  live: string | undefined,
  options: AwsClientOptions,
): Promise<EC2Client> {
  const endpoint = endpointFor(target, live, options);
  if (options.client) return options.client(target, endpoint);
  const { EC2Client } = await loadEc2Sdk();
  const client = new EC2Client({
    region: target.aws.region,
    retryMode: 'adaptive',
    maxAttempts: options.maxAttempts ?? SDK_MAX_ATTEMPTS,
    ...(endpoint ? { endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(target.aws.profile ? { profile: target.aws.profile } : {}),
  });
  try {
    await client.config.credentials();
  } catch (err) {
    client.destroy();
    throw credentialsError(err, target) ?? classifyAwsError(err, `resolving AWS credentials for ${target.name}`);
  }
  return client;
}

/** Up to n values per Filter (the API's limit is 200 values per filter). */
function chunks<T>(items: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += n) out.push(items.slice(i, i + n));
  return out;
}

/**
 * Reads one VPC through the API: paginated DescribeSecurityGroups (vpc-id), DescribeSecurityGroupRules
 * (group-id of the model's groups, 200 per call), DescribeManagedPrefixLists, and the entries of the
 * model's own lists (with no owner given: every group's rules, every tagged list's entries). The number of calls grows with pages (1,000 objects each), not with objects.
 */
export async function readLiveRaw(
  client: EC2Client,
  target: TargetSpec & { kind: 'aws' },
  owner: Ownership | undefined,
): Promise<AwsRawState> {
  const model = owner?.model;
  const adopted = new Set((owner?.segments ?? []).flatMap((s) => (s.aws?.groupId ? [s.aws.groupId] : [])));
  const {
    paginateDescribeManagedPrefixLists,
    paginateDescribeSecurityGroupRules,
    paginateDescribeSecurityGroups,
    paginateGetManagedPrefixListEntries,
  } = await loadEc2Sdk();
  try {
    const SecurityGroups: RawSecurityGroup[] = [];
    for await (const page of paginateDescribeSecurityGroups(
      { client, pageSize: DESCRIBE_PAGE_SIZE },
      { Filters: [{ Name: 'vpc-id', Values: [target.aws.vpc] }] },
    )) {
      SecurityGroups.push(...(page.SecurityGroups ?? []));
    }
    const SecurityGroupRules: RawSecurityGroupRule[] = [];
    // Rules of the groups the model owns or adopts (every group for an export): others never enter a plan.
    const ids = SecurityGroups.flatMap((g) =>
      g.GroupId &&
      (model === undefined || owner?.unowned === true || ownerOfTagList(g.Tags) === model || adopted.has(g.GroupId))
        ? [g.GroupId]
        : [],
    );
    for (const chunk of chunks(ids, 200)) {
      for await (const page of paginateDescribeSecurityGroupRules(
        { client, pageSize: DESCRIBE_PAGE_SIZE },
        { Filters: [{ Name: 'group-id', Values: chunk }] },
      )) {
        SecurityGroupRules.push(...(page.SecurityGroupRules ?? []));
      }
    }
    const PrefixLists: RawPrefixList[] = [];
    for await (const page of paginateDescribeManagedPrefixLists({ client, pageSize: 100 }, {})) {
      PrefixLists.push(...(page.PrefixLists ?? []));
    }
    const Entries: Record<string, { Cidr?: string; Description?: string }[]> = {};
    const everyCustomerList = owner?.unowned === true;
    for (const l of PrefixLists) {
      const listOwner = ownerOfTagList(l.Tags);
      // Reachability also needs the entries of other teams' lists (AWS-managed ones are not listed).
      const foreign = everyCustomerList && l.OwnerId !== 'AWS';
      if (!l.PrefixListId || ((listOwner === undefined || (model !== undefined && listOwner !== model)) && !foreign))
        continue;
      const entries: { Cidr?: string; Description?: string }[] = [];
      for await (const page of paginateGetManagedPrefixListEntries(
        { client, pageSize: 100 },
        { PrefixListId: l.PrefixListId },
      )) {
        entries.push(...(page.Entries ?? []));
      }
      Entries[l.PrefixListId] = entries;
    }
    return { SecurityGroups, SecurityGroupRules, PrefixLists, Entries };
  } catch (err) {
    throw (
      credentialsError(err, target) ??
      classifyAwsError(err, `reading ${target.name} (${target.aws.region} ${target.aws.vpc})`)
    );
  }
}

/** A live read of a target's raw state with a client of its own (destroyed afterwards unless injected). */
export async function readAwsLive(
  target: TargetSpec,
  endpoint: string | undefined,
  options: AwsClientOptions,
  owner: Ownership | undefined,
): Promise<AwsRawState> {
  if (target.kind !== 'aws') throw new ProviderError(`target ${target.name} is not an AWS target`);
  const client = await createEc2Client(target, endpoint, options);
  try {
    return await readLiveRaw(client, target, owner);
  } finally {
    if (!options.client) client.destroy();
  }
}

/** Live raw state for `bulkhead export` (every group of the VPC, the model's lists' entries). */
export function exportRaw(
  target: TargetSpec,
  endpoint: string | undefined,
  options: AwsClientOptions,
): Promise<AwsRawState> {
  return readAwsLive(target, endpoint, options, undefined);
}
