import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  canonicalFirewall,
  canonicalPolicyRule,
  firewallResource,
  policyResource,
  policyRuleChild,
  type FirewallJsonIn,
  type PolicyRuleJsonIn,
} from '../../../providers/gcp/canonical.js';
import { evaluateGcp } from '../../../providers/gcp/evaluate.js';
import { toProviderState } from '../../../providers/gcp/state.js';
import type { SegmentSpec, TargetSpec } from '../../../src/compile/types.js';
import type { ProviderState, Resource } from '../../../src/plan/types.js';
import type { EvaluateOptions, NativeEnd, NativeProbe } from '../../../src/reach/native.js';
import { pos, tcp } from '../../helpers/rulesets.js';

const FIX = new URL('../../fixtures/vendor/gcp/', import.meta.url);
const SA = 'service-12340002@compute-system.iam.gserviceaccount.com';
const target: TargetSpec & { kind: 'gcp' } = {
  kind: 'gcp',
  name: 'gcp-t',
  pos: pos(),
  gcp: { project: 'gcpdiag-fw-policy-aaaa', network: 'default', firewallPolicy: 'pol', internalRanges: ['10.0.0.0/8'] },
};
const segments: SegmentSpec[] = [
  { name: 'web', pos: pos() },
  { name: 'gke', pos: pos(), gcp: { serviceAccount: SA } },
];
const S = (segment: string, address = '10.10.0.0/32'): NativeEnd => ({ kind: 'segment', segment, address });
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

describe('GCP evaluator on the gcpdiag getEffectiveFirewalls example (VPC rules of network default)', () => {
  const effective = JSON.parse(
    readFileSync(new URL('gcpdiag-fw-policy.networks.getEffectiveFirewalls.default.json', FIX), 'utf8'),
  ) as { firewalls: FirewallJsonIn[] };
  // None of these rules is the model's: read keeps them out of resources and carries them when asked.
  const plain = toProviderState(target, { firewalls: effective.firewalls, policyRules: [] }, 'snapshot', 'm');
  const full = toProviderState(target, { firewalls: effective.firewalls, policyRules: [] }, 'snapshot', 'm', true);
  const ev = evaluateGcp(target, full, { model: 'm', segments });
  const decided = (p: NativeProbe) =>
    ev(p)
      .rules.map((r) => `${r.rule} ${r.action}`)
      .join(', ');

  it('read: unowned rules only in `unowned`, resources and fingerprint unchanged', () => {
    expect(plain.unowned).toBeUndefined();
    expect(full.resources).toEqual(plain.resources);
    expect(full.fingerprint).toBe(plain.fingerprint);
    expect(full.unowned!.filter((r) => r.type === 'gcp_firewall')).toHaveLength(effective.firewalls.length);
  });

  it('the lowest priority number wins among matching rules', () => {
    // 10.100.0.5 on tcp/1001: the deny fw-test-800 (800) beats the allow fw-test-900 (900, 1000-2000).
    expect(decided(probe(X('10.100.0.5/32'), S('web'), tcp(1001)))).toBe('fw-test-800 deny');
    expect(decided(probe(X('10.100.0.5/32'), S('web'), tcp(1500)))).toBe('fw-test-900 allow');
    // 1006 from 10.100.0.5: fw-test-900 (900) allows before the deny fw-test-950 (950); from elsewhere the deny decides.
    expect(decided(probe(X('10.100.0.5/32'), S('web'), tcp(1006)))).toBe('fw-test-900 allow');
    expect(decided(probe(X('8.8.8.8/32'), S('web'), tcp(1006)))).toBe('fw-test-950 deny');
    expect(decided(probe(X('8.8.8.8/32'), S('web'), tcp(22)))).toBe('default-allow-ssh allow');
    expect(ev(probe(X('8.8.8.8/32'), S('web'), tcp(22))).rules[0]).toMatchObject({ owned: false, priority: 65534 });
  });

  it('implied rules: ingress nothing else matches is denied, egress is allowed', () => {
    expect(decided(probe(X('8.8.8.8/32'), S('web'), tcp(23)))).toBe('implied-deny-ingress deny');
    expect(decided(probe(S('web'), X('8.8.8.8/32'), tcp(23)))).toBe('implied-allow-egress allow');
  });

  it('targets and sources by service account and tag', () => {
    // fw-test-902 targets the service account: only the gke segment's instances.
    expect(decided(probe(X('8.8.8.8/32'), S('gke'), tcp(4001)))).toBe('fw-test-902 allow');
    expect(decided(probe(X('8.8.8.8/32'), S('web'), tcp(4001)))).toBe('implied-deny-ingress deny');
    // fw-test-901 admits sources running as the service account, wherever they are.
    expect(decided(probe(S('gke'), S('web'), tcp(4000)))).toBe('implied-allow-egress allow, fw-test-901 allow');
    expect(decided(probe(S('web'), S('web'), tcp(4000)))).toBe('implied-deny-ingress deny');
    // fw-test-903 targets tag `bar`, which no segment carries.
    expect(decided(probe(X('8.8.8.8/32'), S('web'), tcp(1234)))).toBe('implied-deny-ingress deny');
  });
});

