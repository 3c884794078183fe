import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TargetSpec } from '../../src/compile/types.js';
import { error, type Diagnostic } from '../../src/diagnostics.js';
import type { SnapshotFile } from '../../src/provider.js';
import { jsonSyntaxError } from '../kit/json-syntax.js';
import type { FirewallJsonIn, PolicyRuleJsonIn } from './canonical.js';
import type { GcpRawState } from './state.js';

/**
 * Snapshot files: read, parse and write the `gcloud` JSON exports that `read` takes in snapshot
 * mode, per target folder `<snapshots>/<target>/` (state.ts turns the raw state into the ProviderState):
 * - `firewall-rules.json`: `gcloud compute firewall-rules list --project P --format=json`
 * - `firewall-policy.json`: `gcloud compute network-firewall-policies describe NAME --global --project P --format=json`
 *   (only when the target names a firewall policy)
 */

/** File names inside a target's snapshot folder. */
export const SNAPSHOT_FILES = { firewalls: 'firewall-rules.json', policy: 'firewall-policy.json' } as const;

type Parsed<T> =
  | { readonly ok: true; readonly value: T }
  /** `line`/`column` (1-based) when the file is not JSON and the parser said where. */
  | { readonly ok: false; readonly message: string; readonly line?: number; readonly column?: number };

/** JSON.parse with the place of a syntax error as line:column of `text`. */
function parseJson(
  text: string,
): { ok: true; json: unknown } | { ok: false; message: string; line?: number; column?: number } {
  try {
    return { ok: true, json: JSON.parse(text) };
  } catch (err) {
    const { line, column, reason } = jsonSyntaxError(text, err);
    return { ok: false, message: `not JSON (${reason})`, line, column };
  }
}

/** What one field of a snapshot object may hold (null or absent is always allowed: the SDK prints nulls). */
type FieldKind = 'string' | 'boolean' | 'priority' | 'strings' | { readonly object: Shape } | { readonly items: Shape };
type Shape = Readonly<Record<string, FieldKind>>;

const PROTOCOL_ENTRY: Shape = { IPProtocol: 'string', ports: 'strings' };
/** The fields of a firewall that read uses; gcloud's other fields (id, kind, creationTimestamp …) are not checked. */
const FIREWALL_SHAPE: Shape = {
  name: 'string',
  network: 'string',
  direction: 'string',
  priority: 'priority',
  allowed: { items: PROTOCOL_ENTRY },
  denied: { items: PROTOCOL_ENTRY },
  sourceRanges: 'strings',
  sourceTags: 'strings',
  sourceServiceAccounts: 'strings',
  destinationRanges: 'strings',
  targetTags: 'strings',
  targetServiceAccounts: 'strings',
  disabled: 'boolean',
  logConfig: { object: { enable: 'boolean', metadata: 'string' } },
  description: 'string',
  selfLink: 'string',
};
const POLICY_RULE_SHAPE: Shape = {
  priority: 'priority',
  ruleName: 'string',
  description: 'string',
  direction: 'string',
  action: 'string',
  match: {
    object: {
      destFqdns: 'strings',
      destIpRanges: 'strings',
      srcIpRanges: 'strings',
      layer4Configs: { items: { ipProtocol: 'string', ports: 'strings' } },
    },
  },
  targetServiceAccounts: 'strings',
  targetResources: 'strings',
  enableLogging: 'boolean',
  disabled: 'boolean',
};

function typeOf(v: unknown): string {
  return v === null
    ? 'null'
    : Array.isArray(v)
      ? 'an array'
      : typeof v === 'object'
        ? 'an object'
        : `${typeof v} ${JSON.stringify(v)}`;
}

/** Each shape's fields as a list, made once: `Object.entries` per firewall was a fifth of a check of 540,000. */
const shapeFields = new WeakMap<Shape, readonly (readonly [string, FieldKind])[]>();
function fieldsOf(shape: Shape): readonly (readonly [string, FieldKind])[] {
  let fields = shapeFields.get(shape);
  if (fields === undefined) {
    fields = Object.entries(shape);
    shapeFields.set(shape, fields);
  }
  return fields;
}

