/**
 * Bulkhead's library API: the same pipeline the command line runs, as functions.
 *
 *   compileFile ─▶ RuleSet ─▶ createPlan (providers render, read, diff) ─▶ Plan ─▶ applyPlan
 */
export type * from './compile/types.js';
export type * from './plan/types.js';
export type * from './provider.js';
export type * from './diagnostics.js';
export type { SegmentModel } from './model/types.js';
export type { PlanOptions } from './plan/create-plan.js';
export type { ApplyOptions, ApplyReport, StepOutcome } from './apply/apply-plan.js';
export type { Resolver } from './resolve.js';
export { compileFile, compileRules, loadModel, validateFile, validateModel } from './compile/index.js';
export { createPlan } from './plan/create-plan.js';
export { applyPlan } from './apply/apply-plan.js';
export { diffResources } from './plan/diff.js';
export { formatPlanJson } from './plan/format-json.js';
export { formatPlanMarkdown } from './plan/format-markdown.js';
export { driftToSarif } from './plan/drift-report.js';
export { createDnsResolver, createSnapshotResolver } from './resolve.js';
export { ACTION_SYMBOL } from './plan/types.js';
export { getProvider } from '../providers/index.js';
export type * from '../providers/index.js';
export { run } from './commands/main.js';
