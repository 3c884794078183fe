/**
 * Render builds its firewall resources from canonical parts made once per distinct list and shared
 * between rules (issue 11: ~540,000 rules at 10,000 segments), and the limits check and the CLI
 * JSON read them without copies. These tests hold each fast path equal to the slow, obvious form
 * it replaced: canonical → API body → canonical per rule, the spec copy + body + `cleanSdkJson`.
 */
import { describe, expect, it } from 'vitest';
import type { RuleSet, TargetSpec } from '../../../src/compile/types.js';
import type { Json, Resource } from '../../../src/plan/types.js';
import {
  API_ROOT,
  canonicalFirewall,
  FIREWALL_TYPE,
  firewallBody,
  firewallResource,
  firewallResourceBuilder,
  firewallSpecOf,
  firewallSpecView,
} from '../../../providers/gcp/canonical.js';
import { toGcpCliJson } from '../../../providers/gcp/cli-json.js';
import { renderGcp } from '../../../providers/gcp/render.js';
import { cleanSdkJson } from '../../../providers/gcp/snapshot.js';
import { checkGcpLimits } from '../../../providers/gcp/validate.js';
import { cidrs, flow, gcpTarget, internet, ruleSet, seg, tcp } from '../../helpers/rulesets.js';

const target = gcpTarget('gcp-test');
const project = (target as Extract<TargetSpec, { kind: 'gcp' }>).gcp.project;

/**
 * A model with what canonicalization has to fix on the desired side: CIDRs with host bits and in
 * upper case, duplicates and an unsorted order, ICMPv6 (a number on the wire), several services per
 * flow, a service-account segment, a guardrail deny and a self-flow (its source and target tag lists
 * are the same list).
 */
function messyRules(): RuleSet {
  const base = ruleSet({
    name: 'shop',
    targets: [target],
    segments: ['app', 'db', 'web', 'ops'],
    rules: [
      ...flow(
        cidrs('partners', ['198.51.100.7/24', '10.9.0.0/16', '198.51.100.0/24'], ['2001:DB8::1/48']),
        seg('app'),
        tcp(443),
      ),
      ...flow(
        cidrs('partners', ['198.51.100.7/24', '10.9.0.0/16', '198.51.100.0/24'], ['2001:DB8::1/48']),
        seg('db'),
        tcp(5432),
      ),
      ...flow(seg('web'), seg('app'), tcp(8080)),
      ...flow(seg('web'), seg('app'), tcp(8081, 8090)),
      ...flow(seg('app'), seg('app'), tcp(9000)),
      ...flow(seg('app'), seg('ops'), { kind: 'icmp', protocol: 'icmpv6', type: null, code: null }),
      ...flow(internet(), seg('web'), tcp(443)),
    ],
  });
  return {
    ...base,
    segments: base.segments.map((s) =>
      s.name === 'ops' ? { ...s, gcp: { serviceAccount: 'Ops@P.iam.gserviceaccount.com' } } : s,
    ),
    denies: [
      {
        id: 'd1',
        guardrail: 'no-ssh',
        direction: 'ingress',
        segments: ['app', 'db', 'web'],
        allSegments: false,
        peer: { kind: 'any' },
        services: [tcp(22)],
        origins: [],
      },
    ],
  };
}

function firewallsOf(resources: readonly Resource[]): Resource[] {
  return resources.filter((r) => r.type === FIREWALL_TYPE);
}

/** Every object and array of a JSON value that is reached twice. */
function reachedTwice(value: Json): unknown[] {
  const seen = new Set<unknown>();
  const twice: unknown[] = [];
  const walk = (v: Json) => {
    if (v === null || typeof v !== 'object') return;
    if (seen.has(v)) twice.push(v);
    seen.add(v);
    for (const x of Array.isArray(v) ? (v as readonly Json[]) : Object.values(v)) walk(x);
  };
  walk(value);
  return twice;
}

