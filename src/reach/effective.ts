import type { CloudBinding, Endpoint, RuleSet, TargetSpec } from '../compile/types.js';
import { excludeCidrs } from '../model/addresses.js';
import { targetInternalRanges } from '../targets.js';
import { internetBlocks } from './native-match.js';
import type { ProviderState, Resource } from '../plan/types.js';
import type { ResolvedFqdns } from '../resolve.js';
import type { EvaluateOptions, NativeEnd, NativeEvaluator, NativeProbe, NativeRuleRef } from './native.js';
import type { ModelVerdict } from './model-verdict.js';
import { probeCidr, type Probe, type ProbeEndpoint } from './probe.js';

/**
 * The effective verdict of one target: a model-level probe (segments, entities, `internet`,
 * addresses) turned into native probes, one per address block of an entity, each decided by the
 * provider's evaluator, and combined: allowed when every block is (as the model evaluator decides
 * entities). Also: why a target and the model disagree.
 */

/** The effective answer of one target. */
export interface TargetVerdict {
  readonly verdict: 'allow' | 'deny';
  /** The deciding native rules (deduplicated, in evaluation order). */
  readonly rules: readonly NativeRuleRef[];
  readonly notes: readonly string[];
}

/** Why a target disagrees with the model. */
export type Disagreement =
  /** The live state differs from what the model renders (a hand edit, an apply not done yet). */
  | { readonly cause: 'drift'; readonly message: string }
  /** A rule the model does not own decides (another team's rule). */
  | { readonly cause: 'unowned-rule'; readonly message: string }
  /** The render itself answers differently: a cloud default, or the closest native form of a model rule. */
  | { readonly cause: 'cloud-default'; readonly message: string };

const addressMemo = new WeakMap<RuleSet, Map<string, { ipv4?: string; ipv6?: string }>>();

/** What a segment's instances look like to a cloud: one representative internal address per family (memoized per RuleSet and target). */
export function segmentAddresses(rules: RuleSet, target: TargetSpec): { ipv4?: string; ipv6?: string } {
  let memo = addressMemo.get(rules);
  if (!memo) {
    memo = new Map();
    addressMemo.set(rules, memo);
  }
  let v = memo.get(target.name);
  if (!v) {
    v = computeSegmentAddresses(rules, target);
    memo.set(target.name, v);
  }
  return v;
}

function computeSegmentAddresses(rules: RuleSet, target: TargetSpec): { ipv4?: string; ipv6?: string } {
  const internal = targetInternalRanges(target);
  // Distinct CIDRs: a big model names the same few entities in thousands of intents.
  const seen = new Set<string>();
  for (const e of rules.entities ?? []) for (const c of [...e.ipv4, ...e.ipv6]) seen.add(c);
  const peers = new Set<Endpoint>();
  for (const r of rules.rules)
    if (r.peer.kind === 'cidrs' && r.peer.builtin !== 'internet' && r.peer.entity !== 'internet') peers.add(r.peer);
  for (const p of peers) if (p.kind === 'cidrs') for (const c of [...p.ipv4, ...p.ipv6]) seen.add(c);
  const declared = [...seen];
  const pick = (fam: 'ipv4' | 'ipv6'): string | undefined => {
    const own = internal.filter((c) => c.includes(':') === (fam === 'ipv6'));
    if (own.length === 0) return undefined;
    // Inside the internal ranges and outside every CIDR entity: a segment host is neither the VPN nor on-premises.
    const free = excludeCidrs(
      own,
      declared.filter((c) => c.includes(':') === (fam === 'ipv6')),
    );
    const block = free[0] ?? own[0]!;
    const net = block.split('/')[0]!;
    return `${net}/${fam === 'ipv6' ? 128 : 32}`;
  };
  const v4 = pick('ipv4'),
    v6 = pick('ipv6');
  return { ...(v4 ? { ipv4: v4 } : {}), ...(v6 ? { ipv6: v6 } : {}) };
}

/** The entity's endpoint as the RuleSet knows it (declared CIDR entities, rule and deny peers). */
export function entityEndpoint(rules: RuleSet, name: string): Exclude<Endpoint, { kind: 'segment' }> | undefined {
  const declared = (rules.entities ?? []).find((e) => e.name === name);
  if (declared) return { kind: 'cidrs', entity: name, ipv4: declared.ipv4, ipv6: declared.ipv6 };
  let best: Exclude<Endpoint, { kind: 'segment' }> | undefined;
  for (const p of [...rules.rules.map((r) => r.peer), ...rules.denies.map((d) => d.peer)]) {
    if (p.kind === 'segment' || p.kind === 'any' || p.entity !== name) continue;
    // An ICMP intent carries the entity narrowed to one family: keep the widest.
    const size = (e: typeof p) => (e.kind === 'cidrs' ? e.ipv4.length + e.ipv6.length : 1);
    if (!best || size(p) > size(best)) best = p;
  }
  return best;
}

