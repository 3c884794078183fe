import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TokenCredential } from '@azure/identity';
import { NetworkManagementClient, type NetworkManagementClientOptionalParams } from '@azure/arm-network';
import { bearerTokenAuthenticationPolicyName } from '@azure/core-rest-pipeline';
import { DefaultAzureCredential } from '@azure/identity';
import type { TargetSpec } from '../../src/compile/types.js';
import { error, warning, type Diagnostic } from '../../src/diagnostics.js';
import { ProviderError } from '../../src/errors.js';
import { canonicalJson } from '../../src/plan/diff.js';
import type { Child, Json, ProviderState, Resource } from '../../src/plan/types.js';
import type { ReadContext, StateSource } from '../../src/provider.js';
import { appRuleFromWire, asgRef, canonicalLocation, ruleFromWire, type WireAppRule, type WireRule } from './canonical.js';
import { statusOf, withRetry, type RetrySettings } from './errors.js';
import { LOCK_TAG } from './lock.js';
import {
  appRuleSummary,
  asgName,
  AZURE_TYPES,
  azureConfig,
  MARKER,
  ownsRuleName,
  ruleCollectionGroupName,
  ruleSummary,
  reservedJson,
} from './render.js';
import { DENY_ALL_PRIORITY, LOAD_BALANCER_PRIORITY } from './limits.js';

/**
 * Read: the live API (through @azure/arm-network) or the az CLI's JSON exports → the canonical
 * ProviderState of one target. Only owned objects enter `resources`: ASGs tagged
 * `bulkhead:model=<model>`, the NSG's rules named `<model>-…` (as children of the NSG; the NSG
 * itself is the target's, so it is listed whenever it exists), and the rule collection group
 * `<model>-fqdn-egress`. The NSG's default rules are never read as rules (they sit in
 * `defaultSecurityRules`), and rules the model does not own only count in the fingerprint and in
 * `reserved` (their priorities per direction, which render's placement skips).
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

/** The raw objects of a target, in the flattened shape the SDK and `az` print. */
export interface RawAzureState {
  readonly nsg: WireNsg | null;
  readonly asgs: readonly WireAsg[];
  readonly rcg: WireRcg | null;
  /** False when the target names a firewall policy that does not exist (live reads only). */
  readonly policyFound: boolean;
}

/** NSG, flattened (`az network nsg show`, SDK `NetworkSecurityGroup`). */
export interface WireNsg {
  name?: string;
  id?: string;
  location?: string;
  tags?: Record<string, string>;
  securityRules?: WireRule[];
  [key: string]: unknown;
}

/** ASG, flattened (`az network asg list` item, SDK `ApplicationSecurityGroup`). */
export interface WireAsg {
  name?: string;
  id?: string;
  location?: string;
  tags?: Record<string, string>;
  [key: string]: unknown;
}

/** Rule collection group, flattened (`az network firewall policy rule-collection-group show`). */
export interface WireRcg {
  name?: string;
  id?: string;
  priority?: number;
  ruleCollections?: { ruleCollectionType?: string; name?: string; priority?: number; action?: { type?: string }; rules?: (WireAppRule | { ruleType?: string; name?: string })[] }[];
  [key: string]: unknown;
}

/** The ARM endpoint of a target: target's own, then BULKHEAD_AZURE_ENDPOINT, then the caller's, then the options'. */
export function resolveEndpoint(target: TargetSpec, options: AzureProviderOptions, live?: string): string | undefined {
  const env = options.env ?? process.env;
  return azureConfig(target).endpoint ?? env['BULKHEAD_AZURE_ENDPOINT'] ?? live ?? options.endpoint;
}

/**
 * A NetworkManagementClient for a target. An `http:` endpoint (an emulator) must be loopback: the
 * bearer-token policy is removed (it refuses plain http, and no token must travel in clear) and
 * the node client is allowed to speak http (cloud-semantics §2.8).
 */
export function createNetworkClient(target: TargetSpec, options: AzureProviderOptions, live?: string): NetworkManagementClient {
  const cfg = azureConfig(target);
  const endpoint = resolveEndpoint(target, options, live);
  const insecure = endpoint !== undefined && endpoint.startsWith('http:');
  if (insecure && !/^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(\/|$)/.test(endpoint)) {
    throw new ProviderError(`refusing plain-http ARM endpoint ${endpoint}: only loopback emulators may use http`, 'InsecureEndpoint');
  }
  const credential = options.credential ?? new DefaultAzureCredential();
  const client = new NetworkManagementClient(credential, cfg.subscription, {
    ...(endpoint !== undefined ? { endpoint } : {}),
    ...(insecure ? { allowInsecureConnection: true } : {}),
    ...options.clientOptions,
  });
  if (insecure) client.pipeline.removePolicy({ name: bearerTokenAuthenticationPolicyName });
  return client;
}

