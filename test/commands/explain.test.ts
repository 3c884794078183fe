import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { exampleLine } from '../helpers/fixtures.js';

const REPO = resolve(import.meta.dirname, '../..');
const SNAP = 'policies/snapshots/shop';

interface Answer {
  probe: { from: string; to: string; port: string };
  model: {
    verdict: string;
    reason?: string;
    rule?: { segment: string; direction: string; file: string; line: number };
    guardrail?: { name: string; file: string; line: number };
  };
  targets: Record<
    string,
    {
      verdict: string;
      agrees: boolean;
      rules: { object: string; rule: string; owned: boolean; kind: string; action: string }[];
      disagreement?: { cause: string; message: string };
      notes?: string[];
    }
  >;
}

async function explain(args: string[], cwd = REPO): Promise<{ code: number; answer: Answer; stderr: string }> {
  const r = await runCli(['explain', ...args, '--json'], { cwd });
  expect(r.code, r.stderr).toBe(0);
  return { code: r.code, answer: JSON.parse(r.stdout) as Answer, stderr: r.stderr };
}

/** The model line of lb's ingress rule (found, so editing the example above it does not break the test). */
const LB_LINE = exampleLine('shop.yaml', '  lb:  { ingress');

describe('bulkhead explain on the bundled shop snapshots', () => {
  it('names the model rule (file:line) and each target verdict; a target that lacks the rendered rule is drift', async () => {
    const { answer } = await explain([
      'internet',
      'lb',
      '--port',
      'tcp/443',
      'policies/shop.yaml',
      '--snapshots',
      SNAP,
    ]);
    expect(answer.probe).toEqual({ from: 'internet', to: 'lb', port: 'tcp/443' });
    expect(answer.model).toMatchObject({
      verdict: 'allow',
      rule: { segment: 'lb', direction: 'ingress', file: 'policies/shop.yaml', line: LB_LINE },
    });
    expect(Object.keys(answer.targets)).toEqual(['aws-prod', 'azure-prod', 'gcp-prod', 'k8s-prod']);
    expect(answer.targets['k8s-prod']).toMatchObject({ verdict: 'allow', agrees: true });
    expect(answer.targets['k8s-prod']!.rules).toEqual([
      expect.objectContaining({ object: 'shop/shop-lb', owned: true, direction: 'ingress', action: 'allow' }),
    ]);
    expect(answer.targets['azure-prod']).toMatchObject({ verdict: 'allow', agrees: true });
    expect(answer.targets['azure-prod']!.rules[0]).toMatchObject({
      object: 'shop-prod',
      owned: true,
      kind: 'rule',
      action: 'allow',
    });
    // The AWS snapshot's lb group has no ::/0 rule yet (plan adds it): IPv6 internet is denied there.
    expect(answer.targets['aws-prod']).toMatchObject({
      verdict: 'deny',
      agrees: false,
      disagreement: { cause: 'drift' },
    });
    expect(answer.targets['aws-prod']!.notes).toContain('denied from ::/1');
  });

  it('says when the cloud form of the model is wider: an internal address reaches lb through 0.0.0.0/0 on AWS and GCP, not on Azure', async () => {
    const { answer } = await explain([
      '10.1.2.3',
      'lb',
      '--port',
      'tcp/443',
      'policies/shop.yaml',
      '--snapshots',
      SNAP,
    ]);
    expect(answer.model).toMatchObject({ verdict: 'deny', reason: 'default-deny' });
    expect(answer.targets['aws-prod']).toMatchObject({ verdict: 'allow', disagreement: { cause: 'cloud-default' } });
    expect(answer.targets['gcp-prod']).toMatchObject({ verdict: 'allow', disagreement: { cause: 'cloud-default' } });
    expect(answer.targets['azure-prod']).toMatchObject({ verdict: 'deny', agrees: true });
  });

  it('names the guardrail that closes a flow, at its file:line in the included pack', async () => {
    const { answer } = await explain([
      '35.235.240.5',
      'app',
      '--port',
      'tcp/22',
      'policies/shop.yaml',
      '--snapshots',
      SNAP,
      '--target',
      'gcp-prod',
    ]);
    expect(answer.model).toMatchObject({
      verdict: 'deny',
      reason: 'guardrail',
      guardrail: { name: 'no-remote-admin-from-internet', file: 'policies/guardrails/baseline.yaml', line: 19 },
    });
    // The ops team's IAP rule would admit it, but the guardrail deny at priority 100 wins.
    expect(answer.targets['gcp-prod']).toMatchObject({ verdict: 'deny', agrees: true });
    expect(answer.targets['gcp-prod']!.rules[0]!.rule).toMatch(/^shop-deny-no-remote-admin-from-internet-in-v4-/);
  });

  it('blames a rule of another team, and honours the GCP policy enforcement order', async () => {
    const after = await explain([
      'app',
      'payment-apis',
      '--port',
      'tcp/443',
      'policies/shop.yaml',
      '--snapshots',
      SNAP,
      '--target',
      'gcp-prod',
    ]);
    // GCP's default order: the model's own deny-all egress (a VPC rule) comes before the policy's FQDN allow.
    expect(after.answer.targets['gcp-prod']).toMatchObject({
      verdict: 'deny',
      disagreement: { cause: 'cloud-default' },
    });
    const before = await explain([
      'app',
      'payment-apis',
      '--port',
      'tcp/443',
      'policies/shop.yaml',
      '--snapshots',
      SNAP,
      '--target',
      'gcp-prod',
      '--policy-enforcement-order',
      'BEFORE_CLASSIC_FIREWALL',
    ]);
    // Policy first: the security team's block list (priority 1000, not the model's) denies one of the resolved addresses.
    const t = before.answer.targets['gcp-prod']!;
    expect(t).toMatchObject({ verdict: 'deny', disagreement: { cause: 'unowned-rule' } });
    expect(t.rules[0]).toMatchObject({ object: 'shop-egress', rule: '1000', owned: false, action: 'deny' });
  });

  it('counts rules the model does not own: an unowned allow opens the database on GCP', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bulkhead-explain-'));
    await cp(join(REPO, SNAP), join(dir, 'snap'), { recursive: true });
    await cp(join(REPO, 'policies'), join(dir, 'policies'), { recursive: true });
    const file = join(dir, 'snap/gcp-prod/firewall-rules.json');
    const rules = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>[];
    rules.push({
      name: 'ops-allow-metrics',
      network: 'https://www.googleapis.com/compute/v1/projects/shop-prod/global/networks/shop-vpc',
      direction: 'INGRESS',
      priority: 900,
      sourceRanges: ['10.0.0.0/8'],
      allowed: [{ IPProtocol: 'tcp', ports: ['9100'] }],
      selfLink: 'https://www.googleapis.com/compute/v1/projects/shop-prod/global/firewalls/ops-allow-metrics',
    });
    await writeFile(file, JSON.stringify(rules));
    const { answer } = await explain(
      ['10.1.1.1', 'db', '--port', 'tcp/9100', 'policies/shop.yaml', '--snapshots', 'snap', '--target', 'gcp-prod'],
      dir,
    );
    expect(answer.model.verdict).toBe('deny');
    const t = answer.targets['gcp-prod']!;
    expect(t).toMatchObject({ verdict: 'allow', agrees: false, disagreement: { cause: 'unowned-rule' } });
    expect(t.rules.map((r) => `${r.rule} ${r.owned}`)).toEqual(['ops-allow-metrics false']);
    // Text output marks it too.
    const text = await runCli(
      [
        'explain',
        '10.1.1.1',
        'db',
        '--port',
        'tcp/9100',
        'policies/shop.yaml',
        '--snapshots',
        'snap',
        '--target',
        'gcp-prod',
      ],
      { cwd: dir },
    );
    expect(text.stdout).toContain('[not owned by the model]');
    expect(text.stdout).toContain('why: unowned-rule');
  });
});