/** The binding of a per-cloud entity for one target's cloud (by the cloud's id; no cloud is named here). */
function bindingFor(ep: Extract<Endpoint, { kind: 'cloud' }>, cloud: string): CloudBinding | undefined {
  const o = ep as unknown as Record<string, unknown>;
  const nested = o['bindings'] as Record<string, unknown> | undefined;
  return (o[cloud] ?? nested?.[cloud]) as CloudBinding | undefined;
}

const familyOf = (cidr: string): 'ipv4' | 'ipv6' => (cidr.includes(':') ? 'ipv6' : 'ipv4');

/** The external ends of a probe endpoint for one target, or why there are none. */
function externalEnds(
  rules: RuleSet,
  target: TargetSpec,
  e: ProbeEndpoint & { kind: 'entity' | 'address' },
  resolved: ResolvedFqdns | undefined,
): { ends: NativeEnd[]; note?: string } {
  if (e.kind === 'address') {
    const c = probeCidr(e.address);
    return c ? { ends: [{ kind: 'external', cidr: c }] } : { ends: [], note: `"${e.address}" is not an address` };
  }
  if (e.name === 'internet')
    return {
      ends: internetBlocks(targetInternalRanges(target)).map((cidr) => ({
        kind: 'external',
        entity: 'internet',
        cidr,
      })),
    };
  const ep = entityEndpoint(rules, e.name);
  if (!ep) return { ends: [], note: `entity ${e.name} is unknown to the model` };
  switch (ep.kind) {
    case 'cidrs':
      return { ends: [...ep.ipv4, ...ep.ipv6].map((cidr) => ({ kind: 'external', entity: e.name, cidr })) };
    case 'fqdns': {
      const addrs = ep.fqdns.flatMap((f) => [...(resolved?.get(f)?.ipv4 ?? []), ...(resolved?.get(f)?.ipv6 ?? [])]);
      const base = { kind: 'external' as const, entity: e.name, fqdns: ep.fqdns };
      return addrs.length > 0
        ? { ends: [...new Set(addrs)].map((cidr) => ({ ...base, cidr })) }
        : {
            ends: [base],
            note: `the addresses of ${e.name} (${ep.fqdns.join(', ')}) are not known here: matched by name, or by rules open to every public address`,
          };
    }
    case 'cloud': {
      const b = bindingFor(ep, target.kind);
      if (!b) return { ends: [], note: `entity ${e.name} has no ${target.kind} binding` };
      const ends: NativeEnd[] = [...b.ipv4, ...b.ipv6].map((cidr) => ({
        kind: 'external',
        entity: e.name,
        cidr,
        binding: b,
      }));
      // A binding that names a native object (a list, a tag) besides addresses: the provider matches it by name.
      if (Object.keys(b).some((k) => k !== 'ipv4' && k !== 'ipv6'))
        ends.unshift({ kind: 'external', entity: e.name, binding: b });
      return { ends };
    }
  }
}

/**
 * The native probes of a model probe on one target: the cross product of both ends' blocks
 * (one family at a time: an IPv4 source never meets an IPv6 destination), segments at their
 * representative address of the other end's family (ICMPv6 and IPv6 blocks use IPv6).
 */
export function nativeProbes(
  rules: RuleSet,
  target: TargetSpec,
  probe: Probe,
  resolved?: ResolvedFqdns,
): { probes: NativeProbe[]; notes: string[] } {
  const notes: string[] = [];
  const addrs = segmentAddresses(rules, target);
  const icmpFam = probe.service.kind === 'icmp' ? (probe.service.protocol === 'icmp' ? 'ipv4' : 'ipv6') : undefined;
  const sideEnds = (e: ProbeEndpoint): NativeEnd[] | 'segment' => {
    if (e.kind === 'segment') return 'segment';
    const r = externalEnds(rules, target, e, resolved);
    if (r.note) notes.push(r.note);
    return r.ends.filter(
      (x) => x.kind !== 'external' || x.cidr === undefined || icmpFam === undefined || familyOf(x.cidr) === icmpFam,
    );
  };
  const seg = (name: string, fam: 'ipv4' | 'ipv6'): NativeEnd | undefined => {
    const address = addrs[fam];
    return address ? { kind: 'segment', segment: name, address } : undefined;
  };
  const src = sideEnds(probe.source),
    dst = sideEnds(probe.destination);
  const out: NativeProbe[] = [];
  const service = probe.service;
  if (src === 'segment' && dst === 'segment') {
    const fam = icmpFam ?? 'ipv4';
    const a = seg((probe.source as { name: string }).name, fam),
      b = seg((probe.destination as { name: string }).name, fam);
    if (a && b) out.push({ source: a, destination: b, service });
    else notes.push(`target ${target.name} has no internal ${fam} range for segment addresses`);
    return { probes: out, notes };
  }
  if (src === 'segment' || dst === 'segment') {
    const name = ((src === 'segment' ? probe.source : probe.destination) as { name: string }).name;
    const others = (src === 'segment' ? dst : src) as NativeEnd[];
    for (const o of others) {
      const fam = o.kind === 'external' && o.cidr ? familyOf(o.cidr) : (icmpFam ?? 'ipv4');
      const s = seg(name, fam);
      if (!s) continue;
      out.push(src === 'segment' ? { source: s, destination: o, service } : { source: o, destination: s, service });
    }
    return { probes: out, notes };
  }
  for (const a of src)
    for (const b of dst) {
      if (a.kind === 'external' && b.kind === 'external' && a.cidr && b.cidr && familyOf(a.cidr) !== familyOf(b.cidr))
        continue;
      out.push({ source: a, destination: b, service });
    }
  return { probes: out, notes };
}