async function getOrNull<T>(what: string, fn: () => Promise<T>, retry: RetrySettings | undefined): Promise<T | null> {
  try {
    return await withRetry(what, fn, retry);
  } catch (err) {
    if (err instanceof ProviderError && (err.code === 'ResourceNotFound' || err.code === 'NotFound' || statusOf(err.cause) === 404)) return null;
    throw err;
  }
}

/** Reads the raw objects of a target from the live API. */
export async function readLiveRaw(client: NetworkManagementClient, target: TargetSpec, model: string | undefined, retry?: RetrySettings): Promise<RawAzureState> {
  const cfg = azureConfig(target);
  const rg = cfg.resourceGroup;
  const nsg = await getOrNull(`reading NSG ${cfg.nsg}`, () => client.networkSecurityGroups.get(rg, cfg.nsg), retry);
  const asgs = await withRetry(`listing application security groups of ${rg}`, async () => {
    const out: WireAsg[] = [];
    for await (const a of client.applicationSecurityGroups.list(rg)) out.push(a as WireAsg);
    return out;
  }, retry);
  let rcg: WireRcg | null = null;
  let policyFound = true;
  model ??= inferModel({ nsg: nsg as WireNsg | null, asgs, rcg: null, policyFound });
  if (cfg.firewallPolicy) {
    policyFound = (await getOrNull(`reading firewall policy ${cfg.firewallPolicy}`, () => client.firewallPolicies.get(rg, cfg.firewallPolicy!), retry)) !== null;
    if (policyFound && model !== undefined) {
      rcg = (await getOrNull(
        `reading rule collection group ${ruleCollectionGroupName(model)}`,
        () => client.firewallPolicyRuleCollectionGroups.get(rg, cfg.firewallPolicy!, ruleCollectionGroupName(model)),
        retry,
      )) as WireRcg | null;
    }
  }
  return { nsg: nsg as WireNsg | null, asgs, rcg, policyFound };
}

/** File names of a target's snapshot folder (documented in policies/snapshots/README.md). */
export const SNAPSHOT_FILES = {
  nsg: 'nsg.json',
  asgs: 'asgs.json',
  rcg: 'rule-collection-group.json',
} as const;

/** `properties`-wrapped ARM JSON → the flattened shape (az prints flattened; accept both). */
export function hoist<T>(o: unknown): T {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return o as T;
  const { properties, ...rest } = o as Record<string, unknown>;
  if (properties === null || typeof properties !== 'object' || Array.isArray(properties)) return o as T;
  return { ...rest, ...(properties as Record<string, unknown>) } as T;
}

async function readJson(path: string): Promise<unknown | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return undefined;
    throw new ProviderError(`cannot read ${path}: ${String(err)}`, 'snapshot-unreadable');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ProviderError(`${path} is not JSON: ${String(err)}`, 'snapshot-unreadable');
  }
}

/** Reads a target's snapshot folder: `nsg.json` (az network nsg show), `asgs.json` (az network asg list), optional `rule-collection-group.json`. */
export async function readSnapshotRaw(dir: string): Promise<RawAzureState> {
  const nsgJson = await readJson(join(dir, SNAPSHOT_FILES.nsg));
  const asgJson = await readJson(join(dir, SNAPSHOT_FILES.asgs));
  const rcgJson = await readJson(join(dir, SNAPSHOT_FILES.rcg));
  if (asgJson !== undefined && !Array.isArray(asgJson)) {
    throw new ProviderError(`${join(dir, SNAPSHOT_FILES.asgs)} must be the JSON array \`az network asg list\` prints`, 'snapshot-unreadable');
  }
  const nsg = nsgJson === undefined ? null : hoist<WireNsg>(nsgJson);
  if (nsg && nsg.securityRules !== undefined && !Array.isArray(nsg.securityRules)) {
    throw new ProviderError(`${join(dir, SNAPSHOT_FILES.nsg)}: securityRules is not an array`, 'snapshot-unreadable');
  }
  const rcg = rcgJson === undefined ? null : hoist<WireRcg>(rcgJson);
  return {
    nsg: nsg ? { ...nsg, securityRules: (nsg.securityRules ?? []).map((r) => hoist<WireRule>(r)) } : null,
    asgs: ((asgJson as unknown[] | undefined) ?? []).map((a) => hoist<WireAsg>(a)),
    rcg,
    policyFound: true,
  };
}

