import type { NetworkManagementClient, NetworkSecurityGroup, SecurityRule } from '@azure/arm-network';
import type { TargetSpec } from '../../src/compile/types.js';
import { ProviderError } from '../../src/errors.js';
import { canonicalJson } from '../../src/plan/diff.js';
import type { Json, ProviderState, Resource } from '../../src/plan/types.js';
import type { Applier, ApplierOptions, ApplyStep } from '../../src/provider.js';
import {
  appRuleFromWire,
  appRuleToWire,
  ruleFromWire,
  ruleToWire,
  type AppRuleAttributes,
  type RuleAttributes,
  type WireAppRule,
  type WireRule,
} from './canonical.js';
import type { RetryPolicy } from '../kit/retry.js';
import { OWNER_KEY, ownerTagMap } from '../kit/ownership.js';
import { createKeyedSerializer } from '../kit/serializer.js';
import { azureRetryPolicy, statusOf, withCredentials } from './errors.js';
import { RULES_PER_NSG } from './limits.js';
import { createNetworkClient, type AzureProviderOptions } from './read.js';
import type { WireRcg } from './state.js';
import { AZURE_TYPES, azureConfig, ownsRuleName, ruleCollectionName } from './render.js';

/**
 * The Azure applier: runs the engine's steps against ARM.
 * (Each NSG PUT carries the etag read just before it as If-Match; a 412 means another writer got in
 * between, and the converge starts over from a fresh read, so their rules are kept too.)
 *
 *   create  ASG: PUT (tagged)            NSG: nothing (its `add` PUT creates it)   RCG: converge
 *   add     ASG: PUT (tags kept)         NSG: converge                             RCG: converge
 *   remove  —                            NSG: converge (a no-op when `add` did it) RCG: converge
 *   delete  ASG: DELETE                  NSG: converge to no owned rules (the NSG stays)  RCG: DELETE
 *
 * "Converge" for the NSG is ONE whole-NSG PUT: re-GET the NSG, keep every rule the model does not
 * own exactly as read (and the NSG's location, tags and other properties), put the desired owned
 * rules, skip the PUT when the owned rules already match. The PUT is atomic, so the `add` step
 * switches from the old rule set to the new one in one operation and make-before-break holds.
 * Writes to one NSG (or one firewall policy) are serialized per key (the kit's serializer); long-running operations
 * are awaited; retryable failures (a 429 without Retry-After, "another operation in progress")
 * go through the kit's retry policy (`azureRetryPolicy`), the SDK retrying the rest.
 */

/**
 * Per-resource write serialization (the kit's keyed serializer), process-wide: never two concurrent
 * writes to one NSG or policy, even from two appliers of one process (ARM answers a concurrent
 * NSG write with AnotherOperationInProgress, cloud-semantics §2.4).
 */
const WRITES = createKeyedSerializer();

/**
 * Tags without the ownership key in any spelling: ARM tag names are case-insensitive, so a marker a
 * portal user re-cased (`Bulkhead:Model`) is the same tag and must not be sent twice.
 */
function withoutOwnerTag(tags: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(tags).filter(([k]) => k.toLowerCase() !== OWNER_KEY));
}

function modelOf(step: ApplyStep): string {
  const m = step.change.after?.attributes['model'] ?? step.change.before?.attributes['model'];
  if (typeof m !== 'string' || m === '') {
    throw new ProviderError(`${step.change.address}: cannot tell which model owns it (no model attribute)`, 'NoOwner');
  }
  return m;
}

/** The Azure Applier for one target. */
export class AzureApplier implements Applier {
  readonly #target: TargetSpec;
  readonly #options: ApplierOptions;
  readonly #provider: AzureProviderOptions;
  readonly #retry: RetryPolicy;
  #client: NetworkManagementClient | undefined;

  constructor(target: TargetSpec, options: ApplierOptions, provider: AzureProviderOptions) {
    this.#target = target;
    this.#options = options;
    this.#provider = provider;
    this.#retry = azureRetryPolicy(provider);
  }

