import { describe, expect, it } from 'vitest';
import { AZURE_TYPES, ownsRuleName } from '../../../providers/azure/render.js';
import { fingerprintOf, inferModel, stateFromRaw, type RawAzureState } from '../../../providers/azure/state.js';
import { emulatorTarget, RG } from '../../helpers/azure/harness.js';
import { ruleSet } from '../../helpers/rulesets.js';

/**
 * Azure ownership through the kit's markers: ARM tag NAMES are case-insensitive, so an owned ASG
 * whose marker a portal user re-cased (`Bulkhead:Model`) is still the model's. Before the kit read
 * compared `tags['bulkhead:model']` exactly: the ASG was "in the way" and the plan stopped.
 */

const target = emulatorTarget('azure-prod', null);
const asgId = (name: string) =>
  `/subscriptions/s/resourceGroups/${RG}/providers/Microsoft.Network/applicationSecurityGroups/${name}`;

function raw(tags: Record<string, string>): RawAzureState {
  return {
    nsg: null,
    asgs: [{ name: 'shop-web', id: asgId('shop-web'), location: 'westeurope', tags }],
    rcg: null,
    policyFound: true,
  };
}

describe('azure ownership markers', () => {
  it('reads an owned ASG whose marker tag name was re-cased, and infers the model from it', () => {
    const segments = ruleSet({ segments: ['web'] }).segments;
    for (const key of ['bulkhead:model', 'Bulkhead:Model', 'BULKHEAD:MODEL']) {
      const state = stateFromRaw(raw({ [key]: 'shop' }), target, 'live', { model: 'shop', segments });
      expect(state.resources.map((r) => [r.type, r.name])).toEqual([[AZURE_TYPES.asg, 'shop-web']]);
      expect(state.diagnostics.filter((d) => d.code === 'azure-unowned-in-the-way')).toEqual([]);
      expect(inferModel(raw({ [key]: 'shop' }))).toBe('shop');
    }
    // Tag VALUES are case-sensitive: another model's marker is not ours.
    const other = stateFromRaw(raw({ 'bulkhead:model': 'Shop' }), target, 'live', { model: 'shop', segments });
    expect(other.resources).toEqual([]);
    expect(other.diagnostics.map((d) => d.code)).toEqual(['azure-unowned-in-the-way']);
  });

  it('owns rule names <model>-<kind>-… ignoring case, and not another model’s that shares the prefix', () => {
    expect(ownsRuleName('shop', 'SHOP-IN-web-from-lb')).toBe(true);
    expect(ownsRuleName('shop', 'shop-deny-all-in')).toBe(true);
    expect(ownsRuleName('shop', 'shop-admin-in-web')).toBe(false);
    expect(ownsRuleName('shop', 'ops-allow-bastion')).toBe(false);
  });

  it('finds the first unowned ASG of each segment name ignoring case, and fingerprints rules as ruleFromWire sees them', () => {
    const segments = ruleSet({ segments: ['web', 'db'] }).segments;
    const state = stateFromRaw(
      {
        nsg: {
          name: 'nsg',
          location: 'westeurope',
          securityRules: [
            {
              name: 'shop-in-web-from-db',
              access: 'Allow',
              direction: 'Inbound',
              priority: 200,
              protocol: 'Tcp',
              destinationPortRange: '443',
            },
            { name: 'ops-allow-bastion', access: 'Allow', direction: 'Inbound', priority: 300, protocol: '*' },
          ],
        },
        asgs: [
          { name: 'Shop-DB', id: asgId('Shop-DB'), location: 'westeurope', tags: {} },
          { name: 'shop-db', id: asgId('shop-db-2'), location: 'westeurope', tags: { other: 'x' } },
          { name: 'shop-web', id: asgId('shop-web'), location: 'westeurope', tags: { 'bulkhead:model': 'shop' } },
        ],
        rcg: null,
        policyFound: true,
      },
      target,
      'live',
      { model: 'shop', segments },
    );
    const inTheWay = state.diagnostics.filter((d) => d.code === 'azure-unowned-in-the-way');
    expect(inTheWay.map((d) => d.message.split(' ')[3])).toEqual(['Shop-DB']);
    expect(state.resources.find((r) => r.type === AZURE_TYPES.nsg)!.children.map((c) => c.key)).toEqual([
      'shop-in-web-from-db',
    ]);
    // The read's remembered attributes give the digest fingerprintOf computes on its own.
    const raw2: RawAzureState = {
      nsg: {
        name: 'nsg',
        location: 'westeurope',
        securityRules: [
          { name: 'shop-in-web-from-db', access: 'Allow', direction: 'Inbound', priority: 200, protocol: 'Tcp' },
        ],
      },
      asgs: [],
      rcg: null,
      policyFound: true,
    };
    expect(stateFromRaw(raw2, target, 'live', { model: 'shop', segments }).fingerprint).toBe(fingerprintOf(raw2));
  });
});
