import type { SourceRef } from '../diagnostics.js';
import { sortDiagnostics } from '../diagnostics.js';
import type { Style } from '../io.js';
import type { RuleSet } from '../compile/types.js';
import { diffChildren } from './diff.js';
import { changedAttributes, formatValue } from './format-text.js';
import type { Change, Json, Plan } from './types.js';

/**
 * Drift: how the live state differs from the model, seen from the model's side. A plan's changes
 * read backwards: a planned create is a `missing` object, a planned delete an `unexpected` one
 * (owned, but no longer in the model), a rule the plan would add is `missing`, one it would remove
 * is `unexpected` (added out of band: the most dangerous kind), an update is `modified`.
 */

/** The kinds of drift, each a SARIF rule. */
export type DriftKind =
  | 'missing-object'
  | 'unexpected-object'
  | 'modified-object'
  | 'missing-rule'
  | 'unexpected-rule'
  | 'modified-rule';

/** One drifted item. */
export interface DriftItem {
  readonly kind: DriftKind;
  readonly target: string;
  readonly address: string;
  /** The rule's key, for rule-level items. */
  readonly key?: string;
  readonly message: string;
  /** Model lines that own the drifted object or rule (empty for an object no longer in the model). */
  readonly origins: readonly SourceRef[];
}

/** Every drift kind with its SARIF description and level. */
export const DRIFT_RULES: readonly { id: DriftKind; description: string; level: 'error' | 'warning' }[] = [
  { id: 'missing-object', description: 'An object the model defines does not exist.', level: 'warning' },
  { id: 'missing-rule', description: 'A rule the model defines is missing from its object.', level: 'warning' },
  { id: 'modified-object', description: 'An owned object differs from the model.', level: 'warning' },
  { id: 'modified-rule', description: 'A rule differs from the model.', level: 'warning' },
  { id: 'unexpected-object', description: 'An owned object is no longer in the model.', level: 'warning' },
  {
    id: 'unexpected-rule',
    description: 'A rule not in the model was added to an owned object (possibly opening access).',
    level: 'error',
  },
];

function itemsOf(change: Change): DriftItem[] {
  const base = { target: change.target, address: change.address };
  const owner = change.after?.origins ?? [];
  switch (change.action) {
    case 'create': {
      const n = change.after!.children.length;
      const rules = n === 0 ? '' : ` (the model gives it ${n} rule${n === 1 ? '' : 's'})`;
      return [
        { ...base, kind: 'missing-object', message: `${change.address}: does not exist${rules}`, origins: owner },
      ];
    }
    case 'delete': {
      const n = change.before!.children.length;
      const rules = n === 0 ? '' : `, with ${n} rule${n === 1 ? '' : 's'}`;
      return [
        {
          ...base,
          kind: 'unexpected-object',
          message: `${change.address}: owned by the model but no longer defined in it${rules}`,
          origins: [],
        },
      ];
    }
    case 'replace':
    case 'update': {
      const items: DriftItem[] = [];
      for (const a of change.attributeChanges) {
        items.push({
          ...base,
          kind: 'modified-object',
          message: `${change.address}: ${a.name} is ${formatValue(a.before)}, the model says ${formatValue(a.after)}`,
          origins: owner,
        });
      }
      // A replace carries every rule; like plan, say only the rules that actually differ.
      const children =
        change.action === 'replace'
          ? diffChildren(change.before!.children, change.after!.children)
          : change.childChanges;
      for (const c of children) {
        if (c.action === 'create') {
          items.push({
            ...base,
            kind: 'missing-rule',
            key: c.key,
            message: `${change.address}: missing rule ${c.after!.summary}`,
            origins: c.after!.origins ?? owner,
          });
        } else if (c.action === 'delete') {
          items.push({
            ...base,
            kind: 'unexpected-rule',
            key: c.key,
            message: `${change.address}: unexpected rule ${c.before!.summary}`,
            origins: owner,
          });
        } else {
          const before = c.before!.summary;
          const after = c.after!.summary;
          items.push({
            ...base,
            kind: 'modified-rule',
            key: c.key,
            message:
              before === after
                ? `${change.address}: rule ${after} differs from the model (${changedAttributes(c)})`
                : `${change.address}: rule ${before} differs from the model's ${after}`,
            origins: c.after!.origins ?? owner,
          });
        }
      }
      return items;
    }
  }
}

/**
 * The drift items of a plan, in plan order. With the rules, an item no model line owns (an object
 * that left the model, a rule on a shared object such as an NSG) points at its target's
 * declaration instead: code-scanning dashboards only show results that have a location.
 */
export function driftItems(plan: Plan, rules?: RuleSet): DriftItem[] {
  const items = plan.targets.flatMap((t) => t.changes.flatMap(itemsOf));
  if (!rules) return items;
  const targets = new Map(rules.targets.map((t) => [t.name, t]));
  return items.map((i) => {
    const target = targets.get(i.target);
    if (i.origins.length > 0 || !target) return i;
    return { ...i, origins: [{ pos: target.pos, label: `target ${target.name}` }] };
  });
}

