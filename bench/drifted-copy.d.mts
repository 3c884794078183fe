import type { Resource } from '../src/plan/types.js';

/** A "live" copy of a render: reversed, 5% of the objects drifted (a rule dropped, one added). */
export function driftedCopy(desired: readonly Resource[]): Resource[];
