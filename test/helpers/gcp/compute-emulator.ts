import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { checkRequest, GCP_FIXTURES, type MatchedRequest } from './discovery.js';

/**
 * A local Compute Engine API (REST, JSON) for the real `@google-cloud/compute` clients: VPC
 * firewalls, global network firewall policy rules and global operations, with GCP's behaviour
 * (name uniqueness → 409 alreadyExists, immutable name and direction, server-filled defaults,
 * operations that stay RUNNING before they finish DONE with or without an `error`, requestId
 * dedupe, injected 429/503). Every request is checked against the compute discovery document;
 * violations are recorded for the test to assert none. Binds 127.0.0.1 on a random port.
 */

/** A firewall as the API stores and returns it (JSON, discovery `Firewall`). */
export type FirewallJson = Record<string, unknown> & { name: string };

/** A firewall policy rule (discovery `FirewallPolicyRule`). */
export type PolicyRuleJson = Record<string, unknown> & { priority: number };

/** One request the emulator served. */
export interface CallRecord {
  /** `firewalls.insert` … or `unknown`. */
  readonly method: string;
  readonly httpMethod: string;
  readonly url: string;
  /** HTTP status returned. */
  readonly status: number;
  /** True for a mutating call that reached the API logic (not rejected by an injected fault). */
  readonly write: boolean;
  /** True when the request was a requestId replay answered with the earlier operation. */
  readonly deduped: boolean;
}

/** An injected failure for the next matching requests. */
export interface Fault {
  /** Discovery method name (`firewalls.insert`) or `*`. */
  readonly method: string;
  readonly status: 429 | 503 | 500;
  /** How many matching requests fail. */
  count: number;
  /**
   * `before` (default) fails without doing anything; `after` carries the request out and then
   * answers with the error, as a lost response would look to the client.
   */
  readonly when?: 'before' | 'after';
}

/** An operation that will finish DONE with an error instead of carrying out its change. */
export interface OperationFailure {
  readonly method: string;
  /** Only requests whose target (firewall name or rule priority) matches; any when absent. */
  readonly target?: string;
  readonly code: string;
  readonly message: string;
  count: number;
}

interface OperationState {
  readonly json: Record<string, unknown>;
  /** How many more wait/get calls before it is DONE. */
  remaining: number;
  /** The change, carried out when the operation finishes without error. */
  readonly effect: () => void;
  readonly failure: OperationFailure | undefined;
}

interface PolicyState {
  readonly name: string;
  readonly id: string;
  readonly rules: Map<number, PolicyRuleJson>;
  fingerprint: number;
  readonly description: string;
}

/** Options for a new emulator. */
export interface ComputeEmulatorOptions {
  /** The project the emulator holds (other projects answer 404). */
  readonly project: string;
  /** wait/get calls an operation needs before it is DONE (default 2: the first wait sees RUNNING). */
  readonly operationPolls?: number;
}

/** A running emulator. */
export interface ComputeEmulator {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly port: number;
  readonly project: string;
  /** Every discovery-document violation seen; a test asserts this stays empty. */
  readonly violations: string[];
  readonly calls: CallRecord[];
  readonly faults: Fault[];
  readonly operationFailures: OperationFailure[];
  /** Live firewalls by name (server-filled, as GET returns them). */
  readonly firewalls: Map<string, FirewallJson>;
  /** Network firewall policies by name. */
  readonly policies: Map<string, PolicyState>;
  /** Adds a firewall as an out-of-band `gcloud` user would (server defaults filled). */
  seedFirewall(firewall: Record<string, unknown> & { name: string }): FirewallJson;
  /** Creates a network firewall policy with GCP's system default rules. */
  seedPolicy(name: string): void;
  /** Mutating calls that reached the API (not rejected by an injected fault), by method. */
  writeCalls(): Record<string, number>;
  /** Sum of `writeCalls()`. */
  writeCount(): number;
  /** Forgets recorded calls (keeps state). */
  resetCalls(): void;
  close(): Promise<void>;
}

