import { existsSync, statSync } from 'node:fs';
import { readFile, readdir, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep, basename } from 'node:path';
import { createRequire } from 'node:module';
import type * as YamlPackage from 'yaml';
import type { LineCounter, Node as YamlNode, Document } from 'yaml';
import { error, type Diagnostic, type SourcePos } from '../diagnostics.js';
import { parseFastYaml } from './fast-yaml.js';
import { didYouMean } from './suggest.js';
import { parseFqdn } from './addresses.js';

/**
 * Loading: YAML text → a small tree that keeps the file:line:column of every node and key, with
 * `include:` followed. Nothing here knows the model's meaning; `validate.ts` does.
 */

/** A YAML node with its position (aliases are resolved, so the tree is a plain tree). */
export type YNode =
  | { readonly kind: 'map'; readonly pos: SourcePos; readonly entries: readonly YEntry[] }
  | { readonly kind: 'seq'; readonly pos: SourcePos; readonly items: readonly YNode[] }
  | { readonly kind: 'scalar'; readonly pos: SourcePos; readonly value: string | number | boolean | null };

/** One `key: value` of a mapping. */
export interface YEntry {
  readonly key: string;
  readonly keyPos: SourcePos;
  readonly value: YNode;
}

/** One file as loaded. */
export interface LoadedFile {
  /** Display path (relative to the working directory when inside it). */
  readonly file: string;
  /** Absolute path. */
  readonly abs: string;
  /** The document's root node; null for an empty file or one that did not parse. */
  readonly root: YNode | null;
  /** True for the model file the run started from. */
  readonly isRoot: boolean;
}

/** A model file and everything it includes, each file once. */
export interface LoadedModel {
  /** Root first, then included files in the order they were first reached. */
  readonly files: readonly LoadedFile[];
  /** The folder include paths must stay in: the nearest ancestor with `.git`, else the root file's folder. */
  readonly repoRoot: string;
}

/** Options for loading. */
export interface LoadOptions {
  /** Working directory: relative paths are resolved against it and positions are shown relative to it. */
  readonly cwd?: string;
}

/** The display form of a path: relative to `cwd` when inside it, else absolute. */
export function displayPath(abs: string, cwd: string): string {
  const rel = relative(cwd, abs);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel.split(sep).join('/') : abs;
}

