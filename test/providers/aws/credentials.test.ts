import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAwsProvider } from '../../../providers/aws/index.js';
import { ProviderError } from '../../../src/errors.js';
import { freePort } from '../../helpers/aws/moto.js';
import { copyShop, editModel } from '../../helpers/aws/scenario.js';
import { runCli } from '../../helpers/cli.js';
import { awsTarget } from '../../helpers/rulesets.js';

// No credentials anywhere: the real EC2 client and its default provider chain, with HOME and the
// shared files pointing at an empty folder and the instance metadata service switched off, so the
// chain never leaves the machine; the endpoint is a closed loopback port besides.

const CHAIN_ENV = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
  'AWS_DEFAULT_PROFILE',
  'AWS_CONFIG_FILE',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_EC2_METADATA_DISABLED',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_ROLE_ARN',
  'HOME',
];
const saved = Object.fromEntries(CHAIN_ENV.map((k) => [k, process.env[k]]));
let home: string;
let endpoint: string;
let model: { dir: string; file: string } | undefined;

beforeAll(async () => {
  endpoint = `http://127.0.0.1:${await freePort()}`;
});

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'bulkhead-nocreds-'));
  for (const k of CHAIN_ENV) delete process.env[k];
  process.env['HOME'] = home;
  process.env['AWS_CONFIG_FILE'] = join(home, 'config');
  process.env['AWS_SHARED_CREDENTIALS_FILE'] = join(home, 'credentials');
  process.env['AWS_EC2_METADATA_DISABLED'] = 'true';
});

afterEach(async () => {
  await rm(home, { recursive: true, force: true });
  if (model) await rm(model.dir, { recursive: true, force: true });
  model = undefined;
});

afterAll(() => {
  for (const k of CHAIN_ENV) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

const target = (profile?: string) => {
  const t = awsTarget('aws-prod') as ReturnType<typeof awsTarget> & { kind: 'aws' };
  return { ...t, aws: { ...t.aws, endpoint, ...(profile ? { profile } : {}) } };
};

async function readError(profile?: string): Promise<ProviderError> {
  const err = await createAwsProvider()
    .read(target(profile), { kind: 'live' }, { model: 'shop', segments: [] })
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}

describe('AWS without credentials', () => {
  it('says in one line which chain it tried and what to do, with code credentials', async () => {
    const err = await readError();
    expect(err.code).toBe('credentials');
    expect(err.message).toBe(
      'target aws-prod: no AWS credentials (tried environment variables, the shared config and credentials files, SSO, ' +
        "container and instance metadata): run 'aws configure' or 'aws sso login', set AWS_PROFILE, or plan offline with --snapshots DIR",
    );
  });

  it('names a profile that is not in the shared files', async () => {
    const err = await readError('nope');
    expect(err.code).toBe('credentials');
    expect(err.message).toMatch(
      /^target aws-prod: no AWS credentials: profile nope is not in the shared config or credentials files \(tried .*, profile nope, SSO, container and instance metadata\): run 'aws configure'/,
    );
    expect(err.message).not.toContain('\n');
  });

  it('says an expired SSO session needs aws sso login', async () => {
    const startUrl = 'https://example.awsapps.com/start';
    await writeFile(
      join(home, 'config'),
      [
        '[profile sso-dev]',
        `sso_start_url = ${startUrl}`,
        'sso_region = eu-west-1',
        'sso_account_id = 111122223333',
        'sso_role_name = Dev',
        'region = eu-west-1',
        '',
      ].join('\n'),
    );
    const cache = join(home, '.aws', 'sso', 'cache');
    await mkdir(cache, { recursive: true });
    const name = createHash('sha1').update(startUrl).digest('hex');
    await writeFile(
      join(cache, `${name}.json`),
      JSON.stringify({ startUrl, region: 'eu-west-1', accessToken: 'x', expiresAt: '2020-01-01T00:00:00Z' }),
    );
    const err = await readError('sso-dev');
    expect(err.code).toBe('credentials');
    expect(err.message).toBe(
      "target aws-prod: the AWS SSO session of profile sso-dev has expired: run 'aws sso login --profile sso-dev', or plan offline with --snapshots DIR",
    );
  });

  it('plan, drift and export exit 1 with that one line and no stack trace', async () => {
    model = await copyShop('vpc-0123456789abcdef0');
    // No FQDN egress: the CLI would resolve it with DNS in live mode.
    await editModel(model.file, '{ to: payment-apis, ports: [https] }, ', '');
    const env = { BULKHEAD_AWS_ENDPOINT: endpoint, NO_COLOR: '1' };
    for (const argv of [
      ['plan', model.file, '--target', 'aws-prod'],
      ['drift', model.file, '--target', 'aws-prod'],
      ['export', model.file, '--target', 'aws-prod', '--out', 'snap', '--no-dns'],
    ]) {
      const r = await runCli(argv, { cwd: model.dir, env });
      expect(r.code, argv[0]).toBe(1);
      // Progress lines may come first; then one error line at the target's line in the model, the
      // summary line, and no stack.
      const errors = r.stderr.split('\n').filter((l) => / error: /.test(l));
      expect(errors, argv[0]).toHaveLength(1);
      expect(errors[0], argv[0]).toMatch(
        /^.*shop\.yaml:\d+:\d+: error: target aws-prod: no AWS credentials \(tried environment variables, .*--snapshots DIR \[read-failed\]$/,
      );
      expect(r.stderr, argv[0]).not.toMatch(/^\s+at /m);
      expect(r.stderr.trimEnd().split('\n').at(-1), argv[0]).toMatch(/^Error: cannot (plan|check drift|export)/);
    }
  });
});
