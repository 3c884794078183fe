import type { PortMatch, TargetSpec } from '../../src/compile/types.js';
import { cidrContains } from '../../src/model/addresses.js';
import { protocolNumberMatch } from '../../src/model/services.js';
import type { ProviderState } from '../../src/plan/types.js';
import type {
  EvaluateContext,
  NativeEnd,
  NativeEvaluator,
  NativeProbe,
  NativeRuleRef,
  NativeVerdict,
} from '../../src/reach/native.js';
import { rangesMatch, serviceMatches, type MatchMode } from '../../src/reach/native-match.js';
import {
  FIREWALL_TYPE,
  firewallSpecView,
  POLICY_TYPE,
  policyRuleSpecOf,
  type FirewallSpec,
  type PolicyRuleSpec,
  type ProtocolRule,
} from './canonical.js';
import { labelSlug as slug } from '../kit/names.js';

/**
 * The GCP evaluator (pure): decides a probe as Cloud NGFW does (cloud-semantics §3.1, §3.4).
 *
 * Per direction (egress at the sender when it is an instance, ingress at the receiver when it is):
 * 1. VPC firewall rules of the target's network and the global network firewall policy, in the
 *    order of the network's `networkFirewallPolicyEnforcementOrder` (AFTER_CLASSIC_FIREWALL, GCP's
 *    default, unless the options say otherwise; the read does not fetch the network).
 *    - VPC rules: the matching rule with the lowest priority number wins, a deny beats an allow at
 *      the same priority, and a match ends the evaluation. Targets: tags, service accounts, or
 *      every instance; sources: ranges ∪ tags ∪ service accounts (tags and accounts match
 *      instances only); egress matches destination ranges. Disabled rules are skipped.
 *    - Policy rules: the lowest priority matching rule decides; `goto_next` passes on to the next
 *      stage. Targets: service accounts and target networks (empty = all); `destFqdns` match the
 *      FQDN entity by name, ranges by address.
 * 2. Then the implied rules at 65535: allow all egress, deny all ingress.
 *
 * Instances of a segment carry its network tag `<model>-<segment>` or its service account.
 * Hierarchical (org/folder) policies are not read and not evaluated.
 */

/** A VM: its internal address and the identity the model gives its segment (packet-level helpers below). */
export interface Instance {
  readonly ip: string;
  readonly tag?: string;
  readonly sa?: string;
}

/** A packet from one VM (or outside address) to another. */
export interface Packet {
  readonly src: Instance;
  readonly dst: Instance;
  readonly protocol: string;
  /** Undefined for protocols without ports. */
  readonly port?: number;
}

/** The host CIDR of an address. */
export const host = (ip: string) => `${ip}/${ip.includes(':') ? 128 : 32}`;
/** Is the address in one of the ranges? */
export const inRanges = (ranges: readonly string[], ip: string) => ranges.some((c) => cidrContains(c, host(ip)));

/** Does the rule apply to this VM (targets: tags, service accounts, or every VM)? */
export function appliesTo(rule: FirewallSpec, vm: Instance): boolean {
  if (rule.targetTags.length > 0) return vm.tag !== undefined && rule.targetTags.includes(vm.tag);
  if (rule.targetServiceAccounts.length > 0) return vm.sa !== undefined && rule.targetServiceAccounts.includes(vm.sa);
  return true;
}

/** Does one of the rule's protocol entries match the packet? */
export function matchesProtocol(rule: FirewallSpec, p: Packet): boolean {
  return rule.rules.some((r) => {
    if (r.protocol === 'all') return true;
    if (r.protocol !== p.protocol) return false;
    if (r.ports.length === 0 || p.port === undefined) return true;
    return r.ports.some((range) => {
      const [from, to = from] = range.split('-').map(Number);
      return p.port! >= from! && p.port! <= to!;
    });
  });
}

/** Rules of one direction that match the packet, as GCP matches them. */
export function matching(rules: readonly FirewallSpec[], direction: 'INGRESS' | 'EGRESS', p: Packet): FirewallSpec[] {
  return rules.filter((r) => {
    if (r.direction !== direction || r.disabled || !matchesProtocol(r, p)) return false;
    if (direction === 'EGRESS') {
      return appliesTo(r, p.src) && (r.destinationRanges.length === 0 || inRanges(r.destinationRanges, p.dst.ip));
    }
    if (!appliesTo(r, p.dst)) return false;
    const anySource = r.sourceRanges.length === 0 && r.sourceTags.length === 0 && r.sourceServiceAccounts.length === 0;
    return (
      anySource ||
      inRanges(r.sourceRanges, p.src.ip) ||
      (p.src.tag !== undefined && r.sourceTags.includes(p.src.tag)) ||
      (p.src.sa !== undefined && r.sourceServiceAccounts.includes(p.src.sa))
    );
  });
}

