import { describe, expect, it } from 'vitest';
import type { RuleSet } from '../../src/compile/types.js';
import { runCli } from '../helpers/cli.js';
import { BASE_MODEL, writeFiles } from '../model/write-model.js';

const repo = new URL('../../', import.meta.url).pathname;

describe('bulkhead compile', () => {
  it('--json prints the RuleSet on stdout, byte-identical across runs', async () => {
    const a = await runCli(['compile', 'policies/shop.yaml', '--json'], { cwd: repo });
    const b = await runCli(['compile', '--json', 'policies/shop.yaml'], { cwd: repo });
    expect(a.code).toBe(0);
    expect(a.stderr).toBe('');
    expect(a.stdout).toBe(b.stdout);
    const rs = JSON.parse(a.stdout) as RuleSet;
    expect(rs.formatVersion).toBe(1);
    expect(rs.model.name).toBe('shop');
    expect(rs.rules.length).toBe(11);
  });

  it('without --json prints a table of rules and denies', async () => {
    const r = await runCli(['compile', 'policies/shop.yaml'], { cwd: repo });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Model shop \(policies\/shop\.yaml\), digest [0-9a-f]{12}\n/);
    expect(r.stdout).toMatch(/\ndb +ingress +app +tcp\/5432 +[0-9a-f]{12} +policies\/shop\.yaml:\d+:\d+\n/);
    expect(r.stdout).toMatch(/\nno-remote-admin-from-internet +ingress +\(all\) +internet +tcp\/22,tcp\/3389 /);
  });

  it('refuses an invalid model with exit 1 and prints nothing on stdout', async () => {
    const dir = writeFiles({ 'm.yaml': BASE_MODEL.replace('bulkhead: 1', 'bulkhead: 2') });
    const r = await runCli(['compile', 'm.yaml', '--json'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('m.yaml:1:11: error: format version 2 is not supported');
  });

  it('has --help', async () => {
    const r = await runCli(['compile', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--json');
  });
});
