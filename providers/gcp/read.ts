import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
// Types only: the SDK is loaded with `await import()` by createGcpClients, so render, validate
// and snapshot reads never pay for it (issue 11.0).
import type { FirewallsClient, GlobalOperationsClient, NetworkFirewallPoliciesClient } from '@google-cloud/compute';
import type { TargetSpec } from '../../src/compile/types.js';
import type { GcpTargetConfig } from './target.js';
import { error, type Diagnostic } from '../../src/diagnostics.js';
import { ProviderError } from '../../src/errors.js';
import { canonicalJson } from '../../src/plan/diff.js';
import type { Child, Json, ProviderState, Resource } from '../../src/plan/types.js';
import type { ReadContext, StateSource } from '../../src/provider.js';
import {
  canonicalFirewall,
  canonicalPolicyRule,
  firewallResource,
  policyResource,
  policyRuleChild,
  reservedJson,
  type FirewallJsonIn,
  type PolicyRuleJsonIn,
} from './canonical.js';
import { descriptionMarker, hasOwnerPrefix, ownerOfDescription } from '../kit/ownership.js';
import { classifyGcpError, credentialsError, errorDetails, gcpRetryPolicy, type RetryOptions } from './errors.js';
import { POLICY_PRIORITY_BAND } from './limits.js';
import { isGcpLockRule } from './lock.js';
import { parseFirewallRulesJson, parsePolicyJson, SNAPSHOT_FILES } from './snapshot.js';

/**
 * Read: the owned objects of a GCP target, from the Compute API (paginated `firewalls.list`, the
 * named policy's rules) or from `gcloud` JSON exports, canonical. Owned = name prefix `<model>-`
 * plus the description marker `bulkhead:model=<model>` (policy rules: priority in Bulkhead's band
 * plus the marker). Unowned rules never enter `resources`, so nothing ever touches them; one named
 * with the model's prefix but without its marker is an error diagnostic telling how to adopt it,
 * decided from read's own arguments (`ReadContext.model`), with no state kept between calls.
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
export async function createGcpClients(endpoint: string | undefined, target?: string): Promise<GcpClients> {
  const [{ FirewallsClient, GlobalOperationsClient, NetworkFirewallPoliciesClient }, auth] = await Promise.all([
    import('@google-cloud/compute'),
    import('google-auth-library'),
  ]);
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
  if (protocol === 'http') {
    opts = { ...opts, authClient: new auth.PassThroughClient() } as unknown as Options;
  } else {
    const googleAuth = new auth.GoogleAuth({ scopes: ['https://www.googleapis.com/auth/cloud-platform'] });
    try {
      await googleAuth.getClient();
    } catch (err) {
      throw credentialsError(target, err);
    }
    // The SDK then finds the same credentials through its own copy of google-auth-library.
  }
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

/** Everything a read saw, before ownership is decided. */
export interface GcpRawState {
  readonly firewalls: readonly FirewallJsonIn[];
  /** The named policy's rules, or null when the target names none; undefined when it does not exist. */
  readonly policyRules: readonly PolicyRuleJsonIn[] | null | undefined;
  readonly policySelfLink?: string;
  /** The policy object as the API returned it (for `bulkhead export`). */
  readonly policyJson?: unknown;
}

