import type { Command } from 'commander';
import { getProvider } from '../../providers/index.js';
import { EXIT, ProviderError, UsageError } from '../errors.js';
import { describeHolder, locksForTargets } from '../lock.js';
import { loadRules, stateSourceFor } from './engine-context.js';
import type { CommandContext, RegisterCommand } from './index.js';

interface ForceUnlockFlags {
  yes?: boolean;
}

/**
 * `bulkhead force-unlock TARGET [MODEL]`: removes the lock object a killed run left on a target.
 * Only the lock object, and only when it carries the model's ownership marker (the cloud's lock
 * read refuses anything else); asks for confirmation unless `--yes`.
 */
export const registerForceUnlock: RegisterCommand = (program: Command, ctx: CommandContext) => {
  program
    .command('force-unlock')
    .description("remove a target's lock left by a killed apply or destroy (only the model's own lock object)")
    .argument('<target>', 'the target whose lock to remove')
    .argument('[file]', 'model file (default: bulkhead.yaml)')
    .option('--yes', 'skip the confirmation prompt (required when stdin is not a terminal)')
    .action(async (targetName: string, file: string | undefined, flags: ForceUnlockFlags) => {
      const { io } = ctx;
      const rules = await loadRules(file, io);
      const target = rules.targets.find((t) => t.name === targetName);
      if (!target) {
        throw new UsageError(
          `unknown target "${targetName}" (the model's targets: ${rules.targets.map((t) => t.name).join(', ')})`,
        );
      }
      const [named] = locksForTargets([target], rules.model.name, getProvider, stateSourceFor(undefined, io));
      if (!named) throw new ProviderError(`target ${targetName}: no lock to remove`);
      const record = await named.lock.read();
      if (!record)
        throw new UsageError(`target ${targetName} is not locked (no ${named.lock.description}); nothing was changed`);
      const expired = Date.parse(record.expires) <= Date.now();
      io.stderr.write(
        `Target ${targetName} is locked by ${describeHolder(record)} since ${record.since} ` +
          `(${expired ? 'expired' : 'expires'} ${record.expires}): ${named.lock.description}.\n`,
      );
      if (!flags.yes) {
        if (!io.stdinIsTTY)
          throw new UsageError('refusing to remove a lock without confirmation: stdin is not a terminal (pass --yes)');
        const answer = await io.prompt(
          "Make sure that run is no longer running: removing its lock lets another run write at the same time.\n  Only 'yes' will be accepted.\n\n  Enter a value: ",
        );
        if (answer === null || answer.trim() !== 'yes')
          throw new UsageError('force-unlock cancelled; the lock is still there');
      }
      const outcome = await named.lock.remove(record);
      io.stdout.write(
        outcome === 'removed'
          ? `Lock of target ${targetName} removed.\n`
          : `The lock of target ${targetName} was already gone.\n`,
      );
      ctx.setExit(EXIT.ok);
    });
};
