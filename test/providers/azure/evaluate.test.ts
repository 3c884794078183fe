import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ruleFromWire, type WireRule } from '../../../providers/azure/canonical.js';
import { DEFAULT_RULES, evaluateAzure } from '../../../providers/azure/evaluate.js';
import { hoist } from '../../../providers/azure/snapshot.js';
import { stateFromRaw, type WireNsg } from '../../../providers/azure/state.js';
import { AZURE_TYPES, renderAzure } from '../../../providers/azure/render.js';
import type { SegmentSpec } from '../../../src/compile/types.js';
import type { ProviderState, Resource } from '../../../src/plan/types.js';
import { renderedState } from '../../../src/reach/effective.js';
import type { NativeEnd, NativeProbe } from '../../../src/reach/native.js';
import { azureTarget, flow, internet, pos, ruleSet, seg, tcp } from '../../helpers/rulesets.js';

const FIX = new URL('../../fixtures/vendor/azure/examples/', import.meta.url);
const target = azureTarget('az-t'); // resource group rg, NSG nsg, default internal ranges
const segments = (names: string[]): SegmentSpec[] => names.map((name) => ({ name, pos: pos() }));
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

/** An NSG resource with rules given in the wire shape (`az network nsg show`). */
function nsg(rules: WireRule[]): Resource {
  return {
    address: `az-t.${AZURE_TYPES.nsg}.nsg`,
    target: 'az-t',
    type: AZURE_TYPES.nsg,
    name: 'nsg',
    attributes: {},
    children: rules.map((r) => ({ key: r.name!, summary: r.name!, attributes: ruleFromWire(r) })),
  };
}
const state = (resources: Resource[], unowned?: Resource[]): ProviderState => ({
  target: 'az-t',
  source: 'snapshot',
  resources,
  fingerprint: '',
  diagnostics: [],
  ...(unowned ? { unowned } : {}),
});
const asg = (name: string) => ({
  id: `/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/applicationSecurityGroups/${name}`,
});
const wire = (r: Partial<WireRule> & Pick<WireRule, 'name' | 'priority' | 'direction' | 'access'>): WireRule => ({
  protocol: 'Tcp',
  sourcePortRange: '*',
  destinationPortRange: '*',
  sourceAddressPrefix: '*',
  destinationAddressPrefix: '*',
  ...r,
});

describe('Azure evaluator: default rules', () => {
  it('are exactly the default security rules the NSG API returns (vendor example NetworkSecurityGroupGet)', () => {
    const body = JSON.parse(readFileSync(new URL('2026-07-01.NetworkSecurityGroupGet.json', FIX), 'utf8')).responses[
      '200'
    ].body;
    const defaults = (hoist<WireNsg>(body)['defaultSecurityRules'] as unknown[]).map((r) => hoist<WireRule>(r));
    expect(DEFAULT_RULES.map(({ name, ...a }) => ({ name: name.toLowerCase(), ...a, description: '' }))).toEqual(
      defaults.map((r) => ({ name: r.name!.toLowerCase(), ...ruleFromWire(r), description: '' })),
    );
  });

  it('with no rule of its own, an NSG allows VNet to VNet, load balancer probes, Internet egress, and nothing from the Internet', () => {
    const ev = evaluateAzure(target, state([nsg([])]), { model: 'm', segments: segments(['web', 'app']) });
    const one = (p: NativeProbe) =>
      ev(p)
        .rules.map((r) => `${r.rule} ${r.kind}`)
        .join(', ');
    expect(ev(probe(S('web'), S('app'), tcp(5432))).verdict).toBe('allow');
    expect(one(probe(S('web'), S('app'), tcp(5432)))).toBe('AllowVnetOutBound default, AllowVnetInBound default');
    expect(one(probe(X('10.20.0.5/32'), S('app'), tcp(22)))).toBe('AllowVnetInBound default');
    expect(one(probe(X('168.63.129.16/32'), S('app'), tcp(80)))).toBe('AllowAzureLoadBalancerInBound default');
    expect(one(probe(X('8.8.8.8/32'), S('app'), tcp(80)))).toBe('DenyAllInBound default');
    expect(one(probe(S('app'), X('8.8.8.8/32')))).toBe('AllowInternetOutBound default');
    // An FQDN whose addresses are unknown is some Internet address: the default egress allows it.
    expect(one(probe(S('app'), { kind: 'external', entity: 'apis', fqdns: ['api.example.com'] }))).toBe(
      'AllowInternetOutBound default',
    );
  });
});