/** The model that owns the target's objects when the engine did not say: the single marker value found. */
export function inferModel(raw: RawAzureState): string | undefined {
  const values = new Set<string>();
  for (const a of raw.asgs) if (a.tags?.[MARKER]) values.add(a.tags[MARKER]);
  if (raw.nsg?.tags?.[MARKER]) values.add(raw.nsg.tags[MARKER]);
  return values.size === 1 ? [...values][0] : undefined;
}

/** Turns raw objects into the canonical state (pure). */
export function stateFromRaw(raw: RawAzureState, target: TargetSpec, source: 'live' | 'snapshot', context?: ReadContext): ProviderState {
  const cfg = azureConfig(target);
  const model = context?.model ?? inferModel(raw);
  const diagnostics: Diagnostic[] = [];
  const resources: Resource[] = [];
  // The lock ASG (lock.ts) is owned but no segment's: plan and drift never see it.
  const owned = (a: WireAsg) => model !== undefined && a.tags?.[MARKER] === model && a.tags?.[LOCK_TAG] === undefined;
  const ownedAsgByRef = new Map<string, string>();
  for (const a of raw.asgs) {
    if (!owned(a) || !a.name) continue;
    ownedAsgByRef.set(asgRef(a.id ?? `/resourceGroups/${cfg.resourceGroup}/providers/Microsoft.Network/applicationSecurityGroups/${a.name}`), a.name);
    resources.push({
      address: `${target.name}.${AZURE_TYPES.asg}.${a.name}`,
      target: target.name,
      type: AZURE_TYPES.asg,
      name: a.name,
      attributes: { location: canonicalLocation(a.location ?? ''), model: model ?? null },
      children: [],
      ...(a.id ? { liveId: a.id } : {}),
      forceNew: ['location'],
    });
  }
  if (model !== undefined) {
    for (const s of context?.segments ?? []) {
      const want = asgName(model, s.name).toLowerCase();
      const other = raw.asgs.find((a) => (a.name ?? '').toLowerCase() === want && !owned(a));
      if (other) {
        diagnostics.push(
          error(
            'azure-unowned-in-the-way',
            `application security group ${other.name} in resource group ${cfg.resourceGroup} (target ${target.name}) is not tagged ${MARKER}=${model}, so Bulkhead will not touch it; ` +
              `to adopt it: az network asg update -g ${cfg.resourceGroup} -n ${other.name} --set tags.${MARKER}=${model}`,
            s.pos,
          ),
        );
      }
    }
  }
  let reserved: Json | undefined;
  if (raw.nsg) {
    const unowned = (raw.nsg.securityRules ?? [])
      .filter((r) => !(model !== undefined && r.name !== undefined && ownsRuleName(model, r.name)))
      .map((r) => ({ name: r.name ?? '', ...ruleFromWire(r) }));
    reserved = reservedJson(unowned);
    // The model's fixed rules (deny-all in/out at 4096, load-balancer allow at 4095) cannot move.
    if (model !== undefined) {
      const fixed = [
        { direction: 'inbound', priority: DENY_ALL_PRIORITY, rule: `${model}-deny-all-in` },
        { direction: 'outbound', priority: DENY_ALL_PRIORITY, rule: `${model}-deny-all-out` },
        { direction: 'inbound', priority: LOAD_BALANCER_PRIORITY, rule: `${model}-allow-azure-lb-in` },
      ];
      for (const f of fixed) {
        const other = unowned.find((r) => r.direction === f.direction && r.priority === f.priority);
        if (!other) continue;
        diagnostics.push(
          error(
            'azure-priority-in-the-way',
            `rule ${other.name} of NSG ${cfg.nsg} (target ${target.name}) holds ${f.direction} priority ${f.priority}, which Bulkhead's ${f.rule} needs; ` +
              `it is not the model's, so Bulkhead will not move it: give it a free priority (az network nsg rule update -g ${cfg.resourceGroup} --nsg-name ${cfg.nsg} -n ${other.name} --priority <100-4094>)`,
            target.pos,
          ),
        );
      }
    }
    if (raw.nsg.location && canonicalLocation(raw.nsg.location) !== canonicalLocation(cfg.location)) {
      diagnostics.push(warning('azure-nsg-location', `NSG ${cfg.nsg} is in ${raw.nsg.location} but target ${target.name} says ${cfg.location}; ASGs are created in ${cfg.location}`, target.pos));
    }
    const children: Child[] = (raw.nsg.securityRules ?? [])
      .filter((r) => model !== undefined && r.name !== undefined && ownsRuleName(model, r.name))
      .map((r) => {
        const attributes = ruleFromWire(r);
        const deps = [...r.sourceApplicationSecurityGroups ?? [], ...r.destinationApplicationSecurityGroups ?? []]
          .map((g) => ownedAsgByRef.get(asgRef(g.id ?? '')))
          .filter((n): n is string => n !== undefined)
          .map((n) => `${target.name}.${AZURE_TYPES.asg}.${n}`);
        return {
          key: r.name!,
          summary: ruleSummary(attributes),
          attributes,
          ...(r.id ? { liveId: r.id } : {}),
          ...(deps.length > 0 ? { dependsOn: [...new Set(deps)].sort() } : {}),
        };
      })
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    resources.push({
      address: `${target.name}.${AZURE_TYPES.nsg}.${cfg.nsg}`,
      target: target.name,
      type: AZURE_TYPES.nsg,
      name: cfg.nsg,
      attributes: { model: model ?? null },
      children,
      ...(raw.nsg.id ? { liveId: raw.nsg.id } : {}),
    });
  }
  if (!raw.policyFound && cfg.firewallPolicy) {
    diagnostics.push(
      error(
        'azure-firewall-policy-missing',
        `firewall policy ${cfg.firewallPolicy} (target ${target.name}) does not exist in resource group ${cfg.resourceGroup}; Bulkhead adds rules to a policy but does not create one: ` +
          `az network firewall policy create -g ${cfg.resourceGroup} -n ${cfg.firewallPolicy} --sku Standard`,
        target.pos,
      ),
    );
  }
  if (raw.rcg && raw.rcg.name && cfg.firewallPolicy) {
    const collections = raw.rcg.ruleCollections ?? [];
    const first = collections[0];
    const children: Child[] = collections
      .flatMap((c) => c.rules ?? [])
      .map((r): Child => {
        if (r.ruleType === 'ApplicationRule') {
          const attributes = appRuleFromWire(r as WireAppRule);
          return { key: r.name ?? '', summary: appRuleSummary(attributes), attributes };
        }
        return { key: r.name ?? '', summary: `${r.ruleType ?? 'unknown'} rule (not managed by Bulkhead)`, attributes: { ruleType: r.ruleType ?? null } };
      })
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    resources.push({
      address: `${target.name}.${AZURE_TYPES.rcg}.${raw.rcg.name}`,
      target: target.name,
      type: AZURE_TYPES.rcg,
      name: raw.rcg.name,
      attributes: {
        policy: cfg.firewallPolicy.toLowerCase(),
        priority: raw.rcg.priority ?? null,
        collection: collections.map((c) => c.name ?? '').join(','),
        collectionPriority: first?.priority ?? null,
        action: collections.length === 1 && first?.ruleCollectionType === 'FirewallPolicyFilterRuleCollection' ? (first.action?.type ?? '').toLowerCase() : null,
      },
      children,
      ...(raw.rcg.id ? { liveId: raw.rcg.id } : {}),
      forceNew: ['policy'],
    });
  }
  resources.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  return { target: target.name, source, resources, fingerprint: fingerprintOf(raw), diagnostics, ...(reserved !== undefined ? { reserved } : {}) };
}

