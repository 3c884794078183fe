// `node --import <this file> …`: the process may open TCP connections and resolve names only on
// loopback. Anything else is refused before a packet leaves (the socket fails at once) and reported on
// stderr as `NON-LOOPBACK …`, so a test of the real Azure credential chain can prove it never
// reached IMDS (169.254.169.254), login.microsoftonline.com or management.azure.com.
import dns from 'node:dns';
import net from 'node:net';

const LOOPBACK = /^(127\.0\.0\.1|::1|\[::1\]|localhost)$/i;

function report(what) {
  process.stderr.write(`NON-LOOPBACK ${what}\n`);
  return new Error(`refused non-loopback ${what}`);
}

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  let opts = args[0];
  if (Array.isArray(opts)) opts = opts[0];
  if (typeof opts !== 'object' || opts === null)
    opts = { port: args[0], host: typeof args[1] === 'string' ? args[1] : undefined };
  if (typeof opts.path !== 'string') {
    const host = opts.host ?? 'localhost';
    if (!LOOPBACK.test(String(host))) {
      // Fail the way an unreachable network does: an async 'error' on the socket, no packet sent.
      const err = report(`connect ${host}:${opts.port}`);
      process.nextTick(() => this.destroy(err));
      return this;
    }
  }
  return connect.apply(this, args);
};

for (const target of [dns, dns.promises]) {
  const lookup = target.lookup;
  target.lookup = function (host, ...rest) {
    if (!LOOPBACK.test(String(host))) throw report(`lookup ${host}`);
    return lookup.call(this, host, ...rest);
  };
}
