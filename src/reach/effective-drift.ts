import type { PortMatch, RuleSet } from '../compile/types.js';
import type { Json } from '../plan/types.js';
import { formatPortMatch } from '../model/services.js';
import type { ResolvedFqdns } from '../resolve.js';
import { targetInternalRanges } from '../targets.js';
import { entityEndpoint, explainDisagreement, targetVerdict, type Disagreement } from './effective.js';
import { internetBlocks } from './native-match.js';
import { modelVerdict } from './model-verdict.js';
import type { EvaluateOptions, NativeRuleRef } from './native.js';
import { entityNames, type ProbeEndpoint } from './probe.js';
import type { ReachTarget } from './targets.js';

/**
 * `drift --effective`: every flow the live state allows between the model's segments and
 * entities (and `internet`) beyond what the model allows, with the native rules that open it.
 *
 * Ports: verdicts only change at the boundaries of the port ranges that some rule names (the
 * model's and the cloud's, owned or not), so one probe per region between boundaries covers every
 * port of every protocol; a finding reports the whole region (`tcp/1024-65535`).
 */

/** One flow the live state allows and the model does not. */
export interface EffectiveFinding {
  readonly source: string;
  readonly destination: string;
  /** The traffic region, as the model writes services. */
  readonly service: string;
  /** For an entity (or `internet`), the address blocks of it that are open. */
  readonly addresses?: readonly string[];
  readonly rules: readonly NativeRuleRef[];
  readonly disagreement?: Disagreement;
}

/** The findings of one target. */
export interface EffectiveTargetReport {
  readonly target: string;
  readonly source: 'live' | 'snapshot';
  readonly findings: readonly EffectiveFinding[];
}

const PORTED = ['tcp', 'udp', 'sctp'] as const;

/** One probe per region of the traffic the rules name: port-range boundaries, ICMP types, protocols. */
export function probeServices(named: readonly PortMatch[]): { probe: PortMatch; region: PortMatch }[] {
  const cuts = new Map<string, Set<number>>(PORTED.map((p) => [p, new Set([0])]));
  const icmp = new Map<'icmp' | 'icmpv6', Set<string>>([
    ['icmp', new Set(['*'])],
    ['icmpv6', new Set(['*'])],
  ]);
  const numbers = new Set<number>();
  for (const m of named) {
    if (m.kind === 'ports') {
      const c = cuts.get(m.protocol)!;
      c.add(m.from);
      if (m.to < 65535) c.add(m.to + 1);
    } else if (m.kind === 'icmp' && m.type !== null)
      icmp.get(m.protocol)!.add(m.code === null ? `${m.type}` : `${m.type}/${m.code}`);
    else if (m.kind === 'protocol') numbers.add(m.number);
  }
  const out: { probe: PortMatch; region: PortMatch }[] = [];
  for (const protocol of PORTED) {
    const points = [...cuts.get(protocol)!].sort((a, b) => a - b);
    points.forEach((from, i) => {
      const to = (points[i + 1] ?? 65536) - 1;
      out.push({ probe: { kind: 'ports', protocol, from, to: from }, region: { kind: 'ports', protocol, from, to } });
    });
  }
  for (const [protocol, types] of icmp) {
    for (const t of [...types].sort()) {
      if (t === '*') {
        // "Some ICMP": the type nothing names, as a packet (type 255 is unassigned).
        out.push({
          probe: { kind: 'icmp', protocol, type: 255, code: 0 },
          region: { kind: 'icmp', protocol, type: null, code: null },
        });
        continue;
      }
      const [type, code] = t.split('/').map(Number) as [number, number?];
      out.push({
        probe: { kind: 'icmp', protocol, type, code: code ?? 255 },
        region: { kind: 'icmp', protocol, type, code: code ?? null },
      });
    }
  }
  for (const n of [...numbers].sort((a, b) => a - b))
    out.push({ probe: { kind: 'protocol', number: n }, region: { kind: 'protocol', number: n } });
  return out;
}

/** The model's own services (its rules and guardrails), so model boundaries are regions too. */
function modelServices(rules: RuleSet): PortMatch[] {
  return [...rules.rules.map((r) => r.service), ...rules.denies.flatMap((d) => d.services)];
}

