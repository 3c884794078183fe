import type { EC2Client } from '@aws-sdk/client-ec2';
import { attemptsOf, wasRetried } from '../../../providers/kit/retry.js';
import { describe, expect, it } from 'vitest';
import { createAwsApplier } from '../../../providers/aws/apply.js';
import { classifyAwsError } from '../../../providers/aws/errors.js';
import { ruleChild, type AwsRule } from '../../../providers/aws/canonical.js';
import type { Change, ChildChange, Resource } from '../../../src/plan/types.js';
import type { ApplyStep } from '../../../src/provider.js';
import { awsTarget } from '../../helpers/rulesets.js';

// The applier's own guarantees with a scripted EC2 client: batching, dedupe, idempotency,
// per-group serialization under p-limit, error classification.

const target = awsTarget('aws-test') as ReturnType<typeof awsTarget> & { kind: 'aws' };

type Sent = { name: string; input: Record<string, unknown> };

/** A fake client: records commands, answers with `handler`, takes `delayMs` per call. */
function fakeClient(handler: (s: Sent) => unknown, delayMs = 0) {
  const sent: Sent[] = [];
  const inFlight = new Map<string, number>();
  let maxPerGroup = 0,
    active = 0,
    maxActive = 0;
  const client = {
    async send(command: { constructor: { name: string }; input: Record<string, unknown> }) {
      const s = { name: command.constructor.name.replace(/Command$/, ''), input: command.input };
      sent.push(s);
      const group = String(s.input['GroupId'] ?? '');
      inFlight.set(group, (inFlight.get(group) ?? 0) + 1);
      maxPerGroup = Math.max(maxPerGroup, inFlight.get(group)!);
      maxActive = Math.max(maxActive, ++active);
      try {
        await new Promise((r) => setTimeout(r, delayMs));
        return handler(s);
      } finally {
        inFlight.set(group, inFlight.get(group)! - 1);
        active--;
      }
    },
  } as unknown as EC2Client;
  return { client, sent, stats: () => ({ maxPerGroup, maxActive }) };
}

const rule = (over: Partial<AwsRule>): AwsRule => ({
  direction: 'ingress',
  protocol: 'tcp',
  fromPort: 443,
  toPort: 443,
  peer: { kind: 'cidr', cidr: '10.0.0.0/8' },
  description: 'd',
  ...over,
});

function group(name: string, id: string, rules: AwsRule[], liveIds: string[] = []): Resource {
  return {
    address: `aws-test.aws_security_group.${name}`,
    target: 'aws-test',
    type: 'aws_security_group',
    name,
    attributes: { description: `Bulkhead shop: segment ${name}`, owner: 'shop' },
    children: rules.map((r, i) => ruleChild(r, liveIds[i] ? { liveId: liveIds[i] } : {})),
    liveId: id,
  };
}

function step(phase: ApplyStep['phase'], before: Resource, after: Resource, children: ChildChange[]): ApplyStep {
  const change: Change = {
    address: after.address,
    target: after.target,
    type: after.type,
    name: after.name,
    action: 'update',
    before,
    after,
    attributeChanges: [],
    childChanges: children,
    widensAccess: false,
  };
  return { id: `${phase}:${after.address}`, phase, change, children };
}

const creates = (r: Resource): ChildChange[] =>
  r.children.map((c) => ({ action: 'create', key: c.key, before: null, after: c }));

