import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseFastYaml } from '../../src/model/fast-yaml.js';
import { parseYaml } from '../../src/model/load.js';

/**
 * The fast YAML path must give exactly the tree (values and positions) of the general path
 * through the `yaml` package, or decline (undefined) so the general path runs.
 */
function expectSameOrDeclined(text: string): 'fast' | 'declined' {
  const fast = parseFastYaml(text, 'm.yaml');
  if (fast === undefined) return 'declined';
  const general = parseYaml(text, 'm.yaml', { fast: false });
  expect(general.diagnostics, text).toEqual([]);
  expect(fast, text).toEqual(general.root);
  return 'fast';
}

/** Unicode white space that is not YAML white space (YAML's is space and tab). */
const UNICODE_SPACES = ['\u00a0', '\u3000', '\u2000', '\u2009', '\u202f', '\u205f', '\u1680', '\u2028', '\u2029'];

const POLICIES = join(import.meta.dirname, '../../policies');

/** A model in the shape of the bench's: block maps and sequences of one-line flow mappings. */
const LARGE = [
  '# a comment',
  'bulkhead: 1',
  'name: bench   # trailing comment',
  'targets:',
  '  aws-bench: { aws: { region: eu-west-1, vpc: vpc-0123456789abcdef0 } }',
  'services:',
  '  https: tcp/443',
  "  api: [tcp/8080, 'tcp/9000-9010']",
  'entities:',
  '  office: { cidrs: [203.0.113.0/24, "2001:db8:100::/48"] }',
  'tiers:',
  '  web: [s0, s1]',
  'guardrails:',
  '  - name: no-ssh',
  '    deny: { from: internet, to: tier:web, ports: [tcp/22] }',
  '  -',
  '    name: other',
  '    only: { to: s1, from: [s0] }',
  'segments:',
  '  s0:',
  '    ingress:',
  '    - { from: s1, ports: [https] }',
  '    - from: [office, internet]',
  '      ports: https',
  '    egress: []',
  '  s1:',
  '    aws: {}',
  '    ingress:',
  '      - { from: s0, ports: [https, api, 6] }',
  '',
].join('\n');

