import { rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { PROVIDERS } from '../../providers/index.js';
import { formatDiagnostics } from './output.js';
import { validateFile } from '../compile/index.js';
import type { CloudId, TargetSpec } from '../compile/types.js';
import { warning, type Diagnostic } from '../diagnostics.js';
import { InternalError, UsageError } from '../errors.js';
import {
  parseTimeOption,
  readFlowFiles,
  readInventoryFile,
  type CloudFlowReader,
  type CloudInventoryReader,
  type FlowInput,
} from '../flows/collect.js';
import { discoverModel } from '../flows/discover.js';
import { isoTime, parseGroupBy } from '../flows/naming.js';
import type { FlowWarning, Inventory } from '../flows/types.js';
import type { Io } from '../io.js';
import { endpointFor, loadRules, parseCount } from './engine-context.js';
import type { CommandContext, RegisterCommand } from './index.js';

/** The providers' flow-log readers, from the registry (core code names no cloud). */
export function flowReaders(): CloudFlowReader[] {
  return (Object.keys(PROVIDERS) as CloudId[]).flatMap((cloud) => {
    const reader = PROVIDERS[cloud]?.().flows;
    return reader ? [{ cloud, reader }] : [];
  });
}

/** The providers' inventory readers, from the registry. */
export function inventoryReaders(): CloudInventoryReader[] {
  return (Object.keys(PROVIDERS) as CloudId[]).flatMap((cloud) => {
    const reader = PROVIDERS[cloud]?.().inventory;
    return reader ? [{ cloud, reader }] : [];
  });
}

const SHOWN_WARNINGS = 20;

/** Help of --flows and --inventory (the formats are the providers' own: the README lists them). */
export const FLOWS_HELP = "flow-log files in the cloud's own format, as delivered (.gz too; see the README)";
export const INVENTORY_HELP =
  "who is who: the cloud CLI's JSON list of network interfaces or instances (see the README)";

/** Prints the skipped records' warnings (the first 20, then a count) as diagnostics on stderr. */
export function reportFlowWarnings(warnings: readonly FlowWarning[], total: number, io: Io): void {
  const diagnostics: Diagnostic[] = warnings.map((w) =>
    warning('flow-record-skipped', w.message, { file: w.file, line: w.line, column: 1 }),
  );
  io.stderr.write(formatDiagnostics(diagnostics, io));
  if (total > warnings.length) io.stderr.write(`… and ${total - warnings.length} more skipped records\n`);
}

/** The flags `discover` and `audit` share for their inputs. */
export interface FlowInputFlags {
  flows: string[];
  inventory?: string;
  target?: string;
  since?: string;
  until?: string;
}

/** Reads the flow logs (with progress on stderr when it is a terminal or the input is large). */
export async function readFlowsFor(flags: FlowInputFlags, io: Io): Promise<FlowInput> {
  const warnings: FlowWarning[] = [];
  const since = flags.since !== undefined ? parseTimeOption('--since', flags.since) : undefined;
  const until = flags.until !== undefined ? parseTimeOption('--until', flags.until) : undefined;
  const started = Date.now();
  const input = await readFlowFiles(flags.flows, flowReaders(), {
    cwd: io.cwd,
    ...(since !== undefined ? { since } : {}),
    ...(until !== undefined ? { until } : {}),
    onWarning: (w) => {
      if (warnings.length < SHOWN_WARNINGS) warnings.push(w);
    },
    progress: (m) => {
      if (io.stderrIsTTY || Date.now() - started > 2000) io.stderr.write(`${m}\n`);
    },
  });
  if (input.table.stats.warnings > 0) reportFlowWarnings(warnings, input.table.stats.warnings, io);
  return input;
}

/** The inventory: `--inventory FILE`, or the live API of `--target NAME` (a target of `model`). */
export async function inventoryFor(
  flags: FlowInputFlags,
  io: Io,
  targetOf: () => Promise<TargetSpec>,
): Promise<Inventory> {
  if (flags.inventory !== undefined && flags.target !== undefined)
    throw new UsageError('give --inventory FILE or --target NAME, not both');
  if (flags.inventory !== undefined) return readInventoryFile(flags.inventory, inventoryReaders(), io.cwd);
  if (flags.target === undefined)
    throw new UsageError(
      "an inventory is needed: --inventory FILE (the cloud CLI's JSON) or --target NAME (read it live)",
    );
  const target = await targetOf();
  const reader = PROVIDERS[target.kind]?.().inventory;
  if (!reader?.live)
    throw new UsageError(
      `reading the inventory of ${target.name} live is not supported yet: export it with the cloud's CLI and pass --inventory FILE`,
    );
  const endpoint = endpointFor(target, io.env);
  return reader.live(target, endpoint !== undefined ? { endpoint } : {});
}

/** A target of a model by name, for `--target`. */
export async function modelTarget(file: string | undefined, name: string, io: Io): Promise<TargetSpec> {
  const rules = await loadRules(file, io);
  const target = rules.targets.find((t) => t.name === name);
  if (!target)
    throw new UsageError(
      `the model has no target "${name}" (it has ${rules.targets.map((t) => t.name).join(', ') || 'none'})`,
    );
  return target;
}

interface DiscoverFlags extends FlowInputFlags {
  groupBy: string;
  name: string;
  minFlows: number;
  out?: string;
  model?: string;
}

/**
 * `bulkhead discover --flows FILE… (--inventory FILE | --target NAME) --group-by tag:KEY --out
 * MODEL.yaml`: proposes a model from the observed accepted connections (src/flows/discover.ts).
 * The proposal is checked with `validate` before it is written.
 */
export const registerDiscover: RegisterCommand = (program: Command, ctx: CommandContext) => {
  program
    .command('discover')
    .description('propose a segment model from flow logs and an inventory (a proposal to review in a pull request)')
    .requiredOption('--flows <files...>', FLOWS_HELP)
    .option('--inventory <file>', INVENTORY_HELP)
    .option('--target <name>', 'read the inventory live through this target of --model (read-only)')
    .option('--model <file>', 'the model whose --target to read (default: bulkhead.yaml)')
    .requiredOption('--group-by <key>', 'what makes a segment: tag:KEY (a tag or label of the workloads) or networkTag')
    .option('--name <name>', 'the model name', 'discovered')
    .option('--since <time>', 'only flows from this time on (2026-11-01, RFC 3339, epoch seconds or 30d)')
    .option('--until <time>', 'only flows before this time')
    .option('--min-flows <n>', 'leave out rules seen on fewer connections', parseCount('--min-flows'), 1)
    .option('--out <file>', 'write the model here (default: stdout)')
    .action(async (flags: DiscoverFlags) => {
      const { io } = ctx;
      const groupBy = parseGroupBy(flags.groupBy);
      if (!/^[a-z]([a-z0-9-]*[a-z0-9])?$/.test(flags.name))
        throw new UsageError(`--name "${flags.name}": lower-case letters, digits and '-', starting with a letter`);
      const inventory = await inventoryFor(flags, io, () => modelTarget(flags.model, flags.target!, io));
      const input = await readFlowsFor(flags, io);
      if (input.clouds.size > 1)
        throw new UsageError(
          `the flow logs come from ${[...input.clouds].join(' and ')}: discover one cloud at a time`,
        );
      const cloud = [...input.clouds][0] ?? inventory.cloud;
      if (cloud !== inventory.cloud)
        throw new UsageError(`the flow logs are ${cloud}'s but the inventory is ${inventory.cloud}'s`);
      const connections = input.table.connections();
      const stats = input.table.stats;
      const accepted = connections.filter((c) => c.accepted);
      const times = accepted.flatMap((c) => [c.firstSeen, c.lastSeen]);
      const span = times.length > 0 ? `, ${isoTime(Math.min(...times))} to ${isoTime(Math.max(...times))}` : '';
      const result = discoverModel(connections, inventory, {
        name: flags.name,
        groupBy,
        minFlows: flags.minFlows,
        cloud,
        provenance: [
          `${input.files} flow-log file${input.files === 1 ? '' : 's'}, ${stats.records.toLocaleString('en-US')} records, ${accepted.length.toLocaleString('en-US')} accepted client → server services${span}; grouped by ${flags.groupBy}`,
        ],
      });
      for (const w of result.warnings) io.stderr.write(`note: ${w}\n`);
      // The proposal must be a valid model: check it the way `bulkhead validate` does, before it
      // replaces anything (a temporary file beside --out, renamed over it once valid).
      const out = flags.out !== undefined ? resolve(io.cwd, flags.out) : undefined;
      const checkPath =
        out !== undefined ? `${out}.${process.pid}.tmp` : join(tmpdir(), `bulkhead-discover-${process.pid}.yaml`);
      try {
        await writeFile(checkPath, result.yaml);
      } catch (e) {
        throw new UsageError(`cannot write ${flags.out ?? 'the proposal'}: ${(e as Error).message}`);
      }
      try {
        const check = await validateFile(checkPath, { cwd: io.cwd });
        if (!check.ok) {
          throw new InternalError(
            `the proposed model does not validate (a bug, please report it): ${check.diagnostics.map((d) => d.message).join('; ')}`,
          );
        }
        if (out !== undefined) await rename(checkPath, out);
      } finally {
        await rm(checkPath, { force: true });
      }
      if (!out) io.stdout.write(result.yaml);
      const skipped = Object.entries(stats.skipped).map(([k, n]) => `${n} ${k}`);
      io.stderr.write(
        `discover: ${result.segments.length} segment${result.segments.length === 1 ? '' : 's'}, ${result.rules.length} rule${result.rules.length === 1 ? '' : 's'}, ` +
          `${result.entities.size} entit${result.entities.size === 1 ? 'y' : 'ies'} from ${stats.records.toLocaleString('en-US')} records` +
          (skipped.length > 0 ? ` (skipped: ${skipped.join(', ')})` : '') +
          (stats.unplaced > 0 ? `; ${stats.unplaced} records between two ephemeral ports left unplaced` : '') +
          (result.outside > 0 ? `; ${result.outside} services with no segment on either end left out` : '') +
          (result.belowMinimum > 0 ? `; ${result.belowMinimum} below --min-flows` : '') +
          (out ? `; written to ${flags.out}` : '') +
          '\n',
      );
      ctx.setExit(0);
    });
};
