import { CreateSecurityGroupCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEGMENT_TAG } from '../../../providers/aws/canonical.js';
import { OWNER_KEY } from '../../../providers/kit/ownership.js';
import { allDiagnostics } from '../../../src/plan/create-plan.js';
import { startMoto, type MotoServer } from '../../helpers/aws/moto.js';
import { compile, createVpc, engine, FAKE_CREDENTIALS, rawClient, REGION } from '../../helpers/aws/scenario.js';

// Issue 11.6: a plan's reads stay minimal at estate scale, against moto. 1,000 security groups of
// a 1,000-segment model (tagged as Bulkhead's, each with moto's default egress rule: 2,000
// objects) and a plan of the model, its EC2 calls counted by a loopback proxy in front of moto:
// the describe calls grow with pages, never with objects. EC2 pages by 1,000 and takes at most 200
// group ids in one filter, so the reads are ⌈groups/1,000⌉ DescribeSecurityGroups, one
// DescribeSecurityGroupRules per 200 groups (per page of 1,000 rules), one DescribeManagedPrefixLists.
// (moto answers every describe in one page; test/providers/aws/bench.test.ts counts EC2's pages
// against the synthetic endpoint.)
const SEGMENTS = 1000;

/** A proxy that forwards to `upstream` and counts EC2 Query actions. */
async function countingProxy(
  upstream: string,
): Promise<{ url: string; counts: Map<string, number>; close(): Promise<void> }> {
  const counts = new Map<string, number>();
  const target = new URL(upstream);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const action = new URLSearchParams(body.toString('utf8')).get('Action') ?? `${req.method} ${req.url}`;
      counts.set(action, (counts.get(action) ?? 0) + 1);
      const up = request(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: target.host },
        },
        (upRes) => {
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          upRes.pipe(res);
        },
      );
      up.on('error', () => res.destroy());
      up.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

let moto: MotoServer;
let dir: string;

beforeAll(async () => {
  moto = await startMoto();
}, 60_000);

afterAll(async () => {
  await moto?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe(`AWS reads of a ${SEGMENTS}-segment plan against moto`, () => {
  it('describes groups and rules by the page, not by the object', async () => {
    const client = rawClient(moto.url);
    const vpc = await createVpc(client);
    dir = await mkdtemp(join(tmpdir(), 'bulkhead-aws-counts-'));
    const file = join(dir, 'estate.yaml');
    const segments = Array.from(
      { length: SEGMENTS },
      (_, i) => `  s${i}: { ingress: [{ from: s${(i + 1) % SEGMENTS}, ports: [tcp/443] }] }`,
    );
    await writeFile(
      file,
      `bulkhead: 1\nname: estate\ntargets:\n  aws-prod: { aws: { region: eu-west-1, vpc: ${vpc} } }\nsegments:\n${segments.join('\n')}\n`,
    );
    const rules = await compile(file);
    // The groups as an earlier apply left them (Bulkhead's tags), a few at a time (moto answers an
    // HTML error page now and then under concurrent writes: the seeding client retries).
    const seeder = new EC2Client({ region: REGION, endpoint: moto.url, credentials: FAKE_CREDENTIALS, maxAttempts: 5 });
    for (let i = 0; i < SEGMENTS; i += 5) {
      await Promise.all(
        Array.from({ length: Math.min(5, SEGMENTS - i) }, (_, k) =>
          seeder.send(
            new CreateSecurityGroupCommand({
              GroupName: `estate-s${i + k}`,
              Description: `Bulkhead estate: segment s${i + k}`,
              VpcId: vpc,
              TagSpecifications: [
                {
                  ResourceType: 'security-group',
                  Tags: [
                    { Key: OWNER_KEY, Value: 'estate' },
                    { Key: SEGMENT_TAG, Value: `s${i + k}` },
                  ],
                },
              ],
            }),
          ),
        ),
      );
    }

    const proxy = await countingProxy(moto.url);
    try {
      const plan = await engine(proxy.url).plan(rules);
      expect(
        allDiagnostics(plan)
          .filter((d) => d.severity === 'error')
          .map((d) => d.message),
      ).toEqual([]);
      const prior = plan.targets[0]!.prior;
      expect(prior.length).toBe(SEGMENTS); // every group was read (and found to be the model's)
      const groups = SEGMENTS + 1; // and the VPC's default group
      const counts = Object.fromEntries(proxy.counts);
      expect(Object.keys(counts).sort()).toEqual([
        'DescribeManagedPrefixLists',
        'DescribeSecurityGroupRules',
        'DescribeSecurityGroups',
      ]);
      expect(counts['DescribeSecurityGroups']).toBeLessThanOrEqual(Math.ceil(groups / 1000));
      expect(counts['DescribeSecurityGroupRules']).toBeLessThanOrEqual(
        Math.ceil(SEGMENTS / 200) * Math.ceil((200 * 2) / 1000),
      );
      expect(counts['DescribeManagedPrefixLists']).toBe(1);
    } finally {
      await proxy.close();
    }
  }, 300_000);
});