describe('fast YAML path', () => {
  it('gives the general path tree for a bench-shaped model, and takes the fast path for it', () => {
    expect(expectSameOrDeclined(LARGE)).toBe('fast');
  });

  it('takes the fast path for every bundled policy (shop.yaml writes its targets over several lines)', () => {
    for (const dir of [POLICIES, join(POLICIES, 'guardrails')]) {
      for (const f of readdirSync(dir).filter((n) => n.endsWith('.yaml'))) {
        expect(expectSameOrDeclined(readFileSync(join(dir, f), 'utf8')), f).toBe('fast');
      }
    }
  });

  it('gives the general path tree for every bundled policy it accepts', () => {
    let fast = 0;
    for (const dir of [POLICIES, join(POLICIES, 'guardrails')]) {
      for (const f of readdirSync(dir).filter((n) => n.endsWith('.yaml'))) {
        if (expectSameOrDeclined(readFileSync(join(dir, f), 'utf8')) === 'fast') fast++;
      }
    }
    expect(fast).toBeGreaterThan(0);
  });

  it.each([
    [
      'numbers and words',
      'a: 1\nb: 0\nc: 123456\nd: true\ne: False\nf: null\ng: ~\nh: 0123\ni: 1e3\nj: .inf\nk: -1\nl: 0x1F\nm: 1.5\nn: +1\n',
    ],
    ['keys that resolve', '1: a\ntrue: b\nnull: c\nTrue: d\n'],
    ['plain scalars with colons', 'a: tier:web\nb: [tier:web, x:y]\nc: 2001:db8::/32\nd: "2001:db8::/32"\ne: a:\n'],
    ['nested compact mapping', 'a: b: c\n'],
    ['empty values', 'a:\nb: 1\n'],
    ['empty item', '-\n- a\n'],
    ['duplicate keys', 'a: 1\na: 2\n'],
    [
      'duplicate flow keys',
      'a: { b: 1, b: 2 }\n',
      // Past 8 keys the fast path keeps a Set: duplicates before, at and after the switch.
      'a: { k1: 1, k2: 2, k3: 3, k4: 4, k5: 5, k6: 6, k7: 7, k8: 8, k1: 9 }\n',
      'a: { k1: 1, k2: 2, k3: 3, k4: 4, k5: 5, k6: 6, k7: 7, k8: 8, k9: 9, k10: 10, k9: 11 }\n',
      'a: { k1: 1, k2: 2, k3: 3, k4: 4, k5: 5, k6: 6, k7: 7, k7: 8 }\n',
    ],
    ['nested sequences', '- - a\n  - b\n'],
    ['multi-line plain scalar', 'a: b\n  c\n'],
    [
      'multi-line flow',
      'a: { b: 1,\n  c: 2 }\n',
      'a: { b: 1,  # c\n     c: [x,\n   y] }\nd: 1\n',
      'a: [\n  x,\n  y\n  ]\n',
      'a: [\n  x,\n  y\n]\n',
      'a: [\n x,\ny ]\n',
      'a:\n  b: { c: 1,\n  d: 2 }\n',
      'a:\n  b: { c: 1,\n   d: 2 }\n',
      '- { a: 1,\n  b: 2 }\n',
      '- { a: 1,\n b: 2 }\n',
      '- a: { b: 1,\n    c: 2 }\n',
      '- a: { b: 1,\n   c: 2 }\n',
      'a: { b: 1,\n\n  c: 2 }\n',
      'a: { b: 1,\n  # c\n  c: 2 }\n',
      'a: { b: 1,#c\n  c: 2 }\n',
      'a: [x\n  , y]\n',
      'a: [x\n  y]\n',
      'a: [x # c\n  , y]\n',
      'a: { b:\n  1 }\n',
      'a: { b\n  : 1 }\n',
      'a: [x,\n  y] z\n',
      'a: [x,\n  y] # c\nb: 2\n',
      'a: [x,\n  y]\n  b: 2\n',
      'a: [x,\n  "y z", \'q\']\n',
      'a: [x,\n  "y\n  z"]\n',
      'a: [x,\n  {b: 1}]\n',
      'a: [x,\n---\n]\n',
      'a: { b: [1,\n  2], c: 3 }\n',
    ],
    ['sequence at the key indent', 'a:\n- x\n- y\nb: 2\n'],
    ['comments everywhere', '# c\na: # c\n  # c\n  b: c # c\n# c\n  d: e#f\n'],
    ['quotes', 'a: "x # y"\nb: \'it\'\'s\'\nc: "a\\"b"\nd: \'\'\ne: ""\n"f g": 1\n'],
    ['flow edge cases', 'a: []\nb: {}\nc: [a, , b]\nd: [a, b, ]\ne: [ a , b ]\nf: {a: b}\ng: [{ a: 1 }, [x]]\n'],
    ['indented root', '  a: 1\n  b: 2\n'],
    ['documents and directives', '---\na: 1\n', 'a: 1\n...\n', '%YAML 1.2\n---\na: 1\n', 'a: 1\n---\nb: 2\n'],
    ['anchors, aliases, merge keys, tags', 'a: &x 1\nb: *x\n', 'a: &m { x: 1 }\nb:\n  <<: *m\n', 'a: !!str 1\n'],
    ['block scalars', 'a: |\n  x\n', 'a: >\n  x\n'],
    ['whitespace', 'a: 1\r\nb: 2\r\n', 'a:\t1\n', '\ufeffa: 1\n', 'a: 1   \nb: 2\n\n\n'],
    ['bad indentation', 'a:\n  b: 1\n c: 2\n', 'a: 1\n  b: 2\n', '- a\n  - b\n'],
    ['scalar root', 'hello\n', '[a, b]\n', '{ a: 1 }\n', '"x"\n'],
    ['unicode', 'a: café\nb: "日本"\n'],
    [
      'unicode whitespace',
      ...UNICODE_SPACES.flatMap((u) => [
        `name: shop${u}\n`,
        `a: x${u} # c\n`,
        `a: x ${u}\n`,
        `a: [x${u}, y]\n`,
        `a: { k: v${u} }\n`,
        `a:\n  - x${u}\n`,
        `a: ${u}x\n`,
        `a: "x${u}"\n`,
      ]),
    ],
    ['special plain starts', 'a: -x\nb: @x\nc: `x`\nd: ?x\ne: x?\nf: x-y_z.1/2\n'],
    ['explicit keys', '? a\n: b\n'],
    [
      'flow indicators inside block plain scalars',
      'a: b]\nc: d}\ne: f, g\nh: it\'s\ni: a "b"\nj: [x]y\nk: 1_000\nl: yes\n',
    ],
    ['quotes then more', 'a: "x" y\nb: [ "x" y ]\nc: { "k":v }\nd: {"k": v}\n'],
  ])('declines or agrees: %s', (_name, ...texts) => {
    for (const text of texts) expectSameOrDeclined(text);
  });

  const KEYS = ['a', 'b', 'tier:web', 'from', '1', 'true', 'x-y', 'null', '"q"', "'s'"];
  const SCALARS = [
    'x',
    'tcp/443',
    '1',
    '0',
    '012',
    '1.5',
    'true',
    'null',
    '~',
    '"a b"',
    "'c'",
    'tier:web',
    '10.0.0.0/8',
    '',
    '-1',
    'a#b',
    'a #c',
    '"x:y"',
    'é',
  ];
  const line = fc
    .tuple(
      fc.integer({ min: 0, max: 6 }),
      fc.oneof(
        fc
          .tuple(fc.constantFrom(...KEYS), fc.constantFrom(...SCALARS, '[x, y]', '{ a: 1 }', '[{ a: x }]', '[]', '{}'))
          .map(([k, v]) => `${k}: ${v}`),
        fc.constantFrom(...KEYS).map((k) => `${k}:`),
        fc.constantFrom(...SCALARS).map((v) => `- ${v}`),
        fc.tuple(fc.constantFrom(...KEYS), fc.constantFrom(...SCALARS)).map(([k, v]) => `- ${k}: ${v}`),
        fc.constant('-'),
        fc.constant('# comment'),
        fc.constant(''),
      ),
      // Sometimes Unicode white space at the end of the line (or before a comment).
      fc.option(fc.tuple(fc.constantFrom(...UNICODE_SPACES), fc.constantFrom('', ' ', ' # c')), { freq: 3 }),
    )
    .map(([indent, text, tail]) => `${' '.repeat(indent)}${text}${tail ? tail.join('') : ''}`);

  it('declines or agrees on random line soups', () => {
    let fast = 0;
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 10 }), (lines) => {
        if (expectSameOrDeclined(`${lines.join('\n')}\n`) === 'fast') fast++;
      }),
      { numRuns: 3000 },
    );
    expect(fast).toBeGreaterThan(100); // the property is not vacuous
  });

  it('declines or agrees on random documents as the yaml package writes them', () => {
    const leaf = fc.oneof(
      fc.constantFrom(...SCALARS.map((s) => s.replace(/^["']|["']$/g, '')), 1, 0, -1, 1.5, true, null),
      fc.string({ maxLength: 6 }),
    );
    const tree = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, leaf, tie('list'), tie('map')),
      list: fc.array(tie('node'), { maxLength: 4 }),
      map: fc.dictionary(fc.constantFrom('a', 'b', 'from', 'ports', 'tier:x', '1'), tie('node'), { maxKeys: 4 }),
    })).map;
    let fast = 0;
    fc.assert(
      fc.property(tree, fc.boolean(), (doc, flow) => {
        if (expectSameOrDeclined(stringify(doc, flow ? { collectionStyle: 'flow' } : {})) === 'fast') fast++;
      }),
      { numRuns: 1000 },
    );
    expect(fast).toBeGreaterThan(30);
  });
});