  /** The SDK client, created (and the SDK loaded) on the first step that needs it. */
  async #sdk(): Promise<NetworkManagementClient> {
    this.#client ??= await createNetworkClient(this.#target, this.#provider, this.#options.endpoint);
    return this.#client;
  }

  get #lro(): { updateIntervalInMs?: number } {
    return this.#provider.pollIntervalMs !== undefined ? { updateIntervalInMs: this.#provider.pollIntervalMs } : {};
  }

  /** Carries out one step; idempotent. */
  async run(step: ApplyStep): Promise<void> {
    return withCredentials(this.#target.name, () => this.#run(step));
  }

  async #run(step: ApplyStep): Promise<void> {
    switch (step.change.type) {
      case AZURE_TYPES.asg:
        return this.#asg(step);
      case AZURE_TYPES.nsg:
        if (step.phase === 'create' && (step.change.after?.children.length ?? 0) > 0) return;
        return this.#convergeNsg(step);
      case AZURE_TYPES.rcg:
        return step.phase === 'delete' ? this.#deleteRcg(step) : this.#convergeRcg(step);
      default:
        throw new ProviderError(
          `${step.change.address}: the Azure provider does not manage ${step.change.type}`,
          'UnknownType',
        );
    }
  }

  async #asg(step: ApplyStep): Promise<void> {
    const cfg = azureConfig(this.#target);
    const name = step.change.name;
    const retry = this.#retry;
    if (step.phase === 'remove') return;
    if (step.phase === 'delete') {
      this.#options.onProgress?.(`deleting application security group ${name}`);
      try {
        await retry.run(`deleting application security group ${name}`, async () =>
          (await this.#sdk()).applicationSecurityGroups.beginDeleteAndWait(cfg.resourceGroup, name, this.#lro),
        );
      } catch (err) {
        if (err instanceof ProviderError && statusOf(err.cause) === 404) return;
        throw err;
      }
      return;
    }
    // create, or add (an in-place update): PUT with the marker, keeping tags someone else added.
    const model = modelOf(step);
    let tags: Record<string, string> = {};
    if (step.phase === 'add') {
      try {
        const live = await retry.run(`reading application security group ${name}`, async () =>
          (await this.#sdk()).applicationSecurityGroups.get(cfg.resourceGroup, name),
        );
        tags = { ...(live.tags ?? {}) };
      } catch (err) {
        if (!(err instanceof ProviderError && statusOf(err.cause) === 404)) throw err;
      }
    }
    await retry.run(`writing application security group ${name}`, async () =>
      (await this.#sdk()).applicationSecurityGroups.beginCreateOrUpdateAndWait(
        cfg.resourceGroup,
        name,
        { location: cfg.location, tags: { ...withoutOwnerTag(tags), ...ownerTagMap(model) } },
        this.#lro,
      ),
    );
  }

  async #convergeNsg(step: ApplyStep): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#convergeNsgOnce(step);
      } catch (err) {
        const stale =
          err instanceof ProviderError && (err.code === 'PreconditionFailed' || statusOf(err.cause) === 412);
        if (!stale || attempt >= 5) throw err;
        this.#options.onProgress?.(`NSG ${step.change.name} changed while Bulkhead wrote it; re-reading`);
      }
    }
  }

  async #convergeNsgOnce(step: ApplyStep): Promise<void> {
    const cfg = azureConfig(this.#target);
    // The NSG of this step (the target's one `nsg`, or one of its `nsgs`): each is converged on its
    // own, with its own GET and whole-NSG PUT, serialized per NSG.
    const nsgName = step.change.name;
    const model = modelOf(step);
    const retry = this.#retry;
    const desired: Resource | null =
      step.phase === 'delete' || step.change.action === 'delete' ? null : step.change.after;
    const want = new Map((desired?.children ?? []).map((c) => [c.key, c.attributes as RuleAttributes]));
    await WRITES.run(
      `nsg:${this.#endpointKey()}/${cfg.subscription}/${cfg.resourceGroup}/${nsgName}`.toLowerCase(),
      async () => {
        let live: NetworkSecurityGroup | null = null;
        try {
          live = await retry.run(`reading NSG ${nsgName}`, async () =>
            (await this.#sdk()).networkSecurityGroups.get(cfg.resourceGroup, nsgName),
          );
        } catch (err) {
          if (!(err instanceof ProviderError && statusOf(err.cause) === 404)) throw err;
        }
        if (!live && !desired) return;
        const rules: SecurityRule[] = live?.securityRules ?? [];
        const unowned = rules.filter((r) => !ownsRuleName(model, r.name ?? ''));
        const ownedLive = new Map(
          rules
            .filter((r) => ownsRuleName(model, r.name ?? ''))
            .map((r) => [r.name!, canonicalJson(ruleFromWire(r as WireRule) as Json)]),
        );
        const converged =
          live !== null &&
          ownedLive.size === want.size &&
          [...want].every(([k, a]) => ownedLive.get(k) === canonicalJson(a as Json));
        if (converged) return;
        for (const [name, a] of want) {
          const clash = unowned.find(
            (u) => (u.direction ?? '').toLowerCase() === a.direction && u.priority === a.priority,
          );
          if (clash) {
            throw new ProviderError(
              `NSG ${nsgName}: rule ${name} needs ${a.direction} priority ${a.priority}, which rule ${clash.name ?? '?'} (not owned by model ${model}) holds; ` +
                `move that rule to another priority, or rename it ${model}-… to let Bulkhead own it`,
              'SecurityRuleConflict',
            );
          }
        }
        if (unowned.length + want.size > RULES_PER_NSG) {
          throw new ProviderError(
            `NSG ${nsgName}: ${unowned.length} unowned + ${want.size} owned rules exceed Azure's ${RULES_PER_NSG} rules per NSG`,
            'SecurityRulesPerNsgLimitReached',
          );
        }
        const ownedRules = [...want].map(([name, a]) => ruleToWire(name, a, cfg.subscription) as SecurityRule);
        const body: NetworkSecurityGroup = live
          ? { ...live, securityRules: [...unowned, ...ownedRules] }
          : { location: cfg.location, tags: { ...ownerTagMap(model) }, securityRules: ownedRules };
        this.#options.onProgress?.(`NSG ${nsgName}: PUT ${ownedRules.length} owned + ${unowned.length} unowned rules`);
        // If-Match: a write by someone else between our GET and PUT fails with 412 instead of being
        // overwritten; `#convergeNsg` then re-reads and tries again.
        const ifMatch = live?.etag ? { requestOptions: { customHeaders: { 'If-Match': live.etag } } } : {};
        await retry.run(`writing NSG ${nsgName}`, async () =>
          (await this.#sdk()).networkSecurityGroups.beginCreateOrUpdateAndWait(cfg.resourceGroup, nsgName, body, {
            ...this.#lro,
            ...ifMatch,
          }),
        );
      },
    );
  }

  #endpointKey(): string {
    return azureConfig(this.#target).endpoint ?? this.#options.endpoint ?? this.#provider.endpoint ?? '';
  }

  async #convergeRcg(step: ApplyStep): Promise<void> {
    const cfg = azureConfig(this.#target);
    const after = step.change.after;
    if (!after) return;
    const policy = cfg.firewallPolicy ?? String(after.attributes['policy']);
    const name = step.change.name;
    const retry = this.#retry;
    const model = name.replace(/-fqdn-egress$/, '');
    const desired = {
      priority: after.attributes['priority'] as number,
      ruleCollections: [
        {
          ruleCollectionType: 'FirewallPolicyFilterRuleCollection' as const,
          name: String(after.attributes['collection'] ?? ruleCollectionName(model)),
          priority: after.attributes['collectionPriority'] as number,
          action: { type: 'Allow' as const },
          rules: after.children.map((c) => appRuleToWire(c.key, c.attributes as AppRuleAttributes)),
        },
      ],
    };
    await WRITES.run(
      `policy:${this.#endpointKey()}/${cfg.subscription}/${cfg.resourceGroup}/${policy}`.toLowerCase(),
      async () => {
        let live: WireRcg | null = null;
        try {
          live = (await retry.run(`reading rule collection group ${name}`, async () =>
            (await this.#sdk()).firewallPolicyRuleCollectionGroups.get(cfg.resourceGroup, policy, name),
          )) as WireRcg;
        } catch (err) {
          if (!(err instanceof ProviderError && statusOf(err.cause) === 404)) throw err;
        }
        if (live && canonicalJson(normalizeRcg(live)) === canonicalJson(normalizeRcg(desired as WireRcg))) return;
        this.#options.onProgress?.(
          `firewall policy ${policy}: PUT rule collection group ${name} (${after.children.length} application rules)`,
        );
        await retry.run(`writing rule collection group ${name} of firewall policy ${policy}`, async () =>
          (await this.#sdk()).firewallPolicyRuleCollectionGroups.beginCreateOrUpdateAndWait(
            cfg.resourceGroup,
            policy,
            name,
            desired,
            this.#lro,
          ),
        );
      },
    );
  }

  async #deleteRcg(step: ApplyStep): Promise<void> {
    const cfg = azureConfig(this.#target);
    const policy = String(step.change.before?.attributes['policy'] ?? cfg.firewallPolicy ?? '');
    const name = step.change.name;
    await WRITES.run(
      `policy:${this.#endpointKey()}/${cfg.subscription}/${cfg.resourceGroup}/${policy}`.toLowerCase(),
      async () => {
        try {
          await this.#retry.run(`deleting rule collection group ${name}`, async () =>
            (await this.#sdk()).firewallPolicyRuleCollectionGroups.beginDeleteAndWait(
              cfg.resourceGroup,
              policy,
              name,
              this.#lro,
            ),
          );
        } catch (err) {
          if (err instanceof ProviderError && statusOf(err.cause) === 404) return;
          throw err;
        }
      },
    );
  }
}

/** A rule collection group reduced to what Bulkhead writes, for the converged check. */
function normalizeRcg(g: WireRcg): Json {
  return {
    priority: g.priority ?? null,
    ruleCollections: (g.ruleCollections ?? []).map((c) => ({
      type: c.ruleCollectionType ?? null,
      name: c.name ?? null,
      priority: c.priority ?? null,
      action: (c.action?.type ?? '').toLowerCase(),
      rules: (c.rules ?? []).map(
        (r): Json =>
          r.ruleType === 'ApplicationRule'
            ? { name: r.name ?? '', ...appRuleFromWire(r as WireAppRule) }
            : { name: r.name ?? '', ruleType: r.ruleType ?? null },
      ),
    })),
  };
}

/** `createApplier` of the provider. */
export function createAzureApplier(
  target: TargetSpec,
  _state: ProviderState,
  options: ApplierOptions,
  provider: AzureProviderOptions,
): Applier {
  return new AzureApplier(target, options, provider);
}
