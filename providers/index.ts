import type { CloudId } from '../src/compile/types.js';
import type { Provider, ProviderEntry, TargetDescriptor } from '../src/provider.js';
import { awsProvider } from './aws/index.js';
import { azureProvider } from './azure/index.js';
import { gcpProvider } from './gcp/index.js';
import { kubernetesProvider } from './kubernetes/index.js';

// Each provider's target config type, for library users; exporting them here also puts each
// provider's TargetConfigs augmentation into every program that sees the registry's types
// (the library's .d.ts), so `TargetSpec` is the union of the bundled providers' targets there too.
export type { AwsTargetConfig } from './aws/target.js';
export type { AzureTargetConfig } from './azure/target.js';
export type { GcpTargetConfig } from './gcp/target.js';
export type { KubernetesTargetConfig } from './kubernetes/target.js';

/**
 * The provider registry: the only place the core (src/) learns which clouds exist. One entry per
 * provider, in the order lists of providers are shown (and per-cloud keys are written in the
 * RuleSet's JSON): its target descriptor (providers/<id>/target.ts) and its factory, exported by
 * providers/<id>/index.ts. A new provider adds its import and its name in BUILT_IN, nothing else.
 */
const BUILT_IN: readonly ProviderEntry[] = [awsProvider, azureProvider, gcpProvider, kubernetesProvider];

/** The target descriptors, by id, in registry order. */
const TARGETS = new Map<string, TargetDescriptor>(BUILT_IN.map((e) => [e.target.id, e.target]));

/**
 * One factory per provider. Tests replace or delete a factory to put a fake provider behind the
 * real commands; a cloud without a factory is "not available yet".
 */
export const PROVIDERS: Partial<Record<CloudId, () => Provider>> = Object.fromEntries(
  BUILT_IN.map((e) => [e.target.id, e.create]),
);

/** Bumped on every registration, so what is built from the registry (the schema) can be rebuilt. */
let generation = 0;

/** The provider for a cloud, or undefined when it has not landed yet. */
export function getProvider(id: CloudId): Provider | undefined {
  return PROVIDERS[id]?.();
}

/** The target descriptor of a provider id, or undefined for an id no provider has. */
export function getTarget(id: string): TargetDescriptor | undefined {
  return TARGETS.get(id);
}

/** Every registered target descriptor, in registry order (one array per registry generation: hot paths call this). */
export function targetDescriptors(): readonly TargetDescriptor[] {
  if (listed.generation !== generation) listed = { generation, list: [...TARGETS.values()] };
  return listed.list;
}
let listed: { generation: number; list: readonly TargetDescriptor[] } = { generation: -1, list: [] };

/** Every registered provider id, in registry order. */
export function providerIds(): readonly CloudId[] {
  return [...TARGETS.keys()] as CloudId[];
}

/** Changes whenever the registry does (see `registerProvider`). */
export function registryGeneration(): number {
  return generation;
}

/**
 * Adds a provider at run time, after the built-in ones; returns the function that removes it
 * again. For tests (a toy provider proves the core needs nothing else: test/boundary.test.ts) and
 * embedders; the bundled providers are the lines of BUILT_IN.
 */
export function registerProvider<K extends string, C>(entry: ProviderEntry<K, C>): () => void {
  const id = entry.target.id;
  if (TARGETS.has(id)) throw new Error(`a provider "${id}" is already registered`);
  TARGETS.set(id, entry.target as unknown as TargetDescriptor);
  const factories = PROVIDERS as Record<string, () => Provider>;
  factories[id] = entry.create;
  generation++;
  return () => {
    TARGETS.delete(id);
    delete factories[id];
    generation++;
  };
}
