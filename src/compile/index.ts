import { error, hasErrors, sortDiagnostics, type Diagnostic, type Result } from '../diagnostics.js';
import { loadModel, type LoadOptions } from '../model/load.js';
import type { SegmentModel } from '../model/types.js';
import { validateModelPartial } from '../model/validate.js';
import { compileRules } from './compile-rules.js';
import type { RuleSet } from './types.js';

export { compileRules } from './compile-rules.js';
export { loadModel } from '../model/load.js';
export { validateModel } from '../model/validate.js';

/** The diagnostics without the warnings the model's `ignoreWarnings` lists (errors always stay). */
function withoutIgnored(diagnostics: readonly Diagnostic[], model: SegmentModel | undefined): Diagnostic[] {
  const ignored = new Set(model?.ignoreWarnings ?? []);
  if (ignored.size === 0) return [...diagnostics];
  return diagnostics.filter((d) => d.severity !== 'warning' || !ignored.has(d.code));
}

/** Options of `compileFile` / `loadAndValidate`. */
export type CompileFileOptions = LoadOptions;

/**
 * Loads a model file (and its includes) and validates it. Every diagnostic at once, sorted by
 * position; the model only when there is no error.
 */
export async function loadAndValidate(path: string, options: CompileFileOptions = {}): Promise<Result<SegmentModel>> {
  const loaded = await loadModel(path, options);
  const validated = validateModelPartial(loaded.model);
  const all = [...loaded.diagnostics, ...validated.diagnostics];
  if (validated.model && hasErrors(all)) {
    // Report guardrail violations now too, from what could be validated (see validateModelPartial).
    all.push(...compileRules(validated.model).diagnostics.filter((d) => d.code === 'guardrail-violation'));
  }
  const diagnostics = sortDiagnostics(withoutIgnored(all, validated.model));
  if (hasErrors(diagnostics) || !validated.model) return { ok: false, diagnostics };
  return { ok: true, value: validated.model, diagnostics };
}

/**
 * Loads, validates and compiles a model file: the RuleSet, or every error (with file:line:column)
 * that stops it. Warnings ride along in both cases. Positions are relative to `options.cwd`
 * (default: the process's working directory) when the files are inside it.
 */
export async function compileFile(path: string, options: CompileFileOptions = {}): Promise<Result<RuleSet>> {
  const model = await loadAndValidate(path, options);
  if (!model.ok) return model;
  if (model.value.kind === 'pack') return { ok: false, diagnostics: [notAModel(model.value)] };
  const compiled = compileRules(model.value);
  const diagnostics = sortDiagnostics(withoutIgnored([...model.diagnostics, ...compiled.diagnostics], model.value));
  if (!compiled.ok || hasErrors(diagnostics)) return { ok: false, diagnostics };
  return { ok: true, value: compiled.value, diagnostics };
}

function notAModel(pack: SegmentModel) {
  return error(
    'not-a-model',
    `${pack.file} is a guardrail pack (no name, targets or segments): it compiles as part of a model that includes it`,
    { file: pack.file, line: 1, column: 1 },
  );
}

/** What `validateFile` found valid: a model and its RuleSet, or a guardrail pack. */
export type ValidatedFile =
  | { readonly kind: 'model'; readonly rules: RuleSet }
  | { readonly kind: 'pack'; readonly pack: SegmentModel };

/**
 * Validates a model file as `bulkhead validate` does: a model is compiled (so guardrail
 * violations are found too); a guardrail pack (only services, entities, guardrails) is checked
 * on its own, its segment and tier names left for the models that include it.
 */
export async function validateFile(path: string, options: CompileFileOptions = {}): Promise<Result<ValidatedFile>> {
  const model = await loadAndValidate(path, options);
  if (!model.ok) return model;
  if (model.value.kind === 'pack')
    return { ok: true, value: { kind: 'pack', pack: model.value }, diagnostics: model.diagnostics };
  const compiled = compileRules(model.value);
  const diagnostics = sortDiagnostics(withoutIgnored([...model.diagnostics, ...compiled.diagnostics], model.value));
  if (!compiled.ok || hasErrors(diagnostics)) return { ok: false, diagnostics };
  return { ok: true, value: { kind: 'model', rules: compiled.value }, diagnostics };
}