describe('fast YAML path over multi-line flow collections', () => {
  it('declines or agrees when a flow document is broken over lines after its commas and brackets', () => {
    const leaf = fc.constantFrom('x', 'tcp/443', '1', 'true', 'tier:web', '"a b"', "'c'", '10.0.0.0/8', 'é');
    const tree: fc.Arbitrary<string> = fc.letrec<{ node: string; list: string; map: string }>((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, leaf, tie('list'), tie('map')),
      list: fc.array(tie('node'), { maxLength: 3 }).map((xs) => `[${xs.join(', ')}]`),
      map: fc
        .uniqueArray(fc.constantFrom('a', 'b', 'from', 'ports'), { maxLength: 3 })
        .chain((keys) => fc.tuple(...keys.map((k) => tie('node').map((v) => `${k}: ${v}`))))
        .map((es) => `{ ${es.join(', ')} }`),
    })).map;
    // After a ',' or an opening bracket, sometimes a line end (with a comment) and some indentation.
    const broken = fc
      .tuple(tree, fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 5 }), fc.boolean()), { maxLength: 40 }))
      .map(([text, breaks]) => {
        let i = 0;
        return text.replace(/([,[{]) /g, (m, ch: string) => {
          const b = breaks[i++];
          if (!b?.[0]) return m;
          return `${ch}${b[2] ? '  # c' : ''}\n${' '.repeat(b[1])}`;
        });
      });
    let fast = 0;
    fc.assert(
      fc.property(broken, fc.integer({ min: 0, max: 2 }), (text, indent) => {
        const doc = `${' '.repeat(indent)}k: ${text}\n${' '.repeat(indent)}z: 1\n`;
        if (expectSameOrDeclined(doc) === 'fast' && doc.split('\n').length > 3) fast++;
      }),
      { numRuns: 1500 },
    );
    expect(fast).toBeGreaterThan(50); // multi-line documents do take the fast path
  });
});

