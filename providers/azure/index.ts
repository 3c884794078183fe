import type { Provider, ProviderEntry } from '../../src/provider.js';
import { createAzureApplier } from './apply.js';
import { azureCliJson } from './cli-json.js';
import { createAzureLocker } from './lock.js';
import { readAzure, type AzureProviderOptions } from './read.js';
import { renderAzure } from './render.js';
import { exportAzureSnapshot } from './snapshot.js';
import { validateAzure } from './validate.js';
import { azureTarget } from './target.js';

export type { AzureProviderOptions } from './read.js';

/**
 * The Azure provider: application security groups per segment, the target NSG's rules with stable
 * priorities, and Azure Firewall Policy application rules for FQDN egress (DESIGN §2 Azure).
 * Production uses DefaultAzureCredential against https://management.azure.com (or the target's
 * `endpoint` / BULKHEAD_AZURE_ENDPOINT); tests inject a credential and an emulator endpoint.
 */
export function createAzureProvider(options: AzureProviderOptions = {}) {
  return {
    id: 'azure',
    validate: (rules, target, ctx) => validateAzure(rules, target, ctx),
    render: (rules, target, ctx) => renderAzure(rules, target, ctx),
    read: (target, source, context) => readAzure(target, source, options, context),
    createApplier: (target, state, applierOptions) => createAzureApplier(target, state, applierOptions, options),
    exportSnapshot: (target, live) => exportAzureSnapshot(target, live, options),
    toCliJson: (resources, target) => azureCliJson(resources, target),
    lock: createAzureLocker(options),
  } satisfies Provider;
}

/** The Azure provider's registry entry (providers/index.ts). */
export const azureProvider: ProviderEntry<'azure'> = { target: azureTarget, create: () => createAzureProvider() };
