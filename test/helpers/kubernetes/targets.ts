import type { RuleSet } from '../../../src/compile/types.js';
import type {
  KubernetesSegmentBinding,
  KubernetesTarget,
  KubernetesTargetConfig,
} from '../../../providers/kubernetes/target.js';
import { pos } from '../rulesets.js';

/** A Kubernetes target for tests (namespace `shop` unless told). */
export function kubeTarget(name = 'k8s-test', config: Partial<KubernetesTargetConfig> = {}): KubernetesTarget {
  return { kind: 'kubernetes', name, pos: pos(6, 3), kubernetes: { namespace: 'shop', ...config } };
}

/** The RuleSet with Kubernetes bindings on some segments (as the core will carry them). */
export function withBindings(
  rules: RuleSet,
  bindings: { readonly [segment: string]: KubernetesSegmentBinding },
): RuleSet {
  return {
    ...rules,
    segments: rules.segments.map((s) => (bindings[s.name] ? { ...s, kubernetes: bindings[s.name] } : s)),
  };
}