/** Lists firewalls (all pages) and gets the named policy from the live API. */
export async function readGcpLive(
  gcp: GcpTargetConfig,
  clients: GcpClients,
  options: { readonly model?: string; readonly pageSize?: number; readonly retry?: RetryOptions },
): Promise<GcpRawState> {
  const retry = gcpRetryPolicy(options.retry);
  const firewalls = await retry.run(
    `firewalls.list ${gcp.project}`,
    async () => {
      const items: FirewallJsonIn[] = [];
      const request = {
        project: gcp.project,
        maxResults: options.pageSize ?? 500,
        // Server-side narrowing to our name space; ownership is still checked on the marker.
        ...(options.model ? { filter: `name eq "${options.model}-.*"` } : {}),
      };
      for await (const fw of clients.firewalls.listAsync(request, { autoPaginate: false })) items.push(fw as FirewallJsonIn);
      return items;
    },
  );
  if (!gcp.firewallPolicy) return { firewalls, policyRules: null };
  const name = gcp.firewallPolicy;
  try {
    const [policy] = await retry.run(`networkFirewallPolicies.get ${name}`, () => clients.policies.get({ project: gcp.project, firewallPolicy: name }));
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

/** Reads a snapshot folder: `<dir>/<target>/firewall-rules.json` (+ `firewall-policy.json`). */
export async function readGcpSnapshot(
  target: TargetSpec & { kind: 'gcp' },
  dir: string,
): Promise<{ raw: GcpRawState | undefined; diagnostics: Diagnostic[] }> {
  const folder = join(dir, target.name);
  const fwPath = join(folder, SNAPSHOT_FILES.firewalls);
  let text: string;
  try {
    text = await readFile(fwPath, 'utf8');
  } catch {
    return {
      raw: undefined,
      diagnostics: [
        error(
          'gcp-snapshot-missing',
          `snapshot ${fwPath} not found: export it with \`gcloud compute firewall-rules list --project ${target.gcp.project} --format=json > ${fwPath}\` (or \`bulkhead export\`)`,
          target.pos,
        ),
      ],
    };
  }
  const parsed = parseFirewallRulesJson(text);
  if (!parsed.ok) return { raw: undefined, diagnostics: [snapshotInvalid(fwPath, parsed, target)] };
  if (!target.gcp.firewallPolicy) return { raw: { firewalls: parsed.value, policyRules: null }, diagnostics: [] };
  const polPath = join(folder, SNAPSHOT_FILES.policy);
  let polText: string;
  try {
    polText = await readFile(polPath, 'utf8');
  } catch {
    return { raw: { firewalls: parsed.value, policyRules: undefined }, diagnostics: [] };
  }
  const policy = parsePolicyJson(polText);
  if (!policy.ok) return { raw: undefined, diagnostics: [snapshotInvalid(polPath, policy, target)] };
  return {
    raw: { firewalls: parsed.value, policyRules: policy.value.rules, ...(policy.value.selfLink ? { policySelfLink: policy.value.selfLink } : {}) },
    diagnostics: [],
  };
}

/**
 * A snapshot file that cannot be read: at the file's line:column when it is not JSON, otherwise
 * with the JSON path in the message (at the target, which named the folder).
 */
function snapshotInvalid(path: string, failure: { message: string; line?: number; column?: number }, target: TargetSpec): Diagnostic {
  if (failure.line !== undefined && failure.column !== undefined) {
    return error('gcp-snapshot-invalid', `${path}:${failure.line}:${failure.column}: ${failure.message}`, { file: path, line: failure.line, column: failure.column });
  }
  return error('gcp-snapshot-invalid', `${path}: ${failure.message}`, target.pos);
}

/**
 * Decides ownership and canonicalizes: owned firewalls and the policy's owned rules become
 * resources. Stateless: only the arguments decide. A firewall rule named with the model's prefix
 * `<model>-` but without its marker is an error (the model may render that very name, and
 * Bulkhead never changes what it does not own), with the adopt hint; one that carries another
 * model's marker and that model's own prefix (model `shop-eu` seen from model `shop`) is that
 * model's and left alone. Priorities that unowned rules hold in Bulkhead's band of the policy
 * go to `reserved`, so render places the FQDN rules around them.
 */
export function toProviderState(
  target: TargetSpec & { kind: 'gcp' },
  raw: GcpRawState,
  source: 'live' | 'snapshot',
  model: string | undefined,
): ProviderState {
  const gcp = target.gcp;
  const diagnostics: Diagnostic[] = [];
  const resources: Resource[] = [];
  const unowned: string[] = [];
  /** Another model's own object: marked by it and named with its prefix. */
  const othersOwn = (name: string, marked: string | undefined) => marked !== undefined && marked !== model && hasOwnerPrefix(marked, name);
  for (const fw of raw.firewalls) {
    // The lock rule (lock.ts) is owned but no rule of the model: plan and drift never see it.
    if (isGcpLockRule(fw)) continue;
    const name = fw.name ?? '';
    const marked = ownerOfDescription(fw.description ?? undefined);
    const owner = model ?? marked;
    if (!owner || !hasOwnerPrefix(owner, name)) continue;
    if (marked === owner) {
      resources.push(firewallResource(target.name, canonicalFirewall(fw, gcp.project), fw.selfLink ? { liveId: fw.selfLink } : {}));
      continue;
    }
    if (othersOwn(name, marked)) continue;
    unowned.push(name);
    diagnostics.push(
      error(
        'gcp-unowned-in-the-way',
        `firewall rule ${name} has model ${owner}'s name prefix "${owner}-" but not its ownership marker (its description lacks "${descriptionMarker(owner)}"): ` +
          `Bulkhead never changes a rule it does not own, and the model may render a rule of that name. ` +
          `Delete or rename it, or adopt it by adding the marker to its description ` +
          `(\`gcloud compute firewall-rules update ${name} --project ${gcp.project} --description "${descriptionMarker(owner)}"\`; ` +
          `the next plan then brings it in line with the model, or deletes it if the model renders no rule of that name), then plan again`,
        target.pos,
      ),
    );
  }
  const reserved: number[] = [];
  if (gcp.firewallPolicy) {
    if (raw.policyRules === undefined) {
      diagnostics.push(
        error(
          'gcp-firewall-policy-missing',
          `global network firewall policy ${gcp.firewallPolicy} (target ${target.name}) does not exist in project ${gcp.project}: create it with ` +
            `\`gcloud compute network-firewall-policies create ${gcp.firewallPolicy} --global --project ${gcp.project}\` and associate it with network ${gcp.network} ` +
            `(\`gcloud compute network-firewall-policies associations create --firewall-policy ${gcp.firewallPolicy} --network ${gcp.network} --global-firewall-policy\`)`,
          target.pos,
        ),
      );
    } else if (raw.policyRules !== null) {
      const children: Child[] = [];
      for (const rule of raw.policyRules) {
        const priority = Number(rule.priority ?? -1);
        const inBand = priority >= POLICY_PRIORITY_BAND.start && priority < POLICY_PRIORITY_BAND.start + POLICY_PRIORITY_BAND.size;
        const marked = ownerOfDescription(rule.description ?? undefined);
        const mine = inBand && marked !== undefined && (model === undefined || marked === model);
        if (mine) {
          children.push(policyRuleChild(canonicalPolicyRule(rule, gcp.project)));
          continue;
        }
        if (!inBand) continue;
        // Someone else's rule inside our band: render places ours around it.
        reserved.push(priority);
        const ruleName = rule.ruleName ?? '';
        if (model && hasOwnerPrefix(model, ruleName) && !othersOwn(ruleName, marked)) {
          diagnostics.push(
            error(
              'gcp-unowned-in-the-way',
              `firewall policy ${gcp.firewallPolicy} has a rule ${ruleName} at priority ${priority} with model ${model}'s name prefix but not its ownership marker: ` +
                `delete it, or adopt it by adding "${descriptionMarker(model)}" to its description, then plan again`,
              target.pos,
            ),
          );
        }
      }
      resources.push(policyResource(target.name, gcp.firewallPolicy, children, raw.policySelfLink));
    }
  }
  resources.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  const reservedState = reservedJson({ policyPriorities: reserved });
  const digest = createHash('sha256')
    .update(canonicalJson({ resources: resources.map(resourceDigestJson), unowned: unowned.sort(), reserved: reservedState }))
    .digest('hex');
  return {
    target: target.name,
    source,
    resources,
    fingerprint: digest,
    diagnostics,
    ...(reserved.length > 0 ? { reserved: reservedState } : {}),
  };
}

function resourceDigestJson(r: Resource): Json {
  return { address: r.address, attributes: r.attributes, children: r.children.map((c) => ({ key: c.key, attributes: c.attributes })) };
}

/** `Provider.read` for GCP. */
export async function readGcp(
  target: TargetSpec,
  source: StateSource,
  context: ReadContext | undefined,
  options: GcpReadOptions = {},
): Promise<ProviderState> {
  if (target.kind !== 'gcp') throw new ProviderError(`gcp: target ${target.name} is not a GCP target (it is ${target.kind === 'aws' ? 'an AWS' : 'an Azure'} target)`);
  const model = context?.model;
  if (source.kind === 'snapshot') {
    const { raw, diagnostics } = await readGcpSnapshot(target, source.dir);
    if (!raw) return { target: target.name, source: 'snapshot', resources: [], fingerprint: '', diagnostics };
    const state = toProviderState(target, raw, 'snapshot', model);
    return { ...state, diagnostics: [...diagnostics, ...state.diagnostics] };
  }
  const clients = await (options.clients ?? createGcpClients)(target.gcp.endpoint ?? source.endpoint, target.name);
  try {
    const raw = await readGcpLive(target.gcp, clients, {
      ...(model ? { model } : {}),
      ...(options.pageSize ? { pageSize: options.pageSize } : {}),
      ...(options.retry ? { retry: options.retry } : {}),
    });
    return toProviderState(target, raw, 'live', model);
  } finally {
    await clients.close();
  }
}
