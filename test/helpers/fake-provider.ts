import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import ipaddr from 'ipaddr.js';
import type { CloudId, Endpoint, PortMatch, RuleSet, TargetSpec } from '../../src/compile/types.js';
import { error, type Diagnostic } from '../../src/diagnostics.js';
import { ProviderError } from '../../src/errors.js';
import type { Applier, ApplyStep, Provider, ReadContext, RenderContext, StateSource } from '../../src/provider.js';
import type { Child, Json, ProviderState, Resource } from '../../src/plan/types.js';
import type { LockRecord, TargetLock } from '../../src/lock.js';

/**
 * A fake cloud and its provider, for engine tests: security-group-like objects that hold rules,
 * kept in memory, with fault injection (throttling, failure of call k, a crash) and a hook called
 * after every mutating call so tests can check invariants at each intermediate state.
 *
 * Semantics (like AWS): default deny both ways; a flow between two segments needs the receiver's
 * ingress rule AND the sender's egress rule; a group referenced by another group's rule cannot be
 * deleted (DependencyViolation); a rule cannot reference a group that does not exist.
 */

/** One rule in the fake cloud. */
export interface FakeRule {
  readonly id: string;
  readonly key: string;
  readonly direction: 'ingress' | 'egress';
  readonly service: string;
  /** `sg:<group name>` or `cidr:<cidr>`. */
  readonly peer: string;
}

/** One group in the fake cloud. */
export interface FakeGroup {
  readonly id: string;
  readonly name: string;
  description: string;
  /** Ownership marker (`bulkhead:model`), absent on unowned groups. */
  readonly owner?: string;
  /**
   * Standalone rule objects (GCP-style firewall rules): the group whose traffic this object's one
   * rule governs. Absent on ordinary groups.
   */
  readonly appliesTo?: string;
  readonly rules: Map<string, FakeRule>;
}

/** Faults to inject, counted in mutating calls since they were set. */
export interface Faults {
  /** The next N calls fail with a retryable throttling error (then succeed). */
  throttle?: number;
  /** Call number k (1-based) fails with a non-retryable ProviderError. */
  failAt?: number;
  /** Call number k (1-based) throws a plain Error: the process "crashes" mid-apply. */
  crashAt?: number;
}

/** The in-memory cloud: targets → groups by name. */
export interface FakeCloud {
  readonly targets: Map<string, Map<string, FakeGroup>>;
  /** Every successful mutating call, in order (`create shop-web`, `add shop-web ingress …`). */
  readonly log: string[];
  /** Mutating calls attempted since `setFaults`. */
  calls: number;
  faults: Faults;
  /** Called after every successful mutating call. */
  onChange?: (cloud: FakeCloud) => void;
  nextId: number;
  /** The lock object of each target (create-only, like the clouds' lock objects), by target name. */
  readonly locks: Map<string, LockRecord>;
  /** Lock events in order (`lock aws-test`, `unlock aws-test`), apart from `log` (not a change of the target). */
  readonly lockLog: string[];
}

/** A new, empty fake cloud. */
export function createFakeCloud(): FakeCloud {
  return { targets: new Map(), log: [], calls: 0, faults: {}, nextId: 1, locks: new Map(), lockLog: [] };
}

/** The fake cloud's lock of one target: an object only one run can create, as the real providers' are. */
function fakeLock(cloud: FakeCloud, target: string, model: string): TargetLock {
  return {
    description: `fake lock of ${target}`,
    async tryCreate(request) {
      const held = cloud.locks.get(target);
      if (held) return { kind: 'held', record: held };
      const record: LockRecord = { ...request, model, objectId: `lock-${cloud.nextId++}` };
      cloud.locks.set(target, record);
      cloud.lockLog.push(`lock ${target}`);
      return { kind: 'acquired', record };
    },
    async read() {
      return cloud.locks.get(target);
    },
    async remove(record) {
      if (cloud.locks.get(target)?.objectId !== record.objectId) return 'gone';
      cloud.locks.delete(target);
      cloud.lockLog.push(`unlock ${target}`);
      return 'removed';
    },
  };
}

