import type { CloudBindingOf, PortMatch, TargetSpec } from '../../src/compile/types.js';
import type { ProviderState, Resource } from '../../src/plan/types.js';
import type {
  EvaluateContext,
  NativeEnd,
  NativeEvaluator,
  NativeProbe,
  NativeRuleRef,
  NativeVerdict,
} from '../../src/reach/native.js';
import {
  insideRanges,
  outsideRanges,
  rangesMatch,
  serviceMatches,
  type MatchMode,
} from '../../src/reach/native-match.js';
import { canonicalPrefix, type RuleAttributes } from './canonical.js';
import { asgName, AZURE_TYPES, azureConfig } from './render.js';
import { azureTarget } from './target.js';
import { nsgOfSegments, targetNsgs } from './nsgs.js';

/**
 * The Azure evaluator (pure): decides a probe on the target's NSG as Azure does
 * (cloud-semantics §2.1, §2.2).
 *
 * - Per direction, rules are taken in priority order (lower first) and the first that matches
 *   decides; after the NSG's own rules (owned and unowned alike) come the default rules, which
 *   no NSG lacks: inbound AllowVNetInBound 65000, AllowAzureLoadBalancerInBound 65001,
 *   DenyAllInBound 65500; outbound AllowVnetOutBound 65000, AllowInternetOutBound 65001,
 *   DenyAllOutBound 65500.
 * - Stateful: a segment sender's outbound rules and a segment receiver's inbound rules both
 *   apply, each from the NSG of that segment (the target's one `nsg`, or with `nsgs` the NSG on
 *   the segment's subnet); an outside end is only checked on the side that is in the VNet.
 * - Addresses: `*`, CIDRs, ASGs (a segment's instance is a member of its ASG `<model>-<segment>`),
 *   and service tags: `VirtualNetwork` (the VNet address space: the target's internal ranges
 *   unless the options give it; a segment's instance is always in it), `Internet` (everything
 *   outside it), `AzureLoadBalancer` (168.63.129.16), and any other tag (`Storage.WestEurope`)
 *   matches the entity bound to it (`azure: { serviceTag }`).
 * - A rule that only partly covers the probe (a port range probe over a narrower allow) does not
 *   admit it; a deny that touches any of it closes it.
 */

/** The six default security rules of every NSG. */
export const DEFAULT_RULES: readonly (RuleAttributes & { readonly name: string })[] = [
  defaultRule('AllowVnetInBound', 'inbound', 65000, 'allow', 'VirtualNetwork', 'VirtualNetwork'),
  defaultRule('AllowAzureLoadBalancerInBound', 'inbound', 65001, 'allow', 'AzureLoadBalancer', '*'),
  defaultRule('DenyAllInBound', 'inbound', 65500, 'deny', '*', '*'),
  defaultRule('AllowVnetOutBound', 'outbound', 65000, 'allow', 'VirtualNetwork', 'VirtualNetwork'),
  defaultRule('AllowInternetOutBound', 'outbound', 65001, 'allow', '*', 'Internet'),
  defaultRule('DenyAllOutBound', 'outbound', 65500, 'deny', '*', '*'),
];

function defaultRule(
  name: string,
  direction: 'inbound' | 'outbound',
  priority: number,
  access: 'allow' | 'deny',
  source: string,
  destination: string,
): RuleAttributes & { name: string } {
  return {
    name,
    access,
    direction,
    priority,
    protocol: '*',
    source: [source],
    sourcePorts: ['*'],
    destination: [destination],
    destinationPorts: ['*'],
    description: 'Azure default rule',
  };
}

/** The address of Azure's load balancer health probes (the `AzureLoadBalancer` tag). */
const AZURE_LB = ['168.63.129.16/32'];

/** The PortMatches an NSG rule's protocol and destination ports cover. */
export function nsgRuleServices(a: Pick<RuleAttributes, 'protocol' | 'destinationPorts'>): PortMatch[] {
  const ranges = a.destinationPorts.map((p) => {
    if (p === '*') return { from: 0, to: 65535 };
    const [from, to = from] = p.split('-').map(Number) as [number, number?];
    return { from, to: to! };
  });
  const ported = (protocol: 'tcp' | 'udp') =>
    ranges.map((r): PortMatch => ({ kind: 'ports', protocol, from: r.from, to: r.to }));
  switch (a.protocol) {
    case '*':
      return a.destinationPorts.includes('*')
        ? [{ kind: 'all' }]
        : [
            ...ported('tcp'),
            ...ported('udp'),
            { kind: 'icmp', protocol: 'icmp', type: null, code: null },
            { kind: 'icmp', protocol: 'icmpv6', type: null, code: null },
          ];
    case 'tcp':
    case 'udp':
      return ported(a.protocol);
    case 'icmp':
      // Azure's Icmp covers ICMP for IPv4 and IPv6 alike.
      return [
        { kind: 'icmp', protocol: 'icmp', type: null, code: null },
        { kind: 'icmp', protocol: 'icmpv6', type: null, code: null },
      ];
    case 'esp':
      return [{ kind: 'protocol', number: 50 }];
    case 'ah':
      return [{ kind: 'protocol', number: 51 }];
    default:
      return [];
  }
}

