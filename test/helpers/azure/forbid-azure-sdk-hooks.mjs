/**
 * Module resolve hook for a child process: any import of an @azure/* package fails, naming the
 * importer. Lets a test prove that a code path loads no Azure SDK (issue 11.0).
 */
export async function resolve(specifier, context, nextResolve) {
  if (specifier.startsWith('@azure/')) {
    throw new Error(`forbidden: ${specifier} was imported by ${context.parentURL ?? '?'}`);
  }
  return nextResolve(specifier, context);
}
