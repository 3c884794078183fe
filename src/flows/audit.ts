import type { SourcePos } from '../diagnostics.js';
import { formatPos } from '../diagnostics.js';
import type { PortMatch, RuleSet } from '../compile/types.js';
import { cidrContains, DEFAULT_INTERNAL_RANGES } from '../model/addresses.js';
import { modelVerdict, type ModelVerdict } from '../reach/model-verdict.js';
import type { ProbeEndpoint } from '../reach/probe.js';
import { hasPorts, protocolName, type Connection } from './aggregate.js';
import { AddressBook, hostCidr, isoTime, segmentName, type GroupBy } from './naming.js';
import type { Inventory, Workload } from './types.js';

/**
 * Audit (DESIGN §6): every observed accepted connection replayed against a model. Each is allowed
 * (by which rule, file:line) or denied (what applying the model would cut: default deny or a
 * guardrail), decided by the model evaluator of `explain` (src/reach/model-verdict.ts), so audit
 * and explain never disagree. The model rules no connection used are listed as candidates to
 * remove. Connections with no segment on either end are not the model's business (`outside`);
 * rejected ones are what the network already denies and are only counted.
 *
 * Workloads are placed in segments by `--group-by` when given (the tag value must name a segment
 * of the model), else by their current groups: the model's managed name `<model>-<segment>` (AWS
 * security group, Azure ASG, GCP network tag) or an identity a segment adopts (an AWS group id).
 */

/** One line of the audit: connections of one source → destination service with one verdict. */
export interface AuditFlow {
  /** As the model names it: a segment, an entity, `internet`, else the address. */
  readonly source: string;
  readonly destination: string;
  readonly protocol: string;
  /** The server port; null for protocols without ports. */
  readonly port: number | null;
  readonly verdict: 'allow' | 'deny';
  /** The deciding rule's place in the model (`file:line:column`), null when denied. */
  readonly rule: string | null;
  /** The deciding rule as the model reads (`web -> app tcp/8080`), or why it is denied. */
  readonly reason: string;
  /** `default-deny` or `guardrail` for a denied flow. */
  readonly denial?: 'default-deny' | 'guardrail';
  /** Connections. */
  readonly count: number;
  readonly bytes: number;
  readonly firstSeen: string;
  readonly lastSeen: string;
  /** Where a denied flow points in the model (the receiving segment, else the sender), for SARIF. */
  readonly at?: SourcePos;
}

/** A model rule no observed connection used. */
export interface UnusedRule {
  /** `file:line:column`. */
  readonly rule: string;
  readonly label: string;
  readonly pos: SourcePos;
}

/** The audit's result. */
export interface AuditReport {
  readonly model: string;
  readonly flows: readonly AuditFlow[];
  readonly unusedRules: readonly UnusedRule[];
  readonly summary: {
    readonly allowed: number;
    readonly denied: number;
    /** Accepted connections between two non-segments (not governed by the model). */
    readonly outside: number;
    /** Rejected client → server services (already denied by the network). */
    readonly rejected: number;
    /** Workloads of the inventory placed in a segment of the model. */
    readonly workloadsInSegments: number;
  };
}

/** What audit needs besides the model and the connections. */
export interface AuditOptions {
  readonly groupBy?: GroupBy;
  /** Internal ranges (`internet` is outside them): the target's, else the defaults. */
  readonly internalRanges?: readonly string[];
}

/** A probe end as a memo key: a segment or entity by its name, an address by its text. */
function endpointKey(e: ProbeEndpoint): string {
  return e.kind === 'address' ? `a:${e.address}` : `${e.kind === 'segment' ? 's' : 'e'}:${e.name}`;
}

function serviceOf(c: Connection): PortMatch {
  if (hasPorts(c.protocol))
    return { kind: 'ports', protocol: protocolName(c.protocol) as 'tcp' | 'udp' | 'sctp', from: c.port, to: c.port };
  if (c.protocol === 1 || c.protocol === 58)
    return { kind: 'icmp', protocol: c.protocol === 1 ? 'icmp' : 'icmpv6', type: null, code: null };
  return { kind: 'protocol', number: c.protocol };
}

