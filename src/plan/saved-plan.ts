import type { CloudId, RuleSet, TargetSpec } from '../compile/types.js';
import { sha256 } from '../compile/canonical.js';
import { error, type Diagnostic } from '../diagnostics.js';
import { ValidationError } from '../errors.js';
import type { Provider, StateSource } from '../provider.js';
import type { ResolvedFqdns } from '../resolve.js';
import { providerIds } from '../targets.js';
import { VERSION } from '../version.js';
import { planResolutions } from './create-plan.js';
import { canonicalJson, diffResources } from './diff.js';
import type { Change, ChildChange, Json, Plan, Resource, TargetPlan } from './types.js';

/**
 * Saved plans (`plan --out FILE`, `apply FILE`). A saved plan is a trust boundary: it is a file
 * anyone with write access can edit. So `apply FILE` never executes it as written:
 *
 *   parse ─▶ shape check ─▶ checksum ─▶ re-compile the model it names (same digest?)
 *         ─▶ re-read each target (same fingerprint? same owned objects?)
 *         ─▶ re-render with the recorded FQDN answers and re-diff (same changes?) ─▶ apply the re-derived plan
 *
 * The checksum catches damage and casual edits; it is NOT a signature (anyone can recompute it).
 * The re-derivation is what makes an edited plan harmless: only changes the model on disk would
 * make against the live state right now are ever carried out.
 */

/** Marker of a saved plan file. */
export const SAVED_PLAN_KIND = 'bulkhead-plan';

/** The saved-plan file's format version (2: checksum and FQDN answers; 1 is refused). */
export const SAVED_PLAN_FORMAT_VERSION = 2;

/** One FQDN's recorded answer. */
export interface SavedResolution {
  readonly fqdn: string;
  readonly ipv4: readonly string[];
  readonly ipv6: readonly string[];
}

/** A saved plan file. */
export interface SavedPlan {
  readonly kind: typeof SAVED_PLAN_KIND;
  readonly formatVersion: typeof SAVED_PLAN_FORMAT_VERSION;
  /** Bulkhead version that wrote it (informational). */
  readonly bulkhead: string;
  /** `sha256:<hex>` of the canonical JSON of every other field. An integrity check, not a signature. */
  readonly checksum: string;
  readonly plan: Plan;
  readonly rules: RuleSet;
  /** The FQDN answers the plan was rendered with, sorted by name: `apply` re-renders with them. */
  readonly resolved: readonly SavedResolution[];
}

type Unsummed = Omit<SavedPlan, 'checksum'>;

/** The checksum a saved plan's other fields call for (`SavedPlan.checksum`). */
export function checksumOf(body: Unsummed): string {
  const { kind, formatVersion, bulkhead, plan, rules, resolved } = body;
  return `sha256:${sha256(canonicalJson({ kind, formatVersion, bulkhead, plan, rules, resolved } as unknown as Json))}`;
}

/**
 * The saved plan file's text. `resolved` defaults to the answers `createPlan` used for `plan`
 * (none for a plan it did not make, which is right for a model without FQDNs).
 */
export function serializeSavedPlan(
  plan: Plan,
  rules: RuleSet,
  resolved: ResolvedFqdns = planResolutions(plan) ?? new Map(),
): string {
  const answers: SavedResolution[] = [...resolved]
    .map(([fqdn, r]) => ({ fqdn, ipv4: [...r.ipv4], ipv6: [...r.ipv6] }))
    .sort((a, b) => (a.fqdn < b.fqdn ? -1 : a.fqdn > b.fqdn ? 1 : 0));
  // Round-trip first so the checksum covers exactly what the file holds (no undefined fields).
  const body = JSON.parse(
    JSON.stringify({
      kind: SAVED_PLAN_KIND,
      formatVersion: SAVED_PLAN_FORMAT_VERSION,
      bulkhead: VERSION,
      plan,
      rules,
      resolved: answers,
    }),
  ) as Unsummed;
  const saved: SavedPlan = {
    kind: body.kind,
    formatVersion: body.formatVersion,
    bulkhead: body.bulkhead,
    checksum: checksumOf(body),
    plan: body.plan,
    rules: body.rules,
    resolved: body.resolved,
  };
  return `${JSON.stringify(saved, null, 2)}\n`;
}

