import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { cidrContains } from '../../../src/model/addresses.js';
import { FIXTURES } from '../fixtures.js';

/**
 * A local Kubernetes API server for the resources Bulkhead manages (node:http on 127.0.0.1,
 * port 0): NetworkPolicies (networking.k8s.io/v1), CiliumNetworkPolicies (cilium.io/v2, namespaced)
 * and AdminNetworkPolicies (policy.networking.k8s.io/v1alpha1, cluster-scoped).
 *
 * It speaks the REST API the way the real server does for these calls, without watch: list (all
 * namespaces or one) with `labelSelector` (equality-based), `limit` and `continue`; get; create
 * (409 AlreadyExists); replace with `metadata.resourceVersion` (409 Conflict on a mismatch); delete
 * with `preconditions.resourceVersion`; 404 NotFound and 422 Invalid as `Status` bodies. Every
 * request body is checked against the vendor schema (the Kubernetes OpenAPI v3 document and the
 * CRDs in test/fixtures/vendor/kubernetes), strictly: an unknown field is a 422 too, as with
 * `fieldValidation=Strict`, plus the NetworkPolicy checks the schema cannot say (endPort ≥ port and
 * numeric, protocol, except inside cidr, DNS names). Rejections are recorded in `rejected` so a test
 * can assert that Bulkhead never sent an invalid object.
 */

/** A resource kind the server serves. */
interface Kind {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
  /** Compiled on first use: Cilium's CRD schema alone takes seconds to compile. */
  readonly validate: () => ValidateFunction;
}

/** A request as the server saw it. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: { readonly [key: string]: string };
  readonly body: unknown;
}

/** What a fault hook may answer instead of the server. */
export interface InjectedReply {
  readonly status: number;
  readonly body: unknown;
}

/** A running API server. */
export interface KubernetesApiServer {
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Bodies the schema or the semantic checks refused (422), with why. */
  readonly rejected: { readonly path: string; readonly message: string }[];
  /** Called before each request is served; may change the store (a concurrent writer) or answer instead. */
  beforeRequest?: ((req: RecordedRequest) => InjectedReply | undefined | void) | undefined;
  /** Writes an object as another client would (kubectl): new resourceVersion, no validation skipped. */
  put(plural: string, object: Record<string, unknown>): Record<string, unknown>;
  /** The stored object, or undefined. */
  get(plural: string, namespace: string | undefined, name: string): Record<string, unknown> | undefined;
  /** Every stored object of a kind, sorted by namespace and name. */
  list(plural: string): Record<string, unknown>[];
  /** Writes a kubeconfig file pointing at this server; returns its path. */
  writeKubeconfig(dir: string, options?: { readonly context?: string; readonly namespace?: string }): string;
  close(): Promise<void>;
}

type Schema = { [key: string]: unknown };

/**
 * Strict schemas: every object schema that lists its properties refuses others (unless the schema
 * says it preserves unknown fields), as the API server does with `fieldValidation=Strict`.
 */