/** Finds what each target allows beyond the model. */
export function effectiveDrift(
  rules: RuleSet,
  targets: readonly ReachTarget[],
  resolved: ResolvedFqdns,
  options: EvaluateOptions = {},
): EffectiveTargetReport[] {
  const segments = rules.segments.map((s): ProbeEndpoint => ({ kind: 'segment', name: s.name }));
  const entities = [...entityNames(rules)].sort().map((name): ProbeEndpoint => ({ kind: 'entity', name }));
  const pairs: [ProbeEndpoint, ProbeEndpoint][] = [];
  for (const a of segments) for (const b of [...segments, ...entities]) pairs.push([a, b]);
  for (const a of entities) for (const b of segments) pairs.push([a, b]);
  const name = (e: ProbeEndpoint) => (e.kind === 'address' ? e.address : e.name);
  return targets.map((t) => {
    const services = probeServices([...modelServices(rules), ...(t.live.services ?? [])]);
    // An entity is open when any of its addresses is (a flow to part of it is still a flow): each
    // CIDR block is asked on its own, the findings grouped back under the entity's name.
    const parts = (e: ProbeEndpoint): ProbeEndpoint[] => {
      if (e.kind !== 'entity') return [e];
      if (e.name === 'internet')
        return internetBlocks(targetInternalRanges(t.target)).map((address) => ({ kind: 'address', address }));
      const ep = entityEndpoint(rules, e.name);
      if (ep?.kind === 'cidrs' && ep.ipv4.length + ep.ipv6.length > 0)
        return [...ep.ipv4, ...ep.ipv6].map((address) => ({ kind: 'address', address }));
      if (ep?.kind === 'fqdns') {
        const addrs = [
          ...new Set(ep.fqdns.flatMap((f) => [...(resolved.get(f)?.ipv4 ?? []), ...(resolved.get(f)?.ipv6 ?? [])])),
        ];
        if (addrs.length > 0) return addrs.map((address) => ({ kind: 'address', address }));
      }
      return [e];
    };
    const findings: EffectiveFinding[] = [];
    for (const [source, destination] of pairs) {
      const srcParts = parts(source),
        dstParts = parts(destination);
      for (const { probe: service, region } of services) {
        const rulesOpen = new Map<string, NativeRuleRef>();
        const blocks: string[] = [];
        let disagreement: Disagreement | undefined;
        for (const s of srcParts) {
          for (const d of dstParts) {
            const probe = { source: s, destination: d, service };
            const live = targetVerdict(t.live, rules, t.target, probe, resolved);
            if (live.verdict !== 'allow') continue;
            const model = modelVerdict(rules, probe, { resolved });
            if (model.verdict === 'allow') continue;
            const rendered = targetVerdict(t.rendered, rules, t.target, probe, resolved);
            disagreement ??= explainDisagreement(model, live, rendered, options);
            for (const r of live.rules) rulesOpen.set(`${r.object}\u0000${r.rule}\u0000${r.direction}`, r);
            for (const e of [s, d])
              if (
                e.kind === 'address' &&
                (source.kind === 'entity' || destination.kind === 'entity') &&
                !blocks.includes(e.address)
              )
                blocks.push(e.address);
          }
        }
        if (rulesOpen.size === 0) continue;
        findings.push({
          source: name(source),
          destination: name(destination),
          service: formatPortMatch(region),
          ...(blocks.length > 0 ? { addresses: blocks } : {}),
          rules: [...rulesOpen.values()],
          ...(disagreement ? { disagreement } : {}),
        });
      }
    }
    return { target: t.target.name, source: t.source, findings };
  });
}

/** JSON: `{"targets": {"<name>": {"source", "flows": [{"source", "destination", "service", "cause", "rules": [...]}]}}}`. */
export function effectiveDriftJson(reports: readonly EffectiveTargetReport[]): Json {
  const targets: { [name: string]: Json } = {};
  for (const r of reports) {
    targets[r.target] = {
      source: r.source,
      flows: r.findings.map((f) => ({
        source: f.source,
        destination: f.destination,
        service: f.service,
        ...(f.addresses ? { addresses: [...f.addresses] } : {}),
        ...(f.disagreement ? { cause: f.disagreement.cause, message: f.disagreement.message } : {}),
        rules: f.rules.map((x) => ({
          object: x.object,
          rule: x.rule,
          ...(x.id ? { id: x.id } : {}),
          direction: x.direction,
          owned: x.owned,
          kind: x.kind,
          summary: x.summary,
        })),
      })),
    };
  }
  return { effective: true, targets };
}

/** Text: one line per flow, the opening rules under it. */
export function formatEffectiveDrift(reports: readonly EffectiveTargetReport[]): string {
  const lines: string[] = [];
  for (const r of reports) {
    if (r.findings.length === 0) {
      lines.push(`${r.target} (${r.source}): allows nothing beyond the model`);
      continue;
    }
    lines.push(
      `${r.target} (${r.source}): ${r.findings.length} flow${r.findings.length === 1 ? '' : 's'} beyond the model`,
    );
    for (const f of r.findings) {
      const some = f.addresses
        ? ` (from/to ${f.addresses.length <= 3 ? f.addresses.join(', ') : `${f.addresses.slice(0, 3).join(', ')} and ${f.addresses.length - 3} more blocks`})`
        : '';
      lines.push(
        `  ${f.source} -> ${f.destination} ${f.service}${some}${f.disagreement ? ` [${f.disagreement.cause}]` : ''}`,
      );
      for (const x of f.rules)
        lines.push(
          `    + ${x.summary}${x.kind === 'rule' ? (x.owned ? '' : ' [not owned by the model]') : ` [${x.kind === 'default' ? 'cloud default' : 'implied'}]`}`,
        );
    }
  }
  const total = reports.reduce((n, r) => n + r.findings.length, 0);
  lines.push(
    total === 0
      ? 'No effective drift: the targets allow nothing the model does not.'
      : `Effective drift: ${total} flow${total === 1 ? '' : 's'} allowed beyond the model.`,
  );
  return `${lines.join('\n')}\n`;
}
