import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { evaluateAws } from '../../../providers/aws/evaluate.js';
import { renderAws } from '../../../providers/aws/render.js';
import {
  addressOf,
  PL_TYPE,
  resource,
  ruleChild,
  SG_TYPE,
  entryChild,
  type AwsRule,
} from '../../../providers/aws/canonical.js';
import { canonicalState, type AwsRawState } from '../../../providers/aws/state.js';
import type { SegmentSpec } from '../../../src/compile/types.js';
import type { ProviderState, Resource } from '../../../src/plan/types.js';
import type { NativeEnd, NativeProbe } from '../../../src/reach/native.js';
import { renderedState } from '../../../src/reach/effective.js';
import { awsTarget, flow, pos, ruleSet, seg, tcp } from '../../helpers/rulesets.js';

const FIX = new URL('../../fixtures/vendor/aws/', import.meta.url);
const target = awsTarget('aws-t');
const vpc = target.kind === 'aws' ? target.aws.vpc : '';
const segments = (names: string[], extra: Partial<Record<string, SegmentSpec['aws']>> = {}): SegmentSpec[] =>
  names.map((name) => ({ name, pos: pos(), ...(extra[name] ? { aws: extra[name] } : {}) }));

const S = (segment: string, address = '10.0.0.0/32'): NativeEnd => ({ kind: 'segment', segment, address });
const X = (cidr: string, extra: Partial<Extract<NativeEnd, { kind: 'external' }>> = {}): NativeEnd => ({
  kind: 'external',
  cidr,
  ...extra,
});
const probe = (source: NativeEnd, destination: NativeEnd, service = tcp(443)): NativeProbe => ({
  source,
  destination,
  service,
});

function rule(
  direction: 'ingress' | 'egress',
  protocol: string,
  fromPort: number | null,
  toPort: number | null,
  peer: AwsRule['peer'],
): AwsRule {
  return { direction, protocol, fromPort, toPort, peer, description: '' };
}
function group(name: string, rules: AwsRule[], liveId?: string): Resource {
  return resource({
    address: addressOf('aws-t', SG_TYPE, name),
    target: 'aws-t',
    type: SG_TYPE,
    name,
    attributes: {},
    children: rules.map((r) => ruleChild(r)),
    ...(liveId ? { liveId } : {}),
  });
}
const state = (resources: Resource[], unowned?: Resource[]): ProviderState => ({
  target: 'aws-t',
  source: 'snapshot',
  resources,
  fingerprint: '',
  diagnostics: [],
  ...(unowned ? { unowned } : {}),
});

