/** Bulkhead's library API. */
export type * from './compile/types.js';
export type * from './plan/types.js';
export type * from './provider.js';
export type * from './diagnostics.js';
export { run } from './cli.js';
