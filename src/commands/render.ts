import type { Command } from 'commander';
import type { Json } from '../plan/types.js';
import { getProvider } from '../../providers/index.js';
import type { CloudId, TargetSpec } from '../compile/types.js';
import { getTarget, providerIds } from '../targets.js';
import { formatDiagnostics } from './output.js';
import { hasErrors } from '../diagnostics.js';
import { UsageError, ValidationError } from '../errors.js';
import { fqdnDiagnosticsFor } from '../plan/create-plan.js';
import { loadRules, resolverFor } from './engine-context.js';
import { resolveFqdns } from '../resolve.js';
import type { CommandContext, RegisterCommand } from './index.js';
import { writeJson } from './json-stream.js';

interface RenderFlags {
  provider: string;
  target?: string;
  snapshots?: string;
  json?: boolean;
  format?: string;
  allowUnresolved?: boolean;
}

/** `bulkhead render --provider <id> [FILE]`: the desired objects in the cloud CLI's JSON shape. */
export const registerRender: RegisterCommand = (program: Command, ctx: CommandContext) => {
  program
    .command('render')
    .description("print the objects a target should have, in its cloud CLI's JSON shape")
    .argument('[file]', 'model file (default: bulkhead.yaml or bulkhead.yml)')
    .requiredOption('--provider <cloud>', `cloud to render: ${providerIds().join(', ')}`)
    .option('--target <name>', 'target to render (needed when the model has several for the cloud)')
    .option('--snapshots <dir>', 'resolve FQDNs from DIR/dns.json instead of DNS')
    .option('--json', "print JSON (the cloud CLI's shape)")
    .option(
      '--format <format>',
      'text (default), json (as --json) or yaml (the same objects as YAML; a `List` is one document per item)',
    )
    .option(
      '--allow-unresolved',
      'accept FQDNs that resolve to no address (their rules then allow nothing and their entries are removed)',
    )
    .action(async (file: string | undefined, flags: RenderFlags) => {
      const { io } = ctx;
      const descriptor = getTarget(flags.provider);
      if (!descriptor) throw new UsageError(`unknown --provider "${flags.provider}" (use ${providerIds().join(', ')})`);
      const cloud = flags.provider as CloudId;
      // How messages name a cloud: "AWS", and "an AWS target", never "a aws target".
      const label = descriptor.label;
      const provider = getProvider(cloud);
      if (!provider) throw new UsageError(`provider ${cloud} is not available yet`);
      const rules = await loadRules(file, io);
      const candidates = rules.targets.filter((t) => t.kind === cloud);
      let target: TargetSpec | undefined;
      if (flags.target !== undefined) {
        target = rules.targets.find((t) => t.name === flags.target);
        if (!target)
          throw new UsageError(
            `unknown target "${flags.target}" (${label} targets: ${candidates.map((t) => t.name).join(', ') || 'none'})`,
          );
        if (target.kind !== cloud)
          throw new UsageError(
            `target ${target.name} is ${getTarget(target.kind)?.aLabel ?? target.kind} target, not ${label}`,
          );
      } else if (candidates.length === 1) {
        target = candidates[0]!;
      } else {
        throw new UsageError(
          candidates.length === 0
            ? `the model has no ${label} target`
            : `the model has ${candidates.length} ${label} targets; pick one with --target (${candidates.map((t) => t.name).join(', ')})`,
        );
      }
      const fqdns = await resolveFqdns(rules, resolverFor(flags.snapshots, io), {
        ...(flags.allowUnresolved ? { allowUnresolved: true } : {}),
      });
      const renderCtx = { resolved: fqdns.resolved };
      const diagnostics = [
        ...fqdnDiagnosticsFor(fqdns.diagnostics, [target]),
        ...provider.validate(rules, target, renderCtx),
      ];
      if (hasErrors(diagnostics)) throw new ValidationError(diagnostics, 'cannot render');
      if (diagnostics.length > 0) io.stderr.write(formatDiagnostics(diagnostics, io));
      const resources = provider.render(rules, target, renderCtx);
      if (flags.format !== undefined && !['text', 'json', 'yaml'].includes(flags.format))
        throw new UsageError(`unknown --format "${flags.format}" (use text, json or yaml)`);
      if (flags.format === 'yaml') {
        io.stdout.write(await yamlDocuments(provider.toCliJson(resources, target)));
        return;
      }
      if (flags.json || flags.format === 'json') {
        writeJson(provider.toCliJson(resources, target), (text) => io.stdout.write(text));
        io.stdout.write('\n');
        return;
      }
      for (const r of resources) {
        io.stdout.write(`${r.address}\n`);
        for (const c of r.children) io.stdout.write(`  ${c.summary}\n`);
      }
    });
};

/**
 * The CLI JSON as YAML: a `List` (`{kind: 'List', items}`) becomes one document per item, the
 * form `kubectl apply -f` takes; anything else is one document. The `yaml` package is imported
 * here, for `--format yaml` only: text and JSON output do not pay its ~30-50 ms of loading.
 * Aliases off: a provider's CLI JSON may share a read-only list between objects (GCP's rules share
 * their protocol entries and range lists), and each object prints in full, as in the JSON.
 */
export async function yamlDocuments(json: Json): Promise<string> {
  const { stringify: stringifyYaml } = await import('yaml');
  const list = json as { kind?: unknown; items?: unknown };
  const docs =
    list && typeof list === 'object' && list.kind === 'List' && Array.isArray(list.items) ? list.items : [json];
  return docs.map((d) => `---\n${stringifyYaml(d, { lineWidth: 0, aliasDuplicateObjects: false })}`).join('');
}
