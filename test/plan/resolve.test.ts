import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
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
    expect(resolved.get('a.example.com')).toEqual({
      ipv4: ['192.0.2.1/32', '192.0.2.2/32'],
      ipv6: ['2001:db8::1/128'],
    });
    expect(diagnostics.map((d) => [d.code, d.severity])).toEqual([
      ['fqdn-bad-address', 'warning'],
      ['fqdn-unresolved', 'error'],
    ]);
  });

  it('an FQDN that resolves to nothing is an error naming the entity, its names and the flow line', async () => {
    const { resolved, diagnostics } = await resolveFqdns(rules, async () => ({ ipv4: [], ipv6: [] }));
    expect(resolved.get('a.example.com')).toEqual({ ipv4: [], ipv6: [] });
    expect(diagnostics).toHaveLength(1);
    const d = diagnostics[0]!;
    expect(d).toMatchObject({ severity: 'error', code: 'fqdn-unresolved', pos: { line: 10 } });
    expect(d.message).toContain('entity pay: a.example.com, b.example.com resolved to no address');
    expect(d.message).toContain('--allow-unresolved');
  });

  it('allowUnresolved turns the unresolved error back into a warning', async () => {
    const { diagnostics } = await resolveFqdns(
      rules,
      async (f) => (f === 'a.example.com' ? { ipv4: ['192.0.2.1'], ipv6: [] } : { ipv4: [], ipv6: [] }),
      {
        allowUnresolved: true,
      },
    );
    expect(diagnostics.map((d) => [d.code, d.severity])).toEqual([['fqdn-unresolved', 'warning']]);
    expect(diagnostics[0]!.message).toContain('entity pay: b.example.com resolved');
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
    await expect(createSnapshotResolver(dir)('a.example.com')).rejects.toBeInstanceOf(ValidationError);
    await writeFile(join(dir, 'dns.json'), '{ "a.example.com": ');
    await expect(createSnapshotResolver(dir, 'snap')('a.example.com')).rejects.toThrow(
      /snap[\\/]dns\.json is not valid/,
    );
  });

  it('rejects a string where a list of addresses belongs, naming the file and JSON path of each problem', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bulkhead-dns-'));
    await writeFile(
      join(dir, 'dns.json'),
      JSON.stringify({
        'a.example.com': { ipv4: '192.0.2.1' },
        'c.example.com': { ipv4: '1234' },
        'b.example.com': { ipv6: ['192.0.2.1', 7], ipv5: [] },
        'd.example.com': { ipv4: ['1', '2'] },
      }),
    );
    const err = await createSnapshotResolver(
      dir,
      'snap',
    )('a.example.com').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ValidationError);
    const messages = (err as ValidationError).diagnostics.map((d) => d.message);
    const file = join('snap', 'dns.json');
    expect(messages).toEqual([
      `${file}: $["a.example.com"].ipv4: must be a list of ipv4 addresses, not the string "192.0.2.1" (write ["192.0.2.1"])`,
      `${file}: $["c.example.com"].ipv4: must be a list of ipv4 addresses, not the string "1234"`,
      `${file}: $["b.example.com"].ipv6[0]: "192.0.2.1" is not an ipv6 address`,
      `${file}: $["b.example.com"].ipv6[1]: must be an ipv6 address string, not the number 7`,
      `${file}: $["b.example.com"].ipv5: unknown key (use "ipv4" and "ipv6")`,
      `${file}: $["d.example.com"].ipv4[0]: "1" is not an ipv4 address`,
      `${file}: $["d.example.com"].ipv4[1]: "2" is not an ipv4 address`,
    ]);
    expect(
      (err as ValidationError).diagnostics.every((d) => d.code === 'dns-snapshot-invalid' && d.severity === 'error'),
    ).toBe(true);
  });
});
