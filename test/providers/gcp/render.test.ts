import { describe, expect, it } from 'vitest';
import type { GuardrailDeny, RuleSet, TargetSpec } from '../../../src/compile/types.js';
import { FIREWALL_TYPE, firewallSpecOf, POLICY_TYPE, policyRuleSpecOf } from '../../../providers/gcp/canonical.js';
import { MAX_RANGES, MAX_TARGET_TAGS, PRIORITY } from '../../../providers/gcp/limits.js';
import { renderGcp, ruleName } from '../../../providers/gcp/render.js';
import { checkGcpLimits, validateGcp } from '../../../providers/gcp/validate.js';
import { cidrs, flow, fqdns, gcpTarget, internet, pos, ruleSet, seg, shopRules, tcp } from '../../helpers/rulesets.js';

const target = gcpTarget('gcp-test');
const withPolicy: TargetSpec = {
  ...target,
  kind: 'gcp',
  gcp: { ...(target as Extract<TargetSpec, { kind: 'gcp' }>).gcp, firewallPolicy: 'egress' },
};

function firewalls(rules: RuleSet, t: TargetSpec = target) {
  return renderGcp(rules, t)
    .resources.filter((r) => r.type === FIREWALL_TYPE)
    .map(firewallSpecOf);
}

function deny(overrides: Partial<GuardrailDeny> = {}): GuardrailDeny {
  return {
    id: 'd1',
    guardrail: 'no-ssh',
    direction: 'ingress',
    segments: ['app', 'db', 'lb', 'web'],
    allSegments: true,
    peer: { kind: 'any' },
    services: [tcp(22)],
    origins: [{ pos: pos(40, 5), label: 'guardrail no-ssh' }],
    ...overrides,
  };
}