function strict(node: unknown, branch = false): void {
  if (Array.isArray(node)) {
    for (const n of node) strict(n, branch);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const s = node as Schema;
  // A oneOf/anyOf/allOf branch that names a property only to require it (Cilium's spec:
  // endpointSelector or nodeSelector) is not the object's full shape: never close it.
  if (
    !branch &&
    s['properties'] &&
    s['additionalProperties'] === undefined &&
    s['x-kubernetes-preserve-unknown-fields'] !== true
  )
    s['additionalProperties'] = false;
  for (const [k, v] of Object.entries(s)) {
    if (k === 'enum' || k === 'default' || k === 'example') continue;
    strict(v, k === 'oneOf' || k === 'anyOf' || k === 'allOf' || k === 'not');
  }
}

function loadKinds(): Kind[] {
  const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: false });
  const openapi = JSON.parse(
    readFileSync(join(FIXTURES, 'kubernetes/apis__networking.k8s.io__v1_openapi.json'), 'utf8'),
  ) as { components: { schemas: Schema } };
  strict(openapi.components.schemas);
  ajv.addSchema({ components: openapi.components }, 'networking.k8s.io');
  const np = ajv.getSchema('networking.k8s.io#/components/schemas/io.k8s.api.networking.v1.NetworkPolicy');
  if (!np) throw new Error('NetworkPolicy schema not found in the OpenAPI document');
  const lazy = (make: () => ValidateFunction): (() => ValidateFunction) => {
    let v: ValidateFunction | undefined;
    return () => (v ??= make());
  };
  const crd = (file: string, version: string) =>
    lazy((): ValidateFunction => {
      const doc = parseYaml(readFileSync(join(FIXTURES, 'kubernetes', file), 'utf8')) as {
        spec: { versions: { name: string; schema: { openAPIV3Schema: Schema } }[] };
      };
      const schema = doc.spec.versions.find((v) => v.name === version)!.schema.openAPIV3Schema;
      strict(schema);
      return ajv.compile(schema);
    });
  return [
    {
      group: 'networking.k8s.io',
      version: 'v1',
      plural: 'networkpolicies',
      kind: 'NetworkPolicy',
      namespaced: true,
      validate: () => np,
    },
    {
      group: 'cilium.io',
      version: 'v2',
      plural: 'ciliumnetworkpolicies',
      kind: 'CiliumNetworkPolicy',
      namespaced: true,
      validate: crd('ciliumnetworkpolicies.yaml', 'v2'),
    },
    {
      group: 'policy.networking.k8s.io',
      version: 'v1alpha1',
      plural: 'adminnetworkpolicies',
      kind: 'AdminNetworkPolicy',
      namespaced: false,
      validate: crd('policy.networking.k8s.io_adminnetworkpolicies.yaml', 'v1alpha1'),
    },
  ];
}

let kindsCache: Kind[] | undefined;

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** What ValidateNetworkPolicy checks beyond the schema (the part Bulkhead could get wrong). */
function networkPolicyProblems(obj: Record<string, unknown>): string[] {
  const out: string[] = [];
  const spec = (obj['spec'] ?? {}) as {
    ingress?: { from?: unknown[]; ports?: unknown[] }[];
    egress?: { to?: unknown[]; ports?: unknown[] }[];
    policyTypes?: string[];
  };
  for (const t of spec.policyTypes ?? [])
    if (t !== 'Ingress' && t !== 'Egress') out.push(`spec.policyTypes: Unsupported value: "${t}"`);
  const rules = [
    ...(spec.ingress ?? []).map((r, i) => ['ingress', i, r.from, r.ports] as const),
    ...(spec.egress ?? []).map((r, i) => ['egress', i, r.to, r.ports] as const),
  ];
  for (const [dir, i, peers, ports] of rules) {
    for (const [j, p] of (ports ?? []).entries()) {
      const port = p as { protocol?: string; port?: number | string; endPort?: number };
      const at = `spec.${dir}[${i}].ports[${j}]`;
      if (port.protocol !== undefined && !['TCP', 'UDP', 'SCTP'].includes(port.protocol))
        out.push(`${at}.protocol: Unsupported value: "${port.protocol}"`);
      if (typeof port.port === 'number' && (port.port < 1 || port.port > 65535))
        out.push(`${at}.port: Invalid value: ${port.port}: must be between 1 and 65535, inclusive`);
      if (port.endPort !== undefined) {
        if (typeof port.port !== 'number')
          out.push(`${at}.endPort: Invalid value: may not be specified when port is not a number`);
        else if (port.endPort < port.port)
          out.push(`${at}.endPort: Invalid value: ${port.endPort}: must be greater than or equal to port`);
      }
    }
    for (const [j, p] of (peers ?? []).entries()) {
      const peer = p as {
        ipBlock?: { cidr: string; except?: string[] };
        podSelector?: unknown;
        namespaceSelector?: unknown;
      };
      const at = `spec.${dir}[${i}].${dir === 'ingress' ? 'from' : 'to'}[${j}]`;
      const set = [peer.ipBlock, peer.podSelector, peer.namespaceSelector].filter((x) => x !== undefined).length;
      if (set === 0) out.push(`${at}: Required value: must specify a peer`);
      if (peer.ipBlock && (peer.podSelector || peer.namespaceSelector))
        out.push(`${at}: Forbidden: may not specify both ipBlock and another peer`);
      if (peer.ipBlock) {
        for (const e of peer.ipBlock.except ?? []) {
          let inside = false;
          try {
            inside =
              e.includes(':') === peer.ipBlock.cidr.includes(':') &&
              cidrContains(peer.ipBlock.cidr, e) &&
              e !== peer.ipBlock.cidr;
          } catch {
            inside = false;
          }
          if (!inside) out.push(`${at}.ipBlock.except: Invalid value: "${e}": must be a strict subset of \`cidr\``);
        }
      }
    }
  }
  return out;
}

