import type { CloudId } from '../compile/types.js';
import { NAMED_PROTOCOLS } from '../model/services.js';
import { hasPorts, protocolName, type Connection } from './aggregate.js';
import { AddressBook, canonicalAddress, formatBytes, hostCidr, isoTime, type GroupBy } from './naming.js';
import type { Inventory } from './types.js';

/**
 * Discovery (DESIGN §6): a proposed model from what really flowed. One segment per group of the
 * inventory (`--group-by`), each observed accepted connection as an ingress rule on the server's
 * segment (or an egress rule on the client's when the server is outside the model), ports merged
 * into ranges only where they are contiguous, and a comment with the evidence above every rule.
 *
 * Peers outside the segments:
 * - private addresses (inside the internal ranges) become one CIDR entity each (`host-10-0-9-9`);
 * - public addresses become `internet`, unless a rule's public peers are few (at most
 *   PUBLIC_ENTITY_MAX) and stable (each seen over at least a day): then one CIDR entity each
 *   (`public-203-0-113-7`), so a partner's or an API's addresses stay named.
 * Connections where neither end is in a segment (NAT gateways' own legs, traffic between peers)
 * say nothing about the model and are counted apart. Rejected connections are not proposed.
 */

/** At most this many distinct public peers of one rule become entities instead of `internet`. */
export const PUBLIC_ENTITY_MAX = 3;
/** A public peer is stable when seen over at least this span (seconds). */
export const STABLE_SPAN = 86400;

/** What discovery needs besides the connections. */
export interface DiscoverOptions {
  /** The model's `name`. */
  readonly name: string;
  readonly groupBy: GroupBy;
  /** Keep only rules with at least this many connections. */
  readonly minFlows: number;
  readonly cloud: CloudId;
  /** Internal ranges (`internet` is outside them); DEFAULT_INTERNAL_RANGES when absent. */
  readonly internalRanges?: readonly string[];
  /** Lines for the header comment (what was read). */
  readonly provenance: readonly string[];
}

/** Evidence of a rule. */
interface Evidence {
  connections: number;
  bytes: number;
  first: number;
  last: number;
}

/** One proposed flow item of a segment. */
export interface ProposedRule {
  readonly segment: string;
  readonly direction: 'ingress' | 'egress';
  /** The peer as the model names it. */
  readonly peer: string;
  /** `tcp/443`, `tcp/8000-8002`, `icmp` …; one protocol, one contiguous range. */
  readonly service: string;
  readonly connections: number;
  readonly bytes: number;
  readonly firstSeen: number;
  readonly lastSeen: number;
}

/** The proposal. */
export interface DiscoverResult {
  readonly yaml: string;
  readonly segments: readonly string[];
  readonly rules: readonly ProposedRule[];
  /** CIDR entities: name → CIDR. */
  readonly entities: ReadonlyMap<string, string>;
  /** Connections with no segment on either end. */
  readonly outside: number;
  /** Rules left out by `--min-flows`. */
  readonly belowMinimum: number;
  readonly warnings: readonly string[];
}

function merge(into: Evidence, e: Evidence): void {
  into.connections += e.connections;
  into.bytes += e.bytes;
  if (e.first < into.first) into.first = e.first;
  if (e.last > into.last) into.last = e.last;
}

function evidenceOf(c: Connection): Evidence {
  return { connections: c.connections, bytes: c.bytes, first: c.firstSeen, last: c.lastSeen };
}

function entityName(prefix: string, address: string): string {
  return `${prefix}-${canonicalAddress(address)
    .replace(/[.:]+/g, (m) => (m.length > 1 ? '--' : '-'))
    .replace(/-+$/, '')}`;
}

