import { describe, expect, it } from 'vitest';
import { compileFile } from '../../src/compile/index.js';
import type { RuleSet } from '../../src/compile/types.js';
import { modelVerdict, type ModelVerdict } from '../../src/reach/model-verdict.js';
import { parseProbeEndpoint, parseProbeService, type ProbeEndpoint } from '../../src/reach/probe.js';
import { writeFiles } from '../model/write-model.js';
import { exampleLine } from '../helpers/fixtures.js';
import { flow, internet, cidrs, ruleSet, seg, tcp } from '../helpers/rulesets.js';

/** The line of a segment's rule in the shop example (found, so editing the example above it does not break the test). */
const lineOf = (prefix: string) => exampleLine('shop.yaml', prefix);

const repo = new URL('../../', import.meta.url).pathname;

async function compiled(path: string, cwd = repo): Promise<RuleSet> {
  const r = await compileFile(path, { cwd });
  if (!r.ok) throw new Error(JSON.stringify(r.diagnostics));
  return r.value;
}

const S = (name: string): ProbeEndpoint => ({ kind: 'segment', name });
const E = (name: string): ProbeEndpoint => ({ kind: 'entity', name });
const A = (address: string): ProbeEndpoint => ({ kind: 'address', address });
const port = (text: string) => {
  const p = parseProbeService(text);
  if (!p.ok) throw new Error(p.message);
  return p.service;
};

function where(v: ModelVerdict): string {
  if (v.verdict === 'allow')
    return `allow ${v.rule.segment} ${v.rule.direction} ${v.rule.peer} ${v.rule.service} @${v.rule.pos.file}:${v.rule.pos.line}`;
  if (v.reason === 'guardrail')
    return `deny guardrail ${v.guardrail.name} @${v.guardrail.pos.file}:${v.guardrail.pos.line}`;
  return `deny ${v.reason}`;
}

