import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalHostCidr } from '../providers/kit/cidr.js';
import { compareStrings } from './compile/canonical.js';
import { error, warning, type Diagnostic, type SourceRef } from './diagnostics.js';
import { ProviderError, ValidationError } from './errors.js';
import type { GuardrailDeny, RuleSet } from './compile/types.js';

/**
 * FQDN resolution, the only I/O before render: live through node:dns, offline from a snapshot's
 * `dns.json`, or anything injected (tests). Render then sees canonical host CIDRs (/32, /128).
 */

/** Resolves one FQDN (lower-case, no trailing dot) to its addresses. */
export type Resolver = (fqdn: string) => Promise<{ ipv4: string[]; ipv6: string[] }>;

/** What `resolveFqdns` hands to `RenderContext.resolved`. */
export type ResolvedFqdns = ReadonlyMap<string, { readonly ipv4: readonly string[]; readonly ipv6: readonly string[] }>;

/** DNS error codes that mean "no such name / no records", not "DNS is broken". */
const NO_DATA = new Set(['ENODATA', 'ENOTFOUND', 'NXDOMAIN']);

/** The live resolver: A and AAAA records through node:dns (the system's configured servers). */
export function createDnsResolver(): Resolver {
  return async (fqdn) => {
    const dns = await import('node:dns/promises');
    const lookup = async (fn: (name: string) => Promise<string[]>): Promise<string[]> => {
      try {
        return await fn(fqdn);
      } catch (err) {
        const code = (err as { code?: string }).code ?? '';
        if (NO_DATA.has(code)) return [];
        throw new ProviderError(`cannot resolve ${fqdn}: ${code || String(err)}`, code, true, { cause: err });
      }
    };
    const [ipv4, ipv6] = await Promise.all([lookup((n) => dns.resolve4(n)), lookup((n) => dns.resolve6(n))]);
    return { ipv4, ipv6 };
  };
}

type DnsTable = Readonly<Record<string, { readonly ipv4: readonly string[]; readonly ipv6: readonly string[] }>>;

/** `["a.example.com"].ipv4[0]`: the JSON path of a dns.json value, for messages. */
function jsonPath(...parts: (string | number)[]): string {
  return `$${parts.map((p) => (typeof p === 'number' ? `[${p}]` : /^[A-Za-z_][A-Za-z0-9_]*$/.test(p) ? `.${p}` : `[${JSON.stringify(p)}]`)).join('')}`;
}

/**
 * Checks a parsed dns.json: an object of FQDN → `{ ipv4?: [address…], ipv6?: [address…] }`, every
 * address of its family (a bare address or a host CIDR). Returns every problem at once, each
 * naming the file and JSON path, so a hand-edited file cannot silently become other addresses
 * (a string for `ipv4` used to be read character by character).
 */
export function checkDnsTable(parsed: unknown, file: string): { table: DnsTable; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const bad = (path: string, message: string) =>
    diagnostics.push(error('dns-snapshot-invalid', `${file}: ${path}: ${message}`));
  const table: Record<string, { ipv4: string[]; ipv6: string[] }> = {};
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    bad('$', `must be an object of FQDN → { "ipv4": [...], "ipv6": [...] }, not ${describeJson(parsed)}`);
    return { table, diagnostics };
  }
  for (const [fqdn, entry] of Object.entries(parsed as Record<string, unknown>)) {
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      bad(jsonPath(fqdn), `must be an object with "ipv4" and/or "ipv6" lists, not ${describeJson(entry)}`);
      continue;
    }
    const out = { ipv4: [] as string[], ipv6: [] as string[] };
    for (const [key, value] of Object.entries(entry as Record<string, unknown>)) {
      if (key !== 'ipv4' && key !== 'ipv6') {
        bad(jsonPath(fqdn, key), `unknown key (use "ipv4" and "ipv6")`);
        continue;
      }
      if (!Array.isArray(value)) {
        bad(
          jsonPath(fqdn, key),
          `must be a list of ${key} addresses, not ${describeJson(value)}${typeof value === 'string' && hostCidr(value, key) ? ` (write ["${value}"])` : ''}`,
        );
        continue;
      }
      value.forEach((a: unknown, i) => {
        if (typeof a !== 'string')
          bad(jsonPath(fqdn, key, i), `must be an ${key} address string, not ${describeJson(a)}`);
        else if (hostCidr(a, key) === undefined) bad(jsonPath(fqdn, key, i), `"${a}" is not an ${key} address`);
        else out[key].push(a);
      });
    }
    table[fqdn] = out;
  }
  return { table, diagnostics };
}

