import { describe, expect, it } from 'vitest';
import { diffResources } from '../../src/plan/diff.js';
import { driftItems, formatDriftText } from '../../src/plan/drift-report.js';
import { createStyle } from '../../src/io.js';
import type { Child, Plan, Resource } from '../../src/plan/types.js';

const plain = createStyle(false, {});

function child(key: string, attributes: Child['attributes'] = {}): Child {
  return { key, summary: `ingress ${key} from 10.0.0.0/8`, attributes };
}

function group(description: string, children: Child[]): Resource {
  return {
    address: 't.fake_group.shop-web',
    target: 't',
    type: 'fake_group',
    name: 'shop-web',
    attributes: { description },
    children,
    forceNew: ['description'],
  };
}

function planOf(desired: Resource[], live: Resource[]): Plan {
  const changes = diffResources(desired, live);
  return {
    formatVersion: 1,
    model: { name: 'shop', digest: '0'.repeat(64), file: 'bulkhead.yaml' },
    targets: [{ target: 't', provider: 'aws', source: 'live', fingerprint: '', prior: live, changes, diagnostics: [] }],
    diagnostics: [],
    summary: { add: 0, change: 0, destroy: 0 },
  };
}

describe('drift wording', () => {
  it('says which attributes of a modified rule differ when its summary is the same', () => {
    const plan = planOf(
      [group('d', [child('tcp/443', { note: 'model' })])],
      [group('d', [child('tcp/443', { note: 'by hand' })])],
    );
    const [item] = driftItems(plan);
    expect(item).toMatchObject({ kind: 'modified-rule' });
    expect(item!.message).toBe(
      't.fake_group.shop-web: rule ingress tcp/443 from 10.0.0.0/8 differs from the model (note: "by hand" -> "model")',
    );
  });

  it('lists the rules that differ inside a replaced object, not only its attributes', () => {
    const plan = planOf(
      [group('new', [child('tcp/443'), child('tcp/22')])],
      [group('old', [child('tcp/443'), child('tcp/80')])],
    );
    expect(plan.targets[0]!.changes[0]!.action).toBe('replace');
    expect(driftItems(plan).map((i) => [i.kind, i.key ?? null])).toEqual([
      ['modified-object', null],
      ['missing-rule', 'tcp/22'],
      ['unexpected-rule', 'tcp/80'],
    ]);
    const text = formatDriftText(plan, plain);
    expect(text).toContain('~ modified-object   description is "old", the model says "new"');
    expect(text).toContain('- missing-rule      missing rule ingress tcp/22 from 10.0.0.0/8');
    expect(text).toContain('+ unexpected-rule   unexpected rule ingress tcp/80 from 10.0.0.0/8');
    expect(text).not.toContain('tcp/443');
  });

  it('shows the rules of a missing object and of one that left the model, without repeating the address', () => {
    const missing = planOf([group('d', [child('tcp/443'), child('tcp/22')])], []);
    const text = formatDriftText(missing, plain);
    expect(text).toContain(
      '    - missing-object    does not exist (the model gives it 2 rules)\n        - ingress tcp/443 from 10.0.0.0/8\n        - ingress tcp/22 from 10.0.0.0/8\n',
    );
    const gone = formatDriftText(planOf([], [group('d', [child('tcp/80')])]), plain);
    expect(gone).toContain(
      '    + unexpected-object owned by the model but no longer defined in it, with 1 rule\n        + ingress tcp/80 from 10.0.0.0/8\n',
    );
  });
});
