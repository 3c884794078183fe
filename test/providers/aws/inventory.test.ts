import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createAwsInventoryReader, parseAwsInventory, regionOfZone } from '../../../providers/aws/inventory.js';

const VENDOR = join(import.meta.dirname, '../../fixtures/vendor/aws/cli-examples');
const load = (n: number) => JSON.parse(readFileSync(join(VENDOR, `describe-network-interfaces.output${n}.json`), 'utf8')) as unknown;

describe('AWS inventory from aws ec2 describe-network-interfaces', () => {
  it('reads the CLI’s example output: addresses (private and public), groups, and the target', () => {
    const inv = parseAwsInventory(load(1), 'enis.json');
    expect(inv.cloud).toBe('aws');
    expect(inv.target).toEqual({ name: 'aws-us-east-1', config: { region: 'us-east-1', vpc: 'vpc-a01106c2' } });
    const first = inv.workloads.find((w) => w.id === 'eni-e5aa89a3')!;
    expect(first).toEqual({ id: 'eni-e5aa89a3', name: 'i-1234567890abcdef0', addresses: ['10.0.1.17', '203.0.113.12'], tags: {}, groups: ['default'], groupIds: ['sg-8637d3e3'] });
    expect(inv.workloads).toHaveLength(2);
  });

  it('reads every private address of an interface and its TagSet', () => {
    const inv = parseAwsInventory(load(2), 'enis.json');
    expect(inv.workloads[0]).toMatchObject({ id: 'eni-b9a5ac93', addresses: ['10.0.1.117', '10.0.1.55'], tags: { Purpose: 'Prod' }, groups: ['MySG'] });
  });

  it('detects its own export and names the JSON path of bad input', () => {
    const reader = createAwsInventoryReader();
    expect(reader.detect(load(1))).toBe(true);
    expect(reader.detect([{ id: 'x' }])).toBe(false);
    expect(() => parseAwsInventory({ NetworkInterfaces: [{ NetworkInterfaceId: 'eni-1', Groups: [{ GroupName: 7 }] }] }, 'enis.json')).toThrow(
      'enis.json: NetworkInterfaces[0].Groups[0].GroupName: expected a string',
    );
    expect(() => parseAwsInventory({ Reservations: [] }, 'enis.json')).toThrow(/enis\.json: \$: expected the output of `aws ec2 describe-network-interfaces`/);
  });

  it('keeps non-instance interfaces apart by their type', () => {
    const inv = parseAwsInventory({ NetworkInterfaces: [{ NetworkInterfaceId: 'eni-1', PrivateIpAddress: '10.0.0.6', InterfaceType: 'nat_gateway' }] }, 'f');
    expect(inv.workloads[0]!.kind).toBe('nat_gateway');
  });

  it('finds the region of zones and local zones', () => {
    expect(regionOfZone('eu-west-1a')).toBe('eu-west-1');
    expect(regionOfZone('us-west-2-lax-1a')).toBe('us-west-2');
  });
});
