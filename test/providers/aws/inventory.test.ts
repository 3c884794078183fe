import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createAwsInventoryReader, parseAwsInventory, regionOfZone } from '../../../providers/aws/inventory.js';

const VENDOR = join(import.meta.dirname, '../../fixtures/vendor/aws/cli-examples');
const load = (n: number) =>
  JSON.parse(readFileSync(join(VENDOR, `describe-network-interfaces.output${n}.json`), 'utf8')) as unknown;

describe('AWS inventory from aws ec2 describe-network-interfaces', () => {
  it('reads the CLI’s example output: addresses (private and public), groups, and the target', () => {
    const inv = parseAwsInventory(load(1), 'enis.json');
    expect(inv.cloud).toBe('aws');
    expect(inv.target).toEqual({ name: 'aws-us-east-1', config: { region: 'us-east-1', vpc: 'vpc-a01106c2' } });
    const first = inv.workloads.find((w) => w.id === 'eni-e5aa89a3')!;
    expect(first).toEqual({
      id: 'eni-e5aa89a3',
      name: 'i-1234567890abcdef0',
      addresses: ['10.0.1.17', '203.0.113.12'],
      tags: {},
      groups: ['default'],
      groupIds: ['sg-8637d3e3'],
    });
    expect(inv.workloads).toHaveLength(2);
  });

  it('reads every private address of an interface and its TagSet', () => {
    const inv = parseAwsInventory(load(2), 'enis.json');
    expect(inv.workloads[0]).toMatchObject({
      id: 'eni-b9a5ac93',
      addresses: ['10.0.1.117', '10.0.1.55'],
      tags: { Purpose: 'Prod' },
      groups: ['MySG'],
    });
  });

  it('detects its own export and names the JSON path of bad input', () => {
    const reader = createAwsInventoryReader();
    expect(reader.detect(load(1))).toBe(true);
    expect(reader.detect([{ id: 'x' }])).toBe(false);
    expect(() =>
      parseAwsInventory(
        { NetworkInterfaces: [{ NetworkInterfaceId: 'eni-1', Groups: [{ GroupName: 7 }] }] },
        'enis.json',
      ),
    ).toThrow('enis.json: NetworkInterfaces[0].Groups[0].GroupName: expected a string');
    expect(() => parseAwsInventory({ Reservations: [] }, 'enis.json')).toThrow(
      /enis\.json: \$: expected the output of `aws ec2 describe-network-interfaces`/,
    );
  });

  it('keeps non-instance interfaces apart by their type', () => {
    const inv = parseAwsInventory(
      {
        NetworkInterfaces: [
          { NetworkInterfaceId: 'eni-1', PrivateIpAddress: '10.0.0.6', InterfaceType: 'nat_gateway' },
        ],
      },
      'f',
    );
    expect(inv.workloads[0]!.kind).toBe('nat_gateway');
  });

  it('finds the region of zones and local zones', () => {
    expect(regionOfZone('eu-west-1a')).toBe('eu-west-1');
    expect(regionOfZone('us-west-2-lax-1a')).toBe('us-west-2');
  });
});

describe('AWS inventory from aws ec2 describe-instances', () => {
  const output = {
    Reservations: [
      {
        Instances: [
          {
            InstanceId: 'i-0abc',
            PrivateIpAddress: '10.0.1.5',
            PublicIpAddress: '203.0.113.9',
            VpcId: 'vpc-0123456789abcdef0',
            Placement: { AvailabilityZone: 'eu-west-1c' },
            Tags: [
              { Key: 'tier', Value: 'web' },
              { Key: 'Name', Value: 'web-1' },
            ],
            SecurityGroups: [{ GroupName: 'shop-web', GroupId: 'sg-0aaa' }],
            NetworkInterfaces: [
              {
                NetworkInterfaceId: 'eni-1',
                PrivateIpAddresses: [{ PrivateIpAddress: '10.0.1.5' }, { PrivateIpAddress: '10.0.1.6' }],
                Groups: [],
              },
            ],
          },
        ],
      },
    ],
  };

  it('reads one workload per instance with the instance’s tags, all its addresses and groups', () => {
    const reader = createAwsInventoryReader();
    expect(reader.detect(output)).toBe(true);
    const inv = reader.parse(output, 'instances.json');
    expect(inv.workloads).toEqual([
      {
        id: 'i-0abc',
        name: 'web-1',
        addresses: ['10.0.1.5', '10.0.1.6', '203.0.113.9'],
        tags: { tier: 'web', Name: 'web-1' },
        groups: ['shop-web'],
        groupIds: ['sg-0aaa'],
      },
    ]);
    expect(inv.target).toEqual({
      name: 'aws-eu-west-1',
      config: { region: 'eu-west-1', vpc: 'vpc-0123456789abcdef0' },
    });
  });

  it('names the JSON path of bad input', () => {
    expect(() =>
      createAwsInventoryReader().parse(
        { Reservations: [{ Instances: [{ InstanceId: 'i-1', Tags: [{ Key: 1 }] }] }] },
        'i.json',
      ),
    ).toThrow('i.json: Reservations[0].Instances[0].Tags[0].Key: expected a string');
  });
});
