import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { AZURE_FIXTURES, SwaggerValidator } from './swagger-validator.js';

/**
 * A local Azure Resource Manager emulator for the network resources Bulkhead touches: NSGs (with
 * `securityRules` and the read-only `defaultSecurityRules`), single security rules, default rules,
 * application security groups, firewall policies (read) and their rule collection groups.
 *
 * Azure behaviour it reproduces (cloud-semantics §2):
 * - every request body is checked against the vendor swagger (`SwaggerValidator`); a body the real
 *   API would reject gets a 400 and is recorded in `violations` (tests assert none in afterEach);
 * - priority+direction uniqueness → 400 `SecurityRuleConflict`; priorities 100–4096; rule names;
 *   one ASG or one service tag per rule side; ASGs must exist; no IPv4/IPv6 mix in one rule;
 * - default rules live in `defaultSecurityRules` only, never in `securityRules`;
 * - unused plural fields read back as `[]` (normalization trap 7);
 * - writes are async operations: 201/200 + `Azure-AsyncOperation` (PUT) or 202 + `Location` (DELETE),
 *   `InProgress` for `pollsBeforeDone` polls, then `Succeeded`; a second write to an NSG (or a
 *   firewall policy) while one is running gets 429 `RetryableErrorDueToAnotherOperation` and is
 *   counted in `concurrentWrites`;
 * - injected 429s (with or without `Retry-After`) and 401s (rejected tokens) via `inject`;
 * - deleting an ASG a rule still references → 400 `InUseApplicationSecurityGroupCannotBeDeleted`.
 * Responses reuse the vendor examples in `fixtures/azure/examples` (the default rules, the shape
 * of each resource).
 */

/** The api-version @azure/arm-network 36 sends for every operation used here. */
export const API_VERSION = '2025-05-01';

/** One request the emulator answered. */
export interface RecordedCall {
  readonly method: string;
  /** Path without the query string. */
  readonly path: string;
  readonly status: number;
}

/** A fault to inject: the next `count` matching requests get this answer instead. */
export interface Fault {
  readonly method?: string;
  /** Case-insensitive substring of the path. */
  readonly pathIncludes?: string;
  /** 429 throttling, or 401 (a token ARM does not accept). */
  readonly status: 429 | 401;
  /** Seconds for the `Retry-After` header; absent = no header (the SDK does not retry those). */
  readonly retryAfter?: number;
  /** ARM error code of a 401 (default `InvalidAuthenticationToken`). */
  readonly code?: string;
  count: number;
}

type JsonObject = Record<string, unknown>;

interface NsgRecord {
  name: string;
  rg: string;
  location: string;
  tags: Record<string, string> | undefined;
  etag: string;
  flushConnection: boolean | undefined;
  /** Wire-form rules (`{name,id,etag,type,properties}`) in insertion order. */
  rules: JsonObject[];
}

interface AsgRecord {
  name: string;
  rg: string;
  location: string;
  tags: Record<string, string> | undefined;
  etag: string;
}

interface RcgRecord {
  name: string;
  etag: string;
  properties: JsonObject;
}

interface Operation {
  pollsLeft: number;
  lock: string | undefined;
}

const NETWORK = 'Microsoft.Network';
const RULE_NAME = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,78}[A-Za-z0-9_])?$/;

function example(file: string): JsonObject {
  return JSON.parse(readFileSync(join(AZURE_FIXTURES, 'examples', file), 'utf8')) as JsonObject;
}

/** The six default rules, from the vendor's NetworkSecurityGroupGet example. */
const DEFAULT_RULES = (
  ((example('2026-07-01.NetworkSecurityGroupGet.json')['responses'] as JsonObject)['200'] as JsonObject)['body'] as {
    properties: { defaultSecurityRules: JsonObject[] };
  }
).properties.defaultSecurityRules;

/** The ASG resource shape, from the vendor's ApplicationSecurityGroupCreate example. */
const ASG_TEMPLATE = (
  (example('2026-07-01.ApplicationSecurityGroupCreate.json')['responses'] as JsonObject)['200'] as JsonObject
)['body'] as JsonObject;

function errorBody(code: string, message: string): JsonObject {
  return { error: { code, message } };
}

class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** The emulator; start it with `startArmEmulator()`. */
export class ArmEmulator {
  /** `http://127.0.0.1:<port>`. */
  url = '';
  /** Requests the real API would reject (schema or semantics); tests assert this stays empty. */
  readonly violations: string[] = [];
  /** Every request answered, in order. */
  readonly calls: RecordedCall[] = [];
  /** Writes that arrived while another write to the same NSG/policy was still running. */
  concurrentWrites = 0;
  /** Polls of an async operation before it reports `Succeeded`. */
  pollsBeforeDone = 1;
  /** Seconds sent as `Retry-After` with async-operation answers (ARM does; the SDK then polls after it, not after its default 2 s). */
  lroRetryAfter: number | undefined = undefined;
  /** Runs once, right before the next NSG PUT is processed: a test's "someone else writes now". */
  beforeNsgPut: (() => void) | undefined = undefined;
  /** Page size of list responses (small, so `nextLink` paging is exercised). */
  pageSize = 3;
  /** Semantic errors that are expected in a test (e.g. a provoked conflict) are not violations when listed here. */
  readonly expectedErrors = new Set<string>();

