import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { RuleSet, TargetSpec } from '../compile/types.js';
import { compileFile } from '../compile/index.js';
import { UsageError, ValidationError } from '../errors.js';
import type { Io } from '../io.js';
import { configOf, type StateSource } from '../provider.js';
import { descriptorOf } from '../targets.js';
import { createDnsResolver, createSnapshotResolver, type Resolver } from '../resolve.js';
import { formatDiagnostics } from './output.js';

/**
 * What the engine's commands share: finding and compiling the model, choosing where state comes
 * from (live API with endpoint overrides, or a snapshot folder) and how FQDNs are resolved.
 */

/** The default model file names, in the order they are looked for. */
export const DEFAULT_MODEL_FILES: readonly string[] = ['bulkhead.yaml', 'bulkhead.yml'];

/**
 * The default model file of every command that takes one: `bulkhead.yaml`, else `bulkhead.yml`
 * when only that exists in the working directory (`bulkhead.yaml` when neither does, so the
 * "file not found" message names the usual spelling).
 */
export function defaultModelFile(io: Io): string {
  return DEFAULT_MODEL_FILES.find((name) => existsSync(resolve(io.cwd, name))) ?? DEFAULT_MODEL_FILES[0]!;
}

/** The model file to use: the one given, else `bulkhead.yaml` (or `.yml`) in the working directory. */
export function modelPath(file: string | undefined, io: Io): string {
  if (file) return file;
  const found = DEFAULT_MODEL_FILES.find((name) => existsSync(resolve(io.cwd, name)));
  if (found) return found;
  throw new UsageError(`no model file given and no bulkhead.yaml or bulkhead.yml in ${io.cwd}`);
}

/** Compiles the model; errors become a ValidationError, warnings go to stderr. */
export async function loadRules(file: string | undefined, io: Io): Promise<RuleSet> {
  const path = modelPath(file, io);
  if (!existsSync(resolve(io.cwd, path))) throw new UsageError(`model file not found: ${path}`);
  const result = await compileFile(path, { cwd: io.cwd });
  if (!result.ok) throw new ValidationError(result.diagnostics);
  const warnings = result.diagnostics.filter((d) => d.severity === 'warning');
  if (warnings.length > 0) io.stderr.write(formatDiagnostics(warnings, io));
  return result.value;
}

/**
 * The endpoint override of a target: its own `endpoint`, else the environment variable its
 * provider names (`BULKHEAD_<CLOUD>_ENDPOINT`).
 */
export function endpointFor(target: TargetSpec, env: Io['env']): string | undefined {
  const d = descriptorOf(target);
  const own = d.endpoint(configOf(target));
  const fromEnv = env[d.endpointEnv];
  return own ?? (fromEnv !== undefined && fromEnv !== '' ? fromEnv : undefined);
}

/** Where each target's state comes from: `--snapshots DIR` (relative to cwd), else the live API. */
export function stateSourceFor(snapshots: string | undefined, io: Io): (target: TargetSpec) => StateSource {
  if (snapshots !== undefined) {
    const dir = resolve(io.cwd, snapshots);
    if (!existsSync(dir)) throw new UsageError(`snapshot folder not found: ${snapshots}`);
    return () => ({ kind: 'snapshot', dir });
  }
  return (target) => {
    const endpoint = endpointFor(target, io.env);
    return endpoint !== undefined ? { kind: 'live', endpoint } : { kind: 'live' };
  };
}

/** The FQDN resolver: `<snapshots>/dns.json` offline, node:dns live. */
export function resolverFor(snapshots: string | undefined, io: Io): Resolver {
  return snapshots !== undefined ? createSnapshotResolver(resolve(io.cwd, snapshots), snapshots) : createDnsResolver();
}

// The option parsers live with the commands (a light module `--help` can load without the compiler).
export { collect } from '../commands/options.js';

/** Parses a non-negative integer option. */
export function parseCount(name: string): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value)) throw new UsageError(`${name} needs a whole number, not "${value}"`);
    return Number(value);
  };
}