/** The repository root of a file: nearest ancestor folder holding `.git`, else the file's own folder. */
export function findRepoRoot(absFile: string): string {
  let dir = dirname(absFile);
  for (;;) {
    if (existsSync(join(dir, '.git'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return dirname(absFile);
    dir = parent;
  }
}

/**
 * Most bytes one model (the root file and its includes together) may have. The largest model
 * the benchmarks compile (bench/run.ts: 10,000 segments, ~20 flows each) is about 8 MB; 32 MiB
 * leaves four times that, while a 50 MB file (12 minutes in the general YAML path) is refused at
 * once rather than hanging `validate`.
 */
export const MAX_MODEL_BYTES = 32 * 1024 * 1024;
/**
 * Most nodes alias expansion may produce in one file (what the `yaml` package's `maxAliasCount`
 * guards against: a "billion laughs" bomb, 9 levels of 9 aliases, expands to 9^9 nodes). A
 * `<<: *defaults` of a dozen keys on each of 10,000 segments is ~120,000 nodes; 250,000 is twice
 * that, and reaching it takes a fraction of a second, so a bomb fails fast.
 */
export const MAX_ALIAS_NODES = 250_000;
/**
 * Deepest chain of aliases inside aliased content (an anchor whose content uses an alias whose
 * content uses an alias ...). Real models reuse defaults one or two levels deep; bombs need many
 * levels to grow, so 6 stops them early without getting in the way.
 */
export const MAX_ALIAS_DEPTH = 6;
/**
 * Deepest nesting of mappings and sequences. A model is at most ~8 levels deep (segments, a
 * segment, ingress, an item, ports); 64 is far beyond, and far below where the `yaml` package's
 * parser runs out of memory on `[[[[…` (~100,000 levels) or recursion hits "Maximum call stack".
 */
export const MAX_NESTING_DEPTH = 64;

/**
 * The `yaml` package, loaded the first time a file needs the general path: plain models (the
 * bench's, pci.yaml) take fast-yaml.ts and never need it, and loading it costs ~30-50 ms of every
 * CLI process (issue 11.0). It is CommonJS too, so a synchronous require keeps parseYaml sync.
 */
let yamlPackage: typeof YamlPackage | undefined;
function yaml(): typeof YamlPackage {
  return (yamlPackage ??= createRequire(import.meta.url)('yaml') as typeof YamlPackage);
}
const isAlias = ((n: unknown) => yaml().isAlias(n)) as typeof YamlPackage.isAlias;
const isMap = ((n: unknown) => yaml().isMap(n)) as typeof YamlPackage.isMap;
const isPair = ((n: unknown) => yaml().isPair(n)) as typeof YamlPackage.isPair;
const isScalar = ((n: unknown) => yaml().isScalar(n)) as typeof YamlPackage.isScalar;
const isSeq = ((n: unknown) => yaml().isSeq(n)) as typeof YamlPackage.isSeq;

/** Thrown inside toTree when a limit is reached: the file's tree is abandoned, the diagnostic kept. */
class LimitReached extends Error {
  readonly diagnostic: Diagnostic;
  constructor(diagnostic: Diagnostic) {
    super(diagnostic.message);
    this.diagnostic = diagnostic;
  }
}

/** Line and column (1-based) of an offset, without a LineCounter (for checks before parsing). */
function offsetPos(text: string, file: string, offset: number): SourcePos {
  let line = 1,
    lineStart = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { file, line, column: offset - lineStart + 1 };
}

/**
 * The first place where mappings and sequences nest deeper than MAX_NESTING_DEPTH, by flow
 * brackets and block indentation, scanned before the `yaml` package parses (it is what would run
 * out of memory). Conservative: quoted scalars and comments are skipped.
 */
export function tooDeep(text: string): number | undefined {
  const indents: number[] = [];
  let flow = 0;
  let lineStart = 0;
  while (lineStart <= text.length) {
    let end = text.indexOf('\n', lineStart);
    if (end < 0) end = text.length;
    let i = lineStart;
    const level = (at: number): boolean => {
      const indent = at - lineStart;
      while (indents.length > 0 && indents[indents.length - 1]! >= indent) indents.pop();
      indents.push(indent);
      return indents.length > MAX_NESTING_DEPTH;
    };
    while (i < end && (text[i] === ' ' || text[i] === '-' || text[i] === '\t')) {
      if (text[i] === '-') {
        if (!(i + 1 === end || text[i + 1] === ' ')) break; // `-x`: a scalar
        // `- - x` nests too: each dash opens a sequence at its column.
        if (flow === 0 && level(i)) return i;
      }
      i++;
    }
    if (i < end && text[i] !== '#' && flow === 0 && level(i)) return i;
    for (let j = i; j < end; j++) {
      const c = text[j];
      if (c === '#' && (j === lineStart || text[j - 1] === ' ')) break;
      if ((c === '"' || c === "'") && (j === lineStart || ' [{,:'.includes(text[j - 1]!))) {
        const close = text.indexOf(c, j + 1);
        if (close < 0) break;
        j = close;
        if (close > end) {
          end = text.indexOf('\n', close);
          if (end < 0) end = text.length;
        }
        continue;
      }
      if (c === '[' || c === '{') {
        flow++;
        if (indents.length + flow > MAX_NESTING_DEPTH) return j;
      } else if ((c === ']' || c === '}') && flow > 0) flow--;
    }
    lineStart = end + 1;
  }
  return undefined;
}

/** The anchors a document defines (for "did you mean" on an undefined alias). */
function anchorNames(doc: Document): string[] {
  const names: string[] = [];
  yaml().visit(doc, {
    Node(_key, n) {
      if (n.anchor) names.push(n.anchor);
    },
  });
  return names;
}

/** Builds the position of a YAML offset. */
function posAt(lc: LineCounter, file: string, offset: number): SourcePos {
  const { line, col } = lc.linePos(offset);
  return { file, line, column: col };
}

/** Alias expansion so far in one file (see MAX_ALIAS_NODES, MAX_ALIAS_DEPTH). */
interface Expansion {
  /** Nodes built inside aliased content. */
  nodes: number;
  /** Aliases being expanded around the current node. */
  aliasDepth: number;
  /** Where the outermost alias being expanded is written: the place limit errors point to. */
  outer?: SourcePos;
  /** What each alias node refers to (undefined: no anchor). */
  readonly resolved: Map<object, YamlNode | undefined>;
}

/**
 * Converts a parsed YAML node into a YNode tree; repeated keys are diagnostics. Throws
 * LimitReached past MAX_NESTING_DEPTH, MAX_ALIAS_NODES or MAX_ALIAS_DEPTH.
 */
function toTree(
  node: unknown,
  doc: Document,
  lc: LineCounter,
  file: string,
  diags: Diagnostic[],
  depth = 0,
  exp: Expansion = { nodes: 0, aliasDepth: 0, resolved: new Map() },
): YNode {
  const start = (n: YamlNode | undefined): number => n?.range?.[0] ?? 0;
  const here = () => posAt(lc, file, start(node as YamlNode));
  if (depth > MAX_NESTING_DEPTH) {
    throw new LimitReached(
      error(
        'yaml-too-deep',
        `mappings and sequences nest more than ${MAX_NESTING_DEPTH} levels deep here; a model needs fewer than 10`,
        here(),
      ),
    );
  }
  if (exp.aliasDepth > 0 && ++exp.nodes > MAX_ALIAS_NODES) {
    throw new LimitReached(
      error(
        'yaml-alias-limit',
        `YAML aliases expand to more than ${MAX_ALIAS_NODES.toLocaleString('en-US')} nodes (an alias bomb?); reuse less through aliases`,
        exp.outer ?? here(),
      ),
    );
  }
  if (isAlias(node)) {
    // Alias.resolve walks the whole document; a node reached through many expansions is one
    // alias resolved many times, so each alias is resolved once.
    let target = exp.resolved.get(node);
    if (!exp.resolved.has(node)) exp.resolved.set(node, (target = node.resolve(doc)));
    if (target === undefined) {
      // `*.example.com` unquoted is an alias to the anchor ".example.com", not a name.
      const raw = `*${node.source}`;
      if (node.source.startsWith('.')) {
        const f = parseFqdn(raw);
        throw new LimitReached(
          error(
            f.kind === 'error' ? f.code : 'fqdn-wildcard',
            `${f.kind === 'error' ? f.message : raw} (unquoted, YAML reads ${raw} as an alias; quote it to write a name)`,
            here(),
          ),
        );
      }
      throw new LimitReached(
        error(
          'yaml-undefined-alias',
          `alias ${raw} refers to no anchor &${node.source} defined before it${didYouMean(node.source, anchorNames(doc))}`,
          here(),
        ),
      );
    }
    if (exp.aliasDepth >= MAX_ALIAS_DEPTH) {
      throw new LimitReached(
        error(
          'yaml-alias-limit',
          `YAML aliases nest more than ${MAX_ALIAS_DEPTH} levels deep (an alias inside aliased content, …); reuse less through aliases`,
          exp.outer ?? here(),
        ),
      );
    }
    if (exp.aliasDepth === 0) exp.outer = here();
    exp.aliasDepth++;
    const tree = toTree(target, doc, lc, file, diags, depth + 1, exp);
    exp.aliasDepth--;
    return { ...tree, pos: posAt(lc, file, start(node)) } as YNode;
  }
  if (isMap(node)) {
    const entries: YEntry[] = [];
    const seen = new Map<string, SourcePos>();
    const merged: YNode[] = [];
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const keyNode = pair.key as YamlNode | null;
      if (isScalar(keyNode) && typeof keyNode.value === 'symbol') {
        // A YAML merge key (`<<: *defaults`): its mappings' entries join this one, below.
        const v = pair.value as YamlNode | null;
        for (const src of isSeq(v) ? v.items : [v])
          if (src) merged.push(toTree(src, doc, lc, file, diags, depth + 1, exp));
        continue;
      }
      const key = isScalar(keyNode) ? String(keyNode.value) : keyNode ? String(keyNode) : '';
      const keyPos = posAt(lc, file, keyNode ? start(keyNode) : start(node));
      const first = seen.get(key);
      if (first) {
        diags.push(
          error('duplicate-key', `duplicate key "${key}" (YAML keys must be unique)`, keyPos, [
            { message: `first "${key}" is here`, pos: first },
          ]),
        );
        continue;
      }
      seen.set(key, keyPos);
      const valueNode = pair.value as YamlNode | null;
      const value: YNode =
        valueNode === null || valueNode === undefined
          ? { kind: 'scalar', pos: keyPos, value: null }
          : toTree(valueNode, doc, lc, file, diags, depth + 1, exp);
      entries.push({ key, keyPos, value });
    }
    // Explicit keys win over merged ones; among merged mappings the first one wins (YAML 1.1).
    for (const m of merged) {
      if (m.kind !== 'map') continue;
      for (const e of m.entries) {
        if (seen.has(e.key)) continue;
        seen.set(e.key, e.keyPos);
        entries.push(e);
      }
    }
    return { kind: 'map', pos: posAt(lc, file, start(node)), entries };
  }
  if (isSeq(node)) {
    const items = node.items.map((item) =>
      item === null || item === undefined
        ? ({ kind: 'scalar', pos: posAt(lc, file, start(node)), value: null } as YNode)
        : toTree(item, doc, lc, file, diags, depth + 1, exp),
    );
    return { kind: 'seq', pos: posAt(lc, file, start(node)), items };
  }
  if (isScalar(node)) {
    const v = node.value;
    const value =
      typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v === null ? v : String(v);
    return { kind: 'scalar', pos: posAt(lc, file, start(node)), value };
  }
  return { kind: 'scalar', pos: posAt(lc, file, 0), value: null };
}

/**
 * Parses one YAML text into a YNode tree, with syntax errors and duplicate keys as diagnostics.
 * Plain texts take the fast path (fast-yaml.ts, same tree); `{ fast: false }` forces the general one.
 */
export function parseYaml(
  text: string,
  file: string,
  options: { readonly fast?: boolean } = {},
): { root: YNode | null; diagnostics: Diagnostic[] } {
  if (text.length > MAX_MODEL_BYTES) {
    const mib = MAX_MODEL_BYTES / 1024 / 1024;
    return {
      root: null,
      diagnostics: [
        error(
          'model-too-large',
          `the file is larger than ${mib} MiB, the most a model may have (root file and includes); split it or trim it`,
          offsetPos(text, file, MAX_MODEL_BYTES),
        ),
      ],
    };
  }
  if (options.fast !== false) {
    const root = parseFastYaml(text, file);
    if (root) return { root, diagnostics: [] };
  }
  const diags: Diagnostic[] = [];
  const deep = tooDeep(text);
  if (deep !== undefined) {
    return {
      root: null,
      diagnostics: [
        error(
          'yaml-too-deep',
          `mappings and sequences nest more than ${MAX_NESTING_DEPTH} levels deep here; a model needs fewer than 10`,
          offsetPos(text, file, deep),
        ),
      ],
    };
  }
  const lc = new (yaml().LineCounter)();
  // Duplicate keys are found by toTree (with the first occurrence as related position), through a
  // Map per mapping. The yaml package's own `uniqueKeys` check scans every earlier key of the
  // mapping for each key (quadratic: 50M comparisons for a 10,000-segment `segments:`) and its
  // DUPLICATE_KEY errors were ignored anyway, so it is off.
  const doc = yaml().parseDocument(text, {
    lineCounter: lc,
    uniqueKeys: false,
    prettyErrors: false,
    strict: true,
    merge: true,
  });
  for (const e of doc.errors) {
    if (e.code === 'DUPLICATE_KEY') continue; // never raised with uniqueKeys: false; toTree reports them
    const msg = e.message.split('\n')[0] ?? e.message;
    diags.push(error('yaml-syntax', `YAML syntax error: ${msg}`, posAt(lc, file, e.pos[0])));
  }
  for (const w of doc.warnings) {
    const msg = w.message.split('\n')[0] ?? w.message;
    diags.push(error('yaml-syntax', `YAML: ${msg}`, posAt(lc, file, w.pos[0])));
  }
  if (diags.length > 0) return { root: null, diagnostics: diags };
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    diags.push(
      error('empty-file', 'the file is empty: a model starts with "bulkhead: 1"', { file, line: 1, column: 1 }),
    );
    return { root: null, diagnostics: diags };
  }
  try {
    return { root: toTree(doc.contents, doc, lc, file, diags), diagnostics: diags };
  } catch (e) {
    if (e instanceof LimitReached) return { root: null, diagnostics: [...diags, e.diagnostic] };
    throw e;
  }
}

/** The `include:` items of a file's root: path and position; ignores shapes the schema reports. */
function includeItems(root: YNode | null): { path: string; pos: SourcePos }[] {
  if (root?.kind !== 'map') return [];
  const inc = root.entries.find((e) => e.key === 'include')?.value;
  if (!inc) return [];
  const nodes = inc.kind === 'seq' ? inc.items : [inc];
  const out: { path: string; pos: SourcePos }[] = [];
  for (const n of nodes)
    if (n.kind === 'scalar' && typeof n.value === 'string' && n.value !== '') out.push({ path: n.value, pos: n.pos });
  return out;
}

async function safeRealpath(p: string): Promise<string> {
  try {
    return await realpath(p);
  } catch {
    return p;
  }
}

/** Suggests a file name of the same folder for a missing include. */
async function suggestFile(abs: string): Promise<string> {
  try {
    const names = (await readdir(dirname(abs))).filter((n) => /\.ya?ml$/.test(n));
    return didYouMean(basename(abs), names);
  } catch {
    return '';
  }
}

/**
 * Loads a model file and, depth first, every file it includes. Reports unreadable files, YAML
 * errors, duplicate keys, empty files, include cycles and include paths leaving the repository.
 * Returns every file that could be read, even when there are errors, so validation can go on.
 */
export async function loadModel(
  path: string,
  options: LoadOptions = {},
): Promise<{ model: LoadedModel; diagnostics: Diagnostic[] }> {
  const cwd = options.cwd ?? process.cwd();
  const rootAbs = resolve(cwd, path);
  const repoRoot = await safeRealpath(findRepoRoot(rootAbs));
  const diags: Diagnostic[] = [];
  const files: LoadedFile[] = [];
  const byReal = new Map<string, LoadedFile>();
  let total = 0;

  const visit = async (
    abs: string,
    stack: readonly string[],
    from?: { pos: SourcePos; path: string },
  ): Promise<void> => {
    const file = displayPath(abs, cwd);
    const real = await safeRealpath(abs);
    if (stack.includes(real)) {
      const chain = [...stack.slice(stack.indexOf(real)), real].map((p) => displayPath(p, cwd)).join(' -> ');
      diags.push(error('include-cycle', `include cycle: ${chain}`, from?.pos));
      return;
    }
    if (byReal.has(real)) return; // included twice along different paths (a diamond): load once
    let text: string;
    try {
      if (statSync(abs).isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
      text = await readFile(abs, 'utf8');
    } catch (e) {
      const code = (e as { code?: string }).code;
      const why =
        code === 'ENOENT'
          ? 'no such file'
          : code === 'EISDIR'
            ? 'it is a directory'
            : code === 'EACCES'
              ? 'permission denied'
              : String((e as Error).message);
      if (from) {
        const hint = code === 'ENOENT' ? await suggestFile(abs) : '';
        const shown = file === from.path ? '' : ` (${file})`;
        diags.push(error('include-not-found', `cannot include "${from.path}"${shown}: ${why}${hint}`, from.pos));
      } else {
        diags.push(error('file-not-found', `cannot read ${file}: ${why}`));
      }
      return;
    }
    total += text.length;
    if (total > MAX_MODEL_BYTES && text.length <= MAX_MODEL_BYTES) {
      // Each file is within the limit, the model is not: stop at this include.
      const mib = MAX_MODEL_BYTES / 1024 / 1024;
      diags.push(
        error(
          'model-too-large',
          `the model (root file and includes) is larger than ${mib} MiB, the most a model may have; split it into smaller models`,
          from?.pos ?? { file, line: 1, column: 1 },
        ),
      );
      return;
    }
    const parsed = parseYaml(text, file);
    diags.push(...parsed.diagnostics);
    const loaded: LoadedFile = { file, abs, root: parsed.root, isRoot: from === undefined };
    byReal.set(real, loaded);
    files.push(loaded);
    for (const inc of includeItems(parsed.root)) {
      const target = resolve(dirname(abs), inc.path);
      const targetReal = await safeRealpath(target);
      const rel = relative(repoRoot, targetReal);
      if (rel.startsWith('..') || isAbsolute(rel)) {
        diags.push(
          error(
            'include-outside-repo',
            `include "${inc.path}" leaves the repository (${displayPath(repoRoot, cwd) || '.'}): included files must live inside it`,
            inc.pos,
          ),
        );
        continue;
      }
      await visit(target, [...stack, real], inc);
    }
  };
  await visit(rootAbs, []);
  return { model: { files, repoRoot }, diagnostics: diags };
}

/** The plain JSON value of a tree (for the JSON Schema check). */
export function toPlain(node: YNode): unknown {
  switch (node.kind) {
    case 'map': {
      const o: Record<string, unknown> = {};
      for (const e of node.entries) o[e.key] = toPlain(e.value);
      return o;
    }
    case 'seq':
      return node.items.map(toPlain);
    case 'scalar':
      return node.value;
  }
}

/** The entry of a mapping node by key. */
export function entry(node: YNode | undefined, key: string): YEntry | undefined {
  return node?.kind === 'map' ? node.entries.find((e) => e.key === key) : undefined;
}
