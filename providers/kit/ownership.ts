/**
 * The ownership marker: how an object says "model M made me", in each shape a cloud offers.
 * Bulkhead only ever changes objects that carry its model's marker (DESIGN: never adopt silently).
 *
 * - AWS: a tag `bulkhead:model=<model>` in the `{ Key, Value }` list shape (tag keys are case-sensitive).
 * - Azure: the same tag in the `{ [key]: value }` map shape (ARM tag NAMES are case-insensitive, values
 *   are not), and, for NSG rules that carry no tags, the name prefix `<model>-<kind>-`.
 * - GCP: the text `bulkhead:model=<model>` inside the description, plus the name prefix `<model>-`.
 */

/** The marker's tag key and description keyword. */
export const OWNER_KEY = 'bulkhead:model';

/** A tag in the AWS list shape. */
export interface TagPair {
  readonly Key?: string | undefined;
  readonly Value?: string | undefined;
}

/** The marker as an AWS tag. */
export function ownerTag(model: string): { readonly Key: string; readonly Value: string } {
  return { Key: OWNER_KEY, Value: model };
}

/** The model an AWS tag list names as owner, if any. */
export function ownerOfTagList(tags: readonly TagPair[] | null | undefined): string | undefined {
  return tags?.find((t) => t.Key === OWNER_KEY)?.Value;
}

/** The marker as an Azure tag map entry. */
export function ownerTagMap(model: string): { readonly [key: string]: string } {
  return { [OWNER_KEY]: model };
}

/** The model an Azure tag map names as owner, if any (the key matched case-insensitively, as ARM does). */
export function ownerOfTagMap(
  tags: { readonly [key: string]: string | null | undefined } | null | undefined,
): string | undefined {
  if (!tags) return undefined;
  const exact = tags[OWNER_KEY];
  if (typeof exact === 'string') return exact;
  for (const [k, v] of Object.entries(tags)) if (k.toLowerCase() === OWNER_KEY && typeof v === 'string') return v;
  return undefined;
}

/** The marker as description text: `bulkhead:model=<model>`. */
export function descriptionMarker(model: string): string {
  return `${OWNER_KEY}=${model}`;
}

/** `<summary> [bulkhead:model=<model>]`: how GCP descriptions carry the marker after the readable part. */
export function withDescriptionMarker(summary: string, model: string): string {
  return `${summary} [${descriptionMarker(model)}]`;
}

/**
 * The model a description's marker names, if any. The marker must start the text or follow a blank,
 * `[` or `(`, so `xbulkhead:model=a` is no marker; the name is a DNS name, read in full, so the
 * marker of `shop-admin` never reads as `shop`.
 */
export function ownerOfDescription(description: string | null | undefined): string | undefined {
  return /(?:^|[\s[(])bulkhead:model=([a-z0-9][-a-z0-9]*)/.exec(description ?? '')?.[1];
}

/** The name prefix of a model's objects: `<model>-`. */
export function ownerPrefix(model: string): string {
  return `${model}-`;
}

/**
 * True when `name` carries the model's name prefix. With `kinds`, the prefix must be followed by one
 * of them and a dash (`<model>-in-…`): that keeps model `shop` from claiming the objects of model
 * `shop-admin` where the name is the only marker (Azure NSG rules). `caseInsensitive` for clouds whose
 * names are (Azure).
 */
export function hasOwnerPrefix(
  model: string,
  name: string,
  options: { readonly kinds?: readonly string[]; readonly caseInsensitive?: boolean } = {},
): boolean {
  const fold = (s: string) => (options.caseInsensitive ? s.toLowerCase() : s);
  const n = fold(name);
  const prefix = fold(ownerPrefix(model));
  if (!n.startsWith(prefix)) return false;
  if (!options.kinds) return true;
  const rest = n.slice(prefix.length);
  return options.kinds.some((k) => rest.startsWith(`${fold(k)}-`));
}
