import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { renderAws, sanitizeDescription } from '../../../providers/aws/render.js';
import { SG_TYPE } from '../../../providers/aws/canonical.js';
import { awsTarget, cidrs, flow, ruleSet, seg, tcp } from '../../helpers/rulesets.js';

// Issue 11: at 10,000 segments the render keeps ~900,000 rules alive until output. What rules have
// in common (a peer's texts, the dependsOn array, an intent's origins) is
// one object they all point at, not a copy each: fewer objects for the garbage collector to copy.
const target = awsTarget();
const rules = ruleSet({
  segments: ['api', 'db', 'web'],
  rules: [
    ...flow(seg('web'), seg('db'), tcp(5432), 10),
    ...flow(seg('api'), seg('db'), tcp(5432), 11),
    ...flow(seg('api'), seg('db'), tcp(6432), 12),
    ...flow(seg('web'), seg('api'), tcp(8080), 13),
    ...flow(cidrs('office', ['203.0.113.0/24']), seg('db'), tcp(22), 14),
  ],
});

function childrenOf(segment: string) {
  const group = renderAws(rules, target, { resolved: new Map() }).find(
    (r) => r.type === SG_TYPE && r.name === `shop-${segment}`,
  );
  if (!group) throw new Error(`no group for ${segment}`);
  return group.children;
}

describe('AWS render shares what rules have in common', () => {
  it('gives the rules naming one group one dependsOn array', () => {
    const fromApi = childrenOf('db').filter((c) => c.attributes['peer'] === 'sg:shop-api');
    expect(fromApi).toHaveLength(2);
    expect(fromApi[0]!.dependsOn).toEqual(['aws-test.aws_security_group.shop-api']);
    expect(fromApi[0]!.dependsOn).toBe(fromApi[1]!.dependsOn);
  });

  it("carries a one-intent rule's origins as the intent's own array", () => {
    const intent = rules.rules.find((r) => r.segment === 'db' && r.direction === 'ingress' && r.peer.kind === 'cidrs')!;
    const rule = childrenOf('db').find((c) => c.attributes['peer'] === 'cidr:203.0.113.0/24')!;
    expect(rule.origins).toEqual(intent.origins);
    expect(rule.origins).toBe(intent.origins);
  });
});

describe('sanitizeDescription', () => {
  // The three replacements as they were written before the fast path skipped the ones that cannot apply.
  const reference = (text: string) => {
    const clean = text
      .replace(/\s*->\s*/g, ' to ')
      .replace(/\s*<-\s*/g, ' from ')
      .replace(/[^A-Za-z0-9 ._\-:/()#,@[\]+=&;{}!$*]/g, '_');
    return clean.length <= 255 ? clean : `${clean.slice(0, 252)}...`;
  };
  it('gives what the three replacements give, for any text', () => {
    const char = fc.constantFrom('a', 'Z', '0', ' ', '-', '>', '<', '\t', '\u00a0', 'é', '_', ':', '/', '\n', '😀');
    fc.assert(
      fc.property(fc.array(char, { maxLength: 40 }), fc.integer({ min: 0, max: 300 }), (chars, pad) => {
        const text = 'x'.repeat(pad % 7 === 0 ? pad : 0) + chars.join('');
        expect(sanitizeDescription(text)).toBe(reference(text));
      }),
      { numRuns: 300 },
    );
  });
});