interface NsgRule extends RuleAttributes {
  readonly name: string;
  readonly liveId?: string;
  readonly owned: boolean;
  readonly kind: 'rule' | 'default';
}

/** Builds the Azure evaluator for one target's state (owned and, when read, unowned rules). */
export function evaluateAzure(target: TargetSpec, state: ProviderState, context: EvaluateContext): NativeEvaluator {
  const cfg = azureConfig(target);
  const vnet = (context.options?.virtualNetwork ?? azureTarget.internalRanges(azureConfig(target))).map(
    canonicalPrefix,
  );
  const rg = cfg.resourceGroup.toLowerCase();
  // Per NSG of the target: its rules (owned and unowned, then Azure's defaults) per direction.
  const nsgs = new Map<
    string,
    { name: string; exists: boolean; byDirection: Record<'inbound' | 'outbound', NsgRule[]> }
  >();
  const rules: NsgRule[] = [];
  for (const nsgName of targetNsgs(cfg)) {
    const nsgOf = (r: Resource) => r.type === AZURE_TYPES.nsg && r.name.toLowerCase() === nsgName.toLowerCase();
    const here: NsgRule[] = [];
    const seen = new Set<string>();
    for (const [list, owned] of [
      [state.resources, true],
      [state.unowned ?? [], false],
    ] as const) {
      for (const r of list.filter(nsgOf)) {
        for (const c of r.children) {
          if (seen.has(c.key.toLowerCase())) continue;
          seen.add(c.key.toLowerCase());
          here.push({
            ...(c.attributes as unknown as RuleAttributes),
            name: c.key,
            ...(c.liveId ? { liveId: c.liveId } : {}),
            owned,
            kind: 'rule',
          });
        }
      }
    }
    const exists = state.resources.some(nsgOf) || (state.unowned ?? []).some(nsgOf);
    for (const d of DEFAULT_RULES) here.push({ ...d, owned: false, kind: 'default' });
    rules.push(...here);
    nsgs.set(nsgName, {
      name: nsgName,
      exists,
      byDirection: {
        inbound: here.filter((r) => r.direction === 'inbound').sort((a, b) => a.priority - b.priority),
        outbound: here.filter((r) => r.direction === 'outbound').sort((a, b) => a.priority - b.priority),
      },
    });
  }
  const nsgOfSegment = nsgOfSegments(cfg, context.segments);
  /** The NSG a segment's traffic meets (undefined for a segment no NSG lists: only defaults apply). */
  const nsgFor = (segment: string) => nsgs.get(nsgOfSegment.get(segment) ?? '');
  const NO_NSG = {
    inbound: DEFAULT_RULES.filter((r) => r.direction === 'inbound').map(
      (d): NsgRule => ({ ...d, owned: false, kind: 'default' }),
    ),
    outbound: DEFAULT_RULES.filter((r) => r.direction === 'outbound').map(
      (d): NsgRule => ({ ...d, owned: false, kind: 'default' }),
    ),
  };
  const asgOfSegment = new Map(
    context.segments.map((s) => [s.name, `asg:${rg}/${asgName(context.model, s.name).toLowerCase()}`]),
  );

  /** Does one address value of a rule side match an end? */
  const valueMatches = (value: string, end: NativeEnd, mode: MatchMode): boolean => {
    if (value === '*') return true;
    if (value.startsWith('asg:'))
      return end.kind === 'segment' && asgOfSegment.get(end.segment) === value.toLowerCase();
    const tag = value.toLowerCase();
    if (tag === 'virtualnetwork') return end.kind === 'segment' || insideRanges(vnet, end);
    // Internet: outside the VNet. An allow admits an outside end only if none of it is inside.
    if (tag === 'internet')
      return end.kind === 'external' && (mode === 'contains' ? !overlapsVnet(end) : outsideRanges(vnet, end));
    if (tag === 'azureloadbalancer') return rangesMatch(AZURE_LB, end, mode);
    if (/^[0-9a-f:.]+\/\d+$/i.test(value)) return rangesMatch([value], end, mode);
    // Any other service tag: the entity bound to it.
    return (
      end.kind === 'external' && (end.binding as CloudBindingOf<'azure'> | undefined)?.serviceTag?.toLowerCase() === tag
    );
  };
  /** Does any address of the end lie inside the VNet (then `Internet` does not contain it)? */
  const overlapsVnet = (end: NativeEnd): boolean => {
    if (end.kind === 'segment') return true;
    return end.cidr !== undefined && rangesMatch(vnet, { kind: 'external', cidr: end.cidr }, 'overlaps');
  };

  const ref = (nsg: string, r: NsgRule, direction: 'ingress' | 'egress'): NativeRuleRef => ({
    object: nsg,
    rule: r.name,
    ...(r.liveId ? { id: r.liveId } : {}),
    direction,
    action: r.access,
    priority: r.priority,
    owned: r.owned,
    kind: r.kind,
    summary: `NSG ${nsg} rule ${r.name}: ${r.direction} ${r.access} ${r.protocol}/${r.destinationPorts.join(',')} ${r.source.join(',')} -> ${r.destination.join(',')} (priority ${r.priority}${r.kind === 'default' ? ', Azure default rule' : ''})`,
  });

  // The rules that may apply to a segment's instance, per direction (its own side names its ASG
  // or no ASG at all), in priority order, from its own NSG: built once per segment, so a probe
  // does not scan the rules of every other segment's ASG.
  const bySegment = new Map<string, NsgRule[]>();
  const candidates = (direction: 'inbound' | 'outbound', segment: string): readonly NsgRule[] => {
    const key = `${direction}|${segment}`;
    let list = bySegment.get(key);
    if (!list) {
      const mine = asgOfSegment.get(segment);
      list = (nsgFor(segment)?.byDirection ?? NO_NSG)[direction].filter((r) => {
        const side = direction === 'inbound' ? r.destination : r.source;
        return side.some((v) => !v.startsWith('asg:') || v.toLowerCase() === mine);
      });
      bySegment.set(key, list);
    }
    return list;
  };
  const decide = (direction: 'inbound' | 'outbound', probe: NativeProbe, segment: string): NsgRule => {
    const list = candidates(direction, segment);
    for (const r of list) {
      const mode: MatchMode = r.access === 'allow' ? 'contains' : 'overlaps';
      // An allow limited to some source ports does not admit "any source port".
      if (mode === 'contains' && !r.sourcePorts.includes('*')) continue;
      if (!serviceMatches(nsgRuleServices(r), probe.service, mode)) continue;
      if (!r.source.some((v) => valueMatches(v, probe.source, mode))) continue;
      if (!r.destination.some((v) => valueMatches(v, probe.destination, mode))) continue;
      return r;
    }
    // Unreachable: DenyAll* match everything.
    return list[list.length - 1]!;
  };

  const services = rules.flatMap((r) => nsgRuleServices(r));
  const evaluate = (probe: NativeProbe): NativeVerdict => {
    const decided: NativeRuleRef[] = [];
    const notes: string[] = [];
    const side = (direction: 'inbound' | 'outbound', segment: string) => {
      const nsg = nsgFor(segment);
      const name = nsg?.name ?? nsgOfSegment.get(segment) ?? '(none)';
      if (!nsg)
        notes.push(`segment ${segment} is in no NSG of target ${target.name}: only Azure's default rules apply`);
      else if (!nsg.exists) {
        const note = `NSG ${nsg.name} of target ${target.name} does not exist: only Azure's default rules apply`;
        if (!notes.includes(note)) notes.push(note);
      }
      decided.push(ref(name, decide(direction, probe, segment), direction === 'outbound' ? 'egress' : 'ingress'));
    };
    if (probe.source.kind === 'segment') side('outbound', probe.source.segment);
    if (probe.destination.kind === 'segment') side('inbound', probe.destination.segment);
    if (decided.length === 0) return { verdict: 'deny', rules: [], notes: ['neither end is in the VNet'] };
    const denied = decided.filter((r) => r.action === 'deny');
    return {
      verdict: denied.length > 0 ? 'deny' : 'allow',
      rules: denied.length > 0 ? denied : decided,
      ...(notes.length ? { notes } : {}),
    };
  };
  return Object.assign(evaluate, { services });
}
