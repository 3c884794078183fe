import type { Command } from 'commander';
import { getProvider } from '../../providers/index.js';
import { formatDiagnostics } from './output.js';
import { EXIT, UsageError, ValidationError } from '../errors.js';
import { selectTargets } from '../plan/create-plan.js';
import { collect, loadRules, resolverFor, stateSourceFor } from './engine-context.js';
import { explainProbe, explanationJson, formatExplanation } from '../reach/explain.js';
import type { EvaluateOptions } from '../reach/native.js';
import { parseProbeEndpoint, parseProbeService } from '../reach/probe.js';
import { prepareTargets, readErrors } from '../reach/targets.js';
import { resolveFqdns } from '../resolve.js';
import type { CommandContext, RegisterCommand } from './index.js';

interface ExplainFlags {
  port?: string;
  target?: string[];
  snapshots?: string;
  json?: boolean;
  policyEnforcementOrder?: string;
}

const ORDERS = ['AFTER_CLASSIC_FIREWALL', 'BEFORE_CLASSIC_FIREWALL'] as const;

/** `--policy-enforcement-order`, checked. */
export function evaluateOptionsOf(order: string | undefined): EvaluateOptions {
  if (order === undefined) return {};
  const o = order.toUpperCase();
  if (!(ORDERS as readonly string[]).includes(o))
    throw new UsageError(`unknown --policy-enforcement-order "${order}" (use ${ORDERS.join(' or ')})`);
  return { policyEnforcementOrder: o as (typeof ORDERS)[number] };
}

/**
 * `bulkhead explain FROM TO --port PROTO/PORT [MODEL]`: why FROM can (or cannot) reach TO, in the
 * model (the rule at file:line, or the guardrail, or default deny) and on each target as its cloud
 * evaluates the live state, rules the model does not own included (DESIGN §7). Exit 0 on an
 * answer, 1 on an error.
 */
export const registerExplain: RegisterCommand = (program: Command, ctx: CommandContext) => {
  program
    .command('explain')
    .description('explain whether FROM can reach TO on a port, in the model and on each target (effective state)')
    .argument('<from>', 'a segment, an entity, internet, or an IP address or CIDR')
    .argument('<to>', 'a segment, an entity, internet, or an IP address or CIDR')
    .argument('[file]', 'model file (default: bulkhead.yaml or bulkhead.yml)')
    .option('--port <proto/port>', 'the traffic: tcp/443, udp/53, icmp/8, esp, all')
    .option('--target <name>', 'evaluate only this target (repeatable, or comma-separated)', collect)
    .option(
      '--snapshots <dir>',
      'read state from cloud CLI exports in DIR/<target>/ (and DIR/dns.json) instead of the APIs',
    )
    .option('--json', 'print the answer as JSON')
    .option(
      '--policy-enforcement-order <order>',
      'where the network evaluates its firewall policy: AFTER_CLASSIC_FIREWALL (the default) or BEFORE_CLASSIC_FIREWALL (networkFirewallPolicyEnforcementOrder)',
    )
    .action(async (from: string, to: string, file: string | undefined, flags: ExplainFlags) => {
      const { io } = ctx;
      if (flags.port === undefined)
        throw new UsageError('explain needs --port PROTO/PORT (for example --port tcp/443)');
      const service = parseProbeService(flags.port);
      if (!service.ok) throw new UsageError(`--port: ${service.message}`);
      const options = evaluateOptionsOf(flags.policyEnforcementOrder);
      const rules = await loadRules(file, io);
      const source = parseProbeEndpoint(from, rules);
      if (!source.ok) throw new UsageError(`FROM: ${source.message}`);
      const destination = parseProbeEndpoint(to, rules);
      if (!destination.ok) throw new UsageError(`TO: ${destination.message}`);
      // Unknown --target names fail before anything is resolved or read.
      selectTargets(rules, flags.target);
      const { resolved } = await resolveFqdns(rules, resolverFor(flags.snapshots, io), { allowUnresolved: true });
      const { targets, diagnostics } = await prepareTargets(rules, {
        providers: getProvider,
        source: stateSourceFor(flags.snapshots, io),
        resolved,
        options,
        ...(flags.target ? { targets: flags.target } : {}),
      });
      const failed = readErrors(diagnostics);
      if (failed.length > 0) throw new ValidationError(failed, 'cannot read the targets');
      if (diagnostics.length > 0) io.stderr.write(formatDiagnostics(diagnostics, io));
      const answer = explainProbe(
        rules,
        { source: source.endpoint, destination: destination.endpoint, service: service.service },
        targets,
        resolved,
        options,
      );
      io.stdout.write(flags.json ? `${JSON.stringify(explanationJson(answer), null, 2)}\n` : formatExplanation(answer));
      ctx.setExit(EXIT.ok);
    });
};
