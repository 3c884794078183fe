import { randomBytes } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import type { RuleSet, TargetSpec } from './compile/types.js';
import { ProviderError, UsageError } from './errors.js';
import type { Plan } from './plan/types.js';
import type { LiveOptions, Provider, StateSource } from './provider.js';
import type { CloudId } from './compile/types.js';

/**
 * A lock per target across processes (the "no lock across processes" issue). Bulkhead keeps no state
 * file, so the lock is an object in the cloud that only one run can create: AWS a rule-less security
 * group, GCP a disabled firewall rule, Azure an ASG created with `If-None-Match: *` (each cloud's
 * `lock.ts`). The object carries who holds it, since when and until when; this module is the
 * provider-neutral protocol around it: sorted acquisition, waiting with backoff, expiry takeover,
 * release in `finally` and on Ctrl-C.
 *
 *   sort targets by name ─▶ for each: create ──ok──▶ held
 *                                       │ exists
 *                                       ├─ expired ─▶ remove that object, create again
 *                                       └─ live ────▶ wait (backoff) until --lock-timeout, else refuse
 */

/** What a lock object says about its holder. Times are ISO 8601 UTC. */
export interface LockRecord {
  /** The model whose run holds the lock (the ownership marker's value). */
  readonly model: string;
  /** `user@host` of the holding run. */
  readonly holder: string;
  readonly pid: number;
  /** Random id of the holding run: tells two runs of one user on one host apart. */
  readonly runId: string;
  readonly since: string;
  /** `since` + the lock TTL: after this, another run may take the lock over. */
  readonly expires: string;
  /** The cloud's id of the lock object (AWS group id, GCP rule id, Azure etag), set by read/create. */
  readonly objectId?: string;
}

/** What a run asks a lock object to record (the lock adds the model and the object id). */
export type LockRequest = Omit<LockRecord, 'model' | 'objectId'>;

/** What one attempt to create a lock object found. */
export type LockAttempt =
  | { readonly kind: 'acquired'; readonly record: LockRecord }
  /** The object exists; `record` is undefined when it vanished before it could be read (retry). */
  | { readonly kind: 'held'; readonly record: LockRecord | undefined };

/** The lock object of one target, as a cloud implements it. Every method is one round of API calls; none waits. */
export interface TargetLock {
  /** Human name of the object, for messages (`security group shop-bulkhead-lock in vpc-…`). */
  readonly description: string;
  /** Creates the lock object atomically (create-only) for the lock's model, or says who holds it. */
  tryCreate(request: LockRequest): Promise<LockAttempt>;
  /**
   * The current lock, or undefined when there is none. Throws a ProviderError when an object with
   * the lock's name exists without the model's ownership marker (Bulkhead never touches it).
   */
  read(): Promise<LockRecord | undefined>;
  /**
   * Removes exactly the object `record` describes (by `objectId` where the cloud allows it), so a
   * run that takes over an expired lock cannot remove the lock another run has just made.
   */
  remove(record: LockRecord): Promise<'removed' | 'gone'>;
}

/** A provider's lock factory (`Provider.lock`). */
export interface TargetLocker {
  /** The lock of `target` for `model`; `live` carries the endpoint, as for read. */
  lockFor(target: TargetSpec, model: string, live: LiveOptions): TargetLock;
}

/** A target's lock, by target name (what `withTargetLocks` takes). */
export interface NamedLock {
  readonly target: string;
  readonly lock: TargetLock;
}

/**
 * Tag keys of a lock object that carries its holder in tags (AWS, Azure): `lock` marks the object
 * (value `true`; read and plan ignore objects carrying it), the others hold the LockRequest fields.
 */
export const LOCK_TAGS = {
  lock: 'bulkhead:lock',
  holder: 'bulkhead:lock-holder',
  pid: 'bulkhead:lock-pid',
  run: 'bulkhead:lock-run',
  since: 'bulkhead:lock-since',
  expires: 'bulkhead:lock-expires',
} as const;

/** Name of a model's lock object on every cloud (a valid SG, ASG and GCP rule name). */
export function lockObjectName(model: string): string {
  return `${model}-bulkhead-lock`;
}