describe('AWS evaluator: hand-checked cases', () => {
  it('needs the sender egress AND the receiver ingress (stateful, allow-only), naming both rules', () => {
    const ev = evaluateAws(
      target,
      state([
        group('m-web', [rule('egress', 'tcp', 443, 443, { kind: 'group', ref: 'm-app' })]),
        group('m-app', [rule('ingress', 'tcp', 400, 500, { kind: 'group', ref: 'm-web' })]),
      ]),
      { model: 'm', segments: segments(['web', 'app']) },
    );
    const v = ev(probe(S('web'), S('app')));
    expect(v.verdict).toBe('allow');
    expect(v.rules.map((r) => `${r.object} ${r.rule}`)).toEqual([
      'm-web egress tcp 443-443 sg:m-app',
      'm-app ingress tcp 400-500 sg:m-web',
    ]);
    // The other way round there is neither rule; a port outside the ingress range fails at app.
    expect(ev(probe(S('app'), S('web'))).rules.map((r) => r.rule)).toEqual([
      'implicit-deny-egress',
      'implicit-deny-ingress',
    ]);
    const v2 = ev(probe(S('web'), S('app'), tcp(501)));
    expect(v2.verdict).toBe('deny');
    expect(v2.rules.map((r) => `${r.object} ${r.kind}`)).toEqual(['m-web implied', 'm-app implied']);
  });

  it('unions every rule of the group: any admitting rule decides, order does not matter', () => {
    const ev = evaluateAws(
      target,
      state([
        group('m-db', [
          rule('ingress', 'tcp', 5432, 5432, { kind: 'cidr', cidr: '10.1.0.0/16' }),
          rule('ingress', 'tcp', 5432, 5432, { kind: 'cidr', cidr: '192.168.0.0/16' }),
          rule('ingress', 'icmp', 8, -1, { kind: 'cidr', cidr: '0.0.0.0/0' }),
          rule('ingress', 'all', null, null, { kind: 'cidr', cidr: '2001:db8::/32' }),
        ]),
      ]),
      { model: 'm', segments: segments(['db']) },
    );
    expect(ev(probe(X('10.1.2.3/32'), S('db'), tcp(5432))).rules[0]!.rule).toBe(
      'ingress tcp 5432-5432 cidr:10.1.0.0/16',
    );
    expect(ev(probe(X('192.168.4.4/32'), S('db'), tcp(5432))).rules[0]!.rule).toBe(
      'ingress tcp 5432-5432 cidr:192.168.0.0/16',
    );
    expect(ev(probe(X('10.2.0.1/32'), S('db'), tcp(5432))).verdict).toBe('deny');
    // A /24 inside the /16 is admitted as a whole; one straddling it is not.
    expect(ev(probe(X('10.1.9.0/24'), S('db'), tcp(5432))).verdict).toBe('allow');
    expect(ev(probe(X('10.0.0.0/15'), S('db'), tcp(5432))).verdict).toBe('deny');
    // ICMP echo (type 8, any code) from anywhere; not echo reply.
    expect(ev(probe(X('8.8.8.8/32'), S('db'), { kind: 'icmp', protocol: 'icmp', type: 8, code: 0 })).verdict).toBe(
      'allow',
    );
    expect(ev(probe(X('8.8.8.8/32'), S('db'), { kind: 'icmp', protocol: 'icmp', type: 0, code: null })).verdict).toBe(
      'deny',
    );
    // `-1` (all) admits every protocol, but only from its own family's range.
    expect(ev(probe(X('2001:db8::9/128'), S('db'), { kind: 'protocol', number: 47 })).verdict).toBe('allow');
    expect(ev(probe(X('2001:db9::9/128'), S('db'), tcp(22))).verdict).toBe('deny');
  });

  it('SG references match members only, by managed name or by sg id (adopted groups)', () => {
    const ev = evaluateAws(
      target,
      state([
        group('m-web', [rule('egress', 'all', null, null, { kind: 'cidr', cidr: '0.0.0.0/0' })]),
        {
          ...group(
            'm-legacy',
            [rule('ingress', 'tcp', 22, 22, { kind: 'group', ref: 'sg-0aaaaaaaaaaaaaaaa' })],
            'sg-0bbbbbbbbbbbbbbbb',
          ),
          attributes: { adoptedGroupId: 'sg-0bbbbbbbbbbbbbbbb' },
        },
        group('m-ops', [rule('egress', 'tcp', 22, 22, { kind: 'group', ref: 'm-legacy' })], 'sg-0aaaaaaaaaaaaaaaa'),
      ]),
      { model: 'm', segments: segments(['web', 'legacy', 'ops'], { legacy: { groupId: 'sg-0bbbbbbbbbbbbbbbb' } }) },
    );
    // ops → legacy on 22: ops' egress names legacy by managed name, legacy's ingress names ops by its sg id.
    expect(ev(probe(S('ops'), S('legacy'), tcp(22))).verdict).toBe('allow');
    // web sends anywhere, but legacy admits only members of ops: an address in the VPC is no member.
    expect(ev(probe(S('web'), S('legacy'), tcp(22))).verdict).toBe('deny');
    expect(ev(probe(X('10.0.0.0/32'), S('legacy'), tcp(22))).verdict).toBe('deny');
  });

  it('prefix lists: entries of the lists read, and an AWS-managed list by the entity bound to it', () => {
    const list = resource({
      address: addressOf('aws-t', PL_TYPE, 'm-partners-ipv4'),
      target: 'aws-t',
      type: PL_TYPE,
      name: 'm-partners-ipv4',
      attributes: {},
      children: ['198.51.100.0/24', '203.0.113.0/25'].map(entryChild),
      liveId: 'pl-0111',
    });
    const ev = evaluateAws(
      target,
      state([
        group('m-app', [
          rule('ingress', 'tcp', 443, 443, { kind: 'prefix-list', ref: 'm-partners-ipv4' }),
          rule('egress', 'tcp', 443, 443, { kind: 'prefix-list', ref: 'com.amazonaws.eu-west-1.s3' }),
        ]),
        list,
      ]),
      { model: 'm', segments: segments(['app']) },
    );
    expect(ev(probe(X('203.0.113.5/32'), S('app'))).verdict).toBe('allow');
    expect(ev(probe(X('203.0.113.200/32'), S('app'))).verdict).toBe('deny');
    const s3 = {
      kind: 'external' as const,
      entity: 'object-storage',
      binding: { prefixList: 'com.amazonaws.eu-west-1.s3', ipv4: [], ipv6: [] },
    };
    expect(ev(probe(S('app'), s3)).verdict).toBe('allow');
    // An address: the managed list's entries are not read, so it cannot be shown to match.
    expect(ev(probe(S('app'), X('52.216.0.1/32'))).verdict).toBe('deny');
  });

  it('agrees with render on the shop-like flows (render wrapped as a state)', () => {
    const rs = ruleSet({
      name: 'm',
      segments: ['web', 'db'],
      targets: [target],
      rules: [...flow(seg('web'), seg('db'), tcp(5432))],
    });
    const ev = evaluateAws(target, renderedState(target, renderAws(rs, target, { resolved: new Map() })), {
      model: 'm',
      segments: rs.segments,
    });
    expect(ev(probe(S('web'), S('db'), tcp(5432))).verdict).toBe('allow');
    expect(ev(probe(S('db'), S('web'), tcp(5432))).verdict).toBe('deny');
  });
});

