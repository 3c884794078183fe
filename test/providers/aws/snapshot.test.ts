import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSnapshot, snapshotFiles, SNAPSHOT_FILES } from '../../../providers/aws/snapshot.js';
import { canonicalState } from '../../../providers/aws/state.js';
import type { TargetSpec } from '../../../src/compile/types.js';
import { runCli } from '../../helpers/cli.js';
import { pos } from '../../helpers/rulesets.js';

// The AWS CLI's JSON exports as snapshot input: the vendor examples of aws-cli (shared fixtures)
// and the bundled aws-prod snapshot of the README quick start.

const FIXTURES = join(import.meta.dirname, 'fixtures');
const fixture = (name: string) => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as Record<string, object[]>;
const target = (vpc: string): TargetSpec => ({
  kind: 'aws',
  name: 'aws-x',
  pos: pos(),
  aws: { region: 'us-west-2', vpc },
});
const owned = (o: object) => ({
  ...o,
  Tags: [...((o as { Tags?: object[] }).Tags ?? []), { Key: 'bulkhead:model', Value: 'm' }],
});

describe('AWS CLI exports', () => {
  it('reads describe-security-groups alone, exploding aggregated permissions (aws-cli example 1)', () => {
    const groups = fixture('describe-security-groups.example1.repaired.json');
    const files = new Map([
      [SNAPSHOT_FILES.groups, JSON.stringify({ SecurityGroups: groups['SecurityGroups']!.map(owned) })],
    ]);
    const state = canonicalState(parseSnapshot(files), target('vpc-1a2b3c4d'), 'snapshot', { model: 'm' });
    expect(state.diagnostics).toEqual([]);
    expect(state.resources.map((r) => [r.address, r.liveId])).toEqual([
      ['aws-x.aws_security_group.MySecurityGroup', 'sg-903004f8'],
    ]);
    const children = state.resources[0]!.children;
    expect(children.map((c) => c.key)).toEqual([
      'egress all cidr:0.0.0.0/0',
      'ingress all sg:MySecurityGroup', // a self reference, by the group's name
      'ingress tcp 22-22 cidr:203.0.113.0/24',
    ]);
    expect(children[2]!.attributes['description']).toBe('Access from NY office');
  });

  it('reads describe-security-group-rules with rule ids, only for groups the model owns (aws-cli example 1)', () => {
    const rules = fixture('describe-security-group-rules.example1.json');
    const groups = {
      SecurityGroups: [
        {
          GroupId: 'sg-1234567890abcdef0',
          GroupName: 'm-web',
          VpcId: 'vpc-1',
          Tags: [{ Key: 'bulkhead:model', Value: 'm' }],
        },
        { GroupId: 'sg-other', GroupName: 'm-db', VpcId: 'vpc-1' },
      ],
    };
    const files = new Map([
      [SNAPSHOT_FILES.groups, JSON.stringify(groups)],
      [SNAPSHOT_FILES.rules, JSON.stringify(rules)],
    ]);
    const state = canonicalState(parseSnapshot(files), target('vpc-1'), 'snapshot', { model: 'm' });
    expect(state.resources.map((r) => r.name)).toEqual(['m-web']);
    expect(state.resources[0]!.children.map((c) => [c.key, c.liveId])).toEqual([
      ['egress all cidr:0.0.0.0/0', 'sgr-cdef01234567890ab'],
      ['egress all cidr:::/0', 'sgr-bcdef01234567890a'],
      ['ingress all sg:m-web', 'sgr-abcdef01234567890'],
    ]);
  });

  it('reads managed prefix lists and their entries; AWS-managed names come from describe-prefix-lists', () => {
    const lists = fixture('describe-managed-prefix-lists.output1.json');
    const entries = readFileSync(join(FIXTURES, 'get-managed-prefix-list-entries.output1.json'), 'utf8');
    const awsLists = readFileSync(join(FIXTURES, 'describe-prefix-lists.output1.json'), 'utf8');
    const groups = {
      SecurityGroups: [
        {
          GroupId: 'sg-1',
          GroupName: 'm-app',
          VpcId: 'vpc-1',
          Tags: [{ Key: 'bulkhead:model', Value: 'm' }],
          IpPermissionsEgress: [
            {
              IpProtocol: 'tcp',
              FromPort: 443,
              ToPort: 443,
              PrefixListIds: [{ PrefixListId: 'pl-63a5400a' }, { PrefixListId: 'pl-0123456abcabcabc1' }],
            },
          ],
        },
      ],
    };
    const files = new Map([
      [SNAPSHOT_FILES.groups, JSON.stringify(groups)],
      [
        SNAPSHOT_FILES.prefixLists,
        JSON.stringify({
          PrefixLists: lists['PrefixLists']!.map((l) =>
            (l as { PrefixListName: string }).PrefixListName === 'vpc-cidrs' ? owned(l) : l,
          ),
        }),
      ],
      ['get-managed-prefix-list-entries.pl-0123456abcabcabc1.json', entries],
      [SNAPSHOT_FILES.awsPrefixLists, awsLists],
    ]);
    const state = canonicalState(parseSnapshot(files), target('vpc-1'), 'snapshot', { model: 'm' });
    const list = state.resources.find((r) => r.type === 'aws_managed_prefix_list')!;
    expect(list.name).toBe('vpc-cidrs');
    expect(list.attributes).toEqual({ addressFamily: 'IPv4', maxEntries: 10, owner: 'm' });
    expect(list.children.map((c) => c.key)).toEqual(['10.0.0.0/16', '10.2.0.0/16']);
    const app = state.resources.find((r) => r.name === 'm-app')!;
    expect(app.children.map((c) => c.key)).toEqual([
      'egress tcp 443-443 pl:com.amazonaws.us-east-1.s3',
      'egress tcp 443-443 pl:vpc-cidrs',
    ]);
  });

  it('says which file is wrong', () => {
    expect(() => parseSnapshot(new Map())).toThrow(/describe-security-groups.json is missing/);
    expect(() => parseSnapshot(new Map([[SNAPSHOT_FILES.groups, '[]']]))).toThrow(/"SecurityGroups" array/);
  });

  it('round-trips its own export files', () => {
    const dir = 'policies/snapshots/shop/aws-prod';
    const files = new Map(
      [
        'describe-security-groups.json',
        'describe-security-group-rules.json',
        'describe-managed-prefix-lists.json',
        'get-managed-prefix-list-entries.pl-0c0ffee0123456789.json',
      ].map((n) => [n, readFileSync(join(dir, n), 'utf8')]),
    );
    const raw = parseSnapshot(files);
    const again = parseSnapshot(new Map(snapshotFiles(raw).map((f) => [f.path, f.content])));
    expect(again).toEqual(raw);
  });
});

