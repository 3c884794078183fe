/**
 * A per-key serializer: calls run one at a time per key (one NSG, one firewall policy, one
 * security group) and in parallel across keys. Clouds refuse or corrupt concurrent writes to one
 * object (Azure "AnotherOperationInProgress", GCP `resourceNotReady`, cloud-semantics §1.6, §2.4,
 * §3.5), so every provider's writes to one object go through one of these.
 */

/** A keyed serializer. */
export interface KeyedSerializer {
  /**
   * Runs `fn` after every earlier call for `key` has settled (in call order), and returns its
   * result. A failure of an earlier call does not block later ones: the key is released either way.
   */
  run<T>(key: string, fn: () => Promise<T>): Promise<T>;
  /** Keys with a call running or queued (tests, leak checks): an idle serializer holds none. */
  readonly busyKeys: () => readonly string[];
}

/**
 * A new serializer. Its queues live as long as it does: create one per applier for per-apply
 * scope, or one per module for process-wide scope (Azure's locks were process-wide).
 */
export function createKeyedSerializer(): KeyedSerializer {
  // Per key: the settled-promise of the last call queued. The entry is dropped when the last
  // queued call settles, so the map never grows beyond the keys in flight.
  const tails = new Map<string, Promise<void>>();
  return {
    async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
      const previous = tails.get(key) ?? Promise.resolve();
      const result = previous.then(fn);
      const tail = result.then(
        () => undefined,
        () => undefined,
      );
      tails.set(key, tail);
      try {
        return await result;
      } finally {
        if (tails.get(key) === tail) tails.delete(key);
      }
    },
    busyKeys: () => [...tails.keys()].sort(),
  };
}
