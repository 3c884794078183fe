/**
 * One render for a provider's `validate` and the `render` that follows it. Every provider checks
 * its quotas on the rendered objects, so `bulkhead render` and `plan` rendered every target twice:
 * at 10,000 segments that is ~1 s of AWS and ~10 s of GCP work done again (issue 11). `validate`
 * puts what it rendered, keyed by the inputs render depends on (compared by identity: the same
 * RuleSet, target and context objects); the next `render` with the same key takes it. Taking
 * empties the share, so a result is handed out at most once: what a caller does with its array
 * cannot reach a later call.
 */
export interface RenderShare<T> {
  /** Holds `value` (replacing what was held) for a `take` with the same key. */
  put(key: readonly unknown[], value: T): void;
  /** The value put with this key (every part identical), or undefined; either way the share is empty after. */
  take(key: readonly unknown[]): T | undefined;
}

/** A share that holds one result. */
export function createRenderShare<T>(): RenderShare<T> {
  let held: { readonly key: readonly unknown[]; readonly value: T } | undefined;
  return {
    put(key, value) {
      held = { key, value };
    },
    take(key) {
      const h = held;
      held = undefined;
      return h !== undefined && h.key.length === key.length && h.key.every((k, i) => k === key[i])
        ? h.value
        : undefined;
    },
  };
}
