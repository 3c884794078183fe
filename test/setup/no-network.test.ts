import { describe, expect, it } from 'vitest';
import { createDnsResolver } from '../../src/resolve.js';

describe('the no-network guard', () => {
  it('refuses to resolve a real name through the live resolver', async () => {
    await expect(createDnsResolver()('api.stripe.com')).rejects.toThrow(/tests must not use DNS/);
  });

  it('refuses a socket to an address outside loopback before it opens (an SDK metadata probe)', async () => {
    const net = await import('node:net');
    // Without the guard the connect below would leave the machine: check it is installed first.
    expect(net.Socket.prototype.connect.name).toBe('guardedConnect');
    const err = await new Promise<Error>((resolve) => {
      const socket = net.connect({ host: '192.0.2.1', port: 80 });
      socket.on('error', resolve);
      socket.on('connect', () => resolve(new Error('connected')));
    });
    expect(err.message).toMatch(/tests talk to loopback only/);
    // The guard fails the file afterwards; this test expects it, so it clears the record.
    (globalThis as { __bulkheadClearRefused?: () => void }).__bulkheadClearRefused?.();
  });

  it('still resolves localhost', async () => {
    const dns = await import('node:dns/promises');
    await expect(dns.lookup('localhost')).resolves.toBeTruthy();
  });
});