/** The segment a workload is in for this model (see the module comment). */
function segmentFinder(rules: RuleSet, groupBy: GroupBy | undefined): (w: Workload) => string | undefined {
  const names = new Set(rules.segments.map((s) => s.name));
  const managed = new Map(rules.segments.map((s) => [`${rules.model.name}-${s.name}`, s.name]));
  // Identities a segment binds to in some cloud (an adopted group id, a service account …): any
  // string value of its per-cloud bindings, matched against the workload's group ids and groups.
  const adopted = new Map<string, string>();
  for (const s of rules.segments) {
    for (const [key, binding] of Object.entries(s)) {
      if (key === 'pos' || typeof binding !== 'object' || binding === null) continue;
      for (const v of Object.values(binding as Record<string, unknown>))
        if (typeof v === 'string') adopted.set(v, s.name);
    }
  }
  return (w) => {
    if (groupBy) {
      const raw = groupBy.kind === 'tag' ? w.tags[groupBy.key] : w.groups[0];
      const s = raw === undefined ? undefined : segmentName(raw);
      return s !== undefined && names.has(s) ? s : undefined;
    }
    for (const g of w.groups) if (managed.has(g)) return managed.get(g);
    for (const id of [...(w.groupIds ?? []), ...w.groups]) if (adopted.has(id)) return adopted.get(id);
    return undefined;
  };
}

