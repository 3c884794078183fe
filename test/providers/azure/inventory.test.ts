import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { azureInventoryReader, parseAzureInventory } from '../../../providers/azure/inventory.js';

const example = JSON.parse(
  readFileSync(
    join(import.meta.dirname, '../../fixtures/vendor/azure/examples/2026-03-01.NetworkInterfaceList.json'),
    'utf8',
  ),
) as {
  responses: { 200: { body: unknown } };
};

describe('Azure inventory from az network nic list', () => {
  it('reads the REST list example (properties nested): address, VM name, NSG and location for the target', () => {
    const body = example.responses[200].body;
    expect(azureInventoryReader.detect(body)).toBe(true);
    const inv = parseAzureInventory(body, 'nics.json');
    const nic = inv.workloads.find((w) => w.id.endsWith('/test-nic'))!;
    expect(nic).toMatchObject({ name: 'vm1', addresses: ['172.20.2.4'], groups: [] });
    expect(inv.target).toEqual({
      name: 'azure-eastus',
      config: {
        subscription: '00000000-0000-0000-0000-000000000000',
        resourceGroup: 'rg1',
        location: 'eastus',
        nsg: 'nsg',
      },
    });
  });

  it('reads the CLI’s flattened shape with tags and application security groups', () => {
    const inv = parseAzureInventory(
      [
        {
          id: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkInterfaces/web-nic',
          name: 'web-nic',
          location: 'westeurope',
          tags: { tier: 'web' },
          ipConfigurations: [
            {
              privateIPAddress: '10.1.0.4',
              applicationSecurityGroups: [
                {
                  id: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/applicationSecurityGroups/shop-web',
                },
              ],
            },
          ],
          virtualMachine: {
            id: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/web-1',
          },
        },
      ],
      'nics.json',
    );
    expect(inv.workloads[0]).toEqual({
      id: expect.stringContaining('web-nic'),
      name: 'web-1',
      addresses: ['10.1.0.4'],
      tags: { tier: 'web' },
      groups: ['shop-web'],
    });
  });

  it('names the JSON path of bad input', () => {
    expect(() =>
      parseAzureInventory(
        [
          {
            id: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkInterfaces/n',
            ipConfigurations: {},
          },
        ],
        'nics.json',
      ),
    ).toThrow('nics.json: [0].ipConfigurations: expected a list');
  });
});
