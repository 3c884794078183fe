import type { Applier } from '../../src/provider.js';

/**
 * Start-up (issue 11.0): a provider's index.ts imports only what `validate` and `render` run
 * (its render, validate, CLI JSON and rule-flow modules); the modules of read, apply, export,
 * the evaluator … are imported by the member that needs them, on first use. These helpers keep
 * that one pattern for the members whose result is not a promise.
 */

/** `load`, called once: later calls get the same promise (one import, one client, one locker). */
export function once<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () => (loaded ??= load());
}

/**
 * An applier whose module is imported when its first step runs (`Provider.createApplier` is
 * synchronous, `Applier.run` is not): steps started together wait for the same import, and a
 * failed import fails every step the same way.
 */
export function lazyApplier(create: () => Promise<Applier>): Applier {
  const applier = once(create);
  return { run: async (step) => (await applier()).run(step) };
}
