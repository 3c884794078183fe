import { randomUUID } from 'node:crypto';
import type { TargetSpec } from '../../src/compile/types.js';
import { ProviderError } from '../../src/errors.js';
import {
  lockObjectName,
  type LockAttempt,
  type LockRecord,
  type LockRequest,
  type TargetLock,
  type TargetLocker,
} from '../../src/lock.js';
import type { LiveOptions } from '../../src/provider.js';
import { descriptionMarker, ownerOfDescription } from '../kit/ownership.js';
import { isGcpLockRule, LOCK_MARKER } from './canonical.js';
import { classifyGcpError, errorDetails } from './errors.js';
import type { GcpClientFactory, GcpClients } from './read.js';

/**
 * The GCP target lock: a VPC firewall rule `<model>-bulkhead-lock`. Firewall names are unique per
 * project, so `firewalls.insert` is the create-only step (a second run gets 409 alreadyExists).
 * The rule cannot affect traffic four times over: `disabled: true`, it only denies, its source is
 * one TEST-NET-1 address (RFC 5737, never routed) and it targets a tag no segment uses. Its
 * description holds the ownership marker, LOCK_MARKER and the holder as JSON; read (state.ts)
 * skips rules carrying LOCK_MARKER (canonical.ts).
 */

/** Priority of the lock rule: the lowest precedence there is, should it ever be enabled by hand. */
const LOCK_PRIORITY = 65535;
/** Operation waits before an insert is reported as not done (each wait is up to 2 minutes server-side). */
const MAX_WAITS = 30;

/** Name of the lock rule of a model. */
export const gcpLockName = lockObjectName;

/** The GCP `Provider.lock`; `clients` as for the provider (default: the real REST clients, loaded lazily). */
export function createGcpLocker(options: { readonly clients?: GcpClientFactory } = {}): TargetLocker {
  return {
    lockFor(target: TargetSpec, model: string, live: LiveOptions): TargetLock {
      if (target.kind !== 'gcp')
        throw new ProviderError(`gcp: target ${target.name} is not a GCP target (it is a ${target.kind} target)`);
      return gcpLock(target, model, target.gcp.endpoint ?? live.endpoint, options.clients);
    },
  };
}

function gcpLock(
  target: TargetSpec & { kind: 'gcp' },
  model: string,
  endpoint: string | undefined,
  factory: GcpClientFactory | undefined,
): TargetLock {
  const { project, network } = target.gcp;
  const name = gcpLockName(model);
  const description = `firewall rule ${name} in project ${project}`;

  async function withClients<T>(doing: string, fn: (clients: GcpClients) => Promise<T>): Promise<T> {
    // The SDK loads only when a lock is used (read.ts imports @google-cloud/compute).
    const make = factory ?? (await import('./read.js')).createGcpClients;
    const clients = await make(endpoint);
    try {
      return await fn(clients);
    } catch (err) {
      throw classifyGcpError(err, `${doing} the lock of ${target.name} (${description})`);
    } finally {
      await clients.close();
    }
  }

  /** Awaits an operation until DONE and throws its error, as the applier does. */
  async function settle(clients: GcpClients, first: unknown): Promise<void> {
    let op = ((first as { latestResponse?: unknown } | undefined)?.latestResponse ?? first) as
      | {
          name?: string | null;
          status?: unknown;
          error?: { errors?: { code?: string | null; message?: string | null }[] | null } | null;
        }
      | undefined;
    for (let i = 0; op?.status !== 'DONE' && op?.status !== 2; i++) {
      if (!op?.name || i >= MAX_WAITS)
        throw new ProviderError(`gcp: the operation on ${description} did not finish`, 'operationTimeout', true);
      const [waited] = await clients.operations.wait({ project, operation: op.name });
      op = waited as typeof op;
    }
    const e = op?.error?.errors?.[0];
    if (e)
      throw new ProviderError(`gcp: ${description}: ${e.code ?? ''} ${e.message ?? ''}`.trim(), e.code ?? undefined);
  }

  async function read(): Promise<LockRecord | undefined> {
    return withClients('reading', async (clients) => {
      let fw: { id?: unknown; description?: string | null } | undefined;
      try {
        [fw] = await clients.firewalls.get({ project, firewall: name });
      } catch (err) {
        if (errorDetails(err).status === 404) return undefined;
        throw err;
      }
      const text = fw?.description ?? '';
      if (ownerOfDescription(text) !== model || !isGcpLockRule(fw ?? {})) {
        throw new ProviderError(
          `target ${target.name}: ${description} exists without "${descriptionMarker(model)} ${LOCK_MARKER}" in its description; ` +
            `it is not a Bulkhead lock and Bulkhead will not touch it: rename or delete it`,
          'LockForeign',
        );
      }
      let holder: Partial<LockRequest> = {};
      try {
        holder = JSON.parse(text.slice(text.indexOf('{'))) as Partial<LockRequest>;
      } catch {
        // Edited by hand: what is missing reads as unknown, and no expiry means expired.
      }
      return {
        model,
        holder: typeof holder.holder === 'string' ? holder.holder : 'unknown',
        pid: typeof holder.pid === 'number' ? holder.pid : 0,
        runId: typeof holder.runId === 'string' ? holder.runId : 'unknown',
        since: typeof holder.since === 'string' ? holder.since : 'unknown',
        expires: typeof holder.expires === 'string' ? holder.expires : '1970-01-01T00:00:00Z',
        ...(fw?.id !== undefined && fw.id !== null ? { objectId: String(fw.id) } : {}),
      };
    });
  }

  return {
    description,
    async tryCreate(request: LockRequest): Promise<LockAttempt> {
      const json = JSON.stringify({
        holder: request.holder,
        pid: request.pid,
        runId: request.runId,
        since: request.since,
        expires: request.expires,
      });
      try {
        await withClients('taking', async (clients) => {
          const [op] = await clients.firewalls.insert({
            project,
            // A fresh id per attempt: a replayed id could answer with an earlier attempt's outcome.
            requestId: randomUUID(),
            firewallResource: {
              name,
              network: `projects/${project}/global/networks/${network}`,
              description: `Bulkhead lock (never matches traffic; bulkhead force-unlock ${target.name} removes it) ${descriptionMarker(model)} ${LOCK_MARKER} ${json}`,
              direction: 'INGRESS',
              priority: LOCK_PRIORITY,
              disabled: true,
              denied: [{ IPProtocol: 'all' }],
              sourceRanges: ['192.0.2.1/32'],
              targetTags: [name],
            },
          });
          await settle(clients, op);
        });
      } catch (err) {
        if (err instanceof ProviderError && err.code === 'alreadyExists') return { kind: 'held', record: await read() };
        throw err;
      }
      const mine = await read();
      if (!mine || mine.runId !== request.runId) return { kind: 'held', record: mine };
      return { kind: 'acquired', record: mine };
    },
    read,
    async remove(record: LockRecord): Promise<'removed' | 'gone'> {
      // firewalls.delete takes a name, not an id: check the id first, so a lock re-created by
      // another run is left alone (a small window remains between the get and the delete).
      const now = await read();
      if (!now || (record.objectId !== undefined && now.objectId !== record.objectId)) return 'gone';
      try {
        await withClients('releasing', async (clients) => {
          const [op] = await clients.firewalls.delete({ project, firewall: name, requestId: randomUUID() });
          await settle(clients, op);
        });
        return 'removed';
      } catch (err) {
        if (err instanceof ProviderError && err.code === 'notFound') return 'gone';
        throw err;
      }
    },
  };
}
