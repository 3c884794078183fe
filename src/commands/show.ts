import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { EXIT, UsageError } from '../errors.js';
import { createStyle } from '../io.js';
import { formatPlanJson } from '../plan/format-json.js';
import { formatPlanText } from '../plan/format-text.js';
import { isSavedPlanText, parseSavedPlan } from '../plan/saved-plan.js';
import type { CommandContext, RegisterCommand } from './index.js';

interface ShowFlags {
  json?: boolean;
  color: boolean;
}

/**
 * `bulkhead show PLAN [--json]`: prints a saved plan without applying it or reading any cloud.
 * The file's shape and checksum are checked (a damaged file is refused); whether it still matches
 * the model and the live state is `apply`'s job, and the header says so.
 */
export const registerShow: RegisterCommand = (program: Command, ctx: CommandContext) => {
  program
    .command('show')
    .description('print a saved plan (from `plan --out`) without applying it')
    .argument('<plan>', 'saved plan file')
    .option('--json', 'print the plan as versioned JSON (the `plan --json` document)')
    .option('--no-color', 'no ANSI colors')
    .action(async (file: string, flags: ShowFlags) => {
      const { io } = ctx;
      const text = await readFile(resolve(io.cwd, file), 'utf8').catch(() => undefined);
      if (text === undefined) throw new UsageError(`file not found: ${file}`);
      if (!isSavedPlanText(text))
        throw new UsageError(`${file} is not a saved plan (for a model, run \`bulkhead plan ${file}\`)`);
      const saved = parseSavedPlan(text, file);
      const { plan } = saved;
      if (flags.json) {
        io.stdout.write(formatPlanJson(plan));
      } else {
        const snapshot = plan.targets.some((t) => t.source === 'snapshot');
        io.stderr.write(
          `Saved plan of model ${plan.model.name} (${plan.model.file}), written by Bulkhead ${saved.bulkhead}. ` +
            (snapshot
              ? 'It was made against snapshots: snapshot plans cannot be applied.\n'
              : `\`bulkhead apply ${file}\` re-checks it against the model and the live state before changing anything.\n`),
        );
        io.stdout.write(formatPlanText(plan, createStyle(io.stdoutIsTTY && flags.color, io.env)));
      }
      ctx.setExit(EXIT.ok);
    });
};
