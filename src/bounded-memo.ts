/**
 * Memoizes a pure function of one string or number key. Bounded: the cache is cleared when it
 * holds `max` entries, so a huge input (a large live state) cannot grow it without limit. A call
 * that throws caches nothing, so invalid input throws every time.
 */
export function boundedMemo<K extends string | number, T>(fn: (key: K) => T, max: number): (key: K) => T {
  const cache = new Map<K, T>();
  return (key: K): T => {
    if (cache.has(key)) return cache.get(key) as T;
    const value = fn(key);
    if (cache.size >= max) cache.clear();
    cache.set(key, value);
    return value;
  };
}
