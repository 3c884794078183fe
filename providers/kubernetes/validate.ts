import type { RuleSet } from '../../src/compile/types.js';
import { error, type Diagnostic } from '../../src/diagnostics.js';
import { ANP_TYPE } from './admin.js';
import {
  labelKeyProblem,
  labelValueProblem,
  MAX_ANP_RULES,
  MAX_NAME_LENGTH,
  namespaceProblem,
  DNS_SUBDOMAIN,
} from './limits.js';
import { renderKubernetes, type KubernetesRender } from './render.js';
import { segmentPods, type KubernetesSegment, type KubernetesTarget } from './target.js';

/**
 * Validate (pure): what render could not express (ICMP, FQDN egress without Cilium, guardrails
 * without AdminNetworkPolicy) plus the API's naming rules for what Bulkhead would write: object
 * names (DNS subdomains), namespaces (DNS labels), label keys and values of the pod selectors.
 * The model's own validation checks what the user wrote at its line; this catches the derived
 * names (`<model>-<segment>`) and anything a RuleSet built another way carries. `rendered` is
 * this RuleSet's render when the caller has it (the provider's, for the render that follows).
 */
export function validateKubernetes(
  rules: RuleSet,
  target: KubernetesTarget,
  rendered: KubernetesRender = renderKubernetes(rules, target),
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const model = rules.model.name;
  const nsProblem = namespaceProblem(target.kubernetes.namespace);
  if (nsProblem) out.push(error('kubernetes-namespace', `target ${target.name}: namespace ${nsProblem}`, target.pos));
  for (const s of rules.segments as readonly KubernetesSegment[]) {
    const pods = segmentPods(target.kubernetes, s);
    const name = `${model}-${s.name}`;
    if (!DNS_SUBDOMAIN.test(name) || name.length > MAX_NAME_LENGTH - '-fqdn'.length) {
      out.push(
        error(
          'kubernetes-name',
          `segment ${s.name}: the NetworkPolicy name "${name}" is not a lower-case RFC 1123 subdomain of at most ${MAX_NAME_LENGTH - 5} characters: rename the model or the segment`,
          s.pos,
        ),
      );
    }
    if (s.kubernetes?.namespace !== undefined) {
      const p = namespaceProblem(s.kubernetes.namespace);
      if (p) out.push(error('kubernetes-namespace', `segment ${s.name}: namespace ${p}`, s.pos));
    }
    for (const [k, v] of Object.entries(pods.labels)) {
      const p = labelKeyProblem(k) ?? labelValueProblem(v);
      if (p)
        out.push(
          error(
            'kubernetes-label',
            `segment ${s.name}: ${p}${s.kubernetes?.podSelector ? '' : ' (the default label bulkhead.io/segment takes the segment name as its value: rename the segment, or give it a podSelector)'}`,
            s.pos,
          ),
        );
    }
  }
  const { resources, diagnostics } = rendered;
  out.push(...diagnostics);
  for (const r of resources) {
    if (r.type !== ANP_TYPE) continue;
    for (const dir of ['ingress', 'egress'] as const) {
      const n = (r.attributes[dir] as unknown[]).length;
      if (n > MAX_ANP_RULES)
        out.push(
          error(
            'kubernetes-anp-rules',
            `AdminNetworkPolicy ${r.name}: ${n} ${dir} rules, the API allows ${MAX_ANP_RULES}`,
            target.pos,
          ),
        );
    }
  }
  return out;
}
