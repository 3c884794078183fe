import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createGcpClients, type GcpClients } from '../../../providers/gcp/read.js';
import { classifyGcpError, errorDetails } from '../../../providers/gcp/errors.js';
import {
  startComputeEmulator,
  vendorExampleFirewalls,
  type ComputeEmulator,
} from '../../helpers/gcp/compute-emulator.js';

/** The emulator itself, driven by the real REST clients: GCP behaviour and discovery checks. */

let emu: ComputeEmulator;
let c: GcpClients;
const project = 'proj-1';

beforeEach(async () => {
  emu = await startComputeEmulator({ project, operationPolls: 2 });
  c = await createGcpClients(emu.url);
});

afterEach(async () => {
  const violations = [...emu.violations];
  await c.close();
  await emu.close();
  expect(violations).toEqual([]);
});

async function failure(p: Promise<unknown>): Promise<ReturnType<typeof errorDetails>> {
  try {
    await p;
  } catch (err) {
    return errorDetails(err);
  }
  throw new Error('expected a failure');
}

const rule = {
  name: 'fw-a',
  network: 'global/networks/vpc',
  allowed: [{ IPProtocol: 'tcp', ports: ['22'] }],
  sourceRanges: ['10.0.0.0/8'],
};

describe('compute emulator', () => {
  it('runs an insert as an operation that is RUNNING, then DONE on a later wait, and fills defaults', async () => {
    const [op] = await c.firewalls.insert({
      project,
      requestId: '1b4e28ba-2fa1-11d2-883f-0016d3cca427',
      firewallResource: rule,
    });
    const first = op.latestResponse as unknown as { name: string; status: string };
    expect(first.status).toBe('RUNNING');
    expect(emu.firewalls.has('fw-a')).toBe(false);
    const [w1] = await c.operations.wait({ project, operation: first.name });
    expect(w1.status).toBe('RUNNING');
    const [w2] = await c.operations.wait({ project, operation: first.name });
    expect(w2.status).toBe('DONE');
    expect(w2.error).toBeFalsy();
    const [fw] = await c.firewalls.get({ project, firewall: 'fw-a' });
    expect(fw).toMatchObject({ priority: 1000, direction: 'INGRESS', disabled: false, logConfig: { enable: false } });
    expect(fw.network).toBe(`https://www.googleapis.com/compute/v1/projects/${project}/global/networks/vpc`);
  });

  it('answers a taken name with 409 alreadyExists and keeps name and direction immutable', async () => {
    emu.seedFirewall(rule);
    const dup = await failure(c.firewalls.insert({ project, firewallResource: rule }));
    expect(dup).toMatchObject({ status: 409, reason: 'alreadyExists' });
    expect(classifyGcpError(new Error('x'), 'y').retryable).toBe(false);
    const rename = await failure(c.firewalls.patch({ project, firewall: 'fw-a', firewallResource: { name: 'fw-b' } }));
    expect(rename).toMatchObject({ status: 400, reason: 'invalid' });
    const turn = await failure(
      c.firewalls.update({ project, firewall: 'fw-a', firewallResource: { ...rule, direction: 'EGRESS' } }),
    );
    expect(turn.message).toMatch(/Direction cannot be changed/);
    const mixed = await failure(
      c.firewalls.insert({
        project,
        firewallResource: {
          name: 'fw-c',
          allowed: [{ IPProtocol: 'tcp' }],
          sourceTags: ['a'],
          targetServiceAccounts: ['x@p.iam.gserviceaccount.com'],
        },
      }),
    );
    expect(mixed.message).toMatch(/targetServiceAccounts cannot be combined/);
    const missing = await failure(c.firewalls.delete({ project, firewall: 'nope' }));
    expect(missing).toMatchObject({ status: 404, reason: 'notFound' });
  });

  it('finishes an operation DONE with an error when told to, without changing anything', async () => {
    emu.operationFailures.push({
      method: 'firewalls.insert',
      code: 'QUOTA_EXCEEDED',
      message: "Quota 'FIREWALLS' exceeded. Limit: 100.0 globally.",
      count: 1,
    });
    const [op] = await c.firewalls.insert({ project, firewallResource: rule });
    const name = (op.latestResponse as { name: string }).name;
    await c.operations.get({ project, operation: name });
    const [done] = await c.operations.get({ project, operation: name });
    expect(done.status).toBe('DONE');
    expect(done.error?.errors?.[0]?.code).toBe('QUOTA_EXCEEDED');
    expect(emu.firewalls.has('fw-a')).toBe(false);
  });

  it('pages through the vendor example firewalls and filters by name', async () => {
    for (const fw of vendorExampleFirewalls(project, 'vpc')) emu.seedFirewall(fw);
    const all: string[] = [];
    for await (const fw of c.firewalls.listAsync({ project, maxResults: 2 })) all.push(fw.name!);
    expect(all.length).toBe(emu.firewalls.size);
    expect(all.length).toBeGreaterThan(4);
    expect(emu.calls.filter((x) => x.method === 'firewalls.list').length).toBe(Math.ceil(all.length / 2));
    const some: string[] = [];
    for await (const fw of c.firewalls.listAsync({ project, filter: 'name eq "default-allow-.*"' }))
      some.push(fw.name!);
    expect(some.length).toBeGreaterThan(0);
    expect(some.every((n) => n.startsWith('default-allow-'))).toBe(true);
  });

  it('injects 429s that the SDK does not retry by itself, and dedupes replays of a requestId', async () => {
    emu.faults.push({ method: 'firewalls.get', status: 429, count: 1 });
    emu.seedFirewall(rule);
    const limited = await failure(c.firewalls.get({ project, firewall: 'fw-a' }));
    expect(limited).toMatchObject({ status: 429, reason: 'rateLimitExceeded' });
    expect(
      classifyGcpError(
        Object.assign(
          new Error(
            JSON.stringify({
              error: { code: 429, message: 'Rate Limit Exceeded', errors: [{ reason: 'rateLimitExceeded' }] },
            }),
          ),
          { status: 429 },
        ),
        'get',
      ).retryable,
    ).toBe(true);
    expect(emu.calls.filter((x) => x.method === 'firewalls.get')).toHaveLength(1);

    const requestId = '6fa459ea-ee8a-3ca4-894e-db77e160355e';
    const body = { ...rule, name: 'fw-z' };
    const [a] = await c.firewalls.insert({ project, requestId, firewallResource: body });
    const [b] = await c.firewalls.insert({ project, requestId, firewallResource: body });
    expect((b.latestResponse as { name: string }).name).toBe((a.latestResponse as { name: string }).name);
    expect(emu.writeCount()).toBe(1);
  });

  it('serves policy rules: add, get, remove; duplicate priorities and system rules refused', async () => {
    emu.seedPolicy('pol');
    const r = {
      priority: 10,
      action: 'allow',
      direction: 'EGRESS',
      match: { destFqdns: ['example.com'], layer4Configs: [{ ipProtocol: 'tcp', ports: ['443'] }] },
    };
    const [op] = await c.policies.addRule({ project, firewallPolicy: 'pol', firewallPolicyRuleResource: r });
    await c.operations.wait({ project, operation: (op.latestResponse as { name: string }).name });
    await c.operations.wait({ project, operation: (op.latestResponse as { name: string }).name });
    const [got] = await c.policies.getRule({ project, firewallPolicy: 'pol', priority: 10 });
    expect(got.match?.destFqdns).toEqual(['example.com']);
    const dup = await failure(c.policies.addRule({ project, firewallPolicy: 'pol', firewallPolicyRuleResource: r }));
    expect(dup.status).toBe(409);
    const sys = await failure(c.policies.removeRule({ project, firewallPolicy: 'pol', priority: 2147483647 }));
    expect(sys.status).toBe(400);
    const [policy] = await c.policies.get({ project, firewallPolicy: 'pol' });
    expect(policy.rules?.map((x) => x.priority)).toEqual([10, 2147483644, 2147483645, 2147483646, 2147483647]);
    const gone = await failure(c.policies.get({ project, firewallPolicy: 'other' }));
    expect(gone.status).toBe(404);
  });

  it('records requests that break the discovery document', async () => {
    const post = (path: string, body: unknown) =>
      fetch(`${emu.url}/compute/v1/projects/${project}${path}`, {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      });
    await post('/global/firewalls?bogus=1', { ...rule, direction: 'SIDEWAYS', colour: 'red', priority: '7', id: '5' });
    await fetch(`${emu.url}/compute/v1/projects/${project}/global/routes`);
    const seen = emu.violations.splice(0);
    expect(seen).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/unknown query parameter bogus/),
        expect.stringMatching(/body\.direction: SIDEWAYS not one of EGRESS, INGRESS/),
        expect.stringMatching(/body\.colour: unknown field/),
        expect.stringMatching(/body\.priority: int32 sent as a string/),
        expect.stringMatching(/body\.id: output-only field sent/),
        expect.stringMatching(/routes: no such method/),
      ]),
    );
  });
});
