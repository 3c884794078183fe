import type { SnapshotFile } from '../../src/provider.js';
import { jsonSyntaxError } from '../kit/json-syntax.js';

/**
 * Snapshot files (pure): the `kubectl … -o json` output that `read` takes in snapshot mode, per
 * target folder `<snapshots>/<target>/`:
 * - `networkpolicies.json`: `kubectl get networkpolicies -A -o json`
 * - `ciliumnetworkpolicies.json`: `kubectl get ciliumnetworkpolicies -A -o json` (targets with `fqdn: cilium`)
 * - `adminnetworkpolicies.json`: `kubectl get adminnetworkpolicies -o json` (targets with `adminNetworkPolicy: true`)
 * Each is a `List` (`{"apiVersion": "v1", "kind": "List", "items": [...]}`); an API list
 * (`NetworkPolicyList`) is accepted too. `bulkhead export` writes them.
 */

/** File names inside a target's snapshot folder, per kind. */
export const SNAPSHOT_FILES = {
  networkPolicies: 'networkpolicies.json',
  cilium: 'ciliumnetworkpolicies.json',
  admin: 'adminnetworkpolicies.json',
} as const;

/** The kubectl command that writes each file. */
export const SNAPSHOT_COMMANDS: { readonly [K in keyof typeof SNAPSHOT_FILES]: string } = {
  networkPolicies: 'kubectl get networkpolicies -A -o json',
  cilium: 'kubectl get ciliumnetworkpolicies -A -o json',
  admin: 'kubectl get adminnetworkpolicies -o json',
};

/** The outcome of parsing one file. */
export type Parsed<T> =
  | { readonly ok: true; readonly value: T }
  /** `line`/`column` (1-based) when the file is not JSON. */
  | { readonly ok: false; readonly message: string; readonly line?: number; readonly column?: number };

function typeOf(v: unknown): string {
  return v === null
    ? 'null'
    : Array.isArray(v)
      ? 'an array'
      : typeof v === 'object'
        ? 'an object'
        : `${typeof v} ${JSON.stringify(v)}`;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Parses a kubectl list of `kind` objects. Every field read uses is type-checked, so a hand-edited
 * file fails with the JSON path of the bad value, never a TypeError later.
 */
export function parseListJson(text: string, kind: string): Parsed<Record<string, unknown>[]> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    const { line, column, reason } = jsonSyntaxError(text, err);
    return { ok: false, message: `not JSON (${reason})`, line, column };
  }
  if (!isObject(json) || !Array.isArray(json['items']))
    return {
      ok: false,
      message: `expected the {"kind": "List", "items": [...]} object that \`kubectl get … -o json\` prints, got ${typeOf(json)}`,
    };
  const items = json['items'] as unknown[];
  for (const [i, item] of items.entries()) {
    const at = `$.items[${i}]`;
    if (!isObject(item)) return { ok: false, message: `${at}: expected a ${kind} object, got ${typeOf(item)}` };
    if (item['kind'] !== undefined && item['kind'] !== kind)
      return { ok: false, message: `${at}.kind: expected "${kind}", got ${typeOf(item['kind'])}` };
    const meta = item['metadata'];
    if (!isObject(meta))
      return { ok: false, message: `${at}.metadata: expected an object, got ${typeOf(meta ?? null)}` };
    if (typeof meta['name'] !== 'string')
      return { ok: false, message: `${at}.metadata.name: expected a string, got ${typeOf(meta['name'] ?? null)}` };
    for (const f of ['namespace', 'resourceVersion'] as const)
      if (meta[f] !== undefined && typeof meta[f] !== 'string')
        return { ok: false, message: `${at}.metadata.${f}: expected a string, got ${typeOf(meta[f])}` };
    const labels = meta['labels'];
    if (labels !== undefined && labels !== null) {
      if (!isObject(labels))
        return { ok: false, message: `${at}.metadata.labels: expected an object, got ${typeOf(labels)}` };
      for (const [k, v] of Object.entries(labels))
        if (typeof v !== 'string')
          return { ok: false, message: `${at}.metadata.labels.${k}: expected a string, got ${typeOf(v)}` };
    }
    const spec = item['spec'];
    if (spec !== undefined && !isObject(spec))
      return { ok: false, message: `${at}.spec: expected an object, got ${typeOf(spec)}` };
    const problem =
      kind === 'NetworkPolicy' && isObject(spec) ? networkPolicySpecProblem(spec, `${at}.spec`) : undefined;
    if (problem) return { ok: false, message: problem };
  }
  return { ok: true, value: items as Record<string, unknown>[] };
}