const WRITE_METHODS = new Set([
  'firewalls.insert',
  'firewalls.patch',
  'firewalls.update',
  'firewalls.delete',
  'networkFirewallPolicies.addRule',
  'networkFirewallPolicies.patchRule',
  'networkFirewallPolicies.removeRule',
]);

/** The API's root for self links (what the real API returns). */
const API_ROOT = 'https://www.googleapis.com/compute/v1';

const NAME_RE = /^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?$/;

class ApiError extends Error {
  readonly status: number;
  readonly reason: string;
  constructor(status: number, reason: string, message: string) {
    super(message);
    this.status = status;
    this.reason = reason;
  }
}

/** The vendor's example firewalls (forseti list pages, gcpdiag effective firewalls), moved into `project`. */
export function vendorExampleFirewalls(project: string, network: string): FirewallJson[] {
  const pages = ['forseti-firewalls.list.page1.json', 'forseti-firewalls.list.page2.json'].flatMap(
    (f) => (JSON.parse(readFileSync(`${GCP_FIXTURES}/${f}`, 'utf8')) as { items: FirewallJson[] }).items,
  );
  const gcpdiag = (
    JSON.parse(
      readFileSync(`${GCP_FIXTURES}/gcpdiag-fw-policy.networks.getEffectiveFirewalls.default.json`, 'utf8'),
    ) as {
      firewalls: FirewallJson[];
    }
  ).firewalls;
  const byName = new Map<string, FirewallJson>();
  for (const fw of [...pages, ...gcpdiag]) {
    byName.set(fw.name, {
      ...fw,
      network: `${API_ROOT}/projects/${project}/global/networks/${network}`,
      selfLink: `${API_ROOT}/projects/${project}/global/firewalls/${fw.name}`,
    });
  }
  return [...byName.values()];
}

/** The system default rules of a new network firewall policy (from the gcpdiag capture). */
function systemPolicyRules(): PolicyRuleJson[] {
  const doc = JSON.parse(
    readFileSync(`${GCP_FIXTURES}/gcpdiag-fw-policy.networks.getEffectiveFirewalls.default.json`, 'utf8'),
  ) as { firewallPolicys: { rules: PolicyRuleJson[] }[] };
  return doc.firewallPolicys[0]!.rules.filter((r) => r.priority >= 2147483644).map((r) => ({ ...r }));
}