/** Sets the faults for the next calls (the call counter restarts). */
export function setFaults(cloud: FakeCloud, faults: Faults): void {
  cloud.faults = { ...faults };
  cloud.calls = 0;
}

function groupsOf(cloud: FakeCloud, target: string): Map<string, FakeGroup> {
  let g = cloud.targets.get(target);
  if (!g) {
    g = new Map();
    cloud.targets.set(target, g);
  }
  return g;
}

/** Adds a group directly (out of band: a pre-existing or unowned object). */
export function seedGroup(
  cloud: FakeCloud,
  target: string,
  group: { name: string; description?: string; owner?: string; rules?: Omit<FakeRule, 'id' | 'key'>[] },
): FakeGroup {
  const g: FakeGroup = {
    id: `sg-${cloud.nextId++}`,
    name: group.name,
    description: group.description ?? `group ${group.name}`,
    ...(group.owner !== undefined ? { owner: group.owner } : {}),
    rules: new Map(),
  };
  for (const r of group.rules ?? []) {
    const key = ruleKey(r.direction, r.service, r.peer);
    g.rules.set(key, { ...r, key, id: `sgr-${cloud.nextId++}` });
  }
  groupsOf(cloud, target).set(g.name, g);
  return g;
}

/** A deep, comparable copy of the cloud's content (ids included). */
export function dumpCloud(cloud: FakeCloud): Json {
  const out: { [t: string]: Json } = {};
  for (const [t, groups] of [...cloud.targets].sort(([a], [b]) => (a < b ? -1 : 1))) {
    out[t] = [...groups.values()]
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .map((g) => ({
        id: g.id,
        name: g.name,
        description: g.description,
        owner: g.owner ?? null,
        appliesTo: g.appliesTo ?? null,
        rules: [...g.rules.values()]
          .sort((a, b) => (a.key < b.key ? -1 : 1))
          .map((r) => ({ id: r.id, key: r.key, direction: r.direction, service: r.service, peer: r.peer })),
      }));
  }
  return out;
}

/** Sample external addresses `allowedFlows` probes (inside and outside the usual test CIDRs). */
export const PROBE_ADDRESSES = [
  '203.0.113.5',
  '198.51.100.7',
  '10.1.2.3',
  '2001:db8:100::1',
  '2001:db8:200::1',
] as const;

/** Sample ports `allowedFlows` probes. */
export const PROBE_PORTS = [22, 443, 450, 5432, 8080, 9000] as const;

function serviceMatches(service: string, port: number): boolean {
  if (service === 'all') return true;
  const m = /^tcp\/(\d+)-(\d+)$/.exec(service);
  return m !== null && Number(m[1]) <= port && port <= Number(m[2]);
}

function cidrMatches(peer: string, address: string): boolean {
  if (!peer.startsWith('cidr:')) return false;
  const ip = ipaddr.parse(address);
  const [net, bits] = ipaddr.parseCIDR(peer.slice(5));
  return ip.kind() === net.kind() && ip.match([net, bits] as [typeof ip, number]);
}

/**
 * The flows the cloud allows, probed semantically (not by rule identity) over sample addresses and
 * ports: `src -> dst tcp/<port>`. Between two groups a flow needs the receiver's ingress and the
 * sender's egress rule; from an external address, the receiver's ingress rule is enough.
 */
export function allowedFlows(cloud: FakeCloud, target: string): Set<string> {
  const all = [...groupsOf(cloud, target).values()];
  const groups = all.filter((g) => g.appliesTo === undefined);
  const flows = new Set<string>();
  // A group's rules: its own plus those of the standalone rule objects that apply to it.
  const rulesOf = (g: FakeGroup, direction: 'ingress' | 'egress') =>
    all
      .filter((o) => o === g || o.appliesTo === g.name)
      .flatMap((o) => [...o.rules.values()])
      .filter((r) => r.direction === direction);
  for (const dst of groups) {
    for (const port of PROBE_PORTS) {
      for (const address of PROBE_ADDRESSES) {
        if (rulesOf(dst, 'ingress').some((r) => serviceMatches(r.service, port) && cidrMatches(r.peer, address))) {
          flows.add(`${address} -> ${dst.name} tcp/${port}`);
        }
      }
      for (const src of groups) {
        const inOk = rulesOf(dst, 'ingress').some(
          (r) => r.peer === `sg:${src.name}` && serviceMatches(r.service, port),
        );
        const outOk = rulesOf(src, 'egress').some(
          (r) => r.peer === `sg:${dst.name}` && serviceMatches(r.service, port),
        );
        if (inOk && outOk) flows.add(`${src.name} -> ${dst.name} tcp/${port}`);
      }
    }
  }
  return flows;
}

