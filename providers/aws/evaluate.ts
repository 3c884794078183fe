import type { CloudBindingOf, PortMatch, TargetSpec } from '../../src/compile/types.js';
import { protocolNumberMatch } from '../../src/model/services.js';
import type { ProviderState, Resource } from '../../src/plan/types.js';
import type {
  EvaluateContext,
  NativeEnd,
  NativeEvaluator,
  NativeProbe,
  NativeRuleRef,
  NativeVerdict,
} from '../../src/reach/native.js';
import { rangesMatch, serviceMatches } from '../../src/reach/native-match.js';
import { groupName, prefixListName } from './render.js';
import { childRule, PL_TYPE, SG_TYPE, type AwsRule } from './canonical.js';

/**
 * The AWS evaluator (pure): decides a probe on security groups as EC2 does (cloud-semantics §1.1).
 *
 * - Allow-only and stateful: traffic passes when the sender's groups have an egress rule toward
 *   the receiver AND the receiver's groups have an ingress rule from the sender (only the side
 *   that is an instance of the VPC is checked for an outside address). Rules of all groups on an
 *   instance are unioned; nothing is ordered, so any admitting rule decides. No rule: denied.
 * - Peers: a CIDR matches addresses (a segment instance by its representative internal address),
 *   an SG reference matches instances in that group, a prefix list matches its entries (owned and
 *   read lists) or, for an AWS-managed list whose entries Bulkhead does not read, the entity bound
 *   to it by name (`aws: { prefixList }`).
 * - `-1`/`all` and protocols without ports (sctp is 132) match every port.
 * - An instance of a segment is in the segment's group only: without an inventory of network
 *   interfaces Bulkhead cannot know other groups attached to the same ENI (the notes say so when
 *   the VPC has groups the model does not own).
 */

interface Group {
  readonly name: string;
  readonly id?: string;
  readonly rules: { readonly rule: AwsRule; readonly key: string; readonly liveId?: string; readonly owned: boolean }[];
}

/** The PortMatch of an AWS rule's protocol and ports. */
export function awsRuleService(rule: Pick<AwsRule, 'protocol' | 'fromPort' | 'toPort'>): PortMatch {
  switch (rule.protocol) {
    case 'all':
      return { kind: 'all' };
    case 'tcp':
    case 'udp':
      return { kind: 'ports', protocol: rule.protocol, from: rule.fromPort ?? 0, to: rule.toPort ?? 65535 };
    case 'icmp':
    case 'icmpv6': {
      const type = rule.fromPort === null || rule.fromPort === -1 ? null : rule.fromPort;
      const code = type === null || rule.toPort === null || rule.toPort === -1 ? null : rule.toPort;
      return { kind: 'icmp', protocol: rule.protocol, type, code };
    }
    default: {
      const n = Number(rule.protocol);
      // AWS filters ports only for tcp/udp/icmp: any other protocol (sctp = 132 too) is all of it.
      return Number.isInteger(n) ? protocolNumberMatch(n) : { kind: 'protocol', number: -1 };
    }
  }
}

