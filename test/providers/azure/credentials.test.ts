import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { credentialChain, credentialError } from '../../../providers/azure/errors.js';
import { ProviderError } from '../../../src/errors.js';
import { emulatorTarget, startAzureHarness, type AzureHarness } from '../../helpers/azure/harness.js';

/**
 * Issue 3 (Azure): without credentials, `plan`, `drift` and `export` print ONE line per target
 * naming the chain DefaultAzureCredential tried and what to do, and exit 1.
 *
 * The CLI runs in a child process with the REAL credential chain and an empty environment: no
 * AZURE_* variables, HOME an empty folder, PATH an empty folder (so `az`, `pwsh` and `azd` are
 * not found). The managed-identity step is kept on loopback with AZURE_POD_IDENTITY_AUTHORITY_HOST
 * (documented by @azure/identity and MSAL for AKS pod identity: it replaces IMDS's
 * 169.254.169.254 and skips the probe) pointing at a local server that answers "identity not
 * found". test/helpers/azure/loopback-only.mjs makes any other connection or lookup fail, so the
 * test proves nothing left 127.0.0.1.
 */

const REPO = resolve(import.meta.dirname, '../../..');
const TSX = pathToFileURL(join(REPO, 'node_modules/tsx/dist/loader.mjs')).href;
const GUARD = pathToFileURL(join(REPO, 'test/helpers/azure/loopback-only.mjs')).href;
const CLI = join(REPO, 'src/commands/main.ts');
const run = promisify(execFile);

const MODEL = `bulkhead: 1
name: tiny
targets:
  azure-e2e: { azure: { subscription: 00000000-0000-0000-0000-000000000000, resourceGroup: shop-prod, location: westeurope, nsg: shop-prod } }
services:
  https: tcp/443
segments:
  web: { ingress: [{ from: internet, ports: [https] }] }
`;

const EXPECTED =
  'tiny.yaml:4:3: error: target azure-e2e: no Azure credentials (tried environment variables, workload identity, managed identity, Azure CLI, Azure PowerShell, Azure Developer CLI): ' +
  "run 'az login', or plan offline with --snapshots DIR [read-failed]";
const SUMMARY: Record<string, string> = {
  plan: 'Error: cannot plan (1 error)',
  drift: 'Error: cannot check drift (1 error)',
  export: 'Error: cannot export; nothing was written (1 error)',
};

describe('azure without credentials (real DefaultAzureCredential, empty environment)', () => {
  let dir: string;
  let imds: Server;
  const imdsCalls: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bulkhead-azure-nocreds-'));
    await mkdir(join(dir, 'bin'));
    await mkdir(join(dir, 'home'));
    await writeFile(join(dir, 'tiny.yaml'), MODEL);
    imds = createServer((req, res) => {
      imdsCalls.push(`${req.method} ${req.url}`);
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'invalid_request', error_description: 'Identity not found' }));
    });
    await new Promise<void>((ok) => imds.listen(0, '127.0.0.1', ok));
  });

  afterAll(async () => {
    await new Promise<void>((ok) => imds.close(() => ok()));
    await rm(dir, { recursive: true, force: true });
  });

  async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return cliWith(
      { AZURE_POD_IDENTITY_AUTHORITY_HOST: `http://127.0.0.1:${(imds.address() as AddressInfo).port}` },
      ...args,
    );
  }

  async function cliWith(
    extra: Record<string, string>,
    ...args: string[]
  ): Promise<{ code: number; stdout: string; stderr: string }> {
    const env = { PATH: join(dir, 'bin'), HOME: join(dir, 'home'), ...extra };
    return run(process.execPath, ['--import', TSX, '--import', GUARD, CLI, ...args], {
      cwd: dir,
      env,
      timeout: 60_000,
    }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code?: number; stdout?: string; stderr?: string }) => ({
        code: e.code ?? -1,
        stdout: e.stdout ?? '',
        stderr: e.stderr ?? '',
      }),
    );
  }

  for (const command of [
    ['plan', 'tiny.yaml'],
    ['drift', 'tiny.yaml'],
    ['export', 'tiny.yaml', '--out', 'snap'],
  ]) {
    it(`${command[0]}: one line naming the chain and what to do, exit 1, nothing but loopback contacted`, async () => {
      const before = imdsCalls.length;
      const r = await cli(...command);
      expect(r.stderr).not.toContain('NON-LOOPBACK');
      // Progress lines ("Planning tiny against the live APIs…") aside: the one error line at the
      // target in the model, the summary, and no trace.
      expect(
        r.stderr
          .trimEnd()
          .split('\n')
          .filter((l) => !l.endsWith('…')),
      ).toEqual([EXPECTED, SUMMARY[command[0]!]]);
      expect(r.code).toBe(1);
      // The managed-identity step of the chain did run, against the loopback stand-in for IMDS.
      expect(imdsCalls.slice(before).some((c) => c.startsWith('GET /metadata/identity/oauth2/token'))).toBe(true);
    }, 90_000);
  }

  it('control: without the loopback IMDS stand-in the chain would probe 169.254.169.254, and the guard stops it', async () => {
    const r = await cliWith({}, 'plan', 'tiny.yaml');
    expect(r.stderr).toContain('NON-LOOPBACK connect 169.254.169.254');
    expect(r.code).toBe(1);
  }, 90_000);
});

describe('azure credentials rejected by ARM', () => {
  let h: AzureHarness;
  afterEach(async () => {
    await h.close();
  });

  it('a 401 on the first SDK call is one line with code "credentials"', async () => {
    h = await startAzureHarness();
    h.emulator.inject({ status: 401, code: 'ExpiredAuthenticationToken', count: 1 });
    const err = await h.provider
      .read(emulatorTarget('azure-prod'), { kind: 'live' }, { model: 'shop' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).code).toBe('credentials');
    expect((err as ProviderError).message).toBe(
      "target azure-prod: Azure did not accept the credentials (ExpiredAuthenticationToken: The access token is invalid.): run 'az login', or plan offline with --snapshots DIR",
    );
  });
});

describe('azure credential chain as AZURE_TOKEN_CREDENTIALS selects it', () => {
  it('names only the credentials DefaultAzureCredential would try', () => {
    expect(credentialChain({ AZURE_TOKEN_CREDENTIALS: 'dev' })).toEqual([
      'Azure CLI',
      'Azure PowerShell',
      'Azure Developer CLI',
    ]);
    expect(credentialChain({ AZURE_TOKEN_CREDENTIALS: 'ManagedIdentityCredential' })).toEqual(['managed identity']);
    const e = Object.assign(new Error('ChainedTokenCredential authentication failed.\nmore'), {
      name: 'AggregateAuthenticationError',
    });
    expect(
      credentialError(new ProviderError('reading NSG x: …', undefined, false, { cause: e }), 't', {
        AZURE_TOKEN_CREDENTIALS: 'prod',
      })?.message,
    ).toBe(
      "target t: no Azure credentials (tried environment variables, workload identity, managed identity): run 'az login', or plan offline with --snapshots DIR",
    );
    expect(credentialError(new Error('boom'), 't', {})).toBeUndefined();
  });
});
