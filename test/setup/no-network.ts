/**
 * Suite-wide guard: tests talk to loopback only. Any DNS lookup of a name other than localhost
 * (node:dns in every form the code uses) throws, so a test that would resolve a real FQDN, or
 * reach a real cloud endpoint by name, fails instead of sending traffic off the machine. A socket
 * to an address literal outside loopback (an SDK's metadata probe of 169.254.169.254, say) is
 * refused before it is opened, and the test file fails afterwards naming the address, even when
 * the code under test swallowed the connection error.
 */
import dns from 'node:dns';
import net from 'node:net';
import { syncBuiltinESMExports } from 'node:module';
import { afterAll } from 'vitest';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', 'ip6-localhost']);

function refuse(name: unknown): Error {
  return new Error(
    `test tried to resolve ${String(name)}: tests must not use DNS (pin FQDNs with --snapshots DIR/dns.json or an injected resolver)`,
  );
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

/** Addresses a test tried to connect to outside loopback (checked after each test file). */
const refusedConnections: string[] = [];

function isLoopbackAddress(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return LOOPBACK.has(h) || /^127\./.test(h) || h === '::ffff:127.0.0.1' || h === '0:0:0:0:0:0:0:1';
}

const connect = net.Socket.prototype.connect as (this: net.Socket, ...args: unknown[]) => net.Socket;
net.Socket.prototype.connect = function guardedConnect(this: net.Socket, ...args: unknown[]): net.Socket {
  const first = args[0];
  const options = (Array.isArray(first) ? first[0] : first) as unknown;
  let host: string | undefined;
  if (typeof options === 'object' && options !== null) {
    const o = options as { host?: unknown; path?: unknown };
    if (o.path === undefined) host = typeof o.host === 'string' ? o.host : 'localhost';
  } else if (typeof options === 'number' || (typeof options === 'string' && /^\d+$/.test(options))) {
    host = typeof args[1] === 'string' ? args[1] : 'localhost';
  }
  if (host !== undefined && net.isIP(host.replace(/^\[|\]$/g, '')) !== 0 && !isLoopbackAddress(host)) {
    refusedConnections.push(host);
    const err = Object.assign(new Error(`test tried to connect to ${host}: tests talk to loopback only`), {
      code: 'ECONNREFUSED',
    });
    process.nextTick(() => this.destroy(err));
    return this;
  }
  return connect.apply(this, args);
} as typeof net.Socket.prototype.connect;

(globalThis as { __bulkheadClearRefused?: () => void }).__bulkheadClearRefused = () => {
  refusedConnections.length = 0;
};

afterAll(() => {
  if (refusedConnections.length > 0) {
    throw new Error(`tests tried to connect outside loopback: ${[...new Set(refusedConnections)].join(', ')}`);
  }
});