/** Builds the AWS evaluator for one target's state (owned and, when read, unowned objects). */
export function evaluateAws(target: TargetSpec, state: ProviderState, context: EvaluateContext): NativeEvaluator {
  const groups = new Map<string, Group>();
  const byAlias = new Map<string, Group>();
  const lists = new Map<string, string[]>();
  const add = (r: Resource, owned: boolean) => {
    if (r.type === PL_TYPE) {
      const entries = r.children.map((c) => String(c.attributes['cidr'] ?? c.key));
      for (const alias of [r.name, r.liveId]) if (alias) lists.set(alias, [...(lists.get(alias) ?? []), ...entries]);
      return;
    }
    if (r.type !== SG_TYPE) return;
    const adopted =
      typeof r.attributes['adoptedGroupId'] === 'string' ? (r.attributes['adoptedGroupId'] as string) : undefined;
    const id = adopted ?? r.liveId;
    let g = (id ? byAlias.get(id) : undefined) ?? byAlias.get(r.name);
    if (!g) {
      g = { name: r.name, ...(id ? { id } : {}), rules: [] };
      groups.set(r.name, g);
    }
    for (const alias of [r.name, id]) if (alias) byAlias.set(alias, g);
    for (const c of r.children)
      g.rules.push({ rule: childRule(c), key: c.key, ...(c.liveId ? { liveId: c.liveId } : {}), owned });
  };
  for (const r of state.resources) add(r, true);
  for (const r of state.unowned ?? []) add(r, false);
  const segmentGroup = new Map(context.segments.map((s) => [s.name, groupName(context.model, s.name)]));
  const ownedGroups = new Set(state.resources.filter((r) => r.type === SG_TYPE).map((r) => byAlias.get(r.name)));
  const unownedGroups = [...groups.values()].filter((g) => !ownedGroups.has(g)).length;

  /** Is the end an instance of the group named `ref` (managed name or sg id)? */
  const inGroup = (end: NativeEnd, ref: string): boolean => {
    if (end.kind !== 'segment') return false;
    const mine = byAlias.get(segmentGroup.get(end.segment) ?? '');
    const target = byAlias.get(ref);
    return mine !== undefined && mine === target;
  };

  const peerMatches = (rule: AwsRule, other: NativeEnd): boolean => {
    const p = rule.peer;
    switch (p.kind) {
      case 'cidr':
        return rangesMatch([p.cidr], other, 'contains');
      case 'group':
        return inGroup(other, p.ref);
      case 'prefix-list': {
        if (other.kind === 'external' && (other.binding as CloudBindingOf<'aws'> | undefined)?.prefixList === p.ref)
          return true;
        const entries = lists.get(p.ref);
        if (entries) {
          if (other.kind === 'external' && other.cidr === undefined && other.entity !== undefined) {
            // An unresolved FQDN entity: the list made for it is its list.
            return (
              p.ref === prefixListName(context.model, other.entity, 'IPv4') ||
              p.ref === prefixListName(context.model, other.entity, 'IPv6')
            );
          }
          return rangesMatch(entries, other, 'contains');
        }
        return false;
      }
    }
  };

  const ref = (g: Group, r: Group['rules'][number]): NativeRuleRef => ({
    object: g.name,
    rule: r.key,
    ...(r.liveId ? { id: r.liveId } : {}),
    direction: r.rule.direction,
    action: 'allow',
    owned: r.owned,
    kind: 'rule',
    summary: `${g.name}${g.id && g.id !== g.name ? ` (${g.id})` : ''}: ${r.key}`,
  });

  /** The admitting rule of `end`'s group in `direction` toward `other`, or the implied deny. */
  const side = (
    end: NativeEnd & { kind: 'segment' },
    direction: 'ingress' | 'egress',
    other: NativeEnd,
    probe: NativeProbe,
  ): { ok: boolean; rule: NativeRuleRef } => {
    const name = segmentGroup.get(end.segment) ?? groupName(context.model, end.segment);
    const g = byAlias.get(name);
    for (const r of g?.rules ?? []) {
      if (r.rule.direction !== direction) continue;
      if (!serviceMatches([awsRuleService(r.rule)], probe.service, 'contains')) continue;
      if (!peerMatches(r.rule, other)) continue;
      return { ok: true, rule: ref(g!, r) };
    }
    const what = g ? `no ${direction} rule of ${name} admits it` : `security group ${name} does not exist`;
    return {
      ok: false,
      rule: {
        object: name,
        rule: `implicit-deny-${direction}`,
        direction,
        action: 'deny',
        owned: false,
        kind: 'implied',
        summary: `${what} (security groups deny what no rule allows)`,
      },
    };
  };

  const services = [...groups.values()].flatMap((g) => g.rules.map((r) => awsRuleService(r.rule)));
  const evaluate = (probe: NativeProbe): NativeVerdict => {
    const parts: { ok: boolean; rule: NativeRuleRef }[] = [];
    if (probe.source.kind === 'segment') parts.push(side(probe.source, 'egress', probe.destination, probe));
    if (probe.destination.kind === 'segment') parts.push(side(probe.destination, 'ingress', probe.source, probe));
    const notes =
      unownedGroups > 0
        ? [
            `target ${target.name}: ${unownedGroups} security group(s) the model does not own are in the VPC; an instance that also has one of them may be allowed more`,
          ]
        : [];
    const failed = parts.filter((p) => !p.ok);
    if (parts.length === 0) return { verdict: 'deny', rules: [], notes: ['neither end is an instance of the VPC'] };
    if (failed.length > 0)
      return { verdict: 'deny', rules: failed.map((p) => p.rule), ...(notes.length ? { notes } : {}) };
    return { verdict: 'allow', rules: parts.map((p) => p.rule), ...(notes.length ? { notes } : {}) };
  };
  return Object.assign(evaluate, { services });
}