describe('gcp render', () => {
  it('renders the shop: tags per segment, egress to internal ranges, v4/v6 split, deny-all egress', () => {
    const specs = firewalls(shopRules([target]));
    const byName = (p: string) => specs.filter((s) => s.name.startsWith(p));
    // Names: valid RFC 1035, ≤ 63, prefixed, unique.
    for (const s of specs) expect(s.name).toMatch(/^shop-[a-z0-9-]*[a-z0-9]$/);
    expect(specs.every((s) => s.name.length <= 63)).toBe(true);
    expect(new Set(specs.map((s) => s.name)).size).toBe(specs.length);
    // Ingress from internet: one IPv4 and one IPv6 rule.
    const lb = byName('shop-lb-in-internet');
    expect(lb.map((s) => s.sourceRanges)).toEqual([['0.0.0.0/0'], ['::/0']]);
    expect(lb.every((s) => s.targetTags.join() === 'shop-lb' && s.priority === PRIORITY.allow)).toBe(true);
    // Segment to segment: ingress by source tag; the sender's egress goes to the internal ranges.
    expect(byName('shop-web-in-lb')[0]).toMatchObject({
      sourceTags: ['shop-lb'],
      targetTags: ['shop-web'],
      rules: [{ protocol: 'tcp', ports: ['8080'] }],
    });
    expect(byName('shop-lb-out-web')[0]).toMatchObject({
      direction: 'EGRESS',
      destinationRanges: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'],
    });
    // Default-deny egress for every segment of the model, at the lowest precedence.
    const denyAll = byName('shop-deny-all-egress');
    expect(denyAll.map((s) => [s.priority, s.action, s.destinationRanges[0], s.targetTags.length])).toEqual([
      [PRIORITY.denyAllEgress, 'deny', '0.0.0.0/0', 4],
      [PRIORITY.denyAllEgress, 'deny', '::/0', 4],
    ]);
    for (const s of specs) expect(s.description).toContain('[bulkhead:model=shop]');
  });

  it('keeps names stable: adding a flow or changing a port never renames other rules', () => {
    const before = firewalls(shopRules([target])).map((s) => s.name);
    const base = shopRules([target]);
    const more = ruleSet({
      name: 'shop',
      targets: [target],
      segments: ['lb', 'web', 'app', 'db'],
      rules: [...base.rules, ...flow(seg('app'), seg('db'), tcp(6432), 50)],
    });
    const after = firewalls(more).map((s) => s.name);
    expect(after).toEqual(before);
    const rewired = ruleSet({
      name: 'shop',
      targets: [target],
      segments: ['lb', 'web', 'app', 'db'],
      rules: base.rules.map((r) =>
        r.service.kind === 'ports' && r.service.from === 5432 ? { ...r, service: tcp(5433) } : r,
      ),
    });
    expect(firewalls(rewired).map((s) => s.name)).toEqual(before);
  });

  it('truncates long names to 63 characters and keeps them unique', () => {
    const long = 'a-very-long-segment-name-that-goes-on-and-on-and-on';
    const specs = firewalls(
      ruleSet({
        name: 'shop',
        targets: [target],
        segments: [long, `${long}-2`],
        rules: [...flow(seg(long), seg(`${long}-2`), tcp(1))],
      }),
    );
    expect(specs.every((s) => s.name.length <= 63 && /^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(s.name))).toBe(true);
    expect(new Set(specs.map((s) => s.name)).size).toBe(specs.length);
    expect(ruleName('m', ['x'], 'k1')).not.toBe(ruleName('m', ['x'], 'k2'));
  });

  it('keeps names within 63 characters even for a model name near the limit (the head is cut, the hash tail stays)', () => {
    // The old ruleName kept the whole model name and printed 70 characters here.
    const model = `m${'x'.repeat(60)}`;
    const name = ruleName(model, ['web', 'in', 'lb'], 'k');
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(/^[a-z]([-a-z0-9]*[a-z0-9])?-[0-9a-f]{6}$/);
    expect(ruleName(model, ['web', 'in', 'lb'], 'k2')).not.toBe(name);
    // Short names are unchanged: <model>-<readable>-<hash of model and key>.
    expect(ruleName('shop', ['web', 'in', 'lb'], 'k')).toMatch(/^shop-web-in-lb-[0-9a-f]{6}$/);
  });

  it('renders guardrail denies at the lowest priority numbers, split per family and by the target-tag limit', () => {
    const many = Array.from({ length: 80 }, (_, i) => `s${String(i).padStart(2, '0')}`);
    const rules = {
      ...ruleSet({ name: 'shop', targets: [target], segments: many }),
      denies: [deny({ segments: many })],
    };
    const specs = firewalls(rules);
    const denies = specs.filter((s) => s.priority === PRIORITY.guardrailDeny);
    // 80 targets > 70 per rule: two rules per family, together covering every segment.
    expect(denies).toHaveLength(4);
    expect(denies.every((s) => s.targetTags.length <= MAX_TARGET_TAGS && s.action === 'deny')).toBe(true);
    expect(new Set(denies.flatMap((s) => s.targetTags)).size).toBe(80);
    const denyAll = specs.filter((s) => s.priority === PRIORITY.denyAllEgress);
    expect(denyAll).toHaveLength(4);
    expect(Math.min(...specs.map((s) => s.priority))).toBe(PRIORITY.guardrailDeny);
    expect(validateGcp(rules, target, { firewallQuota: 1000 }).filter((d) => d.severity === 'error')).toEqual([]);
  });

  it('renders a segment-to-segment egress deny as an ingress deny on the receiver', () => {
    const rules = {
      ...shopRules([target]),
      denies: [
        deny({
          direction: 'egress',
          segments: ['lb'],
          allSegments: false,
          peer: seg('db'),
          services: [{ kind: 'all' }],
        }),
      ],
    };
    const d = firewalls(rules).filter((s) => s.priority === PRIORITY.guardrailDeny);
    expect(d).toEqual([
      expect.objectContaining({
        direction: 'INGRESS',
        action: 'deny',
        sourceTags: ['shop-lb'],
        targetTags: ['shop-db'],
        rules: [{ protocol: 'all', ports: [] }],
      }),
    ]);
  });

  it('splits ranges beyond 5,000 per rule and keeps every range', () => {
    const big = Array.from({ length: 6000 }, (_, i) => `10.${Math.floor(i / 250)}.${i % 250}.0/24`);
    const rules = ruleSet({
      name: 'shop',
      targets: [target],
      segments: ['app'],
      rules: flow(cidrs('partners', big), seg('app'), tcp(443)),
    });
    const ingress = firewalls(rules).filter((s) => s.direction === 'INGRESS');
    expect(ingress).toHaveLength(2);
    expect(ingress.every((s) => s.sourceRanges.length <= MAX_RANGES)).toBe(true);
    expect(new Set(ingress.flatMap((s) => s.sourceRanges)).size).toBe(6000);
  });

  it('uses service accounts when a segment says so and never mixes them with tags', () => {
    const base = ruleSet({
      name: 'shop',
      targets: [target],
      segments: ['app', 'db', 'web'],
      rules: [...flow(seg('app'), seg('db'), tcp(5432)), ...flow(seg('web'), seg('app'), tcp(8080))],
    });
    const sa = (name: string) => `${name}@p.iam.gserviceaccount.com`;
    const rules: RuleSet = {
      ...base,
      segments: base.segments.map((s) => (s.name === 'web' ? s : { ...s, gcp: { serviceAccount: sa(s.name) } })),
    };
    const out = renderGcp(rules, target);
    const specs = out.resources.map(firewallSpecOf);
    expect(specs.find((s) => s.name.startsWith('shop-db-in-app'))).toMatchObject({
      sourceServiceAccounts: [sa('app')],
      targetServiceAccounts: [sa('db')],
      sourceTags: [],
      targetTags: [],
    });
    // web (tag) → app (service account) cannot be one GCP rule: a plan-time error naming both.
    expect(out.diagnostics).toEqual([
      expect.objectContaining({ severity: 'error', code: 'gcp-tag-service-account-mix' }),
    ]);
    expect(out.diagnostics[0]!.message).toMatch(/app.*web|web.*app/);
    // The deny-all egress is split: tags in one rule, service accounts in another.
    const denyAll = specs.filter((s) => s.priority === PRIORITY.denyAllEgress);
    expect(denyAll.filter((s) => s.targetTags.length > 0 && s.targetServiceAccounts.length > 0)).toEqual([]);
    expect(denyAll).toHaveLength(4);
    expect(checkGcpLimits(out.resources, target, 100)).toEqual([]);
  });

  it('renders FQDN egress as a firewall policy rule with destFqdns, and fails without a policy', () => {
    const rules = ruleSet({
      name: 'shop',
      targets: [withPolicy],
      segments: ['app'],
      rules: flow(seg('app'), fqdns('payments', ['api.stripe.com', 'api.paypal.com']), tcp(443)),
    });
    const out = renderGcp(rules, withPolicy);
    const policy = out.resources.find((r) => r.type === POLICY_TYPE)!;
    expect(policy.name).toBe('egress');
    const rule = policyRuleSpecOf(policy.children[0]!);
    expect(rule).toMatchObject({
      direction: 'EGRESS',
      action: 'allow',
      destFqdns: ['api.paypal.com', 'api.stripe.com'],
      layer4Configs: [{ protocol: 'tcp', ports: ['443'] }],
    });
    expect(rule.description).toContain('bulkhead:model=shop');
    expect(rule.priority).toBeGreaterThanOrEqual(10_000_000);
    // Same model → same priority (it is the rule's identity).
    expect(
      policyRuleSpecOf(renderGcp(rules, withPolicy).resources.find((r) => r.type === POLICY_TYPE)!.children[0]!)
        .priority,
    ).toBe(rule.priority);

    const noPolicy = validateGcp({ ...rules, targets: [target] }, target);
    const err = noPolicy.find((d) => d.code === 'gcp-fqdn-needs-firewall-policy')!;
    expect(err.severity).toBe('error');
    expect(err.message).toMatch(/cannot match domain names/);
    expect(err.message).toMatch(/firewallPolicy/);
    expect(err.pos).toBeDefined();
  });

  it('refuses ICMP types, unbound entities and rule names that cannot be GCP names', () => {
    const icmp = ruleSet({
      name: 'shop',
      targets: [target],
      segments: ['app'],
      rules: flow(internet(), seg('app'), { kind: 'icmp', protocol: 'icmp', type: 8, code: null }),
    });
    expect(validateGcp(icmp, target).map((d) => d.code)).toContain('gcp-icmp-type');
    const unbound = ruleSet({
      name: 'shop',
      targets: [target],
      segments: ['app'],
      rules: flow(
        seg('app'),
        { kind: 'cloud', entity: 'storage', aws: { ipv4: [], ipv6: [], prefixList: 'pl-1' } },
        tcp(443),
      ),
    });
    expect(validateGcp(unbound, target).map((d) => d.code)).toContain('gcp-entity-unbound');
    const badName = ruleSet({ name: 'Shop_Prod', targets: [target], segments: ['app'] });
    expect(validateGcp(badName, target).map((d) => d.code)).toContain('gcp-model-name');
  });

  it('checks the project firewall quota and per-rule limits with messages naming the object and limit', () => {
    const rules = shopRules([target]);
    const quota = validateGcp(rules, target, { firewallQuota: 5 });
    const q = quota.find((d) => d.code === 'gcp-firewall-quota')!;
    expect(q.message).toMatch(
      /target gcp-test needs \d+ VPC firewall rules, more than the project's firewall quota of 5/,
    );
    expect(validateGcp(rules, target).filter((d) => d.severity === 'error')).toEqual([]);
    // Oversized hand-built rule: every limit is reported with its number.
    const [one] = renderGcp(rules, target).resources;
    const child = one!.children[0]!;
    const tags = Array.from({ length: 31 }, (_, i) => `t${i}`);
    const fat = {
      ...one!,
      children: [
        {
          ...child,
          attributes: {
            ...child.attributes,
            sourceTags: tags,
            targetTags: [...tags, ...tags, ...tags].slice(0, 71).map((t, i) => `${t}-${i}`),
            sourceRanges: ['10.0.0.0/8', '::/0'],
          },
        },
      ],
    };
    const msgs = checkGcpLimits([fat], target, 100).map((d) => d.message);
    expect(msgs).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          new RegExp(`^firewall rule ${one!.name}: 31 source tags, more than GCP's limit of 30 per rule$`),
        ),
        expect.stringMatching(/71 target tags, more than GCP's limit of 70 per rule/),
        expect.stringMatching(/cannot hold IPv4 and IPv6 ranges together/),
      ]),
    );
  });
});
