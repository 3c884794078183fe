// Types only: the SDK is loaded with `await import()` by createGcpClients, so render, validate
// and snapshot reads never pay for it (issue 11.0).
import type { FirewallsClient, GlobalOperationsClient, NetworkFirewallPoliciesClient } from '@google-cloud/compute';
import type { TargetSpec } from '../../src/compile/types.js';
import type { GcpTargetConfig } from './target.js';
import { ProviderError } from '../../src/errors.js';
import type { FirewallJsonIn, PolicyRuleJsonIn } from './canonical.js';
import { credentialsError, errorDetails, gcpRetryPolicy, type RetryOptions } from './errors.js';
import type { GcpRawState } from './state.js';

/**
 * Read, live: the raw objects of a GCP target from the Compute API (paginated `firewalls.list`,
 * the named policy's rules) through @google-cloud/compute, and nothing else (state.ts decides
 * ownership and canonicalizes, snapshot.ts reads the same shapes from `gcloud` exports).
 */

/** The Compute clients a GCP target needs (REST transport). */
export interface GcpClients {
  readonly firewalls: FirewallsClient;
  readonly policies: NetworkFirewallPoliciesClient;
  readonly operations: GlobalOperationsClient;
  close(): Promise<void>;
}

/**
 * Makes clients for an endpoint (undefined = the real API with Application Default Credentials);
 * `target` names the target in a credentials error.
 */
export type GcpClientFactory = (endpoint: string | undefined, target?: string) => GcpClients | Promise<GcpClients>;

/**
 * Real clients, the SDK loaded on first use. With an `http://host:port` endpoint (an emulator)
 * the port is passed explicitly (the client's default 443 would override one written in
 * apiEndpoint) and no credentials are sent (PassThroughClient). Otherwise Application Default
 * Credentials are resolved here, before any call, so a missing login is one ProviderError with
 * code `credentials` naming the chain and the fixes, not the SDK's trace from inside a list call.
 */
/**
 * The options every Compute REST client of a target is made with: an `http://` endpoint is an
 * emulator (explicit port, no credentials); otherwise Application Default Credentials, resolved
 * here so a missing credential is one clear error before the first call (the SDK then finds the
 * same credentials through its own copy of google-auth-library). Loads the SDK and google-auth.
 */
export async function gcpClientOptions(
  endpoint: string | undefined,
  target?: string,
): Promise<NonNullable<ConstructorParameters<typeof FirewallsClient>[0]>> {
  const auth = await import('google-auth-library');
  type Options = NonNullable<ConstructorParameters<typeof FirewallsClient>[0]>;
  let opts: Options = { fallback: true };
  const url = endpoint ? new URL(endpoint) : undefined;
  const protocol = url?.protocol.replace(/:$/, '');
  if (url) {
    opts = {
      apiEndpoint: url.hostname,
      port: Number(url.port || (protocol === 'http' ? 80 : 443)),
      protocol,
      fallback: true,
    } as Options;
  }
  if (protocol === 'http') return { ...opts, authClient: new auth.PassThroughClient() } as unknown as Options;
  const googleAuth = new auth.GoogleAuth({ scopes: ['https://www.googleapis.com/auth/cloud-platform'] });
  try {
    await googleAuth.getClient();
  } catch (err) {
    throw credentialsError(target, err);
  }
  return opts;
}

export async function createGcpClients(endpoint: string | undefined, target?: string): Promise<GcpClients> {
  const [{ FirewallsClient, GlobalOperationsClient, NetworkFirewallPoliciesClient }, opts] = await Promise.all([
    import('@google-cloud/compute'),
    gcpClientOptions(endpoint, target),
  ]);
  const firewalls = new FirewallsClient(opts);
  const policies = new NetworkFirewallPoliciesClient(opts);
  const operations = new GlobalOperationsClient(opts);
  return {
    firewalls,
    policies,
    operations,
    close: async () => {
      await Promise.all([firewalls.close(), policies.close(), operations.close()]);
    },
  };
}

/** Options of a read. */
export interface GcpReadOptions {
  readonly clients?: GcpClientFactory;
  /** `maxResults` of each `firewalls.list` page (default 500, the API's maximum). */
  readonly pageSize?: number;
  readonly retry?: RetryOptions;
}

/** Lists firewalls (all pages) and gets the named policy from the live API. */
export async function readGcpLive(
  gcp: GcpTargetConfig,
  clients: GcpClients,
  options: { readonly model?: string; readonly pageSize?: number; readonly retry?: RetryOptions },
): Promise<GcpRawState> {
  const retry = gcpRetryPolicy(options.retry);
  const firewalls = await retry.run(`firewalls.list ${gcp.project}`, async () => {
    const items: FirewallJsonIn[] = [];
    const request = {
      project: gcp.project,
      maxResults: options.pageSize ?? 500,
      // Server-side narrowing to our name space; ownership is still checked on the marker.
      ...(options.model ? { filter: `name eq "${options.model}-.*"` } : {}),
    };
    for await (const fw of clients.firewalls.listAsync(request, { autoPaginate: false }))
      items.push(fw as FirewallJsonIn);
    return items;
  });
  if (!gcp.firewallPolicy) return { firewalls, policyRules: null };
  const name = gcp.firewallPolicy;
  try {
    const [policy] = await retry.run(`networkFirewallPolicies.get ${name}`, () =>
      clients.policies.get({ project: gcp.project, firewallPolicy: name }),
    );
    return {
      firewalls,
      policyRules: (policy.rules ?? []) as PolicyRuleJsonIn[],
      policyJson: policy,
      ...(policy.selfLink ? { policySelfLink: policy.selfLink } : {}),
    };
  } catch (err) {
    if (errorDetails((err as ProviderError).cause ?? err).status === 404) return { firewalls, policyRules: undefined };
    throw err;
  }
}

/**
 * A live read of a GCP target's raw objects with clients of its own (closed afterwards): the
 * model's name space when `model` is given (a plan), else everything (`bulkhead export`).
 */
export async function readGcpTarget(
  target: TargetSpec,
  endpoint: string | undefined,
  options: GcpReadOptions,
  model?: string,
): Promise<GcpRawState> {
  if (target.kind !== 'gcp')
    throw new ProviderError(`gcp: target ${target.name} is not a GCP target (it is a ${target.kind} target)`);
  const clients = await (options.clients ?? createGcpClients)(target.gcp.endpoint ?? endpoint, target.name);
  try {
    return await readGcpLive(target.gcp, clients, {
      ...(model ? { model } : {}),
      ...(options.pageSize ? { pageSize: options.pageSize } : {}),
      ...(options.retry ? { retry: options.retry } : {}),
    });
  } finally {
    await clients.close();
  }
}