function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return typeof value === 'object' ? 'an object' : `the ${typeof value} ${JSON.stringify(value)}`;
}

/**
 * The offline resolver: `<dir>/dns.json` = `{ "<fqdn>": { "ipv4": [...], "ipv6": [...] } }`.
 * A name missing from the file resolves to nothing (resolveFqdns reports it). A file that is not
 * of that shape is a ValidationError naming the file and each bad JSON path. `shownDir` is how
 * messages name the folder (the path the user typed).
 */
export function createSnapshotResolver(dir: string, shownDir: string = dir): Resolver {
  let table: Promise<DnsTable> | undefined;
  const load = async (): Promise<DnsTable> => {
    const path = join(dir, 'dns.json');
    const shown = join(shownDir, 'dns.json');
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ENOENT') return {};
      throw new ProviderError(`cannot read ${shown}: ${code ?? (err as Error).message}`, 'snapshot-unreadable');
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text) as unknown;
    } catch (err) {
      throw new ValidationError(
        [error('dns-snapshot-invalid', `${shown}: not valid JSON: ${(err as Error).message}`)],
        `${shown} is not valid`,
      );
    }
    const checked = checkDnsTable(parsed, shown);
    if (checked.diagnostics.length > 0) throw new ValidationError(checked.diagnostics, `${shown} is not valid`);
    return checked.table;
  };
  return async (fqdn) => {
    table ??= load();
    const t = await table;
    const entry = Object.hasOwn(t, fqdn) ? t[fqdn] : Object.hasOwn(t, `${fqdn}.`) ? t[`${fqdn}.`] : undefined;
    return { ipv4: [...(entry?.ipv4 ?? [])], ipv6: [...(entry?.ipv6 ?? [])] };
  };
}

/** Every FQDN the rules name (allowed flows and guardrail peers), sorted, unique. */
export function collectFqdns(rules: RuleSet): string[] {
  const names = new Set<string>();
  for (const r of rules.rules) if (r.peer.kind === 'fqdns') for (const f of r.peer.fqdns) names.add(f);
  for (const d of rules.denies) if (d.peer.kind === 'fqdns') for (const f of d.peer.fqdns) names.add(f);
  return [...names].sort();
}

/**
 * Canonical host CIDR of an address (dotted-quad `/32`, `/128` in RFC 5952 form), or undefined when
 * it is not one: the providers' canonicalizer, so a resolved address has the text a rule read back
 * from the cloud has (an IPv4-mapped AAAA answer keeps its dotted form, as everywhere else).
 */
function hostCidr(address: string, family: 'ipv4' | 'ipv6'): string | undefined {
  return canonicalHostCidr(address, family);
}

/** Options of `resolveFqdns`. */
export interface ResolveOptions {
  /**
   * Accept FQDNs that resolve to no address: their rules then allow nothing and a plan removes
   * their entries (a warning). Without it such a name is an error, so a broken resolver cannot
   * delete FQDN egress (`--allow-unresolved` on the command line).
   */
  readonly allowUnresolved?: boolean;
}