describe('AWS applier', () => {
  it('authorizes all new rules of a group in one call per direction, merged by ports, tagged', async () => {
    const { client, sent } = fakeClient(() => ({}));
    const desired = group('shop-web', 'sg-1', [
      rule({ peer: { kind: 'cidr', cidr: '10.0.0.0/8' } }),
      rule({ peer: { kind: 'cidr', cidr: '2001:db8::/32' } }),
      rule({ peer: { kind: 'group', ref: 'sg-0abc' } }),
      rule({ fromPort: 80, toPort: 80 }),
      rule({
        direction: 'egress',
        protocol: 'all',
        fromPort: null,
        toPort: null,
        peer: { kind: 'prefix-list', ref: 'pl-1' },
      }),
    ]);
    const applier = createAwsApplier(target, [], client, { parallelism: 4 });
    await applier.run(step('add', group('shop-web', 'sg-1', []), desired, creates(desired)));
    expect(sent.map((s) => s.name)).toEqual(['AuthorizeSecurityGroupIngress', 'AuthorizeSecurityGroupEgress']);
    expect(sent[0]!.input).toEqual({
      GroupId: 'sg-1',
      IpPermissions: [
        {
          IpProtocol: 'tcp',
          FromPort: 443,
          ToPort: 443,
          IpRanges: [{ CidrIp: '10.0.0.0/8', Description: 'd' }],
          Ipv6Ranges: [{ CidrIpv6: '2001:db8::/32', Description: 'd' }],
          UserIdGroupPairs: [{ GroupId: 'sg-0abc', Description: 'd' }],
        },
        { IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '10.0.0.0/8', Description: 'd' }] },
      ],
      TagSpecifications: [{ ResourceType: 'security-group-rule', Tags: [{ Key: 'bulkhead:model', Value: 'shop' }] }],
    });
    expect(sent[1]!.input['IpPermissions']).toEqual([
      { IpProtocol: '-1', PrefixListIds: [{ PrefixListId: 'pl-1', Description: 'd' }] },
    ]);
  });

  it('on InvalidPermission.Duplicate re-reads the group and sends only the missing rules', async () => {
    let first = true;
    const { client, sent } = fakeClient((s) => {
      if (s.name === 'AuthorizeSecurityGroupIngress' && first) {
        first = false;
        throw Object.assign(new Error('the specified rule already exists'), { name: 'InvalidPermission.Duplicate' });
      }
      if (s.name === 'DescribeSecurityGroupRules') {
        return {
          SecurityGroupRules: [
            { IsEgress: false, IpProtocol: 'tcp', FromPort: 443, ToPort: 443, CidrIpv4: '10.0.0.0/8' },
          ],
        };
      }
      return {};
    });
    const desired = group('shop-web', 'sg-1', [rule({}), rule({ peer: { kind: 'cidr', cidr: '10.1.0.0/16' } })]);
    await createAwsApplier(target, [], client, { parallelism: 1 }).run(
      step('add', group('shop-web', 'sg-1', []), desired, creates(desired)),
    );
    expect(sent.map((s) => s.name)).toEqual([
      'AuthorizeSecurityGroupIngress',
      'DescribeSecurityGroupRules',
      'AuthorizeSecurityGroupIngress',
    ]);
    expect(sent[2]!.input['IpPermissions']).toEqual([
      { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '10.1.0.0/16', Description: 'd' }] },
    ]);
  });

  it('revokes by rule id, one by one when one id is already gone', async () => {
    const { client, sent } = fakeClient((s) => {
      const ids = s.input['SecurityGroupRuleIds'] as string[];
      if (ids.includes('sgr-gone'))
        throw Object.assign(new Error('not found'), { name: 'InvalidSecurityGroupRuleId.NotFound' });
      return {};
    });
    const live = group('shop-web', 'sg-1', [rule({}), rule({ fromPort: 80, toPort: 80 })], ['sgr-gone', 'sgr-2']);
    const deletes: ChildChange[] = live.children.map((c) => ({ action: 'delete', key: c.key, before: c, after: null }));
    await createAwsApplier(target, [live], client, { parallelism: 1 }).run(
      step('remove', live, group('shop-web', 'sg-1', []), deletes),
    );
    expect(sent.map((s) => s.input['SecurityGroupRuleIds'])).toEqual([['sgr-gone', 'sgr-2'], ['sgr-gone'], ['sgr-2']]);
  });

  it('never writes to one group concurrently, and works on several groups at once', async () => {
    const { client, stats } = fakeClient(() => ({}), 10);
    const applier = createAwsApplier(target, [], client, { parallelism: 4 });
    const runs: Promise<void>[] = [];
    for (const [name, id] of [
      ['a', 'sg-a'],
      ['b', 'sg-b'],
      ['c', 'sg-c'],
    ] as const) {
      for (const port of [1, 2, 3]) {
        const desired = group(name, id, [rule({ fromPort: port, toPort: port })]);
        runs.push(applier.run(step('add', group(name, id, []), desired, creates(desired))));
      }
    }
    await Promise.all(runs);
    expect(stats().maxPerGroup).toBe(1);
    expect(stats().maxActive).toBeGreaterThan(1);
    expect(stats().maxActive).toBeLessThanOrEqual(4);
  });

  it('classifies SDK errors: throttling the SDK already retried is not retried again (one layer), the rest is not retryable, with advice', () => {
    const throttled = classifyAwsError(
      Object.assign(new Error('slow down'), { name: 'RequestLimitExceeded', $metadata: { attempts: 6 } }),
      'reading',
    );
    // The adaptive retry spent its attempts: the engine must not start the step over (it used to, 1 + 4 times).
    expect([throttled.code, throttled.retryable, wasRetried(throttled), attemptsOf(throttled)]).toEqual([
      'RequestLimitExceeded',
      false,
      true,
      6,
    ]);
    expect(throttled.message).toMatch(/gave up after 6 attempts/);
    const quota = classifyAwsError(
      Object.assign(new Error('too many'), { name: 'RulesPerSecurityGroupLimitExceeded' }),
      'authorizing',
    );
    expect(quota.retryable).toBe(false);
    expect(quota.message).toContain('60 per direction and family');
  });
  it('creates a prefix list with a ClientToken derived from the plan, the same for a retry and a re-run of that plan', async () => {
    // The lookup by name sees nothing (EC2 reads are eventually consistent) and the first create's
    // answer is lost: only the token keeps the second create from making a second list.
    const { client, sent } = fakeClient((s) => {
      if (s.name === 'CreateManagedPrefixList') {
        if (sent.filter((x) => x.name === 'CreateManagedPrefixList').length === 1) {
          throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
        }
        return { PrefixList: { PrefixListId: 'pl-1' } };
      }
      if (s.name === 'DescribeManagedPrefixLists')
        return s.input['PrefixListIds']
          ? { PrefixLists: [{ PrefixListId: 'pl-1', State: 'create-complete', Version: 1 }] }
          : { PrefixLists: [] };
      return {};
    });
    const list = (maxEntries: number): Resource => ({
      address: 'aws-test.aws_managed_prefix_list.shop-api-ipv4',
      target: 'aws-test',
      type: 'aws_managed_prefix_list',
      name: 'shop-api-ipv4',
      attributes: { addressFamily: 'IPv4', maxEntries, owner: 'shop' },
      children: [],
    });
    const createStep = (r: Resource): ApplyStep => ({
      id: `create:${r.address}`,
      phase: 'create',
      children: [],
      change: {
        address: r.address,
        target: r.target,
        type: r.type,
        name: r.name,
        action: 'create',
        before: null,
        after: r,
        attributeChanges: [],
        childChanges: [],
        widensAccess: false,
      },
    });
    const run = (fingerprint: string, r: Resource) =>
      createAwsApplier(target, [], client, { parallelism: 1 }, {}, fingerprint).run(createStep(r));
    await expect(run('fp-1', list(4))).rejects.toThrow(); // the engine retries the step
    await run('fp-1', list(4));
    await run('fp-1', list(4)); // a re-run of the same saved plan
    await run('fp-2', list(4)); // a later plan
    await run('fp-1', list(8)); // other content
    const tokens = sent
      .filter((s) => s.name === 'CreateManagedPrefixList')
      .map((s) => s.input['ClientToken'] as string);
    expect(tokens).toHaveLength(5);
    for (const t of tokens) expect(t).toMatch(/^[\x21-\x7e]{1,64}$/);
    expect(tokens[1]).toBe(tokens[0]);
    expect(tokens[2]).toBe(tokens[0]);
    expect(new Set(tokens).size).toBe(3);
  });
});
