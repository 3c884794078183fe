import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
// Types only: the SDK is loaded by `createNetworkClient` (await import), so render, validate and
// snapshot reads never load @azure/* (issue 11.0: no SDK unless the command talks to the cloud).
import type { TokenCredential } from '@azure/identity';
import type { NetworkManagementClient, NetworkManagementClientOptionalParams } from '@azure/arm-network';
import type { TargetSpec } from '../../src/compile/types.js';
import { error, warning, type Diagnostic } from '../../src/diagnostics.js';
import { ProviderError } from '../../src/errors.js';
import { canonicalJson } from '../../src/plan/diff.js';
import type { Child, Json, ProviderState, Resource } from '../../src/plan/types.js';
import type { ReadContext, StateSource } from '../../src/provider.js';
import { appRuleFromWire, asgRef, canonicalLocation, ruleFromWire, type WireAppRule, type WireRule } from './canonical.js';
import { checkAsgs, checkNsg, checkRcg, parseSnapshotFile } from './snapshot-json.js';
import { statusOf, withCredentials, withRetry, type RetrySettings } from './errors.js';
import { LOCK_TAG } from './lock.js';
import {
  appRuleSummary,
  asgName,
  AZURE_TYPES,
  azureConfig,
  MARKER,
  ownsRuleName,
  ruleCollectionGroupName,
  ruleCollectionName,
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
 * the node client is allowed to speak http (cloud-semantics §2.8). The SDK modules are imported
 * here, on the first live call, and nowhere at load time.
 */
export async function createNetworkClient(target: TargetSpec, options: AzureProviderOptions, live?: string): Promise<NetworkManagementClient> {
  const cfg = azureConfig(target);
  const endpoint = resolveEndpoint(target, options, live);
  const insecure = endpoint !== undefined && endpoint.startsWith('http:');
  if (insecure && !/^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(\/|$)/.test(endpoint)) {
    throw new ProviderError(`refusing plain-http ARM endpoint ${endpoint}: only loopback emulators may use http`, 'InsecureEndpoint');
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

async function readJson(path: string, shape: (v: unknown) => void): Promise<unknown | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return undefined;
    throw new ProviderError(`cannot read ${path}: ${String(err)}`, 'snapshot-unreadable');
  }
  return parseSnapshotFile(path, text, shape);
}

/**
 * Reads a target's snapshot folder: `nsg.json` (az network nsg show), `asgs.json` (az network asg
 * list), optional `rule-collection-group.json`. A file may be absent (the NSG or the group does
 * not exist yet), the folder may not: a missing folder is a typo or a forgotten export, and
 * planning against it would mean "create everything" (issue 11), so it fails like AWS and GCP.
 * Every file is checked (snapshot-json.ts) before it is used.
 */
export async function readSnapshotRaw(dir: string, targetName?: string): Promise<RawAzureState> {
  const folder = await stat(dir).catch(() => undefined);
  if (!folder?.isDirectory()) {
    throw new ProviderError(
      `snapshot of ${targetName ?? basename(dir)}: no folder ${dir}; export it with \`bulkhead export <model> --out <snapshots>\` ` +
        `or the az commands in policies/snapshots/README.md (${SNAPSHOT_FILES.nsg}, ${SNAPSHOT_FILES.asgs}, ${SNAPSHOT_FILES.rcg})`,
      'snapshot-missing',
    );
  }
  const nsgJson = await readJson(join(dir, SNAPSHOT_FILES.nsg), checkNsg);
  const asgJson = await readJson(join(dir, SNAPSHOT_FILES.asgs), checkAsgs);
  const rcgJson = await readJson(join(dir, SNAPSHOT_FILES.rcg), checkRcg);
  const nsg = nsgJson === undefined ? null : hoist<WireNsg>(nsgJson);
  const rcg = rcgJson === undefined ? null : hoist<WireRcg>(rcgJson);
  return {
    nsg: nsg ? { ...nsg, securityRules: (nsg.securityRules ?? []).map((r) => hoist<WireRule>(r)) } : null,
    asgs: ((asgJson as unknown[] | undefined) ?? []).map((a) => hoist<WireAsg>(a)),
    rcg: rcg ? { ...rcg, ruleCollections: (rcg.ruleCollections ?? []).map((c) => ({ ...c, rules: c.rules ?? [] })) } : null,
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
  // Azure names are case-insensitive: an owned ASG `Shop-Web` IS the segment's `shop-web`. Read
  // gives it the model's spelling, so the plan does not "create" shop-web and delete Shop-Web,
  // which are one object (the delete would take the ASG the rules need).
  const spelling = new Map((context?.segments ?? []).map((s) => [asgName(model ?? '', s.name).toLowerCase(), asgName(model ?? '', s.name)]));
  const seenAsgs = new Set<string>();
  for (const a of raw.asgs) {
    if (!owned(a) || !a.name) continue;
    const name = spelling.get(a.name.toLowerCase()) ?? a.name;
    // One ARM object per name, ignoring case; only a hand-edited snapshot can list a name twice.
    if (seenAsgs.has(name.toLowerCase())) continue;
    seenAsgs.add(name.toLowerCase());
    ownedAsgByRef.set(asgRef(a.id ?? `/resourceGroups/${cfg.resourceGroup}/providers/Microsoft.Network/applicationSecurityGroups/${a.name}`), name);
    resources.push({
      address: `${target.name}.${AZURE_TYPES.asg}.${name}`,
      target: target.name,
      type: AZURE_TYPES.asg,
      name,
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
  const unownedResources: Resource[] = [];
  if (raw.nsg && context?.unowned) {
    // Reachability: the NSG's rules the model does not own, as the cloud evaluates them (never diffed).
    const foreign = (raw.nsg.securityRules ?? []).filter((r) => !(model !== undefined && r.name !== undefined && ownsRuleName(model, r.name)));
    unownedResources.push({
      address: `${target.name}.${AZURE_TYPES.nsg}.${cfg.nsg}#unowned`,
      target: target.name,
      type: AZURE_TYPES.nsg,
      name: cfg.nsg,
      attributes: {},
      children: foreign.map((r) => {
        const attributes = ruleFromWire(r);
        return { key: r.name ?? '', summary: ruleSummary(attributes), attributes, ...(r.id ? { liveId: r.id } : {}) };
      }),
      ...(raw.nsg.id ? { liveId: raw.nsg.id } : {}),
    });
  }
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
    const children: Child[] = uniqueKeys((raw.nsg.securityRules ?? [])
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
      }))
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
    // The group Bulkhead writes has one collection, `<model>-allow-fqdn`, whose rules are keyed by
    // name. A rule in any other collection is keyed `<collection>/<rule>`: it is not one of the
    // model's, even when it shares a name with one (Azure allows that across collections), so the
    // plan deletes it (the group PUT replaces every collection) instead of folding the two into one key.
    const mine = model !== undefined ? ruleCollectionName(model).toLowerCase() : undefined;
    const children: Child[] = uniqueKeys(
      collections.flatMap((c) =>
        (c.rules ?? []).map((r): Child => {
          const name = r.name ?? '';
          const key = (c.name ?? '').toLowerCase() === mine ? name : `${c.name ?? ''}/${name}`;
          if (r.ruleType === 'ApplicationRule') {
            const attributes = appRuleFromWire(r as WireAppRule);
            return { key, summary: appRuleSummary(attributes), attributes };
          }
          return { key, summary: `${r.ruleType ?? 'unknown'} rule (not managed by Bulkhead)`, attributes: { ruleType: r.ruleType ?? null } };
        }),
      ),
    ).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
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
  return {
    target: target.name,
    source,
    resources,
    fingerprint: fingerprintOf(raw),
    diagnostics,
    ...(reserved !== undefined ? { reserved } : {}),
    ...(context?.unowned ? { unowned: unownedResources } : {}),
  };
}

/**
 * Children with distinct keys. Azure names are case-insensitive, and the engine's diff keeps one
 * child per key, so a second child whose key equals an earlier one (ignoring case) would vanish
 * from the plan and stay in the cloud forever. It is kept as `<key>#2`, `#3` …, a key no desired
 * child has: the plan deletes it and drift reports it (issue 15.2). Live NSGs cannot hold two
 * rules of one name (Azure refuses); rule collection groups and hand-edited snapshots can.
 */
export function uniqueKeys(children: readonly Child[]): Child[] {
  const seen = new Map<string, number>();
  return children.map((c) => {
    const k = c.key.toLowerCase();
    const n = (seen.get(k) ?? 0) + 1;
    seen.set(k, n);
    return n === 1 ? c : { ...c, key: `${c.key}#${n}` };
  });
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
    // The lock ASG (lock.ts) comes and goes with every apply: taking it must not make a plan stale.
    asgs: raw.asgs.filter((a) => a.tags?.[LOCK_TAG] === undefined).map((a) => ({ name: a.name ?? '', location: canonicalLocation(a.location ?? ''), tags: (a.tags ?? {}) as Json })),
    rcg: raw.rcg ? (JSON.parse(JSON.stringify({ priority: raw.rcg.priority ?? null, ruleCollections: raw.rcg.ruleCollections ?? [] })) as Json) : null,
  };
  return `sha256:${createHash('sha256').update(canonicalJson(view)).digest('hex')}`;
}

/** `read` of the provider: live or snapshot. */
export async function readAzure(target: TargetSpec, source: StateSource, options: AzureProviderOptions, context?: ReadContext): Promise<ProviderState> {
  if (source.kind === 'snapshot') {
    const raw = await readSnapshotRaw(join(source.dir, target.name), target.name);
    return stateFromRaw(raw, target, 'snapshot', context);
  }
  const raw = await withCredentials(target.name, async () => readLiveRaw(await createNetworkClient(target, options, source.endpoint), target, context?.model, options.retry));
  return stateFromRaw(raw, target, 'live', context ?? (inferModel(raw) ? { model: inferModel(raw)! } : undefined));
}