describe('gcp render: shared canonical parts', () => {
  const rules = messyRules();
  const rendered = renderGcp(rules, target);
  const firewalls = firewallsOf(rendered.resources);

  it('renders every firewall as the canonical round trip of itself would (the same JSON text)', () => {
    expect(firewalls.length).toBeGreaterThan(8);
    for (const r of firewalls) {
      const child = r.children[0]!;
      const slow = firewallResource(target.name, canonicalFirewall(firewallBody(firewallSpecOf(r)), project), {
        ...(r.origins ? { origins: r.origins } : {}),
        ...(child.widens ? { widens: true } : {}),
      });
      expect(JSON.stringify(r)).toBe(JSON.stringify(slow));
    }
    // The messy input came out canonical: host bits cleared, lower case, no duplicates, sorted.
    const partners = firewalls.find((r) => r.name.startsWith('shop-app-in-partners-v4'))!;
    expect(firewallSpecOf(partners).sourceRanges).toEqual(['10.9.0.0/16', '198.51.100.0/24']);
    const v6 = firewalls.find((r) => r.name.startsWith('shop-app-in-partners-v6'))!;
    expect(firewallSpecOf(v6).sourceRanges).toEqual(['2001:db8::/48']);
    const ops = firewalls.find((r) => r.name.startsWith('shop-ops-in-app'));
    expect(ops).toBeUndefined(); // a tag segment to a service-account segment is an error, not a rule
    expect(rendered.diagnostics.map((d) => d.code)).toContain('gcp-tag-service-account-mix');
  });

  it('shares one frozen list between the rules that have it, and one set of identity attributes', () => {
    const app = firewalls.find((r) => r.name.startsWith('shop-app-in-partners-v4'))!;
    const db = firewalls.find((r) => r.name.startsWith('shop-db-in-partners-v4'))!;
    const a = app.children[0]!.attributes;
    const b = db.children[0]!.attributes;
    expect(a['sourceRanges']).toBe(b['sourceRanges']);
    expect(Object.isFrozen(a['sourceRanges'])).toBe(true);
    expect(a['targetServiceAccounts']).toBe(b['targetServiceAccounts']);
    expect(app.attributes).toBe(db.attributes);
    expect(app.forceNew).toBe(db.forceNew);
    // Nothing a caller can change by accident through one rule and see in another.
    expect(() => (a['sourceRanges'] as string[]).push('192.0.2.0/24')).toThrow(TypeError);
  });

  it('builds with firewallResourceBuilder exactly what firewallResource builds', () => {
    const build = firewallResourceBuilder(target.name);
    // Someone else's shapes too: logged, disabled, no targets, several sources of every kind.
    const other = canonicalFirewall(
      {
        name: 'other',
        network: 'default',
        sourceRanges: ['10.0.0.0/8', '192.0.2.0/24'],
        sourceTags: ['a', 'b'],
        sourceServiceAccounts: ['x@p.iam.gserviceaccount.com'],
        allowed: [{ IPProtocol: 'tcp', ports: ['80', '443'] }, { IPProtocol: '58' }],
        logConfig: { enable: true },
        disabled: true,
      },
      project,
    );
    const egress = canonicalFirewall(
      { name: 'e', network: 'default', direction: 'EGRESS', denied: [{ IPProtocol: 'all' }] },
      project,
    );
    const specs = [...firewalls.map((r) => firewallSpecOf(r)), other, egress];
    for (const spec of specs) {
      const extra = { origins: [{ pos: { file: 'm.yaml', line: 1, column: 1 }, label: 'x' }], widens: true };
      expect(JSON.stringify(build(spec, extra))).toBe(JSON.stringify(firewallResource(target.name, spec, extra)));
      expect(build(spec)).toEqual(firewallResource(target.name, spec));
    }
  });

  it('builds from shared lists (its memos hit) what firewallResource builds from copies', () => {
    const build = firewallResourceBuilder(target.name);
    for (const round of [1, 2]) {
      for (const r of firewalls) {
        const shared = firewallSpecView(r);
        expect(JSON.stringify(build(shared)), `round ${round}`).toBe(
          JSON.stringify(firewallResource(target.name, firewallSpecOf(r))),
        );
      }
    }
  });

  it('reads a resource through firewallSpecView as firewallSpecOf does, without copies', () => {
    for (const r of firewalls) {
      const view = firewallSpecView(r);
      expect(view).toEqual(firewallSpecOf(r));
      expect(view.sourceRanges).toBe(r.children[0]!.attributes['sourceRanges']);
    }
  });

  it('writes the CLI JSON that cleanSdkJson of the API body gives, every object its own', () => {
    // A logged rule and one of someone else's shape too: the writer is not only for render's rules.
    const logged = firewallResource(
      target.name,
      canonicalFirewall(
        {
          name: 'logged',
          network: 'default',
          direction: 'EGRESS',
          denied: [{ IPProtocol: 'udp', ports: ['53'] }],
          targetServiceAccounts: ['a@p.iam.gserviceaccount.com'],
          logConfig: { enable: true, metadata: 'EXCLUDE_ALL_METADATA' },
          disabled: true,
        },
        project,
      ),
    );
    const resources = [...rendered.resources, logged];
    const json = toGcpCliJson(resources, target);
    const slow = firewallsOf(resources).map((r) => {
      const spec = firewallSpecOf(r);
      return cleanSdkJson({
        kind: 'compute#firewall',
        ...firewallBody(spec, 'url'),
        selfLink: `${API_ROOT}/projects/${project}/global/firewalls/${spec.name}`,
      });
    });
    expect(JSON.stringify(json, null, 2)).toBe(JSON.stringify(slow, null, 2));
    // Lists and protocol entries are shared, not copied per rule (`--format yaml` prints them in
    // full: test/commands/render.test.ts); the resources' own lists stay untouched.
    expect(reachedTwice(json).length).toBeGreaterThan(0);
  });

  it('checks limits on shared lists as on copies: a rule mixing families fails either way', () => {
    const mixed = firewallResource(
      target.name,
      canonicalFirewall(
        {
          name: 'shop-mixed',
          network: 'default',
          sourceRanges: ['10.0.0.0/8', '2001:db8::/32'],
          allowed: [{ IPProtocol: 'tcp' }],
        },
        project,
      ),
    );
    const v4 = firewalls.find((r) => r.name.startsWith('shop-app-in-partners-v4'))!;
    const codes = (rs: readonly Resource[]) => checkGcpLimits(rs, target, 1000).map((d) => d.code);
    expect(codes([v4, mixed, v4])).toEqual(['gcp-mixed-families']);
    expect(codes(firewalls)).toEqual([]);
  });

  it('keeps the first rule (in key order) of a name two rules share and reports the other where it was written', () => {
    // The heads are cut before the peer's name, and the two keys' 6-digit hashes happen to agree
    // (found by search): two rules, one name.
    const long = 'x'.repeat(50);
    const collide = ruleSet({
      name: 'm',
      targets: [target],
      segments: [long, 'p4804', 'p6047'],
      rules: [...flow(seg('p6047'), seg(long), tcp(1), 12), ...flow(seg('p4804'), seg(long), tcp(2), 11)],
    });
    const out = renderGcp(collide, target);
    const collisions = out.diagnostics.filter((d) => d.code === 'gcp-name-collision');
    expect(collisions).toHaveLength(1);
    expect(collisions[0]!.pos?.line).toBe(12);
    const name = /same name (\S+);/.exec(collisions[0]!.message)![1]!;
    const named = firewallsOf(out.resources).filter((r) => r.name === name);
    expect(named.map((r) => firewallSpecOf(r).sourceTags)).toEqual([['m-p4804']]);
    // The collision is reported after render's other diagnostics, and the render stays sorted.
    expect(out.diagnostics.at(-1)).toBe(collisions[0]);
    const addresses = out.resources.map((r) => r.address);
    expect(addresses).toEqual([...addresses].sort());
  });
});
