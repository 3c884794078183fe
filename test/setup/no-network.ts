/**
 * Suite-wide guard: tests talk to loopback only. Any DNS lookup of a name other than localhost
 * (node:dns in every form the code uses) throws, so a test that would resolve a real FQDN, or
 * reach a real cloud endpoint by name, fails instead of sending traffic off the machine.
 */
import dns from 'node:dns';
import { syncBuiltinESMExports } from 'node:module';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', 'ip6-localhost']);

function refuse(name: unknown): Error {
  return new Error(`test tried to resolve ${String(name)}: tests must not use DNS (pin FQDNs with --snapshots DIR/dns.json or an injected resolver)`);
}

const allowed = (name: unknown): boolean => typeof name === 'string' && LOOPBACK.has(name.toLowerCase());

for (const fn of ['resolve', 'resolve4', 'resolve6', 'resolveAny', 'resolveCname'] as const) {
  const original = dns.promises[fn] as (...args: unknown[]) => Promise<unknown>;
  (dns.promises as unknown as Record<string, unknown>)[fn] = (name: unknown, ...rest: unknown[]) =>
    allowed(name) ? original.call(dns.promises, name, ...rest) : Promise.reject(refuse(name));
  const cb = dns[fn] as (...args: unknown[]) => unknown;
  (dns as unknown as Record<string, unknown>)[fn] = (name: unknown, ...rest: unknown[]) => {
    if (allowed(name)) return cb.call(dns, name, ...rest);
    throw refuse(name);
  };
}
const lookup = dns.lookup as (...args: unknown[]) => unknown;
(dns as unknown as Record<string, unknown>)['lookup'] = (name: unknown, ...rest: unknown[]) => {
  if (allowed(name) || (typeof name === 'string' && /^[\d.]+$|:/.test(name))) return lookup.call(dns, name, ...rest);
  throw refuse(name);
};
const plookup = dns.promises.lookup as (...args: unknown[]) => Promise<unknown>;
(dns.promises as unknown as Record<string, unknown>)['lookup'] = (name: unknown, ...rest: unknown[]) =>
  allowed(name) || (typeof name === 'string' && /^[\d.]+$|:/.test(name))
    ? plookup.call(dns.promises, name, ...rest)
    : Promise.reject(refuse(name));
syncBuiltinESMExports();
