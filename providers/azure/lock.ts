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
import { classifyAzureError, statusOf } from './errors.js';
import type { AzureProviderOptions } from './read.js';
import { OWNER_KEY, ownerOfTagMap, ownerTagMap } from '../kit/ownership.js';

/**
 * The Azure target lock: an application security group `<model>-bulkhead-lock` in the target's
 * resource group, created with `If-None-Match: *` (ARM's conditional create: 412
 * PreconditionFailed when it exists) and removed with `If-Match: <etag>` (only the version this
 * run read). An ASG grants nothing by itself and no rule names this one; its tags hold the
 * ownership marker, LOCK_TAG and the holder; read (read.ts) skips ASGs carrying LOCK_TAG.
 */

/** Tag key of the lock ASG (value `true`); read and plan ignore ASGs carrying it. */
export const LOCK_TAG = LOCK_TAGS.lock;
const { holder: HOLDER_TAG, pid: PID_TAG, run: RUN_TAG, since: SINCE_TAG, expires: EXPIRES_TAG } = LOCK_TAGS;

/** Name of the lock ASG of a model. */
export const azureLockName = lockObjectName;

/** The Azure `Provider.lock`; `options` as for the provider (credential, endpoint, poll interval). */
export function createAzureLocker(options: AzureProviderOptions = {}): TargetLocker {
  return {
    lockFor(target: TargetSpec, model: string, live: LiveOptions): TargetLock {
      if (target.kind !== 'azure') throw new ProviderError(`target ${target.name} is not an Azure target`);
      return azureLock(target, model, live.endpoint, options);
    },
  };
}

function azureLock(
  target: TargetSpec & { kind: 'azure' },
  model: string,
  endpoint: string | undefined,
  options: AzureProviderOptions,
): TargetLock {
  const rg = target.azure.resourceGroup;
  const name = azureLockName(model);
  const description = `application security group ${name} in resource group ${rg}`;
  const lro = options.pollIntervalMs !== undefined ? { updateIntervalInMs: options.pollIntervalMs } : {};

  // The SDK loads only when a lock is used (read.ts imports @azure/arm-network).
  const client = async () => (await import('./read.js')).createNetworkClient(target, options, endpoint);

  async function read(): Promise<LockRecord | undefined> {
    const c = await client();
    let asg: { etag?: string; tags?: { [key: string]: string } };
    try {
      asg = await c.applicationSecurityGroups.get(rg, name);
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw classifyAzureError(err, `reading the lock of ${target.name} (${description})`);
    }
    const tags = asg.tags ?? {};
    if (ownerOfTagMap(tags) !== model || tags[LOCK_TAG] !== 'true') {
      throw new ProviderError(
        `target ${target.name}: ${description} exists without the tags ${OWNER_KEY}=${model} and ${LOCK_TAG}=true; ` +
          `it is not a Bulkhead lock and Bulkhead will not touch it: rename or delete it`,
        'LockForeign',
      );
    }
    return {
      model,
      holder: tags[HOLDER_TAG] ?? 'unknown',
      pid: Number(tags[PID_TAG] ?? 0),
      runId: tags[RUN_TAG] ?? 'unknown',
      since: tags[SINCE_TAG] ?? 'unknown',
      expires: tags[EXPIRES_TAG] ?? '1970-01-01T00:00:00Z',
      ...(asg.etag ? { objectId: asg.etag } : {}),
    };
  }

  return {
    description,
    async tryCreate(request: LockRequest): Promise<LockAttempt> {
      const c = await client();
      try {
        await c.applicationSecurityGroups.beginCreateOrUpdateAndWait(
          rg,
          name,
          {
            location: target.azure.location,
            tags: {
              ...ownerTagMap(model),
              [LOCK_TAG]: 'true',
              [HOLDER_TAG]: request.holder,
              [PID_TAG]: String(request.pid),
              [RUN_TAG]: request.runId,
              [SINCE_TAG]: request.since,
              [EXPIRES_TAG]: request.expires,
            },
          },
          { ...lro, requestOptions: { customHeaders: { 'If-None-Match': '*' } } },
        );
      } catch (err) {
        if (statusOf(err) === 412) return { kind: 'held', record: await read() };
        throw classifyAzureError(err, `taking the lock of ${target.name} (${description})`);
      }
      const mine = await read();
      if (!mine || mine.runId !== request.runId) return { kind: 'held', record: mine };
      return { kind: 'acquired', record: mine };
    },
    read,
    async remove(record: LockRecord): Promise<'removed' | 'gone'> {
      const c = await client();
      try {
        await c.applicationSecurityGroups.beginDeleteAndWait(rg, name, {
          ...lro,
          // Only the version this run saw: a lock re-created by another run has another etag.
          ...(record.objectId ? { requestOptions: { customHeaders: { 'If-Match': record.objectId } } } : {}),
        });
      } catch (err) {
        if (statusOf(err) === 412 || statusOf(err) === 404) return 'gone';
        throw classifyAzureError(err, `releasing the lock of ${target.name} (${description})`);
      }
      return 'removed';
    },
  };
}
