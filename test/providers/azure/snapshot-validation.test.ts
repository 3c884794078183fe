import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAzureProvider } from '../../../providers/azure/index.js';
import { jsonErrorOffset } from '../../../providers/kit/json-syntax.js';
import { ProviderError } from '../../../src/errors.js';
import { emulatorTarget, FAKE_CREDENTIAL } from '../../helpers/azure/harness.js';
import { runCli } from '../../helpers/cli.js';

/**
 * Issues 5 and 11 (Azure): snapshot files are validated like the model (file and JSON path, or
 * file:line:column for invalid JSON), and a missing snapshot folder is an error, not "create
 * everything".
 */

const REPO = resolve(import.meta.dirname, '../../..');
const BUNDLED = join(REPO, 'policies/snapshots/shop/azure-prod');
const provider = createAzureProvider({ credential: FAKE_CREDENTIAL });
const target = emulatorTarget('azure-prod');

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bulkhead-azure-snapcheck-'));
  await mkdir(join(dir, 'azure-prod'));
  for (const f of ['nsg.json', 'asgs.json', 'rule-collection-group.json'])
    await writeFile(join(dir, 'azure-prod', f), await readFile(join(BUNDLED, f), 'utf8'));
  // The pinned FQDN answers: without them the plan stops at the unresolved names, before any read.
  await writeFile(join(dir, 'dns.json'), await readFile(join(BUNDLED, '../dns.json'), 'utf8'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function readError(): Promise<ProviderError> {
  const err = await provider.read(target, { kind: 'snapshot', dir }, { model: 'shop' }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}

async function editJson(file: string, fn: (v: Record<string, unknown> & unknown[]) => void): Promise<void> {
  const path = join(dir, 'azure-prod', file);
  const v = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown> & unknown[];
  fn(v);
  await writeFile(path, JSON.stringify(v, null, 2));
}

describe('azure snapshot folder', () => {
  it('a missing folder is an error naming it and how to export it (issue 11), in read and through plan', async () => {
    await rm(join(dir, 'azure-prod'), { recursive: true });
    const err = await readError();
    expect(err.code).toBe('snapshot-missing');
    expect(err.message).toContain(`snapshot of azure-prod: no folder ${join(dir, 'azure-prod')}`);
    expect(err.message).toContain('bulkhead export');
    const r = await runCli(['plan', join(REPO, 'policies/shop.yaml'), '--snapshots', dir, '--target', 'azure-prod'], {
      cwd: REPO,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no folder');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).not.toContain('to add');
  });

  it('an existing folder without nsg.json still reads (the NSG does not exist yet)', async () => {
    await rm(join(dir, 'azure-prod', 'nsg.json'));
    const state = await provider.read(target, { kind: 'snapshot', dir }, { model: 'shop' });
    expect(state.resources.some((r) => r.type === 'azure_network_security_group')).toBe(false);
  });
});

describe('azure snapshot files are checked, with file and JSON path (issue 5)', () => {
  it('a null rule in nsg.json', async () => {
    await editJson('nsg.json', (v) => (v['securityRules'] as unknown[]).splice(1, 0, null));
    const err = await readError();
    expect(err.code).toBe('snapshot-invalid');
    expect(err.message).toBe(`${join(dir, 'azure-prod', 'nsg.json')}: $.securityRules[1] must be an object, not null`);
  });

  it('a wrongly typed field inside an ARM properties wrapper keeps the real path', async () => {
    await editJson('nsg.json', (v) => {
      const rules = v['securityRules'] as Record<string, unknown>[];
      const { name, ...rest } = rules[0]!;
      rules[0] = { name, properties: { ...rest, priority: 'high' } };
    });
    const err = await readError();
    expect(err.message).toBe(
      `${join(dir, 'azure-prod', 'nsg.json')}: $.securityRules[0].properties.priority must be a number, not the string "high"`,
    );
  });

  it('an ASG name that is not a string, a tag value that is not a string, a null ASG', async () => {
    await editJson('asgs.json', (v) => ((v[0] as Record<string, unknown>)['name'] = 5));
    expect((await readError()).message).toBe(
      `${join(dir, 'azure-prod', 'asgs.json')}: $[0].name must be a string, not the number 5`,
    );
    await editJson('asgs.json', (v) => {
      (v[0] as Record<string, unknown>)['name'] = 'shop-app';
      (v[1] as Record<string, unknown>)['tags'] = { 'bulkhead:model': 7 };
    });
    expect((await readError()).message).toBe(
      `${join(dir, 'azure-prod', 'asgs.json')}: $[1].tags["bulkhead:model"] must be a string, not the number 7`,
    );
    await writeFile(join(dir, 'azure-prod', 'asgs.json'), '[null]');
    expect((await readError()).message).toBe(
      `${join(dir, 'azure-prod', 'asgs.json')}: $[0] must be an object, not null`,
    );
    await writeFile(join(dir, 'azure-prod', 'asgs.json'), '{}');
    expect((await readError()).message).toContain('asgs.json: $ must be an array');
  });

  it('a null FQDN deep in rule-collection-group.json', async () => {
    await editJson('rule-collection-group.json', (v) => {
      const c = (v['ruleCollections'] as { rules: { targetFqdns: unknown[] }[] }[])[0]!;
      c.rules[0]!.targetFqdns.push(null);
    });
    const err = await readError();
    expect(err.message).toMatch(
      /rule-collection-group\.json: \$\.ruleCollections\[0\]\.rules\[0\]\.targetFqdns\[\d+\] must be a string, not null$/,
    );
  });

  it("az's nulls for unset fields are fine (the bundled snapshot has them)", async () => {
    await editJson('nsg.json', (v) => {
      const r = (v['securityRules'] as Record<string, unknown>[])[0]!;
      r['description'] = null;
      r['sourceAddressPrefixes'] = null;
    });
    await expect(provider.read(target, { kind: 'snapshot', dir }, { model: 'shop' })).resolves.toMatchObject({
      source: 'snapshot',
    });
  });

  it('invalid JSON is reported at file:line:column, through the CLI too, without a trace', async () => {
    const path = join(dir, 'azure-prod', 'nsg.json');
    await writeFile(path, '{\n  "name": "shop-prod",\n  "securityRules": [\n    { "name": "a" },\n  ]\n}\n');
    const err = await readError();
    expect(err.message).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:5:3: not valid JSON`));
    await writeFile(path, '{"name": nul}');
    expect((await readError()).message).toContain('nsg.json:1:10: not valid JSON');
    await writeFile(path, '{"name": "x"');
    expect((await readError()).message).toContain('nsg.json:1:13: not valid JSON');
    const r = await runCli(['plan', join(REPO, 'policies/shop.yaml'), '--snapshots', dir, '--target', 'azure-prod'], {
      cwd: REPO,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('nsg.json:1:13: not valid JSON');
    expect(r.stderr).not.toMatch(/Internal error|\n\s+at /);
  });

  it('jsonErrorOffset accepts exactly what JSON.parse accepts', () => {
    const alphabet = fc.constantFrom(
      '{',
      '}',
      '[',
      ']',
      ',',
      ':',
      '"',
      '\\',
      'a',
      'u',
      '1',
      '0',
      '-',
      '.',
      'e',
      ' ',
      '\n',
      'true',
      'null',
      'f',
    );
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 14 }), (parts) => {
        const text = parts.join('');
        let ok = true;
        try {
          JSON.parse(text);
        } catch {
          ok = false;
        }
        const offset = jsonErrorOffset(text);
        expect(offset === -1).toBe(ok);
        if (!ok) expect(offset).toBeLessThanOrEqual(text.length);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(jsonErrorOffset(JSON.stringify(v, null, 1))).toBe(-1);
      }),
      { numRuns: 200 },
    );
  });
});

describe('azure: two owned objects with one key (issue 15.2)', () => {
  it('a second owned NSG rule of the same name (a hand-edited snapshot) is kept as <name>#2, so the plan deletes it instead of hiding it', async () => {
    let twin = '';
    await editJson('nsg.json', (v) => {
      const rules = v['securityRules'] as Record<string, unknown>[];
      const owned = rules.find((r) => r['name'] === 'shop-in-web-from-lb-tcp-8080')!;
      twin = String(owned['name']);
      rules.push({ ...owned, priority: 4000 });
    });
    const state = await provider.read(target, { kind: 'snapshot', dir }, { model: 'shop' });
    const keys = state.resources.find((r) => r.type === 'azure_network_security_group')!.children.map((c) => c.key);
    expect(keys).toContain(`${twin}#2`);
    const r = await runCli(
      ['plan', join(REPO, 'policies/shop.yaml'), '--snapshots', dir, '--target', 'azure-prod', '--json'],
      { cwd: REPO },
    );
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout) as {
      targets: { changes: { type: string; childChanges: { action: string; key: string }[] }[] }[];
    };
    const nsg = plan.targets[0]!.changes.find((c) => c.type === 'azure_network_security_group')!;
    expect(nsg.childChanges).toContainEqual(expect.objectContaining({ action: 'delete', key: `${twin}#2` }));
    // The first copy is compared as itself: unchanged in the bundled drift, so no update of it.
    expect(nsg.childChanges.filter((c) => c.key === twin)).toEqual([]);
  });
});
