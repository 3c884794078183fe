/**
 * The import rules `npm test` checks (scripts/check-imports.mjs runs dependency-cruiser with them
 * over the transpiled src/ and providers/, so these are the imports Node runs).
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'An import cycle makes load order matter and the layers meaningless. A cycle closed only by a lazy `await import()` ' +
        '(a provider loading its SDK-side module on first use) is not one: nothing of it runs while the modules load.',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['dynamic-import'] } },
    },
    {
      name: 'cli-is-the-top',
      severity: 'error',
      comment:
        'src/commands/ is the CLI: it imports the engine, nothing below imports it. Only the library entry src/index.ts ' +
        're-exports `run` from it.',
      from: { pathNot: ['^src/commands/', '^src/index\\.[jt]s$'] },
      to: { path: '^src/commands/' },
    },
    {
      name: 'core-knows-no-cloud',
      severity: 'error',
      comment:
        'src/ reaches providers only through the registry, providers/index.ts (and its descriptor half, ' +
        'providers/descriptors.ts, which model validation loads alone); a provider folder is its own.',
      from: { path: '^src/' },
      to: { path: '^providers/', pathNot: ['^providers/(index|descriptors)\\.[jt]s$', '^providers/kit/'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist)/' },
    enhancedResolveOptions: { extensions: ['.js', '.json'] },
  },
};
