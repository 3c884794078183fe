import type { CloudId } from '../src/compile/types.js';
import type { Provider } from '../src/provider.js';
import { createAwsProvider } from './aws/index.js';
import { createAzureProvider } from './azure/index.js';
import { createGcpProvider } from './gcp/index.js';

/** The provider registry: one factory per cloud. A provider issue adds its line here. */
export const PROVIDERS: Partial<Record<CloudId, () => Provider>> = {
  aws: () => createAwsProvider(),
  azure: () => createAzureProvider(),
  gcp: () => createGcpProvider(),
};

/** The provider for a cloud, or undefined when it has not landed yet. */
export function getProvider(id: CloudId): Provider | undefined {
  return PROVIDERS[id]?.();
}
