import { cidrContains } from '../../../src/model/addresses.js';
import type { FirewallSpec } from '../../../providers/gcp/canonical.js';

/**
 * A small evaluator of rendered VPC firewall rules with GCP's semantics (lowest priority number
 * wins, deny wins ties, implied allow egress and deny ingress), independent of render: tests ask
 * it what a packet between two VMs meets.
 */

/** A VM: its internal address and the identity the model gives its segment. */
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
export function winner(rules: readonly FirewallSpec[]): FirewallSpec | undefined {
  return [...rules].sort((a, b) => a.priority - b.priority || (a.action === b.action ? 0 : a.action === 'deny' ? -1 : 1))[0];
}

/** GCP's verdict: egress then ingress; implied allow egress and implied deny ingress at 65535. */
export function verdict(rules: readonly FirewallSpec[], p: Packet): { egress: 'allow' | 'deny'; ingress: 'allow' | 'deny' } {
  return {
    egress: winner(matching(rules, 'EGRESS', p))?.action ?? 'allow',
    ingress: winner(matching(rules, 'INGRESS', p))?.action ?? 'deny',
  };
}