describe('AWS evaluator on vendor examples (aws-cli describe-security-group-rules, get-managed-prefix-list-entries)', () => {
  const rules = JSON.parse(readFileSync(new URL('describe-security-group-rules.example1.json', FIX), 'utf8')) as {
    SecurityGroupRules: AwsRawState['SecurityGroupRules'];
  };
  const lists = JSON.parse(readFileSync(new URL('describe-managed-prefix-lists.output1.json', FIX), 'utf8')) as {
    PrefixLists: AwsRawState['PrefixLists'];
  };
  const entries = JSON.parse(readFileSync(new URL('get-managed-prefix-list-entries.output1.json', FIX), 'utf8')) as {
    Entries: { Cidr?: string }[];
  };
  // The example's group (a VPC's default group: members talk to each other, all egress open) is
  // adopted by segment `legacy`; its rules carry no ownership tag, so they are someone else's.
  const raw: AwsRawState = {
    SecurityGroups: [{ GroupId: 'sg-1234567890abcdef0', GroupName: 'default', VpcId: vpc }],
    SecurityGroupRules: [
      ...rules.SecurityGroupRules!,
      // A rule of the same group naming the example's customer-managed list (its entries from the example).
      {
        SecurityGroupRuleId: 'sgr-0000000000000000a',
        GroupId: 'sg-1234567890abcdef0',
        IsEgress: false,
        IpProtocol: 'tcp',
        FromPort: 22,
        ToPort: 22,
        PrefixListId: 'pl-0123456abcabcabc1',
      },
    ],
    PrefixLists: lists.PrefixLists,
    Entries: { 'pl-0123456abcabcabc1': entries.Entries },
  };
  const owner = { model: 'm', segments: segments(['legacy', 'web'], { legacy: { groupId: 'sg-1234567890abcdef0' } }) };

  it('read keeps the unowned rules out of resources (plan never sees them) and in `unowned` when asked', () => {
    const plain = canonicalState(raw, target, 'snapshot', owner);
    expect(plain.unowned).toBeUndefined();
    expect(plain.resources.flatMap((r) => r.children)).toEqual([]);
    const full = canonicalState(raw, target, 'snapshot', { ...owner, unowned: true });
    expect(full.resources).toEqual(plain.resources);
    expect(full.fingerprint).toBe(plain.fingerprint);
    expect(full.unowned!.flatMap((r) => r.children.map((c) => `${r.name} ${c.key} ${c.liveId}`)).sort()).toEqual(
      [
        'm-legacy egress all cidr:0.0.0.0/0 sgr-cdef01234567890ab',
        'm-legacy egress all cidr:::/0 sgr-bcdef01234567890a',
        'm-legacy ingress all sg:m-legacy sgr-abcdef01234567890',
        'm-legacy ingress tcp 22-22 pl:pl-0123456abcabcabc1 sgr-0000000000000000a',
        'vpc-cidrs 10.0.0.0/16 undefined',
        'vpc-cidrs 10.2.0.0/16 undefined',
      ].sort(),
    );
  });

  it('decides on them as EC2 does: members reach each other, egress is open, the list admits its entries', () => {
    const ev = evaluateAws(target, canonicalState(raw, target, 'snapshot', { ...owner, unowned: true }), {
      model: 'm',
      segments: owner.segments,
    });
    const self = ev(probe(S('legacy'), S('legacy'), tcp(8080)));
    expect(self.verdict).toBe('allow');
    expect(self.rules.map((r) => `${r.id} ${r.owned}`)).toEqual([
      'sgr-cdef01234567890ab false',
      'sgr-abcdef01234567890 false',
    ]);
    expect(ev(probe(S('legacy'), X('2600:1f18::1/128'))).rules[0]!.id).toBe('sgr-bcdef01234567890a');
    expect(ev(probe(X('10.2.3.4/32'), S('legacy'), tcp(22))).rules[0]!.id).toBe('sgr-0000000000000000a');
    expect(ev(probe(X('10.3.3.4/32'), S('legacy'), tcp(22))).verdict).toBe('deny');
    // web has no group in this VPC at all: nothing admits or sends for it.
    expect(ev(probe(S('web'), S('legacy'), tcp(22))).rules[0]!.summary).toContain('does not exist');
  });
});
