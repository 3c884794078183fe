import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import ipaddr from 'ipaddr.js';
import { warning, type Diagnostic } from './diagnostics.js';
import { ProviderError } from './errors.js';
import type { RuleSet } from './compile/types.js';

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

/**
 * The offline resolver: `<dir>/dns.json` = `{ "<fqdn>": { "ipv4": [...], "ipv6": [...] } }`.
 * A name missing from the file resolves to nothing (resolveFqdns warns about it).
 */
export function createSnapshotResolver(dir: string): Resolver {
  let table: Promise<Record<string, { ipv4?: string[]; ipv6?: string[] }>> | undefined;
  const load = async (): Promise<Record<string, { ipv4?: string[]; ipv6?: string[] }>> => {
    const path = join(dir, 'dns.json');
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') return {};
      throw new ProviderError(`cannot read ${path}: ${String(err)}`, 'snapshot-unreadable');
    }
    try {
      const parsed = JSON.parse(text) as unknown;
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      return parsed as Record<string, { ipv4?: string[]; ipv6?: string[] }>;
    } catch (err) {
      throw new ProviderError(`${path} is not a JSON object of FQDN → {ipv4, ipv6}: ${String(err)}`, 'snapshot-unreadable');
    }
  };
  return async (fqdn) => {
    table ??= load();
    const entry = (await table)[fqdn] ?? (await table)[`${fqdn}.`];
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

/** Canonical host CIDR of an address (`/32`, `/128` in RFC 5952 form), or undefined when it is not one. */
function hostCidr(address: string, family: 'ipv4' | 'ipv6'): string | undefined {
  const bare = address.replace(/\/(32|128)$/, '');
  if (!ipaddr.isValid(bare)) return undefined;
  const ip = ipaddr.parse(bare);
  if (ip.kind() !== family) return undefined;
  return ip.kind() === 'ipv4' ? `${ip.toString()}/32` : `${(ip as ipaddr.IPv6).toRFC5952String()}/128`;
}

/**
 * Resolves every FQDN of the rules with `resolver`, canonicalizing and sorting the addresses.
 * A name that resolves to nothing, or to garbage, is a warning (the plan shows an empty list);
 * a resolver failure is a ProviderError (DNS itself is broken: planning on would delete entries).
 */
export async function resolveFqdns(
  rules: RuleSet,
  resolver: Resolver,
): Promise<{ resolved: ResolvedFqdns; diagnostics: Diagnostic[] }> {
  const fqdns = collectFqdns(rules);
  const diagnostics: Diagnostic[] = [];
  const answers = await Promise.all(fqdns.map(async (f) => [f, await resolver(f)] as const));
  const resolved = new Map<string, { ipv4: string[]; ipv6: string[] }>();
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
    if (entry.ipv4.length === 0 && entry.ipv6.length === 0) {
      diagnostics.push(warning('fqdn-unresolved', `${fqdn} resolved to no address; rules toward it allow nothing`));
    }
    resolved.set(fqdn, entry);
  }
  return { resolved, diagnostics };
}
