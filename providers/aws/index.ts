import type { RuleSet, TargetSpec } from '../../src/compile/types.js';
import { ProviderError } from '../../src/errors.js';
import type { Resource } from '../../src/plan/types.js';
import type { Provider, ProviderEntry, ReadContext, RenderContext } from '../../src/provider.js';
import { createAwsApplier, type AwsApplierTuning } from './apply.js';
import { awsCliJson } from './cli-json.js';
import { createAwsLocker } from './lock.js';
import { createEc2Client, exportRaw, readAws, type AwsClientOptions } from './read.js';
import { createRenderShare } from '../kit/render-share.js';
import { renderAws } from './render.js';
import { snapshotFiles } from './snapshot.js';
import { validateAws } from './validate.js';
import { awsTarget } from './target.js';
import { awsRuleFlows } from './rule-flows.js';

/** Options of the AWS provider: how to build EC2 clients, and applier knobs (tests). */
export interface AwsProviderOptions extends AwsClientOptions {
  readonly tuning?: AwsApplierTuning;
}

/**
 * The AWS provider: security groups and managed prefix lists (DESIGN §2 AWS). `validate` and
 * `render` are pure; `read`, the applier and `exportSnapshot` talk to EC2 through
 * `@aws-sdk/client-ec2` (adaptive retry) or read the AWS CLI's JSON exports. Nothing this module
 * imports loads the SDK: a live read, an apply step or an export loads it with `await import()`,
 * so render, validate and snapshot plans never pay for it.
 */
export function createAwsProvider(options: AwsProviderOptions = {}) {
  // Which model owns what, when the engine does not pass a ReadContext: remembered from the
  // validate/render calls that precede every read of a plan.
  const seen = new Map<string, ReadContext>();
  const remember = (rules: RuleSet, target: TargetSpec) => seen.set(target.name, { model: rules.model.name, segments: rules.segments });
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
    read(target, source, context) {
      const owner = context ?? seen.get(target.name);
      return readAws(target, source, { model: owner?.model, ...(owner?.segments ? { segments: owner.segments } : {}) }, options);
    },
    createApplier(target, state, applierOptions) {
      if (target.kind !== 'aws') throw new ProviderError(`target ${target.name} is not an AWS target`);
      // The client (and the SDK) is made when the first step runs: creating an applier loads nothing.
      const client = () => createEc2Client(target, applierOptions.endpoint, options);
      return createAwsApplier(target, state.resources, client, applierOptions, options.tuning, state.fingerprint);
    },
    async exportSnapshot(target, liveOptions) {
      return snapshotFiles(await exportRaw(target, liveOptions.endpoint, options));
    },
    toCliJson(resources, target) {
      return awsCliJson(resources, target);
    },
    lock: createAwsLocker(options),
    ruleFlows: awsRuleFlows,
  } satisfies Provider;
}

/** The AWS provider's registry entry (providers/index.ts). */
export const awsProvider: ProviderEntry<'aws'> = { target: awsTarget, create: () => createAwsProvider() };