/** Starts an emulator. */
export async function startComputeEmulator(options: ComputeEmulatorOptions): Promise<ComputeEmulator> {
  const project = options.project;
  const polls = options.operationPolls ?? 2;
  const violations: string[] = [];
  const calls: CallRecord[] = [];
  const faults: Fault[] = [];
  const operationFailures: OperationFailure[] = [];
  const firewalls = new Map<string, FirewallJson>();
  const policies = new Map<string, PolicyState>();
  const operations = new Map<string, OperationState>();
  const requestIds = new Map<string, string>();
  /** Names of firewalls with an insert still running (they count for uniqueness). */
  const pendingInserts = new Set<string>();
  let seq = 1000;

  const selfLink = (name: string) => `${API_ROOT}/projects/${project}/global/firewalls/${name}`;

  function fillDefaults(fw: Record<string, unknown>, id: string, created: string): FirewallJson {
    const out: Record<string, unknown> = { kind: 'compute#firewall', id, creationTimestamp: created, ...fw };
    out['direction'] ??= 'INGRESS';
    out['priority'] ??= 1000;
    out['network'] = networkUrl(String(out['network'] ?? 'global/networks/default'));
    if (out['direction'] === 'INGRESS' && !hasAny(out, ['sourceRanges', 'sourceTags', 'sourceServiceAccounts'])) {
      out['sourceRanges'] = ['0.0.0.0/0'];
    }
    if (out['direction'] === 'EGRESS' && !hasAny(out, ['destinationRanges'])) {
      out['destinationRanges'] = [isV6Rule(out) ? '::/0' : '0.0.0.0/0'];
    }
    out['logConfig'] = out['logConfig'] ?? { enable: false };
    out['disabled'] = out['disabled'] ?? false;
    out['description'] = out['description'] ?? '';
    out['selfLink'] = selfLink(String(out['name']));
    for (const k of Object.keys(out)) if (Array.isArray(out[k]) && (out[k] as unknown[]).length === 0) delete out[k];
    return out as FirewallJson;
  }

  function networkUrl(n: string): string {
    const m = /(?:^|\/)projects\/([^/]+)\/global\/networks\/([^/]+)$/.exec(n) ?? /^global\/networks\/([^/]+)$/.exec(n);
    if (!m)
      throw new ApiError(400, 'invalid', `Invalid value for field 'resource.network': '${n}'. The URL is malformed.`);
    const [p, name] = m.length === 3 ? [m[1]!, m[2]!] : [project, m[1]!];
    return `${API_ROOT}/projects/${p}/global/networks/${name}`;
  }

  function checkFirewall(fw: Record<string, unknown>): void {
    const name = String(fw['name'] ?? '');
    const bad = (msg: string) => new ApiError(400, 'invalid', `Invalid value for field 'resource': ${msg}`);
    if (!NAME_RE.test(name))
      throw new ApiError(
        400,
        'invalid',
        `Invalid value for field 'resource.name': '${name}'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'`,
      );
    const allowed = fw['allowed'] as unknown[] | undefined,
      denied = fw['denied'] as unknown[] | undefined;
    if ((allowed?.length ?? 0) > 0 === (denied?.length ?? 0) > 0)
      throw bad('exactly one of allowed or denied must be set');
    for (const a of [...(allowed ?? []), ...(denied ?? [])] as { IPProtocol?: string; ports?: string[] }[]) {
      const proto = String(a.IPProtocol ?? '').toLowerCase();
      if (a.ports?.length && !['tcp', 'udp', 'sctp', '6', '17', '132'].includes(proto))
        throw bad(`ports are only allowed for tcp, udp and sctp, not ${proto}`);
      for (const p of a.ports ?? []) {
        const m = /^(\d+)(?:-(\d+))?$/.exec(p);
        if (!m || Number(m[1]) > 65535 || Number(m[2] ?? m[1]) > 65535 || Number(m[2] ?? m[1]) < Number(m[1]))
          throw bad(`invalid port '${p}'`);
      }
    }
    const list = (k: string) => (fw[k] as unknown[] | undefined)?.length ?? 0;
    if (fw['direction'] === 'EGRESS' && list('sourceTags') > 0)
      throw bad('sourceTags cannot be used in an EGRESS rule');
    if (list('targetServiceAccounts') > 0 && (list('targetTags') > 0 || list('sourceTags') > 0)) {
      throw bad('targetServiceAccounts cannot be combined with targetTags or sourceTags');
    }
    if (list('sourceServiceAccounts') > 0 && (list('sourceTags') > 0 || list('targetTags') > 0)) {
      throw bad('sourceServiceAccounts cannot be combined with sourceTags or targetTags');
    }
    if (list('sourceTags') > 30) throw bad(`at most 30 sourceTags per rule, got ${list('sourceTags')}`);
    if (list('targetTags') > 70) throw bad(`at most 70 targetTags per rule, got ${list('targetTags')}`);
    if (list('sourceServiceAccounts') > 10 || list('targetServiceAccounts') > 10)
      throw bad('at most 10 service accounts per rule');
    if (list('sourceRanges') > 5000 || list('destinationRanges') > 5000) throw bad('at most 5000 ranges per rule');
    const ranges = [...((fw['sourceRanges'] as string[]) ?? []), ...((fw['destinationRanges'] as string[]) ?? [])];
    if (ranges.some((r) => r.includes(':')) && ranges.some((r) => !r.includes(':'))) {
      throw bad('IPv4 and IPv6 ranges cannot be mixed in one rule');
    }
    const priority = fw['priority'];
    if (priority !== undefined && (typeof priority !== 'number' || priority < 0 || priority > 65535))
      throw bad('priority must be 0-65535');
    if (((fw['description'] as string | undefined)?.length ?? 0) > 2048) throw bad('description longer than 2048');
  }

  function startOperation(
    method: string,
    target: string,
    targetLink: string,
    effect: () => void,
  ): Record<string, unknown> {
    const id = String(++seq);
    const name = `operation-${Date.now()}-${id}`;
    const failureIdx = operationFailures.findIndex(
      (f) =>
        f.count > 0 && (f.method === method || f.method === '*') && (f.target === undefined || f.target === target),
    );
    const failure = failureIdx >= 0 ? operationFailures[failureIdx] : undefined;
    if (failure) failure.count--;
    const json: Record<string, unknown> = {
      kind: 'compute#operation',
      id,
      name,
      operationType: method.split('.')[1],
      targetLink,
      status: 'RUNNING',
      user: 'bulkhead-test@example.iam.gserviceaccount.com',
      progress: 0,
      insertTime: new Date().toISOString(),
      startTime: new Date().toISOString(),
      selfLink: `${API_ROOT}/projects/${project}/global/operations/${name}`,
    };
    const op: OperationState = { json, remaining: polls, effect, failure };
    operations.set(name, op);
    if (polls <= 0) advance(op);
    return json;
  }

  function advance(op: OperationState): void {
    if (op.json['status'] === 'DONE') return;
    op.remaining--;
    if (op.remaining > 0) return;
    op.json['status'] = 'DONE';
    op.json['progress'] = 100;
    op.json['endTime'] = new Date().toISOString();
    if (op.failure) {
      op.json['error'] = { errors: [{ code: op.failure.code, message: op.failure.message }] };
      op.json['httpErrorStatusCode'] = 400;
      op.json['httpErrorMessage'] = 'BAD REQUEST';
    } else {
      op.effect();
    }
  }

  function getPolicy(name: string): PolicyState {
    const p = policies.get(name);
    if (!p)
      throw new ApiError(
        404,
        'notFound',
        `The resource 'projects/${project}/global/firewallPolicies/${name}' was not found`,
      );
    return p;
  }

  function policyJson(p: PolicyState): Record<string, unknown> {
    return {
      kind: 'compute#firewallPolicy',
      id: p.id,
      name: p.name,
      description: p.description,
      fingerprint: Buffer.from(`fp-${p.fingerprint}`).toString('base64'),
      selfLink: `${API_ROOT}/projects/${project}/global/firewallPolicies/${p.name}`,
      selfLinkWithId: `${API_ROOT}/projects/${project}/global/firewallPolicies/${p.id}`,
      ruleTupleCount: [...p.rules.values()].length * 2,
      associations: [],
      rules: [...p.rules.values()].sort((a, b) => a.priority - b.priority),
    };
  }

  function checkPolicyRule(rule: Record<string, unknown>): void {
    const bad = (msg: string) => new ApiError(400, 'invalid', `Invalid value for field 'resource': ${msg}`);
    if (typeof rule['priority'] !== 'number') throw bad('priority is required');
    if (!['allow', 'deny', 'goto_next', 'apply_security_profile_group'].includes(String(rule['action'])))
      throw bad(`invalid action ${String(rule['action'])}`);
    const match = rule['match'] as Record<string, unknown[] | undefined> | undefined;
    if (!match) throw bad('match is required');
    if ((match['destFqdns']?.length ?? 0) > 100) throw bad('at most 100 destFqdns per rule');
    if ((match['destFqdns']?.length ?? 0) > 0 && rule['direction'] !== 'EGRESS')
      throw bad('destFqdns only in EGRESS rules');
    if (!match['layer4Configs']?.length) throw bad('match.layer4Configs is required');
  }

  function handle(
    match: MatchedRequest,
    body: unknown,
    requestKey: string | undefined,
  ): { status: number; json: unknown; deduped?: boolean } {
    if (match.pathParams['project'] !== project) {
      throw new ApiError(404, 'notFound', `The resource 'projects/${match.pathParams['project']}' was not found`);
    }
    if (requestKey) {
      const earlier = requestIds.get(requestKey);
      if (earlier) return { status: 200, json: operations.get(earlier)!.json, deduped: true };
    }
    const result = dispatch(match, body);
    if (requestKey && (result.json as { kind?: string }).kind === 'compute#operation') {
      requestIds.set(requestKey, String((result.json as { name: string }).name));
    }
    return result;
  }

  function dispatch(match: MatchedRequest, body: unknown): { status: number; json: unknown } {
    const q = match.query;
    const fwName = match.pathParams['firewall'] ?? '';
    switch (match.method) {
      case 'firewalls.list': {
        let items = [...firewalls.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
        if (q['filter']) items = items.filter(compileFilter(q['filter']));
        const max = Math.min(Number(q['maxResults'] ?? 500), 500);
        const start = q['pageToken'] ? Number(Buffer.from(q['pageToken'], 'base64url').toString()) : 0;
        if (!Number.isInteger(start)) throw new ApiError(400, 'invalid', 'Invalid page token');
        const page = items.slice(start, start + max);
        const next = start + max < items.length ? Buffer.from(String(start + max)).toString('base64url') : undefined;
        return {
          status: 200,
          json: {
            kind: 'compute#firewallList',
            id: `projects/${project}/global/firewalls`,
            items: page,
            ...(next ? { nextPageToken: next } : {}),
            selfLink: `${API_ROOT}/projects/${project}/global/firewalls`,
          },
        };
      }
      case 'firewalls.get': {
        const fw = firewalls.get(fwName);
        if (!fw)
          throw new ApiError(
            404,
            'notFound',
            `The resource 'projects/${project}/global/firewalls/${fwName}' was not found`,
          );
        return { status: 200, json: fw };
      }
      case 'firewalls.insert': {
        const fw = body as Record<string, unknown>;
        const name = String(fw['name'] ?? '');
        if (firewalls.has(name) || pendingInserts.has(name)) {
          throw new ApiError(
            409,
            'alreadyExists',
            `The resource 'projects/${project}/global/firewalls/${name}' already exists`,
          );
        }
        checkFirewall({ direction: 'INGRESS', ...fw });
        const filled = fillDefaults(fw, String(++seq), new Date().toISOString());
        pendingInserts.add(name);
        return {
          status: 200,
          json: startOperation(match.method, name, selfLink(name), () => {
            pendingInserts.delete(name);
            firewalls.set(name, filled);
          }),
        };
      }
      case 'firewalls.patch':
      case 'firewalls.update': {
        const live = firewalls.get(fwName);
        if (!live)
          throw new ApiError(
            404,
            'notFound',
            `The resource 'projects/${project}/global/firewalls/${fwName}' was not found`,
          );
        const fw = body as Record<string, unknown>;
        if (fw['name'] !== undefined && fw['name'] !== fwName) {
          throw new ApiError(
            400,
            'invalid',
            `Invalid value for field 'resource.name': '${String(fw['name'])}'. Resource name cannot be changed.`,
          );
        }
        if (fw['direction'] !== undefined && fw['direction'] !== live['direction']) {
          throw new ApiError(
            400,
            'invalid',
            `Invalid value for field 'resource.direction': '${String(fw['direction'])}'. Direction cannot be changed.`,
          );
        }
        let next: Record<string, unknown>;
        if (match.method === 'firewalls.patch') {
          next = { ...live, ...fw };
          // Switching allowed ↔ denied through patch: the other list goes away with it.
          if (fw['allowed']) delete next['denied'];
          if (fw['denied']) delete next['allowed'];
        } else {
          next = { ...fw, name: fwName, direction: live['direction'], network: fw['network'] ?? live['network'] };
          delete next['logConfig'];
          if (fw['logConfig']) next['logConfig'] = fw['logConfig'];
        }
        for (const k of ['kind', 'id', 'creationTimestamp', 'selfLink']) delete next[k];
        checkFirewall(next);
        const filled = fillDefaults(next, String(live['id']), String(live['creationTimestamp']));
        return {
          status: 200,
          json: startOperation(match.method, fwName, selfLink(fwName), () => firewalls.set(fwName, filled)),
        };
      }
      case 'firewalls.delete': {
        if (!firewalls.has(fwName))
          throw new ApiError(
            404,
            'notFound',
            `The resource 'projects/${project}/global/firewalls/${fwName}' was not found`,
          );
        return {
          status: 200,
          json: startOperation(match.method, fwName, selfLink(fwName), () => firewalls.delete(fwName)),
        };
      }
      case 'networkFirewallPolicies.get':
        return { status: 200, json: policyJson(getPolicy(match.pathParams['firewallPolicy'] ?? '')) };
      case 'networkFirewallPolicies.getRule': {
        const p = getPolicy(match.pathParams['firewallPolicy'] ?? '');
        const rule = p.rules.get(Number(q['priority'] ?? 0));
        if (!rule)
          throw new ApiError(
            400,
            'invalid',
            `Invalid value for field 'priority': '${q['priority'] ?? ''}'. The firewall policy does not contain a rule at priority ${q['priority'] ?? ''}.`,
          );
        return { status: 200, json: rule };
      }
      case 'networkFirewallPolicies.addRule': {
        const p = getPolicy(match.pathParams['firewallPolicy'] ?? '');
        const rule = body as PolicyRuleJson;
        checkPolicyRule(rule);
        if (p.rules.has(rule.priority)) {
          throw new ApiError(
            409,
            'alreadyExists',
            `The firewall policy already contains a rule with priority ${rule.priority}`,
          );
        }
        const link = `${API_ROOT}/projects/${project}/global/firewallPolicies/${p.name}`;
        return {
          status: 200,
          json: startOperation(match.method, String(rule.priority), link, () => {
            p.rules.set(rule.priority, { kind: 'compute#firewallPolicyRule', ...rule, ruleTupleCount: 2 });
            p.fingerprint++;
          }),
        };
      }
      case 'networkFirewallPolicies.patchRule': {
        const p = getPolicy(match.pathParams['firewallPolicy'] ?? '');
        const priority = Number(q['priority'] ?? 0);
        const live = p.rules.get(priority);
        if (!live)
          throw new ApiError(400, 'invalid', `The firewall policy does not contain a rule at priority ${priority}.`);
        const patch = body as Record<string, unknown>;
        if (patch['priority'] !== undefined && patch['priority'] !== priority)
          throw new ApiError(400, 'invalid', 'Rule priority cannot be changed by patchRule');
        const next = { ...live, ...patch, priority } as PolicyRuleJson;
        checkPolicyRule(next);
        const link = `${API_ROOT}/projects/${project}/global/firewallPolicies/${p.name}`;
        return {
          status: 200,
          json: startOperation(match.method, String(priority), link, () => {
            p.rules.set(priority, next);
            p.fingerprint++;
          }),
        };
      }
      case 'networkFirewallPolicies.removeRule': {
        const p = getPolicy(match.pathParams['firewallPolicy'] ?? '');
        const priority = Number(q['priority'] ?? 0);
        if (!p.rules.has(priority))
          throw new ApiError(400, 'invalid', `The firewall policy does not contain a rule at priority ${priority}.`);
        if (priority >= 2147483644) throw new ApiError(400, 'invalid', 'Cannot remove a system default rule');
        const link = `${API_ROOT}/projects/${project}/global/firewallPolicies/${p.name}`;
        return {
          status: 200,
          json: startOperation(match.method, String(priority), link, () => {
            p.rules.delete(priority);
            p.fingerprint++;
          }),
        };
      }
      case 'globalOperations.get':
      case 'globalOperations.wait': {
        const op = operations.get(match.pathParams['operation'] ?? '');
        if (!op)
          throw new ApiError(
            404,
            'notFound',
            `The resource 'projects/${project}/global/operations/${match.pathParams['operation']}' was not found`,
          );
        advance(op);
        return { status: 200, json: op.json };
      }
      default:
        throw new ApiError(501, 'notImplemented', `${match.method} is not implemented by the emulator`);
    }
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => {
      const httpMethod = req.method ?? 'GET';
      const url = req.url ?? '/';
      const send = (status: number, json: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
        res.end(JSON.stringify(json));
      };
      const sendError = (status: number, reason: string, message: string) =>
        send(status, { error: { code: status, message, errors: [{ domain: 'global', reason, message }] } });
      const { match, violations: v } = checkRequest(httpMethod, url, raw);
      violations.push(...v);
      if (!match) {
        calls.push({ method: 'unknown', httpMethod, url, status: 404, write: false, deduped: false });
        sendError(404, 'notFound', `no route for ${httpMethod} ${url}`);
        return;
      }
      const isWrite = WRITE_METHODS.has(match.method);
      const faultIdx = faults.findIndex((f) => f.count > 0 && (f.method === match.method || f.method === '*'));
      const fault = faultIdx >= 0 ? faults[faultIdx] : undefined;
      if (fault) fault.count--;
      const faultReply = (f: Fault) =>
        f.status === 429
          ? sendError(429, 'rateLimitExceeded', 'Rate Limit Exceeded')
          : sendError(f.status, 'backendError', 'The service is currently unavailable.');
      if (fault && fault.when !== 'after') {
        calls.push({ method: match.method, httpMethod, url, status: fault.status, write: false, deduped: false });
        faultReply(fault);
        return;
      }
      let body: unknown;
      try {
        body = raw.trim() === '' ? undefined : JSON.parse(raw);
      } catch {
        body = undefined;
      }
      const requestId = match.query['requestId'];
      const requestKey = requestId ? `${httpMethod} ${new URL(url, 'http://x').pathname} ${requestId}` : undefined;
      try {
        const out = handle(match, body, requestKey);
        calls.push({
          method: match.method,
          httpMethod,
          url,
          status: fault ? fault.status : out.status,
          write: isWrite,
          deduped: out.deduped === true,
        });
        if (fault) faultReply(fault);
        else send(out.status, out.json);
      } catch (err) {
        if (err instanceof ApiError) {
          calls.push({ method: match.method, httpMethod, url, status: err.status, write: isWrite, deduped: false });
          sendError(err.status, err.reason, err.message);
        } else {
          calls.push({ method: match.method, httpMethod, url, status: 500, write: isWrite, deduped: false });
          violations.push(`emulator crashed on ${httpMethod} ${url}: ${String(err)}`);
          sendError(500, 'backendError', String(err));
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    project,
    violations,
    calls,
    faults,
    operationFailures,
    firewalls,
    policies,
    seedFirewall(fw) {
      checkFirewall({ direction: 'INGRESS', ...fw });
      const filled = fillDefaults({ ...fw }, String(++seq), '2026-11-01T00:00:00.000-07:00');
      firewalls.set(fw.name, filled);
      return filled;
    },
    seedPolicy(name) {
      const rules = new Map<number, PolicyRuleJson>();
      for (const r of systemPolicyRules()) rules.set(r.priority, r);
      policies.set(name, { name, id: String(++seq), rules, fingerprint: 1, description: '' });
    },
    writeCalls() {
      const out: Record<string, number> = {};
      for (const c of calls) if (c.write && !c.deduped) out[c.method] = (out[c.method] ?? 0) + 1;
      return out;
    },
    writeCount() {
      return calls.filter((c) => c.write && !c.deduped).length;
    },
    resetCalls() {
      calls.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive sockets of the clients would hold close() until they time out.
        server.closeAllConnections();
      }),
  };
}

function hasAny(o: Record<string, unknown>, keys: readonly string[]): boolean {
  return keys.some((k) => Array.isArray(o[k]) && (o[k] as unknown[]).length > 0);
}

function isV6Rule(o: Record<string, unknown>): boolean {
  return [...((o['sourceRanges'] as string[]) ?? [])].some((r) => r.includes(':'));
}

/**
 * The subset of the compute list filter syntax Bulkhead uses: `field eq|ne "RE2 regex"` (full
 * match), optionally several joined by spaces (AND).
 */
function compileFilter(filter: string): (fw: FirewallJson) => boolean {
  const terms = [...filter.matchAll(/\(?\s*(\w+)\s+(eq|ne)\s+"?([^"]*)"?\s*\)?/g)];
  if (terms.length === 0) throw new ApiError(400, 'invalid', `Invalid list filter expression '${filter}'`);
  return (fw) =>
    terms.every(([, field, op, pattern]) => {
      const value = String((fw as Record<string, unknown>)[field!] ?? '');
      const hit = new RegExp(`^(?:${pattern})$`).test(value);
      return op === 'eq' ? hit : !hit;
    });
}
