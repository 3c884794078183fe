import { formatPos } from '../diagnostics.js';
import type { Json } from '../plan/types.js';
import { formatPortMatch } from '../model/services.js';
import type { RuleSet } from '../compile/types.js';
import type { ResolvedFqdns } from '../resolve.js';
import { explainDisagreement, targetVerdict, type Disagreement, type TargetVerdict } from './effective.js';
import { modelVerdict, type ModelRuleRef, type ModelVerdict } from './model-verdict.js';
import type { EvaluateOptions, NativeRuleRef } from './native.js';
import type { Probe, ProbeEndpoint } from './probe.js';
import type { ReachTarget } from './targets.js';

/**
 * `explain`'s answer (DESIGN §7): the model's verdict with the deciding rule or guardrail, and
 * each target's effective verdict with the deciding native rules, plus why a target disagrees.
 * Pure: the command reads the state and prints; this decides and shapes.
 */

/** One target's part of the answer. */
export interface TargetExplanation extends TargetVerdict {
  readonly target: string;
  readonly source: 'live' | 'snapshot';
  /** Present when the target's verdict differs from the model's. */
  readonly disagreement?: Disagreement;
}

/** The whole answer. */
export interface Explanation {
  readonly probe: Probe;
  readonly model: ModelVerdict;
  readonly targets: readonly TargetExplanation[];
}

/** Decides a probe on the model and on every prepared target. */
export function explainProbe(
  rules: RuleSet,
  probe: Probe,
  targets: readonly ReachTarget[],
  resolved: ResolvedFqdns,
  options: EvaluateOptions = {},
): Explanation {
  const model = modelVerdict(rules, probe, { resolved });
  return {
    probe,
    model,
    targets: targets.map((t) => {
      const live = targetVerdict(t.live, rules, t.target, probe, resolved);
      const rendered =
        live.verdict === model.verdict ? undefined : targetVerdict(t.rendered, rules, t.target, probe, resolved);
      const disagreement = explainDisagreement(model, live, rendered, options);
      return { target: t.target.name, source: t.source, ...live, ...(disagreement ? { disagreement } : {}) };
    }),
  };
}

/** How the model names an end. */
export function endpointText(e: ProbeEndpoint): string {
  return e.kind === 'address' ? e.address : e.name;
}

function ruleJson(r: ModelRuleRef): Json {
  return {
    id: r.id,
    segment: r.segment,
    direction: r.direction,
    peer: r.peer,
    service: r.service,
    file: r.pos.file,
    line: r.pos.line,
    column: r.pos.column,
  };
}

function modelJson(m: ModelVerdict): Json {
  switch (m.verdict) {
    case 'allow':
      return { verdict: 'allow', rule: ruleJson(m.rule), rules: m.rules.map(ruleJson) };
    case 'deny':
      if (m.reason === 'guardrail') {
        const g = m.guardrail;
        return {
          verdict: 'deny',
          reason: 'guardrail',
          guardrail: {
            name: g.name,
            id: g.id,
            direction: g.direction,
            file: g.pos.file,
            line: g.pos.line,
            column: g.pos.column,
          },
          detail: m.detail,
        };
      }
      return {
        verdict: 'deny',
        reason: m.reason,
        detail: m.detail,
        ...(m.reason === 'default-deny' && m.rules.length ? { rules: m.rules.map(ruleJson) } : {}),
      };
  }
}

function nativeJson(r: NativeRuleRef): Json {
  return {
    object: r.object,
    rule: r.rule,
    ...(r.id ? { id: r.id } : {}),
    direction: r.direction,
    action: r.action,
    ...(r.priority !== undefined ? { priority: r.priority } : {}),
    owned: r.owned,
    kind: r.kind,
    summary: r.summary,
  };
}

/** The JSON of DESIGN §7: `{"probe", "model": {"verdict", …}, "targets": {"<name>": {"verdict", "rules", …}}}`. */
export function explanationJson(e: Explanation): Json {
  const targets: { [name: string]: Json } = {};
  for (const t of e.targets) {
    targets[t.target] = {
      verdict: t.verdict,
      source: t.source,
      agrees: t.disagreement === undefined,
      rules: t.rules.map(nativeJson),
      ...(t.notes.length ? { notes: [...t.notes] } : {}),
      ...(t.disagreement ? { disagreement: { cause: t.disagreement.cause, message: t.disagreement.message } } : {}),
    };
  }
  return {
    probe: {
      from: endpointText(e.probe.source),
      to: endpointText(e.probe.destination),
      port: formatPortMatch(e.probe.service),
    },
    model: modelJson(e.model),
    targets,
  };
}

/** The model's verdict in one line. */
export function modelLine(m: ModelVerdict): string {
  switch (m.verdict) {
    case 'allow': {
      const r = m.rule;
      const other =
        m.rules.length > 1
          ? ` (and ${m.rules
              .slice(1)
              .map((x) => `${x.segment} ${x.direction} ${x.peer} ${x.service}`)
              .join(', ')})`
          : '';
      return `allow: ${r.segment} ${r.direction} ${r.direction === 'ingress' ? 'from' : 'to'} ${r.peer} ${r.service} at ${formatPos(r.pos)}${other}`;
    }
    case 'deny':
      if (m.reason === 'guardrail') return `deny: guardrail "${m.guardrail.name}" at ${formatPos(m.guardrail.pos)}`;
      return `deny: ${m.reason === 'outside-model' ? 'outside the model' : 'default deny'} (${m.detail})`;
  }
}

/** The text report. */
export function formatExplanation(e: Explanation): string {
  const lines = [
    `${endpointText(e.probe.source)} -> ${endpointText(e.probe.destination)} ${formatPortMatch(e.probe.service)}`,
    `  model: ${modelLine(e.model)}`,
  ];
  for (const t of e.targets) {
    const mark = t.disagreement ? '  ≠ model' : '';
    lines.push(`  ${t.target} (${t.source}): ${t.verdict}${mark}`);
    for (const r of t.rules)
      lines.push(
        `    ${r.action === 'allow' ? '+' : '-'} ${r.summary}${r.kind === 'rule' ? (r.owned ? '' : ' [not owned by the model]') : ` [${r.kind === 'default' ? 'cloud default' : 'implied'}]`}`,
      );
    if (t.disagreement) lines.push(`    why: ${t.disagreement.cause}: ${t.disagreement.message}`);
    for (const n of t.notes) lines.push(`    note: ${n}`);
  }
  return `${lines.join('\n')}\n`;
}
