/**
 * Child-process probe of the speed issue (11.0): runs the AWS provider's offline paths (validate,
 * render, CLI JSON, a snapshot read through the engine) as the CLI would, from the provider
 * registry, then prints how many `@aws-sdk/*` modules Node loaded. The SDK's CommonJS build is what
 * `import('@aws-sdk/client-ec2')` loads, so every loaded file shows in the require cache.
 *
 *   node --import tsx test/helpers/aws/sdk-probe.ts offline|live
 *
 * `live` loads the SDK the way the live paths do: the positive control of the count.
 */
import { createRequire } from 'node:module';
import { getProvider } from '../../../providers/index.js';
import { compileFile } from '../../../src/compile/index.js';
import { createPlan } from '../../../src/plan/create-plan.js';
import type { Resolver } from '../../../src/resolve.js';

// Pinned here (scenario.ts imports the SDK itself): documentation ranges, never DNS.
const resolver: Resolver = async () => ({ ipv4: ['192.0.2.10/32'], ipv6: [] });

const mode = process.argv[2];
const compiled = await compileFile('policies/shop.yaml');
if (!compiled.ok) throw new Error('policies/shop.yaml does not compile');
const rules = compiled.value;
const provider = getProvider('aws')!;
const target = rules.targets.find((t) => t.name === 'aws-prod')!;
const plan = await createPlan(rules, {
  providers: (id) => (id === 'aws' ? provider : undefined),
  source: () => ({ kind: 'snapshot', dir: 'policies/snapshots/shop' }),
  targets: ['aws-prod'],
  resolver,
});
const desired = provider.render(rules, target, { resolved: new Map() });
provider.toCliJson(desired, target);
if (mode === 'live') await import('@aws-sdk/client-ec2');
const loaded = Object.keys(createRequire(import.meta.url).cache).filter((k) => k.includes('@aws-sdk'));
process.stdout.write(
  `${JSON.stringify({ targets: plan.targets.length, resources: desired.length, sdkModules: loaded.length })}\n`,
);
