import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { compileFile } from '../../src/compile/index.js';
import { checkSchema } from '../../src/model/schema-check.js';
import { parseYaml } from '../../src/model/load.js';

const repo = resolve(new URL('../../', import.meta.url).pathname);
const models = readdirSync(join(repo, 'policies'))
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => `policies/${f}`);
const packs = readdirSync(join(repo, 'policies/guardrails'))
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => `policies/guardrails/${f}`);

describe('policies/', () => {
  it('holds the shop, WordPress and PCI examples and their guardrail packs', () => {
    expect(models).toEqual(
      expect.arrayContaining(['policies/shop.yaml', 'policies/wordpress.yaml', 'policies/pci.yaml']),
    );
    expect(packs).toEqual(expect.arrayContaining(['policies/guardrails/pci.yaml']));
  });

  for (const file of models) {
    it(`${file} is valid, without a single warning`, async () => {
      const r = await compileFile(file, { cwd: repo });
      expect(r.diagnostics).toEqual([]);
      expect(r.ok).toBe(true);
      expect(r.value!.rules.length).toBeGreaterThan(0);
      // The shop also has a Kubernetes target.
      expect(r.value!.targets.map((t) => t.kind).sort()).toEqual(
        file.endsWith('shop.yaml') ? ['aws', 'azure', 'gcp', 'kubernetes'] : ['aws', 'azure', 'gcp'],
      );
    });
  }

  for (const file of [...models, ...packs]) {
    it(`${file} carries the yaml-language-server modeline to the shipped schema and passes it`, () => {
      const text = readFileSync(join(repo, file), 'utf8');
      const m = /^# yaml-language-server: \$schema=(\S+)$/m.exec(text);
      expect(m, 'modeline').not.toBeNull();
      expect(resolve(dirname(join(repo, file)), m![1]!)).toBe(join(repo, 'src/model/schema.json'));
      const tree = parseYaml(text, file);
      expect(tree.diagnostics).toEqual([]);
      expect(checkSchema(tree.root!)).toEqual([]);
    });
  }

  it('every guardrail pack is included by some model', () => {
    const included = new Set<string>();
    for (const file of models) {
      const doc = parse(readFileSync(join(repo, file), 'utf8')) as { include?: string | string[] };
      for (const inc of [doc.include ?? []].flat()) included.add(resolve(dirname(join(repo, file)), inc));
    }
    for (const p of packs) expect(included.has(join(repo, p)), p).toBe(true);
    expect(existsSync(join(repo, 'src/model/schema.json'))).toBe(true);
  });

  it('the PCI pack rejects cardholder data reached from outside the payment tier', async () => {
    // The same model with one forbidden flow added must fail, naming the pack's guardrail.
    const { writeFiles } = await import('./write-model.js');
    const pci = readFileSync(join(repo, 'policies/pci.yaml'), 'utf8').replace(
      '    aws: { groupId: sg-0123456789abcdef0 }\n',
      '    aws: { groupId: sg-0123456789abcdef0 }\n    ingress: [{ from: storefront, ports: [postgres] }]\n',
    );
    const dir = writeFiles({
      'pci.yaml': pci,
      'guardrails/pci.yaml': readFileSync(join(repo, 'policies/guardrails/pci.yaml'), 'utf8'),
    });
    const r = await compileFile('pci.yaml', { cwd: dir });
    expect(r.ok).toBe(false);
    expect(r.diagnostics.map((d) => `${d.code} ${d.related?.[0]?.pos.file}`)).toEqual([
      'guardrail-violation guardrails/pci.yaml',
    ]);
    expect(r.diagnostics[0]!.message).toContain('pci-cardholder-data-only-from-payment');
  });
});
