import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { loadAndValidate } from '../compile/index.js';
import { UsageError } from '../errors.js';
import { buildGraph, onlyGuardrailsOf, type SegmentGraph } from '../graph/build.js';
import { formatGraphDot } from '../graph/dot.js';
import { formatGraphHtml } from '../graph/html.js';
import { formatGraphJson } from '../graph/json.js';
import { formatGraphMermaid } from '../graph/mermaid.js';
import { loadRules, modelPath } from './engine-context.js';
import type { RegisterCommand } from './index.js';

/** The output formats of `bulkhead graph`, each a writer over the one SegmentGraph. */
export const GRAPH_FORMATS: { readonly [format: string]: (graph: SegmentGraph) => string } = {
  mermaid: formatGraphMermaid,
  dot: formatGraphDot,
  json: formatGraphJson,
  html: formatGraphHtml,
};

/**
 * `bulkhead graph [FILE] [--format mermaid|dot|json|html] [--out FILE]`: the model's segments and
 * entities as nodes, tiers as clusters, allowed flows as edges labelled with their ports,
 * guardrail denies as dashed red edges and `only` guardrails as notes.
 */
export const registerGraph: RegisterCommand = (program, ctx) => {
  program
    .command('graph')
    .summary('draw the model: segments, tiers, flows and guardrails')
    .description(
      'Draw the model as a graph: segments and entities as nodes, tiers as clusters, allowed flows as ' +
        'edges labelled with their ports (all flows between two nodes on one edge), guardrail denies as ' +
        'dashed red edges and `only` guardrails as notes. Formats: mermaid (default; GitHub renders it in ' +
        'Markdown), dot (Graphviz), json, html (one self-contained page with the ELK layout engine inlined; ' +
        'opens offline).',
    )
    .argument('[file]', 'model file (default: bulkhead.yaml or bulkhead.yml)')
    .option('--format <format>', `output format: ${Object.keys(GRAPH_FORMATS).join(', ')}`, 'mermaid')
    .option('--out <file>', 'write the graph to FILE instead of stdout')
    .action(async (file: string | undefined, flags: { format: string; out?: string }) => {
      const { io } = ctx;
      const write = Object.hasOwn(GRAPH_FORMATS, flags.format) ? GRAPH_FORMATS[flags.format] : undefined;
      if (!write)
        throw new UsageError(`unknown --format "${flags.format}" (use ${Object.keys(GRAPH_FORMATS).join(', ')})`);
      // 1.6 MB of inlined layout engine is never what a terminal wants to show.
      if (flags.format === 'html' && flags.out === undefined && io.stdoutIsTTY) {
        throw new UsageError('--format html writes a whole web page: give --out FILE (or redirect stdout to a file)');
      }
      const rules = await loadRules(file, io);
      // The RuleSet does not carry `only` guardrails (they leave nothing to render): read them from
      // the validated model, which loadRules has just shown to be valid.
      const model = await loadAndValidate(modelPath(file, io), { cwd: io.cwd });
      const only = model.ok && model.value.kind === 'model' ? onlyGuardrailsOf(model.value) : [];
      const text = write(buildGraph(rules, { only }));
      if (flags.out === undefined) io.stdout.write(text);
      else {
        const path = resolve(io.cwd, flags.out);
        try {
          await mkdir(dirname(path), { recursive: true });
          await writeFile(path, text);
        } catch (err) {
          throw new UsageError(`cannot write ${flags.out}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
        }
        io.stderr.write(`Wrote the ${flags.format} graph of ${rules.model.name} to ${flags.out}\n`);
      }
      ctx.setExit(0);
    });
};
