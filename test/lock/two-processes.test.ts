import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeSecurityGroupsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startMoto, type MotoServer } from '../helpers/aws/moto.js';
import { startShim, type Ec2Shim } from '../helpers/aws/shim.js';
import { awsLockName } from '../../providers/aws/lock.js';
import { copyShop, createVpc, rawClient } from '../helpers/aws/scenario.js';

// Two OS processes (node + tsx) run the lock → plan → apply → hold sequence of test/lock/fixtures/
// lock-child.ts against one moto target. What each did goes to a shared log; the assertions are on
// the order of its lines, never on timings.

const CHILD = join('test', 'lock', 'fixtures', 'lock-child.ts');

let moto: MotoServer;
let shim: Ec2Shim;
let client: EC2Client;
let dir: string;
let modelFile: string;
let vpc: string;

beforeAll(async () => {
  moto = await startMoto();
  shim = await startShim(moto.url);
  client = rawClient(moto.url);
}, 60_000);
afterAll(async () => {
  client?.destroy();
  await shim?.stop();
  await moto?.stop();
});
beforeEach(async () => {
  await moto.reset();
  shim.reset();
  vpc = await createVpc(client);
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = await mkdtemp(join(tmpdir(), 'bulkhead-lock-'));
  modelFile = (await copyShop(vpc)).file;
});

interface Child {
  readonly done: Promise<{ code: number | null; stderr: string }>;
  stderr(): string;
}

function child(name: string, ...args: string[]): Child & { kill(signal: NodeJS.Signals): void } {
  const p = spawn(process.execPath, ['--import', 'tsx', CHILD, shim.url, modelFile, join(dir, 'log'), name, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, AWS_EC2_METADATA_DISABLED: 'true' },
  });
  let stderr = '';
  p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return {
    kill: (signal) => p.kill(signal),
    done: new Promise((resolve) => p.once('exit', (code) => resolve({ code, stderr }))),
    stderr: () => stderr,
  };
}

const logLines = async () =>
  existsSync(join(dir, 'log')) ? (await readFile(join(dir, 'log'), 'utf8')).trim().split('\n') : [];

async function until(what: string, check: () => Promise<boolean> | boolean, children: Child[]): Promise<void> {
  const deadline = Date.now() + 50_000;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}; stderr: ${children.map((c) => c.stderr()).join('\n---\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function groupNames(): Promise<string[]> {
  const out = await client.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpc] }] }));
  return (out.SecurityGroups ?? [])
    .map((g) => g.GroupName ?? '')
    .filter((n) => n !== 'default')
    .sort();
}

describe('two processes, one AWS target (moto)', () => {
  it('without --lock-timeout the second refuses, naming the holder; with it, the second waits and then finds nothing to do', async () => {
    const a = child('A', '--release-file', join(dir, 'release'));
    await until(
      'A to hold the lock',
      async () => (await logLines()).includes('A exit') || (await logLines()).some((l) => l.startsWith('A applied')),
      [a],
    );

    const b = child('B');
    const bDone = await b.done;
    expect(bDone.code).toBe(1);
    expect(bDone.stderr).toMatch(
      /Error: target aws-prod is locked by \S+@\S+ \(pid \d+, run [0-9a-f]{12}\) since \S+ \(expires \S+\); wait with --lock-timeout 5m, or if that run was killed: bulkhead force-unlock aws-prod/,
    );

    const c = child('C', '--lock-timeout', '60s');
    await until('C to wait', () => /Target aws-prod is locked by .*; waiting up to 1m/.test(c.stderr()), [a, c]);
    await writeFile(join(dir, 'release'), '');
    const [aDone, cDone] = await Promise.all([a.done, c.done]);
    expect([aDone.code, cDone.code]).toEqual([0, 0]);

    expect(await logLines()).toEqual([
      'A enter',
      'A applied changes=6 ok=true',
      'B refused',
      'A exit',
      'C enter',
      'C applied changes=0 ok=true',
      'C exit',
    ]);
    // Nothing duplicated, and the lock is gone after both.
    expect(await groupNames()).toEqual(['shop-app', 'shop-db', 'shop-lb', 'shop-web']);
  });

  it('two runs started together with --lock-timeout: one holds the lock at a time, the second applies nothing', async () => {
    const runs = [
      child('P', '--lock-timeout', '60s', '--hold-ms', '300'),
      child('Q', '--lock-timeout', '60s', '--hold-ms', '300'),
    ];
    const done = await Promise.all(runs.map((r) => r.done));
    expect(
      done.map((d) => d.code),
      done.map((d) => d.stderr).join('\n'),
    ).toEqual([0, 0]);
    const lines = await logLines();
    expect(lines).toHaveLength(6);
    const first = lines[0]!.split(' ')[0]!;
    const second = first === 'P' ? 'Q' : 'P';
    expect(lines).toEqual([
      `${first} enter`,
      `${first} applied changes=6 ok=true`,
      `${first} exit`,
      `${second} enter`,
      `${second} applied changes=0 ok=true`,
      `${second} exit`,
    ]);
    expect(await groupNames()).toEqual(['shop-app', 'shop-db', 'shop-lb', 'shop-web']);
  });

  it('Ctrl-C (SIGINT) during the run releases the lock before the process ends', async () => {
    const a = child('A', '--release-file', join(dir, 'never'));
    await until('A to hold the lock', async () => (await logLines()).some((l) => l.startsWith('A applied')), [a]);
    expect(await groupNames()).toContain(awsLockName('shop'));
    a.kill('SIGINT');
    const done = await a.done;
    expect(done.stderr).toContain('SIGINT: releasing the target locks');
    expect(await logLines()).not.toContain('A exit');
    expect(await groupNames()).toEqual(['shop-app', 'shop-db', 'shop-lb', 'shop-web']);
  });
});
