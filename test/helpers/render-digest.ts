import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ESTATE_OPTIONS, syntheticModel } from '../../bench/model.js';
import { PROVIDERS } from '../../providers/index.js';
import { compileRules } from '../../src/compile/index.js';
import type { CloudId } from '../../src/compile/types.js';
import { loadModel } from '../../src/model/load.js';
import { validateModelPartial } from '../../src/model/validate.js';
import type { RenderContext } from '../../src/provider.js';

/** The repository root (examples live in policies/). */
const ROOT = join(import.meta.dirname, '..', '..');

/**
 * A digest of everything a provider makes of a model, for every target of its cloud: the rendered
 * resources as JSON (keys, summaries, attributes, origins, dependsOn: more than the golden CLI JSON
 * shows), validate's diagnostics, and `toCliJson` printed as `render --json` prints it. The speed
 * work on the renders (issue 11) keeps this byte-identical; a test pins the digest main produced.
 */
export async function renderDigest(
  cloud: CloudId,
  source: { example: string } | { file: string } | { synthetic: number },
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bulkhead-digest-'));
  try {
    let file: string;
    let resolved: RenderContext['resolved'] = new Map();
    if ('example' in source) {
      file = join(ROOT, 'policies', `${source.example}.yaml`);
      const bundled = join(ROOT, 'policies', 'snapshots', source.example, 'dns.json');
      const dns = existsSync(bundled) ? bundled : join(ROOT, 'test', 'golden', 'dns', source.example, 'dns.json');
      if (existsSync(dns)) resolved = new Map(Object.entries(JSON.parse(readFileSync(dns, 'utf8'))));
    } else if ('file' in source) {
      file = join(ROOT, 'test', 'fixtures', 'render-digest', source.file);
      resolved = new Map([
        ['api.stripe.com', { ipv4: ['192.0.2.10/32'], ipv6: [] }],
        ['api.paypal.com', { ipv4: ['198.51.100.20/32', '198.51.100.21/32'], ipv6: ['2001:db8::20/128'] }],
      ]);
    } else {
      file = join(dir, 'model.yaml');
      await writeFile(file, syntheticModel(source.synthetic, ESTATE_OPTIONS));
    }
    // Positions name the file relative to cwd: the repository root keeps them the same wherever
    // the checkout lives (a CI clone, a worktree), and the synthetic model sits in `dir`.
    const loaded = await loadModel(file, { cwd: 'synthetic' in source ? dir : ROOT });
    const model = validateModelPartial(loaded.model).model;
    if (!model) throw new Error(`${file} does not validate`);
    const compiled = compileRules(model);
    if (!compiled.ok) throw new Error(`${file} does not compile`);
    const rules = compiled.value;
    const hash = createHash('sha256');
    const make = PROVIDERS[cloud];
    if (!make) throw new Error(`no provider ${cloud}`);
    for (const target of rules.targets.filter((t) => t.kind === cloud)) {
      const ctx = { resolved };
      const resources = make().render(rules, target, ctx);
      hash.update(JSON.stringify(resources));
      hash.update(JSON.stringify(make().validate(rules, target, ctx)));
      hash.update(JSON.stringify(make().toCliJson(resources, target), null, 2));
    }
    return hash.digest('hex');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
