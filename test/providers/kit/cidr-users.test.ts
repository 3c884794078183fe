import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCidr } from '../../../src/model/addresses.js';
import { resolveFqdns } from '../../../src/resolve.js';
import { canonicalCidr as awsCidr } from '../../../providers/aws/canonical.js';
import { canonicalPrefix as azurePrefix } from '../../../providers/azure/canonical.js';
import { canonicalCidr as gcpCidr } from '../../../providers/gcp/canonical.js';
import { canonicalCidr } from '../../../providers/kit/cidr.js';
import { flow, fqdns, ruleSet, seg, tcp } from '../../helpers/rulesets.js';

/**
 * Every CIDR reader (the model's parseCidr, FQDN resolution's host CIDRs, each provider's) is the
 * kit's: one text per address everywhere, so what the model says is what a provider reads back.
 */

describe('the core reads CIDRs with the kit', () => {
  it('parseCidr is canonicalCidr mapped to the model shape', () => {
    const texts = fc.oneof(
      fc.ipV4().map((a) => `${a}/${a.length % 33}`),
      fc.ipV6(),
      fc.ipV4Extended(),
      fc.constantFrom(
        '::ffff:192.0.2.1',
        '::FFFF:C000:201',
        '010.1.2.3',
        'fe80::1%eth0',
        '::1.2.3.4',
        '10.0.0.5/24',
        'x/8',
        '10.0.0.0/33',
      ),
    );
    fc.assert(
      fc.property(texts, (t) => {
        const k = canonicalCidr(t);
        const m = parseCidr(t);
        if (k.ok) expect(m).toEqual({ kind: 'ok', family: k.family, cidr: k.text });
        else if (k.reason === 'host-bits')
          expect(m).toEqual({ kind: 'host-bits', family: k.family, network: k.network, host: k.host });
        else expect(m).toEqual({ kind: 'error', message: k.message });
      }),
      { numRuns: 300 },
    );
  });

  it('a resolved IPv4-mapped AAAA answer gets the text the model and the providers give it', async () => {
    const rules = ruleSet({
      segments: ['app'],
      rules: [...flow(seg('app'), fqdns('pay', ['a.example.com']), tcp(443))],
    });
    const { resolved } = await resolveFqdns(rules, async () => ({
      ipv4: ['192.0.2.1'],
      ipv6: ['::FFFF:C000:201', '::1.2.3.4'],
    }));
    expect(resolved.get('a.example.com')?.ipv6).toEqual(['::102:304/128', '::ffff:192.0.2.1/128']);
    expect(resolved.get('a.example.com')?.ipv6).toContain((parseCidr('::ffff:192.0.2.1') as { cidr: string }).cidr);
  });
});

describe('every provider reads CIDRs with the kit', () => {
  it('one IPv4-mapped address, one text (it used to be three: dotted, hex, folded into IPv4)', () => {
    for (const s of ['::ffff:192.0.2.1', '::FFFF:C000:201', '0:0:0:0:0:ffff:192.0.2.1/128']) {
      const texts = new Set([(parseCidr(s) as { cidr: string }).cidr, awsCidr(s), gcpCidr(s), azurePrefix(s)]);
      expect([...texts]).toEqual(['::ffff:192.0.2.1/128']);
    }
  });

  it("valid CIDRs: the model's text, or the network where a live range has host bits", () => {
    const texts = fc.oneof(
      fc.ipV4().map((a) => `${a}/${a.length % 33}`),
      fc.ipV6().map((a) => `${a}/${a.length * 3}`),
      fc.ipV4(),
      fc.ipV6(),
    );
    fc.assert(
      fc.property(texts, (t) => {
        const k = canonicalCidr(t);
        if (!k.ok && k.reason !== 'host-bits') return;
        const want = k.ok ? k.text : k.network;
        expect(awsCidr(t)).toBe(want);
        expect(gcpCidr(t)).toBe(want);
        expect(azurePrefix(t)).toBe(want);
      }),
      { numRuns: 300 },
    );
  });
});