describe('GCP evaluator: policy order on the gcpdiag example rules', () => {
  // The example's policies are hierarchical (not read by Bulkhead); their rules have the shape of
  // network firewall policy rules, so here they stand in for the target's global network policy.
  const effective = JSON.parse(
    readFileSync(new URL('gcpdiag-fw-policy.networks.getEffectiveFirewalls.default.json', FIX), 'utf8'),
  ) as {
    firewalls: FirewallJsonIn[];
    firewallPolicys: { shortName?: string; rules: PolicyRuleJsonIn[] }[];
  };
  const parent = effective.firewallPolicys.find((p) => p.shortName === 'parent-folder-policy')!;
  const state = toProviderState(
    target,
    { firewalls: effective.firewalls, policyRules: parent.rules },
    'snapshot',
    'm',
    true,
  );
  const decided = (order: EvaluateOptions['policyEnforcementOrder'], p: NativeProbe) =>
    evaluateGcp(target, state, { model: 'm', segments, options: { policyEnforcementOrder: order } })(p)
      .rules.map((r) => `${r.object}:${r.rule} ${r.action}`)
      .join(', ');

  it('policy first: its allow decides, goto_next hands the rest to the VPC rules, then the implied deny', () => {
    expect(decided('BEFORE_CLASSIC_FIREWALL', probe(X('10.101.0.1/32'), S('web'), tcp(2001)))).toBe('pol:9000 allow');
    // The goto_next rules at 2147483645 (::/0) and 2147483647 (0.0.0.0/0) pass on: the VPC rules, then the implied rule.
    expect(decided('BEFORE_CLASSIC_FIREWALL', probe(X('10.100.0.5/32'), S('web'), tcp(1500)))).toBe(
      'fw-test-900:fw-test-900 allow',
    );
    expect(decided('BEFORE_CLASSIC_FIREWALL', probe(X('10.101.0.1/32'), S('web'), tcp(1)))).toBe(
      'default:implied-deny-ingress deny',
    );
  });

  it('VPC rules first (GCP default): a matching VPC rule ends the evaluation before the policy', () => {
    // fw-test-900 admits 10.100.0.0/24 on 1000-2000, but not 10.101.0.1: the policy's allow is then reached.
    expect(decided('AFTER_CLASSIC_FIREWALL', probe(X('10.101.0.1/32'), S('web'), tcp(2001)))).toBe('pol:9000 allow');
    // From anywhere on 1006 the VPC deny fw-test-950 decides, whatever the policy says.
    expect(decided('AFTER_CLASSIC_FIREWALL', probe(X('10.101.0.1/32'), S('web'), tcp(1006)))).toBe(
      'fw-test-950:fw-test-950 deny',
    );
    expect(decided('BEFORE_CLASSIC_FIREWALL', probe(X('10.101.0.1/32'), S('web'), tcp(1006)))).toBe(
      'fw-test-950:fw-test-950 deny',
    );
  });
});

