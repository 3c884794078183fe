import { join } from 'node:path';
import fc from 'fast-check';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ruleToWire, type RuleAttributes } from '../../../providers/azure/canonical.js';
import { cliRule } from '../../../providers/azure/cli-json.js';
import { createAzureProvider } from '../../../providers/azure/index.js';
import { yamlDocuments } from '../../../src/commands/render.js';
import { compileFile } from '../../../src/compile/index.js';
import type { Json } from '../../../src/plan/types.js';

/** The spread form `cliRule` replaced (providers/azure/cli-json.ts before issue 11): the reference. */
function cliRuleBySpread(
  name: string,
  a: RuleAttributes,
  subscription: string,
  id: string,
  resourceGroup: string,
): Json {
  const w = ruleToWire(name, a, subscription);
  return JSON.parse(
    JSON.stringify({
      ...w,
      ...(w.sourcePortRange !== undefined ? { sourcePortRanges: [] } : {}),
      ...(w.destinationPortRange !== undefined ? { destinationPortRanges: [] } : {}),
      ...(w.sourceAddressPrefixes === undefined ? { sourceAddressPrefixes: [] } : {}),
      ...(w.destinationAddressPrefixes === undefined ? { destinationAddressPrefixes: [] } : {}),
      id,
      resourceGroup,
      type: 'Microsoft.Network/networkSecurityGroups/securityRules',
    }),
  ) as Json;
}

/**
 * `render --json`'s rules are written key by key (`cliRule`, for speed at estate scale); they
 * must print exactly as the spread form over `ruleToWire` they replace: same keys, same order,
 * same values, for every shape of rule (ports single or several, sides ASGs, one prefix or many).
 */

const ports = fc.oneof(
  fc.constant(['*']),
  fc.array(fc.constantFrom('80', '443', '8080-8090', '0-65535'), { minLength: 1, maxLength: 3 }),
  fc.constant([] as string[]),
);
const side = fc.oneof(
  fc.constant(['*']),
  fc.constantFrom(['Internet'], ['Storage.WestEurope'], ['asg:rg/shop-web'], ['asg:rg/a', 'asg:rg/b']),
  fc.array(fc.constantFrom('10.0.0.0/8', '198.51.100.0/24', '2001:db8::/32'), { minLength: 0, maxLength: 3 }),
);
const rule = fc.record({
  access: fc.constantFrom('allow' as const, 'deny' as const),
  direction: fc.constantFrom('inbound' as const, 'outbound' as const),
  protocol: fc.constantFrom('tcp', 'udp', 'icmp', 'esp', 'ah', '*'),
  source: side,
  sourcePorts: ports,
  destination: side,
  destinationPorts: ports,
  description: fc.constantFrom('', 'bulkhead shop: web from lb'),
  priority: fc.integer({ min: 100, max: 4096 }),
});

describe('render --json rules', () => {
  it('cliRule prints exactly what the spread form printed', () => {
    fc.assert(
      fc.property(rule, fc.constantFrom('shop-in-web', 'x'), (a: RuleAttributes, name) => {
        const args = [name, a, '00000000-0000-0000-0000-000000000000', `/nsg/securityRules/${name}`, 'rg'] as const;
        expect(JSON.stringify(cliRule(...args))).toBe(JSON.stringify(cliRuleBySpread(...args)));
      }),
      { numRuns: 300 },
    );
  });
});

describe('render --yaml of Azure', () => {
  // The `yaml` package writes an object that occurs twice as an anchor and an alias (`&a1` …
  // `*a1`) unless told not to. The CLI JSON shares read-only lists between rules (a segment's ASG,
  // a peer's prefixes, the empty plural fields) for speed; `render --format yaml`'s printer must
  // still print the az CLI's shape, every object in full.
  it('prints no YAML aliases where rules share lists: every object in full', async () => {
    const compiled = await compileFile(join(import.meta.dirname, '..', '..', '..', 'policies', 'shop.yaml'));
    if (!compiled.ok) throw new Error('shop does not compile');
    const target = compiled.value.targets.find((t) => t.kind === 'azure')!;
    const provider = createAzureProvider();
    const resources = provider.render(compiled.value, target, { resolved: new Map() });
    // Rules that name the same ASG: the case where sharing would show.
    const nsg = resources.find((r) => r.type === 'azure_network_security_group')!;
    const asgSides = nsg.children.flatMap((c) =>
      [c.attributes['source'], c.attributes['destination']].filter(
        (s) => Array.isArray(s) && s.some((v) => String(v).startsWith('asg:')),
      ),
    );
    expect(asgSides.length).toBeGreaterThan(new Set(asgSides).size);
    const json = provider.toCliJson(resources, target);
    const yaml = await yamlDocuments(json);
    expect(yaml).toContain('applicationSecurityGroups');
    expect(yaml).not.toMatch(/[&*]a\d+\b/);
    expect(parseYaml(yaml.replace(/^---\n/, ''))).toEqual(JSON.parse(JSON.stringify(json)));
  });
});
