import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateVpcCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  type SecurityGroup,
} from '@aws-sdk/client-ec2';
import { createAwsProvider, type AwsProviderOptions } from '../../../providers/aws/index.js';
import { applyPlan, type ApplyReport } from '../../../src/apply/apply-plan.js';
import { compileFile } from '../../../src/compile/index.js';
import type { RuleSet } from '../../../src/compile/types.js';
import type { Plan } from '../../../src/plan/types.js';
import { createPlan } from '../../../src/plan/create-plan.js';
import type { Resolver } from '../../../src/resolve.js';

/** Fake static credentials: moto accepts any; nothing ever leaves 127.0.0.1. */
export const FAKE_CREDENTIALS = { accessKeyId: 'AKIDTESTTESTTEST', secretAccessKey: 'test-secret' } as const;
/** Region of the test targets (shop.yaml's aws-prod). */
export const REGION = 'eu-west-1';

/** Pinned resolutions (documentation ranges) of the FQDNs the scenarios use. */
export const DNS: Readonly<Record<string, { ipv4: string[]; ipv6: string[] }>> = {
  'api.stripe.com': { ipv4: ['192.0.2.10/32', '192.0.2.11/32'], ipv6: ['2001:db8::10/128'] },
  'api.paypal.com': { ipv4: ['198.51.100.7/32'], ipv6: [] },
  'api.adyen.com': { ipv4: ['203.0.113.50/32', '203.0.113.51/32'], ipv6: [] },
};

/** A resolver over DNS. */
export const resolver: Resolver = async (fqdn) => DNS[fqdn] ?? { ipv4: [], ipv6: [] };

/** A raw EC2 client (tests' own calls: out-of-band changes, checks). */
export function rawClient(endpoint: string): EC2Client {
  return new EC2Client({ region: REGION, endpoint, credentials: FAKE_CREDENTIALS, maxAttempts: 1 });
}

/** Creates a VPC and returns its id. */
export async function createVpc(client: EC2Client): Promise<string> {
  const out = await client.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }));
  if (!out.Vpc?.VpcId) throw new Error('no VPC id');
  return out.Vpc.VpcId;
}

/** A copy of policies/shop.yaml (and its guardrails) in a temp folder, pointed at `vpc`. */
export async function copyShop(vpc: string): Promise<{ dir: string; file: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'bulkhead-aws-'));
  await cp('policies/guardrails', join(dir, 'guardrails'), { recursive: true });
  const text = (await readFile('policies/shop.yaml', 'utf8')).replace('vpc-0123456789abcdef0', vpc);
  const file = join(dir, 'shop.yaml');
  await writeFile(file, text);
  return { dir, file };
}

/** Edits the model file with a string replacement (fails loudly when the text is not there). */
export async function editModel(file: string, from: string | RegExp, to: string): Promise<void> {
  const text = await readFile(file, 'utf8');
  const next = text.replace(from, to);
  if (next === text) throw new Error(`edit did not apply: ${String(from)}`);
  await writeFile(file, next);
}

/** Compiles a model file, failing the test on diagnostics. */
export async function compile(file: string): Promise<RuleSet> {
  const r = await compileFile(file);
  if (!r.ok) throw new Error(`model does not compile:\n${r.diagnostics.map((d) => d.message).join('\n')}`);
  return r.value;
}

/** Plan and apply of the aws-prod target through the engine, with a provider pointed at `endpoint`. */
export function engine(endpoint: string, extra: AwsProviderOptions = {}) {
  const provider = createAwsProvider({
    endpoint,
    credentials: FAKE_CREDENTIALS,
    maxAttempts: 8,
    tuning: { dependencyBackoffMs: 5, pollMs: 5 },
    ...extra,
  });
  const providers = (id: string) => (id === 'aws' ? provider : undefined);
  const source = () => ({ kind: 'live' as const });
  return {
    provider,
    plan: (rules: RuleSet): Promise<Plan> => createPlan(rules, { providers, source, targets: ['aws-prod'], resolver }),
    apply: (plan: Plan, rules: RuleSet): Promise<ApplyReport> =>
      applyPlan(plan, rules, { providers, source, parallelism: 4, retries: 2, retryDelayMs: 5 }),
  };
}

/** Child changes of a plan as `<action> <resource name>: <child key>` lines, sorted. */
export function childLines(plan: Plan): string[] {
  return plan.targets
    .flatMap((t) => t.changes)
    .flatMap((c) => c.childChanges.map((cc) => `${cc.action} ${c.name}: ${cc.key}`))
    .sort();
}

/** `<action> <name>` of each resource change. */
export function changeLines(plan: Plan): string[] {
  return plan.targets
    .flatMap((t) => t.changes)
    .map((c) => `${c.action} ${c.name}`)
    .sort();
}

/** Groups and rules of groups not tagged by the model, as read back (for byte-for-byte comparison). */
export async function unownedSnapshot(client: EC2Client, vpc: string, ownedTag = 'bulkhead:model'): Promise<string> {
  const groups =
    (await client.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpc] }] })))
      .SecurityGroups ?? [];
  const unowned = groups
    .filter((g) => !g.Tags?.some((t) => t.Key === ownedTag))
    .sort((a, b) => (a.GroupId! < b.GroupId! ? -1 : 1));
  const ids = unowned.map((g) => g.GroupId!);
  const rules = ids.length
    ? ((await client.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: ids }] })))
        .SecurityGroupRules ?? [])
    : [];
  rules.sort((a, b) => (a.SecurityGroupRuleId! < b.SecurityGroupRuleId! ? -1 : 1));
  return JSON.stringify({ groups: unowned, rules }, null, 1);
}

/** The security group named `name` in `vpc`, read through the API (fails the test when there is none). */
export async function groupByName(client: EC2Client, vpc: string, name: string): Promise<SecurityGroup> {
  const out = await client.send(
    new DescribeSecurityGroupsCommand({
      Filters: [
        { Name: 'vpc-id', Values: [vpc] },
        { Name: 'group-name', Values: [name] },
      ],
    }),
  );
  const g = out.SecurityGroups?.[0];
  if (!g?.GroupId) throw new Error(`no group ${name}`);
  return g;
}