const MARK: { readonly [K in DriftKind]: string } = {
  'missing-object': '-',
  'missing-rule': '-',
  'unexpected-object': '+',
  'unexpected-rule': '+',
  'modified-object': '~',
  'modified-rule': '~',
};

/** Text report: per target, per object, what differs; `-` missing, `+` unexpected, `~` modified. */
export function formatDriftText(plan: Plan, style: Style): string {
  const items = driftItems(plan);
  if (items.length === 0) {
    return plan.targets.length === 0
      ? 'No target was checked.\n'
      : `${style.green('No drift.')} The state matches the model.\n`;
  }
  const out: string[] = [];
  for (const t of plan.targets) {
    const mine = items.filter((i) => i.target === t.target);
    if (mine.length === 0) {
      out.push(`${style.bold(`Target ${t.target}`)} (${t.provider}, ${t.source} state): no drift\n`);
      continue;
    }
    out.push(
      `${style.bold(`Target ${t.target}`)} (${t.provider}, ${t.source} state): ${t.changes.length} drifted object${t.changes.length === 1 ? '' : 's'}\n`,
    );
    for (const c of t.changes) {
      const where = c.after?.origins?.[0];
      out.push(
        `  ${style.bold(c.address)}${where ? style.dim(` (${where.pos.file}:${where.pos.line}:${where.pos.column})`) : ''}\n`,
      );
      for (const i of mine.filter((x) => x.address === c.address)) {
        const color = MARK[i.kind] === '+' ? style.red : MARK[i.kind] === '-' ? style.yellow : style.cyan;
        const text = i.message.startsWith(`${c.address}: `) ? i.message.slice(c.address.length + 2) : i.message;
        out.push(`    ${color(MARK[i.kind])} ${i.kind.padEnd(17)} ${text}\n`);
        // Like plan, show the rules of an object that is missing or should not be there.
        const rules =
          i.kind === 'missing-object' ? c.after!.children : i.kind === 'unexpected-object' ? c.before!.children : [];
        for (const r of rules) out.push(`        ${color(MARK[i.kind])} ${r.summary}\n`);
      }
    }
  }
  const objects = plan.targets.reduce((n, t) => n + t.changes.length, 0);
  out.push(
    `\nDrift: ${objects} object${objects === 1 ? '' : 's'} differ${objects === 1 ? 's' : ''} from the model (${items.length} finding${items.length === 1 ? '' : 's'}). Run \`bulkhead plan\` to see the changes that would revert it.\n`,
  );
  return out.join('');
}

/** Version of the `drift --format json` document. */
export const DRIFT_JSON_FORMAT_VERSION = 1;

/** `drift --format json`. */
export function formatDriftJson(plan: Plan, rules?: RuleSet): string {
  const items = driftItems(plan, rules);
  const doc = {
    formatVersion: DRIFT_JSON_FORMAT_VERSION,
    model: plan.model,
    drift: items.length > 0,
    targets: plan.targets.map((t) => ({
      target: t.target,
      provider: t.provider,
      source: t.source,
      drift: t.changes.length > 0,
      items: items.filter((i) => i.target === t.target),
      changes: t.changes,
    })),
    diagnostics: sortDiagnostics([...plan.diagnostics, ...plan.targets.flatMap((t) => t.diagnostics)]),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** SARIF 2.1.0 log of the drift, for code-scanning dashboards. */
export function driftToSarif(plan: Plan, toolVersion: string, rules?: RuleSet): Json {
  const items = driftItems(plan, rules);
  const ruleIndex = new Map(DRIFT_RULES.map((r, i) => [r.id, i]));
  const results = items.map((i) => {
    const rule = DRIFT_RULES[ruleIndex.get(i.kind)!]!;
    const locations = i.origins.map((o) => ({
      physicalLocation: {
        artifactLocation: { uri: o.pos.file.split('\\').join('/') },
        region: { startLine: o.pos.line, startColumn: o.pos.column },
      },
      message: { text: o.label },
    }));
    return {
      ruleId: i.kind,
      ruleIndex: ruleIndex.get(i.kind)!,
      level: rule.level,
      message: { text: i.message },
      ...(locations.length > 0 ? { locations } : {}),
      logicalLocations: [{ fullyQualifiedName: i.key ? `${i.address}[${i.key}]` : i.address, kind: 'resource' }],
      partialFingerprints: { bulkheadAddress: i.key ? `${i.address}|${i.key}` : i.address },
    };
  });
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'bulkhead',
            version: toolVersion,
            rules: DRIFT_RULES.map((r) => ({
              id: r.id,
              name: r.id.replace(/(^|-)([a-z])/g, (_m, _d: string, c: string) => c.toUpperCase()),
              shortDescription: { text: r.description },
              defaultConfiguration: { level: r.level },
            })),
          },
        },
        results,
      },
    ],
  } as Json;
}
