/**
 * Child process of test/providers/azure/lazy-sdk.test.ts, run with the hook that refuses every
 * @azure/* import. `offline`: imports the Azure provider, validates, renders and reads the bundled
 * snapshot of policies/shop.yaml, prints counts as JSON. `live`: also builds the SDK client (the
 * positive control: the hook must stop it).
 */
import { join, resolve } from 'node:path';
import { createAzureProvider } from '../../../providers/azure/index.js';
import { createNetworkClient } from '../../../providers/azure/read.js';
import { compileFile } from '../../../src/compile/index.js';

const REPO = resolve(import.meta.dirname, '../../..');
const mode = process.argv[2];
const compiled = await compileFile(join(REPO, 'policies/shop.yaml'));
if (!compiled.ok) throw new Error('policies/shop.yaml does not compile');
const rules = compiled.value;
const target = rules.targets.find((t) => t.name === 'azure-prod')!;
const provider = createAzureProvider({ env: {} });
const ctx = { resolved: new Map() };
const diagnostics = provider.validate(rules, target, ctx);
const state = await provider.read(
  target,
  { kind: 'snapshot', dir: join(REPO, 'policies/snapshots/shop') },
  { model: rules.model.name, segments: rules.segments },
);
const resources = provider.render(rules, target, { ...ctx, live: state });
if (mode === 'live') await createNetworkClient(target, { env: {} });
process.stdout.write(
  `${JSON.stringify({ diagnostics: diagnostics.length, rendered: resources.length, read: state.resources.length })}\n`,
);
