import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { getProvider, PROVIDERS } from '../../providers/index.js';
import { compileFile } from '../../src/compile/index.js';
import { createPlan } from '../../src/plan/create-plan.js';
import type { ReadContext } from '../../src/provider.js';
import { createSnapshotResolver } from '../../src/resolve.js';
import { runCli } from '../helpers/cli.js';
import { createFakeWorkspace, restoreProviders } from '../helpers/fake-workspace.js';

const repo = new URL('../../', import.meta.url).pathname;
const snapshots = join(repo, 'policies/snapshots/shop');

/**
 * A state's fingerprint is read only by saved plans (apply compares it) and `plan --json`: a
 * printed plan and a drift report ask the providers to skip the digest of every object read.
 */
describe('state fingerprints', () => {
  afterEach(restoreProviders);

  async function shopPlan(fingerprints?: false) {
    const rules = await compileFile('policies/shop.yaml', { cwd: repo });
    if (!rules.ok) throw new Error('shop does not compile');
    return createPlan(rules.value, {
      providers: getProvider,
      source: () => ({ kind: 'snapshot', dir: snapshots }),
      resolver: createSnapshotResolver(snapshots, snapshots),
      ...(fingerprints === false ? { fingerprints } : {}),
    });
  }

  it('every provider leaves the fingerprint empty when asked, and plans the same changes', async () => {
    const full = await shopPlan();
    const lean = await shopPlan(false);
    expect(full.targets.map((t) => t.provider).sort()).toEqual(['aws', 'azure', 'gcp', 'kubernetes']);
    for (const t of full.targets) expect(t.fingerprint, t.target).toMatch(/^(sha256:)?[0-9a-f]{64}$/);
    for (const t of lean.targets) expect(t.fingerprint, t.target).toBe('');
    expect(lean.targets.map(({ fingerprint: _, ...rest }) => rest)).toEqual(
      full.targets.map(({ fingerprint: _, ...rest }) => rest),
    );
    expect(lean.diagnostics).toEqual(full.diagnostics);
  });

  it('plan and drift ask for no fingerprint; plan --out and plan --json do', async () => {
    const { dir, provider } = await createFakeWorkspace('bulkhead-fingerprints-');
    const asked: (boolean | undefined)[] = [];
    PROVIDERS.aws = () => ({
      ...provider,
      read: (target, source, context?: ReadContext) => {
        asked.push(context?.fingerprint);
        return provider.read(target, source, context);
      },
    });
    const run = async (args: string[]) => {
      asked.length = 0;
      const r = await runCli(args, { cwd: dir });
      expect(r.code, r.stderr).toBeLessThan(3);
      expect(asked.length).toBeGreaterThan(0);
      return [...new Set(asked)];
    };
    expect(await run(['plan'])).toEqual([false]);
    expect(await run(['plan', '--markdown'])).toEqual([false]);
    expect(await run(['drift'])).toEqual([false]);
    expect(await run(['plan', '--json'])).toEqual([undefined]);
    expect(await run(['plan', '--out', 'saved.json'])).toEqual([undefined]);
    expect(await run(['plan', '--markdown', '--out', 'saved.json'])).toEqual([undefined]);
  });
});
