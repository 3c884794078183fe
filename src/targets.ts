import { getTarget, targetDescriptors } from '../providers/descriptors.js';
import type { TargetSpec } from './compile/types.js';
import { InternalError } from './errors.js';
import { DEFAULT_INTERNAL_RANGES, sortCidrs } from './model/addresses.js';
import { configOf, type TargetDescriptor } from './provider.js';

/**
 * The core's one door to what providers know about their targets: every question src/ asks
 * about a cloud goes through a target descriptor from the registry's descriptor half
 * (providers/descriptors.ts), so no module of src/ names a cloud. It imports the descriptors
 * only, not the providers' factories (providers/index.ts, which `getProvider` callers import):
 * validate, compile and `--help` load no render, read or apply module (issue 11.0, start-up).
 * Nothing in providers/ imports this module: .dependency-cruiser.cjs forbids the cycle.
 */

export { getTarget, providerIds, registryGeneration, targetDescriptors } from '../providers/descriptors.js';

/** The descriptor of a target's provider; a target of an unregistered provider is a bug (validation made it). */
export function descriptorOf(t: TargetSpec): TargetDescriptor {
  const d = getTarget(t.kind);
  if (!d) throw new InternalError(`target ${t.name} is on "${t.kind}", which no registered provider handles`);
  return d;
}

/** The internal ranges of a target: its `internalRanges`, else DEFAULT_INTERNAL_RANGES (the provider says). */
export function targetInternalRanges(t: TargetSpec): readonly string[] {
  return descriptorOf(t).internalRanges(configOf(t));
}

/**
 * The distinct internal-range sets of a model's targets (each sorted), or the default alone when
 * the model declares no target: a CIDR overlaps `internet` when it reaches outside any of them.
 */
export function modelInternalRanges(targets: Iterable<TargetSpec>): (readonly string[])[] {
  const out = new Map<string, readonly string[]>();
  for (const t of targets) {
    const r = sortCidrs(targetInternalRanges(t));
    out.set(r.join(','), r);
  }
  if (out.size === 0) out.set('', DEFAULT_INTERNAL_RANGES);
  return [...out.values()];
}

/** A target as the RuleSet carries it: plain JSON in a fixed key order (the provider orders its config). */
export function canonicalTarget(t: TargetSpec): TargetSpec {
  const pos = { file: t.pos.file, line: t.pos.line, column: t.pos.column };
  return { kind: t.kind, name: t.name, pos, [t.kind]: descriptorOf(t).canonical(configOf(t)) } as TargetSpec;
}

/** How messages name a provider: "AWS" (the id itself when unknown). */
export function providerLabel(id: string): string {
  return getTarget(id)?.label ?? id;
}

/** "A, B and C". */
export function listInWords(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** The registered providers' labels in words: "AWS, Azure and GCP". */
export function providerLabels(): string {
  return listInWords(targetDescriptors().map((d) => d.label));
}