/** The model places that use each FQDN entity: the flows (rules and guardrails) that name it. */
function entityUses(rules: RuleSet): Map<string, { fqdns: Set<string>; origins: SourceRef[] }> {
  const uses = new Map<string, { fqdns: Set<string>; origins: SourceRef[] }>();
  const add = (peer: GuardrailDeny['peer'], origins: readonly SourceRef[]): void => {
    if (peer.kind !== 'fqdns') return;
    let u = uses.get(peer.entity);
    if (!u) uses.set(peer.entity, (u = { fqdns: new Set(), origins: [] }));
    for (const f of peer.fqdns) u.fqdns.add(f);
    for (const o of origins)
      if (!u.origins.some((x) => x.pos === o.pos || JSON.stringify(x.pos) === JSON.stringify(o.pos))) u.origins.push(o);
  };
  for (const r of rules.rules) add(r.peer, r.origins);
  for (const d of rules.denies) add(d.peer, d.origins);
  return uses;
}

/**
 * Resolves every FQDN of the rules with `resolver`, canonicalizing and sorting the addresses.
 * A garbage address is a warning. A name that resolves to nothing is an `fqdn-unresolved` error
 * per entity, naming the names and pointing at the first flow that uses it, unless
 * `allowUnresolved` (then a warning): an NXDOMAIN from a broken resolver must not silently turn
 * into deleted prefix-list entries and egress rules. A resolver failure is a ProviderError.
 */
export async function resolveFqdns(
  rules: RuleSet,
  resolver: Resolver,
  options: ResolveOptions = {},
): Promise<{ resolved: ResolvedFqdns; diagnostics: Diagnostic[] }> {
  const fqdns = collectFqdns(rules);
  const diagnostics: Diagnostic[] = [];
  const answers = await Promise.all(fqdns.map(async (f) => [f, await resolver(f)] as const));
  const resolved = new Map<string, { ipv4: string[]; ipv6: string[] }>();
  const empty = new Set<string>();
  for (const [fqdn, answer] of answers) {
    const canon = (list: readonly string[], family: 'ipv4' | 'ipv6'): string[] => {
      const out = new Set<string>();
      for (const a of list) {
        const c = hostCidr(a, family);
        if (c) out.add(c);
        else diagnostics.push(warning('fqdn-bad-address', `${fqdn}: ignoring "${a}", not an ${family} address`));
      }
      return [...out].sort();
    };
    const entry = { ipv4: canon(answer.ipv4, 'ipv4'), ipv6: canon(answer.ipv6, 'ipv6') };
    if (entry.ipv4.length === 0 && entry.ipv6.length === 0) empty.add(fqdn);
    resolved.set(fqdn, entry);
  }
  if (empty.size > 0) {
    const entities = [...entityUses(rules)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [entity, use] of entities) {
      const names = [...use.fqdns].filter((f) => empty.has(f)).sort();
      if (names.length === 0) continue;
      const list = names.join(', ');
      const [first, ...others] = [...use.origins].sort(
        (a, b) => compareStrings(a.pos.file, b.pos.file) || a.pos.line - b.pos.line || a.pos.column - b.pos.column,
      );
      const related = others.map((o) => ({ message: `also used here (${o.label})`, pos: o.pos }));
      const several = names.length > 1;
      if (options.allowUnresolved) {
        diagnostics.push(
          warning(
            'fqdn-unresolved',
            `entity ${entity}: ${list} resolved to no address; rules toward ${several ? 'them' : 'it'} allow nothing (--allow-unresolved)`,
            first?.pos,
            related.length > 0 ? related : undefined,
          ),
        );
      } else {
        diagnostics.push(
          error(
            'fqdn-unresolved',
            `entity ${entity}: ${list} resolved to no address; stopping rather than dropping the rules toward ${several ? 'them' : 'it'}, ` +
              'so the entries last applied stay (check DNS, or pass --allow-unresolved to accept the removal)',
            first?.pos,
            related.length > 0 ? related : undefined,
          ),
        );
      }
    }
  }
  return { resolved, diagnostics };
}
