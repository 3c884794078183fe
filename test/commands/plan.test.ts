import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PROVIDERS } from '../../providers/index.js';
import { ProviderError } from '../../src/errors.js';
import { ACTION_SYMBOL } from '../../src/plan/types.js';
import { runCli } from '../helpers/cli.js';
import { createFakeWorkspace, restoreProviders, TWO_SEGMENT_MODEL as MODEL } from '../helpers/fake-workspace.js';
import { seedGroup, type FakeCloud } from '../helpers/fake-provider.js';

let dir: string;
let cloud: FakeCloud;

beforeEach(async () => {
  ({ dir, cloud } = await createFakeWorkspace('bulkhead-plan-'));
});

afterEach(restoreProviders);

describe('bulkhead plan', () => {
  it('prints a Terraform-style plan with the legend, blocks and summary', async () => {
    const r = await runCli(['plan'], { cwd: dir });
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Resource actions are indicated with the following symbols:');
    expect(r.stdout).toContain(`  ${ACTION_SYMBOL.create} create`);
    expect(r.stdout).toContain('# aws-test.fake_group.shop-lb will be created (widens access)');
    expect(r.stdout).toContain('+ resource "fake_group" "shop-lb" {');
    expect(r.stdout).toMatch(/\+ ingress tcp\/443-443 from 0\.0\.0\.0\/0 {2}# widens access/);
    expect(r.stdout).toContain('Plan: 2 to add, 0 to change, 0 to destroy.');
    expect(r.stdout).not.toContain('\u001b[');
  });

  it('--detailed-exitcode: 2 with changes, 0 without', async () => {
    expect((await runCli(['plan', '--detailed-exitcode'], { cwd: dir })).code).toBe(2);
    expect((await runCli(['apply', '--auto-approve'], { cwd: dir })).code).toBe(0);
    const r = await runCli(['plan', '--detailed-exitcode'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('No changes. The live state matches the model.');
  });

  it('shows updates, destroys and replaces with their symbols', async () => {
    seedGroup(cloud, 'aws-test', { name: 'shop-old', owner: 'shop' });
    seedGroup(cloud, 'aws-test', { name: 'shop-web', owner: 'shop', description: 'hand made' });
    seedGroup(cloud, 'aws-test', {
      name: 'shop-lb',
      owner: 'shop',
      description: 'bulkhead shop segment lb',
      rules: [{ direction: 'ingress', service: 'tcp/22-22', peer: 'cidr:0.0.0.0/0' }],
    });
    const r = await runCli(['plan'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('# aws-test.fake_group.shop-old will be destroyed');
    expect(r.stdout).toContain('# aws-test.fake_group.shop-lb will be updated in-place');
    expect(r.stdout).toContain('- ingress tcp/22-22 from 0.0.0.0/0');
    expect(r.stdout).toContain('# aws-test.fake_group.shop-web must be replaced');
    expect(r.stdout).toContain('-/+ resource "fake_group" "shop-web" {');
    expect(r.stdout).toContain('# forces replacement');
    expect(r.stdout).toContain('Plan: 1 to add, 1 to change, 2 to destroy.');
  });

  it('--json is versioned and carries model, targets, changes and widening', async () => {
    const r = await runCli(['plan', '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      formatVersion: number;
      model: { name: string; digest: string };
      widensAccess: boolean;
      targets: {
        target: string;
        changes: { address: string; action: string; widensAccess: boolean; before: unknown; after: unknown }[];
      }[];
      diagnostics: unknown[];
    };
    expect(doc.formatVersion).toBe(1);
    expect(doc.model.name).toBe('shop');
    expect(doc.model.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(doc.targets[0]!.target).toBe('aws-test');
    expect(doc.targets[0]!.changes.map((c) => [c.address, c.action, c.widensAccess, c.before])).toEqual([
      ['aws-test.fake_group.shop-lb', 'create', true, null],
      ['aws-test.fake_group.shop-web', 'create', true, null],
    ]);
    expect(doc.widensAccess).toBe(true);
    expect(Array.isArray(doc.diagnostics)).toBe(true);
  });

  it('--markdown prints a table per target', async () => {
    const r = await runCli(['plan', '--markdown'], { cwd: dir });
    expect(r.stdout).toContain('### Bulkhead plan: `shop`');
    expect(r.stdout).toContain('**Plan: 2 to add, 0 to change, 0 to destroy.**');
    expect(r.stdout).toContain('| `+` | `shop-lb` | fake_group | create | +3 | ⚠️ yes |');
    expect(r.stdout).toContain('```diff');
  });

  it('--out saves a plan with prior state, fingerprint and rules', async () => {
    const r = await runCli(['plan', '--out', 'out/tfplan.json'], { cwd: dir });
    expect(r.code).toBe(0);
    const saved = JSON.parse(await readFile(join(dir, 'out/tfplan.json'), 'utf8')) as {
      kind: string;
      plan: { targets: { fingerprint: string; prior: unknown[] }[] };
      rules: { model: { name: string } };
    };
    expect(saved.kind).toBe('bulkhead-plan');
    expect(saved.plan.targets[0]!.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(saved.plan.targets[0]!.prior).toEqual([]);
    expect(saved.rules.model.name).toBe('shop');
    expect(r.stderr).toContain('bulkhead apply out/tfplan.json');
  });

  it('rejects an unknown --target with a suggestion, without a stack trace', async () => {
    const r = await runCli(['plan', '--target', 'aws-tset'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('unknown target "aws-tset" (did you mean "aws-test"?)');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('skips a target whose provider has not landed, with a warning', async () => {
    delete PROVIDERS.aws;
    const r = await runCli(['plan'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('provider aws not available yet, target aws-test skipped');
  });

  it('reads snapshots with --snapshots and says so', async () => {
    seedGroup(cloud, 'aws-test', { name: 'shop-old', owner: 'shop' });
    const exp = await runCli(['export', '--out', 'snap'], { cwd: dir });
    expect(exp.code).toBe(0);
    expect(exp.stdout.trim()).toBe(join('snap', 'aws-test', 'groups.json'));
    cloud.targets.clear(); // the live cloud changes; the snapshot does not
    const r = await runCli(['plan', '--snapshots', 'snap'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Target aws-test (aws, snapshot state)');
    expect(r.stdout).toContain('# aws-test.fake_group.shop-old will be destroyed');
  });

  it('colors only on a TTY and never with NO_COLOR', async () => {
    const tty = await runCli(['plan'], { cwd: dir, tty: true });
    expect(tty.stdout).toContain('\u001b[');
    const noColor = await runCli(['plan'], { cwd: dir, tty: true, env: { NO_COLOR: '1' } });
    expect(noColor.stdout).not.toContain('\u001b[');
    const flag = await runCli(['plan', '--no-color'], { cwd: dir, tty: true });
    expect(flag.stdout).not.toContain('\u001b[');
  });

  it('reports model errors as diagnostics with exit 1', async () => {
    await writeFile(join(dir, 'bad.yaml'), MODEL.replace('from: lb', 'from: lbb'));
    const r = await runCli(['plan', 'bad.yaml'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad\.yaml:\d+:\d+: error: /);
  });
});

const TWO_TARGETS = MODEL.replace(
  'targets:\n',
  'targets:\n  aws-one: { aws: { region: eu-west-1, vpc: vpc-0123456789abcdef1 } }\n  aws-two: { aws: { region: eu-west-1, vpc: vpc-0123456789abcdef2 } }\n',
);

/** The fake provider, with the reads of aws-one and aws-two failing differently (credentials, an SDK parse error). */
function failingReads(): void {
  const fake = PROVIDERS.aws!();
  PROVIDERS.aws = () => ({
    ...fake,
    read: (target, ...rest) => {
      if (target.name === 'aws-one') {
        return Promise.reject(
          new ProviderError(
            'aws-one: no AWS credentials found (set AWS_PROFILE, or run `aws sso login`)',
            'credentials',
          ),
        );
      }
      if (target.name === 'aws-two') {
        // What an SDK error message looks like when a proxy answers HTML instead of XML.
        const sdk =
          'AWS: reading security groups failed: Unexpected token <\n  Deserialization error: to see the raw response, inspect the hidden field {error}.$response on this object.';
        return Promise.reject(new ProviderError(sdk, 'Deserialization'));
      }
      return fake.read(target, ...rest);
    },
  });
}

describe('read failures', () => {
  beforeEach(async () => {
    await writeFile(join(dir, 'bulkhead.yaml'), TWO_TARGETS);
    failingReads();
  });

  for (const argv of [['plan'], ['drift'], ['plan', '--json'], ['drift', '--format', 'sarif']]) {
    it(`${argv.join(' ')}: one line per failing target, exit 1, no trace`, async () => {
      const r = await runCli(argv, { cwd: dir });
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      const lines = r.stderr.split('\n').filter((l) => l.includes('[read-failed]'));
      expect(lines).toEqual([
        'bulkhead.yaml:4:3: error: aws-one: no AWS credentials found (set AWS_PROFILE, or run `aws sso login`) [read-failed]',
        'bulkhead.yaml:5:3: error: target aws-two: AWS: reading security groups failed: Unexpected token < [read-failed]',
      ]);
      expect(r.stderr).not.toContain('$response');
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  }

  it('export reports every failing target and writes nothing', async () => {
    const fake = PROVIDERS.aws!();
    PROVIDERS.aws = () => ({
      ...fake,
      exportSnapshot: (target) =>
        target.name === 'aws-test'
          ? fake.exportSnapshot(target, {})
          : Promise.reject(new ProviderError(`${target.name}: credentials expired`, 'credentials')),
    });
    const r = await runCli(['export', '--out', 'snap'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('bulkhead.yaml:4:3: error: aws-one: credentials expired [read-failed]');
    expect(r.stderr).toContain('bulkhead.yaml:5:3: error: aws-two: credentials expired [read-failed]');
    expect(r.stderr).toContain('Error: cannot export; nothing was written (2 errors)');
    expect(r.stdout).toBe('');
    await expect(readFile(join(dir, 'snap', 'aws-test', 'groups.json'), 'utf8')).rejects.toThrow();
  });
});

const FQDN_MODEL = `${MODEL}    egress: [{ to: payments, ports: [tcp/443] }]
  app:
    egress: [{ to: payments, ports: [tcp/443] }]
entities:
  payments: { fqdns: [api.example.com] }
`;

describe('unresolved FQDNs and warning flags', () => {
  beforeEach(async () => {
    await writeFile(join(dir, 'bulkhead.yaml'), FQDN_MODEL);
    await mkdir(join(dir, 'snap', 'aws-test'), { recursive: true });
    await writeFile(join(dir, 'snap', 'aws-test', 'groups.json'), '[]');
    await writeFile(join(dir, 'snap', 'dns.json'), '{}');
  });

  it('an FQDN that resolves to nothing stops the plan with an error naming it; --allow-unresolved accepts it', async () => {
    const r = await runCli(['plan', '--snapshots', 'snap'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^bulkhead\.yaml:10:\d+: error: entity payments: api\.example\.com resolved to no address;.*--allow-unresolved.* \[fqdn-unresolved\]$/m,
    );
    expect(r.stdout).toBe('');
    const ok = await runCli(['plan', '--snapshots', 'snap', '--allow-unresolved'], { cwd: dir });
    expect(ok.code).toBe(0);
    expect(ok.stderr).toMatch(
      /warning: entity payments: api\.example\.com resolved to no address.*\[fqdn-unresolved\]/,
    );
    expect(ok.stdout).toContain('Plan:');
  });

  it('a dns.json with a string for ipv4 is a clear error naming the file and JSON path, exit 1', async () => {
    await writeFile(join(dir, 'snap', 'dns.json'), JSON.stringify({ 'api.example.com': { ipv4: '1234' } }));
    const r = await runCli(['plan', '--snapshots', 'snap'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `error: ${join('snap', 'dns.json')}: $["api.example.com"].ipv4: must be a list of ipv4 addresses, not the string "1234"`,
    );
    expect(r.stderr).not.toContain('0.0.0.1/32');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe('');
  });

  it('--no-warn RULE silences those warnings on any command, never errors', async () => {
    const loud = await runCli(['plan', '--snapshots', 'snap', '--allow-unresolved'], { cwd: dir });
    expect(loud.stderr).toContain('[fqdn-unresolved]');
    const quiet = await runCli(['--no-warn', 'fqdn-unresolved', 'plan', '--snapshots', 'snap', '--allow-unresolved'], {
      cwd: dir,
    });
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).not.toContain('[fqdn-unresolved]');
    const both = await runCli(
      ['plan', '--snapshots', 'snap', '--allow-unresolved', '--no-warn', 'fqdn-unresolved,fqdn-bad-address'],
      { cwd: dir },
    );
    expect(both.stderr).not.toContain('[fqdn-unresolved]');
    const error = await runCli(['plan', '--snapshots', 'snap', '--no-warn', 'fqdn-unresolved'], { cwd: dir });
    expect(error.code).toBe(1);
    expect(error.stderr).toContain('error: entity payments');
  });

  it('--compact-warnings prints each warning on one line', async () => {
    const full = await runCli(['plan', '--snapshots', 'snap', '--allow-unresolved'], { cwd: dir });
    expect(full.stderr).toMatch(/\[fqdn-unresolved\]\n {2}bulkhead\.yaml:12:\d+: also used here/);
    const compact = await runCli(['plan', '--snapshots', 'snap', '--allow-unresolved', '--compact-warnings'], {
      cwd: dir,
    });
    expect(compact.code).toBe(0);
    expect(compact.stderr).toMatch(/\[fqdn-unresolved\]\n/);
    expect(compact.stderr).not.toContain('also used here');
  });
});

describe('the README quick start', () => {
  it('plans the bundled shop example against the bundled snapshots, offline, for every registered provider', async () => {
    restoreProviders();
    const repo = join(import.meta.dirname, '..', '..');
    const r = await runCli(['plan', 'policies/shop.yaml', '--snapshots', 'policies/snapshots/shop', '--json'], {
      cwd: repo,
    });
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      targets: { target: string; source: string; changes: { action: string }[] }[];
    };
    const registered = (['aws', 'azure', 'gcp', 'kubernetes'] as const).filter((id) => PROVIDERS[id] !== undefined);
    const targetOf = { aws: 'aws-prod', azure: 'azure-prod', gcp: 'gcp-prod', kubernetes: 'k8s-prod' } as const;
    expect(doc.targets.map((t) => t.target)).toEqual(registered.map((id) => targetOf[id]));
    for (const t of doc.targets) expect(t.source).toBe('snapshot');
    const actions = new Set(doc.targets.flatMap((t) => t.changes.map((c) => c.action)));
    if (registered.length > 0) {
      expect(actions).toContain('create');
      expect(actions).toContain('update');
      expect(actions).toContain('delete');
    }
  });

  it('prints the same text and --json target by target as from the whole plan (what --out takes)', async () => {
    restoreProviders();
    const repo = join(import.meta.dirname, '..', '..');
    const args = ['plan', join(repo, 'policies/shop.yaml'), '--snapshots', join(repo, 'policies/snapshots/shop')];
    for (const extra of [[], ['--json']]) {
      const streamed = await runCli([...args, ...extra], { cwd: dir });
      const whole = await runCli([...args, ...extra, '--out', 'saved.json'], { cwd: dir });
      expect(streamed.code).toBe(0);
      expect(whole.code).toBe(0);
      expect(streamed.stdout.length).toBeGreaterThan(1000);
      expect(streamed.stdout).toBe(whole.stdout);
    }
  });
});