/** The first place where `value` does not fit `shape`, as `<JSON path>: expected …, got …`. */
function checkShape(value: unknown, shape: Shape, path: string): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return `${path}: expected an object, got ${typeOf(value)}`;
  for (const [key, kind] of fieldsOf(shape)) {
    const v = (value as Record<string, unknown>)[key];
    if (v === undefined || v === null) continue;
    // The path is only spelled out for a message (it was a new string per field of every rule).
    const at = () => `${path}.${key}`;
    if (kind === 'string' || kind === 'boolean') {
      if (typeof v !== kind) return `${at()}: expected a ${kind}, got ${typeOf(v)}`;
    } else if (kind === 'priority') {
      if (!(typeof v === 'number' && Number.isInteger(v)) && !(typeof v === 'string' && /^\d+$/.test(v)))
        return `${at()}: expected an integer priority, got ${typeOf(v)}`;
    } else if (kind === 'strings') {
      if (!Array.isArray(v)) return `${at()}: expected an array of strings, got ${typeOf(v)}`;
      const i = v.findIndex((x) => typeof x !== 'string');
      if (i >= 0) return `${at()}[${i}]: expected a string, got ${typeOf(v[i])}`;
    } else if ('object' in kind) {
      const m = checkShape(v, kind.object, at());
      if (m) return m;
    } else {
      if (!Array.isArray(v)) return `${at()}: expected an array, got ${typeOf(v)}`;
      for (const [i, item] of v.entries()) {
        const m = checkShape(item, kind.items, `${at()}[${i}]`);
        if (m) return m;
      }
    }
  }
  return undefined;
}

/**
 * Parses `gcloud compute firewall-rules list --format=json` (a JSON array of firewalls). An API
 * list page (`{items: [...]}`) is accepted too. Every field read uses is type-checked, so a
 * hand-edited file fails with the JSON path of the bad value instead of a TypeError later.
 */
export function parseFirewallRulesJson(text: string): Parsed<FirewallJsonIn[]> {
  const parsed = parseJson(text);
  if (!parsed.ok) return parsed;
  const json = parsed.json;
  const page = Array.isArray(json) ? undefined : (json as { items?: unknown } | null)?.items;
  const items = Array.isArray(json)
    ? json
    : (page ?? (json && typeof json === 'object' && 'kind' in json ? [] : undefined));
  if (!Array.isArray(items))
    return {
      ok: false,
      message: 'expected the JSON array printed by `gcloud compute firewall-rules list --format=json`',
    };
  const base = Array.isArray(json) ? '$' : '$.items';
  for (const [i, fw] of items.entries()) {
    if (typeof fw !== 'object' || fw === null || Array.isArray(fw))
      return { ok: false, message: `${base}[${i}]: expected a firewall rule object, got ${typeOf(fw)}` };
    if (typeof (fw as { name?: unknown }).name !== 'string')
      return {
        ok: false,
        message: `${base}[${i}].name: expected a string, got ${typeOf((fw as { name?: unknown }).name ?? null)} (item ${i} is not a firewall rule without a "name")`,
      };
    const m = checkShape(fw, FIREWALL_SHAPE, `${base}[${i}]`);
    if (m) return { ok: false, message: m };
  }
  return { ok: true, value: items as FirewallJsonIn[] };
}

