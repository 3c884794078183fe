import type { CloudId } from '../src/compile/types.js';
import type { Provider, ProviderEntry, TargetDescriptor } from '../src/provider.js';
import { awsProvider } from './aws/index.js';
import { azureProvider } from './azure/index.js';
import { gcpProvider } from './gcp/index.js';
import { kubernetesProvider } from './kubernetes/index.js';
import { addTarget, BUILT_IN_TARGETS } from './descriptors.js';

// Each provider's target config type, for library users; exporting them here also puts each
// provider's TargetConfigs augmentation into every program that sees the registry's types
// (the library's .d.ts), so `TargetSpec` is the union of the bundled providers' targets there too.
export type { AwsTargetConfig } from './aws/target.js';
export type { AzureTargetConfig } from './azure/target.js';
export type { GcpTargetConfig } from './gcp/target.js';
export type { KubernetesTargetConfig } from './kubernetes/target.js';

export { getTarget, providerIds, registryGeneration, targetDescriptors } from './descriptors.js';

/**
 * The provider registry: the only place the core (src/) learns which clouds exist. One entry per
 * provider, in the order lists of providers are shown: its target descriptor (providers/<id>/target.ts,
 * also listed in providers/descriptors.ts, the half model validation loads) and its factory,
 * exported by providers/<id>/index.ts. A new provider adds its entry here and its descriptor there.
 */
const BUILT_IN: readonly ProviderEntry[] = [awsProvider, azureProvider, gcpProvider, kubernetesProvider];

// The two lists are one registry: a descriptor without its factory (or another order) is a bug.
if (BUILT_IN.some((e, i) => e.target !== BUILT_IN_TARGETS[i]) || BUILT_IN.length !== BUILT_IN_TARGETS.length)
  throw new Error('providers/index.ts and providers/descriptors.ts list different providers');

/**
 * One factory per provider. Tests replace or delete a factory to put a fake provider behind the
 * real commands; a cloud without a factory is "not available yet".
 */
export const PROVIDERS: Partial<Record<CloudId, () => Provider>> = Object.fromEntries(
  BUILT_IN.map((e) => [e.target.id, e.create]),
);

/** The provider for a cloud, or undefined when it has not landed yet. */
export function getProvider(id: CloudId): Provider | undefined {
  return PROVIDERS[id]?.();
}

/**
 * Adds a provider at run time, after the built-in ones; returns the function that removes it
 * again. For tests (a toy provider proves the core needs nothing else: test/boundary.test.ts) and
 * embedders; the bundled providers are the lines of BUILT_IN.
 */
export function registerProvider<K extends string, C>(entry: ProviderEntry<K, C>): () => void {
  const id = entry.target.id;
  const removeTarget = addTarget(entry.target as unknown as TargetDescriptor);
  const factories = PROVIDERS as Record<string, () => Provider>;
  factories[id] = entry.create;
  return () => {
    removeTarget();
    delete factories[id];
  };
}
