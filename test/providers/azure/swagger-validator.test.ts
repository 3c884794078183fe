import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AZURE_FIXTURES, SwaggerValidator } from '../../helpers/azure/swagger-validator.js';

/** The emulator's request check is only as good as this validator: vendor examples pass, bad bodies fail. */

const NSG = '2025-05-01/networkSecurityGroup.json';
const ASG = '2025-05-01/applicationSecurityGroup.json';
const FWP = '2026-07-01/firewallPolicy.json';

function exampleRequest(file: string): unknown {
  return (
    JSON.parse(readFileSync(join(AZURE_FIXTURES, 'examples', file), 'utf8')) as { parameters: { parameters: unknown } }
  ).parameters.parameters;
}

describe('swagger validator', () => {
  const v = new SwaggerValidator();

  it('accepts every vendor example request body', () => {
    expect(
      v.validateRequest(
        NSG,
        'NetworkSecurityGroup',
        exampleRequest('2025-09-01.NetworkSecurityGroupCreateWithRule.json'),
      ),
    ).toEqual([]);
    expect(
      v.validateRequest(NSG, 'NetworkSecurityGroup', exampleRequest('2026-03-01.NetworkSecurityGroupCreate.json')),
    ).toEqual([]);
    expect(
      v.validateRequest(NSG, 'SecurityRule', exampleRequest('2026-01-01.NetworkSecurityGroupRuleCreate.json')),
    ).toEqual([]);
    expect(
      v.validateRequest(
        ASG,
        'ApplicationSecurityGroup',
        exampleRequest('2026-07-01.ApplicationSecurityGroupCreate.json'),
      ),
    ).toEqual([]);
    for (const f of [
      '2026-03-01.FirewallPolicyRuleCollectionGroupPut.json',
      '2026-03-01.FirewallPolicyRuleCollectionGroupWithWebCategoriesPut.json',
      '2025-09-01.FirewallPolicyRuleCollectionGroupWithHttpHeadersToInsert.json',
      '2026-07-01.FirewallPolicyNatRuleCollectionGroupPut.json',
    ]) {
      expect(v.validateRequest(FWP, 'FirewallPolicyRuleCollectionGroup', exampleRequest(f))).toEqual([]);
    }
  });

  it('finds read-only, enum, type, required, unknown-property and discriminator mistakes', () => {
    const nsg = {
      location: 'westeurope',
      etag: 'W/"x"',
      properties: {
        defaultSecurityRules: [],
        securityRules: [
          {
            name: 'r',
            properties: { protocol: 'TCP', access: 'Allow', priority: '100', sourcePortRange: '*', bogus: true },
          },
        ],
      },
    };
    expect(v.validateRequest(NSG, 'NetworkSecurityGroup', nsg)).toEqual([
      '$.etag: read-only property sent in a request',
      '$.properties.defaultSecurityRules: read-only property sent in a request',
      '$.properties.securityRules[0].properties.direction: required property missing',
      '$.properties.securityRules[0].properties.protocol: "TCP" is not one of ["Tcp","Udp","Icmp","Esp","*","Ah"]',
      '$.properties.securityRules[0].properties.priority: expected a number, got "100"',
      '$.properties.securityRules[0].properties.bogus: property not defined by the schema',
    ]);
    const rcg = {
      properties: {
        priority: 99,
        ruleCollections: [
          {
            ruleCollectionType: 'FirewallPolicyFilterRuleCollection',
            action: { type: 'Allow' },
            rules: [
              { ruleType: 'WebRule', name: 'x' },
              { ruleType: 'ApplicationRule', protocols: [{ protocolType: 'Ftp', port: 70000 }] },
            ],
          },
        ],
      },
    };
    expect(v.validateRequest(FWP, 'FirewallPolicyRuleCollectionGroup', rcg)).toEqual([
      '$.properties.priority: 99 < minimum 100',
      '$.properties.ruleCollections[0].rules[0].ruleType: "WebRule" names no subtype of the polymorphic type',
      '$.properties.ruleCollections[0].rules[0].ruleType: "WebRule" is not one of ["ApplicationRule","NetworkRule","NatRule"]',
      '$.properties.ruleCollections[0].rules[1].protocols[0].protocolType: "Ftp" is not one of ["Http","Https","Mssql"]',
      '$.properties.ruleCollections[0].rules[1].protocols[0].port: 70000 > maximum 64000',
    ]);
  });
});