/** The recorded FQDN answers as a render context's map. */
export function savedResolutions(saved: SavedPlan): ResolvedFqdns {
  return new Map(saved.resolved.map((r) => [r.fqdn, { ipv4: r.ipv4, ipv6: r.ipv6 }]));
}

/**
 * True when `text` is (or was meant to be) a saved plan rather than a model: JSON with the marker,
 * or a JSON object that starts like one but does not parse (a truncated plan must be reported as a
 * corrupt plan, not parsed as a YAML model).
 */
export function isSavedPlanText(text: string): boolean {
  const head = text.trimStart();
  if (!head.startsWith('{')) return false;
  try {
    return (JSON.parse(text) as { kind?: unknown } | null)?.kind === SAVED_PLAN_KIND;
  } catch {
    // A model can be written as JSON (YAML's superset), but a broken one never names our marker.
    return /^\{\s*"kind"\s*:/.test(head) || head.slice(0, 512).includes(`"${SAVED_PLAN_KIND}"`);
  }
}

/** A JSON-path checker: the first problem found, as `path: what`. */
class Shape {
  problem: string | undefined;
  fail(path: string, what: string): false {
    this.problem ??= `${path}: ${what}`;
    return false;
  }
  obj(v: unknown, path: string): v is Record<string, unknown> {
    return (v !== null && typeof v === 'object' && !Array.isArray(v)) || this.fail(path, 'must be an object');
  }
  arr(v: unknown, path: string): v is unknown[] {
    return Array.isArray(v) || this.fail(path, 'must be an array');
  }
  str(v: unknown, path: string): boolean {
    return typeof v === 'string' || this.fail(path, 'must be a string');
  }
  oneOf(v: unknown, path: string, allowed: readonly string[]): boolean {
    return (typeof v === 'string' && allowed.includes(v)) || this.fail(path, `must be one of ${allowed.join(', ')}`);
  }
  strings(v: unknown, path: string): boolean {
    return this.arr(v, path) && v.every((x, i) => this.str(x, `${path}[${i}]`));
  }
  child(v: unknown, path: string): boolean {
    if (!this.obj(v, path)) return false;
    return (
      this.str(v['key'], `${path}.key`) &&
      this.str(v['summary'], `${path}.summary`) &&
      this.obj(v['attributes'], `${path}.attributes`) &&
      (v['liveId'] === undefined || this.str(v['liveId'], `${path}.liveId`)) &&
      (v['dependsOn'] === undefined || this.strings(v['dependsOn'], `${path}.dependsOn`))
    );
  }
  resource(v: unknown, path: string, target: string): boolean {
    if (!this.obj(v, path)) return false;
    const ok =
      ['address', 'target', 'type', 'name'].every((k) => this.str(v[k], `${path}.${k}`)) &&
      this.obj(v['attributes'], `${path}.attributes`) &&
      this.arr(v['children'], `${path}.children`) &&
      v['children'].every((c, i) => this.child(c, `${path}.children[${i}]`)) &&
      (v['liveId'] === undefined || this.str(v['liveId'], `${path}.liveId`)) &&
      (v['dependsOn'] === undefined || this.strings(v['dependsOn'], `${path}.dependsOn`)) &&
      (v['forceNew'] === undefined || this.strings(v['forceNew'], `${path}.forceNew`));
    return ok && (v['target'] === target || this.fail(`${path}.target`, `must be the target's name, ${target}`));
  }
  change(v: unknown, path: string, target: string): boolean {
    if (!this.obj(v, path)) return false;
    if (!['address', 'target', 'type', 'name'].every((k) => this.str(v[k], `${path}.${k}`))) return false;
    if (!this.oneOf(v['action'], `${path}.action`, ['create', 'update', 'delete', 'replace'])) return false;
    const needsBefore = v['action'] !== 'create';
    const needsAfter = v['action'] !== 'delete';
    for (const [side, needed] of [
      ['before', needsBefore],
      ['after', needsAfter],
    ] as const) {
      const r = v[side];
      if (
        needed
          ? !this.resource(r, `${path}.${side}`, target)
          : r !== null && this.fail(`${path}.${side}`, `must be null for a ${String(v['action'])}`)
      ) {
        return false;
      }
      if (needed && (r as Resource).address !== v['address'])
        return this.fail(`${path}.${side}.address`, `must be ${String(v['address'])}`);
    }
    if (!this.arr(v['attributeChanges'], `${path}.attributeChanges`)) return false;
    if (!this.arr(v['childChanges'], `${path}.childChanges`)) return false;
    const childOk = v['childChanges'].every((c, i) => {
      const p = `${path}.childChanges[${i}]`;
      if (
        !this.obj(c, p) ||
        !this.oneOf(c['action'], `${p}.action`, ['create', 'update', 'delete']) ||
        !this.str(c['key'], `${p}.key`)
      )
        return false;
      return (
        (c['action'] === 'create'
          ? c['before'] === null || this.fail(`${p}.before`, 'must be null')
          : this.child(c['before'], `${p}.before`)) &&
        (c['action'] === 'delete'
          ? c['after'] === null || this.fail(`${p}.after`, 'must be null')
          : this.child(c['after'], `${p}.after`))
      );
    });
    return (
      childOk && (typeof v['widensAccess'] === 'boolean' || this.fail(`${path}.widensAccess`, 'must be true or false'))
    );
  }
  targetPlan(v: unknown, path: string): boolean {
    if (!this.obj(v, path)) return false;
    if (!this.str(v['target'], `${path}.target`)) return false;
    const name = v['target'] as string;
    return (
      this.oneOf(v['provider'], `${path}.provider`, providerIds()) &&
      this.oneOf(v['source'], `${path}.source`, ['live', 'snapshot']) &&
      this.str(v['fingerprint'], `${path}.fingerprint`) &&
      this.arr(v['prior'], `${path}.prior`) &&
      v['prior'].every((r, i) => this.resource(r, `${path}.prior[${i}]`, name)) &&
      this.arr(v['changes'], `${path}.changes`) &&
      v['changes'].every((c, i) => this.change(c, `${path}.changes[${i}]`, name)) &&
      this.arr(v['diagnostics'], `${path}.diagnostics`)
    );
  }
  saved(v: unknown): boolean {
    if (!this.obj(v, '$')) return false;
    if (!this.str(v['bulkhead'], '$.bulkhead') || !this.str(v['checksum'], '$.checksum')) return false;
    const plan = v['plan'];
    const rules = v['rules'];
    if (!this.obj(plan, '$.plan') || !this.obj(rules, '$.rules')) return false;
    if (plan['formatVersion'] !== 1) return this.fail('$.plan.formatVersion', 'must be 1');
    if (
      !this.obj(plan['model'], '$.plan.model') ||
      !['name', 'digest', 'file'].every((k) =>
        this.str((plan['model'] as Record<string, unknown>)[k], `$.plan.model.${k}`),
      )
    )
      return false;
    if (
      !this.arr(plan['targets'], '$.plan.targets') ||
      !plan['targets'].every((t, i) => this.targetPlan(t, `$.plan.targets[${i}]`))
    )
      return false;
    if (!this.arr(plan['diagnostics'], '$.plan.diagnostics') || !this.obj(plan['summary'], '$.plan.summary'))
      return false;
    if (rules['formatVersion'] !== 1) return this.fail('$.rules.formatVersion', 'must be 1');
    if (!this.obj(rules['model'], '$.rules.model')) return false;
    for (const k of ['targets', 'segments', 'rules', 'denies']) if (!this.arr(rules[k], `$.rules.${k}`)) return false;
    if (!this.arr(v['resolved'], '$.resolved')) return false;
    return v['resolved'].every(
      (r, i) =>
        this.obj(r, `$.resolved[${i}]`) &&
        this.str(r['fqdn'], `$.resolved[${i}].fqdn`) &&
        this.strings(r['ipv4'], `$.resolved[${i}].ipv4`) &&
        this.strings(r['ipv6'], `$.resolved[${i}].ipv6`),
    );
  }
}

/**
 * Parses and checks a saved plan: JSON, marker, format version, shape (every field apply relies on,
 * with its JSON path), checksum. A broken or foreign file is a ValidationError naming the file.
 * This does not make the plan trustworthy: `verifySavedPlan` does that against the model and the
 * live state.
 */
export function parseSavedPlan(text: string, file: string): SavedPlan {
  const bad = (message: string): never => {
    throw new ValidationError(
      [error('plan-file-invalid', message, { file, line: 1, column: 1 })],
      `${file} is not a usable saved plan`,
    );
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return bad(`corrupt plan file (truncated or damaged; not JSON: ${(err as Error).message}); make a new plan`);
  }
  const s = parsed as Partial<SavedPlan> | null;
  if (s === null || typeof s !== 'object' || s.kind !== SAVED_PLAN_KIND)
    return bad(`not a saved plan (no "kind": "${SAVED_PLAN_KIND}")`);
  if (s.formatVersion !== SAVED_PLAN_FORMAT_VERSION) {
    return bad(
      `saved plan format ${String(s.formatVersion)} is not supported (this Bulkhead reads ${SAVED_PLAN_FORMAT_VERSION}); make a new plan`,
    );
  }
  const shape = new Shape();
  if (!shape.saved(s)) return bad(`corrupt plan file: ${shape.problem ?? 'malformed'}`);
  const saved = s as SavedPlan;
  if (checksumOf(saved) !== saved.checksum) {
    return bad(
      'corrupt plan file: its checksum does not match its content (the file was damaged or edited); make a new plan',
    );
  }
  if (saved.plan.model.digest !== saved.rules.model.digest)
    return bad('the plan and the rules it carries come from different models');
  return saved;
}

/** What changed in one target since a saved plan was made. */
export interface StaleTarget {
  readonly target: string;
  /** Owned objects that changed: `create` = appeared, `delete` = disappeared, `update` = modified since the plan. */
  readonly changes: readonly Change[];
  /** True when only objects outside the model changed (the fingerprint covers them too). */
  readonly outsideOnly: boolean;
}

/** How saved plans find providers and state. */
export interface SavedPlanOptions {
  readonly providers: (id: CloudId) => Provider | undefined;
  readonly source: (target: TargetSpec) => StateSource;
}

function unavailable(tp: TargetPlan, target: TargetSpec | undefined): never {
  throw new ValidationError(
    [
      error(
        'plan-file-invalid',
        `target ${tp.target}: ${target ? `provider ${tp.provider} is not available` : 'not in the model'}`,
      ),
    ],
    'the saved plan cannot be applied',
  );
}

/**
 * Re-reads every target of a plan and compares fingerprints. Returns the stale targets (empty when
 * the plan still applies). A target whose provider is gone is a ValidationError.
 */
export async function checkStaleness(
  saved: Pick<SavedPlan, 'plan' | 'rules'>,
  options: SavedPlanOptions,
): Promise<StaleTarget[]> {
  const stale: StaleTarget[] = [];
  await Promise.all(
    saved.plan.targets.map(async (tp) => {
      const target = saved.rules.targets.find((t) => t.name === tp.target);
      const provider = options.providers(tp.provider);
      if (!target || !provider) unavailable(tp, target);
      const now = await provider.read(target, options.source(target), {
        model: saved.rules.model.name,
        segments: saved.rules.segments,
      });
      if (now.fingerprint === tp.fingerprint) return;
      const changes = diffResources(now.resources, tp.prior);
      stale.push({ target: tp.target, changes, outsideOnly: changes.length === 0 });
    }),
  );
  return stale.sort((a, b) => (a.target < b.target ? -1 : 1));
}

/** The outcome of `verifySavedPlan`. */
export type Verification =
  /** The live state changed since the plan was made. */
  | { readonly kind: 'stale'; readonly stale: readonly StaleTarget[] }
  /** The plan says something the model and the live state do not: each difference, one diagnostic. */
  | { readonly kind: 'mismatch'; readonly diagnostics: readonly Diagnostic[] }
  /** The plan as re-derived from the model and the live state (equal to the saved one): apply this. */
  | { readonly kind: 'ok'; readonly plan: Plan };

/** Comparable text of plan data: canonical, without `origins`/`pos` (model lines, which move when a file is reformatted). */
function comparable(value: unknown): string {
  const strip = (v: unknown): Json =>
    Array.isArray(v)
      ? v.map(strip)
      : v !== null && typeof v === 'object'
        ? Object.fromEntries(
            Object.entries(v)
              .filter(([k, x]) => k !== 'origins' && k !== 'pos' && x !== undefined)
              .map(([k, x]) => [k, strip(x)]),
          )
        : (v as Json);
  return canonicalJson(strip(JSON.parse(JSON.stringify(value ?? null))));
}

const VERB = { create: 'creates', update: 'updates', delete: 'deletes', replace: 'replaces' } as const;
const CHILD_VERB = { create: 'adds', update: 'changes', delete: 'removes' } as const;

function childLabel(c: ChildChange): string {
  return `rule "${c.key}"`;
}

/** What differs between the plan's change of one address and the model's, in words. */
function describeDifference(address: string, saved: Change | undefined, fresh: Change | undefined): string[] {
  if (saved && !fresh)
    return [`${address}: the plan ${VERB[saved.action]} it; the model and the live state call for no change`];
  if (!saved && fresh) return [`${address}: the model ${VERB[fresh.action]} it; the plan does not`];
  const s = saved!,
    f = fresh!;
  if (s.action !== f.action) return [`${address}: the plan ${VERB[s.action]} it; the model ${VERB[f.action]} it`];
  const out: string[] = [];
  const keys = [...new Set([...s.childChanges, ...f.childChanges].map((c) => c.key))].sort();
  for (const key of keys) {
    const sc = s.childChanges.find((c) => c.key === key);
    const fc = f.childChanges.find((c) => c.key === key);
    if (sc && !fc) out.push(`${address}: the plan ${CHILD_VERB[sc.action]} ${childLabel(sc)}; the model does not`);
    else if (!sc && fc) out.push(`${address}: the model ${CHILD_VERB[fc.action]} ${childLabel(fc)}; the plan does not`);
    else if (comparable(sc) !== comparable(fc)) {
      out.push(
        `${address}: ${childLabel(sc!)} differs: the plan has ${comparable(sc!.after ?? sc!.before)}, the model ${comparable(fc!.after ?? fc!.before)}`,
      );
    }
  }
  if (out.length === 0) {
    for (const side of ['after', 'before'] as const) {
      if (comparable({ ...s[side], children: [] }) !== comparable({ ...f[side], children: [] })) {
        out.push(
          `${address}: the plan's ${side === 'after' ? 'desired object' : 'recorded live object'} differs: ${comparable(s[side]?.attributes)} vs ${comparable(f[side]?.attributes)}`,
        );
      }
    }
  }
  if (out.length === 0) out.push(`${address}: the plan's change differs from the model's`);
  return out;
}

/**
 * Checks a parsed saved plan against the model on disk (`rules`, compiled from the plan's root
 * file) and the live state, and returns the plan to apply: the one re-derived from them, which
 * equals the saved plan when nothing was edited. Refuses (`mismatch`) when the model compiles to
 * other rules, when the plan's recorded state is not what was read, when the plan touches an
 * object the model does not own, or when re-rendering and re-diffing gives other changes.
 */
export async function verifySavedPlan(
  saved: SavedPlan,
  rules: RuleSet,
  options: SavedPlanOptions,
): Promise<Verification> {
  const planFile = saved.plan.model.file;
  const mismatch = (message: string): Diagnostic => error('plan-mismatch', message);
  if (rules.model.digest !== saved.plan.model.digest || rules.model.name !== saved.plan.model.name) {
    return {
      kind: 'mismatch',
      diagnostics: [
        mismatch(
          `${planFile} now compiles to other rules than the plan was made from (digest ${rules.model.digest.slice(0, 12)}…, the plan's ${saved.plan.model.digest.slice(0, 12)}…): the model or its guardrails changed, or the plan was edited`,
        ),
      ],
    };
  }
  const differingParts = (['targets', 'segments', 'rules', 'denies'] as const).filter(
    (k) => comparable(saved.rules[k]) !== comparable(rules[k]),
  );
  if (differingParts.length > 0) {
    return {
      kind: 'mismatch',
      diagnostics: [
        mismatch(
          `the rules saved in the plan differ from what ${planFile} compiles to (${differingParts.join(', ')}): the plan was edited`,
        ),
      ],
    };
  }
  const ctx = { resolved: savedResolutions(saved) };
  const stale: StaleTarget[] = [];
  const diagnostics: Diagnostic[] = [];
  const targets: TargetPlan[] = [];
  for (const tp of saved.plan.targets) {
    const target = rules.targets.find((t) => t.name === tp.target);
    const provider = options.providers(tp.provider);
    if (!target || !provider) unavailable(tp, target);
    if (target.kind !== tp.provider) {
      diagnostics.push(mismatch(`target ${tp.target}: the plan says ${tp.provider}, the model says ${target.kind}`));
      continue;
    }
    const now = await provider.read(target, options.source(target), {
      model: rules.model.name,
      segments: rules.segments,
    });
    if (now.fingerprint !== tp.fingerprint) {
      const changes = diffResources(now.resources, tp.prior);
      stale.push({ target: tp.target, changes, outsideOnly: changes.length === 0 });
      continue;
    }
    const owned = new Map(now.resources.map((r) => [r.address, r]));
    // An object the plan touches must be owned by the model now: a hand-added delete of someone
    // else's object is refused by name, whatever the rest of the file says.
    for (const c of tp.changes) {
      if (c.action !== 'create' && !owned.has(c.address)) {
        diagnostics.push(
          mismatch(
            `${c.address}: the plan ${VERB[c.action]} an object that model ${rules.model.name} does not own (or that does not exist); refusing`,
          ),
        );
      }
    }
    if (comparable(tp.prior) !== comparable(now.resources)) {
      const differing = [...new Set([...tp.prior, ...now.resources].map((r) => r.address))]
        .filter((a) => comparable(tp.prior.find((r) => r.address === a)) !== comparable(owned.get(a)))
        .sort();
      diagnostics.push(
        mismatch(`target ${tp.target}: the plan's recorded state is not what was read now (${differing.join(', ')})`),
      );
    }
    const validation = provider.validate(rules, target, ctx);
    const errors = validation.filter((d) => d.severity === 'error');
    if (errors.length > 0) {
      diagnostics.push(...errors);
      continue;
    }
    const desired = provider.render(rules, target, { ...ctx, live: now });
    const fresh = diffResources(desired, now.resources);
    const addresses = [...new Set([...tp.changes, ...fresh].map((c) => c.address))].sort();
    for (const address of addresses) {
      const s = tp.changes.find((c) => c.address === address);
      const f = fresh.find((c) => c.address === address);
      if (comparable(s) !== comparable(f))
        for (const m of describeDifference(address, s, f)) diagnostics.push(mismatch(m));
    }
    targets.push({
      ...tp,
      source: now.source,
      fingerprint: now.fingerprint,
      prior: now.resources,
      changes: fresh,
      diagnostics: [...validation, ...now.diagnostics],
    });
  }
  if (stale.length > 0) return { kind: 'stale', stale: stale.sort((a, b) => (a.target < b.target ? -1 : 1)) };
  if (diagnostics.length > 0) return { kind: 'mismatch', diagnostics };
  return { kind: 'ok', plan: { ...saved.plan, targets } };
}
