import type { Command } from 'commander';
import { getProvider } from '../../providers/index.js';
import { formatDiagnostics } from './output.js';
import { hasErrors } from '../diagnostics.js';
import { EXIT, UsageError, ValidationError } from '../errors.js';
import { createStyle } from '../io.js';
import { allDiagnostics, createPlan } from '../plan/create-plan.js';
import { driftToSarif, formatDriftJson, formatDriftText } from '../plan/drift-report.js';
import { collect, loadRules, resolverFor, stateSourceFor } from './engine-context.js';
import { VERSION } from '../version.js';
import type { CommandContext, RegisterCommand } from './index.js';

interface DriftFlags {
  target?: string[];
  snapshots?: string;
  format: string;
  allowUnresolved?: boolean;
}

const FORMATS = ['text', 'json', 'sarif'] as const;

/** `bulkhead drift [FILE]`: compares the targets' state with the model; exit 2 when they differ. */
export const registerDrift: RegisterCommand = (program: Command, ctx: CommandContext) => {
  program
    .command('drift')
    .description('report where the targets differ from the model (exit 2 on drift, 0 when none)')
    .argument('[file]', 'model file (default: bulkhead.yaml or bulkhead.yml)')
    .option('--target <name>', 'check only this target (repeatable, or comma-separated)', collect)
    .option('--snapshots <dir>', 'read state from cloud CLI exports in DIR/<target>/ instead of the APIs')
    .option('--format <format>', `report format: ${FORMATS.join(', ')}`, 'text')
    .option('--allow-unresolved', 'accept FQDNs that resolve to no address (their rules then allow nothing and their entries are removed)')
    .action(async (file: string | undefined, flags: DriftFlags) => {
      const { io } = ctx;
      if (!(FORMATS as readonly string[]).includes(flags.format)) {
        throw new UsageError(`unknown --format "${flags.format}" (use ${FORMATS.join(', ')})`);
      }
      const rules = await loadRules(file, io);
      const plan = await createPlan(rules, {
        providers: getProvider,
        source: stateSourceFor(flags.snapshots, io),
        resolver: resolverFor(flags.snapshots, io),
        ...(flags.allowUnresolved ? { allowUnresolved: true } : {}),
        ...(flags.target ? { targets: flags.target } : {}),
      });
      const diagnostics = allDiagnostics(plan);
      if (hasErrors(diagnostics)) throw new ValidationError(diagnostics, 'cannot check drift');
      if (diagnostics.length > 0) io.stderr.write(formatDiagnostics(diagnostics, io));
      if (flags.format === 'json') io.stdout.write(formatDriftJson(plan, rules));
      else if (flags.format === 'sarif') io.stdout.write(`${JSON.stringify(driftToSarif(plan, VERSION, rules), null, 2)}\n`);
      else io.stdout.write(formatDriftText(plan, createStyle(io.stdoutIsTTY, io.env)));
      ctx.setExit(plan.targets.some((t) => t.changes.length > 0) ? EXIT.changes : EXIT.ok);
    });
};
