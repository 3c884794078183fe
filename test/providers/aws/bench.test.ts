import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createAwsProvider } from '../../../providers/aws/index.js';
import { applyPlan } from '../../../src/apply/apply-plan.js';
import { createPlan } from '../../../src/plan/create-plan.js';
import { compile, FAKE_CREDENTIALS, resolver } from '../../helpers/aws/scenario.js';
import { startSyntheticEc2, type SyntheticEc2 } from '../../helpers/aws/synthetic-ec2.js';

// The issue's measurement: API calls of a plan of a 1,000-segment model (~20 flows each: 40,000
// rules) grow with pages, not with objects; an apply that adds one flow between two existing
// segments makes two authorize calls. moto cannot serve 40,000 rules in reasonable time (its
// DescribeSecurityGroupRules takes seconds per thousand rules), so the VPC is served by the
// synthetic EC2 endpoint (EC2 Query XML, EC2's page sizes) and read with the real SDK and paginators.

// 400 segments by default (the suite stays quick on a shared machine); the issue's figure:
// BULKHEAD_AWS_BENCH_SEGMENTS=1000 npx vitest run test/providers/aws/bench.test.ts
const SEGMENTS = Number(process.env['BULKHEAD_AWS_BENCH_SEGMENTS'] ?? 400);
const PEERS = 10; // ingress from 10 peers on 2 ports: 20 ingress + 20 egress rules per group
const VPC = 'vpc-0be0c0000000000a1';

/** A model of n segments, each receiving tcp/8080 and tcp/9000 from the next 10 segments. */
function benchModel(n: number, extra = ''): string {
  const name = (i: number) => `s${String(i % n).padStart(4, '0')}`;
  const lines = [
    'bulkhead: 1',
    'name: bench',
    'targets:',
    `  aws-prod: { aws: { region: eu-west-1, vpc: ${VPC} } }`,
    'segments:',
  ];
  for (let i = 0; i < n; i++) {
    const from = Array.from({ length: PEERS }, (_, k) => `{ from: ${name(i + k + 1)}, ports: [tcp/8080, tcp/9000] }`);
    if (i === 0 && extra) from.unshift(extra);
    lines.push(`  ${name(i)}: { ingress: [${from.join(', ')}] }`);
  }
  return `${lines.join('\n')}\n`;
}

let server: SyntheticEc2 | undefined;
let dir: string | undefined;
afterAll(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe(`API calls for a ${SEGMENTS}-segment model`, () => {
  it('plans with calls that grow with pages, and adds one flow with two authorize calls', async () => {
    dir = await mkdtemp(join(tmpdir(), 'bulkhead-aws-bench-'));
    const file = join(dir, 'bench.yaml');
    await writeFile(file, benchModel(SEGMENTS));
    const rules = await compile(file);
    const target = rules.targets[0]!;
    const provider = createAwsProvider({ credentials: FAKE_CREDENTIALS });
    // The VPC as if the model had been applied.
    server = await startSyntheticEc2(provider.render(rules, target, { resolved: new Map() }), VPC);
    const live = createAwsProvider({ endpoint: server.url, credentials: FAKE_CREDENTIALS });
    const options = { providers: () => live, source: () => ({ kind: 'live' as const }), resolver };

    const t0 = Date.now();
    const plan = await createPlan(rules, options);
    const seconds = (Date.now() - t0) / 1000;
    expect(plan.targets[0]!.changes).toEqual([]);
    const calls = server.counts();
    const total = Object.values(calls).reduce((a, b) => a + b, 0);
    const groups = SEGMENTS + 1; // + the VPC's default group
    const ruleCount = plan.targets[0]!.prior.reduce((n, r) => n + r.children.length, 0);
    expect(ruleCount).toBe(SEGMENTS * 4 * PEERS);
    // Pages of 1,000 groups; rules per group-id filter of 200 groups, in pages of 1,000.
    // Only the model's groups' rules are read (the default group is not the model's).
    const chunks = Array.from({ length: Math.ceil(SEGMENTS / 200) }, (_, i) => Math.min(200, SEGMENTS - i * 200));
    const rulePages = chunks.reduce((n, c) => n + Math.max(1, Math.ceil((c * 4 * PEERS) / 1000)), 0);
    expect(calls).toEqual({
      DescribeManagedPrefixLists: 1,
      DescribeSecurityGroupRules: rulePages,
      DescribeSecurityGroups: Math.ceil(groups / 1000),
    });

    // One more flow between two existing segments: s<half> → s0000 on tcp/7000.
    const half = `s${String(Math.floor(SEGMENTS / 2)).padStart(4, '0')}`;
    await writeFile(file, benchModel(SEGMENTS, `{ from: ${half}, ports: [tcp/7000] }`));
    const more = await compile(file);
    const addPlan = await createPlan(more, options);
    expect(
      addPlan.targets[0]!.changes.map(
        (c) => `${c.action} ${c.name} ${c.childChanges.map((cc) => `${cc.action} ${cc.key}`).join()}`,
      ),
    ).toEqual([
      `update bench-s0000 create ingress tcp 7000-7000 sg:bench-${half}`,
      `update bench-${half} create egress tcp 7000-7000 sg:bench-s0000`,
    ]);
    server.clear();
    const report = await applyPlan(addPlan, more, { providers: () => live, source: () => ({ kind: 'live' as const }) });
    expect(report.ok).toBe(true);
    const applyCalls = server.counts();
    expect(applyCalls).toEqual({ AuthorizeSecurityGroupEgress: 1, AuthorizeSecurityGroupIngress: 1 });

    process.stdout.write(
      `[aws bench] ${SEGMENTS} segments, ${groups} groups, ${ruleCount} rules: plan ${seconds.toFixed(1)} s with ${total} API calls ` +
        `${JSON.stringify(calls)}; apply adding one flow: ${JSON.stringify(applyCalls)}\n`,
    );
  }, 240_000);
});
