import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../fixtures.js';

/**
 * Checks HTTP requests against Google's compute v1 discovery document (the vendor's published API
 * description in test/fixtures/vendor/gcp): path and method, query parameters (known, typed,
 * enum values) and request bodies (known fields, JSON types, enum values, no output-only fields).
 */

/** Where the vendor fixtures live (outside the repo, read-only). */
export const GCP_FIXTURES = join(FIXTURES, 'gcp');

interface DiscoveryParam {
  readonly type?: string;
  readonly location?: string;
  readonly required?: boolean;
  readonly enum?: readonly string[];
  readonly format?: string;
  readonly pattern?: string;
}

interface DiscoverySchema {
  readonly id?: string;
  readonly type?: string;
  readonly $ref?: string;
  readonly format?: string;
  readonly enum?: readonly string[];
  readonly description?: string;
  readonly properties?: Readonly<Record<string, DiscoverySchema>>;
  readonly items?: DiscoverySchema;
  readonly additionalProperties?: DiscoverySchema;
}

interface DiscoveryMethod {
  readonly id: string;
  readonly httpMethod: string;
  readonly path: string;
  readonly parameters?: Readonly<Record<string, DiscoveryParam>>;
  readonly request?: { readonly $ref: string };
  readonly response?: { readonly $ref: string };
}

interface DiscoveryDoc {
  readonly servicePath: string;
  readonly parameters: Readonly<Record<string, DiscoveryParam>>;
  readonly resources: Readonly<Record<string, { readonly methods: Readonly<Record<string, DiscoveryMethod>> }>>;
  readonly schemas: Readonly<Record<string, DiscoverySchema>>;
}

/** A request matched to its discovery method. */
export interface MatchedRequest {
  /** `firewalls.insert`, `networkFirewallPolicies.addRule`, `globalOperations.wait` … */
  readonly method: string;
  readonly pathParams: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
}

/** The resources the emulator serves; every other path is a violation. */
const SERVED = ['firewalls', 'networkFirewallPolicies', 'globalOperations'] as const;

let cached: DiscoveryDoc | undefined;

/**
 * The compute discovery document. The firewall subset has firewalls and networkFirewallPolicies
 * but not globalOperations, so the full document (same revision) is the one loaded.
 */
export function loadDiscovery(): DiscoveryDoc {
  cached ??= JSON.parse(readFileSync(`${GCP_FIXTURES}/compute.v1.discovery.json`, 'utf8')) as DiscoveryDoc;
  return cached;
}

interface Route {
  readonly name: string;
  readonly def: DiscoveryMethod;
  readonly regex: RegExp;
  readonly params: readonly string[];
}

let routes: Route[] | undefined;

function buildRoutes(doc: DiscoveryDoc): Route[] {
  const out: Route[] = [];
  for (const resource of SERVED) {
    for (const [name, def] of Object.entries(doc.resources[resource]?.methods ?? {})) {
      const params: string[] = [];
      const pattern = def.path
        .split(/(\{[^}]+\})/)
        .map((part) => {
          const m = /^\{\+?([^}]+)\}$/.exec(part);
          if (m) {
            params.push(m[1]!);
            return '([^/]+)';
          }
          return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        })
        .join('');
      out.push({ name: `${resource}.${name}`, def, params, regex: new RegExp(`^/${doc.servicePath}${pattern}$`) });
    }
  }
  return out;
}

/**
 * Checks one request. Returns the matched method (or undefined when nothing matches) and every
 * way the request breaks the discovery document.
 */
