import { NetworkManagementClient } from '@azure/arm-network';
import { bearerTokenAuthenticationPolicyName } from '@azure/core-rest-pipeline';
import type { TokenCredential } from '@azure/identity';
import { createAzureProvider } from '../../../providers/azure/index.js';
import type { TargetSpec } from '../../../src/compile/types.js';
import type { Provider } from '../../../src/provider.js';
import { startArmEmulator, type ArmEmulator } from './arm-emulator.js';

/** A TokenCredential that never leaves the process (the emulator ignores tokens). */
export const FAKE_CREDENTIAL: TokenCredential = {
  getToken: async () => ({ token: 'test-token', expiresOnTimestamp: Date.now() + 3_600_000 }),
};

/** Subscription, resource group and names every Azure test uses. */
export const SUBSCRIPTION = '00000000-0000-0000-0000-000000000000';
export const RG = 'shop-prod';
export const NSG = 'shop-prod';
export const POLICY = 'shop-egress';

/** An Azure target pointing at the emulator (through the provider's endpoint option). */
export function emulatorTarget(name = 'azure-prod', firewallPolicy: string | null = POLICY): TargetSpec {
  return {
    kind: 'azure',
    name,
    pos: { file: 'model.yaml', line: 4, column: 3 },
    azure: {
      subscription: SUBSCRIPTION,
      resourceGroup: RG,
      location: 'westeurope',
      nsg: NSG,
      ...(firewallPolicy ? { firewallPolicy } : {}),
    },
  };
}

/** The emulator, a provider wired to it, and a raw SDK client for out-of-band edits. */
export interface AzureHarness {
  readonly emulator: ArmEmulator;
  readonly provider: Provider;
  /** A real NetworkManagementClient on the emulator, for edits "someone else" makes. */
  readonly client: NetworkManagementClient;
  close(): Promise<void>;
}

/** Starts an emulator (127.0.0.1, free port) and wires a provider to it. */
export async function startAzureHarness(): Promise<AzureHarness> {
  const emulator = await startArmEmulator(SUBSCRIPTION);
  const provider = createAzureProvider({
    credential: FAKE_CREDENTIAL,
    endpoint: emulator.url,
    env: {},
    pollIntervalMs: 1,
    retry: { baseDelayMs: 5, maxDelayMs: 50, maxAttempts: 6 },
    clientOptions: { retryOptions: { maxRetries: 2, retryDelayInMs: 5, maxRetryDelayInMs: 50 } },
  });
  const client = new NetworkManagementClient(FAKE_CREDENTIAL, SUBSCRIPTION, {
    endpoint: emulator.url,
    allowInsecureConnection: true,
    retryOptions: { maxRetries: 0 },
  });
  client.pipeline.removePolicy({ name: bearerTokenAuthenticationPolicyName });
  return { emulator, provider, client, close: () => emulator.close() };
}