describe('fast YAML path limits', () => {
  it('takes long lines (a tier of 1,000 segments) but declines keys yaml would call too long', () => {
    const members = Array.from({ length: 1000 }, (_, i) => `s${i}`).join(', ');
    expect(expectSameOrDeclined(`tiers:\n  all: [${members}]\n`)).toBe('fast');
    expect(expectSameOrDeclined(`"${'k'.repeat(1100)}": 1\n`)).toBe('declined');
    expectSameOrDeclined(`${'k'.repeat(1100)}: 1\n`);
  });
});

describe('fast and general paths agree on Unicode white space', () => {
  it('keeps a trailing no-break space in a value, whichever path reads the file', async () => {
    const { compileFile } = await import('../../src/compile/index.js');
    const { writeFiles } = await import('./write-model.js');
    for (const u of ['\u00a0', '\u3000']) {
      const plain = `bulkhead: 1\nname: shop${u}\nsegments: { web: {} }\n`;
      // An anchor elsewhere sends the file to the general path; the result must not change.
      const anchored = `${plain}x-defaults: &d { a: 1 }\n`;
      expect(parseYaml(plain, 'm.yaml').root).toEqual(parseYaml(plain, 'm.yaml', { fast: false }).root);
      const codes = [];
      for (const text of [plain, anchored]) {
        const r = await compileFile('m.yaml', { cwd: writeFiles({ 'm.yaml': text }) });
        codes.push(r.diagnostics.map((d) => `${d.pos?.line}:${d.pos?.column} ${d.code}`));
      }
      expect(codes[0]).toEqual(['2:7 bad-value']);
      expect(codes[1]).toEqual(codes[0]);
    }
  });
});
