import { hash } from 'node:crypto';
import type { SourceRef } from '../diagnostics.js';
import type { Endpoint, PortMatch } from './types.js';
import { formatPortMatch } from '../model/services.js';

/** Canonical helpers shared by the compiler: stable ids, sort keys and labels. */

/** sha256 hex of a string. */
export function sha256(text: string): string {
  // One-shot `crypto.hash` (Node >= 20.12; engines says >= 20.19) skips the Hash object: faster
  // for the short texts of rule ids, of which a large model hashes tens of thousands.
  return hash('sha256', text, 'hex');
}

/** A short stable content hash (12 hex digits = 48 bits: collisions need ~16M intents). */
export function shortHash(value: unknown): string {
  return shortHashOfJson(JSON.stringify(value));
}

/**
 * Three hex digits for each pair of base64 digits (64 × 64 entries): 2 base64 digits are 12 bits.
 * See shortHashOfJson.
 */
const B64_PAIR_HEX: readonly string[] = Array.from({ length: 4096 }, (_, i) => i.toString(16).padStart(3, '0'));
/** The value (0-63) of each base64 digit, by character code. */
const B64_VALUE = new Uint8Array(128);
for (const [i, c] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'].entries())
  B64_VALUE[c.charCodeAt(0)] = i;

/**
 * `shortHash` of a value given as its `JSON.stringify` text (for callers that build the text from
 * cached parts): the first 12 hex digits of its sha256. A large model hashes one per intent
 * (438,000 at 10,000 segments), and Node's hex encoding of a digest costs more than the hashing:
 * the digest is asked for in base64 instead, whose first 8 digits are exactly the first 6 bytes
 * (48 bits), turned into the same 12 hex digits two base64 digits (= three hex digits) at a time.
 * About half the time of `sha256(json).slice(0, 12)`, the same text (test/compile/canonical.test.ts).
 */
export function shortHashOfJson(json: string): string {
  const b = hash('sha256', json, 'base64');
  const pair = (i: number) => B64_PAIR_HEX[B64_VALUE[b.charCodeAt(i)]! * 64 + B64_VALUE[b.charCodeAt(i + 1)]!]!;
  return pair(0) + pair(2) + pair(4) + pair(6);
}

/** A readable name of an endpoint for labels and tables. */
export function formatEndpoint(e: Endpoint | { readonly kind: 'any' }): string {
  switch (e.kind) {
    case 'segment':
      return e.name;
    case 'cidrs':
    case 'fqdns':
    case 'cloud':
      return e.entity;
    case 'any':
      return 'any';
  }
}

/** `web -> app tcp/8080` (a whole protocol spelled out, `tcp/0-65535`, so messages say what overlaps). */
export function flowLabel(src: string, dst: string, service: PortMatch): string {
  return `${src} -> ${dst} ${serviceLabel(service)}`;
}

/** The service part of a flow label (`tcp/8080`, `tcp/0-65535`). */
export function serviceLabel(service: PortMatch): string {
  return service.kind === 'ports' && service.from === 0 && service.to === 65535
    ? `${service.protocol}/0-65535`
    : formatPortMatch(service);
}

/** Plain string comparison (code units), locale-independent. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sorts origins by file, line, column, label; drops exact duplicates. */
export function sortOrigins(origins: readonly SourceRef[]): SourceRef[] {
  if (origins.length === 1) {
    // Most intents are written once: the same copy, without the Set and the sort.
    const o = origins[0]!;
    return [{ pos: { file: o.pos.file, line: o.pos.line, column: o.pos.column }, label: o.label }];
  }
  const seen = new Set<string>();
  const out: SourceRef[] = [];
  for (const o of origins) {
    const k = `${o.pos.file}\u0000${o.pos.line}\u0000${o.pos.column}\u0000${o.label}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push({ pos: { file: o.pos.file, line: o.pos.line, column: o.pos.column }, label: o.label });
  }
  return out.sort(
    (a, b) =>
      compareStrings(a.pos.file, b.pos.file) ||
      a.pos.line - b.pos.line ||
      a.pos.column - b.pos.column ||
      compareStrings(a.label, b.label),
  );
}