describe('modelVerdict on the shop model (policies/shop.yaml)', () => {
  it('names the rule that allows each written flow, with its file:line', async () => {
    const rs = await compiled('policies/shop.yaml');
    expect(where(modelVerdict(rs, { source: E('internet'), destination: S('lb'), service: port('tcp/443') }))).toBe(
      `allow lb ingress internet tcp/443 @policies/shop.yaml:${lineOf('  lb:')}`,
    );
    expect(where(modelVerdict(rs, { source: S('lb'), destination: S('web'), service: port('tcp/8080') }))).toBe(
      `allow web ingress lb tcp/8080 @policies/shop.yaml:${lineOf('  web:')}`,
    );
    // A tier reference: app's ingress from tier:frontend, port 9005 inside 9000-9010.
    expect(where(modelVerdict(rs, { source: S('web'), destination: S('app'), service: port('tcp/9005') }))).toBe(
      `allow app ingress web tcp/9000-9010 @policies/shop.yaml:${lineOf('    ingress: [{ from: tier:frontend')}`,
    );
    expect(where(modelVerdict(rs, { source: S('app'), destination: S('db'), service: port('tcp/5432') }))).toBe(
      `allow db ingress app tcp/5432 @policies/shop.yaml:${lineOf('  db:')}`,
    );
    expect(
      where(modelVerdict(rs, { source: S('app'), destination: E('payment-apis'), service: port('tcp/443') })),
    ).toBe(`allow app egress payment-apis tcp/443 @policies/shop.yaml:${lineOf('    egress:  [{ to: payment-apis')}`);
    expect(
      where(modelVerdict(rs, { source: S('app'), destination: E('object-storage'), service: port('tcp/443') })),
    ).toBe(`allow app egress object-storage tcp/443 @policies/shop.yaml:${lineOf('    egress:  [{ to: payment-apis')}`);
  });

  it('an allow between segments carries both sides: the receiver ingress first, the sender egress', async () => {
    const rs = await compiled('policies/shop.yaml');
    const v = modelVerdict(rs, { source: S('app'), destination: S('db'), service: port('tcp/5432') });
    expect(v.verdict === 'allow' && v.rules.map((r) => `${r.segment} ${r.direction}`)).toEqual([
      'db ingress',
      'app egress',
    ]);
    expect(v.verdict === 'allow' && v.rule.id).toBe(
      rs.rules.find((r) => r.segment === 'db' && r.direction === 'ingress')!.id,
    );
  });

  it('denies what is not written (default deny), naming the guardrail when one closes it', async () => {
    const rs = await compiled('policies/shop.yaml');
    expect(where(modelVerdict(rs, { source: S('web'), destination: S('db'), service: port('tcp/5432') }))).toBe(
      'deny default-deny',
    );
    expect(where(modelVerdict(rs, { source: S('db'), destination: S('app'), service: port('tcp/5432') }))).toBe(
      'deny default-deny',
    );
    expect(where(modelVerdict(rs, { source: S('lb'), destination: S('web'), service: port('tcp/8081') }))).toBe(
      'deny default-deny',
    );
    expect(where(modelVerdict(rs, { source: S('lb'), destination: S('web'), service: port('udp/8080') }))).toBe(
      'deny default-deny',
    );
    // Egress is default-deny too: lb may not send to the internet.
    expect(where(modelVerdict(rs, { source: S('lb'), destination: E('internet'), service: port('tcp/443') }))).toBe(
      'deny default-deny',
    );
    // The baseline pack's guardrail, at its own file:line.
    expect(where(modelVerdict(rs, { source: E('internet'), destination: S('lb'), service: port('tcp/22') }))).toBe(
      'deny guardrail no-remote-admin-from-internet @policies/guardrails/baseline.yaml:19',
    );
    expect(
      where(modelVerdict(rs, { source: A('198.51.100.7'), destination: S('db'), service: port('tcp/3389') })),
    ).toBe('deny guardrail no-remote-admin-from-internet @policies/guardrails/baseline.yaml:19');
    // From an internal address the internet guardrail does not apply: it is just not allowed.
    expect(where(modelVerdict(rs, { source: A('10.0.0.9'), destination: S('db'), service: port('tcp/22') }))).toBe(
      'deny default-deny',
    );
  });

  it('an address is admitted by the entities that contain it; internet means outside the internal ranges', async () => {
    const rs = await compiled('policies/shop.yaml');
    expect(where(modelVerdict(rs, { source: A('198.51.100.7'), destination: S('lb'), service: port('tcp/443') }))).toBe(
      `allow lb ingress internet tcp/443 @policies/shop.yaml:${lineOf('  lb:')}`,
    );
    expect(
      where(modelVerdict(rs, { source: A('2001:db8::1'), destination: S('lb'), service: port('tcp/443') })),
    ).toMatch(/^allow/);
    expect(where(modelVerdict(rs, { source: A('10.1.2.3'), destination: S('lb'), service: port('tcp/443') }))).toBe(
      'deny default-deny',
    );
    expect(where(modelVerdict(rs, { source: A('fd00::1'), destination: S('lb'), service: port('tcp/443') }))).toBe(
      'deny default-deny',
    );
    // A public /24 is internet as a whole; a range straddling an internal one is not.
    expect(
      modelVerdict(rs, { source: A('198.51.100.0/24'), destination: S('lb'), service: port('tcp/443') }).verdict,
    ).toBe('allow');
    expect(modelVerdict(rs, { source: A('8.0.0.0/4'), destination: S('lb'), service: port('tcp/443') }).verdict).toBe(
      'deny',
    );
    // The options' internal ranges decide: with only 10/8 internal, 192.168.1.1 is internet.
    expect(modelVerdict(rs, { source: A('192.168.1.1'), destination: S('lb'), service: port('tcp/443') }).verdict).toBe(
      'deny',
    );
    expect(
      modelVerdict(
        rs,
        { source: A('192.168.1.1'), destination: S('lb'), service: port('tcp/443') },
        { internalRanges: ['10.0.0.0/8'] },
      ).verdict,
    ).toBe('allow');
  });

  it('says nothing about traffic between two things outside the model', async () => {
    const rs = await compiled('policies/shop.yaml');
    expect(where(modelVerdict(rs, { source: E('office'), destination: E('internet'), service: port('tcp/443') }))).toBe(
      'deny outside-model',
    );
  });
});

