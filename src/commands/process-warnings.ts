import type * as Targets from '../targets.js';

// The executable's process-warning filter and the registry it reads its names from: small, so
// main.ts can import it without loading the program (program.ts).

/**
 * Process warnings the cloud SDKs emit on every live command that are not for Bulkhead's users,
 * as each provider names them (TargetDescriptor.silencedProcessWarnings: an SDK's notice that it
 * will need a newer Node, a credential library probing a metadata server). The README states the
 * Node support policy.
 */
export function silencedProcessWarnings(): readonly string[] {
  // No SDK is loaded before a command's action, and `run` loads the registry before any action.
  return registry?.targetDescriptors().flatMap((d) => d.silencedProcessWarnings ?? []) ?? [];
}

/**
 * The target descriptors (src/targets.ts), loaded by `run` for everything but `--version`: they
 * import each provider's target.ts and its helpers (~15 modules), which `bulkhead --version` has
 * no use for (issue 11.0: start-up). Exported for tests of the process-warning filter.
 */
export async function loadRegistry(): Promise<typeof Targets> {
  return (registry ??= await import('../targets.js'));
}
let registry: typeof Targets | undefined;

/** True when a `process.emitWarning(warning, typeOrOptions, code)` call is one of the SDK notices above. */
export function isSilencedProcessWarning(warning: unknown, typeOrOptions?: unknown, code?: unknown): boolean {
  const names: unknown[] = [code];
  if (warning instanceof Error) names.push(warning.name, (warning as { code?: unknown }).code);
  if (typeof typeOrOptions === 'string') names.push(typeOrOptions);
  else if (typeOrOptions !== null && typeof typeOrOptions === 'object') {
    const o = typeOrOptions as { type?: unknown; code?: unknown };
    names.push(o.type, o.code);
  }
  const message = warning instanceof Error ? warning.message : String(warning);
  return silencedProcessWarnings().some((n) => names.includes(n) || message.startsWith(n));
}

/**
 * Drops the SDK notices from `process.emitWarning`; every other process warning still reaches
 * Node's own handler and prints as usual. Installed by the `bulkhead` executable only.
 */
export function installProcessWarningFilter(): void {
  const original = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  const filtered = (...args: unknown[]): void => {
    if (registry === undefined) {
      // The names come from the registry, which `--version` does not load: decide once it is.
      void loadRegistry().then(
        () => filtered(...args),
        () => original(...args),
      );
      return;
    }
    if (isSilencedProcessWarning(args[0], args[1], args[2])) return;
    original(...args);
  };
  process.emitWarning = filtered as typeof process.emitWarning;
}
