import { describe, expect, it } from 'vitest';
import { createDnsResolver } from '../../src/resolve.js';

describe('the no-network guard', () => {
  it('refuses to resolve a real name through the live resolver', async () => {
    await expect(createDnsResolver()('api.stripe.com')).rejects.toThrow(/tests must not use DNS/);
  });

  it('still resolves localhost', async () => {
    const dns = await import('node:dns/promises');
    await expect(dns.lookup('localhost')).resolves.toBeTruthy();
  });
});
