import { randomUUID } from 'node:crypto';
import type { TargetSpec } from '../../src/compile/types.js';
import { InternalError, ProviderError } from '../../src/errors.js';
import type { Change, ChildChange, Resource } from '../../src/plan/types.js';
import type { Applier, ApplierOptions, ApplyStep } from '../../src/provider.js';
import {
  FIREWALL_TYPE,
  firewallBody,
  firewallSpecOf,
  POLICY_TYPE,
  policyRuleBody,
  policyRuleSpecOf,
  type FirewallSpec,
  type PolicyRuleSpec,
} from './canonical.js';
import { createKeyedSerializer } from '../kit/serializer.js';
import { classifyGcpError, errorDetails, gcpRetryPolicy, operationError, type RetryOptions } from './errors.js';
import { createGcpClients, type GcpClientFactory, type GcpClients } from './read.js';

/**
 * Apply: the engine's steps as Compute API calls.
 *
 *   create  firewall: insert (the whole rule; its `add` step then has nothing left to do)
 *   add     firewall: patch, or update (PUT) when patch cannot express the change;
 *           policy: addRule / patchRule for created / changed owned rules
 *   remove  policy: removeRule
 *   delete  firewall: delete
 *
 * Every write carries a requestId (UUID) that stays the same across retries, so a retry after a
 * lost response is deduplicated by the API. Each write's operation is awaited until DONE
 * (`globalOperations.wait` may return before it is) and its `error` checked. 429/503 are retried
 * with our own backoff (the SDK does not retry them on REST).
 */

/** Options of the GCP applier. */
export interface GcpApplyOptions {
  readonly clients?: GcpClientFactory;
  readonly retry?: RetryOptions;
  /** `wait` calls before an operation that is still not DONE is reported as timed out (default 30, about an hour). */
  readonly maxWaits?: number;
}

type FirewallField = keyof Omit<FirewallSpec, 'name' | 'network' | 'direction'>;

/** Body fields of a firewall spec field. */
function apiFields(field: FirewallField, spec: FirewallSpec): Record<string, unknown> {
  const body = firewallBody(spec);
  switch (field) {
    case 'action':
    case 'rules':
      return spec.action === 'deny' ? { denied: body['denied'] } : { allowed: body['allowed'] };
    case 'logging':
      return { logConfig: body['logConfig'] };
    default:
      return { [field]: body[field] ?? [] };
  }
}

/**
 * How to change a firewall in place: `patch` with the changed fields, or `update` (PUT, the whole
 * resource) when patch cannot say it. The REST encoder drops empty arrays, so a patch can never
 * clear a list (`sourceTags: []` is not sent); switching tags ↔ service accounts or allow ↔ deny
 * means clearing one side; an empty description is dropped the same way.
 */
export function firewallWrite(
  before: FirewallSpec,
  after: FirewallSpec,
):
  | { kind: 'none' }
  | { kind: 'patch'; body: Record<string, unknown> }
  | { kind: 'update'; body: Record<string, unknown> } {
  const fields: FirewallField[] = [
    'priority',
    'action',
    'rules',
    'sourceRanges',
    'sourceTags',
    'sourceServiceAccounts',
    'destinationRanges',
    'targetTags',
    'targetServiceAccounts',
    'disabled',
    'logging',
    'description',
  ];
  const changed = fields.filter((f) => JSON.stringify(before[f]) !== JSON.stringify(after[f]));
  if (changed.length === 0) return { kind: 'none' };
  const clears = changed.some((f) => {
    const v = after[f];
    return (Array.isArray(v) && v.length === 0) || f === 'action' || (f === 'description' && v === '');
  });
  if (clears) return { kind: 'update', body: firewallBody(after) };
  const body: Record<string, unknown> = {};
  for (const f of changed) Object.assign(body, apiFields(f, after));
  return { kind: 'patch', body };
}