/** Digest of everything read that matters, owned or not (a saved plan compares it). */
export function fingerprintOf(raw: RawAzureState): string {
  const view: Json = {
    nsg: raw.nsg
      ? {
          location: canonicalLocation(raw.nsg.location ?? ''),
          rules: (raw.nsg.securityRules ?? []).map((r) => ({ name: r.name ?? '', ...ruleFromWire(r) })),
        }
      : null,
    asgs: raw.asgs.map((a) => ({ name: a.name ?? '', location: canonicalLocation(a.location ?? ''), tags: (a.tags ?? {}) as Json })),
    rcg: raw.rcg ? (JSON.parse(JSON.stringify({ priority: raw.rcg.priority ?? null, ruleCollections: raw.rcg.ruleCollections ?? [] })) as Json) : null,
  };
  return `sha256:${createHash('sha256').update(canonicalJson(view)).digest('hex')}`;
}

/** `read` of the provider: live or snapshot. */
export async function readAzure(target: TargetSpec, source: StateSource, options: AzureProviderOptions, context?: ReadContext): Promise<ProviderState> {
  if (source.kind === 'snapshot') {
    const raw = await readSnapshotRaw(join(source.dir, target.name));
    return stateFromRaw(raw, target, 'snapshot', context);
  }
  const client = createNetworkClient(target, options, source.endpoint);
  const raw = await readLiveRaw(client, target, context?.model, options.retry);
  return stateFromRaw(raw, target, 'live', context ?? (inferModel(raw) ? { model: inferModel(raw)! } : undefined));
}