describe('Azure evaluator: priorities, service tags, ASGs', () => {
  const rules = [
    wire({
      name: 'deny-ssh-internet',
      priority: 100,
      direction: 'Inbound',
      access: 'Deny',
      destinationPortRange: '22',
      sourceAddressPrefix: 'Internet',
    }),
    wire({ name: 'allow-ssh-all', priority: 200, direction: 'Inbound', access: 'Allow', destinationPortRange: '22' }),
    wire({
      name: 'web-to-app',
      priority: 300,
      direction: 'Inbound',
      access: 'Allow',
      destinationPortRange: '8080',
      sourceAddressPrefix: undefined,
      sourceApplicationSecurityGroups: [asg('m-web')],
      destinationAddressPrefix: undefined,
      destinationApplicationSecurityGroups: [asg('m-app')],
    }),
    wire({
      name: 'storage-out',
      priority: 400,
      direction: 'Outbound',
      access: 'Allow',
      destinationPortRange: '443',
      destinationAddressPrefix: 'Storage.WestEurope',
    }),
    wire({ name: 'deny-all-in', priority: 4096, direction: 'Inbound', access: 'Deny', protocol: '*' }),
    wire({ name: 'deny-all-out', priority: 4096, direction: 'Outbound', access: 'Deny', protocol: '*' }),
  ];
  const ev = evaluateAzure(target, state([nsg(rules)]), { model: 'm', segments: segments(['web', 'app', 'db']) });
  const winner = (p: NativeProbe) =>
    ev(p)
      .rules.map((r) => r.rule)
      .join(', ');

  it('takes the lowest priority number first: an Internet deny at 100 beats an allow-all at 200, which still admits the VNet', () => {
    expect(winner(probe(X('8.8.8.8/32'), S('app'), tcp(22)))).toBe('deny-ssh-internet');
    expect(winner(probe(X('10.1.1.1/32'), S('app'), tcp(22)))).toBe('allow-ssh-all');
    // A segment instance is in VirtualNetwork, never Internet; the Internet tag is everything else.
    expect(ev(probe(S('web'), S('app'), tcp(22))).verdict).toBe('deny'); // out: deny-all-out at 4096
    expect(winner(probe(S('web'), S('app'), tcp(22)))).toBe('deny-all-out');
  });

  it('matches ASGs by membership: only web instances reach app on 8080', () => {
    const evIn = evaluateAzure(
      target,
      state([
        nsg([
          ...rules,
          wire({
            name: 'out-all',
            priority: 500,
            direction: 'Outbound',
            access: 'Allow',
            protocol: '*',
            destinationAddressPrefix: 'VirtualNetwork',
          }),
        ]),
      ]),
      { model: 'm', segments: segments(['web', 'app', 'db']) },
    );
    expect(evIn(probe(S('web'), S('app'), tcp(8080))).rules.map((r) => r.rule)).toEqual(['out-all', 'web-to-app']);
    expect(evIn(probe(S('db'), S('app'), tcp(8080))).rules.map((r) => r.rule)).toEqual(['deny-all-in']);
    expect(evIn(probe(X('10.0.0.9/32'), S('app'), tcp(8080))).verdict).toBe('deny');
  });

  it('matches other service tags by the entity bound to them', () => {
    const storage = {
      kind: 'external' as const,
      entity: 'object-storage',
      binding: { serviceTag: 'Storage.WestEurope', ipv4: [], ipv6: [] },
    };
    expect(winner(probe(S('app'), storage))).toBe('storage-out');
    expect(winner(probe(S('app'), X('52.239.0.1/32')))).toBe('deny-all-out');
  });
});

describe('Azure evaluator on read state: unowned rules count, and plan never sees them', () => {
  const body = JSON.parse(readFileSync(new URL('2026-07-01.NetworkSecurityGroupGet.json', FIX), 'utf8')).responses[
    '200'
  ].body;
  const raw = {
    nsg: {
      ...hoist<WireNsg>(body),
      name: 'nsg',
      securityRules: (hoist<WireNsg>(body).securityRules ?? []).map((r) => hoist<WireRule>(r)),
    },
    asgs: [],
    rcg: null,
    policyFound: true,
  };
  it('carries the example rule1 (allow * port 80 inbound at 130) as unowned, outside resources', () => {
    const plain = stateFromRaw(raw, target, 'snapshot', { model: 'm' });
    const full = stateFromRaw(raw, target, 'snapshot', { model: 'm', unowned: true });
    expect(plain.unowned).toBeUndefined();
    expect(full.resources).toEqual(plain.resources);
    expect(full.fingerprint).toBe(plain.fingerprint);
    expect(full.unowned!.flatMap((r) => r.children.map((c) => c.key))).toEqual(['rule1']);
    const ev = evaluateAzure(target, full, { model: 'm', segments: segments(['web']) });
    const v = ev(probe(X('8.8.8.8/32'), S('web'), tcp(80)));
    expect(v).toMatchObject({
      verdict: 'allow',
      rules: [{ rule: 'rule1', owned: false, kind: 'rule', priority: 130 }],
    });
    expect(ev(probe(X('8.8.8.8/32'), S('web'), tcp(81))).rules[0]).toMatchObject({
      rule: 'DenyAllInBound',
      kind: 'default',
    });
    // Without the unowned rules the same probe is denied: the evaluator really uses them.
    expect(
      evaluateAzure(target, plain, { model: 'm', segments: segments(['web']) })(
        probe(X('8.8.8.8/32'), S('web'), tcp(80)),
      ).verdict,
    ).toBe('deny');
  });
});

describe('Azure evaluator on the render', () => {
  it('the deny-all pair at 4096 closes what Azure defaults would open; internet allows use the Internet tag', () => {
    const rs = ruleSet({
      name: 'm',
      segments: ['web', 'db'],
      targets: [target],
      rules: [...flow(internet(), seg('web'), tcp(443)), ...flow(seg('web'), seg('db'), tcp(5432))],
    });
    const ev = evaluateAzure(target, renderedState(target, renderAzure(rs, target, { resolved: new Map() })), {
      model: 'm',
      segments: rs.segments,
    });
    expect(ev(probe(X('8.8.8.8/32'), S('web'))).verdict).toBe('allow');
    expect(ev(probe(X('10.9.9.9/32'), S('web'))).verdict).toBe('deny');
    expect(ev(probe(S('web'), S('db'), tcp(5432))).verdict).toBe('allow');
    expect(ev(probe(S('db'), S('web'), tcp(5432))).rules.map((r) => r.rule)).toEqual([
      'm-deny-all-out',
      'm-deny-all-in',
    ]);
    expect(ev(probe(S('web'), X('8.8.8.8/32'))).rules[0]!.rule).toBe('m-deny-all-out');
    expect(ev(probe(X('168.63.129.16/32'), S('db'), tcp(80))).rules[0]!.rule).toBe('m-allow-azure-lb-in');
  });
});