function status(
  code: number,
  reason: string,
  message: string,
  details?: Record<string, unknown>,
): Record<string, unknown> {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: code < 400 ? 'Success' : 'Failure',
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Equality-based label selector: `a=b,c==d,e!=f,g,!h`. */
function selectorMatches(selector: string | undefined, labels: { [k: string]: string } | undefined): boolean {
  if (!selector) return true;
  const l = labels ?? {};
  return selector.split(',').every((term) => {
    const t = term.trim();
    if (t === '') return true;
    let m = /^([^!=]+)!=(.*)$/.exec(t);
    if (m) return l[m[1]!.trim()] !== m[2]!.trim();
    m = /^([^!=]+)==?(.*)$/.exec(t);
    if (m) return l[m[1]!.trim()] === m[2]!.trim();
    if (t.startsWith('!')) return !(t.slice(1) in l);
    return t in l;
  });
}

/** Starts the server on 127.0.0.1 with an ephemeral port. */
export async function startKubernetesApiServer(): Promise<KubernetesApiServer> {
  kindsCache ??= loadKinds();
  const kinds = kindsCache;
  const store = new Map<string, Record<string, unknown>>();
  let version = 1000;
  const nextVersion = () => String(++version);
  const key = (plural: string, ns: string | undefined, name: string) => `${plural}/${ns ?? ''}/${name}`;
  const requests: RecordedRequest[] = [];
  const rejected: { path: string; message: string }[] = [];

  const sortedOf = (plural: string) =>
    [...store.entries()]
      .filter(([k]) => k.startsWith(`${plural}/`))
      .sort((a, b) => (a[0] < b[0] ? -1 : 1))
      .map(([, v]) => v);

  const api: KubernetesApiServer = {
    url: '',
    requests,
    rejected,
    beforeRequest: undefined,
    put(plural, object) {
      const meta = (object['metadata'] ?? {}) as Record<string, unknown>;
      const k = key(plural, meta['namespace'] as string | undefined, meta['name'] as string);
      const old = store.get(k);
      const stored = {
        ...structuredClone(object),
        metadata: {
          ...meta,
          uid: (old?.['metadata'] as { uid?: string } | undefined)?.uid ?? randomUUID(),
          resourceVersion: nextVersion(),
          creationTimestamp: '2026-12-01T00:00:00Z',
        },
      };
      store.set(k, stored);
      return stored;
    },
    get: (plural, ns, name) => store.get(key(plural, ns, name)),
    list: (plural) => sortedOf(plural),
    writeKubeconfig(dir, options = {}) {
      const ctx = options.context ?? 'local';
      const text = [
        'apiVersion: v1',
        'kind: Config',
        `current-context: ${ctx}`,
        'clusters:',
        `- name: local`,
        `  cluster: { server: "${api.url}", insecure-skip-tls-verify: true }`,
        'users:',
        '- name: tester',
        '  user: { token: test-token }',
        'contexts:',
        `- name: ${ctx}`,
        `  context: { cluster: local, user: tester${options.namespace ? `, namespace: ${options.namespace}` : ''} }`,
        '',
      ].join('\n');
      const path = join(dir, 'kubeconfig.yaml');
      writeFileSync(path, text, { mode: 0o600 });
      return path;
    },
    close: async () => undefined,
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const text = await readBody(req);
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      return reply(res, 400, status(400, 'BadRequest', 'the request body is not JSON'));
    }
    const query = Object.fromEntries(url.searchParams.entries());
    const recorded: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query, body };
    requests.push(recorded);
    const injected = api.beforeRequest?.(recorded);
    if (injected) return reply(res, injected.status, injected.body);

    const m = /^\/apis\/([^/]+)\/([^/]+)\/(?:namespaces\/([^/]+)\/)?([^/]+)(?:\/([^/]+))?$/.exec(url.pathname);
    const kind = m ? kinds.find((k) => k.group === m[1] && k.version === m[2] && k.plural === m[4]) : undefined;
    if (!m || !kind)
      return reply(
        res,
        404,
        status(404, 'NotFound', `the server could not find the requested resource (${req.method} ${url.pathname})`),
      );
    const ns = m[3];
    const name = m[5];
    const qualified = `${kind.plural}.${kind.group}`;
    const notFound = () =>
      reply(
        res,
        404,
        status(404, 'NotFound', `${qualified} "${name}" not found`, { name, group: kind.group, kind: kind.plural }),
      );

    if (req.method === 'GET' && name === undefined) {
      const all = sortedOf(kind.plural).filter(
        (o) =>
          (ns === undefined || (o['metadata'] as { namespace?: string }).namespace === ns) &&
          selectorMatches(query['labelSelector'], (o['metadata'] as { labels?: { [k: string]: string } }).labels),
      );
      const offset = query['continue'] ? Number(Buffer.from(query['continue'], 'base64url').toString('utf8')) : 0;
      if (!Number.isInteger(offset) || offset < 0)
        return reply(res, 400, status(400, 'BadRequest', 'invalid continue token'));
      const limit = query['limit'] ? Number(query['limit']) : 0;
      const items = limit > 0 ? all.slice(offset, offset + limit) : all.slice(offset);
      const more = limit > 0 && offset + limit < all.length;
      return reply(res, 200, {
        apiVersion: kind.group ? `${kind.group}/${kind.version}` : kind.version,
        kind: `${kind.kind}List`,
        metadata: {
          resourceVersion: String(version),
          ...(more
            ? {
                continue: Buffer.from(String(offset + limit)).toString('base64url'),
                remainingItemCount: all.length - offset - limit,
              }
            : {}),
        },
        items: items.map((o) =>
          kind.group === 'networking.k8s.io' ? { ...o, apiVersion: undefined, kind: undefined } : o,
        ),
      });
    }
    if (kind.namespaced && ns === undefined && req.method !== 'GET')
      return reply(
        res,
        405,
        status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'),
      );

    if (req.method === 'POST' || req.method === 'PUT') {
      const obj = body as Record<string, unknown> | undefined;
      const meta = (obj?.['metadata'] ?? {}) as Record<string, unknown>;
      const objName = (meta['name'] as string | undefined) ?? '';
      const problems: string[] = [];
      if (!obj || typeof obj !== 'object') problems.push('the body must be an object');
      else {
        const validate = kind.validate();
        if (!validate(obj))
          problems.push(
            ...(validate.errors ?? []).map(
              (e) =>
                `${e.instancePath || '(root)'}: ${e.message}${e.params && 'additionalProperty' in e.params ? ` "${String(e.params['additionalProperty'])}"` : ''}`,
            ),
          );
        if (obj['apiVersion'] !== `${kind.group}/${kind.version}` || obj['kind'] !== kind.kind)
          problems.push(`apiVersion/kind must be ${kind.group}/${kind.version} ${kind.kind}`);
        if (!DNS_SUBDOMAIN.test(objName) || objName.length > 253)
          problems.push(`metadata.name: Invalid value: "${objName}": a lowercase RFC 1123 subdomain`);
        if (kind.kind === 'NetworkPolicy') problems.push(...networkPolicyProblems(obj));
      }
      if (kind.namespaced && meta['namespace'] !== undefined && meta['namespace'] !== ns) {
        return reply(
          res,
          400,
          status(
            400,
            'BadRequest',
            'the namespace of the provided object does not match the namespace sent on the request',
          ),
        );
      }
      if (name !== undefined && objName !== name)
        return reply(res, 400, status(400, 'BadRequest', 'the name of the object does not match the name on the URL'));
      if (problems.length > 0) {
        rejected.push({ path: url.pathname, message: problems.join('; ') });
        return reply(
          res,
          422,
          status(422, 'Invalid', `${kind.kind} "${objName}" is invalid: ${problems.join(', ')}`, {
            name: objName,
            group: kind.group,
            kind: kind.kind,
            causes: problems.map((p) => ({ reason: 'FieldValueInvalid', message: p })),
          }),
        );
      }
      const k = key(kind.plural, ns, objName);
      const existing = store.get(k);
      if (req.method === 'POST') {
        if (existing)
          return reply(
            res,
            409,
            status(409, 'AlreadyExists', `${qualified} "${objName}" already exists`, {
              name: objName,
              group: kind.group,
              kind: kind.plural,
            }),
          );
        const { resourceVersion: _rv, uid: _uid, ...metaIn } = meta;
        const stored = {
          ...obj!,
          metadata: {
            ...metaIn,
            ...(ns ? { namespace: ns } : {}),
            uid: randomUUID(),
            resourceVersion: nextVersion(),
            creationTimestamp: '2026-12-01T00:00:00Z',
            generation: 1,
          },
        };
        store.set(k, stored);
        return reply(res, 201, stored);
      }
      if (!existing) return notFound();
      const current = existing['metadata'] as { resourceVersion: string; uid: string; generation?: number };
      if (meta['resourceVersion'] !== undefined && meta['resourceVersion'] !== current.resourceVersion) {
        return reply(
          res,
          409,
          status(
            409,
            'Conflict',
            `Operation cannot be fulfilled on ${qualified} "${objName}": the object has been modified; please apply your changes to the latest version and try again`,
            {
              name: objName,
              group: kind.group,
              kind: kind.plural,
            },
          ),
        );
      }
      const stored = {
        ...obj!,
        metadata: {
          ...meta,
          ...(ns ? { namespace: ns } : {}),
          uid: current.uid,
          resourceVersion: nextVersion(),
          creationTimestamp: '2026-12-01T00:00:00Z',
          generation: (current.generation ?? 1) + 1,
        },
      };
      store.set(k, stored);
      return reply(res, 200, stored);
    }
    if (name === undefined)
      return reply(
        res,
        405,
        status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'),
      );
    const k = key(kind.plural, ns, name);
    const existing = store.get(k);
    if (req.method === 'GET') return existing ? reply(res, 200, existing) : notFound();
    if (req.method === 'DELETE') {
      if (!existing) return notFound();
      const pre = (body as { preconditions?: { resourceVersion?: string } } | undefined)?.preconditions
        ?.resourceVersion;
      const current = (existing['metadata'] as { resourceVersion: string }).resourceVersion;
      if (pre !== undefined && pre !== current) {
        return reply(
          res,
          409,
          status(
            409,
            'Conflict',
            `Operation cannot be fulfilled on ${qualified} "${name}": Precondition failed: ResourceVersion in precondition: ${pre}, ResourceVersion in object meta: ${current}`,
            { name, group: kind.group, kind: kind.plural },
          ),
        );
      }
      store.delete(k);
      return reply(
        res,
        200,
        status(200, '', '', {
          name,
          group: kind.group,
          kind: kind.plural,
          uid: (existing['metadata'] as { uid: string }).uid,
        }),
      );
    }
    return reply(
      res,
      405,
      status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'),
    );
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => reply(res, 500, status(500, 'InternalError', String(err))));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  (api as { url: string }).url = `http://127.0.0.1:${port}`;
  api.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return api;
}

function reply(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body, (_k, v: unknown) => v);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
