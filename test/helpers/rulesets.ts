import { createHash } from 'node:crypto';
import type { SourcePos } from '../../src/diagnostics.js';
import type { Endpoint, PortMatch, RuleIntent, RuleSet, SegmentSpec, TargetSpec } from '../../src/compile/types.js';

/** Small RuleSet builders for tests that must not depend on the compiler. */

/** A position in a fake model file. */
export function pos(line = 1, column = 1, file = 'model.yaml'): SourcePos {
  return { file, line, column };
}

/** An AWS target. */
export function awsTarget(name = 'aws-test', line = 3): TargetSpec {
  return { kind: 'aws', name, pos: pos(line, 3), aws: { region: 'eu-west-1', vpc: 'vpc-0123456789abcdef0' } };
}

/** An Azure target. */
export function azureTarget(name = 'azure-test', line = 4): TargetSpec {
  return {
    kind: 'azure',
    name,
    pos: pos(line, 3),
    azure: {
      subscription: '00000000-0000-0000-0000-000000000000',
      resourceGroup: 'rg',
      location: 'westeurope',
      nsg: 'nsg',
    },
  };
}

/** A GCP target. */
export function gcpTarget(name = 'gcp-test', line = 5): TargetSpec {
  return {
    kind: 'gcp',
    name,
    pos: pos(line, 3),
    gcp: { project: 'p', network: 'net', internalRanges: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'] },
  };
}

/** `tcp/<port>` (or a range). */
export function tcp(from: number, to = from): PortMatch {
  return { kind: 'ports', protocol: 'tcp', from, to };
}

/** A segment peer. */
export function seg(name: string): Endpoint {
  return { kind: 'segment', name };
}

/** The built-in internet entity. */
export function internet(): Endpoint {
  return { kind: 'cidrs', entity: 'internet', ipv4: ['0.0.0.0/0'], ipv6: ['::/0'], builtin: 'internet' };
}

/** A CIDR entity. */
export function cidrs(entity: string, ipv4: string[], ipv6: string[] = []): Endpoint {
  return { kind: 'cidrs', entity, ipv4, ipv6 };
}

/** An FQDN entity. */
export function fqdns(entity: string, names: string[]): Endpoint {
  return { kind: 'fqdns', entity, fqdns: [...names].sort() };
}

function portLabel(p: PortMatch): string {
  switch (p.kind) {
    case 'all':
      return 'all';
    case 'ports':
      return p.from === p.to ? `${p.protocol}/${p.from}` : `${p.protocol}/${p.from}-${p.to}`;
    case 'icmp':
      return `${p.protocol}/${p.type ?? '*'}/${p.code ?? '*'}`;
    case 'protocol':
      return `proto/${p.number}`;
  }
}

/** A short label of an endpoint. */
export function endpointLabel(e: Endpoint): string {
  return e.kind === 'segment' ? e.name : e.entity;
}

function intent(
  direction: 'ingress' | 'egress',
  segment: string,
  peer: Endpoint,
  service: PortMatch,
  line: number,
  label: string,
): RuleIntent {
  const id = createHash('sha256')
    .update(JSON.stringify([direction, segment, peer, service]))
    .digest('hex')
    .slice(0, 12);
  return { id, direction, segment, peer, service, origins: [{ pos: pos(line, 7), label }] };
}

/**
 * The intents of one flow `from → to` as the compiler writes them: the receiver's ingress (when it
 * is a segment) and the sender's egress (when it is a segment).
 */
export function flow(from: Endpoint, to: Endpoint, service: PortMatch, line = 10): RuleIntent[] {
  const label = `${endpointLabel(from)} -> ${endpointLabel(to)} ${portLabel(service)}`;
  const out: RuleIntent[] = [];
  if (to.kind === 'segment') out.push(intent('ingress', to.name, from, service, line, label));
  if (from.kind === 'segment') out.push(intent('egress', from.name, to, service, line, label));
  return out;
}

/** A RuleSet; rules sorted like the compiler sorts them; digest over the content. */
export function ruleSet(options: {
  name?: string;
  targets?: TargetSpec[];
  segments: string[];
  rules?: RuleIntent[];
}): RuleSet {
  const name = options.name ?? 'shop';
  const segments: SegmentSpec[] = [...options.segments].sort().map((s, i) => ({ name: s, pos: pos(20 + i, 3) }));
  const rules = [...(options.rules ?? [])].sort(
    (a, b) =>
      (a.segment < b.segment ? -1 : a.segment > b.segment ? 1 : 0) ||
      (a.direction < b.direction ? -1 : a.direction > b.direction ? 1 : 0) ||
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  // The same flow written twice is one intent (with both origins in the compiler; one is enough here).
  const unique = rules.filter((r, i) => i === 0 || r.id !== rules[i - 1]!.id);
  const targets = [...(options.targets ?? [awsTarget()])].sort((a, b) => (a.name < b.name ? -1 : 1));
  const digest = createHash('sha256')
    .update(JSON.stringify({ name, segments: segments.map((s) => s.name), rules: unique.map((r) => r.id) }))
    .digest('hex');
  return {
    formatVersion: 1,
    model: { name, digest, file: 'model.yaml' },
    targets,
    segments,
    rules: unique,
    denies: [],
  };
}

/** The DESIGN §1 shop, by hand: lb ← internet https, web ← lb 8080, app ← web 8080, db ← app 5432. */
export function shopRules(targets?: TargetSpec[]): RuleSet {
  return ruleSet({
    name: 'shop',
    ...(targets ? { targets } : {}),
    segments: ['lb', 'web', 'app', 'db'],
    rules: [
      ...flow(internet(), seg('lb'), tcp(443), 30),
      ...flow(seg('lb'), seg('web'), tcp(8080), 31),
      ...flow(seg('web'), seg('app'), tcp(8080), 33),
      ...flow(seg('app'), seg('db'), tcp(5432), 36),
    ],
  });
}
