import type { EC2Client } from '@aws-sdk/client-ec2';
import type { TargetSpec } from '../../src/compile/types.js';
import { ProviderError } from '../../src/errors.js';
import {
  LOCK_TAGS,
  lockObjectName,
  type LockAttempt,
  type LockRecord,
  type LockRequest,
  type TargetLock,
  type TargetLocker,
} from '../../src/lock.js';
import type { LiveOptions } from '../../src/provider.js';
import { OWNER_KEY, ownerTag } from '../kit/ownership.js';
import { awsErrorCode, classifyAwsError, NOT_FOUND_CODES } from './errors.js';
import type { AwsClientOptions } from './read.js';

/**
 * The AWS target lock: a security group `<model>-bulkhead-lock` in the target VPC. Group names are
 * unique per VPC, so CreateSecurityGroup is the atomic create-only step (a second run gets
 * InvalidGroup.Duplicate). The group carries the ownership tag plus LOCK_TAG and the holder tags,
 * set atomically by TagSpecifications; its default egress rule is revoked, it is attached to
 * nothing, so it never affects traffic, and read (state.ts) skips every group with LOCK_TAG.
 */

/** Tag key that marks the lock group (value `true`); read and plan ignore groups carrying it. */
export const LOCK_TAG = LOCK_TAGS.lock;
const { holder: HOLDER_TAG, pid: PID_TAG, run: RUN_TAG, since: SINCE_TAG, expires: EXPIRES_TAG } = LOCK_TAGS;

/** Name of the lock group of a model. */
export const awsLockName = lockObjectName;

/** The AWS `Provider.lock`: `options` as for the provider's read (endpoint, credentials, client). */
export function createAwsLocker(options: AwsClientOptions = {}): TargetLocker {
  return {
    lockFor(target: TargetSpec, model: string, live: LiveOptions): TargetLock {
      if (target.kind !== 'aws') throw new ProviderError(`target ${target.name} is not an AWS target`);
      return awsLock(target, model, live.endpoint, options);
    },
  };
}

function awsLock(
  target: TargetSpec & { kind: 'aws' },
  model: string,
  liveEndpoint: string | undefined,
  options: AwsClientOptions,
): TargetLock {
  const name = awsLockName(model);
  const vpc = target.aws.vpc;
  const description = `security group ${name} in ${vpc}`;

  // One client per call: a lock lives for a whole apply, and the SDK client holds sockets open.
  async function withClient<T>(
    doing: string,
    fn: (client: EC2Client, ec2: typeof import('@aws-sdk/client-ec2')) => Promise<T>,
  ): Promise<T> {
    // The provider's own client (read.ts): same endpoint, retry and credential check, so a run
    // without credentials fails here with the same one line as read. Loaded lazily, as the SDK is.
    const { createEc2Client, loadEc2Sdk } = await import('./read.js');
    const ec2 = await loadEc2Sdk();
    const client = await createEc2Client(target, liveEndpoint, options);
    try {
      return await fn(client, ec2);
    } catch (err) {
      throw classifyAwsError(err, `${doing} the lock of ${target.name} (${description})`);
    } finally {
      if (!options.client) client.destroy();
    }
  }

  async function read(): Promise<LockRecord | undefined> {
    return withClient('reading', async (client, ec2) => {
      const out = await client.send(
        new ec2.DescribeSecurityGroupsCommand({
          Filters: [
            { Name: 'vpc-id', Values: [vpc] },
            { Name: 'group-name', Values: [name] },
          ],
        }),
      );
      const group = (out.SecurityGroups ?? []).find((g) => g.GroupName === name);
      if (!group) return undefined;
      const tag = (key: string) => group.Tags?.find((t) => t.Key === key)?.Value;
      if (tag(OWNER_KEY) !== model || tag(LOCK_TAG) !== 'true') {
        throw new ProviderError(
          `target ${target.name}: ${description} (${group.GroupId}) exists without the tags ${OWNER_KEY}=${model} and ${LOCK_TAG}=true; ` +
            `it is not a Bulkhead lock and Bulkhead will not touch it: rename or delete it`,
          'LockForeign',
        );
      }
      return {
        model,
        holder: tag(HOLDER_TAG) ?? 'unknown',
        pid: Number(tag(PID_TAG) ?? 0),
        runId: tag(RUN_TAG) ?? 'unknown',
        since: tag(SINCE_TAG) ?? 'unknown',
        // A lock without an expiry (tags edited by hand) counts as expired, so it can never block forever.
        expires: tag(EXPIRES_TAG) ?? '1970-01-01T00:00:00Z',
        ...(group.GroupId ? { objectId: group.GroupId } : {}),
      };
    });
  }

  return {
    description,
    async tryCreate(request: LockRequest): Promise<LockAttempt> {
      let groupId: string | undefined;
      try {
        groupId = await withClient('taking', async (client, ec2) => {
          const out = await client.send(
            new ec2.CreateSecurityGroupCommand({
              GroupName: name,
              VpcId: vpc,
              Description: `Bulkhead lock of model ${model}: no rules, attached to nothing; bulkhead force-unlock ${target.name} removes it`,
              TagSpecifications: [
                {
                  ResourceType: 'security-group',
                  Tags: [
                    ownerTag(model),
                    { Key: LOCK_TAG, Value: 'true' },
                    { Key: HOLDER_TAG, Value: request.holder },
                    { Key: PID_TAG, Value: String(request.pid) },
                    { Key: RUN_TAG, Value: request.runId },
                    { Key: SINCE_TAG, Value: request.since },
                    { Key: EXPIRES_TAG, Value: request.expires },
                  ],
                },
              ],
            }),
          );
          return out.GroupId;
        });
      } catch (err) {
        if (err instanceof ProviderError && err.code === 'InvalidGroup.Duplicate')
          return { kind: 'held', record: await read() };
        throw err;
      }
      if (!groupId)
        throw new ProviderError(`AWS: taking the lock of ${target.name}: CreateSecurityGroup returned no group id`);
      // A new group allows all egress; the lock group is attached to nothing, but it should not
      // even look like it allows anything. Best effort: the lock is already held.
      await withClient('emptying', async (client, ec2) => {
        await client.send(
          new ec2.RevokeSecurityGroupEgressCommand({
            GroupId: groupId,
            IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
          }),
        );
      }).catch(() => undefined);
      return { kind: 'acquired', record: { ...request, model, objectId: groupId } };
    },
    read,
    async remove(record: LockRecord): Promise<'removed' | 'gone'> {
      if (!record.objectId) throw new ProviderError(`target ${target.name}: the lock record has no group id`);
      try {
        await withClient('releasing', async (client, ec2) => {
          // By id: a lock re-created by another run meanwhile has another id and stays.
          await client.send(new ec2.DeleteSecurityGroupCommand({ GroupId: record.objectId }));
        });
        return 'removed';
      } catch (err) {
        const code = err instanceof ProviderError ? err.code : awsErrorCode(err);
        if (code !== undefined && NOT_FOUND_CODES.has(code)) return 'gone';
        throw err;
      }
    },
  };
}
