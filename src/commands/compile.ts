import { compileFile } from '../compile/index.js';
import { compareStrings, formatEndpoint } from '../compile/canonical.js';
import type { RuleSet, TargetSpec } from '../compile/types.js';
import { formatPos } from '../diagnostics.js';
import { createStyle, type Style } from '../io.js';
import { configOf } from '../provider.js';
import { descriptorOf } from '../targets.js';
import { comparePortMatch, formatPortMatch } from '../model/services.js';
import { defaultModelFile } from './engine-context.js';
import type { RegisterCommand } from './index.js';
import { unwrapModelResult } from './validate.js';

/**
 * `bulkhead compile [FILE] [--json]`: the RuleSet the providers render. `--json` prints it as JSON
 * (byte-identical for the same file); without it, a table of rules and guardrail denies.
 */
export const registerCompile: RegisterCommand = (program, ctx) => {
  program
    .command('compile')
    .summary('print the provider-neutral rules a model compiles to')
    .description(
      'Validate a segment model and print what it compiles to: every allowed flow as the ingress ' +
        'and egress rules it becomes, and the guardrail denies. With --json, the RuleSet as JSON ' +
        '(sorted, byte-identical for the same file; the input of the providers).',
    )
    .argument('[file]', 'the model file (default: bulkhead.yaml or bulkhead.yml)')
    .option('--json', 'print the RuleSet as JSON')
    .action(async (given: string | undefined, opts: { json?: boolean }) => {
      const { io } = ctx;
      const file = given ?? defaultModelFile(io);
      const rules = unwrapModelResult(await compileFile(file, { cwd: io.cwd }), file, io);
      io.stdout.write(
        opts.json
          ? `${JSON.stringify(rules, null, 2)}\n`
          : formatRuleSetTable(rules, createStyle(io.stdoutIsTTY, io.env)),
      );
      ctx.setExit(0);
    });
};

/** The target's line in the table, in its provider's words. */
function targetSummary(t: TargetSpec): string {
  return descriptorOf(t).summary(configOf(t));
}

function table(header: readonly string[], rows: readonly (readonly string[])[], style: Style): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${[style.bold(line(header)), ...rows.map(line)].join('\n')}\n`;
}

/** The readable form of a RuleSet: targets, then rules (ingress first) and denies as aligned tables. */
export function formatRuleSetTable(rules: RuleSet, style: Style): string {
  const out: string[] = [];
  out.push(
    `${style.bold(`Model ${rules.model.name}`)} (${rules.model.file}), digest ${rules.model.digest.slice(0, 12)}\n`,
  );
  out.push('\nTargets:\n');
  const w = Math.max(0, ...rules.targets.map((t) => t.name.length));
  for (const t of rules.targets) out.push(`  ${t.name.padEnd(w)}  ${targetSummary(t)}\n`);
  if (rules.targets.length === 0) out.push('  (none)\n');
  out.push(`\nRules (${rules.rules.length}):\n`);
  out.push(
    table(
      ['SEGMENT', 'DIRECTION', 'PEER', 'SERVICE', 'ID', 'FROM'],
      [...rules.rules]
        .sort(
          (a, b) =>
            compareStrings(a.segment, b.segment) ||
            compareStrings(b.direction, a.direction) ||
            compareStrings(formatEndpoint(a.peer), formatEndpoint(b.peer)) ||
            comparePortMatch(a.service, b.service),
        )
        .map((r) => [
          r.segment,
          r.direction,
          formatEndpoint(r.peer),
          formatPortMatch(r.service),
          r.id,
          r.origins.map((o) => formatPos(o.pos)).join(', '),
        ]),
      style,
    ),
  );
  if (rules.denies.length > 0) {
    out.push(`\nGuardrail denies (${rules.denies.length}):\n`);
    out.push(
      table(
        ['GUARDRAIL', 'DIRECTION', 'SEGMENTS', 'PEER', 'SERVICES', 'ID'],
        rules.denies.map((d) => [
          d.guardrail,
          d.direction,
          d.allSegments ? '(all)' : d.segments.join(','),
          formatEndpoint(d.peer),
          d.services.map(formatPortMatch).join(','),
          d.id,
        ]),
        style,
      ),
    );
  }
  return out.join('');
}
