import type { SegmentSpec } from '../../src/compile/types.js';
import { error, type Diagnostic } from '../../src/diagnostics.js';
import { canonicalDigest } from '../../src/plan/diff.js';
import type { Json, ProviderState, Resource } from '../../src/plan/types.js';
import { ANP_TYPE, canonicalAdmin, type AdminNetworkPolicyJson } from './admin.js';
import { canonicalNetworkPolicy, NP_TYPE, type NetworkPolicyJson } from './canonical.js';
import { canonicalCilium, CNP_TYPE, type CiliumNetworkPolicyJson } from './cilium.js';
import type { KubernetesRawState } from './snapshot.js';
import {
  LOCK_LABEL,
  MANAGED_BY_LABEL,
  MODEL_LABEL,
  segmentPods,
  type KubernetesSegment,
  type KubernetesTarget,
} from './target.js';

/**
 * Raw objects → ProviderState (pure). Owned = labelled `app.kubernetes.io/managed-by: bulkhead`
 * and `bulkhead.io/model: <model>`; nothing else ever enters `resources`, so nothing else is ever
 * changed. An unlabelled object that has a name the model renders (`<model>-<segment>` in the
 * segment's namespace) is an error telling how to adopt it: creating ours would fail, and
 * replacing it would take over someone's policy. Decided from the arguments only.
 */

/** The objects render would create for these segments: `[type, namespace, name]`. */
export function expectedObjects(
  target: KubernetesTarget,
  model: string,
  segments: readonly SegmentSpec[],
): { type: string; namespace: string; name: string }[] {
  const out: { type: string; namespace: string; name: string }[] = [];
  for (const s of segments as readonly KubernetesSegment[]) {
    const ns = segmentPods(target.kubernetes, s).namespace;
    out.push({ type: NP_TYPE, namespace: ns, name: `${model}-${s.name}` });
    if (target.kubernetes.fqdn === 'cilium')
      out.push({ type: CNP_TYPE, namespace: ns, name: `${model}-${s.name}-fqdn` });
  }
  return out;
}

function labelsOf(o: Record<string, unknown>): { readonly [k: string]: string } {
  return ((o['metadata'] as { labels?: { [k: string]: string } } | undefined)?.labels ?? {}) as {
    readonly [k: string]: string;
  };
}

function idOf(o: Record<string, unknown>): { namespace: string | undefined; name: string } {
  const m = o['metadata'] as { namespace?: string; name?: string } | undefined;
  return { namespace: m?.namespace, name: m?.name ?? '' };
}

/** The ProviderState of what a read saw. */
export function toProviderState(
  target: KubernetesTarget,
  raw: KubernetesRawState,
  source: 'live' | 'snapshot',
  context: {
    readonly model?: string | undefined;
    readonly segments?: readonly SegmentSpec[] | undefined;
    readonly unowned?: boolean | undefined;
    /** False: leave `ProviderState.fingerprint` empty (`ReadContext.fingerprint`). */
    readonly fingerprint?: boolean | undefined;
  },
): ProviderState {
  const model = context.model;
  const resources: Resource[] = [];
  const diagnostics: Diagnostic[] = [];
  const inTheWay: string[] = [];
  // Other teams' policies, read-only, for the reachability evaluators (ReadContext.unowned).
  const unowned: Resource[] = [];
  // What render would create, as `type namespace/name`: one lookup per unowned object, not a scan
  // of every segment's objects per unowned object.
  const expected = new Set(
    (model && context.segments ? expectedObjects(target, model, context.segments) : []).map(
      (e) => `${e.type} ${e.namespace}/${e.name}`,
    ),
  );
  const owned = (o: Record<string, unknown>) => {
    const l = labelsOf(o);
    // The apply lock (lock.ts) is the model's but no policy of it: plan and drift never see it.
    if (l[LOCK_LABEL] !== undefined) return false;
    return (
      l[MANAGED_BY_LABEL] === 'bulkhead' &&
      l[MODEL_LABEL] !== undefined &&
      (model === undefined || l[MODEL_LABEL] === model)
    );
  };
  const visit = (
    items: readonly Record<string, unknown>[] | null,
    type: string,
    kind: string,
    canonical: (o: Record<string, unknown>) => Resource,
  ) => {
    for (const o of items ?? []) {
      if (labelsOf(o)[LOCK_LABEL] !== undefined) continue;
      if (owned(o)) {
        resources.push(canonical(o));
        continue;
      }
      if (context.unowned) unowned.push(canonical(o));
      const { namespace, name } = idOf(o);
      // An object without a namespace is no segment's (every expected object has one).
      if (namespace === undefined || !expected.has(`${type} ${namespace}/${name}`)) continue;
      inTheWay.push(`${type} ${namespace}/${name}`);
      diagnostics.push(
        error(
          'kubernetes-unowned-in-the-way',
          `${kind} ${namespace}/${name} on target ${target.name} has the name the model renders but not its labels (${MANAGED_BY_LABEL}=bulkhead, ${MODEL_LABEL}=${model}): ` +
            `Bulkhead never changes an object it does not own. Rename or delete it, or adopt it with ` +
            `\`kubectl label ${kind.toLowerCase()} -n ${namespace} ${name} ${MANAGED_BY_LABEL}=bulkhead ${MODEL_LABEL}=${model}\` (the next plan then brings it in line with the model), then plan again`,
          target.pos,
        ),
      );
    }
  };
  visit(raw.networkPolicies, NP_TYPE, 'NetworkPolicy', (o) =>
    canonicalNetworkPolicy(target.name, o as NetworkPolicyJson),
  );
  visit(raw.cilium, CNP_TYPE, 'CiliumNetworkPolicy', (o) => canonicalCilium(target.name, o as CiliumNetworkPolicyJson));
  visit(raw.admin, ANP_TYPE, 'AdminNetworkPolicy', (o) => canonicalAdmin(target.name, o as AdminNetworkPolicyJson));
  resources.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  // resourceVersions stay out: a write that changes nothing Bulkhead compares (an annotation) does
  // not make a saved plan stale; apply's replace still sends the version it read, so a real race is a 409.
  inTheWay.sort();
  const digest =
    context.fingerprint === false
      ? ''
      : canonicalDigest({
          resources: resources.map((r) => ({
            address: r.address,
            attributes: r.attributes,
            children: r.children.map((c) => c.key),
          })),
          inTheWay,
        } as Json);
  unowned.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  return {
    target: target.name,
    source,
    resources,
    fingerprint: digest,
    diagnostics,
    ...(context.unowned ? { unowned } : {}),
  };
}
