import { validateFile, type ValidatedFile } from '../compile/index.js';
import type { Diagnostic, Result } from '../diagnostics.js';
import { UsageError, ValidationError } from '../errors.js';
import { createStyle, type Io } from '../io.js';
import { formatDiagnostics } from './output.js';
import { defaultModelFile } from './engine-context.js';
import type { RegisterCommand } from './index.js';

/**
 * `bulkhead validate [FILE...]`: loads, validates and compiles each model (guardrails included)
 * and reports every problem of every file at once. Exit 0 when all are valid (warnings allowed),
 * 1 otherwise. A guardrail pack is checked on its own.
 */
export const registerValidate: RegisterCommand = (program, ctx) => {
  program
    .command('validate')
    .summary('check segment models and report every problem at once')
    .description(
      'Check segment models (and the files they include): structure, references, ports, CIDRs, FQDNs, ' +
        'cloud bindings and guardrails. Every problem is reported as file:line:column on stderr; ' +
        'exit code 0 when every file is valid (warnings allowed), 1 when one is not. ' +
        'A guardrail pack (a file with only services, entities and guardrails) is checked on its own.',
    )
    .argument('[files...]', 'model files or guardrail packs (default: bulkhead.yaml or bulkhead.yml)')
    .option('--json', 'print the outcome as JSON on stdout (every diagnostic with its position), for CI and editors')
    .action(async (files: string[], opts: { json?: boolean }) => {
      const { io } = ctx;
      const list = files.length > 0 ? files : [defaultModelFile(io)];
      const style = createStyle(io.stdoutIsTTY, io.env);
      const failed: Diagnostic[] = [];
      const report: { file: string; valid: boolean; kind?: 'model' | 'pack'; diagnostics: readonly Diagnostic[] }[] =
        [];
      let badFiles = 0;
      for (const file of list) {
        const result = await validateFile(file, { cwd: io.cwd });
        report.push({
          file,
          valid: result.ok,
          ...(result.ok ? { kind: result.value.kind } : {}),
          diagnostics: result.diagnostics,
        });
        if (!result.ok) {
          if (list.length === 1 && !opts.json) unwrapModelResult(result, file, io);
          failed.push(...result.diagnostics);
          badFiles++;
          continue;
        }
        printWarnings(result.diagnostics, io);
        if (!opts.json) io.stdout.write(`${style.green('valid')}: ${summarize(result.value)}\n`);
      }
      if (opts.json)
        io.stdout.write(
          `${JSON.stringify({ formatVersion: 1, valid: failed.length === 0, files: report }, null, 2)}\n`,
        );
      if (failed.length > 0) {
        throw new ValidationError(
          failed,
          list.length === 1 ? 'the file is not valid' : `${badFiles} of ${list.length} files are not valid`,
        );
      }
      ctx.setExit(0);
    });
};

function summarize(valid: ValidatedFile): string {
  const n = (k: number, what: string, plural = `${what}s`) => `${k} ${k === 1 ? what : plural}`;
  if (valid.kind === 'pack') {
    const p = valid.pack;
    return (
      `${p.file} (guardrail pack: ${n(p.guardrails.length, 'guardrail')}, ${n(p.services.size, 'service')}, ` +
      `${n(p.entities.size - 1, 'entity', 'entities')}; its segment and tier names are checked in the models that include it)`
    );
  }
  const rules = valid.rules;
  return (
    `${rules.model.file} (model "${rules.model.name}": ${n(rules.segments.length, 'segment')}, ` +
    `${n(rules.rules.length, 'rule')}, ${n(rules.denies.length, 'guardrail deny', 'guardrail denies')}, ${n(rules.targets.length, 'target')})`
  );
}

/**
 * Shared by `validate` and `compile`: turns a compile result into warnings on stderr, or into the
 * error that `main.ts` reports (a missing model file is a usage error, not a model error).
 */
export function unwrapModelResult<T>(result: Result<T>, file: string, io: Io): T {
  if (!result.ok) {
    const missing = result.diagnostics.find((d) => d.code === 'file-not-found');
    if (missing && result.diagnostics.length === 1) {
      throw new UsageError(
        `${missing.message}${file === 'bulkhead.yaml' || file === 'bulkhead.yml' ? ' (no model file given and none in the current folder; pass FILE)' : ''}`,
      );
    }
    throw new ValidationError(result.diagnostics);
  }
  printWarnings(result.diagnostics, io);
  return result.value;
}

/**
 * Writes warnings to stderr as `file:line:column: warning: message [code]`, related places
 * indented, honouring `--no-warn` and `--compact-warnings` (through `formatDiagnostics`).
 */
export function printWarnings(diagnostics: readonly Diagnostic[], io: Io): void {
  io.stderr.write(
    formatDiagnostics(
      diagnostics.filter((d) => d.severity === 'warning'),
      io,
    ),
  );
}
