import { ruleToWire, type RuleAttributes, type WireRule } from '../../../providers/azure/canonical.js';
import { stateFromRaw } from '../../../providers/azure/state.js';
import { AZURE_TYPES, azureConfig } from '../../../providers/azure/render.js';
import type { TargetSpec } from '../../../src/compile/types.js';
import type { ProviderState, Resource } from '../../../src/plan/types.js';
import { SUBSCRIPTION } from './harness.js';

/** An unowned rule someone made by hand in the NSG (only its direction and priority matter here). */
export interface HandRule {
  readonly name: string;
  readonly direction: 'Inbound' | 'Outbound';
  readonly priority: number;
}

/** The wire form of a hand-made rule. */
export function handRuleWire(r: HandRule): WireRule {
  return {
    name: r.name,
    protocol: 'Tcp',
    sourcePortRange: '*',
    destinationPortRange: '22',
    sourceAddressPrefix: '198.51.100.0/24',
    destinationAddressPrefix: '*',
    access: 'Allow',
    priority: r.priority,
    direction: r.direction,
  };
}

/**
 * The state `read` returns for a target after an apply of `desired` into an NSG that also holds
 * `unowned` rules: the NSG's wire rules go through the provider's own `stateFromRaw`, so owned
 * children and `reserved` are what a live read would give. `desired` null: the NSG holds only the
 * unowned rules (a first apply).
 */
export function liveStateAfter(
  desired: readonly Resource[] | null,
  unowned: readonly HandRule[],
  target: TargetSpec,
  model: string,
): ProviderState {
  const cfg = azureConfig(target);
  const nsg = desired?.find((r) => r.type === AZURE_TYPES.nsg);
  const owned = (nsg?.children ?? []).map((c) => ruleToWire(c.key, c.attributes as RuleAttributes, SUBSCRIPTION));
  return stateFromRaw(
    {
      nsg: { name: cfg.nsg, location: cfg.location, securityRules: [...unowned.map(handRuleWire), ...owned] },
      asgs: [],
      rcg: null,
      policyFound: true,
    },
    target,
    'live',
    { model },
  );
}