/** Parses `gcloud compute network-firewall-policies describe --format=json` (one FirewallPolicy), type-checked like the firewalls. */
export function parsePolicyJson(text: string): Parsed<{ rules: PolicyRuleJsonIn[]; selfLink?: string }> {
  const parsed = parseJson(text);
  if (!parsed.ok) return parsed;
  const json = parsed.json;
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return {
      ok: false,
      message: 'expected the JSON object printed by `gcloud compute network-firewall-policies describe --format=json`',
    };
  }
  const p = json as { rules?: unknown; selfLink?: unknown };
  if (p.rules !== undefined && p.rules !== null && !Array.isArray(p.rules))
    return { ok: false, message: `$.rules: expected an array, got ${typeOf(p.rules)}` };
  if (p.selfLink !== undefined && p.selfLink !== null && typeof p.selfLink !== 'string')
    return { ok: false, message: `$.selfLink: expected a string, got ${typeOf(p.selfLink)}` };
  const rules = (p.rules ?? []) as unknown[];
  for (const [i, rule] of rules.entries()) {
    const m = checkShape(rule, POLICY_RULE_SHAPE, `$.rules[${i}]`);
    if (m) return { ok: false, message: m };
  }
  return {
    ok: true,
    value: { rules: rules as PolicyRuleJsonIn[], ...(typeof p.selfLink === 'string' ? { selfLink: p.selfLink } : {}) },
  };
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
    const x = (a as { name: string }).name,
      y = (b as { name: string }).name;
    return x < y ? -1 : x > y ? 1 : 0;
  });
  const files: SnapshotFile[] = [
    { path: SNAPSHOT_FILES.firewalls, content: `${JSON.stringify(firewalls, null, 2)}\n` },
  ];
  if (raw.policyJson !== undefined) {
    files.push({ path: SNAPSHOT_FILES.policy, content: `${JSON.stringify(cleanSdkJson(raw.policyJson), null, 2)}\n` });
  }
  return files;
}

/** Reads a snapshot folder: `<dir>/<target>/firewall-rules.json` (+ `firewall-policy.json`). */
export async function readGcpSnapshot(
  target: TargetSpec & { kind: 'gcp' },
  dir: string,
): Promise<{ raw: GcpRawState | undefined; diagnostics: Diagnostic[] }> {
  const folder = join(dir, target.name);
  const fwPath = join(folder, SNAPSHOT_FILES.firewalls);
  let text: string;
  try {
    text = await readFile(fwPath, 'utf8');
  } catch {
    return {
      raw: undefined,
      diagnostics: [
        error(
          'gcp-snapshot-missing',
          `snapshot ${fwPath} not found: export it with \`gcloud compute firewall-rules list --project ${target.gcp.project} --format=json > ${fwPath}\` (or \`bulkhead export\`)`,
          target.pos,
        ),
      ],
    };
  }
  const parsed = parseFirewallRulesJson(text);
  if (!parsed.ok) return { raw: undefined, diagnostics: [snapshotInvalid(fwPath, parsed, target)] };
  if (!target.gcp.firewallPolicy) return { raw: { firewalls: parsed.value, policyRules: null }, diagnostics: [] };
  const polPath = join(folder, SNAPSHOT_FILES.policy);
  let polText: string;
  try {
    polText = await readFile(polPath, 'utf8');
  } catch {
    return { raw: { firewalls: parsed.value, policyRules: undefined }, diagnostics: [] };
  }
  const policy = parsePolicyJson(polText);
  if (!policy.ok) return { raw: undefined, diagnostics: [snapshotInvalid(polPath, policy, target)] };
  return {
    raw: {
      firewalls: parsed.value,
      policyRules: policy.value.rules,
      ...(policy.value.selfLink ? { policySelfLink: policy.value.selfLink } : {}),
    },
    diagnostics: [],
  };
}

/**
 * A snapshot file that cannot be read: at the file's line:column when it is not JSON, otherwise
 * with the JSON path in the message (at the target, which named the folder).
 */
function snapshotInvalid(
  path: string,
  failure: { message: string; line?: number; column?: number },
  target: TargetSpec,
): Diagnostic {
  if (failure.line !== undefined && failure.column !== undefined) {
    return error('gcp-snapshot-invalid', `${path}:${failure.line}:${failure.column}: ${failure.message}`, {
      file: path,
      line: failure.line,
      column: failure.column,
    });
  }
  return error('gcp-snapshot-invalid', `${path}: ${failure.message}`, target.pos);
}
