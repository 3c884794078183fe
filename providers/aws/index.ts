import type { RuleSet, TargetSpec } from '../../src/compile/types.js';
import { ProviderError } from '../../src/errors.js';
import type { Resource } from '../../src/plan/types.js';
import type { Provider, ProviderEntry, ReadContext, RenderContext } from '../../src/provider.js';
import type { AwsApplierTuning } from './apply.js';
import { awsCliJson } from './cli-json.js';
import { createAwsLocker } from './lock.js';
import type { AwsClientOptions } from './read.js';
import { createRenderShare } from '../kit/render-share.js';
import { lazyApplier } from '../kit/lazy.js';
import { renderAws } from './render.js';
import type { Ownership } from './state.js';
import { validateAws } from './validate.js';
import { awsTarget } from './target.js';
import { awsRuleFlows } from './rule-flows.js';
import { awsFlowLogReader } from './flows.js';
import { createAwsInventoryReader } from './inventory.js';

/** Options of the AWS provider: how to build EC2 clients, and applier knobs (tests). */
export interface AwsProviderOptions extends AwsClientOptions {
  readonly tuning?: AwsApplierTuning;
}

/**
 * The AWS provider: security groups and managed prefix lists (DESIGN §2 AWS). `validate` and
 * `render` are pure; `read`, the applier and `exportSnapshot` talk to EC2 through
 * `@aws-sdk/client-ec2` (adaptive retry) or read the AWS CLI's JSON exports. This module imports
 * what render and validate run; read, the applier, export and the evaluator import their modules
 * (and the SDK) with `await import()` on first use, so render, validate and snapshot plans never
 * pay for what they do not run (issue 11.0, start-up).
 */
export function createAwsProvider(options: AwsProviderOptions = {}) {
  // Which model owns what, when the engine does not pass a ReadContext: remembered from the
  // validate/render calls that precede every read of a plan.
  const seen = new Map<string, ReadContext>();
  const remember = (rules: RuleSet, target: TargetSpec) =>
    seen.set(target.name, { model: rules.model.name, segments: rules.segments });
  // validate's render, for the render that follows (the resolved FQDNs are its only context).
  const shared = createRenderShare<Resource[]>();
  return {
    id: 'aws',
    validate(rules: RuleSet, target: TargetSpec, ctx: RenderContext) {
      remember(rules, target);
      if (target.kind !== 'aws') return validateAws(rules, target, ctx);
      const resources = renderAws(rules, target, ctx);
      shared.put([rules, target, ctx.resolved], resources);
      return validateAws(rules, target, ctx, resources);
    },
    render(rules: RuleSet, target: TargetSpec, ctx: RenderContext) {
      remember(rules, target);
      return shared.take([rules, target, ctx.resolved]) ?? renderAws(rules, target, ctx);
    },
    // The assembly of read: the raw state from snapshot.ts (files) or read.ts (EC2), canonical through state.ts.
    async read(target, source, context) {
      const known = context ?? seen.get(target.name);
      const owner: Ownership = {
        model: known?.model,
        ...(known?.segments ? { segments: known.segments } : {}),
        ...(context?.unowned ? { unowned: true } : {}),
        ...(context?.fingerprint === false ? { fingerprint: false } : {}),
      };
      if (target.kind !== 'aws') throw new ProviderError(`target ${target.name} is not an AWS target`);
      const { canonicalState } = await import('./state.js');
      if (source.kind === 'snapshot') {
        const { readSnapshotRaw } = await import('./snapshot.js');
        return canonicalState(await readSnapshotRaw(source.dir, target), target, 'snapshot', owner);
      }
      const { readAwsLive } = await import('./read.js');
      return canonicalState(
        await readAwsLive(target, source.endpoint, options, owner.model === undefined ? undefined : owner),
        target,
        'live',
        owner,
      );
    },
    createApplier(target, state, applierOptions) {
      if (target.kind !== 'aws') throw new ProviderError(`target ${target.name} is not an AWS target`);
      // The applier's module, the client and the SDK load when the first step runs: creating an applier loads nothing.
      return lazyApplier(async () => {
        const [{ createAwsApplier }, { createEc2Client }] = await Promise.all([
          import('./apply.js'),
          import('./read.js'),
        ]);
        const client = () => createEc2Client(target, applierOptions.endpoint, options);
        return createAwsApplier(target, state.resources, client, applierOptions, options.tuning, state.fingerprint);
      });
    },
    async exportSnapshot(target, liveOptions) {
      const [{ exportRaw }, { snapshotFiles }] = await Promise.all([import('./read.js'), import('./snapshot.js')]);
      return snapshotFiles(await exportRaw(target, liveOptions.endpoint, options));
    },
    toCliJson(resources, target) {
      return awsCliJson(resources, target);
    },
    lock: createAwsLocker(options),
    ruleFlows: awsRuleFlows,
    flows: awsFlowLogReader,
    inventory: createAwsInventoryReader(options),
    evaluate: async (target, state, context) => (await import('./evaluate.js')).evaluateAws(target, state, context),
  } satisfies Provider;
}

/** The AWS provider's registry entry (providers/index.ts). */
export const awsProvider: ProviderEntry<'aws'> = { target: awsTarget, create: () => createAwsProvider() };