function ruleKey(direction: string, service: string, peer: string): string {
  return `${direction} ${service} ${peer}`;
}

function serviceLabel(p: PortMatch): string {
  switch (p.kind) {
    case 'all':
      return 'all';
    case 'ports':
      return `${p.protocol}/${p.from}-${p.to}`;
    case 'icmp':
      return `${p.protocol}/${p.type ?? -1}/${p.code ?? -1}`;
    case 'protocol':
      return `proto/${p.number}`;
  }
}

function peersOf(peer: Endpoint, model: string, ctx: RenderContext): string[] {
  switch (peer.kind) {
    case 'segment':
      return [`sg:${model}-${peer.name}`];
    case 'cidrs':
      return [...peer.ipv4, ...peer.ipv6].map((c) => `cidr:${c}`);
    case 'fqdns':
      return peer.fqdns.flatMap((f) => {
        const r = ctx.resolved.get(f);
        return [...(r?.ipv4 ?? []), ...(r?.ipv6 ?? [])].map((c) => `cidr:${c}`);
      });
    case 'cloud':
      return [...(peer.aws?.ipv4 ?? []), ...(peer.aws?.ipv6 ?? [])].map((c) => `cidr:${c}`);
  }
}

const TYPE = 'fake_group';

function address(target: string, name: string): string {
  return `${target}.${TYPE}.${name}`;
}

function childOf(
  target: string,
  direction: 'ingress' | 'egress',
  service: string,
  peer: string,
  extra: Partial<Child> = {},
): Child {
  const isGroup = peer.startsWith('sg:');
  return {
    key: ruleKey(direction, service, peer),
    summary: `${direction} ${service} ${direction === 'ingress' ? 'from' : 'to'} ${peer.slice(isGroup ? 3 : 5)}`,
    attributes: { direction, service, peer },
    ...(isGroup ? { dependsOn: [address(target, peer.slice(3))] } : {}),
    ...extra,
  };
}

/** Options of the fake provider. */
export interface FakeProviderOptions {
  /** Which cloud id it registers as (default `aws`). */
  readonly id?: CloudId;
  /** Group description per segment (a forceNew attribute: changing it plans a replace). */
  readonly describe?: (model: string, segment: string) => string;
  /** Fake quota: more rules than this on one group is a validation error. */
  readonly maxRulesPerGroup?: number;
  /** Called with every step the applier receives. */
  readonly onStep?: (step: ApplyStep) => void;
  /**
   * GCP-style: every rule is an object of its own (`fake_rule`, named from its content) instead of
   * a child of its group, so a changed rule is a new object created and an old one deleted, and
   * make-before-break across objects matters.
   */
  readonly standaloneRules?: boolean;
  /**
   * Whether read says which group a live rule refers to (`Child.dependsOn`), as render does.
   * False plays a reader that misses it: the engine must still never delete a group while a rule
   * that names it is being removed.
   */
  readonly liveDependsOn?: boolean;
  /** Rule removals yield to the event loop before they land, so they are "in flight" while other steps start. */
  readonly slowRemovals?: boolean;
}

const RULE_TYPE = 'fake_rule';

