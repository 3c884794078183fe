import type { CloudId } from '../src/compile/types.js';
import type { TargetDescriptor } from '../src/provider.js';
import { awsTarget } from './aws/target.js';
import { azureTarget } from './azure/target.js';
import { gcpTarget } from './gcp/target.js';
import { kubernetesTarget } from './kubernetes/target.js';

/**
 * The registry's half that model validation needs: every provider's target descriptor
 * (providers/<id>/target.ts), in the order lists of providers are shown (and per-cloud keys are
 * written in the RuleSet's JSON). `validate`, `compile` and `--help` ask only these questions, so
 * src/targets.ts imports this module and not providers/index.ts, whose factories bring in each
 * provider's render, read and apply (issue 11.0, start-up: validate of the shop loaded 84
 * provider modules for the 20 it uses). providers/index.ts checks that its BUILT_IN lists the
 * same providers in the same order; a new provider adds its descriptor here and its entry there.
 */
export const BUILT_IN_TARGETS: readonly TargetDescriptor[] = [awsTarget, azureTarget, gcpTarget, kubernetesTarget];

/** The target descriptors, by id, in registry order. */
const TARGETS = new Map<string, TargetDescriptor>(BUILT_IN_TARGETS.map((t) => [t.id, t]));

/** Bumped on every registration, so what is built from the registry (the schema) can be rebuilt. */
let generation = 0;

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

/** Changes whenever the registry does (see `registerProvider` in providers/index.ts). */
export function registryGeneration(): number {
  return generation;
}

/**
 * Adds a descriptor after the built-in ones and returns the function that removes it again. Only
 * providers/index.ts's `registerProvider` calls it, which registers the factory beside it.
 */
export function addTarget(target: TargetDescriptor): () => void {
  if (TARGETS.has(target.id)) throw new Error(`a provider "${target.id}" is already registered`);
  TARGETS.set(target.id, target);
  generation++;
  return () => {
    TARGETS.delete(target.id);
    generation++;
  };
}