describe('bundled snapshot policies/snapshots/shop/aws-prod (README quick start)', () => {
  it('plans creates, updates and deletes, and leaves the unowned objects alone', async () => {
    const r = await runCli([
      'plan',
      'policies/shop.yaml',
      '--snapshots',
      'policies/snapshots/shop',
      '--target',
      'aws-prod',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout) as {
      summary: object;
      targets: { target: string; changes: { action: string; name: string }[] }[];
    };
    const aws = plan.targets.find((t) => t.target === 'aws-prod')!;
    expect(aws.changes.map((c) => `${c.action} ${c.name}`)).toEqual([
      'update shop-payment-apis-ipv4',
      'create shop-payment-apis-ipv6',
      'update shop-app',
      'delete shop-batch',
      'create shop-db',
      'update shop-lb',
    ]);
    expect(plan.summary).toEqual({ add: 2, change: 3, destroy: 1 });
    expect(r.stdout).not.toMatch(/"name":\s*"(bastion|default|corp-vpn-ranges)"/);
    const text = await runCli([
      'plan',
      'policies/shop.yaml',
      '--snapshots',
      'policies/snapshots/shop',
      '--target',
      'aws-prod',
    ]);
    expect(text.stdout).toContain('Plan: 2 to add, 3 to change, 1 to destroy.');
    expect(text.stdout).toContain('+ entry 198.51.100.20/32');
    expect(text.stdout).toContain('- ingress tcp/80 from cidr 0.0.0.0/0');
  });

  it('renders the desired groups in the shape of describe-security-groups', async () => {
    const r = await runCli([
      'render',
      'policies/shop.yaml',
      '--provider',
      'aws',
      '--json',
      '--snapshots',
      'policies/snapshots/shop',
    ]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      SecurityGroups: {
        GroupName: string;
        IpPermissions: unknown[];
        IpPermissionsEgress: { PrefixListIds: { PrefixListId: string }[] }[];
      }[];
    };
    expect(Object.keys(out)).toEqual(['SecurityGroups']);
    expect(out.SecurityGroups.map((g) => g.GroupName)).toEqual(['shop-app', 'shop-db', 'shop-lb', 'shop-web']);
    const app = out.SecurityGroups[0]!;
    expect(app.IpPermissionsEgress.flatMap((p) => p.PrefixListIds.map((l) => l.PrefixListId))).toEqual([
      'com.amazonaws.eu-west-1.s3',
      'shop-payment-apis-ipv4',
      'shop-payment-apis-ipv6',
    ]);
  });

  it('fingerprints a state as the sha256 of one JSON text of its objects, hashed per object (the same digest)', () => {
    const rules = fixture('describe-security-group-rules.example1.json');
    const groups = {
      SecurityGroups: [
        {
          GroupId: 'sg-1234567890abcdef0',
          GroupName: 'm-web',
          VpcId: 'vpc-1',
          Tags: [{ Key: 'bulkhead:model', Value: 'm' }],
        },
        { GroupId: 'sg-2', GroupName: 'm-db', VpcId: 'vpc-1', Tags: [{ Key: 'bulkhead:model', Value: 'm' }] },
        // Unowned, with the managed name of segment `app`: in the way, and in the fingerprint.
        { GroupId: 'sg-3', GroupName: 'm-app', VpcId: 'vpc-1' },
      ],
    };
    const files = new Map([
      [SNAPSHOT_FILES.groups, JSON.stringify(groups)],
      [SNAPSHOT_FILES.rules, JSON.stringify(rules)],
    ]);
    const segments = ['web', 'db', 'app'].map((name) => ({ name, pos: pos() }));
    const state = canonicalState(parseSnapshot(files), target('vpc-1'), 'snapshot', {
      model: 'm',
      segments: segments as never,
    });
    expect(state.resources.length).toBe(2);
    // The digest's definition: one JSON.stringify of every object (liveIds included) and what is in the way.
    const whole = JSON.stringify({
      resources: state.resources.map((r) => [
        r.address,
        r.liveId,
        r.attributes,
        r.children.map((c) => [c.key, c.liveId, c.attributes]),
      ]),
      inTheWay: ['sg-3 m-app'],
    });
    expect(state.fingerprint).toBe(createHash('sha256').update(whole).digest('hex'));
    // No object: the empty lists.
    const empty = canonicalState(
      parseSnapshot(new Map([[SNAPSHOT_FILES.groups, '{"SecurityGroups":[]}']])),
      target('vpc-1'),
      'snapshot',
      { model: 'm' },
    );
    expect(empty.fingerprint).toBe(createHash('sha256').update('{"resources":[],"inTheWay":[]}').digest('hex'));
  });
});
