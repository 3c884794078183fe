import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { isSilencedProcessWarning, loadRegistry } from '../src/commands/main.js';
import { runCli } from './helpers/cli.js';
import { createFakeWorkspace, restoreProviders } from './helpers/fake-workspace.js';

const run = promisify(execFile);
const repo = join(import.meta.dirname, '..');

afterEach(restoreProviders);

describe('cli', () => {
  it('prints its version', async () => {
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('rejects an unknown command with exit code 1 and no stack trace', async () => {
    const r = await runCli(['frobnicate']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: (unknown command|too many arguments)/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('suggests the option for a typo and for the single-dash (Terraform) spelling', async () => {
    for (const flag of ['-detailed-exitcode', '--detailed-exitcodes', '-detailed-exitcodes']) {
      const r = await runCli(['plan', flag]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`error: unknown option '${flag}' (did you mean --detailed-exitcode?)`);
    }
    // Global options are candidates too, and nothing close gets no suggestion.
    expect((await runCli(['validate', '--compact-warning'])).stderr).toContain('(did you mean --compact-warnings?)');
    const far = await runCli(['plan', '--frobnicate']);
    expect(far.code).toBe(1);
    expect(far.stderr).toMatch(/^error: unknown option '--frobnicate'\n/);
  });

  it('takes the global flags before or after the command, for commands it does not define them on', async () => {
    const { dir } = await createFakeWorkspace('bulkhead-cli-');
    for (const argv of [
      ['--no-color', 'plan'],
      ['plan', '--no-color'],
      ['--no-color', 'apply', '--auto-approve'],
    ]) {
      const r = await runCli(argv, { cwd: dir, tty: true });
      expect(r.code).toBe(0);
      expect(r.stdout).not.toContain('\u001b[');
    }
    // Color is on by default on a TTY, so the runs above did turn it off.
    expect((await runCli(['plan'], { cwd: dir, tty: true })).stdout).toContain('\u001b[');
  });

  it('reads bulkhead.yml by default in every command that takes a model', async () => {
    const { dir } = await createFakeWorkspace('bulkhead-cli-');
    const yml = await mkdtemp(join(tmpdir(), 'bulkhead-yml-'));
    const { readFile } = await import('node:fs/promises');
    await writeFile(join(yml, 'bulkhead.yml'), await readFile(join(dir, 'bulkhead.yaml'), 'utf8'));
    for (const argv of [['validate'], ['compile', '--json'], ['render', '--provider', 'aws'], ['plan'], ['drift']]) {
      const r = await runCli(argv, { cwd: yml });
      expect(r.stderr).not.toContain('not found');
      expect([0, 2]).toContain(r.code);
    }
    const none = await runCli(['compile'], { cwd: await mkdtemp(join(tmpdir(), 'bulkhead-none-')) });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('bulkhead.yaml');
  });
});

describe('process warnings', () => {
  it("recognises the SDKs' notices by name or code, in every emitWarning form", async () => {
    await loadRegistry(); // what `run` does before any command's action (the SDKs load in actions)
    expect(
      isSilencedProcessWarning('NodeVersionSupportWarning: The AWS SDK for JavaScript (v3) will require node >=22.'),
    ).toBe(true);
    expect(isSilencedProcessWarning('received unexpected error', 'MetadataLookupWarning')).toBe(true);
    expect(isSilencedProcessWarning('received unexpected error', { type: 'MetadataLookupWarning' })).toBe(true);
    const e = new Error('x');
    e.name = 'MetadataLookupWarning';
    expect(isSilencedProcessWarning(e)).toBe(true);
    expect(isSilencedProcessWarning('something else', 'DeprecationWarning', 'DEP0005')).toBe(false);
  });

  it('the bulkhead executable drops the SDK notices and still prints other process warnings', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bulkhead-warn-'));
    const preload = join(dir, 'emit.mjs');
    // Emitted once the command has run, as the SDKs do when a client is created or a lookup fails.
    await writeFile(
      preload,
      `process.once('beforeExit', () => {
  process.emitWarning('NodeVersionSupportWarning: The AWS SDK for JavaScript (v3)\\nversions published after the first week of January 2027\\nwill require node >=22.');
  process.emitWarning('received unexpected error = ENOTFOUND code = ENOTFOUND', 'MetadataLookupWarning');
  process.emitWarning('an unrelated warning', 'OtherWarning');
});
`,
    );
    const r = await run(
      process.execPath,
      ['--import', 'tsx', '--import', preload, 'src/commands/main.ts', '--version'],
      { cwd: repo },
    );
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(r.stderr).not.toContain('NodeVersionSupportWarning');
    expect(r.stderr).not.toContain('MetadataLookupWarning');
    expect(r.stderr).toContain('OtherWarning: an unrelated warning');
  }, 120_000);

  it('a provider rejection nobody awaited is one clean error line and exit 1, not a raw trace', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bulkhead-reject-'));
    const preload = join(dir, 'reject.mjs');
    const errors = pathToFileURL(join(repo, 'src', 'errors.ts')).href;
    // As an SDK's background credential refresh does after the command's own error was reported.
    await writeFile(
      preload,
      `process.once('beforeExit', async () => {
  const { ProviderError } = await import(${JSON.stringify(errors)});
  void Promise.reject(new ProviderError('gcp-prod: no Google credentials found (run gcloud auth application-default login)', 'credentials'));
});
`,
    );
    const r = await run(
      process.execPath,
      ['--import', 'tsx', '--import', preload, 'src/commands/main.ts', '--version'],
      { cwd: repo },
    ).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('Error: gcp-prod: no Google credentials found (run gcloud auth application-default login)\n');
  }, 120_000);
});
