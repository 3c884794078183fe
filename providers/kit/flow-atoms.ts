import type { FlowAtom } from '../../src/provider.js';

/**
 * Helpers for the providers' `ruleFlows` (src/provider.ts): the flows a native rule allows, in the
 * one text form the plan's flow diagram compares (`tcp/443`, `tcp/9000-9010`, `icmp/8/0`, `all`).
 */

/** Every (from, to, port) of one rule side. */
export function crossFlows(
  side: FlowAtom['side'],
  froms: readonly string[],
  tos: readonly string[],
  ports: readonly string[],
  deny: boolean,
): FlowAtom[] {
  const out: FlowAtom[] = [];
  for (const from of froms) for (const to of tos) for (const port of ports) out.push({ side, from, to, port, deny });
  return out;
}

/** The peers of one rule side: named things each their own node, its CIDRs together as one (a list of ranges is one peer). */
export function flowPeers(cidrs: readonly string[], named: readonly string[]): string[] {
  return [...named, ...(cidrs.length > 0 ? [cidrs.join(', ')] : [])];
}

/** A protocol and an inclusive port range (null: every port; ICMP type/code, -1 for any) as flow text. */
export function flowPort(protocol: string, from: number | null, to: number | null): string {
  if (from === null || to === null) return protocol;
  if (protocol === 'icmp' || protocol === 'icmpv6') {
    return from < 0 ? protocol : to < 0 ? `${protocol}/${from}` : `${protocol}/${from}/${to}`;
  }
  if (from === 0 && to === 65535) return protocol;
  return from === to ? `${protocol}/${from}` : `${protocol}/${from}-${to}`;
}