/** Default time a lock may be held before another run may take it over: 1 hour. */
export const DEFAULT_LOCK_TTL_MS = 60 * 60 * 1000;
/** First pause between two attempts while waiting; doubles up to LOCK_POLL_MAX_MS. */
export const LOCK_POLL_START_MS = 500;
/** Longest pause between two attempts (keeps a waiting run well below the APIs' rate limits). */
export const LOCK_POLL_MAX_MS = 10_000;

/** Options of `withTargetLocks`. */
export interface LockOptions {
  /** How long to wait for a held lock before refusing; 0 (default) refuses at once. */
  readonly lockTimeoutMs?: number;
  /** Lifetime of the locks taken: expiry = start + TTL (default DEFAULT_LOCK_TTL_MS). */
  readonly lockTtlMs?: number;
  /** Messages for stderr: waiting, takeover of an expired lock, a release that failed. */
  readonly onMessage?: (message: string) => void;
  /** Who takes the locks (default: this process, see `currentHolder`). */
  readonly holder?: { readonly holder: string; readonly pid: number; readonly runId: string };
  /** Clock and sleep, injectable for tests. */
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** First and longest pause between attempts (defaults LOCK_POLL_START_MS, LOCK_POLL_MAX_MS). */
  readonly pollStartMs?: number;
  readonly pollMaxMs?: number;
  /** Release the locks on SIGINT/SIGTERM, then let the signal end the process (default true). */
  readonly handleSignals?: boolean;
}

/** This process as a lock holder: `user@host`, its pid and a fresh random run id. */
export function currentHolder(): { holder: string; pid: number; runId: string } {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (some containers): the pid and run id still tell runs apart.
  }
  return { holder: `${user}@${hostname()}`, pid: process.pid, runId: randomBytes(6).toString('hex') };
}

/** `alice@ci-7 (pid 4242, run 1a2b3c4d5e6f)`. */
export function describeHolder(record: LockRecord): string {
  return `${record.holder} (pid ${record.pid}, run ${record.runId})`;
}

/** The refusal a run sees when a target stays locked. */
export function lockedMessage(target: string, record: LockRecord): string {
  return (
    `target ${target} is locked by ${describeHolder(record)} since ${record.since} (expires ${record.expires}); ` +
    `wait with --lock-timeout 5m, or if that run was killed: bulkhead force-unlock ${target}`
  );
}

/** Parses a duration: `90` or `90s` (seconds), `500ms`, `5m`, `1h`. Throws a UsageError naming the option. */
export function parseDuration(option: string, value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!m) throw new UsageError(`${option}: expected a duration such as 30s, 5m or 1h, got "${value}"`);
  const unit = m[2] ?? 's';
  const factor = unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000;
  return Math.round(Number(m[1]) * factor);
}

/** Runs that hold locks in this process right now, so a signal handler can release them all. */
const active = new Set<() => Promise<void>>();

/**
 * Releases every lock this process holds (for a SIGINT handler). Never throws: a failed release
 * is reported through the `onMessage` of the run that took it.
 */
export async function releaseAll(): Promise<void> {
  const releases = [...active];
  active.clear();
  await Promise.all(releases.map((r) => r()));
}

/**
 * Takes the locks of `locks` (in target-name order, so two runs over overlapping targets cannot
 * deadlock), runs `fn`, and releases them afterwards, also when `fn` throws. A held lock is waited
 * for up to `lockTimeoutMs` (polling with doubling pauses), then refused with a ProviderError
 * (`code` 'Locked') naming its holder; an expired lock is taken over, with a message.
 */
