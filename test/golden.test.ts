/**
 * Golden render files: `bulkhead render --provider P --json` of every bundled example, one file per
 * provider and example under test/golden/<provider>/<example>.json, so a render change is a reviewable
 * diff. Regenerate after an intended change with `npm run golden:update` (sets UPDATE_GOLDEN=1) and
 * review `git diff test/golden`. FQDNs resolve from the example's bundled snapshot (shop) or from the
 * fixed answers in test/golden/dns/<example>/dns.json (documentation addresses), never from DNS.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROVIDERS } from '../providers/index.js';
import { runCli } from './helpers/cli.js';

const ROOT = join(import.meta.dirname, '..');
const GOLDEN = join(ROOT, 'test', 'golden');
const UPDATE = process.env['UPDATE_GOLDEN'] === '1';

const examples = readdirSync(join(ROOT, 'policies'))
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => f.slice(0, -'.yaml'.length))
  .sort();

function dnsDir(example: string): string {
  const bundled = join(ROOT, 'policies', 'snapshots', example);
  return existsSync(join(bundled, 'dns.json')) ? bundled : join(GOLDEN, 'dns', example);
}

describe('golden renders', () => {
  it('covers every bundled example', () => {
    expect(examples).toEqual(expect.arrayContaining(['pci', 'shop', 'wordpress']));
  });

  for (const provider of Object.keys(PROVIDERS).sort()) {
    for (const example of examples) {
      const file = join(GOLDEN, provider, `${example}.json`);
      it(`${provider} ${example}`, async () => {
        const model = join(ROOT, 'policies', `${example}.yaml`);
        const res = await runCli(['render', model, '--provider', provider, '--json', '--snapshots', dnsDir(example)]);
        if (res.stderr.includes('has no') && res.code !== 0) {
          // An example without a target of this cloud has no golden file; the list test above keeps this honest.
          expect(existsSync(file)).toBe(false);
          return;
        }
        expect(res.stderr).not.toMatch(/: error: /);
        expect(res.code).toBe(0);
        if (UPDATE) {
          mkdirSync(dirname(file), { recursive: true });
          writeFileSync(file, res.stdout);
        }
        expect(existsSync(file), `${file} is missing: run npm run golden:update`).toBe(true);
        expect(res.stdout).toBe(readFileSync(file, 'utf8'));
      });
    }
  }
});