function refKey(r: NativeRuleRef): string {
  return `${r.object}\u0000${r.rule}\u0000${r.direction}\u0000${r.action}`;
}

/** Decides a model probe on a target with its evaluator: allowed when every native probe is. */
export function targetVerdict(
  evaluator: NativeEvaluator,
  rules: RuleSet,
  target: TargetSpec,
  probe: Probe,
  resolved?: ResolvedFqdns,
): TargetVerdict {
  const { probes, notes } = nativeProbes(rules, target, probe, resolved);
  if (probes.length === 0) return { verdict: 'deny', rules: [], notes: notes.length ? notes : ['nothing to evaluate'] };
  const allowRules = new Map<string, NativeRuleRef>();
  const allNotes = new Set(notes);
  for (const p of probes) {
    const v = evaluator(p);
    for (const n of v.notes ?? []) allNotes.add(n);
    if (v.verdict === 'deny') {
      const where =
        p.source.kind === 'external' && p.source.cidr && probes.length > 1
          ? [`denied from ${p.source.cidr}`]
          : p.destination.kind === 'external' && p.destination.cidr && probes.length > 1
            ? [`denied to ${p.destination.cidr}`]
            : [];
      return { verdict: 'deny', rules: v.rules, notes: [...allNotes, ...where] };
    }
    for (const r of v.rules) allowRules.set(refKey(r), r);
  }
  return { verdict: 'allow', rules: [...allowRules.values()], notes: [...allNotes] };
}

/** A render as a state the evaluators read (the model's own objects, nothing unowned). */
export function renderedState(target: TargetSpec, resources: readonly Resource[]): ProviderState {
  return { target: target.name, source: 'snapshot', resources, fingerprint: '', diagnostics: [] };
}

/**
 * Why the live verdict differs from the model's: an unowned rule decides; or the live state
 * differs from the model's render (`rendered` answers like the model: drift); or the render
 * itself answers like the live state (a cloud default or the closest native form of the model,
 * e.g. `internet` as 0.0.0.0/0 on AWS and GCP, GCP's implied allow egress, a policy order).
 */
export function explainDisagreement(
  model: ModelVerdict,
  live: TargetVerdict,
  rendered: TargetVerdict | undefined,
  options: EvaluateOptions = {},
): Disagreement | undefined {
  if (model.verdict === live.verdict) return undefined;
  const unowned = live.rules.filter((r) => r.kind === 'rule' && !r.owned);
  if (unowned.length > 0) {
    return {
      cause: 'unowned-rule',
      message: `decided by ${unowned.map((r) => r.summary).join('; ')}, which the model does not own (another team's rule)`,
    };
  }
  if (rendered && rendered.verdict === live.verdict) {
    const defaults = live.rules.filter((r) => r.kind !== 'rule');
    const why =
      defaults.length > 0 ? defaults.map((r) => r.summary).join('; ') : live.rules.map((r) => r.summary).join('; ');
    // GCP's default order puts the VPC rules (the model's deny-all egress) before the policy's FQDN allows.
    const order =
      model.verdict === 'allow' &&
      options.policyEnforcementOrder === undefined &&
      live.notes.some((n) => n.includes('AFTER_CLASSIC_FIREWALL'))
        ? ' (see the note on the policy enforcement order)'
        : '';
    return { cause: 'cloud-default', message: `the model's own render answers ${live.verdict} too: ${why}${order}` };
  }
  return {
    cause: 'drift',
    message:
      live.verdict === 'allow'
        ? `the live state allows it through ${live.rules.map((r) => r.summary).join('; ')}, which the model's render does not have (drift: run plan)`
        : `the live state lacks what the model's render has (drift or not applied yet: run plan)${live.rules.length ? `; denied by ${live.rules.map((r) => r.summary).join('; ')}` : ''}`,
  };
}