function portlessService(protocol: number): string {
  if (protocol === 1 || protocol === 58) return protocolName(protocol);
  const named = Object.entries(NAMED_PROTOCOLS).find(([, n]) => n === protocol);
  return named ? named[0] : String(protocol);
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Proposes a model from the accepted connections (see the module comment). Deterministic. */
export function discoverModel(
  connections: readonly Connection[],
  inventory: Inventory,
  options: DiscoverOptions,
): DiscoverResult {
  const book = new AddressBook(inventory, {
    groupBy: options.groupBy,
    ...(options.internalRanges ? { internalRanges: options.internalRanges } : {}),
  });
  const warnings: string[] = [...inventory.warnings];
  const segments = new Set<string>();
  let ungrouped = 0;
  for (const w of inventory.workloads) {
    const s = book.segment(w);
    if (s !== undefined) segments.add(s);
    else if (w.kind === undefined) ungrouped++;
  }
  if (ungrouped > 0) {
    const what = options.groupBy.kind === 'tag' ? `no tag or label "${options.groupBy.key}"` : 'no group';
    warnings.push(
      `${ungrouped} workload${ungrouped === 1 ? ' has' : 's have'} ${what}: ${ungrouped === 1 ? 'its' : 'their'} addresses are treated as peers outside the model`,
    );
  }
  // (segment, direction, protocol, port) → peers with their evidence.
  type Side = {
    segment: string;
    direction: 'ingress' | 'egress';
    protocol: number;
    port: number;
    fixed: Map<string, Evidence>;
    public: Map<string, Evidence>;
  };
  const sides = new Map<string, Side>();
  const entities = new Map<string, string>();
  let outside = 0;
  let portZero = 0;
  for (const c of connections) {
    if (!c.accepted) continue;
    if (hasPorts(c.protocol) && c.port === 0) {
      portZero++;
      continue;
    }
    const ci = book.info(c.client);
    const si = book.info(c.server);
    let segment: string, direction: 'ingress' | 'egress', peerAddr: string, peerInfo: typeof ci;
    if (si.kind === 'segment') [segment, direction, peerAddr, peerInfo] = [si.segment, 'ingress', c.client, ci];
    else if (ci.kind === 'segment') [segment, direction, peerAddr, peerInfo] = [ci.segment, 'egress', c.server, si];
    else {
      outside++;
      continue;
    }
    const key = `${segment} ${direction} ${c.protocol} ${c.port}`;
    let side = sides.get(key);
    if (!side) {
      side = { segment, direction, protocol: c.protocol, port: c.port, fixed: new Map(), public: new Map() };
      sides.set(key, side);
    }
    let peer: string | undefined;
    if (peerInfo.kind === 'segment') peer = peerInfo.segment;
    else if (peerInfo.internal) {
      peer = entityName('host', peerAddr);
      entities.set(peer, hostCidr(peerAddr));
    }
    const target = peer === undefined ? side.public : side.fixed;
    const name = peer ?? canonicalAddress(peerAddr);
    const e = target.get(name);
    if (e) merge(e, evidenceOf(c));
    else target.set(name, evidenceOf(c));
  }
  if (portZero > 0)
    warnings.push(`${portZero} connection${portZero === 1 ? '' : 's'} to port 0 left out (not a service port)`);

  // Public peers: few and stable → entities, else `internet`.
  type Item = {
    segment: string;
    direction: 'ingress' | 'egress';
    peer: string;
    protocol: number;
    port: number;
    e: Evidence;
  };
  const items = new Map<string, Item>();
  const addItem = (side: Side, peer: string, e: Evidence) => {
    const key = `${side.segment} ${side.direction} ${peer} ${side.protocol} ${side.port}`;
    const it = items.get(key);
    if (it) merge(it.e, e);
    else
      items.set(key, {
        segment: side.segment,
        direction: side.direction,
        peer,
        protocol: side.protocol,
        port: side.port,
        e: { ...e },
      });
  };
  for (const side of sides.values()) {
    for (const [peer, e] of side.fixed) addItem(side, peer, e);
    if (side.public.size === 0) continue;
    const few =
      side.public.size <= PUBLIC_ENTITY_MAX && [...side.public.values()].every((e) => e.last - e.first >= STABLE_SPAN);
    for (const [address, e] of side.public) {
      if (few) {
        const name = entityName('public', address);
        entities.set(name, hostCidr(address));
        addItem(side, name, e);
      } else addItem(side, 'internet', e);
    }
  }
  // --min-flows, then contiguous ports into ranges per (segment, direction, peer, protocol).
  let belowMinimum = 0;
  const groups = new Map<string, Item[]>();
  for (const it of items.values()) {
    if (it.e.connections < options.minFlows) {
      belowMinimum++;
      continue;
    }
    const key = `${it.segment}\u0000${it.direction}\u0000${it.peer}\u0000${String(it.protocol).padStart(3, '0')}`;
    const list = groups.get(key);
    if (list) list.push(it);
    else groups.set(key, [it]);
  }
  const rules: ProposedRule[] = [];
  for (const key of [...groups.keys()].sort(cmp)) {
    const list = groups.get(key)!.sort((a, b) => a.port - b.port);
    let i = 0;
    while (i < list.length) {
      let j = i;
      const e = { ...list[i]!.e };
      while (j + 1 < list.length && list[j + 1]!.port === list[j]!.port + 1) merge(e, list[++j]!.e);
      const first = list[i]!;
      const proto = first.protocol;
      const service = hasPorts(proto)
        ? `${protocolName(proto)}/${first.port}${j > i ? `-${list[j]!.port}` : ''}`
        : portlessService(proto);
      rules.push({
        segment: first.segment,
        direction: first.direction,
        peer: first.peer,
        service,
        connections: e.connections,
        bytes: e.bytes,
        firstSeen: e.first,
        lastSeen: e.last,
      });
      i = j + 1;
    }
  }
  const usedEntities = new Map(
    [...entities].filter(([name]) => rules.some((r) => r.peer === name)).sort((a, b) => cmp(a[0], b[0])),
  );
  const yaml = renderYaml(options, inventory, [...segments].sort(cmp), rules, usedEntities, warnings);
  return { yaml, segments: [...segments].sort(cmp), rules, entities: usedEntities, outside, belowMinimum, warnings };
}

function quote(s: string): string {
  return /^[A-Za-z][A-Za-z0-9._/-]*$/.test(s) ? s : JSON.stringify(s);
}

function renderYaml(
  options: DiscoverOptions,
  inventory: Inventory,
  segments: readonly string[],
  rules: readonly ProposedRule[],
  entities: ReadonlyMap<string, string>,
  warnings: readonly string[],
): string {
  const out: string[] = [
    '# Proposed by `bulkhead discover` from observed flows: every rule below was seen, nothing else is',
    '# allowed. Review it in a pull request before it is applied; `bulkhead audit` replays flows against it.',
    ...options.provenance.map((l) => `# ${l}`),
    ...warnings.map((w) => `# note: ${w}`),
    'bulkhead: 1',
    `name: ${options.name}`,
    '',
  ];
  const t = inventory.target;
  if (t) {
    const config = Object.entries(t.config)
      .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
      .join(', ');
    out.push('targets:', `  ${t.name}: { ${options.cloud}: { ${config} } }`);
  } else {
    out.push(`# The inventory does not say where the workloads live: add the ${options.cloud} target.`, 'targets: {}');
  }
  if (entities.size > 0) {
    out.push('', 'entities:');
    for (const [name, cidr] of entities) out.push(`  ${name}: { cidrs: [${quote(cidr)}] }`);
  }
  out.push('', 'segments:');
  for (const segment of segments) {
    const mine = rules.filter((r) => r.segment === segment);
    if (mine.length === 0) {
      out.push(`  ${segment}: {}`);
      continue;
    }
    out.push(`  ${segment}:`);
    for (const direction of ['ingress', 'egress'] as const) {
      const list = mine.filter((r) => r.direction === direction);
      if (list.length === 0) continue;
      out.push(`    ${direction}:`);
      for (const r of list) {
        out.push(
          `      # ${r.connections.toLocaleString('en-US')} connection${r.connections === 1 ? '' : 's'}, ${formatBytes(r.bytes)}, ` +
            `first seen ${isoTime(r.firstSeen)}, last seen ${isoTime(r.lastSeen)}`,
          `      - { ${direction === 'ingress' ? 'from' : 'to'}: ${quote(r.peer)}, ports: [${r.service}] }`,
        );
      }
    }
  }
  return `${out.join('\n')}\n`;
}
