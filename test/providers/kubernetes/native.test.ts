import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import type { PortMatch, SegmentSpec } from '../../../src/compile/types.js';
import type { ProviderState } from '../../../src/plan/types.js';
import type { NativeEnd } from '../../../src/reach/native.js';
import { canonicalNetworkPolicy, type NetworkPolicyJson } from '../../../providers/kubernetes/canonical.js';
import { evaluateKubernetes } from '../../../providers/kubernetes/native.js';
import { FIXTURES } from '../../helpers/fixtures.js';
import { kubeTarget } from '../../helpers/kubernetes/targets.js';

const example = (name: string) =>
  parse(readFileSync(join(FIXTURES, 'kubernetes/examples', name), 'utf8')) as NetworkPolicyJson;
const target = kubeTarget('k8s-t', { namespace: 'default' });
const segments = [
  { name: 'db', kubernetes: { podSelector: { role: 'db' } } },
  { name: 'frontend', kubernetes: { podSelector: { role: 'frontend' } } },
  { name: 'other', kubernetes: { namespace: 'other', podSelector: { role: 'frontend' } } },
] as unknown as SegmentSpec[];
const seg = (segment: string): NativeEnd => ({ kind: 'segment', segment, address: '10.244.0.9' });
const ext = (cidr: string): NativeEnd => ({ kind: 'external', cidr });
const tcp = (from: number, to = from): PortMatch => ({ kind: 'ports', protocol: 'tcp', from, to });

/** The documentation's test-network-policy as another team's (unowned) policy. */
function evaluator() {
  const state: ProviderState = {
    target: 'k8s-t',
    source: 'snapshot',
    resources: [],
    unowned: [canonicalNetworkPolicy('k8s-t', example('networkpolicy.yaml'))],
    fingerprint: '',
    diagnostics: [],
  };
  return evaluateKubernetes(target, state, { model: 'm', segments });
}

describe('Kubernetes Provider.evaluate (native probes)', () => {
  it('decides on unowned policies and names them; pods not selected are not isolated', () => {
    const ev = evaluator();
    const v = ev({ source: seg('frontend'), destination: seg('db'), service: tcp(6379) });
    expect(v.verdict).toBe('allow');
    expect(v.rules.map((r) => [r.direction, r.object, r.owned, r.kind])).toEqual([
      ['egress', 'default', false, 'default'],
      ['ingress', 'default/test-network-policy', false, 'rule'],
    ]);
    // A podSelector alone means the policy's own namespace.
    expect(ev({ source: seg('other'), destination: seg('db'), service: tcp(6379) }).verdict).toBe('deny');
    const denied = ev({ source: seg('frontend'), destination: seg('db'), service: tcp(6380) });
    expect(denied).toMatchObject({
      verdict: 'deny',
      rules: [{ object: 'default/test-network-policy', action: 'deny', direction: 'ingress', owned: false }],
    });
  });

  it('external ends match ipBlocks only, minus except; an allow must cover the whole probe', () => {
    const ev = evaluator();
    expect(ev({ source: ext('172.17.0.7/32'), destination: seg('db'), service: tcp(6379) }).verdict).toBe('allow');
    expect(ev({ source: ext('172.17.1.7/32'), destination: seg('db'), service: tcp(6379) }).verdict).toBe('deny');
    // The /16 contains the excepted /24: not all of it is allowed.
    expect(ev({ source: ext('172.17.0.0/16'), destination: seg('db'), service: tcp(6379) }).verdict).toBe('deny');
    expect(ev({ source: seg('db'), destination: ext('10.0.0.7/32'), service: tcp(5978) }).verdict).toBe('allow');
    expect(ev({ source: seg('db'), destination: ext('10.0.0.7/32'), service: tcp(5000, 6000) }).verdict).toBe('deny');
    expect(ev({ source: seg('db'), destination: ext('10.0.1.7/32'), service: tcp(5978) }).verdict).toBe('deny');
    // NetworkPolicy has no ICMP: an isolated pod refuses it.
    expect(
      ev({
        source: seg('db'),
        destination: ext('10.0.0.7/32'),
        service: { kind: 'icmp', protocol: 'icmp', type: null, code: null },
      }).verdict,
    ).toBe('deny');
    expect(ev.services).toEqual(expect.arrayContaining([tcp(6379), tcp(5978)]));
  });
});
