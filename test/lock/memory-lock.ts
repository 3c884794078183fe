import type { LockAttempt, LockRecord, LockRequest, TargetLock } from '../../src/lock.js';

/**
 * An in-memory lock store with the clouds' semantics: create-only objects by name, each with a
 * fresh object id, removal by object id. Several `TargetLock`s over one store behave like two
 * processes over one cloud. `failRemove` makes removals fail (release warnings).
 */
export class MemoryLockStore {
  readonly objects = new Map<string, LockRecord>();
  readonly log: string[] = [];
  failRemove = false;
  private next = 1;

  lock(target: string, model = 'shop'): TargetLock {
    return {
      description: `memory lock ${target}`,
      tryCreate: async (request: LockRequest): Promise<LockAttempt> => {
        const existing = this.objects.get(target);
        if (existing) return { kind: 'held', record: existing };
        const record: LockRecord = { ...request, model, objectId: `obj-${this.next++}` };
        this.objects.set(target, record);
        this.log.push(`acquire ${target} ${request.runId}`);
        return { kind: 'acquired', record };
      },
      read: async () => this.objects.get(target),
      remove: async (record: LockRecord) => {
        if (this.failRemove) throw new Error('remove refused');
        const existing = this.objects.get(target);
        if (!existing || existing.objectId !== record.objectId) return 'gone';
        this.objects.delete(target);
        this.log.push(`release ${target} ${record.runId}`);
        return 'removed';
      },
    };
  }
}