function fw(body: FirewallJsonIn): Resource {
  return firewallResource('gcp-t', canonicalFirewall({ network: 'default', ...body }, target.gcp.project));
}
const state = (resources: Resource[]): ProviderState => ({
  target: 'gcp-t',
  source: 'snapshot',
  resources,
  fingerprint: '',
  diagnostics: [],
});

describe('GCP evaluator: hand-checked cases', () => {
  it('a deny beats an allow at the same priority', () => {
    const rules = [
      fw({
        name: 'a-allow',
        priority: 900,
        sourceRanges: ['0.0.0.0/0'],
        allowed: [{ IPProtocol: 'tcp', ports: ['443'] }],
      }),
      fw({ name: 'z-deny', priority: 900, sourceRanges: ['8.8.8.0/24'], denied: [{ IPProtocol: 'tcp' }] }),
    ];
    const ev = evaluateGcp(target, state(rules), { model: 'm', segments });
    expect(ev(probe(X('8.8.8.8/32'), S('web'))).rules[0]!.rule).toBe('z-deny');
    expect(ev(probe(X('9.9.9.9/32'), S('web'))).rules[0]!.rule).toBe('a-allow');
    // A disabled deny does not count, and a rule of another network is not this network's.
    const off = evaluateGcp(
      target,
      state([
        rules[0]!,
        fw({
          name: 'z-deny',
          priority: 900,
          sourceRanges: ['8.8.8.0/24'],
          denied: [{ IPProtocol: 'tcp' }],
          disabled: true,
        }),
        fw({
          name: 'other-net',
          network: 'other',
          priority: 1,
          sourceRanges: ['0.0.0.0/0'],
          denied: [{ IPProtocol: 'all' }],
        }),
      ]),
      { model: 'm', segments },
    );
    expect(off(probe(X('8.8.8.8/32'), S('web'))).rules[0]!.rule).toBe('a-allow');
  });

  it('the network firewall policy: its place in the evaluation order, goto_next, destFqdns', () => {
    const policyRule = (r: PolicyRuleJsonIn) => policyRuleChild(canonicalPolicyRule(r, target.gcp.project));
    const resources = [
      fw({
        name: 'm-deny-all-egress',
        direction: 'EGRESS',
        priority: 65000,
        destinationRanges: ['0.0.0.0/0'],
        denied: [{ IPProtocol: 'all' }],
      }),
      fw({
        name: 'allow-8443-out',
        direction: 'EGRESS',
        priority: 1000,
        destinationRanges: ['0.0.0.0/0'],
        allowed: [{ IPProtocol: 'tcp', ports: ['8443'] }],
      }),
      policyResource('gcp-t', 'pol', [
        policyRule({
          priority: 10,
          direction: 'EGRESS',
          action: 'allow',
          match: { destFqdns: ['api.example.com'], layer4Configs: [{ ipProtocol: 'tcp', ports: ['443'] }] },
        }),
        policyRule({
          priority: 20,
          direction: 'EGRESS',
          action: 'goto_next',
          match: { destIpRanges: ['0.0.0.0/0'], layer4Configs: [{ ipProtocol: 'tcp', ports: ['8443'] }] },
        }),
        policyRule({
          priority: 30,
          direction: 'EGRESS',
          action: 'deny',
          match: { destIpRanges: ['0.0.0.0/0'], layer4Configs: [{ ipProtocol: 'all' }] },
        }),
      ]),
    ];
    const apis = { kind: 'external' as const, entity: 'apis', fqdns: ['api.example.com'] };
    const at = (options: EvaluateOptions) => evaluateGcp(target, state(resources), { model: 'm', segments, options });
    // GCP's default order: VPC rules first, so the deny-all egress at 65000 wins over the FQDN allow.
    const vpcFirst = at({});
    expect(vpcFirst(probe(S('web'), apis)).rules[0]!.rule).toBe('m-deny-all-egress');
    expect(vpcFirst(probe(S('web'), apis)).notes![0]).toContain('AFTER_CLASSIC_FIREWALL');
    // Policy first: the FQDN rule allows by name; goto_next hands 8443 on to the VPC rules; the rest is denied by the policy.
    const policyFirst = at({ policyEnforcementOrder: 'BEFORE_CLASSIC_FIREWALL' });
    expect(policyFirst(probe(S('web'), apis))).toMatchObject({
      verdict: 'allow',
      rules: [{ object: 'pol', rule: '10' }],
    });
    expect(policyFirst(probe(S('web'), X('8.8.8.8/32'), tcp(8443))).rules[0]!.rule).toBe('allow-8443-out');
    expect(policyFirst(probe(S('web'), X('8.8.8.8/32'), tcp(443))).rules[0]).toMatchObject({
      object: 'pol',
      rule: '30',
      action: 'deny',
    });
    // An address the FQDN resolves to meets the FQDN rule when the resolution is known.
    const resolved = new Map([['api.example.com', { ipv4: ['93.184.216.34/32'], ipv6: [] }]]);
    const withDns = evaluateGcp(target, state(resources), {
      model: 'm',
      segments,
      options: { policyEnforcementOrder: 'BEFORE_CLASSIC_FIREWALL' },
      resolved,
    });
    expect(withDns(probe(S('web'), X('93.184.216.34/32'))).rules[0]).toMatchObject({ object: 'pol', rule: '10' });
  });
});