  readonly #validator = new SwaggerValidator();
  readonly #faults: Fault[] = [];
  readonly #nsgs = new Map<string, NsgRecord>();
  readonly #asgs = new Map<string, AsgRecord>();
  readonly #policies = new Map<string, { name: string; rg: string; location: string }>();
  readonly #rcgs = new Map<string, RcgRecord>();
  readonly #ops = new Map<string, Operation>();
  readonly #locks = new Map<string, string>();
  #seq = 0;
  #server: Server | undefined;
  readonly subscription: string;

  constructor(subscription: string) {
    this.subscription = subscription;
  }

  /** Starts listening on 127.0.0.1, on a free port. */
  async listen(): Promise<void> {
    this.#server = createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((ok) => this.#server!.listen(0, '127.0.0.1', ok));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Stops the server. */
  async close(): Promise<void> {
    await new Promise<void>((ok) => this.#server?.close(() => ok()) ?? ok());
  }

  /** Queues a fault for the next matching requests. */
  inject(fault: Fault): void {
    this.#faults.push(fault);
  }

  /** Successful write requests (PUT/PATCH/DELETE/POST answered 2xx), optionally since index `from` of `calls`. */
  writeCount(from = 0): number {
    return this.calls.slice(from).filter((c) => c.method !== 'GET' && c.status >= 200 && c.status < 300).length;
  }

  /** Creates an NSG directly (test setup), with wire-form rules. */
  seedNsg(
    rg: string,
    name: string,
    init: { location: string; tags?: Record<string, string>; rules?: JsonObject[] },
  ): void {
    this.#nsgs.set(key(rg, name), {
      name,
      rg,
      location: init.location,
      tags: init.tags,
      etag: this.#etag(),
      flushConnection: undefined,
      rules: (init.rules ?? []).map((r) => this.#storeRule(rg, name, r, undefined)),
    });
  }

  /** Adds or replaces one rule of an existing NSG directly, as another writer would (new etags). */
  putRuleDirect(rg: string, nsg: string, rule: JsonObject): void {
    const n = this.#nsgs.get(key(rg, nsg))!;
    const stored = this.#storeRule(rg, nsg, rule, undefined);
    n.rules = [
      ...n.rules.filter((r) => String(r['name']).toLowerCase() !== String(rule['name']).toLowerCase()),
      stored,
    ];
    n.etag = this.#etag();
  }

  /** Creates an ASG directly (test setup). */
  seedAsg(rg: string, name: string, init: { location: string; tags?: Record<string, string> }): void {
    this.#asgs.set(key(rg, name), { name, rg, location: init.location, tags: init.tags, etag: this.#etag() });
  }

  /** Creates a firewall policy directly (test setup; Bulkhead never creates policies). */
  seedFirewallPolicy(rg: string, name: string, location: string): void {
    this.#policies.set(key(rg, name), { name, rg, location });
  }

  /** The NSG as GET returns it, or undefined. */
  nsgJson(rg: string, name: string): JsonObject | undefined {
    const n = this.#nsgs.get(key(rg, name));
    return n ? this.#nsgBody(n, 'Succeeded') : undefined;
  }

  /** The names of the ASGs in a resource group, sorted. */
  asgNames(rg: string): string[] {
    return [...this.#asgs.values()]
      .filter((a) => a.rg.toLowerCase() === rg.toLowerCase())
      .map((a) => a.name)
      .sort();
  }

  /** The ASG as GET returns it, or undefined. */
  asgJson(rg: string, name: string): JsonObject | undefined {
    const a = this.#asgs.get(key(rg, name));
    return a ? this.#asgBody(a) : undefined;
  }

  /** The rule collection group as GET returns it, or undefined. */
  rcgJson(rg: string, policy: string, name: string): JsonObject | undefined {
    const g = this.#rcgs.get(key(rg, policy, name));
    return g ? this.#rcgBody(rg, policy, g, 'Succeeded') : undefined;
  }

  // ────────────────────────────────────────────────────────────────────────────────────────────

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const method = (req.method ?? 'GET').toUpperCase();
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let status = 500;
    let body: unknown;
    const headers: Record<string, string> = {};
    try {
      const fault = this.#faults.find(
        (f) =>
          f.count > 0 &&
          (f.method === undefined || f.method === method) &&
          (f.pathIncludes === undefined || url.pathname.toLowerCase().includes(f.pathIncludes.toLowerCase())),
      );
      if (fault) {
        fault.count--;
        if (fault.status === 401)
          throw new HttpError(401, fault.code ?? 'InvalidAuthenticationToken', 'The access token is invalid.');
        if (fault.retryAfter !== undefined) headers['retry-after'] = String(fault.retryAfter);
        throw new HttpError(429, 'TooManyRequests', 'injected throttling: too many requests');
      }
      const ifMatch = typeof req.headers['if-match'] === 'string' ? req.headers['if-match'] : undefined;
      const ifNoneMatch = typeof req.headers['if-none-match'] === 'string' ? req.headers['if-none-match'] : undefined;
      const r = this.#route(method, url, raw === '' ? undefined : (JSON.parse(raw) as unknown), ifMatch, ifNoneMatch);
      status = r.status;
      body = r.body;
      Object.assign(headers, r.headers ?? {});
      const async =
        headers['azure-asyncoperation'] !== undefined ||
        url.pathname.includes('/operations/') ||
        url.pathname.includes('/operationResults/');
      if (async && this.lroRetryAfter !== undefined) headers['retry-after'] = String(this.lroRetryAfter);
    } catch (e) {
      if (e instanceof HttpError) {
        status = e.status;
        body = errorBody(e.code, e.message);
        if (e.status === 400 && !this.expectedErrors.has(e.code))
          this.violations.push(`${method} ${url.pathname}: ${e.code}: ${e.message}`);
      } else {
        status = 500;
        body = errorBody('InternalServerError', String(e));
        this.violations.push(`${method} ${url.pathname}: emulator crash: ${String(e)}`);
      }
    }
    this.calls.push({ method, path: url.pathname, status });
    res.statusCode = status;
    res.setHeader('x-ms-request-id', `req-${++this.#seq}`);
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    if (body === undefined) {
      res.end();
    } else {
      res.setHeader('content-type', 'application/json; charset=utf-8');
      res.end(JSON.stringify(body));
    }
  }

