import { describe, expect, it } from 'vitest';
import { validateKubernetes } from '../../../providers/kubernetes/validate.js';
import { labelKeyProblem, labelValueProblem, namespaceProblem } from '../../../providers/kubernetes/limits.js';
import { ruleSet, shopRules } from '../../helpers/rulesets.js';
import { kubeTarget, withBindings } from '../../helpers/kubernetes/targets.js';

describe('kubernetes validate', () => {
  it('accepts the shop', () => {
    expect(validateKubernetes(shopRules([]), kubeTarget())).toEqual([]);
  });

  it('refuses bad namespaces and pod labels at the segment', () => {
    const rules = withBindings(shopRules([]), {
      db: { namespace: 'Data_NS' },
      web: { podSelector: { 'app/x/y': 'ok', tier: '-bad' } },
    });
    const d = validateKubernetes(rules, kubeTarget('k', { namespace: 'shop' }));
    expect(d.map((x) => [x.code, x.pos?.line])).toEqual([
      ['kubernetes-namespace', 21],
      ['kubernetes-label', 23],
      ['kubernetes-label', 23],
    ]);
    expect(
      validateKubernetes(shopRules([]), kubeTarget('k', { namespace: 'no_underscores' })).map((x) => x.code),
    ).toEqual(['kubernetes-namespace']);
  });

  it('refuses segment names that cannot be a label value of bulkhead.io/segment', () => {
    const d = validateKubernetes(ruleSet({ segments: [`s${'x'.repeat(63)}`] }), kubeTarget());
    expect(d.map((x) => x.code)).toContain('kubernetes-label');
    expect(d.find((x) => x.code === 'kubernetes-label')!.message).toContain('give it a podSelector');
  });

  it('label and namespace syntax', () => {
    expect(labelKeyProblem('bulkhead.io/segment')).toBeUndefined();
    expect(labelKeyProblem('app.kubernetes.io/name')).toBeUndefined();
    expect(labelKeyProblem('a/b/c')).toContain('not a label key');
    expect(labelKeyProblem(`${'x'.repeat(64)}`)).toContain('longer than 63');
    expect(labelValueProblem('')).toBeUndefined();
    expect(labelValueProblem('a.b_c-d')).toBeUndefined();
    expect(labelValueProblem('a b')).toContain('not a label value');
    expect(namespaceProblem('kube-system')).toBeUndefined();
    expect(namespaceProblem('a.b')).toContain('not a namespace name');
  });
});
