/**
 * Module resolve hook for a child process: an import of any cloud SDK (or the Google auth and gax
 * libraries under the GCP client) fails, naming the importer (the speed issue, 11.0: start-up).
 */
const SDK = /^(@aws-sdk\/|@smithy\/|@azure\/|@google-cloud\/|google-auth-library|google-gax|@kubernetes\/client-node)/;

export async function resolve(specifier, context, nextResolve) {
  if (SDK.test(specifier)) throw new Error(`forbidden: ${specifier} was imported by ${context.parentURL ?? '?'}`);
  return nextResolve(specifier, context);
}
