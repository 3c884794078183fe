import { ProviderError } from '../errors.js';

/**
 * Small helpers for the inventory parsers (providers/<cloud>/inventory.ts): reading a cloud CLI's
 * JSON with messages that name the file and the JSON path of what is wrong.
 */

/** A plain JSON object. */
export type JsonObject = Record<string, unknown>;

/** True for a plain JSON object. */
export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A bad-input error at `file` and a JSON path (`NetworkInterfaces[2].Groups`). */
export function jsonPathError(file: string, path: string, message: string): ProviderError {
  return new ProviderError(`${file}: ${path}: ${message}`, 'bad-inventory');
}

/** The list at `obj[key]`, or [] when absent; an error when it is something else. */
export function listAt(obj: JsonObject, key: string, file: string, path: string): unknown[] {
  const v = obj[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw jsonPathError(file, `${path}.${key}`, 'expected a list');
  return v;
}

/** The string at `obj[key]`, or undefined when absent; an error when it is not a string. */
export function stringAt(obj: JsonObject, key: string, file: string, path: string): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw jsonPathError(file, `${path}.${key}`, 'expected a string');
  return v;
}

/** The value that occurs most often (ties: the smallest), for a target proposal. */
export function mostCommon(values: readonly string[]): string | undefined {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: string | undefined;
  let bestCount = 0;
  for (const [v, n] of [...counts].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    if (n > bestCount) {
      best = v;
      bestCount = n;
    }
  }
  return best;
}

/** The last path segment of a resource id or URL (`…/networks/default` → `default`). */
export function lastSegment(id: string): string {
  const parts = id.split('/').filter(Boolean);
  return parts[parts.length - 1] ?? id;
}
