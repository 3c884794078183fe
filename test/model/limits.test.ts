import { describe, expect, it } from 'vitest';
import { compileFile } from '../../src/compile/index.js';
import { formatPos } from '../../src/diagnostics.js';
import {
  MAX_ALIAS_DEPTH,
  MAX_ALIAS_NODES,
  MAX_MODEL_BYTES,
  MAX_NESTING_DEPTH,
  parseYaml,
} from '../../src/model/load.js';
import { writeFiles } from './write-model.js';

/** `pos code` of every diagnostic of parsing `text` on the general (yaml package) path. */
function parse(text: string): string[] {
  return parseYaml(text, 'm.yaml', { fast: false }).diagnostics.map((d) => `${formatPos(d.pos!)} ${d.code}`);
}

describe('YAML limits (each a named constant, each error with its position)', () => {
  it('stops the 9 levels x 9 aliases bomb at the alias count, without building it', () => {
    let t = 'bulkhead: 1\nx-a0: &a0 [x, x, x, x, x, x, x, x, x]\n';
    for (let i = 1; i < 9; i++)
      t += `x-a${i}: &a${i} [${Array(9)
        .fill(`*a${i - 1}`)
        .join(', ')}]\n`;
    const r = parseYaml(t, 'm.yaml');
    expect(r.root).toBeNull();
    expect(r.diagnostics.map((d) => d.code)).toEqual(['yaml-alias-limit']);
    expect(r.diagnostics[0]!.message).toContain(MAX_ALIAS_NODES.toLocaleString('en-US'));
    expect(r.diagnostics[0]!.pos).toMatchObject({
      file: 'm.yaml',
      line: expect.any(Number),
      column: expect.any(Number),
    });
  });

  it('stops a wide bomb (3 levels x 200 aliases) at the alias count', () => {
    let t = 'bulkhead: 1\nx-a0: &a0 [x, y]\n';
    for (let i = 1; i < 4; i++)
      t += `x-a${i}: &a${i} [${Array(200)
        .fill(`*a${i - 1}`)
        .join(', ')}]\n`;
    expect(parse(t)).toEqual(['m.yaml:5:12 yaml-alias-limit']);
  });

  it('stops aliases nested deeper than MAX_ALIAS_DEPTH, and allows that depth', () => {
    const chain = (n: number) => {
      let t = 'bulkhead: 1\nx-a0: &a0 [x]\n';
      for (let i = 1; i <= n; i++) t += `x-a${i}: &a${i} [*a${i - 1}]\n`;
      return t;
    };
    expect(parse(chain(MAX_ALIAS_DEPTH))).toEqual([]);
    const deep = parse(chain(MAX_ALIAS_DEPTH + 1));
    expect(deep).toEqual([
      `m.yaml:${MAX_ALIAS_DEPTH + 3}:${`x-a${MAX_ALIAS_DEPTH + 1}: &a${MAX_ALIAS_DEPTH + 1} [`.length + 1} yaml-alias-limit`,
    ]);
  });

  it('refuses nesting deeper than MAX_NESTING_DEPTH (flow or block) with a position, never "Maximum call stack"', () => {
    const flow = parseYaml(`bulkhead: 1\na: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`, 'm.yaml');
    expect(flow.diagnostics.map((d) => `${formatPos(d.pos!)} ${d.code}`)).toEqual([
      `m.yaml:2:${3 + MAX_NESTING_DEPTH} yaml-too-deep`,
    ]);
    let block = 'bulkhead: 1\n';
    for (let i = 0; i < 200; i++) block += `${' '.repeat(i)}k:\n`;
    block += `${' '.repeat(200)}v\n`;
    expect(parse(block)).toEqual([`m.yaml:${MAX_NESTING_DEPTH + 2}:${MAX_NESTING_DEPTH + 1} yaml-too-deep`]);
    expect(parse(`bulkhead: 1\na:\n${'- '.repeat(50_000)}x\n`)).toEqual([
      `m.yaml:3:${2 * MAX_NESTING_DEPTH + 1} yaml-too-deep`,
    ]);
    // A model's own depth is fine.
    expect(
      parse('bulkhead: 1\nsegments:\n  web:\n    ingress:\n      - { from: [a, { b: [c] }], ports: [tcp/1] }\n'),
    ).toEqual([]);
  });

  it('refuses a model larger than MAX_MODEL_BYTES, a file or the files together', async () => {
    const big = parseYaml(`bulkhead: 1\nx-pad: "${'a'.repeat(MAX_MODEL_BYTES)}"\n`, 'm.yaml');
    expect(big.diagnostics.map((d) => d.code)).toEqual(['model-too-large']);
    expect(big.diagnostics[0]!.pos).toEqual({ file: 'm.yaml', line: 2, column: MAX_MODEL_BYTES - 12 + 1 });
    const half = `bulkhead: 1\nx-pad: "${'a'.repeat(MAX_MODEL_BYTES / 2)}"\n`;
    const dir = writeFiles({
      'm.yaml': 'bulkhead: 1\nname: demo\ninclude: [a.yaml, b.yaml]\nsegments: { web: {} }\n',
      'a.yaml': half,
      'b.yaml': half,
    });
    const r = await compileFile('m.yaml', { cwd: dir });
    expect(r.diagnostics.map((d) => `${formatPos(d.pos!)} ${d.code}`)).toEqual(['m.yaml:3:19 model-too-large']);
  });

  it('an undefined alias is an error with its position, not an empty value', () => {
    expect(parse('bulkhead: 1\nx-b: &yy 1\nc: *y\n')).toEqual(['m.yaml:3:4 yaml-undefined-alias']);
    expect(parseYaml('bulkhead: 1\nx-b: &yy 1\nc: *y\n', 'm.yaml').diagnostics[0]!.message).toBe(
      'alias *y refers to no anchor &y defined before it; did you mean "yy"?',
    );
  });

  it('an unquoted *.example.com in a list is the documented fqdn-wildcard error at its position', async () => {
    const dir = writeFiles({
      'm.yaml':
        'bulkhead: 1\nname: demo\nentities:\n  cdn: { fqdns: [a.example.com, *.example.com] }\nsegments:\n  web:\n    egress: [{ to: cdn, ports: [tcp/443] }]\n',
    });
    const r = await compileFile('m.yaml', { cwd: dir });
    expect(r.diagnostics.map((d) => `${formatPos(d.pos!)} ${d.code}`)).toEqual(['m.yaml:4:33 fqdn-wildcard']);
    expect(r.diagnostics[0]!.message).toMatch(/^"\*\.example\.com": wildcard FQDNs are not supported .*quote it/);
    const block = writeFiles({
      'm.yaml': 'bulkhead: 1\nname: demo\nentities:\n  cdn:\n    fqdns:\n      - *.example.com\nsegments: {}\n',
    });
    const b = await compileFile('m.yaml', { cwd: block });
    expect(b.diagnostics.map((d) => `${formatPos(d.pos!)} ${d.code}`)).toContain('m.yaml:6:9 fqdn-wildcard');
  });
});