/** The fake provider over `cloud`. */
export function createFakeProvider(cloud: FakeCloud, options: FakeProviderOptions = {}): Provider {
  const describe = options.describe ?? ((model: string, segment: string) => `bulkhead ${model} segment ${segment}`);
  // The ownership marker's value: learnt from the rules rendered or the read context.
  let owningModel = 'shop';

  const mutate = (what: string, fn: () => void): void => {
    cloud.calls++;
    const f = cloud.faults;
    if (f.throttle !== undefined && f.throttle > 0) {
      f.throttle--;
      throw new ProviderError(`Request limit exceeded (${what})`, 'RequestLimitExceeded', true);
    }
    if (f.crashAt === cloud.calls) throw new Error(`simulated crash at call ${cloud.calls} (${what})`);
    if (f.failAt === cloud.calls)
      throw new ProviderError(`injected failure at call ${cloud.calls} (${what})`, 'Injected');
    fn();
    cloud.log.push(what);
    cloud.onChange?.(cloud);
  };

  const toResource = (target: string, g: FakeGroup): Resource => {
    if (g.appliesTo !== undefined) {
      const r = [...g.rules.values()][0];
      return ruleResource(target, g.name, g.appliesTo, r?.direction ?? 'ingress', r?.service ?? '', r?.peer ?? '', {
        liveId: g.id,
      });
    }
    return groupResource(target, g);
  };
  const groupResource = (target: string, g: FakeGroup): Resource => ({
    address: address(target, g.name),
    target,
    type: TYPE,
    name: g.name,
    attributes: { description: g.description },
    children: [...g.rules.values()]
      .sort((a, b) => (a.key < b.key ? -1 : 1))
      .map((r) => {
        const child = childOf(target, r.direction, r.service, r.peer, { liveId: r.id });
        if (options.liveDependsOn !== false) return child;
        const { dependsOn: _omitted, ...rest } = child;
        return rest;
      }),
    liveId: g.id,
    forceNew: ['description'],
  });
  const ruleResource = (
    target: string,
    name: string,
    appliesTo: string,
    direction: 'ingress' | 'egress',
    service: string,
    peer: string,
    extra: Partial<Resource> = {},
  ): Resource => ({
    address: `${target}.${RULE_TYPE}.${name}`,
    target,
    type: RULE_TYPE,
    name,
    attributes: { appliesTo, direction, service, peer },
    children: [],
    dependsOn: [address(target, appliesTo), ...(peer.startsWith('sg:') ? [address(target, peer.slice(3))] : [])].sort(),
    forceNew: ['appliesTo', 'direction', 'peer', 'service'],
    ...extra,
  });

  const stateOf = (
    target: string,
    groups: readonly FakeGroup[],
    model: string | undefined,
    source: 'live' | 'snapshot',
  ): ProviderState => {
    const diagnostics: Diagnostic[] = [];
    const owned = groups.filter((g) => (model === undefined ? g.owner !== undefined : g.owner === model));
    const fingerprint = createHash('sha256')
      .update(
        JSON.stringify(
          groups
            .map((g) => [g.name, g.owner ?? null, g.appliesTo ?? null, g.description, [...g.rules.keys()].sort()])
            .sort(),
        ),
      )
      .digest('hex');
    return {
      target,
      source,
      resources: owned.map((g) => toResource(target, g)).sort((a, b) => (a.address < b.address ? -1 : 1)),
      fingerprint,
      diagnostics,
    };
  };

  return {
    id: options.id ?? 'aws',
    validate(rules: RuleSet, target: TargetSpec): Diagnostic[] {
      const max = options.maxRulesPerGroup;
      if (max === undefined) return [];
      const out: Diagnostic[] = [];
      for (const s of rules.segments) {
        const n = rules.rules.filter((r) => r.segment === s.name).length;
        if (n > max)
          out.push(
            error(
              'fake-rules-per-group',
              `${target.name}: segment ${s.name} needs ${n} rules, more than ${max}`,
              s.pos,
            ),
          );
      }
      return out;
    },
    render(rules: RuleSet, target: TargetSpec, ctx: RenderContext): Resource[] {
      const model = rules.model.name;
      owningModel = model;
      const ruleObjects: Resource[] = [];
      const grouped = rules.segments
        .map((s): Resource => {
          const children = new Map<string, Child>();
          for (const r of rules.rules.filter((x) => x.segment === s.name)) {
            for (const peer of peersOf(r.peer, model, ctx)) {
              const widens =
                r.direction === 'ingress' &&
                (peer === 'cidr:0.0.0.0/0' || peer === 'cidr:::/0' || peer.startsWith('sg:'));
              const c = childOf(target.name, r.direction, serviceLabel(r.service), peer, {
                origins: r.origins,
                ...(widens ? { widens: true } : {}),
              });
              children.set(c.key, c);
            }
          }
          const name = `${model}-${s.name}`;
          return {
            address: address(target.name, name),
            target: target.name,
            type: TYPE,
            name,
            attributes: { description: describe(model, s.name) },
            children: [...children.values()].sort((a, b) => (a.key < b.key ? -1 : 1)),
            origins: [{ pos: s.pos, label: `segment ${s.name}` }],
            forceNew: ['description'],
          };
        })
        .map((g): Resource => {
          if (!options.standaloneRules) return g;
          const appliesTo = g.name;
          for (const c of g.children) {
            const a = c.attributes as { direction: 'ingress' | 'egress'; service: string; peer: string };
            const name = `${appliesTo}-r-${createHash('sha256').update(c.key).digest('hex').slice(0, 8)}`;
            ruleObjects.push(
              ruleResource(target.name, name, appliesTo, a.direction, a.service, a.peer, {
                ...(c.origins ? { origins: c.origins } : {}),
              }),
            );
          }
          return { ...g, children: [] };
        });
      return [...grouped, ...ruleObjects].sort((a, b) => (a.address < b.address ? -1 : 1));
    },
    async read(target: TargetSpec, source: StateSource, context?: ReadContext): Promise<ProviderState> {
      if (context) owningModel = context.model;
      if (source.kind === 'snapshot') {
        const path = join(source.dir, target.name, 'groups.json');
        let parsed: { name: string; description: string; owner?: string; appliesTo?: string; rules: FakeRule[] }[];
        try {
          parsed = JSON.parse(await readFile(path, 'utf8')) as typeof parsed;
        } catch (err) {
          throw new ProviderError(`cannot read snapshot ${path}: ${(err as Error).message}`, 'snapshot-unreadable');
        }
        const groups = parsed.map(
          (g, i): FakeGroup => ({
            id: `snap-${i}`,
            name: g.name,
            description: g.description,
            ...(g.owner !== undefined ? { owner: g.owner } : {}),
            ...(g.appliesTo !== undefined ? { appliesTo: g.appliesTo } : {}),
            rules: new Map(g.rules.map((r) => [r.key, r])),
          }),
        );
        return stateOf(target.name, groups, context?.model, 'snapshot');
      }
      return stateOf(target.name, [...groupsOf(cloud, target.name).values()], context?.model, 'live');
    },
    createApplier(target: TargetSpec, _state: ProviderState): Applier {
      const groups = groupsOf(cloud, target.name);
      return {
        async run(step: ApplyStep): Promise<void> {
          options.onStep?.(step);
          await Promise.resolve();
          const change = step.change;
          switch (step.phase) {
            case 'create': {
              const after = change.after!;
              const existing = groups.get(after.name);
              if (existing) {
                if (existing.owner === undefined)
                  throw new ProviderError(`group ${after.name} exists and is not owned`, 'InvalidGroup.Duplicate');
                return; // idempotent: created by an earlier, interrupted run
              }
              const owner = owningModel;
              if (after.type === RULE_TYPE) {
                const a = after.attributes as {
                  appliesTo: string;
                  direction: 'ingress' | 'egress';
                  service: string;
                  peer: string;
                };
                if (!groups.has(a.appliesTo) || (a.peer.startsWith('sg:') && !groups.has(a.peer.slice(3)))) {
                  throw new ProviderError(`rule ${after.name}: referenced group not found`, 'InvalidGroup.NotFound');
                }
                mutate(`create ${after.name}`, () => {
                  const key = ruleKey(a.direction, a.service, a.peer);
                  groups.set(after.name, {
                    id: `fw-${cloud.nextId++}`,
                    name: after.name,
                    description: '',
                    owner,
                    appliesTo: a.appliesTo,
                    rules: new Map([
                      [
                        key,
                        { id: `fwr-${cloud.nextId++}`, key, direction: a.direction, service: a.service, peer: a.peer },
                      ],
                    ]),
                  });
                });
                return;
              }
              mutate(`create ${after.name}`, () => {
                groups.set(after.name, {
                  id: `sg-${cloud.nextId++}`,
                  name: after.name,
                  description: String(after.attributes['description']),
                  owner,
                  rules: new Map(),
                });
              });
              return;
            }
            case 'add': {
              const after = change.after!;
              const g = groups.get(after.name);
              if (!g) throw new ProviderError(`group ${after.name} not found`, 'InvalidGroup.NotFound');
              if (
                change.action === 'update' &&
                change.attributeChanges.length > 0 &&
                g.description !== after.attributes['description']
              ) {
                mutate(`update ${after.name}`, () => (g.description = String(after.attributes['description'])));
              }
              for (const c of step.children) {
                const child = c.after!;
                const a = child.attributes as { direction: 'ingress' | 'egress'; service: string; peer: string };
                if (g.rules.has(child.key) && c.action === 'create') continue; // idempotent
                if (a.peer.startsWith('sg:') && !groups.has(a.peer.slice(3))) {
                  throw new ProviderError(`rule ${child.key}: referenced group not found`, 'InvalidGroup.NotFound');
                }
                mutate(`add ${after.name} ${child.key}`, () => {
                  g.rules.set(child.key, { id: `sgr-${cloud.nextId++}`, key: child.key, ...a });
                });
              }
              return;
            }
            case 'remove': {
              const g = groups.get(change.before!.name);
              if (!g) return;
              if (options.slowRemovals) await new Promise((resolve) => setTimeout(resolve, 1));
              for (const c of step.children) {
                if (!g.rules.has(c.key)) continue;
                mutate(`remove ${g.name} ${c.key}`, () => g.rules.delete(c.key));
              }
              return;
            }
            case 'delete': {
              const name = change.before!.name;
              const g = groups.get(name);
              if (!g) return;
              const referrers = [...groups.values()].filter(
                (o) =>
                  o.name !== name &&
                  (o.appliesTo === name || [...o.rules.values()].some((r) => r.peer === `sg:${name}`)),
              );
              if (referrers.length > 0) {
                throw new ProviderError(
                  `group ${name} is referenced by ${referrers.map((r) => r.name).join(', ')}`,
                  'DependencyViolation',
                );
              }
              mutate(`delete ${name}`, () => groups.delete(name));
              return;
            }
          }
        },
      };
    },
    lock: { lockFor: (target: TargetSpec, model: string) => fakeLock(cloud, target.name, model) },
    async exportSnapshot(target: TargetSpec) {
      const groups = [...groupsOf(cloud, target.name).values()].sort((a, b) => (a.name < b.name ? -1 : 1));
      const content = JSON.stringify(
        groups.map((g) => ({
          name: g.name,
          description: g.description,
          ...(g.owner !== undefined ? { owner: g.owner } : {}),
          ...(g.appliesTo !== undefined ? { appliesTo: g.appliesTo } : {}),
          rules: [...g.rules.values()].sort((a, b) => (a.key < b.key ? -1 : 1)),
        })),
        null,
        2,
      );
      return [{ path: 'groups.json', content: `${content}\n` }];
    },
    toCliJson(resources: readonly Resource[]): Json {
      return {
        SecurityGroups: resources.map((r) => ({
          GroupName: r.name,
          Description: r.attributes['description'] ?? null,
          Rules: r.children.map((c) => c.attributes),
        })),
      };
    },
  };
}

/** A `providers` function for PlanOptions/ApplyOptions that serves one fake provider for every cloud id. */
export function fakeProviders(provider: Provider): (id: CloudId) => Provider | undefined {
  return () => provider;
}

/** A deep copy of a cloud's content (no faults, no hook, an empty log). */
export function cloneCloud(cloud: FakeCloud): FakeCloud {
  const copy = createFakeCloud();
  copy.nextId = cloud.nextId;
  for (const [t, groups] of cloud.targets) {
    const g2 = new Map<string, FakeGroup>();
    for (const [name, g] of groups) g2.set(name, { ...g, rules: new Map([...g.rules].map(([k, r]) => [k, { ...r }])) });
    copy.targets.set(t, g2);
  }
  return copy;
}
