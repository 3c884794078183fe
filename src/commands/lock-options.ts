import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { DEFAULT_LOCK_TTL_MS, type LockOptions, parseDuration } from '../lock.js';

// The command-line side of the target locks (src/lock.ts): the `--lock-timeout`/`--lock-ttl`
// options of apply and destroy, here in the CLI folder so nothing below it knows commander.

/** Flags `addLockOptions` adds to a command. */
export interface LockFlags {
  lockTimeout?: string;
  lockTtl?: string;
}

/** Adds `--lock-timeout` and `--lock-ttl` to a command (apply, destroy). */
export function addLockOptions(command: Command): Command {
  return command
    .option(
      '--lock-timeout <duration>',
      'wait up to this long for a target locked by another run (30s, 5m; default: refuse at once)',
    )
    .option(
      '--lock-ttl <duration>',
      'how long the locks taken stay valid before another run may take them over (default 1h)',
    );
}

/** The lock options of parsed flags, messages to `stderr`. */
export function lockOptionsFrom(flags: LockFlags, stderr: { write(text: string): unknown }): LockOptions {
  const ttl = flags.lockTtl !== undefined ? parseDuration('--lock-ttl', flags.lockTtl) : DEFAULT_LOCK_TTL_MS;
  if (ttl <= 0) throw new UsageError('--lock-ttl must be longer than 0');
  return {
    lockTimeoutMs: flags.lockTimeout !== undefined ? parseDuration('--lock-timeout', flags.lockTimeout) : 0,
    lockTtlMs: ttl,
    onMessage: (m) => stderr.write(`${m}\n`),
  };
}
