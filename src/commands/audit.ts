import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { auditConnections, auditToSarif, formatAuditJson, formatAuditText } from '../flows/audit.js';
import { parseGroupBy } from '../flows/naming.js';
import { targetInternalRanges } from '../targets.js';
import { EXIT } from '../errors.js';
import { loadRules } from './engine-context.js';
import { VERSION } from '../version.js';
import { FLOWS_HELP, INVENTORY_HELP, inventoryFor, readFlowsFor, type FlowInputFlags } from './discover.js';
import type { CommandContext, RegisterCommand } from './index.js';

interface AuditFlags extends FlowInputFlags {
  format: string;
  groupBy?: string;
}

const FORMATS = ['text', 'json', 'sarif'] as const;

/**
 * `bulkhead audit [MODEL] --flows FILE… (--inventory FILE | --target NAME) [--format …]`: replays
 * the observed accepted connections against the model (src/flows/audit.ts). Exit 0 when nothing
 * observed would be denied, 2 when something would, 1 on error.
 */
export const registerAudit: RegisterCommand = (program: Command, ctx: CommandContext) => {
  program
    .command('audit')
    .description(
      'replay observed flows against a model: what it would deny, which rules nothing used (exit 2 when something would be denied)',
    )
    .argument('[file]', 'model file (default: bulkhead.yaml or bulkhead.yml)')
    .requiredOption('--flows <files...>', FLOWS_HELP)
    .option('--inventory <file>', INVENTORY_HELP)
    .option('--target <name>', 'read the inventory live through this target of the model (read-only)')
    .option(
      '--group-by <key>',
      'place workloads in segments by tag:KEY or networkTag (default: their groups named <model>-<segment>)',
    )
    .option('--since <time>', 'only flows from this time on (2026-11-01, RFC 3339, epoch seconds or 30d)')
    .option('--until <time>', 'only flows before this time')
    .option('--format <format>', `report format: ${FORMATS.join(', ')}`, 'text')
    .action(async (file: string | undefined, flags: AuditFlags) => {
      const { io } = ctx;
      if (!(FORMATS as readonly string[]).includes(flags.format))
        throw new UsageError(`unknown --format "${flags.format}" (use ${FORMATS.join(', ')})`);
      const groupBy = flags.groupBy !== undefined ? parseGroupBy(flags.groupBy) : undefined;
      const rules = await loadRules(file, io);
      const inventory = await inventoryFor(flags, io, async () => {
        const target = rules.targets.find((t) => t.name === flags.target);
        if (!target)
          throw new UsageError(
            `the model has no target "${flags.target}" (it has ${rules.targets.map((t) => t.name).join(', ') || 'none'})`,
          );
        return target;
      });
      const input = await readFlowsFor(flags, io);
      const other = [...input.clouds].find((c) => c !== inventory.cloud);
      if (other !== undefined)
        throw new UsageError(`the flow logs are ${other}'s but the inventory is ${inventory.cloud}'s`);
      const target =
        (flags.target !== undefined ? rules.targets.find((t) => t.name === flags.target) : undefined) ??
        rules.targets.find((t) => t.kind === inventory.cloud);
      const report = auditConnections(rules, input.table.connections(), inventory, {
        ...(groupBy ? { groupBy } : {}),
        ...(target ? { internalRanges: targetInternalRanges(target) } : {}),
      });
      if (report.summary.workloadsInSegments === 0 && rules.segments.length > 0 && inventory.workloads.length > 0) {
        // Nothing could be replayed: saying "nothing denied" would be a false all-clear.
        throw new UsageError(
          `no workload of the inventory is in a segment of ${rules.model.file}: ` +
            (groupBy
              ? `no ${flags.groupBy} value names one of its segments`
              : `none has a group named ${rules.model.name}-<segment> yet (a model not applied yet): pass --group-by tag:KEY`),
        );
      }
      const stats = input.table.stats;
      const skipped = Object.entries(stats.skipped).map(([k, n]) => `${n} ${k}`);
      io.stderr.write(
        `audit: ${stats.records.toLocaleString('en-US')} records from ${input.files} file${input.files === 1 ? '' : 's'}` +
          (skipped.length > 0 ? ` (skipped: ${skipped.join(', ')})` : '') +
          (stats.outsideWindow > 0 ? `; ${stats.outsideWindow} outside --since/--until` : '') +
          (stats.unplaced > 0 ? `; ${stats.unplaced} between two ephemeral ports left unplaced` : '') +
          `; ${report.summary.workloadsInSegments} workload${report.summary.workloadsInSegments === 1 ? '' : 's'} in the model's segments\n`,
      );
      if (flags.format === 'json') io.stdout.write(formatAuditJson(report));
      else if (flags.format === 'sarif') io.stdout.write(`${JSON.stringify(auditToSarif(report, VERSION), null, 2)}\n`);
      else io.stdout.write(formatAuditText(report));
      ctx.setExit(report.summary.denied > 0 ? EXIT.changes : EXIT.ok);
    });
};
