import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { childRule, PL_TYPE, SG_TYPE, str, wireProtocol } from '../../../providers/aws/canonical.js';
import { OWNER_KEY as OWNER_TAG } from '../../../providers/kit/ownership.js';
import type { Resource } from '../../../src/plan/types.js';
import { ec2ErrorXml } from './shim.js';

/**
 * A read-mostly EC2 Query API on 127.0.0.1 that serves a large VPC generated from rendered
 * resources, as if they had been applied: DescribeSecurityGroups, DescribeSecurityGroupRules (with
 * the group-id filter), DescribeManagedPrefixLists, GetManagedPrefixListEntries, each paginated
 * with MaxResults/NextToken like EC2, and Authorize* answered and counted. For call-count
 * measurements at a scale moto cannot serve (its DescribeSecurityGroupRules takes seconds per
 * thousand rules); the real SDK, paginators and read code run against it unchanged.
 */
export interface SyntheticEc2 {
  readonly url: string;
  /** Calls per action since the last `clear`. */
  counts(): Record<string, number>;
  clear(): void;
  stop(): Promise<void>;
}

const OWNER = '123456789012';
const esc = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const el = (tag: string, value: string | number | undefined) =>
  value === undefined ? '' : `<${tag}>${esc(String(value))}</${tag}>`;
const tags = (t: readonly { Key: string; Value: string }[]) =>
  t.length
    ? `<tagSet>${t.map((x) => `<item>${el('key', x.Key)}${el('value', x.Value)}</item>`).join('')}</tagSet>`
    : '<tagSet/>';

interface Rule {
  id: string;
  groupId: string;
  egress: boolean;
  proto: string;
  from: number;
  to: number;
  cidr4?: string;
  cidr6?: string;
  pl?: string;
  ref?: string;
  description: string;
  owner: string;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let s = '';
    req.on('data', (c: Buffer) => (s += c.toString()));
    req.on('end', () => resolve(s));
    req.on('error', reject);
  });
}

