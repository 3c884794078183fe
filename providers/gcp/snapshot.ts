import type { SnapshotFile } from '../../src/provider.js';
import type { FirewallJsonIn, PolicyRuleJsonIn } from './canonical.js';
import type { GcpRawState } from './read.js';

/**
 * Snapshot files (pure): parse and write the `gcloud` JSON exports that `read` takes in snapshot
 * mode, per target folder `<snapshots>/<target>/`:
 * - `firewall-rules.json`: `gcloud compute firewall-rules list --project P --format=json`
 * - `firewall-policy.json`: `gcloud compute network-firewall-policies describe NAME --global --project P --format=json`
 *   (only when the target names a firewall policy)
 */

/** File names inside a target's snapshot folder. */
export const SNAPSHOT_FILES = { firewalls: 'firewall-rules.json', policy: 'firewall-policy.json' } as const;

type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

/**
 * Parses `gcloud compute firewall-rules list --format=json` (a JSON array of firewalls). An API
 * list page (`{items: [...]}`) is accepted too.
 */
export function parseFirewallRulesJson(text: string): Parsed<FirewallJsonIn[]> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, message: `not JSON (${(err as Error).message})` };
  }
  const items = Array.isArray(json) ? json : (json as { items?: unknown } | null)?.items ?? (json && typeof json === 'object' && 'kind' in json ? [] : undefined);
  if (!Array.isArray(items)) return { ok: false, message: 'expected the JSON array printed by `gcloud compute firewall-rules list --format=json`' };
  for (const [i, fw] of items.entries()) {
    if (typeof fw !== 'object' || fw === null || typeof (fw as { name?: unknown }).name !== 'string') {
      return { ok: false, message: `item ${i} is not a firewall rule (no "name")` };
    }
  }
  return { ok: true, value: items as FirewallJsonIn[] };
}

/** Parses `gcloud compute network-firewall-policies describe --format=json` (one FirewallPolicy). */
export function parsePolicyJson(text: string): Parsed<{ rules: PolicyRuleJsonIn[]; selfLink?: string }> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, message: `not JSON (${(err as Error).message})` };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { ok: false, message: 'expected the JSON object printed by `gcloud compute network-firewall-policies describe --format=json`' };
  }
  const p = json as { rules?: unknown; selfLink?: unknown };
  if (p.rules !== undefined && !Array.isArray(p.rules)) return { ok: false, message: '"rules" is not an array' };
  return { ok: true, value: { rules: (p.rules ?? []) as PolicyRuleJsonIn[], ...(typeof p.selfLink === 'string' ? { selfLink: p.selfLink } : {}) } };
}

/**
 * SDK objects as gcloud prints them: the REST client's objects carry `_field` oneof markers and
 * empty arrays for absent lists, which gcloud's JSON does not have.
 */
export function cleanSdkJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(cleanSdkJson);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[key];
    if (key.startsWith('_') || v === undefined || v === null) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    out[key] = cleanSdkJson(v);
  }
  return out;
}

/** The snapshot files of what a live read saw (`bulkhead export`). */
export function formatSnapshot(raw: GcpRawState): SnapshotFile[] {
  const firewalls = [...raw.firewalls].map(cleanSdkJson).sort((a, b) => {
    const x = (a as { name: string }).name, y = (b as { name: string }).name;
    return x < y ? -1 : x > y ? 1 : 0;
  });
  const files: SnapshotFile[] = [{ path: SNAPSHOT_FILES.firewalls, content: `${JSON.stringify(firewalls, null, 2)}\n` }];
  if (raw.policyJson !== undefined) {
    files.push({ path: SNAPSHOT_FILES.policy, content: `${JSON.stringify(cleanSdkJson(raw.policyJson), null, 2)}\n` });
  }
  return files;
}
