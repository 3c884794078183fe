// Types only: the SDK is loaded by `createNetworkClient` (await import), so render, validate and
// snapshot reads never load @azure/* (issue 11.0: no SDK unless the command talks to the cloud).
import type { TokenCredential } from '@azure/identity';
import type { NetworkManagementClient, NetworkManagementClientOptionalParams } from '@azure/arm-network';
import type { TargetSpec } from '../../src/compile/types.js';
import { ProviderError } from '../../src/errors.js';
import type { RetryPolicy } from '../kit/retry.js';
import { azureRetryPolicy, statusOf, withCredentials, type RetrySettings } from './errors.js';
import { azureConfig, ruleCollectionGroupName } from './render.js';
import { inferModel, type RawAzureState, type WireAsg, type WireNsg, type WireRcg } from './state.js';
import { hasNsgMap, targetNsgs } from './nsgs.js';

/**
 * How many NSG GETs a read keeps in flight: a target with `nsgs` may have hundreds, and ARM's
 * read bucket (250 burst, 25/s refill per principal, cloud-semantics §2.6) is shared with the
 * other reads of the run, so a few at a time, never one per NSG at once.
 */
const NSG_READS_IN_FLIGHT = 8;

/** `fn` over `items`, at most `limit` at a time; results in the order of `items`. */
async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * Read, live: the raw objects of a target from ARM through @azure/arm-network, and nothing else
 * (state.ts makes the ProviderState of them, snapshot.ts reads the same shapes from files).
 */

/** How the provider talks to ARM; tests inject a credential and an http emulator. */
export interface AzureProviderOptions {
  /** Default: DefaultAzureCredential (environment, workload identity, managed identity, az CLI …). */
  readonly credential?: TokenCredential;
  /** ARM endpoint, used when neither the target nor BULKHEAD_AZURE_ENDPOINT names one. */
  readonly endpoint?: string;
  /** Environment to read BULKHEAD_AZURE_ENDPOINT from (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Extra SDK client options (retryOptions …). */
  readonly clientOptions?: NetworkManagementClientOptionalParams;
  /** Poll interval of long-running operations in ms (default: the SDK's 2000, or Retry-After). */
  readonly pollIntervalMs?: number;
  /** Bulkhead's own backoff for what the SDK does not retry. */
  readonly retry?: RetrySettings;
}

/** The ARM endpoint of a target: target's own, then BULKHEAD_AZURE_ENDPOINT, then the caller's, then the options'. */
export function resolveEndpoint(target: TargetSpec, options: AzureProviderOptions, live?: string): string | undefined {
  const env = options.env ?? process.env;
  return azureConfig(target).endpoint ?? env['BULKHEAD_AZURE_ENDPOINT'] ?? live ?? options.endpoint;
}

/**
 * A NetworkManagementClient for a target. An `http:` endpoint (an emulator) must be loopback: the
 * bearer-token policy is removed (it refuses plain http, and no token must travel in clear) and
 * the node client is allowed to speak http (cloud-semantics §2.8). The SDK modules are imported
 * here, on the first live call, and nowhere at load time.
 */
export async function createNetworkClient(
  target: TargetSpec,
  options: AzureProviderOptions,
  live?: string,
): Promise<NetworkManagementClient> {
  const cfg = azureConfig(target);
  const endpoint = resolveEndpoint(target, options, live);
  const insecure = endpoint?.startsWith('http:') === true;
  if (insecure && !/^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(\/|$)/.test(endpoint)) {
    throw new ProviderError(
      `refusing plain-http ARM endpoint ${endpoint}: only loopback emulators may use http`,
      'InsecureEndpoint',
    );
  }
  const [{ NetworkManagementClient: Client }, { bearerTokenAuthenticationPolicyName }] = await Promise.all([
    import('@azure/arm-network'),
    import('@azure/core-rest-pipeline'),
  ]);
  const credential = options.credential ?? new (await import('@azure/identity')).DefaultAzureCredential();
  const client = new Client(credential, cfg.subscription, {
    ...(endpoint !== undefined ? { endpoint } : {}),
    ...(insecure ? { allowInsecureConnection: true } : {}),
    ...options.clientOptions,
  });
  if (insecure) client.pipeline.removePolicy({ name: bearerTokenAuthenticationPolicyName });
  return client;
}

async function getOrNull<T>(what: string, fn: () => Promise<T>, retry: RetryPolicy): Promise<T | null> {
  try {
    return await retry.run(what, fn);
  } catch (err) {
    if (
      err instanceof ProviderError &&
      (err.code === 'ResourceNotFound' || err.code === 'NotFound' || statusOf(err.cause) === 404)
    )
      return null;
    throw err;
  }
}

/** Reads the raw objects of a target from the live API. */
export async function readLiveRaw(
  client: NetworkManagementClient,
  target: TargetSpec,
  model: string | undefined,
  retry: RetryPolicy,
): Promise<RawAzureState> {
  const cfg = azureConfig(target);
  const rg = cfg.resourceGroup;
  // One GET per NSG: the NSG carries all its rules (no per-rule reads).
  const names = targetNsgs(cfg);
  const wires = await mapLimited(
    names,
    NSG_READS_IN_FLIGHT,
    async (name) =>
      (await getOrNull(
        `reading NSG ${name}`,
        () => client.networkSecurityGroups.get(rg, name),
        retry,
      )) as WireNsg | null,
  );
  const nsgs = hasNsgMap(cfg) ? Object.fromEntries(names.map((n, i) => [n, wires[i] ?? null])) : undefined;
  const nsg = nsgs === undefined ? (wires[0] ?? null) : null;
  const asgs = await retry.run(`listing application security groups of ${rg}`, async () => {
    const out: WireAsg[] = [];
    for await (const a of client.applicationSecurityGroups.list(rg)) out.push(a as WireAsg);
    return out;
  });
  let rcg: WireRcg | null = null;
  let policyFound = true;
  model ??= inferModel({ nsg, ...(nsgs ? { nsgs } : {}), asgs, rcg: null, policyFound });
  if (cfg.firewallPolicy) {
    policyFound =
      (await getOrNull(
        `reading firewall policy ${cfg.firewallPolicy}`,
        () => client.firewallPolicies.get(rg, cfg.firewallPolicy!),
        retry,
      )) !== null;
    if (policyFound && model !== undefined) {
      rcg = (await getOrNull(
        `reading rule collection group ${ruleCollectionGroupName(model)}`,
        () => client.firewallPolicyRuleCollectionGroups.get(rg, cfg.firewallPolicy!, ruleCollectionGroupName(model)),
        retry,
      )) as WireRcg | null;
    }
  }
  return { nsg, ...(nsgs ? { nsgs } : {}), asgs, rcg, policyFound };
}

/** A live read of a target's raw objects (authentication failures as one line, the kit's retry policy). */
export async function readAzureLive(
  target: TargetSpec,
  options: AzureProviderOptions,
  endpoint: string | undefined,
  model: string | undefined,
): Promise<RawAzureState> {
  return withCredentials(target.name, async () =>
    readLiveRaw(await createNetworkClient(target, options, endpoint), target, model, azureRetryPolicy(options)),
  );
}
