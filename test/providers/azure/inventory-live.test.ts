import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAzureInventoryLive } from '../../../providers/azure/inventory.js';
import type { TargetSpec } from '../../../src/compile/types.js';
import { FAKE_CREDENTIAL } from '../../helpers/azure/harness.js';

/**
 * The live Azure inventory read (NetworkInterfaces_List of the target's resource group) through
 * the real NetworkManagementClient, against a loopback server that answers in two pages
 * (`nextLink`) in the ARM REST shape, and records every request (only GETs are allowed).
 */
const SUB = '00000000-0000-0000-0000-000000000000';
const RG = `/subscriptions/${SUB}/resourceGroups/shop`;
const nic = (name: string, ip: string, tier: string, asg?: string) => ({
  id: `${RG}/providers/Microsoft.Network/networkInterfaces/${name}`,
  name,
  location: 'westeurope',
  tags: { tier },
  properties: {
    ipConfigurations: [
      {
        name: 'ipconfig1',
        id: `${RG}/providers/Microsoft.Network/networkInterfaces/${name}/ipConfigurations/ipconfig1`,
        properties: {
          privateIPAddress: ip,
          ...(asg
            ? {
                applicationSecurityGroups: [
                  { id: `${RG}/providers/Microsoft.Network/applicationSecurityGroups/${asg}` },
                ],
              }
            : {}),
        },
      },
    ],
    virtualMachine: { id: `${RG}/providers/Microsoft.Compute/virtualMachines/${name}-vm` },
    networkSecurityGroup: { id: `${RG}/providers/Microsoft.Network/networkSecurityGroups/shop-nsg` },
  },
});

let server: Server;
let url: string;
const requests: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    res.setHeader('content-type', 'application/json');
    if (
      req.method !== 'GET' ||
      !u.pathname.endsWith(`/resourceGroups/shop/providers/Microsoft.Network/networkInterfaces`)
    ) {
      res.statusCode = 404;
      res.end(JSON.stringify({ error: { code: 'NotFound', message: `${req.method} ${u.pathname}` } }));
      return;
    }
    if (u.searchParams.get('page') === '2') {
      res.end(JSON.stringify({ value: [nic('app-1', '10.1.2.4', 'app', 'shop-app')] }));
      return;
    }
    res.end(
      JSON.stringify({
        value: [nic('web-1', '10.1.1.4', 'web', 'shop-web')],
        nextLink: `${url}${u.pathname}?api-version=${u.searchParams.get('api-version')}&page=2`,
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('Azure live inventory', () => {
  it('lists the resource group’s NICs page by page, read-only, into workloads with tags and ASGs', async () => {
    const target: TargetSpec = {
      kind: 'azure',
      name: 'azure-prod',
      pos: { file: 'm.yaml', line: 1, column: 1 },
      azure: { subscription: SUB, resourceGroup: 'shop', location: 'westeurope', nsg: 'shop-nsg' },
    };
    const inv = await readAzureInventoryLive(target, { endpoint: url }, { credential: FAKE_CREDENTIAL, env: {} });
    expect(inv.workloads.map((w) => [w.name, w.addresses, w.tags['tier'], w.groups])).toEqual([
      ['app-1-vm', ['10.1.2.4'], 'app', ['shop-app']],
      ['web-1-vm', ['10.1.1.4'], 'web', ['shop-web']],
    ]);
    expect(inv.target).toEqual({
      name: 'azure-westeurope',
      config: { subscription: SUB, resourceGroup: 'shop', location: 'westeurope', nsg: 'shop-nsg' },
    });
    expect(requests.length).toBe(2);
    expect(requests.every((r) => r.startsWith('GET '))).toBe(true);
  });
});