/** The winning rule: lowest priority number; a deny beats an allow at equal priority. */
export function winner<T extends { readonly priority: number; readonly action: string }>(
  rules: readonly T[],
): T | undefined {
  return [...rules].sort(
    (a, b) => a.priority - b.priority || (a.action === b.action ? 0 : a.action === 'deny' ? -1 : 1),
  )[0];
}

/** GCP's verdict on VPC rules alone: egress then ingress; implied allow egress and implied deny ingress at 65535. */
export function verdict(
  rules: readonly FirewallSpec[],
  p: Packet,
): { egress: 'allow' | 'deny'; ingress: 'allow' | 'deny' } {
  return {
    egress: winner(matching(rules, 'EGRESS', p))?.action ?? 'allow',
    ingress: winner(matching(rules, 'INGRESS', p))?.action ?? 'deny',
  };
}

/** The PortMatches of GCP protocol entries (VPC `allowed`/`denied`, policy `layer4Configs`). */
export function gcpRuleServices(entries: readonly ProtocolRule[]): PortMatch[] {
  const out: PortMatch[] = [];
  for (const e of entries) {
    const p = e.protocol;
    if (p === 'all') out.push({ kind: 'all' });
    else if (p === 'tcp' || p === 'udp' || p === 'sctp') {
      if (e.ports.length === 0) out.push({ kind: 'ports', protocol: p, from: 0, to: 65535 });
      for (const r of e.ports) {
        const [from, to = from] = r.split('-').map(Number) as [number, number?];
        out.push({ kind: 'ports', protocol: p, from, to: to! });
      }
    } else if (p === 'icmp') out.push({ kind: 'icmp', protocol: 'icmp', type: null, code: null });
    else if (p === '58' || p === 'ipv6-icmp' || p === 'icmpv6')
      out.push({ kind: 'icmp', protocol: 'icmpv6', type: null, code: null });
    else if (p === 'esp') out.push({ kind: 'protocol', number: 50 });
    else if (p === 'ah') out.push({ kind: 'protocol', number: 51 });
    else if (p === 'ipip') out.push({ kind: 'protocol', number: 4 });
    else if (/^\d+$/.test(p)) out.push(protocolNumberMatch(Number(p)));
  }
  return out;
}

type Owned<T> = T & { readonly owned: boolean; readonly liveId?: string };