export async function withTargetLocks<T>(
  locks: readonly NamedLock[],
  options: LockOptions,
  fn: () => Promise<T>,
): Promise<T> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const say = options.onMessage ?? (() => undefined);
  const me = options.holder ?? currentHolder();
  const ttl = options.lockTtlMs ?? DEFAULT_LOCK_TTL_MS;
  const timeout = options.lockTimeoutMs ?? 0;
  const byTarget = new Map<string, NamedLock>();
  for (const l of locks) byTarget.set(l.target, l);
  const ordered = [...byTarget.values()].sort((a, b) => (a.target < b.target ? -1 : a.target > b.target ? 1 : 0));

  const held: { target: string; lock: TargetLock; record: LockRecord }[] = [];
  let released = false;
  const release = async (): Promise<void> => {
    if (released) return;
    released = true;
    // Reverse order of acquisition; every lock is tried even when one fails.
    for (const h of [...held].reverse()) {
      try {
        await h.lock.remove(h.record);
      } catch (err) {
        say(
          `Warning: could not release the lock of target ${h.target} (${h.lock.description}): ${errorText(err)}; ` +
            `remove it with: bulkhead force-unlock ${h.target}`,
        );
      }
    }
  };
  active.add(release);
  const uninstall = options.handleSignals === false ? () => undefined : installSignalRelease();
  try {
    for (const { target, lock } of ordered) {
      const deadline = now() + timeout;
      let pause = options.pollStartMs ?? LOCK_POLL_START_MS;
      const maxPause = options.pollMaxMs ?? LOCK_POLL_MAX_MS;
      let announced = false;
      let vanished = 0;
      for (;;) {
        const since = now();
        const mine: LockRequest = { ...me, since: iso(since), expires: iso(since + ttl) };
        const attempt = await lock.tryCreate(mine);
        if (attempt.kind === 'acquired') {
          held.push({ target, lock, record: attempt.record });
          break;
        }
        const other = attempt.record;
        // The object went away between the create and the read (its holder just released it): try again.
        if (!other && ++vanished <= 3) continue;
        if (other && Date.parse(other.expires) <= now()) {
          say(
            `Target ${target}: the lock of ${describeHolder(other)} since ${other.since} expired at ${other.expires}; taking it over.`,
          );
          await lock.remove(other);
          continue;
        }
        const left = deadline - now();
        if (left <= 0) {
          if (other) throw new ProviderError(lockedMessage(target, other), 'Locked');
          throw new ProviderError(
            `target ${target} is locked (${lock.description}); wait with --lock-timeout 5m, or: bulkhead force-unlock ${target}`,
            'Locked',
          );
        }
        if (!announced && other) {
          say(
            `Target ${target} is locked by ${describeHolder(other)} since ${other.since}; waiting up to ${formatMs(timeout)}…`,
          );
          announced = true;
        }
        await sleep(Math.min(pause, left));
        pause = Math.min(pause * 2, maxPause);
      }
    }
    return await fn();
  } finally {
    uninstall();
    active.delete(release);
    await release();
  }
}

/**
 * While locks are held, SIGINT/SIGTERM first release them, then end the process as the signal would
 * have (the handler removes itself and re-raises), so Ctrl-C never leaves a lock behind.
 */
function installSignalRelease(): () => void {
  const signals = ['SIGINT', 'SIGTERM'] as const;
  const handler = (signal: NodeJS.Signals): void => {
    for (const s of signals) process.removeListener(s, handler);
    process.stderr.write(`\n${signal}: releasing the target locks…\n`);
    void releaseAll().finally(() => process.kill(process.pid, signal));
  };
  for (const s of signals) process.once(s, handler);
  return () => {
    for (const s of signals) process.removeListener(s, handler);
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function formatMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${Math.round(ms / 1000)}s`;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The locks a plan needs: one per live target with changes, from its provider's `lock`. Snapshot
 * targets never lock (nothing is written). Throws a ProviderError for a provider without locks.
 */
export function locksForPlan(
  plan: Plan,
  rules: RuleSet,
  providers: (id: CloudId) => Provider | undefined,
  source: (target: TargetSpec) => StateSource,
): NamedLock[] {
  const touched = new Set(plan.targets.filter((t) => t.source === 'live' && t.changes.length > 0).map((t) => t.target));
  return locksForTargets(
    rules.targets.filter((t) => touched.has(t.name)),
    rules.model.name,
    providers,
    source,
  );
}

/** The locks of `targets` for `model` (destroy, force-unlock). Snapshot sources are skipped. */
export function locksForTargets(
  targets: readonly TargetSpec[],
  model: string,
  providers: (id: CloudId) => Provider | undefined,
  source: (target: TargetSpec) => StateSource,
): NamedLock[] {
  const out: NamedLock[] = [];
  for (const target of targets) {
    const from = source(target);
    if (from.kind === 'snapshot') continue;
    const locker = providers(target.kind)?.lock;
    if (!locker) throw new ProviderError(`target ${target.name}: the ${target.kind} provider cannot lock a target`);
    out.push({
      target: target.name,
      lock: locker.lockFor(target, model, from.endpoint !== undefined ? { endpoint: from.endpoint } : {}),
    });
  }
  return out;
}