/** The first type error in a NetworkPolicy spec's fields that the canonical form reads. */
function networkPolicySpecProblem(spec: Record<string, unknown>, at: string): string | undefined {
  const selector = (v: unknown, path: string): string | undefined => {
    if (v === undefined || v === null) return undefined;
    if (!isObject(v)) return `${path}: expected a label selector object, got ${typeOf(v)}`;
    if (v['matchLabels'] !== undefined && v['matchLabels'] !== null && !isObject(v['matchLabels']))
      return `${path}.matchLabels: expected an object, got ${typeOf(v['matchLabels'])}`;
    const exprs = v['matchExpressions'];
    if (exprs !== undefined && exprs !== null) {
      if (!Array.isArray(exprs)) return `${path}.matchExpressions: expected an array, got ${typeOf(exprs)}`;
      for (const [i, e] of exprs.entries())
        if (!isObject(e) || typeof e['key'] !== 'string' || typeof e['operator'] !== 'string')
          return `${path}.matchExpressions[${i}]: expected {key, operator, values}, got ${typeOf(e)}`;
    }
    return undefined;
  };
  const p = selector(spec['podSelector'], `${at}.podSelector`);
  if (p) return p;
  if (
    spec['policyTypes'] !== undefined &&
    spec['policyTypes'] !== null &&
    (!Array.isArray(spec['policyTypes']) || spec['policyTypes'].some((t) => typeof t !== 'string'))
  )
    return `${at}.policyTypes: expected an array of strings`;
  for (const [dir, field] of [
    ['ingress', 'from'],
    ['egress', 'to'],
  ] as const) {
    const rules = spec[dir];
    if (rules === undefined || rules === null) continue;
    if (!Array.isArray(rules)) return `${at}.${dir}: expected an array, got ${typeOf(rules)}`;
    for (const [i, r] of rules.entries()) {
      const rp = `${at}.${dir}[${i}]`;
      if (!isObject(r)) return `${rp}: expected a rule object, got ${typeOf(r)}`;
      const peers = r[field];
      if (peers !== undefined && peers !== null) {
        if (!Array.isArray(peers)) return `${rp}.${field}: expected an array, got ${typeOf(peers)}`;
        for (const [j, peer] of peers.entries()) {
          const pp = `${rp}.${field}[${j}]`;
          if (!isObject(peer)) return `${pp}: expected a peer object, got ${typeOf(peer)}`;
          const s =
            selector(peer['podSelector'], `${pp}.podSelector`) ??
            selector(peer['namespaceSelector'], `${pp}.namespaceSelector`);
          if (s) return s;
          const ip = peer['ipBlock'];
          if (ip !== undefined && ip !== null && (!isObject(ip) || typeof ip['cidr'] !== 'string'))
            return `${pp}.ipBlock: expected {cidr, except}, got ${typeOf(ip)}`;
        }
      }
      const ports = r['ports'];
      if (ports !== undefined && ports !== null) {
        if (!Array.isArray(ports)) return `${rp}.ports: expected an array, got ${typeOf(ports)}`;
        for (const [j, port] of ports.entries()) {
          const pp = `${rp}.ports[${j}]`;
          if (!isObject(port)) return `${pp}: expected a port object, got ${typeOf(port)}`;
          if (
            port['port'] !== undefined &&
            port['port'] !== null &&
            typeof port['port'] !== 'number' &&
            typeof port['port'] !== 'string'
          )
            return `${pp}.port: expected a number or a name, got ${typeOf(port['port'])}`;
          if (port['endPort'] !== undefined && port['endPort'] !== null && typeof port['endPort'] !== 'number')
            return `${pp}.endPort: expected a number, got ${typeOf(port['endPort'])}`;
          if (port['protocol'] !== undefined && port['protocol'] !== null && typeof port['protocol'] !== 'string')
            return `${pp}.protocol: expected a string, got ${typeOf(port['protocol'])}`;
        }
      }
    }
  }
  return undefined;
}

/** What kubectl prints of an object: no managedFields (hidden since kubectl 1.21), keys sorted. */
function cleanObject(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString().replace(/\.\d{3}Z$/, 'Z');
  if (Array.isArray(value)) return value.map(cleanObject);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[k];
    if (v === undefined || k === 'managedFields') continue;
    out[k] = cleanObject(v);
  }
  return out;
}

/** A kubectl `List` of objects, sorted by namespace and name, with apiVersion and kind filled in as kubectl does. */
export function formatList(items: readonly unknown[], apiVersion: string, kind: string): string {
  const objects = items.map(
    (o) => cleanObject({ ...(o as object), apiVersion, kind }) as { metadata?: { namespace?: string; name?: string } },
  );
  const id = (o: { metadata?: { namespace?: string; name?: string } }) =>
    `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
  objects.sort((a, b) => (id(a) < id(b) ? -1 : id(a) > id(b) ? 1 : 0));
  return `${JSON.stringify({ apiVersion: 'v1', items: objects, kind: 'List', metadata: { resourceVersion: '' } }, null, 2)}\n`;
}

/** Everything a read saw, before ownership is decided. */
export interface KubernetesRawState {
  readonly networkPolicies: readonly Record<string, unknown>[];
  /** null when the target does not use Cilium. */
  readonly cilium: readonly Record<string, unknown>[] | null;
  /** null when the target does not render AdminNetworkPolicies. */
  readonly admin: readonly Record<string, unknown>[] | null;
}

/** The snapshot files of what a live read saw (`bulkhead export`). */
export function formatSnapshot(raw: KubernetesRawState): SnapshotFile[] {
  const files: SnapshotFile[] = [
    {
      path: SNAPSHOT_FILES.networkPolicies,
      content: formatList(raw.networkPolicies, 'networking.k8s.io/v1', 'NetworkPolicy'),
    },
  ];
  if (raw.cilium)
    files.push({ path: SNAPSHOT_FILES.cilium, content: formatList(raw.cilium, 'cilium.io/v2', 'CiliumNetworkPolicy') });
  if (raw.admin)
    files.push({
      path: SNAPSHOT_FILES.admin,
      content: formatList(raw.admin, 'policy.networking.k8s.io/v1alpha1', 'AdminNetworkPolicy'),
    });
  return files;
}
