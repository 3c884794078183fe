import type { Provider, ProviderEntry } from '../../src/provider.js';
import { ProviderError } from '../../src/errors.js';
import type { StateSource, ReadContext } from '../../src/provider.js';
import type { TargetSpec } from '../../src/compile/types.js';
import type { ProviderState } from '../../src/plan/types.js';
import type { GcpApplyOptions } from './apply.js';
import { toGcpCliJson } from './cli-json.js';
import { DEFAULT_FIREWALL_QUOTA } from './limits.js';
import { createGcpLocker } from './lock.js';
import type { RetryOptions } from './errors.js';
import type { GcpClientFactory, GcpReadOptions } from './read.js';
import { createRenderShare } from '../kit/render-share.js';
import { lazyApplier } from '../kit/lazy.js';
import { renderGcp, type GcpRender } from './render.js';
import { validateGcp } from './validate.js';
import { gcpTarget } from './target.js';
import { gcpRuleFlows } from './rule-flows.js';
import { gcpFlowLogReader } from './flows.js';
import { gcpInventoryReader } from './inventory.js';

/**
 * The GCP provider: VPC firewall rules by network tag or service account, plus rules of a global
 * network firewall policy for FQDN egress (DESIGN §2 GCP). Render and validate are pure; read,
 * apply and export use `@google-cloud/compute` (REST) with Application Default Credentials, or
 * the injected clients/endpoint (emulators, tests). Read, apply, export and the evaluator import
 * their modules on first use (issue 11.0, start-up): render and validate load only what they run.
 */

/** Options of the GCP provider (all optional; tests inject clients and fast retries). */
export interface GcpProviderOptions extends GcpApplyOptions {
  /** Makes the Compute clients for an endpoint (default: real clients, ADC). */
  readonly clients?: GcpClientFactory;
  /** The project's VPC firewall rule quota (default DEFAULT_FIREWALL_QUOTA). */
  readonly firewallQuota?: number;
  /** Page size of `firewalls.list` (default 500). */
  readonly pageSize?: number;
  readonly retry?: RetryOptions;
}

/** Creates the GCP provider. */
export function createGcpProvider(options: GcpProviderOptions = {}) {
  // validate's render, for the render that follows.
  const shared = createRenderShare<GcpRender>();
  const readOptions = {
    ...(options.clients ? { clients: options.clients } : {}),
    ...(options.pageSize ? { pageSize: options.pageSize } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
  };
  return {
    id: 'gcp',
    validate(rules, target, _ctx) {
      if (target.kind !== 'gcp') return validateGcp(rules, target);
      const rendered = renderGcp(rules, target);
      shared.put([rules, target, undefined], rendered);
      // The quota the target declares (its project's real one) wins over the provider's option.
      return validateGcp(rules, target, {
        firewallQuota: target.gcp.firewallQuota ?? options.firewallQuota ?? DEFAULT_FIREWALL_QUOTA,
        rendered,
      });
    },
    // FQDNs are matched by the policy (destFqdns), so the plan's resolutions are not needed; the
    // live state tells which policy priorities unowned rules hold, so without a firewall policy
    // it changes nothing and validate's render (made without it) is the render.
    render: (rules, target, ctx) =>
      (
        shared.take([rules, target, target.kind === 'gcp' && target.gcp.firewallPolicy ? ctx.live : undefined]) ??
        renderGcp(rules, target, ctx.live)
      ).resources,
    // Stateless: ownership and "in the way" are decided from the read's own arguments.
    read: (target, source, context) => readGcp(target, source, context, readOptions),
    createApplier: (target, _state, applierOptions) =>
      lazyApplier(async () => (await import('./apply.js')).createGcpApplier(target, applierOptions, options)),
    // Everything gcloud's list would print, not only the model's rules.
    async exportSnapshot(target, live) {
      const [{ readGcpTarget }, { formatSnapshot }] = await Promise.all([import('./read.js'), import('./snapshot.js')]);
      return formatSnapshot(await readGcpTarget(target, live.endpoint, readOptions));
    },
    toCliJson: (resources, target) => toGcpCliJson(resources, target),
    lock: createGcpLocker(options.clients ? { clients: options.clients } : {}),
    ruleFlows: gcpRuleFlows,
    flows: gcpFlowLogReader,
    inventory: gcpInventoryReader,
    evaluate: async (target, state, context) => (await import('./evaluate.js')).evaluateGcp(target, state, context),
  } satisfies Provider;
}

/** The GCP provider's registry entry (providers/index.ts). */
export const gcpProvider: ProviderEntry<'gcp'> = { target: gcpTarget, create: () => createGcpProvider() };

/**
 * `Provider.read` for GCP, the assembly of the three parts: the raw state from snapshot.ts (files)
 * or read.ts (the API), canonical through state.ts.
 */
async function readGcp(
  target: TargetSpec,
  source: StateSource,
  context: ReadContext | undefined,
  options: GcpReadOptions,
): Promise<ProviderState> {
  if (target.kind !== 'gcp')
    throw new ProviderError(`gcp: target ${target.name} is not a GCP target (it is a ${target.kind} target)`);
  const model = context?.model;
  const { toProviderState } = await import('./state.js');
  if (source.kind === 'snapshot') {
    const { readGcpSnapshot } = await import('./snapshot.js');
    const { raw, diagnostics } = await readGcpSnapshot(target, source.dir);
    if (!raw) return { target: target.name, source: 'snapshot', resources: [], fingerprint: '', diagnostics };
    const state = toProviderState(target, raw, 'snapshot', model, context?.unowned === true, context?.fingerprint);
    return { ...state, diagnostics: [...diagnostics, ...state.diagnostics] };
  }
  // Reading what the model does not own too: no server-side narrowing to the model's names.
  const { readGcpTarget } = await import('./read.js');
  const raw = await readGcpTarget(target, source.endpoint, options, context?.unowned ? undefined : model);
  return toProviderState(target, raw, 'live', model, context?.unowned === true, context?.fingerprint);
}