describe('bulkhead explain: bad input', () => {
  it("Kubernetes: names both sides' policies of an allow, and blames another team's default-deny when the model's own policy is missing", async () => {
    const allow = (
      await explain([
        'web',
        'app',
        '--port',
        'tcp/8080',
        'policies/shop.yaml',
        '--snapshots',
        SNAP,
        '--target',
        'k8s-prod',
      ])
    ).answer.targets['k8s-prod']!;
    expect(allow).toMatchObject({ verdict: 'allow', agrees: true });
    expect(allow.rules.map((r) => [r.object, r.owned])).toEqual([
      ['shop/shop-web', true],
      ['shop/shop-app', true],
    ]);
    // The snapshot has no shop-db policy (plan creates it): db's pods are isolated only by the unowned default-deny-all.
    const deny = (
      await explain([
        'app',
        'db',
        '--port',
        'tcp/5432',
        'policies/shop.yaml',
        '--snapshots',
        SNAP,
        '--target',
        'k8s-prod',
      ])
    ).answer;
    expect(deny.model.verdict).toBe('allow');
    expect(deny.targets['k8s-prod']).toMatchObject({
      verdict: 'deny',
      agrees: false,
      disagreement: { cause: 'unowned-rule' },
    });
    expect(deny.targets['k8s-prod']!.rules).toEqual([
      expect.objectContaining({ object: 'shop/default-deny-all', owned: false, action: 'deny', direction: 'ingress' }),
    ]);
  });

  it('exits 1 with a clear message, never a trace', async () => {
    const bad = async (args: string[], message: string) => {
      const r = await runCli(['explain', ...args], { cwd: REPO });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    };
    await bad(
      ['web', 'dbb', '--port', 'tcp/5432', 'policies/shop.yaml'],
      'TO: "dbb" is not a segment, an entity, internet or an address; did you mean "db"?',
    );
    await bad(['web', 'db', 'policies/shop.yaml'], 'explain needs --port PROTO/PORT');
    await bad(
      ['web', 'db', '--port', 'tcp/99999', 'policies/shop.yaml'],
      '--port: "tcp/99999": port 99999 is out of range',
    );
    await bad(['web', 'db', '--port', 'https', 'policies/shop.yaml'], 'is not a protocol/port');
    await bad(['10.0.0.1/8', 'db', '--port', 'tcp/1', 'policies/shop.yaml'], 'host bits set');
    await bad(
      ['web', 'db', '--port', 'tcp/1', 'policies/shop.yaml', '--policy-enforcement-order', 'sideways'],
      'unknown --policy-enforcement-order "sideways"',
    );
    await bad(
      ['web', 'db', '--port', 'tcp/1', 'policies/shop.yaml', '--snapshots', 'no/such/dir'],
      'snapshot folder not found',
    );
    await bad(['web', 'db', '--port', 'tcp/1', 'policies/shop.yaml', '--target', 'nope'], 'unknown target "nope"');
  });

  it('refuses to answer for a target whose snapshot is missing (no state is not an empty state)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bulkhead-explain-'));
    await cp(join(REPO, SNAP, 'aws-prod'), join(dir, 'aws-prod'), { recursive: true });
    const r = await runCli(
      ['explain', 'web', 'app', '--port', 'tcp/8080', 'policies/shop.yaml', '--snapshots', dir, '--target', 'gcp-prod'],
      { cwd: REPO },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('[gcp-snapshot-missing]');
    expect(r.stdout).toBe('');
  });
});