describe('modelVerdict on entity and address details', () => {
  const model = `bulkhead: 1
name: demo
targets:
  aws-prod: { aws: { region: eu-west-1, vpc: vpc-0123456789abcdef0 } }
entities:
  office: { cidrs: [203.0.113.0/24, "2001:db8:100::/48"] }
  vpn: { cidrs: [172.16.5.0/24] }
segments:
  web:
    ingress:
      - { from: office, ports: [tcp/22] }
      - { from: [vpn, internet], ports: [tcp/443] }
      - { from: office, ports: [icmp/8] }
  db:
    ingress: [{ from: web, ports: [tcp/5432] }]
    egress: [{ to: vpn, ports: [udp/514] }]
guardrails:
  - name: no-telnet
    deny: { from: internet, ports: [tcp/23] }
`;
  const dir = writeFiles({ 'm.yaml': model });

  it('an entity is allowed when every address of it is', async () => {
    const rs = await compiled('m.yaml', dir);
    expect(where(modelVerdict(rs, { source: E('office'), destination: S('web'), service: port('tcp/22') }))).toBe(
      'allow web ingress office tcp/22 @m.yaml:11',
    );
    expect(
      modelVerdict(rs, { source: A('203.0.113.77'), destination: S('web'), service: port('tcp/22') }).verdict,
    ).toBe('allow');
    expect(
      modelVerdict(rs, { source: A('2001:db8:100:1::5'), destination: S('web'), service: port('tcp/22') }).verdict,
    ).toBe('allow');
    expect(modelVerdict(rs, { source: A('203.0.114.1'), destination: S('web'), service: port('tcp/22') }).verdict).toBe(
      'deny',
    );
    // office is public: internet's rule covers it too (every block of office is outside the internal ranges).
    expect(where(modelVerdict(rs, { source: E('office'), destination: S('web'), service: port('tcp/443') }))).toBe(
      'allow web ingress internet tcp/443 @m.yaml:12',
    );
    // The internal VPN range is not internet: only its own rule admits it.
    expect(where(modelVerdict(rs, { source: E('vpn'), destination: S('web'), service: port('tcp/443') }))).toBe(
      'allow web ingress vpn tcp/443 @m.yaml:12',
    );
    expect(modelVerdict(rs, { source: A('172.16.5.9'), destination: S('web'), service: port('tcp/443') }).verdict).toBe(
      'allow',
    );
    expect(modelVerdict(rs, { source: A('172.16.6.9'), destination: S('web'), service: port('tcp/443') }).verdict).toBe(
      'deny',
    );
    // The whole internet may reach web on 443, but not on 22 (only office may).
    expect(modelVerdict(rs, { source: E('internet'), destination: S('web'), service: port('tcp/443') }).verdict).toBe(
      'allow',
    );
    expect(modelVerdict(rs, { source: E('internet'), destination: S('web'), service: port('tcp/22') }).verdict).toBe(
      'deny',
    );
  });

  it('egress to an entity, ICMP by family, guardrails by overlap', async () => {
    const rs = await compiled('m.yaml', dir);
    expect(where(modelVerdict(rs, { source: S('db'), destination: E('vpn'), service: port('udp/514') }))).toBe(
      'allow db egress vpn udp/514 @m.yaml:16',
    );
    expect(modelVerdict(rs, { source: S('db'), destination: A('172.16.5.1'), service: port('udp/514') }).verdict).toBe(
      'allow',
    );
    expect(modelVerdict(rs, { source: S('db'), destination: A('172.16.5.1'), service: port('tcp/514') }).verdict).toBe(
      'deny',
    );
    // icmp/8 from office: its IPv4 half only.
    expect(where(modelVerdict(rs, { source: E('office'), destination: S('web'), service: port('icmp/8') }))).toBe(
      'allow web ingress office icmp/8 @m.yaml:13',
    );
    expect(
      modelVerdict(rs, { source: A('203.0.113.1'), destination: S('web'), service: port('icmp/8/0') }).verdict,
    ).toBe('allow');
    expect(modelVerdict(rs, { source: A('203.0.113.1'), destination: S('web'), service: port('icmp/0') }).verdict).toBe(
      'deny',
    );
    // A probe wider than the rule is not admitted: all of ICMP, all of tcp.
    expect(modelVerdict(rs, { source: A('203.0.113.1'), destination: S('web'), service: port('icmp') }).verdict).toBe(
      'deny',
    );
    expect(modelVerdict(rs, { source: S('web'), destination: S('db'), service: port('tcp') }).verdict).toBe('deny');
    // Telnet from any public address or from office (public) is closed by the guardrail, not just not allowed.
    expect(where(modelVerdict(rs, { source: E('office'), destination: S('db'), service: port('tcp/23') }))).toBe(
      'deny guardrail no-telnet @m.yaml:18',
    );
    expect(where(modelVerdict(rs, { source: E('vpn'), destination: S('db'), service: port('tcp/23') }))).toBe(
      'deny default-deny',
    );
    expect(where(modelVerdict(rs, { source: S('web'), destination: S('db'), service: port('tcp/23') }))).toBe(
      'deny default-deny',
    );
  });
});

