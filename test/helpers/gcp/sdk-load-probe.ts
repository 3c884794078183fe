import { createRequire } from 'node:module';
import { join } from 'node:path';
import { compileFile } from '../../../src/compile/index.js';
import { createGcpProvider } from '../../../providers/gcp/index.js';
import { createGcpClients } from '../../../providers/gcp/read.js';

/**
 * Child-process probe (run with `node --import tsx`): loads the GCP provider, runs render,
 * validate and a snapshot read of the shop example, and prints how many modules of the Google
 * SDK Node's CommonJS loader holds (the SDK packages are CommonJS, so every one that was loaded,
 * even through `import`, is in `require.cache`). With `live` as argument it then makes clients
 * for an emulator URL (no request is sent) and prints the count again: the positive control.
 */

const sdkModules = (): number =>
  Object.keys(createRequire(import.meta.url).cache).filter((k) =>
    /[\\/](?:@google-cloud[\\/]compute|google-auth-library|google-gax)[\\/]/.test(k),
  ).length;

const repo = join(import.meta.dirname, '../../..');
const compiled = await compileFile(join(repo, 'policies/shop.yaml'), { cwd: repo });
if (!compiled.ok) throw new Error('shop.yaml does not compile');
const target = compiled.value.targets.find((t) => t.kind === 'gcp')!;
const provider = createGcpProvider();
const ctx = { resolved: new Map() };
const diagnostics = provider.validate(compiled.value, target, ctx);
const resources = provider.render(compiled.value, target, ctx);
const state = await provider.read(
  target,
  { kind: 'snapshot', dir: join(repo, 'policies/snapshots/shop') },
  { model: 'shop' },
);
const out: Record<string, number> = {
  rendered: resources.length,
  read: state.resources.length,
  errors: diagnostics.filter((d) => d.severity === 'error').length,
  sdk: sdkModules(),
};
if (process.argv.includes('live')) {
  const clients = await createGcpClients('http://127.0.0.1:9');
  out['sdkAfterClients'] = sdkModules();
  await clients.close();
}
process.stdout.write(`${JSON.stringify(out)}\n`);
