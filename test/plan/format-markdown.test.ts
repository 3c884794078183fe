import { describe, expect, it } from 'vitest';
import { summarize } from '../../src/plan/create-plan.js';
import { diffResources } from '../../src/plan/diff.js';
import { formatPlanMarkdown } from '../../src/plan/format-markdown.js';
import type { Change, Child, Plan, Resource } from '../../src/plan/types.js';

function child(key: string, summary: string, widens = false): Child {
  return { key, summary, attributes: { key }, ...(widens ? { widens: true } : {}) };
}

function res(name: string, children: Child[], description = 'd'): Resource {
  return { address: `t.g.${name}`, target: 't', type: 'g', name, attributes: { description }, children, forceNew: ['description'] };
}

function planOf(changes: Change[]): Plan {
  return {
    formatVersion: 1,
    model: { name: 'shop', digest: 'abcdef0123456789'.repeat(4), file: 'm.yaml' },
    targets: [
      { target: 't', provider: 'aws', source: 'snapshot', fingerprint: 'f', prior: [], changes, diagnostics: [] },
      { target: 'u', provider: 'gcp', source: 'snapshot', fingerprint: 'f', prior: [], changes: [], diagnostics: [] },
    ],
    diagnostics: [{ severity: 'warning', code: 'provider-unavailable', message: 'provider azure not available yet, target v skipped' }],
    summary: summarize(changes),
  };
}

describe('formatPlanMarkdown', () => {
  it('renders a compact PR comment (golden)', () => {
    const changes = diffResources(
      [res('new', [child('a', 'ingress tcp/443 from internet', true)]), res('upd', [child('add', 'add | rule')])],
      [res('old', [child('x', 'old rule')]), res('upd', [child('gone', 'gone rule')])],
    );
    expect(formatPlanMarkdown(planOf(changes))).toBe(`### Bulkhead plan: \`shop\`

**Plan: 1 to add, 1 to change, 1 to destroy.**

> [!WARNING]
> 1 change widens access (new internet ingress or a new peer).

#### \`t\` (aws, snapshot state)

| | Object | Type | Action | Rules | Widens access |
|---|---|---|---|---|---|
| \`+\` | \`new\` | g | create | +1 | ⚠️ yes |
| \`-\` | \`old\` | g | delete | -1 |  |
| \`~\` | \`upd\` | g | update | +1 -1 |  |

<details><summary>Details</summary>

\`\`\`diff
+ t.g.new (create)
+   description = "d"
+   ingress tcp/443 from internet   (widens access)
- t.g.old (delete)
-   description = "d"
-   old rule
~ t.g.upd (update)
+   add | rule
-   gone rule
\`\`\`

</details>

#### \`u\` (gcp, snapshot state)

No changes.

#### Diagnostics

- **warning** \`provider-unavailable\`: provider azure not available yet, target v skipped

<sub>model digest \`abcdef012345\`</sub>
`);
  });
});
