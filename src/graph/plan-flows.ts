import { compareStrings } from '../compile/canonical.js';
import type { CloudId } from '../compile/types.js';
import type { Plan, Resource } from '../plan/types.js';
import type { FlowAtom, Provider } from '../provider.js';
import { getProvider } from '../../providers/index.js';
import { hasOwnerPrefix, ownerPrefix } from '../../providers/kit/ownership.js';

/**
 * The flows a plan adds and removes, read from its rule changes: for each created, deleted or
 * changed native rule, the (from, to, ports) it allows or denies, named as the cloud names them
 * (an owned object `<model>-<segment>` by its segment, everything else as written: CIDRs, service
 * tags, `sg-` ids, FQDNs). This reads the diff rather than two RuleSets because a plan compares the
 * model with the *live* state: what it removes is often not in any model (a rule added by hand),
 * so only the native rules can say what goes away. Each provider reads its own rules
 * (`Provider.ruleFlows`); a provider without it draws no diagram.
 *
 * Flows are compared as (from, to, port) as the rules write them: a rule for tcp/9000-9010
 * replaced by one for tcp/9005 is the removal of one and the addition of the other.
 */

/** One edge of flow changes: every port added (or removed) between one ordered pair. */
export interface FlowEdge {
  readonly from: string;
  readonly to: string;
  /** Canonical-ish port texts as the cloud's rule says them (`tcp/443`, `tcp/9000-9010`, `all`), sorted. */
  readonly ports: readonly string[];
  /** True for a deny rule (a guardrail rendered natively, or a default-deny). */
  readonly deny: boolean;
}

/** The flow changes of one target. */
export interface TargetFlowChanges {
  readonly target: string;
  readonly provider: CloudId;
  /** Sorted by (from, to, deny). */
  readonly added: readonly FlowEdge[];
  readonly removed: readonly FlowEdge[];
}

type Atom = FlowAtom;

/** Names an owned object by its segment (`shop-web` → `web`); anything else stays as written. */
function namer(model: string): (name: string) => string {
  const prefix = ownerPrefix(model);
  return (name) => (hasOwnerPrefix(model, name) && name.length > prefix.length ? name.slice(prefix.length) : name);
}

const atomKey = (a: Atom) => JSON.stringify([a.side, a.from, a.to, a.port, a.deny]);

function merge(atoms: Iterable<Atom>): FlowEdge[] {
  const edges = new Map<string, { from: string; to: string; deny: boolean; ports: Set<string> }>();
  for (const a of atoms) {
    const k = JSON.stringify([a.from, a.to, a.deny]);
    const e = edges.get(k) ?? { from: a.from, to: a.to, deny: a.deny, ports: new Set<string>() };
    edges.set(k, e);
    e.ports.add(a.port);
  }
  return [...edges.values()]
    .map((e) => ({ from: e.from, to: e.to, ports: [...e.ports].sort(comparePorts), deny: e.deny }))
    .sort((a, b) => compareStrings(a.from, b.from) || compareStrings(a.to, b.to) || Number(a.deny) - Number(b.deny));
}

/** `tcp/80` before `tcp/443` before `udp/53`: protocol, then first port as a number. */
function comparePorts(a: string, b: string): number {
  const [pa, ra] = a.split('/', 2),
    [pb, rb] = b.split('/', 2);
  return (
    compareStrings(pa ?? '', pb ?? '') ||
    (Number.parseInt(ra ?? '-1', 10) || -1) - (Number.parseInt(rb ?? '-1', 10) || -1) ||
    compareStrings(a, b)
  );
}

/** The atoms of every rule of some resources, keyed. */
function atomsOfAll(
  ruleFlows: NonNullable<Provider['ruleFlows']>,
  resources: Iterable<Resource>,
  name: (n: string) => string,
): Map<string, Atom> {
  const out = new Map<string, Atom>();
  for (const r of resources) for (const c of r.children) for (const a of ruleFlows(r, c, name)) out.set(atomKey(a), a);
  return out;
}

/**
 * The flow changes of every target of a plan (targets without any are left out): what the owned
 * rules allow (or deny) after the plan and did not before, and the reverse. Both sides are the
 * whole owned state, not just the changed rules, so a flow that another rule keeps open is not
 * "removed", and a rule re-created with a new priority or description changes no flow.
 */
export function planFlowChanges(plan: Plan): TargetFlowChanges[] {
  const name = namer(plan.model.name);
  const out: TargetFlowChanges[] = [];
  for (const t of plan.targets) {
    if (t.changes.length === 0) continue;
    const ruleFlows = getProvider(t.provider)?.ruleFlows;
    if (!ruleFlows) continue;
    const changed = new Set(t.changes.map((c) => c.address));
    const before = atomsOfAll(ruleFlows, t.prior, name);
    const after = atomsOfAll(
      ruleFlows,
      [...t.prior.filter((r) => !changed.has(r.address)), ...t.changes.flatMap((c) => (c.after ? [c.after] : []))],
      name,
    );
    const added = [...after].filter(([k]) => !before.has(k)).map(([, a]) => a);
    const removed = [...before].filter(([k]) => !after.has(k)).map(([, a]) => a);
    if (added.length === 0 && removed.length === 0) continue;
    out.push({ target: t.target, provider: t.provider, added: merge(added), removed: merge(removed) });
  }
  return out;
}
