import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Change } from '../../../src/plan/types.js';
import { ProviderError } from '../../../src/errors.js';
import { createGcpProvider } from '../../../providers/gcp/index.js';
import { runCli } from '../../helpers/cli.js';
import { gcpTarget } from '../../helpers/rulesets.js';

/**
 * Issue 3 (GCP): without credentials, read, apply and export fail with one ProviderError
 * (code `credentials`) naming the chain that was tried and the fixes, through the real
 * google-auth-library. The environment leaves it nothing to find and forbids the metadata server
 * probe, so no request leaves the process.
 */

const saved: Record<string, string | undefined> = {};
let empty: string;
const VARS = [
  'METADATA_SERVER_DETECTION',
  'GOOGLE_APPLICATION_CREDENTIALS',
  'HOME',
  'CLOUDSDK_CONFIG',
  'APPDATA',
  'GCE_METADATA_HOST',
  'GCE_METADATA_IP',
];

beforeAll(async () => {
  empty = await mkdtemp(join(tmpdir(), 'bulkhead-gcp-nocreds-'));
  for (const v of VARS) saved[v] = process.env[v];
  process.env['METADATA_SERVER_DETECTION'] = 'none';
  process.env['HOME'] = empty;
  process.env['CLOUDSDK_CONFIG'] = empty;
  delete process.env['APPDATA'];
  // Where the metadata server would be, were it probed: loopback, nothing listening.
  process.env['GCE_METADATA_HOST'] = '127.0.0.1:9';
  process.env['GCE_METADATA_IP'] = '127.0.0.1:9';
});

afterAll(async () => {
  for (const v of VARS) {
    if (saved[v] === undefined) delete process.env[v];
    else process.env[v] = saved[v];
  }
  await rm(empty, { recursive: true, force: true });
});

const target = gcpTarget('gcp-prod');
const EXPECTED =
  "target gcp-prod: no Google Cloud credentials (tried GOOGLE_APPLICATION_CREDENTIALS, gcloud application-default credentials, the metadata server): run 'gcloud auth application-default login', or plan offline with --snapshots DIR";

async function failure(run: () => Promise<unknown>): Promise<ProviderError> {
  const err = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}

describe.each([
  ['GOOGLE_APPLICATION_CREDENTIALS pointing to nothing', join(tmpdir(), 'bulkhead-no-such-key.json')],
  ['no GOOGLE_APPLICATION_CREDENTIALS', undefined],
])('gcp without credentials (%s)', (_label, keyFile) => {
  beforeAll(() => {
    if (keyFile === undefined) delete process.env['GOOGLE_APPLICATION_CREDENTIALS'];
    else process.env['GOOGLE_APPLICATION_CREDENTIALS'] = keyFile;
  });

  it('read: one line, code credentials, the SDK error kept as cause only', async () => {
    const err = await failure(() => createGcpProvider().read(target, { kind: 'live' }, { model: 'shop' }));
    expect(err.code).toBe('credentials');
    expect(err.message).toBe(EXPECTED);
    expect(err.message).not.toContain('\n');
    expect(err.cause).toBeDefined();
  });

  it('export and apply fail the same way', async () => {
    const provider = createGcpProvider();
    const exp = await failure(() => provider.exportSnapshot!(target, {}));
    expect(exp.message).toBe(EXPECTED);
    const applier = provider.createApplier!(target, { resources: [] } as never, { parallelism: 1 });
    const change = {
      action: 'delete',
      type: 'gcp_firewall',
      address: 'gcp_firewall.x',
      name: 'shop-x',
      before: { name: 'shop-x' },
    } as unknown as Change;
    const app = await failure(() =>
      applier.run({ id: 'delete gcp_firewall.x', phase: 'delete', change, children: [] } as never),
    );
    expect(app.code).toBe('credentials');
    expect(app.message).toBe(EXPECTED);
  });
});

describe('bulkhead commands without Google Cloud credentials', () => {
  it.each([['plan'], ['drift'], ['export', '--out', 'snap', '--no-dns']])(
    '%s: exit 1 and one line naming the target and the fixes, no trace',
    async (...argv) => {
      delete process.env['GOOGLE_APPLICATION_CREDENTIALS'];
      const dir = await mkdtemp(join(tmpdir(), 'bulkhead-gcp-nocreds-cli-'));
      try {
        await writeFile(
          join(dir, 'bulkhead.yaml'),
          `bulkhead: 1
name: shop
targets:
  gcp-prod: { gcp: { project: shop-prod, network: shop-vpc, internalRanges: [10.0.0.0/8] } }
segments:
  web: { ingress: [{ from: internet, ports: [tcp/443] }] }
  app: { ingress: [{ from: web, ports: [tcp/8080] }] }
`,
        );
        const r = await runCli(argv, { cwd: dir, env: {} });
        expect(r.code).toBe(1);
        const lines = r.stderr.split('\n').filter((l) => l.includes('credentials'));
        expect(lines).toHaveLength(1);
        expect(lines[0]).toContain(EXPECTED);
        expect(r.stderr).not.toMatch(/^\s+at /m);
        expect(r.stderr).not.toContain('Could not load the default credentials');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
});