/** Replays the connections against the model. Deterministic: flows sorted, denied first. */
export function auditConnections(
  rules: RuleSet,
  connections: readonly Connection[],
  inventory: Inventory,
  options: AuditOptions = {},
): AuditReport {
  const internal = options.internalRanges ?? DEFAULT_INTERNAL_RANGES;
  const segmentOf = segmentFinder(rules, options.groupBy);
  const book = new AddressBook(inventory, { segmentOf, internalRanges: internal });
  const workloadsInSegments = inventory.workloads.filter(
    (w) => w.kind === undefined && segmentOf(w) !== undefined,
  ).length;
  const entities = [...(rules.entities ?? [])].map((e) => ({ name: e.name, cidrs: [...e.ipv4, ...e.ipv6] }));
  const segmentPos = new Map(rules.segments.map((s) => [s.name, s.pos]));
  const nameMemo = new Map<string, { name: string; endpoint: ProbeEndpoint; segment?: string }>();
  const nameOf = (address: string) => {
    let hit = nameMemo.get(address);
    if (hit) return hit;
    const info = book.info(address);
    if (info.kind === 'segment')
      hit = { name: info.segment, endpoint: { kind: 'segment', name: info.segment }, segment: info.segment };
    else {
      const cidr = hostCidr(address);
      let best: { name: string; prefix: number } | undefined;
      for (const e of entities) {
        for (const c of e.cidrs) {
          if (c.includes(':') !== cidr.includes(':') || !cidrContains(c, cidr)) continue;
          const prefix = Number(c.slice(c.indexOf('/') + 1));
          if (!best || prefix > best.prefix) best = { name: e.name, prefix };
        }
      }
      const name = best?.name ?? (info.internal ? cidr.slice(0, cidr.indexOf('/')) : 'internet');
      hit = { name, endpoint: { kind: 'address', address } };
    }
    nameMemo.set(address, hit);
    return hit;
  };

  type Group = {
    flow: Omit<AuditFlow, 'count' | 'bytes' | 'firstSeen' | 'lastSeen'>;
    count: number;
    bytes: number;
    first: number;
    last: number;
  };
  const groups = new Map<string, Group>();
  const verdicts = new Map<string, ModelVerdict>();
  const used = new Set<string>();
  let outside = 0;
  let rejected = 0;
  for (const c of connections) {
    if (!c.accepted) {
      rejected++;
      continue;
    }
    const src = nameOf(c.client);
    const dst = nameOf(c.server);
    if (src.segment === undefined && dst.segment === undefined) {
      outside++;
      continue;
    }
    // The verdict depends on the two ends and the service only (modelVerdict is pure): the many
    // connections between the workloads of two segments on one port are decided once.
    const verdictKey = `${endpointKey(src.endpoint)} ${endpointKey(dst.endpoint)} ${c.protocol} ${c.port}`;
    let v = verdicts.get(verdictKey);
    if (v === undefined) {
      v = modelVerdict(
        rules,
        { source: src.endpoint, destination: dst.endpoint, service: serviceOf(c) },
        { internalRanges: internal },
      );
      verdicts.set(verdictKey, v);
    }
    let rule: string | null = null;
    let reason: string;
    let denial: AuditFlow['denial'];
    if (v.verdict === 'allow') {
      rule = formatPos(v.rule.pos);
      reason = `${v.rule.direction === 'ingress' ? `${v.rule.segment} <- ${v.rule.peer}` : `${v.rule.segment} -> ${v.rule.peer}`} ${v.rule.service}`;
      for (const r of v.rules) for (const o of r.origins) used.add(`${formatPos(o.pos)}\u0000${o.label}`);
    } else if (v.reason === 'outside-model') {
      outside++;
      continue;
    } else {
      denial = v.reason;
      reason = v.reason === 'guardrail' ? `guardrail "${v.guardrail.name}" (${formatPos(v.guardrail.pos)})` : v.detail;
    }
    const protocol = protocolName(c.protocol);
    const port = hasPorts(c.protocol) ? c.port : null;
    const key = `${v.verdict} ${src.name} ${dst.name} ${protocol} ${port ?? ''} ${rule ?? reason}`;
    let g = groups.get(key);
    if (!g) {
      const at = v.verdict === 'deny' ? segmentPos.get(dst.segment ?? src.segment!) : undefined;
      g = {
        flow: {
          source: src.name,
          destination: dst.name,
          protocol,
          port,
          verdict: v.verdict,
          rule,
          reason,
          ...(denial ? { denial } : {}),
          ...(at ? { at } : {}),
        },
        count: 0,
        bytes: 0,
        first: c.firstSeen,
        last: c.lastSeen,
      };
      groups.set(key, g);
    }
    g.count += c.connections;
    g.bytes += c.bytes;
    if (c.firstSeen < g.first) g.first = c.firstSeen;
    if (c.lastSeen > g.last) g.last = c.lastSeen;
  }
  const flows: AuditFlow[] = [...groups.values()]
    .map((g) => ({ ...g.flow, count: g.count, bytes: g.bytes, firstSeen: isoTime(g.first), lastSeen: isoTime(g.last) }))
    .sort(compareFlows);
  const unused = new Map<string, UnusedRule>();
  for (const r of rules.rules) {
    for (const o of r.origins) {
      const key = `${formatPos(o.pos)}\u0000${o.label}`;
      if (!used.has(key) && !unused.has(key)) unused.set(key, { rule: formatPos(o.pos), label: o.label, pos: o.pos });
    }
  }
  const unusedRules = [...unused.values()].sort((a, b) =>
    a.pos.file !== b.pos.file
      ? a.pos.file < b.pos.file
        ? -1
        : 1
      : a.pos.line - b.pos.line || a.pos.column - b.pos.column || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0),
  );
  const denied = flows.filter((f) => f.verdict === 'deny').length;
  return {
    model: rules.model.file,
    flows,
    unusedRules,
    summary: { allowed: flows.length - denied, denied, outside, rejected, workloadsInSegments },
  };
}

function compareFlows(a: AuditFlow, b: AuditFlow): number {
  if (a.verdict !== b.verdict) return a.verdict === 'deny' ? -1 : 1;
  for (const k of ['source', 'destination', 'protocol'] as const) if (a[k] !== b[k]) return a[k] < b[k] ? -1 : 1;
  if ((a.port ?? -1) !== (b.port ?? -1)) return (a.port ?? -1) - (b.port ?? -1);
  return (a.rule ?? a.reason) < (b.rule ?? b.reason) ? -1 : (a.rule ?? a.reason) > (b.rule ?? b.reason) ? 1 : 0;
}

