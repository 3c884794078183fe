import { hash } from 'node:crypto';
import { InternalError } from '../../src/errors.js';

/**
 * Names with a hash tail: a readable head cut to fit a length limit, then `-<hash>` of the name's
 * identity, so two names that share a truncated head (or a slug) still differ, and a name stays the
 * same across plans as long as its identity does. DNS-label safe (RFC 1035 §2.3.1, which GCP
 * requires: `[a-z]([-a-z0-9]*[a-z0-9])?`, 63 characters at most).
 */

/** Hex digits of sha256 of a text (one-shot `crypto.hash`, Node ≥ 20.12: no Hash object per call). */
export function hexHash(text: string, length: number): string {
  return hash('sha256', text, 'hex').slice(0, length);
}

/** Text that `labelSlug` returns unchanged: `[a-z0-9]` runs joined by single dashes. */
const IS_SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** Lower-case DNS-label fragment: runs of anything but `[a-z0-9]` become one `-`, no dash at either end. */
export function labelSlug(text: string): string {
  // Most texts are slugs already (segment names, rule parts): one test instead of three regex
  // passes and their copies, for the half million names of a 10,000-segment GCP render (issue 11).
  if (IS_SLUG.test(text)) return text;
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

const DASH = 0x2d;
const A = 0x61;
const Z = 0x7a;

/** Options of `nameWithHashTail`. */
export interface HashTailOptions {
  /**
   * What the tail hashes: the name's identity. Default: the parts joined by a newline (a character
   * no slug keeps, so `["a-b"]` and `["a", "b"]` hash apart even though they slug alike). GCP passes
   * `<model>\n<rule key>`, so a port change (not in the key) keeps the name.
   */
  readonly identity?: string;
}

/**
 * `<slug of parts joined by ->-<hash>`, at most `maxLength` characters, always with the tail.
 * The head is cut from its end (the first part, the model's name, survives longest) and loses
 * trailing dashes. The first part must slug to something starting with a letter (model names are
 * DNS names, so it does): anything else is a bug of the caller, an InternalError.
 */
export function nameWithHashTail(
  parts: readonly string[],
  maxLength: number,
  hashLength: number,
  options: HashTailOptions = {},
): string {
  // 1 character of head (a letter) + "-" + the tail is the least a label can be.
  if (!Number.isInteger(hashLength) || hashLength < 1 || hashLength > 64 || maxLength < hashLength + 2) {
    throw new InternalError(`nameWithHashTail: cannot fit a ${hashLength}-digit hash tail in ${maxLength} characters`);
  }
  const tail = hexHash(options.identity ?? parts.join('\n'), hashLength);
  const slug = labelSlug(parts.join('-'));
  // The cut, then no trailing dashes (a loop, not a regex: this runs once per rule of a render).
  let end = Math.min(slug.length, maxLength - hashLength - 1);
  while (end > 0 && slug.charCodeAt(end - 1) === DASH) end--;
  const head = end === slug.length ? slug : slug.slice(0, end);
  const first = head.charCodeAt(0);
  if (!(first >= A && first <= Z))
    throw new InternalError(`nameWithHashTail: the name "${parts.join('-')}" does not start with a letter`);
  return `${head}-${tail}`;
}
