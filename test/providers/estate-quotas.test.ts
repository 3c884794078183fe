import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROVIDERS } from '../../providers/index.js';
import { compileFile } from '../../src/compile/index.js';
import type { CloudId } from '../../src/compile/types.js';
import type { Diagnostic } from '../../src/diagnostics.js';

// Issue 11.5: a target declares its account's or project's real quotas, so an estate-scale model
// plans where the clouds' defaults would refuse it; validate checks against what is declared.
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function compile(text: string) {
  const dir = await mkdtemp(join(tmpdir(), 'bulkhead-quotas-'));
  dirs.push(dir);
  await writeFile(join(dir, 'm.yaml'), text);
  return compileFile(join(dir, 'm.yaml'), { cwd: dir });
}

async function check(cloud: CloudId, text: string): Promise<Diagnostic[]> {
  const r = await compile(text);
  if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  const target = r.value.targets.find((t) => t.kind === cloud)!;
  return PROVIDERS[cloud]!()
    .validate(r.value, target, { resolved: new Map() })
    .filter((d) => d.severity === 'error');
}

/** `n` segments, each receiving tcp/443 from the next. */
const segments = (n: number) =>
  Array.from({ length: n }, (_, i) => `  s${i}: { ingress: [{ from: s${(i + 1) % n}, ports: [tcp/443] }] }`).join('\n');

describe('GCP: firewallQuota on the target', () => {
  const model = (extra: string) =>
    `bulkhead: 1\nname: estate\ntargets:\n  g: { gcp: { project: estate-prod, network: vpc${extra} } }\nsegments:\n${segments(120)}\n`;

  it("refuses more rules than GCP's default quota, and says how to declare a raised one", async () => {
    const errors = await check('gcp', model(''));
    expect(errors.map((d) => d.code)).toEqual(['gcp-firewall-quota']);
    expect(errors[0]!.message).toContain('firewallQuota: N');
  });

  it('checks against the declared quota instead', async () => {
    expect(await check('gcp', model(', firewallQuota: 5000'))).toEqual([]);
    const over = await check('gcp', model(', firewallQuota: 110'));
    expect(over.map((d) => d.message)).toEqual([expect.stringContaining('firewall quota of 110')]);
  });

  it('is a positive integer (the schema says so at the key)', async () => {
    for (const bad of ['0', '1.5', '"lots"']) {
      const r = await compile(model(`, firewallQuota: ${bad}`));
      expect(r.ok, bad).toBe(false);
      expect(
        r.diagnostics.some((d) => d.severity === 'error' && d.message.includes('firewallQuota') && d.pos?.line === 4),
        bad,
      ).toBe(true);
    }
  });
});

describe('AWS: quotas on the target', () => {
  const entities = Array.from({ length: 70 }, (_, i) => `  n${i}: { cidrs: [198.51.100.${i}/32] }`).join('\n');
  const wide = `  web: { ingress: [${Array.from({ length: 70 }, (_, i) => `{ from: n${i}, ports: [tcp/443] }`).join(', ')}] }`;
  const model = (extra: string, body = wide) =>
    `bulkhead: 1\nname: estate\ntargets:\n  a: { aws: { region: eu-west-1, vpc: vpc-0123456789abcdef0${extra} } }\nentities:\n${entities}\nsegments:\n${body}\n`;

  it('rules per group: the default 60 refuses 70, a declared rulesPerGroup admits them', async () => {
    expect((await check('aws', model(''))).map((d) => d.code)).toEqual(['aws-rules-per-group']);
    expect(await check('aws', model(', quotas: { rulesPerGroup: 100 }'))).toEqual([]);
  });

  it('security groups per Region: checked against the declared quota, named as such', async () => {
    const errors = await check('aws', model(', quotas: { securityGroupsPerRegion: 3 }', segments(4)));
    expect(errors.map((d) => d.message)).toEqual([
      expect.stringContaining("needs 4 security groups, over the target's declared quota of 3 per Region"),
    ]);
  });

  it('unknown quota keys and non-integers are schema errors', async () => {
    for (const bad of ['{ groups: 3 }', '{ rulesPerGroup: 0 }', '{ rulesPerGroup: many }']) {
      const r = await compile(model(`, quotas: ${bad}`));
      expect(r.ok, bad).toBe(false);
    }
  });
});