  #route(
    method: string,
    url: URL,
    body: unknown,
    ifMatch: string | undefined,
    ifNoneMatch?: string,
  ): { status: number; body?: unknown; headers?: Record<string, string> } {
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const lower = parts.map((p) => p.toLowerCase());
    // Async operation status and results: /subscriptions/{s}/providers/Microsoft.Network/locations/{l}/operations|operationResults/{id}
    if (lower[0] === 'subscriptions' && lower[2] === 'providers' && lower[4] === 'locations') {
      return this.#operation(lower[6] === 'operationresults', parts[7] ?? '');
    }
    const apiVersion = url.searchParams.get('api-version');
    if (apiVersion !== API_VERSION) {
      this.violations.push(`${method} ${url.pathname}: api-version ${String(apiVersion)} (expected ${API_VERSION})`);
    }
    if (
      lower[0] !== 'subscriptions' ||
      parts[1] !== this.subscription ||
      lower[2] !== 'resourcegroups' ||
      lower[4] !== 'providers' ||
      lower[5] !== NETWORK.toLowerCase()
    ) {
      throw new HttpError(404, 'InvalidResourceType', `no route for ${url.pathname}`);
    }
    const rg = parts[3]!;
    const type = lower[6];
    const name = parts[7];
    const skip = Number(url.searchParams.get('$skiptoken') ?? '0');
    if (type === 'networksecuritygroups') {
      if (name === undefined)
        return this.#list(
          url,
          [...this.#nsgs.values()].filter((n) => sameRg(n.rg, rg)).map((n) => this.#nsgBody(n, 'Succeeded')),
          skip,
        );
      if (parts.length === 8) return this.#nsg(method, rg, name, body, ifMatch);
      if (lower[8] === 'securityrules') return this.#rule(method, url, rg, name, parts[9], body, skip);
      if (lower[8] === 'defaultsecurityrules') {
        const nsg = this.#needNsg(rg, name);
        const all = DEFAULT_RULES.map((r) => this.#defaultRule(nsg, r));
        if (parts[9] === undefined) return this.#list(url, all, skip);
        const one = all.find((r) => String(r['name']).toLowerCase() === parts[9]!.toLowerCase());
        if (!one) throw new HttpError(404, 'NotFound', `default rule ${parts[9]} not found`);
        return { status: 200, body: one };
      }
    }
    if (type === 'applicationsecuritygroups') {
      if (name === undefined)
        return this.#list(
          url,
          [...this.#asgs.values()].filter((a) => sameRg(a.rg, rg)).map((a) => this.#asgBody(a)),
          skip,
        );
      return this.#asg(method, rg, name, body, ifMatch, ifNoneMatch);
    }
    if (type === 'firewallpolicies' && name !== undefined) {
      const policy = this.#policies.get(key(rg, name));
      if (!policy)
        throw new HttpError(
          404,
          'ResourceNotFound',
          `The Resource '${NETWORK}/firewallPolicies/${name}' under resource group '${rg}' was not found.`,
        );
      if (parts.length === 8 && method === 'GET') {
        return {
          status: 200,
          body: {
            id: this.#id(rg, 'firewallPolicies', policy.name),
            name: policy.name,
            type: `${NETWORK}/FirewallPolicies`,
            location: policy.location,
            properties: { provisioningState: 'Succeeded', sku: { tier: 'Standard' } },
          },
        };
      }
      if (lower[8] === 'rulecollectiongroups') {
        if (parts[9] === undefined) {
          const groups = [...this.#rcgs.entries()]
            .filter(([k]) => k.startsWith(`${key(rg, name)}/`))
            .map(([, g]) => this.#rcgBody(rg, policy.name, g, 'Succeeded'));
          return this.#list(url, groups, skip);
        }
        return this.#rcg(method, rg, policy.name, parts[9], body);
      }
    }
    throw new HttpError(404, 'InvalidResourceType', `no route for ${method} ${url.pathname}`);
  }

  #list(url: URL, items: unknown[], skip: number): { status: number; body: unknown } {
    const page = items.slice(skip, skip + this.pageSize);
    const next = skip + this.pageSize < items.length ? new URL(url.href) : undefined;
    next?.searchParams.set('$skiptoken', String(skip + this.pageSize));
    return { status: 200, body: { value: page, ...(next ? { nextLink: next.href } : {}) } };
  }

  // ── operations ───────────────────────────────────────────────────────────────────────────────

  #startOperation(lock: string | undefined, location: string): { asyncUrl: string; resultUrl: string } {
    const id = `op-${++this.#seq}`;
    this.#ops.set(id, { pollsLeft: this.pollsBeforeDone, lock });
    if (lock) this.#locks.set(lock, id);
    if (this.pollsBeforeDone === 0) this.#finish(id);
    const base = `${this.url}/subscriptions/${this.subscription}/providers/${NETWORK}/locations/${location}`;
    return {
      asyncUrl: `${base}/operations/${id}?api-version=${API_VERSION}`,
      resultUrl: `${base}/operationResults/${id}?api-version=${API_VERSION}`,
    };
  }

  #finish(id: string): void {
    const op = this.#ops.get(id);
    if (op?.lock && this.#locks.get(op.lock) === id) this.#locks.delete(op.lock);
  }

  #operation(isResult: boolean, id: string): { status: number; body?: unknown } {
    const op = this.#ops.get(id);
    if (!op) throw new HttpError(404, 'OperationNotFound', `operation ${id} not found`);
    if (op.pollsLeft > 0) {
      op.pollsLeft--;
      return isResult ? { status: 202 } : { status: 200, body: { status: 'InProgress' } };
    }
    this.#finish(id);
    return isResult ? { status: 204 } : { status: 200, body: { status: 'Succeeded' } };
  }

  #checkLock(lock: string): void {
    if (this.#locks.has(lock)) {
      this.concurrentWrites++;
      throw new HttpError(
        429,
        'RetryableErrorDueToAnotherOperation',
        `Operation is not allowed because another operation is in progress on ${lock}.`,
      );
    }
  }

  // ── NSGs and rules ───────────────────────────────────────────────────────────────────────────

  #needNsg(rg: string, name: string): NsgRecord {
    const n = this.#nsgs.get(key(rg, name));
    if (!n)
      throw new HttpError(
        404,
        'ResourceNotFound',
        `The Resource '${NETWORK}/networkSecurityGroups/${name}' under resource group '${rg}' was not found.`,
      );
    return n;
  }

  #nsg(
    method: string,
    rg: string,
    name: string,
    body: unknown,
    ifMatch: string | undefined,
  ): { status: number; body?: unknown; headers?: Record<string, string> } {
    const lock = key(rg, name);
    if (method === 'GET') return { status: 200, body: this.#nsgBody(this.#needNsg(rg, name), 'Succeeded') };
    if (method === 'DELETE') {
      this.#checkLock(lock);
      const n = this.#nsgs.get(lock);
      if (!n) return { status: 204 };
      this.#nsgs.delete(lock);
      const op = this.#startOperation(lock, n.location);
      return { status: 202, headers: { 'azure-asyncoperation': op.asyncUrl, location: op.resultUrl } };
    }
    if (method !== 'PUT') throw new HttpError(405, 'MethodNotAllowed', method);
    this.#schema('2025-05-01/networkSecurityGroup.json', 'NetworkSecurityGroup', body);
    const hook = this.beforeNsgPut;
    this.beforeNsgPut = undefined;
    hook?.();
    this.#checkLock(lock);
    const b = body as JsonObject;
    const existing = this.#nsgs.get(lock);
    // Optimistic concurrency: an If-Match that is not the current etag means someone wrote in between.
    if (ifMatch !== undefined && ifMatch !== '*' && existing && ifMatch !== existing.etag) {
      throw new HttpError(
        412,
        'PreconditionFailed',
        `The etag ${ifMatch} does not match the current etag of NSG ${name}.`,
      );
    }
    const location = b['location'] as string | undefined;
    if (!location)
      throw new HttpError(400, 'LocationRequired', 'The location property is required for this definition.');
    if (existing && normLocation(existing.location) !== normLocation(location)) {
      throw new HttpError(
        400,
        'InvalidResourceLocation',
        `The resource '${name}' already exists in location '${existing.location}'.`,
      );
    }
    const props = (b['properties'] as JsonObject | undefined) ?? {};
    const sent = (props['securityRules'] as JsonObject[] | undefined) ?? [];
    this.#checkRules(
      rg,
      name,
      sent.map((r) => ({ name: String(r['name'] ?? ''), props: (r['properties'] as JsonObject | undefined) ?? {} })),
    );
    const old = new Map((existing?.rules ?? []).map((r) => [String(r['name']).toLowerCase(), r]));
    const rec: NsgRecord = {
      name: existing?.name ?? name,
      rg,
      location,
      tags: b['tags'] as Record<string, string> | undefined,
      etag: this.#etag(),
      flushConnection: props['flushConnection'] as boolean | undefined,
      rules: sent.map((r) => this.#storeRule(rg, name, r, old.get(String(r['name']).toLowerCase()))),
    };
    this.#nsgs.set(lock, rec);
    const op = this.#startOperation(lock, location);
    return {
      status: existing ? 200 : 201,
      body: this.#nsgBody(rec, 'Updating'),
      headers: { 'azure-asyncoperation': op.asyncUrl },
    };
  }

  #rule(
    method: string,
    url: URL,
    rg: string,
    nsgName: string,
    ruleName: string | undefined,
    body: unknown,
    skip: number,
  ): { status: number; body?: unknown; headers?: Record<string, string> } {
    const nsg = this.#needNsg(rg, nsgName);
    const lock = key(rg, nsgName);
    if (ruleName === undefined) return this.#list(url, nsg.rules, skip);
    const idx = nsg.rules.findIndex((r) => String(r['name']).toLowerCase() === ruleName.toLowerCase());
    if (method === 'GET') {
      if (idx < 0) throw new HttpError(404, 'NotFound', `rule ${ruleName} not found`);
      return { status: 200, body: nsg.rules[idx] };
    }
    if (method === 'DELETE') {
      this.#checkLock(lock);
      if (idx < 0) return { status: 204 };
      nsg.rules.splice(idx, 1);
      nsg.etag = this.#etag();
      const op = this.#startOperation(lock, nsg.location);
      return { status: 202, headers: { 'azure-asyncoperation': op.asyncUrl, location: op.resultUrl } };
    }
    if (method !== 'PUT') throw new HttpError(405, 'MethodNotAllowed', method);
    this.#schema('2025-05-01/networkSecurityGroup.json', 'SecurityRule', body);
    this.#checkLock(lock);
    const b: JsonObject = { ...(body as JsonObject), name: ruleName };
    const others = nsg.rules
      .filter((_, i) => i !== idx)
      .map((r) => ({ name: String(r['name']), props: r['properties'] as JsonObject }));
    this.#checkRules(rg, nsgName, [
      ...others,
      { name: ruleName, props: (b['properties'] as JsonObject | undefined) ?? {} },
    ]);
    const stored = this.#storeRule(rg, nsgName, b, idx >= 0 ? nsg.rules[idx] : undefined);
    if (idx >= 0) nsg.rules[idx] = stored;
    else nsg.rules.push(stored);
    nsg.etag = this.#etag();
    const op = this.#startOperation(lock, nsg.location);
    return {
      status: idx >= 0 ? 200 : 201,
      body: { ...stored, properties: { ...(stored['properties'] as JsonObject), provisioningState: 'Updating' } },
      headers: { 'azure-asyncoperation': op.asyncUrl },
    };
  }

  /** Azure's semantic checks on the rules of one NSG (after the swagger check). */
  #checkRules(rg: string, nsg: string, rules: { name: string; props: JsonObject }[]): void {
    if (rules.length > 1000)
      throw new HttpError(
        400,
        'SecurityRulesPerNsgLimitReached',
        `NSG ${nsg} would have ${rules.length} rules; the limit is 1000.`,
      );
    const names = new Set<string>();
    const slots = new Map<string, string>();
    for (const { name, props } of rules) {
      if (!RULE_NAME.test(name)) throw new HttpError(400, 'InvalidResourceName', `Resource name ${name} is invalid.`);
      if (names.has(name.toLowerCase()))
        throw new HttpError(400, 'DuplicateResourceName', `Rule name ${name} is used twice in NSG ${nsg}.`);
      names.add(name.toLowerCase());
      const priority = props['priority'] as number;
      if (priority < 100 || priority > 4096)
        throw new HttpError(
          400,
          'SecurityRuleInvalidPriority',
          `Security rule ${name} has invalid priority ${priority}. Value provided: ${priority} Allowed range 100-4096.`,
        );
      const slot = `${String(props['direction'])}/${priority}`;
      const other = slots.get(slot);
      if (other !== undefined) {
        throw new HttpError(
          400,
          'SecurityRuleConflict',
          `Security rule ${name} conflicts with rule ${other}. Rules cannot have the same Priority and Direction.`,
        );
      }
      slots.set(slot, name);
      const description = props['description'];
      if (typeof description === 'string' && description.length > 140)
        throw new HttpError(
          400,
          'SecurityRuleDescriptionTooLong',
          `Security rule ${name} description is longer than 140 characters.`,
        );
      for (const side of ['source', 'destination'] as const) {
        const one = props[`${side}AddressPrefix`] as string | undefined;
        const many = (props[`${side}AddressPrefixes`] as string[] | undefined) ?? [];
        const asgs = (props[`${side}ApplicationSecurityGroups`] as JsonObject[] | undefined) ?? [];
        if (one !== undefined && many.length > 0)
          throw new HttpError(
            400,
            'SecurityRuleParameterContainsMultipleValues',
            `Rule ${name}: ${side}AddressPrefix and ${side}AddressPrefixes are both set.`,
          );
        if (asgs.length > 0 && (one !== undefined || many.length > 0))
          throw new HttpError(
            400,
            'SecurityRuleInvalidApplicationSecurityGroupAndAddressPrefix',
            `Rule ${name}: ${side} has both application security groups and address prefixes.`,
          );
        if (asgs.length === 0 && one === undefined && many.length === 0)
          throw new HttpError(400, 'SecurityRuleMissingAddressPrefix', `Rule ${name}: no ${side} address.`);
        if (asgs.length > 1)
          throw new HttpError(
            400,
            'SecurityRuleTooManyApplicationSecurityGroups',
            `Rule ${name}: more than one ${side} application security group.`,
          );
        for (const a of asgs) {
          const id = String(a['id'] ?? '');
          const m =
            /\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Network\/applicationSecurityGroups\/([^/]+)$/i.exec(id);
          if (!m || !this.#asgs.has(key(m[1]!, m[2]!)))
            throw new HttpError(
              400,
              'InvalidResourceReference',
              `Rule ${name}: application security group ${id} not found.`,
            );
        }
        const prefixes = one !== undefined ? [one] : many;
        const tags = prefixes.filter((p) => p !== '*' && !/^[0-9a-f:.]+(\/\d+)?$/i.test(p));
        if (tags.length > 0 && prefixes.length > 1)
          throw new HttpError(
            400,
            'SecurityRuleInvalidAddressPrefix',
            `Rule ${name}: a service tag cannot be combined with other prefixes.`,
          );
        const families = new Set(
          prefixes.filter((p) => /^[0-9a-f:.]+(\/\d+)?$/i.test(p)).map((p) => (p.includes(':') ? 6 : 4)),
        );
        if (families.size > 1)
          throw new HttpError(
            400,
            'SecurityRuleAddressFamiliesMismatch',
            `Rule ${name}: IPv4 and IPv6 ${side} prefixes in one rule.`,
          );
      }
      for (const f of ['sourcePortRange', 'destinationPortRange']) {
        const one = props[f] as string | undefined;
        const many = (props[`${f}s`] as string[] | undefined) ?? [];
        if (one !== undefined && many.length > 0)
          throw new HttpError(
            400,
            'SecurityRuleParameterContainsMultipleValues',
            `Rule ${name}: ${f} and ${f}s are both set.`,
          );
        for (const p of one !== undefined ? [one] : many) {
          const m = /^(\d+)(?:-(\d+))?$/.exec(p);
          if (
            p !== '*' &&
            (!m || Number(m[1]) > 65535 || Number(m[2] ?? m[1]) > 65535 || Number(m[2] ?? m[1]) < Number(m[1]))
          ) {
            throw new HttpError(400, 'SecurityRuleInvalidPortRange', `Rule ${name}: invalid port range ${p}.`);
          }
        }
      }
    }
    void rg;
  }

  #storeRule(rg: string, nsg: string, sent: JsonObject, previous: JsonObject | undefined): JsonObject {
    const name = String(sent['name']);
    const props: JsonObject = { ...((sent['properties'] as JsonObject | undefined) ?? {}) };
    // Azure fills the unused plural fields with [] on read (trap 7).
    for (const f of [
      'sourcePortRanges',
      'destinationPortRanges',
      'sourceAddressPrefixes',
      'destinationAddressPrefixes',
    ]) {
      if (props[f] === undefined) props[f] = [];
    }
    props['provisioningState'] = 'Succeeded';
    // A rule sent back unchanged (key order aside) keeps its etag: what "untouched" means on the wire.
    const etag =
      previous && sortedJson(previous['properties']) === sortedJson(props) ? String(previous['etag']) : this.#etag();
    return {
      name,
      id: `${this.#id(rg, 'networkSecurityGroups', nsg)}/securityRules/${name}`,
      etag,
      type: `${NETWORK}/networkSecurityGroups/securityRules`,
      properties: props,
    };
  }

  #defaultRule(nsg: NsgRecord, template: JsonObject): JsonObject {
    return {
      ...template,
      id: `${this.#id(nsg.rg, 'networkSecurityGroups', nsg.name)}/defaultSecurityRules/${String(template['name'])}`,
      etag: nsg.etag,
      type: `${NETWORK}/networkSecurityGroups/defaultSecurityRules`,
    };
  }

  #nsgBody(n: NsgRecord, state: string): JsonObject {
    return {
      name: n.name,
      id: this.#id(n.rg, 'networkSecurityGroups', n.name),
      etag: n.etag,
      type: `${NETWORK}/networkSecurityGroups`,
      location: n.location,
      ...(n.tags ? { tags: n.tags } : {}),
      properties: {
        provisioningState: state,
        resourceGuid: '00000000-0000-0000-0000-000000000000',
        ...(n.flushConnection !== undefined ? { flushConnection: n.flushConnection } : {}),
        securityRules: n.rules,
        defaultSecurityRules: DEFAULT_RULES.map((r) => this.#defaultRule(n, r)),
      },
    };
  }

  // ── ASGs ─────────────────────────────────────────────────────────────────────────────────────

  #asgBody(a: AsgRecord): JsonObject {
    return {
      ...ASG_TEMPLATE,
      name: a.name,
      id: this.#id(a.rg, 'applicationSecurityGroups', a.name),
      etag: a.etag,
      location: a.location,
      ...(a.tags ? { tags: a.tags } : {}),
    };
  }

  #asg(
    method: string,
    rg: string,
    name: string,
    body: unknown,
    ifMatch?: string,
    ifNoneMatch?: string,
  ): { status: number; body?: unknown; headers?: Record<string, string> } {
    const k = key(rg, name);
    const existing = this.#asgs.get(k);
    if (method === 'GET') {
      if (!existing)
        throw new HttpError(
          404,
          'ResourceNotFound',
          `The Resource '${NETWORK}/applicationSecurityGroups/${name}' under resource group '${rg}' was not found.`,
        );
      return { status: 200, body: this.#asgBody(existing) };
    }
    // ARM conditional requests (the lock, src/lock.ts): If-None-Match: * creates only; If-Match deletes only that version.
    if (method === 'PUT' && ifNoneMatch === '*' && existing) {
      throw new HttpError(
        412,
        'PreconditionFailed',
        `The resource ${NETWORK}/applicationSecurityGroups/${name} already exists (If-None-Match: *).`,
      );
    }
    if (method === 'DELETE' && existing && ifMatch !== undefined && ifMatch !== '*' && ifMatch !== existing.etag) {
      throw new HttpError(
        412,
        'PreconditionFailed',
        `The etag ${ifMatch} does not match the current etag of ASG ${name}.`,
      );
    }
    if (method === 'DELETE') {
      if (!existing) return { status: 204 };
      const id = this.#id(rg, 'applicationSecurityGroups', existing.name).toLowerCase();
      for (const nsg of this.#nsgs.values()) {
        for (const r of nsg.rules) {
          const p = r['properties'] as JsonObject;
          const refs = [
            ...((p['sourceApplicationSecurityGroups'] as JsonObject[] | undefined) ?? []),
            ...((p['destinationApplicationSecurityGroups'] as JsonObject[] | undefined) ?? []),
          ];
          if (refs.some((x) => String(x['id']).toLowerCase() === id)) {
            throw new HttpError(
              400,
              'InUseApplicationSecurityGroupCannotBeDeleted',
              `Application security group ${id} cannot be deleted because it is in use by security rule ${String(r['id'])}.`,
            );
          }
        }
      }
      this.#asgs.delete(k);
      const op = this.#startOperation(undefined, existing.location);
      return { status: 202, headers: { 'azure-asyncoperation': op.asyncUrl, location: op.resultUrl } };
    }
    if (method !== 'PUT') throw new HttpError(405, 'MethodNotAllowed', method);
    this.#schema('2025-05-01/applicationSecurityGroup.json', 'ApplicationSecurityGroup', body);
    const b = body as JsonObject;
    if (!b['location'])
      throw new HttpError(400, 'LocationRequired', 'The location property is required for this definition.');
    if (!RULE_NAME.test(name)) throw new HttpError(400, 'InvalidResourceName', `Resource name ${name} is invalid.`);
    const rec: AsgRecord = {
      name: existing?.name ?? name,
      rg,
      location: String(b['location']),
      tags: b['tags'] as Record<string, string> | undefined,
      etag: this.#etag(),
    };
    this.#asgs.set(k, rec);
    const op = this.#startOperation(undefined, rec.location);
    return {
      status: existing ? 200 : 201,
      body: {
        ...this.#asgBody(rec),
        properties: { ...(ASG_TEMPLATE['properties'] as JsonObject), provisioningState: 'Updating' },
      },
      headers: { 'azure-asyncoperation': op.asyncUrl },
    };
  }

  // ── Firewall policy rule collection groups ──────────────────────────────────────────────────

  #rcgBody(rg: string, policy: string, g: RcgRecord, state: string): JsonObject {
    return {
      name: g.name,
      id: `${this.#id(rg, 'firewallPolicies', policy)}/ruleCollectionGroups/${g.name}`,
      etag: g.etag,
      type: `${NETWORK}/FirewallPolicies/RuleCollectionGroups`,
      properties: { ...g.properties, provisioningState: state, size: '0.001 MB' },
    };
  }

  #rcg(
    method: string,
    rg: string,
    policy: string,
    name: string,
    body: unknown,
  ): { status: number; body?: unknown; headers?: Record<string, string> } {
    const k = key(rg, policy, name);
    const lock = key(rg, policy);
    const existing = this.#rcgs.get(k);
    const location = this.#policies.get(lock)!.location;
    if (method === 'GET') {
      if (!existing)
        throw new HttpError(404, 'NotFound', `Rule collection group ${name} not found in policy ${policy}.`);
      return { status: 200, body: this.#rcgBody(rg, policy, existing, 'Succeeded') };
    }
    if (method === 'DELETE') {
      this.#checkLock(lock);
      if (!existing) return { status: 204 };
      this.#rcgs.delete(k);
      const op = this.#startOperation(lock, location);
      return { status: 202, headers: { 'azure-asyncoperation': op.asyncUrl, location: op.resultUrl } };
    }
    if (method !== 'PUT') throw new HttpError(405, 'MethodNotAllowed', method);
    this.#schema('2026-07-01/firewallPolicy.json', 'FirewallPolicyRuleCollectionGroup', body);
    this.#checkLock(lock);
    const props = ((body as JsonObject)['properties'] as JsonObject | undefined) ?? {};
    if (JSON.stringify(props).length > 2 * 1024 * 1024)
      throw new HttpError(400, 'FirewallPolicyRuleCollectionGroupTooLarge', 'The rule collection group exceeds 2 MB.');
    const rec: RcgRecord = { name: existing?.name ?? name, etag: this.#etag(), properties: props };
    this.#rcgs.set(k, rec);
    const op = this.#startOperation(lock, location);
    return {
      status: existing ? 200 : 201,
      body: this.#rcgBody(rg, policy, rec, 'Updating'),
      headers: { 'azure-asyncoperation': op.asyncUrl },
    };
  }

  // ── helpers ──────────────────────────────────────────────────────────────────────────────────

  #schema(file: string, definition: string, body: unknown): void {
    const problems = this.#validator.validateRequest(file, definition, body);
    if (problems.length > 0)
      throw new HttpError(
        400,
        'InvalidRequestFormat',
        `Cannot parse the request (${definition}): ${problems.join('; ')}`,
      );
  }

  #id(rg: string, type: string, name: string): string {
    return `/subscriptions/${this.subscription}/resourceGroups/${rg}/providers/${NETWORK}/${type}/${name}`;
  }

  #etag(): string {
    return `W/"${(++this.#seq).toString(16).padStart(8, '0')}-0000-0000-0000-000000000000"`;
  }
}

function sortedJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(sortedJson).join(',')}]`;
  const o = v as JsonObject;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${sortedJson(o[k])}`)
    .join(',')}}`;
}

function key(...parts: string[]): string {
  return parts.map((p) => p.toLowerCase()).join('/');
}

function sameRg(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

function normLocation(l: string): string {
  return l.toLowerCase().replace(/\s+/g, '');
}

/** Starts an emulator on 127.0.0.1 with a free port. */
export async function startArmEmulator(subscription = '00000000-0000-0000-0000-000000000000'): Promise<ArmEmulator> {
  const e = new ArmEmulator(subscription);
  await e.listen();
  return e;
}