/** The applier of one GCP target. */
export function createGcpApplier(
  target: TargetSpec,
  options: ApplierOptions,
  gcpOptions: GcpApplyOptions = {},
): Applier {
  if (target.kind !== 'gcp') throw new InternalError(`gcp applier for the ${target.kind} target ${target.name}`);
  const project = target.gcp.project;
  const endpoint = target.gcp.endpoint ?? options.endpoint;
  const factory = gcpOptions.clients ?? createGcpClients;
  const retry = gcpRetryPolicy(gcpOptions.retry);
  const maxWaits = gcpOptions.maxWaits ?? 30;
  const progress = options.onProgress ?? (() => undefined);
  // Writes to one firewall policy are serialized, per policy (the kit's keyed serializer):
  // concurrent rule writes to one policy fail with resourceNotReady (cloud-semantics §3.5).
  const policyWrites = createKeyedSerializer();
  // One set of clients shared by the steps in flight (making one costs ~150 ms of proto loading);
  // closed when no step is running so nothing keeps the process alive after the apply.
  let shared: { clients: Promise<GcpClients>; users: number } | undefined;
  const acquire = (): Promise<GcpClients> => {
    // Awaited by the step that acquires it; a rejection (no credentials) is that step's error.
    shared ??= { clients: Promise.resolve().then(() => factory(endpoint, target.name)), users: 0 };
    shared.users++;
    return shared.clients;
  };
  const release = async (): Promise<void> => {
    if (!shared) return;
    shared.users--;
    if (shared.users === 0) {
      const { clients } = shared;
      shared = undefined;
      // Clients that never came into being (the factory failed) have nothing to close.
      const made = await clients.catch(() => undefined);
      await made?.close();
    }
  };

  /** One write: the same requestId on every attempt, then the operation awaited and checked. */
  async function mutate(
    clients: GcpClients,
    what: string,
    call: (requestId: string) => Promise<unknown>,
    options: { readonly notFoundOk?: boolean } = {},
  ): Promise<void> {
    const requestId = randomUUID();
    let response: unknown;
    try {
      response = await retry.run(what, () => call(requestId));
    } catch (err) {
      if (options.notFoundOk && errorDetails((err as ProviderError).cause ?? err).status === 404) return;
      throw err;
    }
    const first = (Array.isArray(response) ? response[0] : response) as { latestResponse?: unknown } | undefined;
    let op = (first?.latestResponse ?? first) as
      | { name?: string | null; status?: unknown; error?: Parameters<typeof operationError>[1]['error'] }
      | undefined;
    const name = op?.name;
    if (!name) throw new ProviderError(`gcp: ${what}: the API returned no operation`, 'noOperation');
    for (let i = 0; String(op?.status) !== 'DONE'; i++) {
      if (i >= maxWaits)
        throw new ProviderError(
          `gcp: ${what}: operation ${name} still not DONE after ${maxWaits} waits`,
          'operationTimeout',
          true,
        );
      const [waited] = await retry.run(`globalOperations.wait ${name}`, () =>
        clients.operations.wait({ project, operation: name }),
      );
      op = waited as typeof op;
    }
    if (op?.error?.errors && op.error.errors.length > 0) throw operationError(what, op);
    progress(`gcp ${target.name}: ${what} done`);
  }

  async function runFirewall(clients: GcpClients, step: ApplyStep): Promise<void> {
    const change: Change = step.change;
    switch (step.phase) {
      case 'create': {
        const spec = firewallSpecOf(requireAfter(change));
        await mutate(clients, `firewalls.insert ${spec.name}`, (requestId) =>
          clients.firewalls.insert({ project, requestId, firewallResource: firewallBody(spec) }),
        );
        return;
      }
      case 'add': {
        if (change.action !== 'update') return; // created whole by its create step
        const before = firewallSpecOf(requireBefore(change));
        const after = firewallSpecOf(requireAfter(change));
        const write = firewallWrite(before, after);
        if (write.kind === 'patch') {
          await mutate(clients, `firewalls.patch ${after.name}`, (requestId) =>
            clients.firewalls.patch({ project, firewall: after.name, requestId, firewallResource: write.body }),
          );
        } else if (write.kind === 'update') {
          await mutate(clients, `firewalls.update ${after.name}`, (requestId) =>
            clients.firewalls.update({ project, firewall: after.name, requestId, firewallResource: write.body }),
          );
        }
        return;
      }
      case 'remove':
        return; // a firewall's one child goes with the firewall
      case 'delete': {
        const name = requireBefore(change).name;
        await mutate(
          clients,
          `firewalls.delete ${name}`,
          (requestId) => clients.firewalls.delete({ project, firewall: name, requestId }),
          {
            notFoundOk: true,
          },
        );
        return;
      }
    }
  }

  async function runPolicy(clients: GcpClients, step: ApplyStep): Promise<void> {
    const policy = step.change.name;
    switch (step.phase) {
      case 'create':
        throw new ProviderError(
          `gcp: firewall policy ${policy} does not exist; Bulkhead manages rules inside it but does not create it: ` +
            `\`gcloud compute network-firewall-policies create ${policy} --global --project ${project}\` and associate it with network ${target.kind === 'gcp' ? target.gcp.network : ''}`,
          'notFound',
        );
      case 'delete':
        throw new ProviderError(
          `gcp: firewall policy ${policy} is not owned by the model and is never deleted`,
          'notOwned',
        );
      case 'add':
      case 'remove':
        for (const child of step.children) await runPolicyRule(clients, policy, child);
        return;
    }
  }

  async function runPolicyRule(clients: GcpClients, policy: string, child: ChildChange): Promise<void> {
    const firewallPolicy = policy;
    switch (child.action) {
      case 'create': {
        const spec = policyRuleSpecOf(child.after!);
        await mutate(clients, `networkFirewallPolicies.addRule ${policy} priority ${spec.priority}`, (requestId) =>
          clients.policies.addRule({
            project,
            firewallPolicy,
            requestId,
            firewallPolicyRuleResource: policyRuleBody(spec),
          }),
        );
        return;
      }
      case 'update': {
        const before = policyRuleSpecOf(child.before!);
        const after = policyRuleSpecOf(child.after!);
        if (clearsPolicyList(before, after)) {
          // patchRule cannot clear a list (empty arrays are not sent): replace the rule.
          await mutate(
            clients,
            `networkFirewallPolicies.removeRule ${policy} priority ${before.priority}`,
            (requestId) =>
              clients.policies.removeRule({ project, firewallPolicy, priority: before.priority, requestId }),
          );
          await mutate(clients, `networkFirewallPolicies.addRule ${policy} priority ${after.priority}`, (requestId) =>
            clients.policies.addRule({
              project,
              firewallPolicy,
              requestId,
              firewallPolicyRuleResource: policyRuleBody(after),
            }),
          );
          return;
        }
        await mutate(clients, `networkFirewallPolicies.patchRule ${policy} priority ${after.priority}`, (requestId) =>
          clients.policies.patchRule({
            project,
            firewallPolicy,
            priority: after.priority,
            requestId,
            firewallPolicyRuleResource: policyRuleBody(after),
          }),
        );
        return;
      }
      case 'delete': {
        const spec = policyRuleSpecOf(child.before!);
        await mutate(clients, `networkFirewallPolicies.removeRule ${policy} priority ${spec.priority}`, (requestId) =>
          clients.policies.removeRule({ project, firewallPolicy, priority: spec.priority, requestId }),
        );
        return;
      }
    }
  }

  return {
    async run(step: ApplyStep): Promise<void> {
      const pending = acquire();
      try {
        const clients = await pending;
        if (step.change.type === FIREWALL_TYPE) await runFirewall(clients, step);
        else if (step.change.type === POLICY_TYPE) {
          await policyWrites.run(step.change.name, () => runPolicy(clients, step));
        } else throw new InternalError(`gcp applier: unknown resource type ${step.change.type}`);
      } catch (err) {
        throw err instanceof ProviderError || err instanceof InternalError ? err : classifyGcpError(err, step.id);
      } finally {
        await release();
      }
    },
  };
}

function clearsPolicyList(before: PolicyRuleSpec, after: PolicyRuleSpec): boolean {
  const lists = ['destFqdns', 'destIpRanges', 'srcIpRanges', 'targetServiceAccounts', 'targetResources'] as const;
  return (
    lists.some((k) => before[k].length > 0 && after[k].length === 0) ||
    (before.description !== '' && after.description === '')
  );
}

function requireAfter(change: Change): Resource {
  if (!change.after) throw new InternalError(`${change.address}: ${change.action} without a desired object`);
  return change.after;
}

function requireBefore(change: Change): Resource {
  if (!change.before) throw new InternalError(`${change.address}: ${change.action} without a live object`);
  return change.before;
}
