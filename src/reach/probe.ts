import { canonicalCidr } from '../../providers/kit/cidr.js';
import type { PortMatch, RuleSet } from '../compile/types.js';
import { parseService } from '../model/services.js';
import { didYouMean } from '../model/suggest.js';

/**
 * Probes: the question `explain`, `audit` and the effective drift ask of the model and of each
 * cloud: may this source send this traffic to this destination? Shared vocabulary of the model
 * evaluator (model-verdict.ts) and the cloud evaluators (providers/<cloud>/evaluate.ts).
 */

/** One end of a probe, as the model names things. */
export type ProbeEndpoint =
  /** A segment of the model. */
  | { readonly kind: 'segment'; readonly name: string }
  /** An entity of the model by name, or the built-in `internet`. */
  | { readonly kind: 'entity'; readonly name: string }
  /** An address or a range: any IPv4/IPv6 text, canonicalized with providers/kit/cidr.ts (a bare address is /32 or /128). */
  | { readonly kind: 'address'; readonly address: string };

/**
 * What is sent. A PortMatch as the model writes services (`tcp/443`, `icmp/8`, `esp`, `all`):
 * a rule admits the probe when it contains all of it; a deny closes it when it overlaps any of it.
 * A single port (`tcp/443`) is the usual probe.
 */
export type ProbeService = PortMatch;

/** A probe: source, destination and traffic. */
export interface Probe {
  readonly source: ProbeEndpoint;
  readonly destination: ProbeEndpoint;
  readonly service: ProbeService;
}

/** True when every packet of `inner` matches `outer`. */
export function portMatchContains(outer: PortMatch, inner: PortMatch): boolean {
  if (outer.kind === 'all') return true;
  switch (inner.kind) {
    case 'all':
      return false;
    case 'ports':
      return (
        outer.kind === 'ports' && outer.protocol === inner.protocol && outer.from <= inner.from && inner.to <= outer.to
      );
    case 'icmp':
      if (outer.kind !== 'icmp' || outer.protocol !== inner.protocol) return false;
      if (outer.type === null) return true;
      if (inner.type === null || inner.type !== outer.type) return false;
      return outer.code === null || (inner.code !== null && inner.code === outer.code);
    case 'protocol':
      return outer.kind === 'protocol' && outer.number === inner.number;
  }
}

/** The canonical CIDR of an address probe (a host's bits beyond a prefix are zeroed: it names that network), or undefined. */
export function probeCidr(address: string): string | undefined {
  const r = canonicalCidr(address);
  if (r.ok) return r.text;
  return r.reason === 'host-bits' ? r.network : undefined;
}

/** Every entity name a RuleSet knows (declared CIDR entities, peers of rules and denies) plus `internet`. */
export function entityNames(rules: RuleSet): Set<string> {
  const out = new Set<string>(['internet']);
  for (const e of rules.entities ?? []) out.add(e.name);
  for (const r of rules.rules) if (r.peer.kind !== 'segment') out.add(r.peer.entity);
  for (const d of rules.denies) if (d.peer.kind !== 'segment' && d.peer.kind !== 'any') out.add(d.peer.entity);
  return out;
}

/** A parsed command-line endpoint, or why it is not one. */
export type EndpointParse =
  | { readonly ok: true; readonly endpoint: ProbeEndpoint }
  | { readonly ok: false; readonly message: string };

/**
 * Reads FROM/TO of `explain`: a segment of the model, an entity (or `internet`), else an address
 * or CIDR. Segment names win over entity names (validation keeps them apart anyway).
 */
export function parseProbeEndpoint(text: string, rules: RuleSet): EndpointParse {
  const name = text.trim();
  if (rules.segments.some((s) => s.name === name)) return { ok: true, endpoint: { kind: 'segment', name } };
  const entities = entityNames(rules);
  if (entities.has(name)) return { ok: true, endpoint: { kind: 'entity', name } };
  const r = canonicalCidr(name);
  if (r.ok) return { ok: true, endpoint: { kind: 'address', address: r.text } };
  if (!r.ok && r.reason === 'host-bits')
    return { ok: false, message: `"${text}": ${r.message}; write the network or the host address` };
  if (/^[0-9a-fA-F:.]+(\/\d+)?$/.test(name) && /[.:]/.test(name)) return { ok: false, message: r.message };
  const candidates = [...rules.segments.map((s) => s.name), ...entities];
  return {
    ok: false,
    message: `"${text}" is not a segment, an entity, internet or an address${didYouMean(name, candidates)}`,
  };
}

/** Parses `--port`: `tcp/443`, `udp/53`, `icmp/8`, `esp`, `all` (the model's service syntax, literals only). */
export function parseProbeService(
  text: string,
): { readonly ok: true; readonly service: ProbeService } | { readonly ok: false; readonly message: string } {
  const p = parseService(text.trim());
  if (p.kind === 'match') return { ok: true, service: p.match };
  if (p.kind === 'error') return { ok: false, message: p.message };
  return { ok: false, message: `"${text}" is not a protocol/port (write tcp/443, udp/53, icmp/8, esp or all)` };
}
