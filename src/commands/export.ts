import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, resolve } from 'node:path';
import type { Command } from 'commander';
import { getProvider } from '../../providers/index.js';
import type { TargetSpec } from '../compile/types.js';
import { ProviderError, UsageError, ValidationError } from '../errors.js';
import type { Provider } from '../provider.js';
import { readAll, selectTargets } from '../plan/create-plan.js';
import { collect, endpointFor, loadRules } from './engine-context.js';
import { collectFqdns, createDnsResolver } from '../resolve.js';
import type { CommandContext, RegisterCommand } from './index.js';

interface ExportFlags {
  target?: string[];
  out: string;
  dns: boolean;
}

/** Writes `<dir>/dns.json`: the model's FQDNs as DNS answers them now, merged into an existing file. */
async function exportDns(fqdns: readonly string[], dir: string): Promise<void> {
  const path = join(dir, 'dns.json');
  let table: Record<string, unknown> = {};
  try {
    table = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  } catch {
    table = {};
  }
  const resolve = createDnsResolver();
  for (const f of fqdns) table[f] = await resolve(f);
  const sorted = Object.fromEntries(Object.entries(table).sort(([a], [b]) => (a < b ? -1 : 1)));
  await mkdir(dir, { recursive: true });
  await writeFile(path, `${JSON.stringify(sorted, null, 2)}\n`);
}

/**
 * `bulkhead export --target NAME --out DIR [FILE]`: writes a target's live state as the snapshot
 * files `plan --snapshots` reads (`DIR/<target>/…`), and the model's FQDNs as resolved now
 * (`DIR/dns.json`, unless --no-dns).
 */
export const registerExport: RegisterCommand = (program: Command, ctx: CommandContext) => {
  program
    .command('export')
    .description("write targets' live state as cloud CLI JSON (DIR/<target>/…), for `plan --snapshots DIR`")
    .argument('[file]', 'model file (default: bulkhead.yaml or bulkhead.yml)')
    .requiredOption('--out <dir>', 'snapshot folder to write')
    .option('--target <name>', 'target to export (repeatable, or comma-separated; default: all)', collect)
    .option('--no-dns', "do not resolve the model's FQDNs into DIR/dns.json")
    .action(async (file: string | undefined, flags: ExportFlags) => {
      const { io } = ctx;
      const rules = await loadRules(file, io);
      const targets = selectTargets(rules, flags.target);
      const outDir = resolve(io.cwd, flags.out);
      const runnable: { target: TargetSpec; provider: Provider }[] = [];
      for (const target of targets) {
        const provider = getProvider(target.kind);
        if (!provider) {
          io.stderr.write(`warning: provider ${target.kind} not available yet, target ${target.name} skipped\n`);
          continue;
        }
        runnable.push({ target, provider });
      }
      for (const { target } of runnable) io.stderr.write(`Exporting ${target.name} (${target.kind})…\n`);
      // Every target is read before anything is written: each failure is reported, none is left
      // unobserved, and a failed export leaves the folder as it was.
      const exported = await readAll(runnable, (target, provider) => {
        const endpoint = endpointFor(target, io.env);
        return provider.exportSnapshot(target, endpoint !== undefined ? { endpoint } : {});
      });
      if (!exported.ok) throw new ValidationError(exported.diagnostics, 'cannot export; nothing was written');
      runnable.forEach(({ target }, i) => {
        for (const f of exported.values[i]!) {
          const rel = normalize(f.path);
          if (isAbsolute(rel) || rel.startsWith('..')) {
            throw new ProviderError(
              `provider ${target.kind} returned a snapshot path outside the target's folder: ${f.path}`,
            );
          }
        }
      });
      for (const [i, { target }] of runnable.entries()) {
        for (const f of exported.values[i]!) {
          const rel = normalize(f.path);
          const path = join(outDir, target.name, rel);
          await mkdir(dirname(path), { recursive: true });
          await writeFile(path, f.content);
          io.stdout.write(`${join(flags.out, target.name, rel)}\n`);
        }
      }
      if (targets.length === 0) throw new UsageError('the model has no targets');
      // Offline plans resolve FQDNs from DIR/dns.json: record today's answers beside the exports.
      const fqdns = collectFqdns(rules);
      if (flags.dns && fqdns.length > 0) {
        io.stderr.write(`Resolving ${fqdns.length} FQDN${fqdns.length === 1 ? '' : 's'} into dns.json…\n`);
        await exportDns(fqdns, outDir);
        io.stdout.write(`${join(flags.out, 'dns.json')}\n`);
      }
    });
};