/** Builds the GCP evaluator for one target's state (owned and, when read, unowned objects). */
export function evaluateGcp(target: TargetSpec, state: ProviderState, context: EvaluateContext): NativeEvaluator {
  if (target.kind !== 'gcp') throw new Error(`target ${target.name} is not a GCP target`);
  const gcp = target.gcp;
  const network = `projects/${gcp.project}/global/networks/${gcp.network}`;
  const order = context.options?.policyEnforcementOrder ?? 'AFTER_CLASSIC_FIREWALL';
  const firewalls: Owned<FirewallSpec>[] = [];
  const policyRules: Owned<PolicyRuleSpec>[] = [];
  const seen = new Set<string>();
  for (const [list, owned] of [
    [state.resources, true],
    [state.unowned ?? [], false],
  ] as const) {
    for (const r of list) {
      if (r.type === FIREWALL_TYPE) {
        const spec = firewallSpecView(r);
        if (spec.network !== network || spec.disabled || seen.has(`fw:${spec.name}`)) continue;
        seen.add(`fw:${spec.name}`);
        firewalls.push({ ...spec, owned, ...(r.liveId ? { liveId: r.liveId } : {}) });
      } else if (r.type === POLICY_TYPE && r.name === gcp.firewallPolicy) {
        for (const c of r.children) {
          const spec = policyRuleSpecOf(c);
          if (spec.disabled || seen.has(`pol:${spec.priority}`)) continue;
          seen.add(`pol:${spec.priority}`);
          policyRules.push({ ...spec, owned });
        }
      }
    }
  }
  firewalls.sort(
    (a, b) =>
      a.priority - b.priority ||
      (a.action === b.action ? 0 : a.action === 'deny' ? -1 : 1) ||
      (a.name < b.name ? -1 : 1),
  );
  policyRules.sort((a, b) => a.priority - b.priority);
  const fwServices = new Map(firewalls.map((f) => [f, gcpRuleServices(f.rules)]));
  const polServices = new Map(policyRules.map((p) => [p, gcpRuleServices(p.layer4Configs)]));
  const identity = new Map(
    context.segments.map(
      (s) =>
        [
          s.name,
          s.gcp?.serviceAccount
            ? { sa: s.gcp.serviceAccount.toLowerCase() }
            : { tag: `${slug(context.model)}-${slug(s.name)}` },
        ] as const,
    ),
  );
  const idOf = (end: NativeEnd): { tag?: string; sa?: string } =>
    end.kind === 'segment' ? (identity.get(end.segment) ?? { tag: `${slug(context.model)}-${slug(end.segment)}` }) : {};

  const fqdnMemo = new Map<string, string[]>();
  const fqdnAddresses = (names: readonly string[]): string[] => {
    const key = names.join(',');
    let v = fqdnMemo.get(key);
    if (!v) {
      v = names.flatMap((f) => [...(context.resolved?.get(f)?.ipv4 ?? []), ...(context.resolved?.get(f)?.ipv6 ?? [])]);
      fqdnMemo.set(key, v);
    }
    return v;
  };
  const fwApplies = (r: FirewallSpec, end: NativeEnd): boolean => {
    if (end.kind !== 'segment') return false;
    const id = idOf(end);
    if (r.targetTags.length > 0) return id.tag !== undefined && r.targetTags.includes(id.tag);
    if (r.targetServiceAccounts.length > 0) return id.sa !== undefined && r.targetServiceAccounts.includes(id.sa);
    return true;
  };
  const fwMatches = (r: FirewallSpec, direction: 'INGRESS' | 'EGRESS', probe: NativeProbe): boolean => {
    if (r.direction !== direction) return false;
    const mode: MatchMode = r.action === 'allow' ? 'contains' : 'overlaps';
    if (!serviceMatches(fwServices.get(r as Owned<FirewallSpec>)!, probe.service, mode)) return false;
    if (direction === 'EGRESS')
      return fwApplies(r, probe.source) && rangesMatch(r.destinationRanges, probe.destination, mode);
    if (!fwApplies(r, probe.destination)) return false;
    const src = probe.source,
      id = idOf(src);
    return (
      rangesMatch(r.sourceRanges, src, mode) ||
      (id.tag !== undefined && r.sourceTags.includes(id.tag)) ||
      (id.sa !== undefined && r.sourceServiceAccounts.includes(id.sa))
    );
  };
  const polMatches = (r: PolicyRuleSpec, direction: 'INGRESS' | 'EGRESS', probe: NativeProbe): boolean => {
    if (r.direction !== direction) return false;
    const mode: MatchMode = r.action === 'deny' ? 'overlaps' : 'contains';
    if (!serviceMatches(polServices.get(r as Owned<PolicyRuleSpec>)!, probe.service, mode)) return false;
    const self = direction === 'EGRESS' ? probe.source : probe.destination;
    if (self.kind !== 'segment') return false;
    if (r.targetResources.length > 0 && !r.targetResources.includes(network)) return false;
    const id = idOf(self);
    if (r.targetServiceAccounts.length > 0 && !(id.sa !== undefined && r.targetServiceAccounts.includes(id.sa)))
      return false;
    if (direction === 'EGRESS') {
      const dst = probe.destination;
      const byName =
        (dst.kind === 'external' &&
          (dst.fqdns ?? []).length > 0 &&
          (dst.fqdns ?? []).every((f) => r.destFqdns.includes(f))) ||
        // The firewall resolves the names itself: an address they resolve to matches them too.
        (context.resolved !== undefined &&
          r.destFqdns.length > 0 &&
          rangesMatch(fqdnAddresses(r.destFqdns), dst, mode));
      const byRange = r.destIpRanges.length > 0 && rangesMatch(r.destIpRanges, dst, mode);
      const anyDest = r.destFqdns.length === 0 && r.destIpRanges.length === 0;
      return byName || byRange || anyDest;
    }
    return r.srcIpRanges.length === 0 || rangesMatch(r.srcIpRanges, probe.source, mode);
  };

  const fwRef = (r: Owned<FirewallSpec>): NativeRuleRef => ({
    object: r.name,
    rule: r.name,
    ...(r.liveId ? { id: r.liveId } : {}),
    direction: r.direction === 'EGRESS' ? 'egress' : 'ingress',
    action: r.action,
    priority: r.priority,
    owned: r.owned,
    kind: 'rule',
    summary: `VPC firewall rule ${r.name}: ${r.action} ${r.direction} (priority ${r.priority})`,
  });
  const polRef = (r: Owned<PolicyRuleSpec>): NativeRuleRef => ({
    object: gcp.firewallPolicy ?? '',
    rule: String(r.priority),
    direction: r.direction === 'EGRESS' ? 'egress' : 'ingress',
    action: r.action === 'deny' ? 'deny' : 'allow',
    priority: r.priority,
    owned: r.owned,
    kind: 'rule',
    summary: `firewall policy ${gcp.firewallPolicy} rule ${r.priority}${r.ruleName ? ` (${r.ruleName})` : ''}: ${r.action} ${r.direction}`,
  });

  // The rules that may apply to an instance, per direction and identity, in evaluation order:
  // built once per identity, so a probe scans its segment's rules, not the whole network's.
  // One pass over the sorted rules files each under the tags or accounts it targets (or under
  // "every instance"); an identity's list is the merge of its own and the untargeted ones, in order.
  const rank = new Map(firewalls.map((f, i) => [f, i]));
  const byTarget = {
    INGRESS: new Map<string, Owned<FirewallSpec>[]>(),
    EGRESS: new Map<string, Owned<FirewallSpec>[]>(),
  };
  const untargeted = { INGRESS: [] as Owned<FirewallSpec>[], EGRESS: [] as Owned<FirewallSpec>[] };
  for (const f of firewalls) {
    const keys = [...f.targetTags.map((t) => `tag:${t}`), ...f.targetServiceAccounts.map((a) => `sa:${a}`)];
    if (keys.length === 0) untargeted[f.direction].push(f);
    for (const k of keys) {
      const list = byTarget[f.direction].get(k);
      if (list) list.push(f);
      else byTarget[f.direction].set(k, [f]);
    }
  }
  const byIdentity = new Map<string, Owned<FirewallSpec>[]>();
  const candidates = (direction: 'INGRESS' | 'EGRESS', end: NativeEnd): readonly Owned<FirewallSpec>[] => {
    const id = idOf(end);
    const key = `${direction}|${id.tag ?? ''}|${id.sa ?? ''}`;
    let list = byIdentity.get(key);
    if (!list) {
      const own =
        (id.tag !== undefined ? byTarget[direction].get(`tag:${id.tag}`) : undefined) ??
        (id.sa !== undefined ? byTarget[direction].get(`sa:${id.sa}`) : undefined) ??
        [];
      list = [...own, ...untargeted[direction]].sort((a, b) => rank.get(a)! - rank.get(b)!);
      if (byIdentity.size > 10_000) byIdentity.clear();
      byIdentity.set(key, list);
    }
    return list;
  };
  const decide = (direction: 'INGRESS' | 'EGRESS', probe: NativeProbe): NativeRuleRef => {
    const vpc = (): NativeRuleRef | undefined => {
      const r = candidates(direction, direction === 'EGRESS' ? probe.source : probe.destination).find((f) =>
        fwMatches(f, direction, probe),
      );
      return r ? fwRef(r) : undefined;
    };
    const policy = (): NativeRuleRef | undefined => {
      for (const r of policyRules) {
        if (!polMatches(r, direction, probe)) continue;
        if (r.action === 'goto_next') return undefined;
        return polRef(r);
      }
      return undefined;
    };
    const stages = order === 'BEFORE_CLASSIC_FIREWALL' ? [policy, vpc] : [vpc, policy];
    for (const stage of stages) {
      const hit = stage();
      if (hit) return hit;
    }
    const egress = direction === 'EGRESS';
    return {
      object: gcp.network,
      rule: egress ? 'implied-allow-egress' : 'implied-deny-ingress',
      direction: egress ? 'egress' : 'ingress',
      action: egress ? 'allow' : 'deny',
      priority: 65535,
      owned: false,
      kind: 'implied',
      summary: egress
        ? 'implied rule: allow all egress (priority 65535)'
        : 'implied rule: deny all ingress (priority 65535)',
    };
  };

  const services = [...fwServices.values(), ...polServices.values()].flat();
  const evaluate = (probe: NativeProbe): NativeVerdict => {
    const decided: NativeRuleRef[] = [];
    if (probe.source.kind === 'segment') decided.push(decide('EGRESS', probe));
    if (probe.destination.kind === 'segment') decided.push(decide('INGRESS', probe));
    if (decided.length === 0)
      return { verdict: 'deny', rules: [], notes: ['neither end is an instance of the network'] };
    const denied = decided.filter((r) => r.action === 'deny');
    const notes =
      policyRules.length > 0 && order === 'AFTER_CLASSIC_FIREWALL'
        ? [
            `network ${gcp.network} is assumed to evaluate VPC firewall rules before firewall policy ${gcp.firewallPolicy} (AFTER_CLASSIC_FIREWALL, GCP's default)`,
          ]
        : [];
    return {
      verdict: denied.length > 0 ? 'deny' : 'allow',
      rules: denied.length > 0 ? denied : decided,
      ...(notes.length ? { notes } : {}),
    };
  };
  return Object.assign(evaluate, { services });
}