describe('GCP render: an entity narrowed to one family by an ICMP flow keeps its other family (found by the reach property test)', () => {
  it('renders the IPv4 rule of `web -> office [tcp, icmpv6]` as well as the IPv6 one', async () => {
    const { compileFile } = await import('../../../src/compile/index.js');
    const { renderGcp } = await import('../../../providers/gcp/render.js');
    const { writeFiles } = await import('../../model/write-model.js');
    const dir = writeFiles({
      'm.yaml': [
        'bulkhead: 1',
        'name: prop',
        'targets:',
        '  gcp-t: { gcp: { project: prop-proj, network: net } }',
        'entities:',
        '  office: { cidrs: ["203.0.113.0/24", "2001:db8:100::/48"] }',
        'segments:',
        '  web:',
        '    egress:',
        '      - { to: office, ports: [tcp, icmpv6] }',
        '',
      ].join('\n'),
    });
    const r = await compileFile('m.yaml', { cwd: dir });
    if (!r.ok) throw new Error(JSON.stringify(r.diagnostics));
    // Both intents name the entity: tcp with both families, icmpv6 with its IPv6 half only.
    expect(
      r.value.rules.map((i) => (i.peer.kind === 'cidrs' ? `${i.peer.ipv4.length}+${i.peer.ipv6.length}` : '')).sort(),
    ).toEqual(['0+1', '1+1']);
    const out = renderGcp(r.value, r.value.targets[0]!).resources.filter((x) =>
      x.name.startsWith('prop-web-out-office'),
    );
    const ranges = out.map((x) => (x.children[0]!.attributes['destinationRanges'] as string[]).join(','));
    expect(ranges.sort()).toEqual(['2001:db8:100::/48', '203.0.113.0/24']);
    const v4 = out.find((x) => (x.children[0]!.attributes['destinationRanges'] as string[])[0] === '203.0.113.0/24')!;
    expect(v4.children[0]!.attributes['rules']).toEqual([{ protocol: 'tcp', ports: [] }]);
  });
});
