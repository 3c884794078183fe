import type { Command } from 'commander';
import { getProvider } from '../../providers/index.js';
import { formatDiagnostics } from './output.js';
import { hasErrors } from '../diagnostics.js';
import { EXIT, UsageError, ValidationError } from '../errors.js';
import { createStyle } from '../io.js';
import { allDiagnostics, createPlan, selectTargets } from '../plan/create-plan.js';
import { driftToSarif, formatDriftJson, formatDriftText } from '../plan/drift-report.js';
import { collect, loadRules, resolverFor, stateSourceFor } from './engine-context.js';
import { VERSION } from '../version.js';
import { effectiveDrift, effectiveDriftJson, formatEffectiveDrift } from '../reach/effective-drift.js';
import { prepareTargets, readErrors } from '../reach/targets.js';
import { resolveFqdns } from '../resolve.js';
import { evaluateOptionsOf } from './explain.js';
import type { CommandContext, RegisterCommand } from './index.js';

interface DriftFlags {
  target?: string[];
  snapshots?: string;
  format: string;
  allowUnresolved?: boolean;
  effective?: boolean;
  policyEnforcementOrder?: string;
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
    .option(
      '--allow-unresolved',
      'accept FQDNs that resolve to no address (their rules then allow nothing and their entries are removed)',
    )
    .option(
      '--effective',
      'report every flow the targets allow between segments and entities beyond the model, with the native rule that opens it (exit 2 when there is any)',
    )
    .option(
      '--policy-enforcement-order <order>',
      'with --effective: where the network evaluates its firewall policy, AFTER_CLASSIC_FIREWALL (default) or BEFORE_CLASSIC_FIREWALL',
    )
    .action(async (file: string | undefined, flags: DriftFlags) => {
      const { io } = ctx;
      if (!(FORMATS as readonly string[]).includes(flags.format)) {
        throw new UsageError(`unknown --format "${flags.format}" (use ${FORMATS.join(', ')})`);
      }
      if (flags.effective) {
        await runEffectiveDrift(file, flags, ctx);
        return;
      }
      if (flags.policyEnforcementOrder !== undefined)
        throw new UsageError('--policy-enforcement-order needs --effective');
      const rules = await loadRules(file, io);
      const plan = await createPlan(rules, {
        providers: getProvider,
        source: stateSourceFor(flags.snapshots, io),
        resolver: resolverFor(flags.snapshots, io),
        ...(flags.allowUnresolved ? { allowUnresolved: true } : {}),
        ...(flags.target ? { targets: flags.target } : {}),
        // A drift report carries no state fingerprint.
        fingerprints: false,
      });
      const diagnostics = allDiagnostics(plan);
      if (hasErrors(diagnostics)) throw new ValidationError(diagnostics, 'cannot check drift');
      if (diagnostics.length > 0) io.stderr.write(formatDiagnostics(diagnostics, io));
      if (flags.format === 'json') io.stdout.write(formatDriftJson(plan, rules));
      else if (flags.format === 'sarif')
        io.stdout.write(`${JSON.stringify(driftToSarif(plan, VERSION, rules), null, 2)}\n`);
      else io.stdout.write(formatDriftText(plan, createStyle(io.stdoutIsTTY, io.env)));
      ctx.setExit(plan.targets.some((t) => t.changes.length > 0) ? EXIT.changes : EXIT.ok);
    });
};

/**
 * `drift --effective`: what the live state (owned and unowned rules, cloud defaults) allows
 * between the model's segments and entities beyond the model itself; exit 2 when anything.
 */
async function runEffectiveDrift(file: string | undefined, flags: DriftFlags, ctx: CommandContext): Promise<void> {
  const { io } = ctx;
  if (flags.format === 'sarif') throw new UsageError('--effective reports text or json (--format text|json)');
  const options = evaluateOptionsOf(flags.policyEnforcementOrder);
  const rules = await loadRules(file, io);
  // Unknown --target names fail before anything is resolved or read.
  selectTargets(rules, flags.target);
  const { resolved } = await resolveFqdns(rules, resolverFor(flags.snapshots, io), { allowUnresolved: true });
  const { targets, diagnostics } = await prepareTargets(rules, {
    providers: getProvider,
    source: stateSourceFor(flags.snapshots, io),
    resolved,
    options,
    ...(flags.target ? { targets: flags.target } : {}),
  });
  const failed = readErrors(diagnostics);
  if (failed.length > 0) throw new ValidationError(failed, 'cannot check effective drift');
  if (diagnostics.length > 0) io.stderr.write(formatDiagnostics(diagnostics, io));
  const reports = effectiveDrift(rules, targets, resolved, options);
  io.stdout.write(
    flags.format === 'json'
      ? `${JSON.stringify(effectiveDriftJson(reports), null, 2)}\n`
      : formatEffectiveDrift(reports),
  );
  ctx.setExit(reports.some((r) => r.findings.length > 0) ? EXIT.changes : EXIT.ok);
}
