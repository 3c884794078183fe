import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROVIDERS } from '../../providers/index.js';
import type { Provider } from '../../src/provider.js';
import { createFakeCloud, createFakeProvider, type FakeCloud } from './fake-provider.js';

/** The two-segment AWS model the command tests plan, apply and drift. */
export const TWO_SEGMENT_MODEL = `bulkhead: 1
name: shop
targets:
  aws-test: { aws: { region: eu-west-1, vpc: vpc-0123456789abcdef0 } }
segments:
  lb:
    ingress: [{ from: internet, ports: [tcp/443] }]
  web:
    ingress: [{ from: lb, ports: [tcp/8080] }]
`;

/** A command test's folder and the in-memory cloud behind its fake AWS provider. */
export interface FakeWorkspace {
  readonly dir: string;
  readonly cloud: FakeCloud;
  readonly provider: Provider;
}

/** The registry as the providers registered it, before any test swapped an entry. */
const registered = { ...PROVIDERS };

/**
 * A temp folder holding `bulkhead.yaml` (and `files`), with the fake provider over a fresh
 * in-memory cloud registered for AWS and the other clouds unregistered, so a command test can
 * never reach a real provider. Pair it with `restoreProviders` in `afterEach`.
 */
export async function createFakeWorkspace(
  prefix: string,
  model: string = TWO_SEGMENT_MODEL,
  files: Readonly<Record<string, string>> = {},
): Promise<FakeWorkspace> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await writeFile(join(dir, 'bulkhead.yaml'), model);
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
  const cloud = createFakeCloud();
  const provider = createFakeProvider(cloud);
  PROVIDERS.aws = () => provider;
  delete PROVIDERS.azure;
  delete PROVIDERS.gcp;
  return { dir, cloud, provider };
}

/** Puts the provider registry back as the providers registered it. */
export function restoreProviders(): void {
  for (const id of Object.keys(PROVIDERS) as (keyof typeof PROVIDERS)[]) delete PROVIDERS[id];
  Object.assign(PROVIDERS, registered);
}
