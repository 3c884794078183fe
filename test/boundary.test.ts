import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerProvider, targetDescriptors } from '../providers/index.js';
import type { RuleSet, TargetSpec } from '../src/compile/types.js';
import { error } from '../src/diagnostics.js';
import { ProviderError } from '../src/errors.js';
import type { Json, Resource } from '../src/plan/types.js';
import type { Provider, TargetDescriptor } from '../src/provider.js';
import { runCli } from './helpers/cli.js';

/**
 * The core knows no cloud (issue 10, item 2), proved two ways:
 * (a) statically: no module of src/ names a registered provider (its id, its label, the keys of
 *     its config and bindings) outside comments, or imports from a provider's folder;
 * (b) dynamically: a toy provider registered from this test, and nothing else, is validated,
 *     compiled, rendered and planned by the real commands, its schema fragment enforced.
 */

const REPO = join(import.meta.dirname, '..');

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await sourceFiles(p)));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out.sort();
}

/**
 * TypeScript without its comments (strings, template literals and regular expressions kept), so
 * the scan below sees code only: a comment may explain what a cloud does, code may not depend on it.
 */
function stripComments(src: string): string {
  let out = '';
  let i = 0;
  // Template literal nesting: the brace depth at which each open `${` returns to its template.
  const templates: number[] = [];
  let depth = 0;
  // Whether a `/` here starts a regular expression (after an operator or keyword) or divides.
  let regexAllowed = true;
  const n = src.length;
  const readString = (quote: string) => {
    const start = i++;
    while (i < n && src[i] !== quote) i += src[i] === '\\' ? 2 : 1;
    i++;
    out += src.slice(start, i);
  };
  const readTemplate = () => {
    // From just after a backtick or a closing `}` of `${…}`, to the closing backtick or the next `${`.
    const start = i;
    while (i < n && src[i] !== '`') {
      if (src[i] === '\\') i += 2;
      else if (src[i] === '$' && src[i + 1] === '{') {
        i += 2;
        out += src.slice(start, i);
        templates.push(depth);
        depth++;
        regexAllowed = true;
        return;
      } else i++;
    }
    i++;
    out += src.slice(start, i);
    regexAllowed = false;
  };
  while (i < n) {
    const c = src[i]!,
      next = src[i + 1];
    if (c === '/' && next === '/') {
      while (i < n && src[i] !== '\n') i++;
    } else if (c === '/' && next === '*') {
      const end = src.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
      out += ' ';
    } else if (c === '"' || c === "'") {
      readString(c);
      regexAllowed = false;
    } else if (c === '`') {
      out += c;
      i++;
      readTemplate();
    } else if (c === '/' && regexAllowed) {
      const start = i++;
      let inClass = false;
      while (i < n && (inClass || src[i] !== '/') && src[i] !== '\n') {
        if (src[i] === '\\') i++;
        else if (src[i] === '[') inClass = true;
        else if (src[i] === ']') inClass = false;
        i++;
      }
      i++;
      while (i < n && /[a-z]/.test(src[i]!)) i++;
      out += src.slice(start, i);
      regexAllowed = false;
    } else if (c === '{') {
      depth++;
      out += c;
      i++;
      regexAllowed = true;
    } else if (c === '}') {
      depth--;
      i++;
      if (templates.length > 0 && templates[templates.length - 1] === depth) {
        templates.pop();
        out += '}';
        readTemplate();
      } else {
        out += c;
        regexAllowed = true;
      }
    } else if (/[A-Za-z0-9_$]/.test(c)) {
      const start = i;
      while (i < n && /[A-Za-z0-9_$]/.test(src[i]!)) i++;
      const word = src.slice(start, i);
      out += word;
      regexAllowed = [
        'return',
        'typeof',
        'case',
        'in',
        'of',
        'new',
        'delete',
        'void',
        'throw',
        'else',
        'yield',
        'await',
      ].includes(word);
    } else {
      out += c;
      i++;
      if (!/\s/.test(c)) regexAllowed = !/[)\]]/.test(c);
    }
  }
  return out;
}