describe('modelVerdict on hand-built RuleSets', () => {
  it('a pair of segments needs both sides: one half alone is default deny, saying which half exists', () => {
    const [ingress, egress] = flow(seg('a'), seg('b'), tcp(80));
    const rs = ruleSet({ segments: ['a', 'b'], rules: [ingress!] });
    const v = modelVerdict(rs, { source: S('a'), destination: S('b'), service: tcp(80) });
    expect(v).toMatchObject({
      verdict: 'deny',
      reason: 'default-deny',
      detail: 'b admits it, but no egress rule of a sends it',
    });
    const both = ruleSet({ segments: ['a', 'b'], rules: [ingress!, egress!] });
    expect(modelVerdict(both, { source: S('a'), destination: S('b'), service: tcp(80) }).verdict).toBe('allow');
  });

  it('indexes each RuleSet once and stays exact across many probes (no state leaks between RuleSets)', () => {
    const one = ruleSet({ segments: ['a'], rules: flow(internet(), seg('a'), tcp(443)) });
    const two = ruleSet({ segments: ['a'], rules: flow(cidrs('corp', ['10.0.0.0/8']), seg('a'), tcp(443)) });
    for (let i = 0; i < 3; i++) {
      expect(modelVerdict(one, { source: A('8.8.8.8'), destination: S('a'), service: tcp(443) }).verdict).toBe('allow');
      expect(modelVerdict(two, { source: A('8.8.8.8'), destination: S('a'), service: tcp(443) }).verdict).toBe('deny');
      expect(modelVerdict(two, { source: A('10.9.9.9'), destination: S('a'), service: tcp(443) }).verdict).toBe(
        'allow',
      );
    }
  });

  it('an unknown segment is denied, never allowed', () => {
    const rs = ruleSet({ segments: ['a', 'b'], rules: flow(seg('a'), seg('b'), tcp(80)) });
    expect(modelVerdict(rs, { source: S('zz'), destination: S('b'), service: tcp(80) })).toMatchObject({
      verdict: 'deny',
      reason: 'default-deny',
    });
  });
});

describe('parseProbeEndpoint / parseProbeService', () => {
  it('reads segments, entities, internet and addresses; suggests a near name', async () => {
    const rs = await compiled('policies/shop.yaml');
    expect(parseProbeEndpoint('web', rs)).toEqual({ ok: true, endpoint: S('web') });
    expect(parseProbeEndpoint('office', rs)).toEqual({ ok: true, endpoint: E('office') });
    expect(parseProbeEndpoint('internet', rs)).toEqual({ ok: true, endpoint: E('internet') });
    expect(parseProbeEndpoint('10.0.0.1', rs)).toEqual({ ok: true, endpoint: A('10.0.0.1/32') });
    expect(parseProbeEndpoint('2001:DB8::1', rs)).toEqual({ ok: true, endpoint: A('2001:db8::1/128') });
    expect(parseProbeEndpoint('wbe', rs)).toEqual({
      ok: false,
      message: '"wbe" is not a segment, an entity, internet or an address; did you mean "web"?',
    });
    expect(parseProbeEndpoint('10.0.0.1/8', rs).ok).toBe(false);
    expect(parseProbeEndpoint('010.0.0.1', rs).ok).toBe(false);
    expect(parseProbeService('tcp/443')).toEqual({ ok: true, service: tcp(443) });
    expect(parseProbeService('https').ok).toBe(false);
    expect(parseProbeService('tcp/70000').ok).toBe(false);
  });
});