/** Serves `resources` (one AWS target's render output) as the live state of `vpc`. */
export async function startSyntheticEc2(resources: readonly Resource[], vpc: string): Promise<SyntheticEc2> {
  const groupIds = new Map<string, string>();
  const listIds = new Map<string, string>([['com.amazonaws.eu-west-1.s3', 'pl-6da54004']]);
  const hex = (n: number, len: number) => n.toString(16).padStart(len, '0');
  resources.filter((r) => r.type === SG_TYPE).forEach((r, i) => groupIds.set(r.name, `sg-${hex(i + 1, 17)}`));
  resources.filter((r) => r.type === PL_TYPE).forEach((r, i) => listIds.set(r.name, `pl-${hex(i + 1, 17)}`));
  const groups = [
    { id: `sg-${hex(0, 17)}`, name: 'default', description: 'default VPC security group', owner: '' },
    ...resources
      .filter((r) => r.type === SG_TYPE)
      .map((r) => ({
        id: groupIds.get(r.name)!,
        name: r.name,
        description: str(r.attributes, 'description'),
        owner: str(r.attributes, 'owner'),
      })),
  ];
  let ruleSeq = 0;
  const rules: Rule[] = [];
  for (const r of resources.filter((x) => x.type === SG_TYPE)) {
    for (const c of r.children) {
      const rule = childRule(c);
      const base = {
        id: `sgr-${hex(++ruleSeq, 17)}`,
        groupId: groupIds.get(r.name)!,
        egress: rule.direction === 'egress',
        proto: wireProtocol(rule.protocol),
        from: rule.fromPort ?? -1,
        to: rule.toPort ?? -1,
        description: rule.description,
        owner: str(r.attributes, 'owner'),
      };
      const p = rule.peer;
      rules.push(
        p.kind === 'cidr'
          ? p.cidr.includes(':')
            ? { ...base, cidr6: p.cidr }
            : { ...base, cidr4: p.cidr }
          : p.kind === 'group'
            ? { ...base, ref: groupIds.get(p.ref) ?? p.ref }
            : { ...base, pl: listIds.get(p.ref) ?? p.ref },
      );
    }
  }
  const rulesByGroup = new Map<string, Rule[]>();
  for (const r of rules) rulesByGroup.set(r.groupId, [...(rulesByGroup.get(r.groupId) ?? []), r]);
  const lists = [
    {
      id: 'pl-6da54004',
      name: 'com.amazonaws.eu-west-1.s3',
      family: 'IPv4',
      max: undefined as number | undefined,
      owner: 'AWS',
      entries: ['52.216.0.0/15'],
      tag: '',
    },
    ...resources
      .filter((r) => r.type === PL_TYPE)
      .map((r) => ({
        id: listIds.get(r.name)!,
        name: r.name,
        family: str(r.attributes, 'addressFamily'),
        max: Number(r.attributes['maxEntries']),
        owner: OWNER,
        entries: r.children.map((c) => c.key),
        tag: str(r.attributes, 'owner'),
      })),
  ];

  const ruleXml = (r: Rule) =>
    `<item>${el('securityGroupRuleId', r.id)}${el('groupId', r.groupId)}${el('groupOwnerId', OWNER)}${el('isEgress', String(r.egress))}` +
    `${el('ipProtocol', r.proto)}${el('fromPort', r.from)}${el('toPort', r.to)}${el('cidrIpv4', r.cidr4)}${el('cidrIpv6', r.cidr6)}${el('prefixListId', r.pl)}` +
    `${r.ref ? `<referencedGroupInfo>${el('groupId', r.ref)}${el('userId', OWNER)}</referencedGroupInfo>` : ''}${el('description', r.description || undefined)}` +
    `${tags(r.owner ? [{ Key: OWNER_TAG, Value: r.owner }] : [])}</item>`;
  const permsXml = (rs: readonly Rule[]) => {
    const by = new Map<string, Rule[]>();
    for (const r of rs) by.set(`${r.proto} ${r.from} ${r.to}`, [...(by.get(`${r.proto} ${r.from} ${r.to}`) ?? []), r]);
    return [...by.values()]
      .map((g) => {
        const d = (r: Rule) => el('description', r.description || undefined);
        return (
          `<item>${el('ipProtocol', g[0]!.proto)}${g[0]!.proto === '-1' ? '' : el('fromPort', g[0]!.from) + el('toPort', g[0]!.to)}` +
          `<groups>${g
            .filter((r) => r.ref)
            .map((r) => `<item>${el('groupId', r.ref)}${el('userId', OWNER)}${d(r)}</item>`)
            .join('')}</groups>` +
          `<ipRanges>${g
            .filter((r) => r.cidr4)
            .map((r) => `<item>${el('cidrIp', r.cidr4)}${d(r)}</item>`)
            .join('')}</ipRanges>` +
          `<ipv6Ranges>${g
            .filter((r) => r.cidr6)
            .map((r) => `<item>${el('cidrIpv6', r.cidr6)}${d(r)}</item>`)
            .join('')}</ipv6Ranges>` +
          `<prefixListIds>${g
            .filter((r) => r.pl)
            .map((r) => `<item>${el('prefixListId', r.pl)}${d(r)}</item>`)
            .join('')}</prefixListIds></item>`
        );
      })
      .join('');
  };
  const page = <T>(items: readonly T[], params: URLSearchParams, max: number): { items: T[]; next: string } => {
    const size = Math.min(Number(params.get('MaxResults') ?? max) || max, max);
    const offset = Number(params.get('NextToken') ?? 0);
    const slice = items.slice(offset, offset + size);
    return { items: slice, next: offset + size < items.length ? el('nextToken', String(offset + size)) : '' };
  };
  const respond = (action: string, body: string) =>
    `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">${el('requestId', 'synthetic')}${body}</${action}Response>`;

  const calls = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    void readBody(req).then((text) => {
      const params = new URLSearchParams(text);
      const action = params.get('Action') ?? '';
      calls.set(action, (calls.get(action) ?? 0) + 1);
      let body: string | undefined;
      if (action === 'DescribeSecurityGroups') {
        const p = page(groups, params, 1000);
        body = `<securityGroupInfo>${p.items
          .map(
            (g) =>
              `<item>${el('ownerId', OWNER)}${el('groupId', g.id)}${el('groupName', g.name)}${el('groupDescription', g.description)}${el('vpcId', vpc)}` +
              `<ipPermissions>${permsXml((rulesByGroup.get(g.id) ?? []).filter((r) => !r.egress))}</ipPermissions>` +
              `<ipPermissionsEgress>${permsXml((rulesByGroup.get(g.id) ?? []).filter((r) => r.egress))}</ipPermissionsEgress>` +
              `${tags(g.owner ? [{ Key: OWNER_TAG, Value: g.owner }] : [])}</item>`,
          )
          .join('')}</securityGroupInfo>${p.next}`;
      } else if (action === 'DescribeSecurityGroupRules') {
        const wanted = new Set<string>();
        for (let i = 1; params.has(`Filter.1.Value.${i}`); i++) wanted.add(params.get(`Filter.1.Value.${i}`)!);
        const selected =
          params.get('Filter.1.Name') === 'group-id' ? [...wanted].flatMap((id) => rulesByGroup.get(id) ?? []) : rules;
        const p = page(selected, params, 1000);
        body = `<securityGroupRuleSet>${p.items.map(ruleXml).join('')}</securityGroupRuleSet>${p.next}`;
      } else if (action === 'DescribeManagedPrefixLists') {
        const p = page(lists, params, 100);
        body = `<prefixListSet>${p.items.map((l) => `<item>${el('prefixListId', l.id)}${el('addressFamily', l.family)}${el('state', 'create-complete')}${el('prefixListName', l.name)}${el('maxEntries', l.max)}${el('version', l.max ? 1 : undefined)}${el('ownerId', l.owner)}${tags(l.tag ? [{ Key: OWNER_TAG, Value: l.tag }] : [])}</item>`).join('')}</prefixListSet>${p.next}`;
      } else if (action === 'GetManagedPrefixListEntries') {
        const l = lists.find((x) => x.id === params.get('PrefixListId'));
        const p = page(l?.entries ?? [], params, 100);
        body = `<entrySet>${p.items.map((c) => `<item>${el('cidr', c)}</item>`).join('')}</entrySet>${p.next}`;
      } else if (action === 'AuthorizeSecurityGroupIngress' || action === 'AuthorizeSecurityGroupEgress') {
        body = '<return>true</return><securityGroupRuleSet/>';
      }
      const out =
        body === undefined
          ? ec2ErrorXml('UnsupportedOperation', `${action} is not served here`)
          : respond(action, body);
      res.writeHead(body === undefined ? 400 : 200, {
        'content-type': 'text/xml',
        'content-length': String(Buffer.byteLength(out)),
      });
      res.end(out);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    counts: () => Object.fromEntries([...calls].sort()),
    clear: () => calls.clear(),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
