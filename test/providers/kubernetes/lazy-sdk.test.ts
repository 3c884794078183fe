import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * `@kubernetes/client-node` (and its node-fetch, ws, openid-client …) is loaded only by the code
 * that talks to a cluster, on first use: render, validate, plan --snapshots and the CLI's start-up
 * never pay for it. Checked on the sources: every static import of it is `import type`.
 */
describe('kubernetes provider loads the SDK lazily', () => {
  it('has no value import of @kubernetes/client-node outside await import()', () => {
    const dir = join(import.meta.dirname, '../../../providers/kubernetes');
    const offenders: string[] = [];
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
      const text = readFileSync(join(dir, f), 'utf8');
      for (const m of text.matchAll(/^import\s+(?!type\b)[^;]*from\s+'@kubernetes\/client-node'/gm))
        offenders.push(`${f}: ${m[0]}`);
    }
    expect(offenders).toEqual([]);
    expect(readFileSync(join(dir, 'read.ts'), 'utf8')).toContain("await import('@kubernetes/client-node')");
  });
});
