import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compileFile, createPlan, createSnapshotResolver, getProvider } from '../src/index.js';

const repo = fileURLToPath(new URL('..', import.meta.url));

describe('library API', () => {
  it('runs the quick start as functions: compile the shop, plan it against the bundled snapshots', async () => {
    const compiled = await compileFile('policies/shop.yaml', { cwd: repo });
    expect(compiled.ok).toBe(true);
    const rules = compiled.value!;
    const dir = `${repo}/policies/snapshots/shop`;
    const plan = await createPlan(rules, {
      providers: getProvider,
      source: () => ({ kind: 'snapshot', dir }),
      resolver: createSnapshotResolver(dir),
    });
    expect(plan.targets.map((t) => t.target)).toEqual(['aws-prod', 'azure-prod', 'gcp-prod', 'k8s-prod']);
    for (const t of plan.targets) {
      const actions = new Set(t.changes.map((c) => c.action));
      expect(actions.has('create') || t.changes.some((c) => c.childChanges.some((k) => k.action === 'create'))).toBe(
        true,
      );
      expect(actions.has('delete')).toBe(true);
      expect(actions.has('update')).toBe(true);
    }
  });
});
