import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProviderError } from '../../src/errors.js';
import { collectFqdns, createSnapshotResolver, resolveFqdns } from '../../src/resolve.js';
import { flow, fqdns, ruleSet, seg, tcp } from '../helpers/rulesets.js';

const rules = ruleSet({
  segments: ['app', 'web'],
  rules: [
    ...flow(seg('app'), fqdns('pay', ['b.example.com', 'a.example.com']), tcp(443)),
    ...flow(seg('web'), fqdns('pay', ['a.example.com']), tcp(443)),
  ],
});

describe('FQDN resolution', () => {
  it('collects every FQDN once, sorted', () => {
    expect(collectFqdns(rules)).toEqual(['a.example.com', 'b.example.com']);
  });

  it('canonicalizes to sorted host CIDRs and warns about bad or empty answers', async () => {
    const { resolved, diagnostics } = await resolveFqdns(rules, async (f) =>
      f === 'a.example.com'
        ? { ipv4: ['192.0.2.2', '192.0.2.1/32', '192.0.2.2', 'bogus'], ipv6: ['2001:DB8:0:0::1'] }
        : { ipv4: [], ipv6: [] },
    );
    expect(resolved.get('a.example.com')).toEqual({ ipv4: ['192.0.2.1/32', '192.0.2.2/32'], ipv6: ['2001:db8::1/128'] });
    expect(diagnostics.map((d) => [d.code, d.severity])).toEqual([
      ['fqdn-bad-address', 'warning'],
      ['fqdn-unresolved', 'warning'],
    ]);
  });

  it('reads <dir>/dns.json offline; a missing file or name resolves to nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bulkhead-dns-'));
    expect(await createSnapshotResolver(dir)('a.example.com')).toEqual({ ipv4: [], ipv6: [] });
    await writeFile(join(dir, 'dns.json'), JSON.stringify({ 'a.example.com': { ipv4: ['192.0.2.1'] } }));
    const resolve = createSnapshotResolver(dir);
    expect(await resolve('a.example.com')).toEqual({ ipv4: ['192.0.2.1'], ipv6: [] });
    expect(await resolve('z.example.com')).toEqual({ ipv4: [], ipv6: [] });
  });

  it('rejects a dns.json that is not an object of names', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bulkhead-dns-'));
    await writeFile(join(dir, 'dns.json'), '[1, 2]');
    await expect(createSnapshotResolver(dir)('a.example.com')).rejects.toBeInstanceOf(ProviderError);
  });
});
