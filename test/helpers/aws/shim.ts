import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A fault-injecting HTTP proxy on 127.0.0.1 in front of moto's EC2 server. moto does not throttle,
 * paginate or check dependencies (cloud-semantics §1), so the shim adds what real EC2 does:
 *
 *  - counts every API call by Action (the figures of the issue's report);
 *  - `throttleEvery`: every n-th call answers HTTP 503 RequestLimitExceeded (EC2 XML error);
 *  - `dependencyViolation`: DeleteSecurityGroup of the listed group ids answers DependencyViolation;
 *  - `pageSize`: Describe and Get list responses are cut into pages with a NextToken, and the
 *    NextToken of the next request is honoured (moto ignores MaxResults and returns everything);
 *  - rule descriptions moto loses: moto 5.2.1 drops the Description of prefix-list and group peers
 *    from DescribeSecurityGroupRules and ignores UpdateSecurityGroupRuleDescriptions*; the shim
 *    remembers what Authorize and UpdateSecurityGroupRuleDescriptions* sent, by rule id, and puts
 *    it back into DescribeSecurityGroupRules answers, as EC2 does (`emulateDescriptions`);
 *  - prefix-list resizes moto ignores: ModifyManagedPrefixList's MaxEntries is remembered and shown
 *    in DescribeManagedPrefixLists, and (as in EC2) a call that changes MaxEntries and entries at
 *    once is refused with InvalidParameterCombination;
 *  - `resetAfterWrite`: the n-th call of a write action (any but the Describe and Get reads) reaches moto, then the
 *    connection is reset before the answer is sent: the write happened, the client does not know;
 *  - client tokens moto ignores (moto 5.2.1 drops `ClientToken` of CreateManagedPrefixList): EC2
 *    documents that a request repeated with the same client token and the same parameters returns
 *    the first request's result without doing it again, and that the same token with other
 *    parameters fails with IdempotentParameterMismatch ("Ensuring idempotency in Amazon EC2 API
 *    requests", https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-idempotency.html); the shim
 *    remembers the answer of each successful call that carried a ClientToken and replays it
 *    (`emulateClientTokens`, on by default).
 */
export interface ShimFaults {
  /** Every n-th call (counting all calls) is throttled; 0 = never. */
  throttleEvery: number;
  /** At most this many throttled answers in all (Infinity = no limit). */
  throttleLimit: number;
  /** Group ids whose DeleteSecurityGroup fails with DependencyViolation, and how many more times (Infinity = always). */
  dependencyViolation: Map<string, number>;
  /** Items per page of list responses; 0 = as moto answers (one page). */
  pageSize: number;
  /** Keep rule descriptions moto loses (see above); on by default. */
  emulateDescriptions: boolean;
  /**
   * The n-th call (1-based, counted since the last reset or clearCalls) of a write action is done
   * by moto, then its connection reset; undefined = never.
   */
  resetAfterWrite: { readonly action: string; readonly nth: number } | undefined;
  /** Replay the answer of a repeated ClientToken, as EC2 does (see above); on by default. */
  emulateClientTokens: boolean;
}

/** One call that reached the shim. */
export interface ShimCall {
  readonly action: string;
  readonly params: URLSearchParams;
  /** The HTTP status the shim answered; 0 when it reset the connection instead. */
  status: number;
}

/** A running shim. */
export interface Ec2Shim {
  /** `http://127.0.0.1:<port>`: give this to the EC2 client. */
  readonly url: string;
  readonly faults: ShimFaults;
  /** Every call since the last `clearCalls`, in arrival order. */
  readonly calls: ShimCall[];
  clearCalls(): void;
  /** Puts every fault back to its default (none) and forgets the calls: the start of each test. */
  reset(): void;
  /** Calls per action since the last `clearCalls` (throttled attempts included). */
  countByAction(): Record<string, number>;
  stop(): Promise<void>;
}

/** List elements of the paginated actions (moto's XML). */
const LIST_ELEMENT: Readonly<Record<string, string>> = {
  DescribeSecurityGroups: 'securityGroupInfo',
  DescribeSecurityGroupRules: 'securityGroupRuleSet',
  DescribeManagedPrefixLists: 'prefixListSet',
  GetManagedPrefixListEntries: 'entrySet',
};

/** An EC2 Query API error body. */
export function ec2ErrorXml(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>shim-${Math.random().toString(16).slice(2)}</RequestID></Response>`;
}

/** The top-level `<item>`s of a list element, and the text around them. */
export function splitItems(xml: string, element: string): { head: string; items: string[]; tail: string } | undefined {
  const open = `<${element}>`;
  const start = xml.indexOf(open);
  if (start < 0) return undefined;
  const close = `</${element}>`;
  const end = xml.indexOf(close, start);
  if (end < 0) return undefined;
  const body = xml.slice(start + open.length, end);
  const items: string[] = [];
  let depth = 0,
    itemStart = -1;
  const re = /<item>|<\/item>|<item\/>/g;
  for (let m = re.exec(body); m; m = re.exec(body)) {
    if (m[0] === '<item/>') {
      if (depth === 0) items.push(m[0]);
    } else if (m[0] === '<item>') {
      if (depth === 0) itemStart = m.index;
      depth++;
    } else {
      depth--;
      if (depth === 0) items.push(body.slice(itemStart, m.index + m[0].length));
    }
  }
  return { head: xml.slice(0, start + open.length), items, tail: xml.slice(end) };
}

/** Cuts a list response to one page and adds `<nextToken>` when more follow. */
export function pageOf(xml: string, element: string, offset: number, size: number): string {
  const split = splitItems(xml, element);
  if (!split) return xml;
  const page = split.items.slice(offset, offset + size);
  const more = offset + size < split.items.length;
  let tail = split.tail.replace(/<nextToken>[^<]*<\/nextToken>/, '');
  if (more) tail = tail.replace(/<\/(\w+Response)>\s*$/, `<nextToken>shim-${offset + size}</nextToken></$1>`);
  return `${split.head}${page.join('')}${tail}`;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function forward(
  target: URL,
  req: IncomingMessage,
  body: Buffer,
): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  return new Promise((resolve, reject) => {
    const headers = { ...req.headers, host: target.host, 'content-length': String(body.length) };
    const out = httpRequest(
      { hostname: target.hostname, port: target.port, path: req.url, method: req.method, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const h: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers))
            if (typeof v === 'string' && k !== 'content-length' && k !== 'transfer-encoding') h[k] = v;
          resolve({ status: res.statusCode ?? 500, headers: h, body: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', reject);
      },
    );
    out.on('error', reject);
    out.end(body);
  });
}

const xmlText = (xml: string, tag: string): string | undefined => new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml)?.[1];
const escapeXml = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Maps the ids of the rules an Authorize created (found in the group's rules) to the descriptions it sent. */
function rememberAuthorized(
  params: URLSearchParams,
  egress: boolean,
  answer: string,
  descriptions: Map<string, string>,
): void {
  const sent = new Map<string, string>();
  for (let i = 1; params.has(`IpPermissions.${i}.IpProtocol`); i++) {
    const base = `${params.get(`IpPermissions.${i}.IpProtocol`)} ${params.get(`IpPermissions.${i}.FromPort`) ?? '-1'} ${params.get(`IpPermissions.${i}.ToPort`) ?? '-1'}`;
    for (const [list, field] of [
      ['PrefixListIds', 'PrefixListId'],
      ['Groups', 'GroupId'],
    ] as const) {
      for (let j = 1; params.has(`IpPermissions.${i}.${list}.${j}.${field}`); j++) {
        const d = params.get(`IpPermissions.${i}.${list}.${j}.Description`);
        if (d) sent.set(`${base} ${params.get(`IpPermissions.${i}.${list}.${j}.${field}`)}`, d);
      }
    }
  }
  for (const item of splitItems(answer, 'securityGroupRuleSet')?.items ?? []) {
    const id = xmlText(item, 'securityGroupRuleId');
    if (xmlText(item, 'isEgress') !== String(egress)) continue;
    const ref = /<referencedGroupInfo>.*?<groupId>([^<]*)<\/groupId>/.exec(item)?.[1];
    const key = `${xmlText(item, 'ipProtocol')} ${xmlText(item, 'fromPort') ?? '-1'} ${xmlText(item, 'toPort') ?? '-1'} ${xmlText(item, 'prefixListId') ?? ref}`;
    const d = sent.get(key);
    if (id && d) descriptions.set(id, d);
  }
}

/** Puts remembered descriptions into a DescribeSecurityGroupRules answer. */
function restoreDescriptions(answer: string, descriptions: Map<string, string>): string {
  const split = splitItems(answer, 'securityGroupRuleSet');
  if (!split) return answer;
  const items = split.items.map((item) => {
    const id = xmlText(item, 'securityGroupRuleId');
    const d = id ? descriptions.get(id) : undefined;
    if (d === undefined) return item;
    const without = item.replace(/<description>[^<]*<\/description>/, '');
    return without.replace(
      /(<securityGroupRuleId>[^<]*<\/securityGroupRuleId>)/,
      `$1<description>${escapeXml(d)}</description>`,
    );
  });
  return `${split.head}${items.join('')}${split.tail}`;
}

/** Puts remembered MaxEntries into a DescribeManagedPrefixLists answer. */
function restoreMaxEntries(answer: string, maxEntries: Map<string, string>): string {
  const split = splitItems(answer, 'prefixListSet');
  if (!split || maxEntries.size === 0) return answer;
  const items = split.items.map((item) => {
    const max = maxEntries.get(xmlText(item, 'prefixListId') ?? '');
    return max === undefined
      ? item
      : item.replace(/<maxEntries>[^<]*<\/maxEntries>/, `<maxEntries>${max}</maxEntries>`);
  });
  return `${split.head}${items.join('')}${split.tail}`;
}

/** Starts the shim in front of `upstream` (moto's URL). */
export async function startShim(upstream: string): Promise<Ec2Shim> {
  const target = new URL(upstream);
  const faults: ShimFaults = {
    throttleEvery: 0,
    throttleLimit: Infinity,
    dependencyViolation: new Map(),
    pageSize: 0,
    emulateDescriptions: true,
    resetAfterWrite: undefined,
    emulateClientTokens: true,
  };
  const defaults = { ...faults };
  const descriptions = new Map<string, string>();
  const maxEntries = new Map<string, string>();
  const calls: ShimCall[] = [];
  let seq = 0;
  let throttled = 0;
  const writes = new Map<string, number>();
  /** `<action> <token>` → the parameters of the first call and moto's answer to it. */
  const tokens = new Map<
    string,
    { signature: string; status: number; headers: Record<string, string>; body: string }
  >();

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req);
    const params = new URLSearchParams(body.toString('utf8'));
    const action = params.get('Action') ?? '';
    const call: ShimCall = { action, params: new URLSearchParams(params), status: 200 };
    calls.push(call);
    seq++;
    const reply = (status: number, text: string, headers: Record<string, string> = { 'content-type': 'text/xml' }) => {
      call.status = status;
      res.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(text)) });
      res.end(text);
    };
    // What a network fault after the server acted looks like to the client: ECONNRESET, no answer.
    const resetConnection = () => {
      call.status = 0;
      req.socket.resetAndDestroy();
    };
    if (action && faults.throttleEvery > 0 && seq % faults.throttleEvery === 0 && throttled < faults.throttleLimit) {
      throttled++;
      return reply(503, ec2ErrorXml('RequestLimitExceeded', 'Request limit exceeded.'));
    }
    if (action === 'DeleteSecurityGroup') {
      const id = params.get('GroupId') ?? '';
      const left = faults.dependencyViolation.get(id) ?? 0;
      if (left > 0) {
        faults.dependencyViolation.set(id, left - 1);
        return reply(400, ec2ErrorXml('DependencyViolation', `resource ${id} has a dependent object`));
      }
    }
    if (action === 'ModifyManagedPrefixList' && params.has('MaxEntries')) {
      if ([...params.keys()].some((k) => k.startsWith('AddEntry') || k.startsWith('RemoveEntry'))) {
        return reply(
          400,
          ec2ErrorXml(
            'InvalidParameterCombination',
            'You cannot modify the entries and the maximum number of entries in the same request.',
          ),
        );
      }
      maxEntries.set(params.get('PrefixListId') ?? '', params.get('MaxEntries') ?? '');
    }
    const isWrite = action !== '' && !action.startsWith('Describe') && !action.startsWith('Get');
    // Numbered on arrival: writes run concurrently, and the check comes after moto answered.
    const writeNo = isWrite ? (writes.set(action, (writes.get(action) ?? 0) + 1), writes.get(action)!) : 0;
    const lose = writeNo > 0 && faults.resetAfterWrite?.action === action && faults.resetAfterWrite.nth === writeNo;
    const token = params.get('ClientToken');
    const tokenKey = `${action} ${token}`;
    if (faults.emulateClientTokens && token) {
      const signature = [...params.entries()]
        .filter(([k]) => k !== 'ClientToken')
        .map(([k, v]) => `${k}=${v}`)
        .sort()
        .join('&');
      const first = tokens.get(tokenKey);
      if (first && first.signature !== signature) {
        return reply(
          400,
          ec2ErrorXml(
            'IdempotentParameterMismatch',
            `The client token ${token} was already used with other parameters.`,
          ),
        );
      }
      if (first) {
        if (lose) return resetConnection();
        return reply(first.status, first.body, first.headers);
      }
      const up = await forward(target, req, body);
      if (up.status === 200) tokens.set(tokenKey, { signature, ...up });
      if (lose) return resetConnection();
      return reply(up.status, up.body, up.headers);
    }
    const resized = (xml: string) =>
      action === 'DescribeManagedPrefixLists' ? restoreMaxEntries(xml, maxEntries) : xml;
    const element = LIST_ELEMENT[action];
    if (element && faults.pageSize > 0) {
      // Ask moto for everything, hand out one page.
      const token = params.get('NextToken');
      const offset = token?.startsWith('shim-') ? Number(token.slice(5)) : 0;
      params.delete('NextToken');
      params.delete('MaxResults');
      const up = await forward(target, req, Buffer.from(params.toString()));
      if (up.status !== 200) return reply(up.status, up.body, up.headers);
      const full = resized(
        faults.emulateDescriptions && action === 'DescribeSecurityGroupRules'
          ? restoreDescriptions(up.body, descriptions)
          : up.body,
      );
      return reply(200, pageOf(full, element, offset, faults.pageSize), up.headers);
    }
    const up = await forward(target, req, body);
    if (faults.emulateDescriptions && up.status === 200) {
      if (action.startsWith('AuthorizeSecurityGroup')) {
        // moto's Authorize answer lists only the last permission's rules: read the group's rules instead.
        const list = new URLSearchParams({
          Action: 'DescribeSecurityGroupRules',
          Version: params.get('Version') ?? '2016-11-15',
          'Filter.1.Name': 'group-id',
          'Filter.1.Value.1': params.get('GroupId') ?? '',
        });
        const rules = await forward(target, req, Buffer.from(list.toString()));
        rememberAuthorized(params, action.endsWith('Egress'), rules.body, descriptions);
      }
      if (action.startsWith('UpdateSecurityGroupRuleDescriptions')) {
        for (let i = 1; params.has(`SecurityGroupRuleDescription.${i}.SecurityGroupRuleId`); i++) {
          descriptions.set(
            params.get(`SecurityGroupRuleDescription.${i}.SecurityGroupRuleId`)!,
            params.get(`SecurityGroupRuleDescription.${i}.Description`) ?? '',
          );
        }
      }
    }
    // The write is done (and remembered above); the answer is lost.
    if (lose) return resetConnection();
    if (faults.emulateDescriptions && up.status === 200 && action === 'DescribeSecurityGroupRules') {
      return reply(200, restoreDescriptions(up.body, descriptions), up.headers);
    }
    return reply(up.status, up.status === 200 ? resized(up.body) : up.body, up.headers);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      res.writeHead(500, { 'content-type': 'text/xml' });
      res.end(ec2ErrorXml('InternalError', String(err)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    faults,
    calls,
    clearCalls() {
      calls.splice(0, calls.length);
      writes.clear();
    },
    reset() {
      Object.assign(faults, defaults); // the same dependencyViolation map, emptied below
      faults.dependencyViolation.clear();
      calls.splice(0, calls.length);
      // moto forgets its objects between tests: the tokens that made them go too.
      tokens.clear();
      writes.clear();
    },
    countByAction() {
      const out: Record<string, number> = {};
      for (const c of calls) out[c.action] = (out[c.action] ?? 0) + 1;
      return out;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
