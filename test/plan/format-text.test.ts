import { describe, expect, it } from 'vitest';
import { createStyle } from '../../src/io.js';
import { diffResources } from '../../src/plan/diff.js';
import { formatPlanText } from '../../src/plan/format-text.js';
import { summarize } from '../../src/plan/create-plan.js';
import type { Change, Child, Plan, Resource } from '../../src/plan/types.js';

const plain = createStyle(false, {});

function child(key: string, summary: string, widens = false): Child {
  return { key, summary, attributes: { key }, ...(widens ? { widens: true } : {}) };
}

function res(name: string, children: Child[], description = 'd'): Resource {
  return {
    address: `t.fake_group.${name}`,
    target: 't',
    type: 'fake_group',
    name,
    attributes: { description },
    children,
    forceNew: ['description'],
  };
}

function planOf(changes: Change[]): Plan {
  return {
    formatVersion: 1,
    model: { name: 'shop', digest: '0'.repeat(64), file: 'm.yaml' },
    targets: [{ target: 't', provider: 'aws', source: 'live', fingerprint: 'f', prior: [], changes, diagnostics: [] }],
    diagnostics: [],
    summary: summarize(changes),
  };
}

describe('formatPlanText', () => {
  it('renders every action like Terraform (golden)', () => {
    const changes = diffResources(
      [
        res('new', [child('a', 'ingress tcp/443 from internet', true)]),
        res('upd', [child('keep', 'keep'), child('add', 'add rule')]),
        res('rep', [], 'new'),
      ],
      [
        res('old', [child('x', 'old rule')]),
        res('upd', [child('keep', 'keep'), child('gone', 'gone rule')]),
        res('rep', [], 'old'),
      ],
    );
    expect(formatPlanText(planOf(changes), plain)).toBe(`Resource actions are indicated with the following symbols:
  + create
  ~ update in-place
  - destroy
-/+ destroy and then create replacement

Bulkhead will perform the following actions:

Target t (aws, live state): 4 objects to change

  # t.fake_group.new will be created (widens access)
  + resource "fake_group" "new" {
      + description = "d"
      + ingress tcp/443 from internet  # widens access
    }

  # t.fake_group.old will be destroyed
  - resource "fake_group" "old" {
      - description = "d"
      - old rule
    }

  # t.fake_group.rep must be replaced
  # (description cannot be changed in place)
-/+ resource "fake_group" "rep" {
      ~ description = "old" -> "new" # forces replacement
    }

  # t.fake_group.upd will be updated in-place
  ~ resource "fake_group" "upd" {
      + add rule
      - gone rule
    }

Plan: 2 to add, 1 to change, 2 to destroy.
Warning: 1 change widens access (new internet ingress or a new peer).
`);
  });

  it('says when there is nothing to do', () => {
    expect(formatPlanText(planOf([]), plain)).toBe('No changes. The live state matches the model.\n');
  });
});