/** What would show that code of src/ knows a provider: its id and label, the keys of its config and bindings. */
function providerTerms(): string[] {
  // Keys every provider shares (the core parses them), and config keys that are ordinary words of
  // the core's own vocabulary (a CIDR's network, a SARIF region): no evidence of a cloud.
  const generic = new Set([
    'cidrs',
    'description',
    'internalRanges',
    'endpoint',
    'network',
    'region',
    'location',
    'project',
    'profile',
    'context',
    'dns',
    'fqdn',
    'namespace',
  ]);
  const keysOf = (schema: unknown): string[] =>
    Object.keys((schema as { properties?: object } | undefined)?.properties ?? {});
  const terms = new Set<string>();
  for (const d of targetDescriptors()) {
    terms.add(d.id);
    terms.add(d.label);
    for (const k of [...keysOf(d.schema.target), ...keysOf(d.schema.entityBinding), ...keysOf(d.schema.segmentBinding)])
      if (!generic.has(k)) terms.add(k);
  }
  return [...terms].sort();
}

describe('the core knows no cloud', () => {
  it('strips comments and nothing else', () => {
    const code = stripComments(
      "const a = 'x // y'; // aws\nconst r = /\\/\\/gcp/g; /* azure */ const t = `a ${`b ${c}`} // d`;\n",
    );
    expect(code).toBe("const a = 'x // y'; \nconst r = /\\/\\/gcp/g;   const t = `a ${`b ${c}`} // d`;\n");
  });

  it('src/ names no provider and imports no provider folder, outside comments', async () => {
    const terms = providerTerms();
    // The scan must know the bundled providers, or it proves nothing.
    expect(terms).toEqual(
      expect.arrayContaining(['aws', 'AWS', 'azure', 'gcp', 'prefixList', 'groupId', 'serviceAccount', 'vpc', 'nsg']),
    );
    const word = new RegExp(`(?<![A-Za-z0-9_$])(${terms.join('|')})(?![A-Za-z0-9_$])`, 'i');
    const providerImport =
      /(?:from\s*|import\s*\(\s*)['"]((?:\.\.\/)+providers\/(?!(?:index|descriptors)\.js['"]|kit\/)[^'"]*)['"]/;
    const findings: string[] = [];
    for (const file of await sourceFiles(join(REPO, 'src'))) {
      const lines = stripComments(await readFile(file, 'utf8')).split('\n');
      lines.forEach((line, i) => {
        const m = word.exec(line) ?? providerImport.exec(line);
        if (m) findings.push(`${relative(REPO, file)}:${i + 1}: ${m[1]}: ${line.trim()}`);
      });
    }
    expect(findings).toEqual([]);
  });

  it('nothing outside the CLI folder imports it, types included (only the library entry re-exports run)', async () => {
    // dependency-cruiser (npm run check:imports) sees the imports Node runs; this sees `import type` too.
    const findings: string[] = [];
    for (const file of [...(await sourceFiles(join(REPO, 'src'))), ...(await sourceFiles(join(REPO, 'providers')))]) {
      const rel = relative(REPO, file);
      if (rel.startsWith('src/commands/') || rel === 'src/index.ts') continue;
      const code = stripComments(await readFile(file, 'utf8'));
      for (const m of code.matchAll(/(?:from\s*|import\s*\(\s*)['"]([^'"]+)['"]/g)) {
        if (/(^|\/)commands\//.test(m[1]!) && join(file, '..', m[1]!).startsWith(join(REPO, 'src/commands')))
          findings.push(`${rel}: ${m[1]}`);
      }
    }
    expect(findings).toEqual([]);
  });

  it('the scan finds a cloud name or a provider import when there is one', () => {
    const terms = providerTerms();
    const word = new RegExp(`(?<![A-Za-z0-9_$])(${terms.join('|')})(?![A-Za-z0-9_$])`, 'i');
    expect(word.test(stripComments("if (t.kind === 'gcp') x();"))).toBe(true);
    expect(word.test(stripComments('const v = t.config.vpc;'))).toBe(true);
    expect(word.test(stripComments('// gcp only in a comment\nconst x = 1;'))).toBe(false);
  });
});

/** The toy provider's target config. */
interface AcmeConfig {
  readonly zone: string;
  readonly internalRanges?: readonly string[];
}

const acmeTarget: TargetDescriptor<'acme', AcmeConfig> = {
  id: 'acme',
  label: 'Acme',
  aLabel: 'an Acme',
  renders: 'Acme zone filters',
  schema: {
    target: {
      type: 'object',
      additionalProperties: false,
      required: ['zone'],
      properties: {
        zone: { type: 'string', pattern: '^z[0-9]+$', patternErrorMessage: 'a zone like z1' },
        internalRanges: { $ref: '#/definitions/internalRanges' },
      },
    },
    entityBinding: {
      type: 'object',
      additionalProperties: false,
      properties: { bucket: { type: 'string' }, cidrs: { $ref: '#/definitions/cidrs' } },
    },
    segmentBinding: {
      type: 'object',
      additionalProperties: false,
      properties: { tag: { type: 'string' }, labels: { type: 'object', additionalProperties: { type: 'string' } } },
    },
  },
  entityBindingKeys: ['bucket'],
  segmentBindingKeys: ['tag', 'labels'],
  // Not only strings: the provider reads its own mapping (labels), in the order it wants kept.
  parseSegmentBinding: (o) => ({
    ...(o.string('tag') !== undefined ? { tag: o.string('tag') } : {}),
    ...(o.has('labels') ? { labels: o.value('labels') } : {}),
  }),
  parse(c, ctx) {
    const zone = c.string('zone');
    if (zone === undefined) return undefined;
    if (zone !== 'z1') c.report(error('unknown-zone', `"${zone}" is not an Acme zone`, c.pos('zone')));
    return { zone, ...(ctx.internalRanges ? { internalRanges: ctx.internalRanges } : {}) };
  },
  canonical: (c) => ({ zone: c.zone, ...(c.internalRanges ? { internalRanges: [...c.internalRanges] } : {}) }),
  place: (c) => `acme zone ${c.zone}`,
  summary: (c) => `acme zone ${c.zone}`,
  internalRanges: (c) => c.internalRanges ?? ['10.0.0.0/8'],
  endpoint: () => undefined,
  endpointEnv: 'BULKHEAD_ACME_ENDPOINT',
  usesResolvedAddresses: true,
};

/** Renders one filter per segment, a child per rule: enough to see the RuleSet reach a provider. */
function renderAcme(rules: RuleSet, target: TargetSpec): Resource[] {
  return rules.segments.map((s) => {
    const tag = (s as unknown as { acme?: { tag?: string } }).acme?.tag ?? `${rules.model.name}-${s.name}`;
    const children = rules.rules
      .filter((r) => r.segment === s.name)
      .map((r) => {
        const peer = r.peer.kind === 'segment' ? r.peer.name : r.peer.entity;
        const bucket =
          r.peer.kind === 'cloud' ? ((r.peer as unknown as { acme?: { bucket?: string } }).acme?.bucket ?? '') : '';
        const key = `${r.direction} ${peer}${bucket ? ` bucket:${bucket}` : ''}`;
        return { key, summary: key, attributes: { peer: JSON.parse(JSON.stringify(r.peer)) as Json } };
      })
      .sort((a, b) => (a.key < b.key ? -1 : 1));
    return {
      address: `${target.name}.acme_filter.${tag}`,
      target: target.name,
      type: 'acme_filter',
      name: tag,
      attributes: { tag },
      children,
    };
  });
}

const acme: Omit<Provider, 'id'> & { readonly id: string } = {
  id: 'acme',
  validate: (_rules, target) =>
    target.kind === ('acme' as string) ? [] : [error('acme-target', 'not an Acme target', target.pos)],
  render: (rules, target) => renderAcme(rules, target),
  read: async (target) => ({
    target: target.name,
    source: 'snapshot',
    resources: [],
    fingerprint: 'empty',
    diagnostics: [],
  }),
  createApplier: () => {
    throw new ProviderError('acme: no applies in this test');
  },
  exportSnapshot: async () => [],
  toCliJson: (resources) => ({ filters: resources.map((r) => ({ tag: r.name, rules: r.children.map((c) => c.key) })) }),
};

const MODEL = `bulkhead: 1
name: shop
targets:
  lab: { acme: { zone: z1, internalRanges: [10.0.0.0/8] } }
entities:
  store: { acme: { bucket: b1, cidrs: [198.51.100.0/24] } }
segments:
  web:
    acme: { labels: { app: web }, tag: web-tag }
    ingress: [{ from: internet, ports: [tcp/443] }]
    egress: [{ to: store, ports: [tcp/443] }]
  db:
    ingress: [{ from: web, ports: [tcp/5432] }]
`;

describe('a provider registered from outside the core', () => {
  let dir: string;
  let unregister: () => void;
  beforeAll(async () => {
    unregister = registerProvider({ target: acmeTarget, create: () => acme as Provider });
    dir = await mkdtemp(join(tmpdir(), 'bulkhead-acme-'));
    await writeFile(join(dir, 'bulkhead.yaml'), MODEL);
    await writeFile(join(dir, 'dns.json'), '{}');
  });
  afterAll(() => unregister());

  it('is validated: its schema fragment, its own checks, with positions', async () => {
    expect(await runCli(['validate', 'bulkhead.yaml'], { cwd: dir })).toMatchObject({ code: 0 });
    await writeFile(
      join(dir, 'bad.yaml'),
      MODEL.replace('zone: z1,', 'zone: z7, colour: red,').replace(' tag: web-tag', ' tagg: web-tag'),
    );
    const r = await runCli(['validate', 'bad.yaml'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'bad.yaml:4:28: error: targets.lab.acme: unknown key "colour"; expected one of "zone", "internalRanges" [unknown-key]',
    );
    expect(r.stderr).toContain('bad.yaml:4:24: error: "z7" is not an Acme zone [unknown-zone]');
    expect(r.stderr).toContain(
      'bad.yaml:9:35: error: segments.web.acme: unknown key "tagg"; did you mean "tag"? [unknown-key]',
    );
    await writeFile(
      join(dir, 'none.yaml'),
      MODEL.replace('{ acme: { zone: z1, internalRanges: [10.0.0.0/8] } }', '{}'),
    );
    expect((await runCli(['validate', 'none.yaml'], { cwd: dir })).stderr).toMatch(
      /names no cloud: give it one of "aws", "azure", "gcp", "kubernetes" or "acme"/,
    );
  });

  it('is compiled: its config canonical in the RuleSet, its bindings kept', async () => {
    const r = await runCli(['compile', '--json', 'bulkhead.yaml'], { cwd: dir });
    expect(r.code).toBe(0);
    const rules = JSON.parse(r.stdout) as RuleSet;
    expect(rules.targets).toEqual([
      {
        kind: 'acme',
        name: 'lab',
        pos: { file: 'bulkhead.yaml', line: 4, column: 3 },
        acme: { zone: 'z1', internalRanges: ['10.0.0.0/8'] },
      },
    ]);
    const web = rules.segments.find((s) => s.name === 'web') as unknown as { acme: object };
    // The provider's key order, not the file's.
    expect(JSON.stringify(web.acme)).toBe('{"tag":"web-tag","labels":{"app":"web"}}');
    expect(rules.rules.find((x) => x.segment === 'web' && x.peer.kind === 'cloud')?.peer).toEqual({
      kind: 'cloud',
      entity: 'store',
      acme: { bucket: 'b1', ipv4: ['198.51.100.0/24'], ipv6: [] },
    });
    const table = await runCli(['compile', 'bulkhead.yaml'], { cwd: dir });
    expect(table.stdout).toContain('lab  acme zone z1');
  });

  it('is rendered and planned by the real commands', async () => {
    const r = await runCli(['render', '--provider', 'acme', '--snapshots', '.', '--json', 'bulkhead.yaml'], {
      cwd: dir,
    });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({
      filters: [
        { tag: 'shop-db', rules: ['ingress web'] },
        { tag: 'web-tag', rules: ['egress db', 'egress store bucket:b1', 'ingress internet'] },
      ],
    });
    const plan = await runCli(['plan', '--snapshots', '.', '--detailed-exitcode', 'bulkhead.yaml'], { cwd: dir });
    expect(plan.stderr).not.toMatch(/error/i);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain('lab.acme_filter.web-tag');
    const wrong = await runCli(
      ['render', '--provider', 'aws', '--snapshots', '.', '--target', 'lab', 'bulkhead.yaml'],
      { cwd: dir },
    );
    expect(wrong.stderr).toContain('target lab is an Acme target, not AWS');
  });
});
