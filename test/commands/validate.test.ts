import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { BASE_MODEL, writeFiles } from '../model/write-model.js';

const repo = new URL('../../', import.meta.url).pathname;

describe('bulkhead validate', () => {
  it('accepts the shop model: exit 0, a summary on stdout, nothing on stderr', async () => {
    const r = await runCli(['validate', 'policies/shop.yaml'], { cwd: repo });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^valid: policies\/shop\.yaml \(model "shop": 4 segments, 11 rules, 1 guardrail deny, 4 targets\)\n$/,
    );
  });

  it('defaults to bulkhead.yaml in the working directory', async () => {
    const dir = writeFiles({ 'bulkhead.yaml': BASE_MODEL });
    const r = await runCli(['validate'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('valid: bulkhead.yaml');
  });

  it('says so when there is no bulkhead.yaml, exit 1, no stack trace', async () => {
    const dir = writeFiles({});
    const r = await runCli(['validate'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^Error: cannot read bulkhead\.yaml: no such file/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('reports every error at once as file:line:column: error: message [code], exit 1', async () => {
    const dir = writeFiles({
      'm.yaml': `${BASE_MODEL.replace('from: web,', 'from: wbe,').replace('[https]', '[htps]')}  cache:\n    ingress: [{ from: office, ports: [tcp/70000] }]\n`,
    });
    const r = await runCli(['validate', 'm.yaml'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toEqual([
      'm.yaml:11:41: error: unknown service "htps"; did you mean "https"? [unknown-service]',
      'm.yaml:13:23: error: unknown reference "wbe": no segment, entity or tier has this name; did you mean "web"? [unknown-reference]',
      'm.yaml:15:39: error: "tcp/70000": port 70000 is out of range (0-65535) [bad-port]',
      'Error: the model is not valid (3 errors)',
    ]);
  });

  it('prints warnings on stderr and still exits 0', async () => {
    const dir = writeFiles({
      'm.yaml': `${BASE_MODEL.replace(
        'targets:\n',
        'targets:\n  gcp-prod: { gcp: { project: demo-prod, network: demo-vpc } }\n',
      ).replace(
        'entities:\n',
        'entities:\n  updates: { fqdns: [updates.example.com] }\n',
      )}    egress: [{ to: updates, ports: [https] }]\n`,
    });
    const r = await runCli(['validate', 'm.yaml'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /^m\.yaml:4:3: warning: target "gcp-prod" has no firewallPolicy: .* \[fqdn-without-firewall-policy\]\n {2}m\.yaml:\d+:\d+: FQDN egress to "updates"\n$/,
    );
    expect(r.stdout).toContain('valid: m.yaml');
    const compact = await runCli(['validate', 'm.yaml', '--compact-warnings'], { cwd: dir });
    expect(compact.stderr).toMatch(
      /^m\.yaml:4:3: warning: target "gcp-prod" has no firewallPolicy: .* \[fqdn-without-firewall-policy\]\n$/,
    );
    const silenced = await runCli(['--no-warn', 'fqdn-without-firewall-policy', 'validate', 'm.yaml'], { cwd: dir });
    expect(silenced.code).toBe(0);
    expect(silenced.stderr).toBe('');
    expect(silenced.stdout).toContain('valid: m.yaml');
  });

  it('colors only on a TTY and never with NO_COLOR', async () => {
    const dir = writeFiles({ 'm.yaml': BASE_MODEL.replace('[https]', '[htps]') });
    const plain = await runCli(['validate', 'm.yaml'], { cwd: dir });
    const tty = await runCli(['validate', 'm.yaml'], { cwd: dir, tty: true });
    const noColor = await runCli(['validate', 'm.yaml'], { cwd: dir, tty: true, env: { NO_COLOR: '1' } });
    expect(plain.stderr).not.toContain('\u001b[');
    expect(tty.stderr).toContain('\u001b[');
    expect(noColor.stderr).not.toContain('\u001b[');
    expect(noColor.stderr).toBe(plain.stderr);
  });

  it('checks a guardrail pack on its own, leaving segment and tier names to the models', async () => {
    const r = await runCli(['validate', 'policies/guardrails/pci.yaml'], { cwd: repo });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^valid: policies\/guardrails\/pci\.yaml \(guardrail pack: 3 guardrails, /);
    const dir = writeFiles({
      'p.yaml':
        'bulkhead: 1\nguardrails:\n  - name: g\n    deny: { from: internet, to: tier:data, ports: [tcp/99999] }\n',
    });
    const bad = await runCli(['validate', 'p.yaml'], { cwd: dir });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('p.yaml:4:52: error: "tcp/99999": port 99999 is out of range (0-65535) [bad-port]');
    const compiled = await runCli(['compile', 'policies/guardrails/pci.yaml'], { cwd: repo });
    expect(compiled.code).toBe(1);
    expect(compiled.stderr).toContain('[not-a-model]');
  });

  it('validates several files in one run and reports the errors of all of them', async () => {
    const dir = writeFiles({
      'a.yaml': BASE_MODEL,
      'b.yaml': BASE_MODEL.replace('[https]', '[htps]'),
      'c.yaml': BASE_MODEL.replace('tcp/5432', 'tcp/5432-1'),
    });
    const r = await runCli(['validate', 'a.yaml', 'b.yaml', 'c.yaml', 'missing.yaml'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('valid: a.yaml (model "demo": 2 segments, 3 rules, 0 guardrail denies, 1 target)\n');
    expect(r.stderr.split('\n')).toEqual([
      'error: cannot read missing.yaml: no such file [file-not-found]',
      'b.yaml:11:41: error: unknown service "htps"; did you mean "https"? [unknown-service]',
      'c.yaml:13:36: error: "tcp/5432-1": the range 5432-1 is reversed; did you mean tcp/1-5432? [bad-port-range]',
      'Error: 3 of 4 files are not valid (3 errors)',
      '',
    ]);
  });

  it("--json prints every file's outcome and diagnostics on stdout, still exit 1 when invalid", async () => {
    const dir = writeFiles({ 'a.yaml': BASE_MODEL, 'b.yaml': BASE_MODEL.replace('[https]', '[htps]') });
    const r = await runCli(['validate', '--json', 'a.yaml', 'b.yaml'], { cwd: dir });
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as {
      valid: boolean;
      files: {
        file: string;
        valid: boolean;
        kind?: string;
        diagnostics: { code: string; pos: { line: number; column: number } }[];
      }[];
    };
    expect(out.valid).toBe(false);
    expect(
      out.files.map((f) => [
        f.file,
        f.valid,
        f.kind ?? null,
        f.diagnostics.map((d) => `${d.pos.line}:${d.pos.column} ${d.code}`),
      ]),
    ).toEqual([
      ['a.yaml', true, 'model', []],
      ['b.yaml', false, null, ['11:41 unknown-service']],
    ]);
    expect(r.stderr).toContain('b.yaml:11:41: error: unknown service "htps"');
    const ok = await runCli(['validate', '--json', 'a.yaml'], { cwd: dir });
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ valid: true });
  });

  it('has --help', async () => {
    const r = await runCli(['validate', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: bulkhead validate [options] [files...]');
  });
});
