import { join } from 'node:path';
import type { ProviderState } from '../../src/plan/types.js';
import type { Provider, ProviderEntry } from '../../src/provider.js';
import { azureCliJson } from './cli-json.js';
import { createAzureLocker } from './lock.js';
import type { AzureProviderOptions } from './read.js';
import { createRenderShare } from '../kit/render-share.js';
import { lazyApplier } from '../kit/lazy.js';
import { azureConfig, layoutAzure, placedForLive, renderAzure, type AzureLayout } from './render.js';
import { validateAzure } from './validate.js';
import { azureTarget } from './target.js';
import { azureRuleFlows } from './rule-flows.js';
import { hasNsgMap, targetNsgs } from './nsgs.js';
import { azureFlowLogReader } from './flows.js';
import { createAzureInventoryReader } from './inventory.js';

export type { AzureProviderOptions } from './read.js';

/**
 * The Azure provider: application security groups per segment, the target NSG's rules with stable
 * priorities, and Azure Firewall Policy application rules for FQDN egress (DESIGN §2 Azure).
 * Production uses DefaultAzureCredential against https://management.azure.com (or the target's
 * `endpoint` / BULKHEAD_AZURE_ENDPOINT); tests inject a credential and an emulator endpoint.
 * The assembly point: `read` is the raw state of read.ts (live) or snapshot.ts (files) made
 * canonical by state.ts; `exportSnapshot` is a live read written as snapshot.ts's files. Those
 * modules, the applier's and the evaluator's are imported on first use (issue 11.0, start-up):
 * render and validate load only what they run.
 */
export function createAzureProvider(options: AzureProviderOptions = {}) {
  const shared = createRenderShare<{ readonly layout: AzureLayout; readonly live: ProviderState | undefined }>();
  return {
    id: 'azure',
    // validate's layout, for the render that follows: as it is for `bulkhead render`; a plan's
    // render has the live state read since, so validate's rules are placed again around it.
    validate(rules, target, ctx) {
      const layout = layoutAzure(rules, target, ctx);
      shared.put([rules, target, ctx.resolved], { layout, live: ctx.live });
      return validateAzure(rules, target, ctx, layout);
    },
    render(rules, target, ctx) {
      const held = shared.take([rules, target, ctx.resolved]);
      const layout = held && (held.live === ctx.live ? held.layout : placedForLive(held.layout, ctx.live));
      return renderAzure(rules, target, ctx, layout);
    },
    async read(target, source, context) {
      const { inferModel, stateFromRaw } = await import('./state.js');
      if (source.kind === 'snapshot') {
        const { readSnapshotRaw } = await import('./snapshot.js');
        return stateFromRaw(
          await readSnapshotRaw(
            join(source.dir, target.name),
            target.name,
            hasNsgMap(azureConfig(target)) ? targetNsgs(azureConfig(target)) : undefined,
          ),
          target,
          'snapshot',
          context,
        );
      }
      const { readAzureLive } = await import('./read.js');
      const raw = await readAzureLive(target, options, source.endpoint, context?.model);
      const model = context?.model ?? inferModel(raw);
      return stateFromRaw(raw, target, 'live', context ?? (model !== undefined ? { model } : undefined));
    },
    createApplier: (target, state, applierOptions) =>
      lazyApplier(async () => (await import('./apply.js')).createAzureApplier(target, state, applierOptions, options)),
    async exportSnapshot(target, live) {
      const [{ readAzureLive }, { snapshotFiles }] = await Promise.all([import('./read.js'), import('./snapshot.js')]);
      return snapshotFiles(
        await readAzureLive(target, options, live.endpoint, undefined),
        azureConfig(target).resourceGroup,
      );
    },
    toCliJson: (resources, target) => azureCliJson(resources, target),
    lock: createAzureLocker(options),
    ruleFlows: azureRuleFlows,
    flows: azureFlowLogReader,
    inventory: createAzureInventoryReader(options),
    evaluate: async (target, state, context) => (await import('./evaluate.js')).evaluateAzure(target, state, context),
  } satisfies Provider;
}

/** The Azure provider's registry entry (providers/index.ts). */
export const azureProvider: ProviderEntry<'azure'> = { target: azureTarget, create: () => createAzureProvider() };