function service(f: AuditFlow): string {
  return f.port === null ? f.protocol : `${f.protocol}/${f.port}`;
}

/** The text report. */
export function formatAuditText(report: AuditReport): string {
  const out: string[] = [];
  const denied = report.flows.filter((f) => f.verdict === 'deny');
  const allowed = report.flows.filter((f) => f.verdict === 'allow');
  const n = (k: number, what: string) => `${k.toLocaleString('en-US')} ${what}${k === 1 ? '' : 's'}`;
  out.push(`Audit of ${report.model} against the observed flows`, '');
  out.push(`Denied: ${denied.length} (applying this model would cut these)`);
  for (const f of denied) {
    out.push(
      `  - ${f.source} -> ${f.destination} ${service(f)}: ${n(f.count, 'connection')}, first seen ${f.firstSeen}, last seen ${f.lastSeen}; ${f.reason}`,
    );
  }
  out.push('', `Allowed: ${allowed.length}`);
  for (const f of allowed)
    out.push(
      `  + ${f.source} -> ${f.destination} ${service(f)}: ${n(f.count, 'connection')}, by ${f.rule} (${f.reason})`,
    );
  out.push('', `Unused rules: ${report.unusedRules.length} (no observed connection used them: candidates to remove)`);
  for (const u of report.unusedRules) out.push(`  ? ${u.rule} ${u.label}`);
  const s = report.summary;
  out.push(
    '',
    `${n(s.denied, 'denied flow')}, ${n(s.allowed, 'allowed flow')}, ${n(report.unusedRules.length, 'unused rule')}; ` +
      `${n(s.outside, 'service')} with no segment on either end not replayed, ${n(s.rejected, 'rejected service')} already denied by the network.`,
  );
  return `${out.join('\n')}\n`;
}

/** The JSON report (DESIGN §6). */
export function formatAuditJson(report: AuditReport): string {
  const flows = report.flows.map(({ at: _at, ...f }) => f);
  const unusedRules = report.unusedRules.map((u) => ({ rule: u.rule, label: u.label }));
  return `${JSON.stringify({ formatVersion: 1, model: report.model, summary: report.summary, flows, unusedRules }, null, 2)}\n`;
}

/** SARIF 2.1.0: a denied flow at its segment, an unused rule at its model line. */
export function auditToSarif(report: AuditReport, version: string): unknown {
  const location = (pos: SourcePos) => ({
    physicalLocation: { artifactLocation: { uri: pos.file }, region: { startLine: pos.line, startColumn: pos.column } },
  });
  const results: unknown[] = [];
  for (const f of report.flows) {
    if (f.verdict !== 'deny') continue;
    results.push({
      ruleId: 'denied-flow',
      level: 'error',
      message: {
        text: `${f.source} -> ${f.destination} ${service(f)} was observed (${f.count} connections, ${f.firstSeen} to ${f.lastSeen}) and this model would deny it: ${f.reason}`,
      },
      locations: f.at ? [location(f.at)] : [],
    });
  }
  for (const u of report.unusedRules) {
    results.push({
      ruleId: 'unused-rule',
      level: 'note',
      message: { text: `no observed connection used this rule: ${u.label}` },
      locations: [location(u.pos)],
    });
  }
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'bulkhead',
            version,
            rules: [
              {
                id: 'denied-flow',
                shortDescription: { text: 'An observed connection the model would deny.' },
                defaultConfiguration: { level: 'error' },
              },
              {
                id: 'unused-rule',
                shortDescription: { text: 'A model rule no observed connection used.' },
                defaultConfiguration: { level: 'note' },
              },
            ],
          },
        },
        results,
      },
    ],
  };
}
