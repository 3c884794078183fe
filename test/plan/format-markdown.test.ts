import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getProvider } from '../../providers/index.js';
import { compileFile } from '../../src/compile/index.js';
import type { RuleSet } from '../../src/compile/types.js';
import { createPlan, summarize } from '../../src/plan/create-plan.js';
import { createSnapshotResolver } from '../../src/resolve.js';
import { awsTarget, internet, pos, tcp } from '../helpers/rulesets.js';
import { diffResources } from '../../src/plan/diff.js';
import { formatPlanMarkdown } from '../../src/plan/format-markdown.js';
import type { Change, Child, Plan, Resource } from '../../src/plan/types.js';

function child(key: string, summary: string, widens = false): Child {
  return { key, summary, attributes: { key }, ...(widens ? { widens: true } : {}) };
}

function res(name: string, children: Child[], description = 'd'): Resource {
  return {
    address: `t.g.${name}`,
    target: 't',
    type: 'g',
    name,
    attributes: { description },
    children,
    forceNew: ['description'],
  };
}

function planOf(changes: Change[]): Plan {
  return {
    formatVersion: 1,
    model: { name: 'shop', digest: 'abcdef0123456789'.repeat(4), file: 'm.yaml' },
    targets: [
      { target: 't', provider: 'aws', source: 'snapshot', fingerprint: 'f', prior: [], changes, diagnostics: [] },
      { target: 'u', provider: 'gcp', source: 'snapshot', fingerprint: 'f', prior: [], changes: [], diagnostics: [] },
    ],
    diagnostics: [
      {
        severity: 'warning',
        code: 'provider-unavailable',
        message: 'provider azure not available yet, target v skipped',
      },
    ],
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

/** The ```mermaid blocks of a Markdown text, each as its edges `from -> to: label` (labels decoded) and link styles. */
function mermaidBlocks(md: string): { edges: string[]; styles: string[] }[] {
  const blocks = [...md.matchAll(/```mermaid\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return blocks.map((b) => {
    const decode = (s: string) => s.replace(/#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n)));
    const names = new Map<string, string>();
    const edges: string[] = [];
    const styles: string[] = [];
    for (const line of b.split('\n').slice(1, -1)) {
      let m: RegExpExecArray | null;
      if ((m = /^ {2}(n\d+)\["([^"]*)"\]$/.exec(line))) names.set(m[1]!, decode(m[2]!));
      else if ((m = /^ {2}(n\d+) (-->|-\.->)\|"([^"]*)"\| (n\d+)$/.exec(line)))
        edges.push(`${names.get(m[1]!)} ${m[2]} ${names.get(m[4]!)}: ${decode(m[3]!)}`);
      else if (/^ {2}linkStyle [\d,]+ stroke:#[0-9a-f]{6},stroke-width:2px,color:#[0-9a-f]{6}$/.test(line))
        styles.push(line.trim());
      else throw new Error(`unexpected Mermaid line ${JSON.stringify(line)}`);
    }
    return { edges, styles };
  });
}

describe('formatPlanMarkdown: the flow diagram', () => {
  const repo = new URL('../../', import.meta.url).pathname;

  async function shopPlan(target: string): Promise<Plan> {
    const rules = await compileFile('policies/shop.yaml', { cwd: repo });
    if (!rules.ok) throw new Error('shop does not compile');
    const dir = join(repo, 'policies/snapshots/shop');
    return createPlan(rules.value, {
      providers: getProvider,
      source: () => ({ kind: 'snapshot', dir }),
      resolver: createSnapshotResolver(dir, dir),
      targets: [target],
    });
  }

  it('draws the flows the bundled snapshot plan adds (green) and removes (red), per cloud', async () => {
    const azure = mermaidBlocks(formatPlanMarkdown(await shopPlan('azure-prod')));
    expect(azure).toEqual([
      {
        edges: [
          'any --> api.paypal.com: + https:443',
          'app --> Storage.WestEurope: + tcp/443',
          // The inbound side of app -> db changes from 5432-5433 to 5432 (the outbound side had 5432).
          'app --> db: + tcp/5432',
          // Only the inbound side was missing; the flow now works.
          'web --> app: + tcp/9000-9010',
          'app -.-> db: - tcp/5432-5433',
          'batch -.-> app: - tcp/8443',
        ],
        styles: [
          'linkStyle 0,1,2,3 stroke:#188038,stroke-width:2px,color:#188038',
          'linkStyle 4,5 stroke:#d93025,stroke-width:2px,color:#d93025',
        ],
      },
    ]);
    const aws = mermaidBlocks(formatPlanMarkdown(await shopPlan('aws-prod')));
    expect(aws[0]!.edges).toEqual([
      '::/0 --> lb: + tcp/443',
      'app --> db: + tcp/5432',
      'app --> payment-apis-ipv6: + tcp/443',
      '0.0.0.0/0 -.-> lb: - tcp/80',
      'app -.-> batch: - tcp/8443',
      'batch -.-> 0.0.0.0/0: - all',
    ]);
    const gcp = mermaidBlocks(formatPlanMarkdown(await shopPlan('gcp-prod')));
    expect(gcp[0]!.edges).toContain('app -.-> batch: - tcp/7000');
    expect(gcp[0]!.edges).toContain('web --> ::/0: + deny all');
    // The diagram sits between the target's table and its details.
    const md = formatPlanMarkdown(await shopPlan('azure-prod'));
    expect(md).toMatch(
      /\| update \| \+2 ~1 -1 \| ⚠️ yes \|\n\nFlows: \+4 flows added, -2 flows removed \(green: added, red dashed: removed\)\.\n\n```mermaid\nflowchart LR\n/,
    );
    expect(md.indexOf('```mermaid')).toBeLessThan(md.indexOf('<details>'));
  });

  it('caps the diagram at 30 edges and says how many more there are', () => {
    const n = 40;
    const rules: RuleSet = {
      formatVersion: 1,
      model: { name: 'big', digest: 'd'.repeat(64), file: 'big.yaml' },
      targets: [awsTarget('aws-test')],
      segments: Array.from({ length: n }, (_, i) => ({ name: `s${String(i).padStart(2, '0')}`, pos: pos(i + 1) })),
      rules: Array.from({ length: n }, (_, i) => ({
        id: `r${i}`,
        direction: 'ingress' as const,
        segment: `s${String(i).padStart(2, '0')}`,
        peer: internet(),
        service: tcp(443),
        origins: [{ pos: pos(i + 1), label: 'x' }],
      })),
      denies: [],
    };
    const desired = getProvider('aws')!.render(rules, rules.targets[0]!, { resolved: new Map() });
    const changes = diffResources(desired, []);
    const plan: Plan = {
      ...planOf(changes),
      model: rules.model,
      targets: [
        {
          target: 'aws-test',
          provider: 'aws',
          source: 'snapshot',
          fingerprint: 'f',
          prior: [],
          changes,
          diagnostics: [],
        },
      ],
    };
    const md = formatPlanMarkdown(plan);
    const [block] = mermaidBlocks(md);
    // 40 segments × (0.0.0.0/0 and ::/0) = 80 added flows; 30 are drawn.
    expect(block!.edges).toHaveLength(30);
    expect(block!.edges[0]).toBe('0.0.0.0/0 --> s00: + tcp/443');
    expect(md).toContain('Flows: +80 flows added (green: added, red dashed: removed).');
    expect(md).toContain('```\n\n… and 50 more (every rule is in Details).\n\n<details>');
  });

  it('leaves the diagram out when no rule changes a flow', () => {
    const same = res('sg', [child('a', 'a')]);
    const md = formatPlanMarkdown(planOf(diffResources([same], [res('sg', [])])));
    expect(md).not.toContain('```mermaid');
  });
});