export function checkRequest(
  httpMethod: string,
  url: string,
  body: string,
): { readonly match: MatchedRequest | undefined; readonly violations: string[] } {
  const doc = loadDiscovery();
  routes ??= buildRoutes(doc);
  const parsed = new URL(url, 'http://127.0.0.1');
  const path = decodeURIComponent(parsed.pathname);
  const violations: string[] = [];
  const route = routes.find((r) => r.def.httpMethod === httpMethod && r.regex.test(parsed.pathname));
  if (!route) {
    return {
      match: undefined,
      violations: [`${httpMethod} ${path}: no such method in the compute discovery document`],
    };
  }
  const where = `${route.name} (${httpMethod} ${path})`;
  const m = route.regex.exec(parsed.pathname)!;
  const pathParams: Record<string, string> = {};
  route.params.forEach((p, i) => (pathParams[p] = decodeURIComponent(m[i + 1]!)));
  for (const [p, v] of Object.entries(pathParams)) {
    const def = route.def.parameters?.[p];
    if (def?.location !== 'path') violations.push(`${where}: path parameter ${p} not declared`);
    else if (def.pattern && !new RegExp(`^(?:${def.pattern})$`).test(v)) {
      violations.push(`${where}: path parameter ${p}=${v} does not match ${def.pattern}`);
    }
  }
  const query: Record<string, string> = {};
  for (const [k, v] of parsed.searchParams) {
    if (k in query) violations.push(`${where}: query parameter ${k} repeated`);
    query[k] = v;
    const def = route.def.parameters?.[k] ?? doc.parameters[k];
    if (!def || (def.location !== undefined && def.location !== 'query')) {
      violations.push(`${where}: unknown query parameter ${k}`);
      continue;
    }
    violations.push(...checkScalar(`${where}: query ${k}`, def, v, true));
  }
  for (const [p, def] of Object.entries(route.def.parameters ?? {})) {
    if (def.required && def.location === 'query' && !(p in query))
      violations.push(`${where}: missing required query ${p}`);
  }
  const trimmed = body.trim();
  if (route.def.request) {
    if (trimmed === '') violations.push(`${where}: missing request body ${route.def.request.$ref}`);
    else {
      let json: unknown;
      try {
        json = JSON.parse(trimmed);
      } catch {
        violations.push(`${where}: request body is not JSON`);
      }
      if (json !== undefined)
        violations.push(...checkValue(doc, `${where}: body`, { $ref: route.def.request.$ref }, json));
    }
  } else if (trimmed !== '' && trimmed !== '{}' && trimmed !== '""') {
    // The REST stub of google-gax sends `""` (a JSON empty string) for body-less POSTs such as wait.
    violations.push(`${where}: unexpected request body`);
  }
  return { match: { method: route.name, pathParams, query }, violations };
}

function checkScalar(
  where: string,
  def: DiscoveryParam | DiscoverySchema,
  value: unknown,
  fromQuery: boolean,
): string[] {
  const type = def.type;
  if (type === 'integer') {
    const s = typeof value === 'number' ? String(value) : value;
    const isInt64 = def.format === 'int64' || def.format === 'uint64';
    if (typeof s !== 'string' || !/^-?\d+$/.test(s)) return [`${where}: ${JSON.stringify(value)} is not an integer`];
    if (!fromQuery && !isInt64 && typeof value !== 'number') return [`${where}: int32 sent as a string`];
    const n = Number(s);
    if (def.format === 'int32' && (n < -2147483648 || n > 2147483647)) return [`${where}: ${s} out of int32 range`];
    if (def.format === 'uint32' && (n < 0 || n > 4294967295)) return [`${where}: ${s} out of uint32 range`];
    return [];
  }
  if (type === 'boolean') {
    if (fromQuery ? value !== 'true' && value !== 'false' : typeof value !== 'boolean') {
      return [`${where}: ${JSON.stringify(value)} is not a boolean`];
    }
    return [];
  }
  if (type === 'string') {
    if (typeof value !== 'string') return [`${where}: ${JSON.stringify(value)} is not a string`];
    if (def.enum && !def.enum.includes(value)) return [`${where}: ${value} not one of ${def.enum.join(', ')}`];
    return [];
  }
  if (type === 'number') {
    return typeof value === 'number' || (fromQuery && !Number.isNaN(Number(value))) ? [] : [`${where}: not a number`];
  }
  return [];
}

function checkValue(doc: DiscoveryDoc, where: string, schema: DiscoverySchema, value: unknown): string[] {
  const resolved = schema.$ref ? doc.schemas[schema.$ref] : schema;
  if (!resolved) return [`${where}: unknown schema ${schema.$ref}`];
  if (resolved.type === 'object') {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${where}: expected an object`];
    const out: string[] = [];
    for (const [k, v] of Object.entries(value)) {
      const prop = resolved.properties?.[k] ?? resolved.additionalProperties;
      if (!prop) {
        out.push(`${where}.${k}: unknown field (schema ${resolved.id ?? schema.$ref ?? 'object'})`);
        continue;
      }
      if (/^\[Output Only\]|^Output only/i.test(prop.description ?? ''))
        out.push(`${where}.${k}: output-only field sent`);
      out.push(...checkValue(doc, `${where}.${k}`, prop, v));
    }
    return out;
  }
  if (resolved.type === 'array') {
    if (!Array.isArray(value)) return [`${where}: expected an array`];
    return value.flatMap((v, i) => checkValue(doc, `${where}[${i}]`, resolved.items ?? {}, v));
  }
  return checkScalar(where, resolved, value, false);
}
