import { AuthorizeSecurityGroupIngressCommand, CreateSecurityGroupCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMoto, type MotoServer } from '../../helpers/aws/moto.js';
import { compile, copyShop, createVpc, engine, groupByName, rawClient } from '../../helpers/aws/scenario.js';
import { effectiveDrift } from '../../../src/reach/effective-drift.js';
import { explainProbe } from '../../../src/reach/explain.js';
import { prepareTargets } from '../../../src/reach/targets.js';

// The AWS evaluator on live state read through the real SDK from moto: what read returns when
// asked for unowned objects, and explain / drift --effective on it.

let moto: MotoServer;
let client: EC2Client;
let model: { dir: string; file: string };

beforeAll(async () => {
  moto = await startMoto();
  client = rawClient(moto.url);
  const vpc = await createVpc(client);
  model = await copyShop(vpc);
  const e = engine(moto.url);
  const rules = await compile(model.file);
  const report = await e.apply(await e.plan(rules), rules);
  expect(report.ok).toBe(true);
  // Out of band: another team's group, and an SSH-free hand rule on the owned lb group.
  await client.send(new CreateSecurityGroupCommand({ GroupName: 'ops-bastion', Description: 'ops', VpcId: vpc }));
  const lb = await groupByName(client, vpc, 'shop-lb');
  await client.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: lb!.GroupId!,
      IpPermissions: [{ IpProtocol: 'tcp', FromPort: 8443, ToPort: 8443, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
    }),
  );
}, 120_000);

afterAll(async () => {
  client?.destroy();
  await moto?.stop();
  if (model) await rm(model.dir, { recursive: true, force: true });
});

describe('AWS evaluator on live state (moto)', () => {
  it('read with unowned objects: the same resources and fingerprint as plan reads, the other team group in `unowned`', async () => {
    const { provider } = engine(moto.url);
    const rules = await compile(model.file);
    const target = rules.targets.find((t) => t.kind === 'aws')!;
    const plain = await provider.read(target, { kind: 'live' }, { model: 'shop', segments: rules.segments });
    const full = await provider.read(
      target,
      { kind: 'live' },
      { model: 'shop', segments: rules.segments, unowned: true },
    );
    expect(full.resources).toEqual(plain.resources);
    expect(full.fingerprint).toBe(plain.fingerprint);
    expect(plain.unowned).toBeUndefined();
    expect(full.unowned!.map((r) => r.name)).toContain('ops-bastion');
  });

  it('explain names the live rule ids; drift --effective finds the hand-added rule', async () => {
    const { provider } = engine(moto.url);
    const rules = await compile(model.file);
    const resolved = new Map([
      ['api.stripe.com', { ipv4: ['192.0.2.10/32', '192.0.2.11/32'], ipv6: ['2001:db8::10/128'] }],
      ['api.paypal.com', { ipv4: ['198.51.100.7/32'], ipv6: [] }],
    ]);
    const { targets } = await prepareTargets(rules, {
      providers: (id) => (id === 'aws' ? provider : undefined),
      source: () => ({ kind: 'live' }),
      targets: ['aws-prod'],
      resolved,
    });
    const answer = explainProbe(
      rules,
      {
        source: { kind: 'segment', name: 'app' },
        destination: { kind: 'segment', name: 'db' },
        service: { kind: 'ports', protocol: 'tcp', from: 5432, to: 5432 },
      },
      targets,
      resolved,
    );
    expect(answer.model.verdict).toBe('allow');
    const t = answer.targets[0]!;
    expect(t).toMatchObject({ target: 'aws-prod', source: 'live', verdict: 'allow' });
    expect(t.disagreement).toBeUndefined();
    expect(t.rules.map((r) => `${r.object} ${r.direction} ${r.owned}`)).toEqual([
      'shop-app egress true',
      'shop-db ingress true',
    ]);
    for (const r of t.rules) expect(r.id).toMatch(/^sgr-/);
    const [report] = effectiveDrift(rules, targets, resolved);
    const flows = report!.findings.map((f) => `${f.source} -> ${f.destination} ${f.service} ${f.disagreement?.cause}`);
    expect(flows).toContain('internet -> lb tcp/8443 drift');
    expect(report!.findings.every((f) => f.service === 'tcp/8443')).toBe(true);
  });
});
