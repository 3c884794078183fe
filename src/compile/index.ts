import { hasErrors, sortDiagnostics, type Result } from '../diagnostics.js';
import { loadModel, type LoadOptions } from '../model/load.js';
import type { SegmentModel } from '../model/types.js';
import { validateModel } from '../model/validate.js';
import { compileRules } from './compile-rules.js';
import type { RuleSet } from './types.js';

export { compileRules } from './compile-rules.js';
export { loadModel } from '../model/load.js';
export { validateModel } from '../model/validate.js';

/** Options of `compileFile` / `loadAndValidate`. */
export type CompileFileOptions = LoadOptions;

/**
 * Loads a model file (and its includes) and validates it. Every diagnostic at once, sorted by
 * position; the model only when there is no error.
 */
export async function loadAndValidate(path: string, options: CompileFileOptions = {}): Promise<Result<SegmentModel>> {
  const loaded = await loadModel(path, options);
  const validated = validateModel(loaded.model);
  const diagnostics = sortDiagnostics([...loaded.diagnostics, ...validated.diagnostics]);
  if (hasErrors(diagnostics) || !validated.ok) return { ok: false, diagnostics };
  return { ok: true, value: validated.value, diagnostics };
}

/**
 * Loads, validates and compiles a model file: the RuleSet, or every error (with file:line:column)
 * that stops it. Warnings ride along in both cases. Positions are relative to `options.cwd`
 * (default: the process's working directory) when the files are inside it.
 */
export async function compileFile(path: string, options: CompileFileOptions = {}): Promise<Result<RuleSet>> {
  const model = await loadAndValidate(path, options);
  if (!model.ok) return model;
  const compiled = compileRules(model.value);
  const diagnostics = sortDiagnostics([...model.diagnostics, ...compiled.diagnostics]);
  if (!compiled.ok || hasErrors(diagnostics)) return { ok: false, diagnostics };
  return { ok: true, value: compiled.value, diagnostics };
}
