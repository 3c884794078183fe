import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileFile } from '../../src/compile/index.js';
import type { RuleSet } from '../../src/compile/types.js';
import { buildGraph } from '../../src/graph/build.js';
import { formatGraphHtml, scriptJson } from '../../src/graph/html.js';
import { runCli } from '../helpers/cli.js';
import { writeFiles } from '../model/write-model.js';
import { chromiumPath, drawnNodes, dumpDom, layoutState, screenshot } from './chromium.js';

const repo = new URL('../../', import.meta.url).pathname;
/** Chromium on a loaded 2-core CI machine: room for a few slow starts (each run is seconds when idle). */
const CHROMIUM_TEST_TIMEOUT = 300_000;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

async function compiled(file: string, cwd: string): Promise<RuleSet> {
  const r = await compileFile(file, { cwd });
  if (!r.ok) throw new Error(`${file} does not compile: ${JSON.stringify(r.diagnostics)}`);
  return r.value;
}

describe('graph --format html', () => {
  it('is one self-contained page: ELK inlined with its license header, no URL to load anything from', () => {
    const html = formatGraphHtml(
      buildGraph({
        formatVersion: 1,
        model: { name: 'm', digest: 'd', file: 'm.yaml' },
        targets: [],
        segments: [],
        rules: [],
        denies: [],
      }),
    );
    expect(html).toContain('SPDX-License-Identifier: EPL-2.0 OR GPL-3.0-or-later');
    expect(html).toContain('Copyright (c) 2017 Kiel University and others.');
    expect(html).toMatch(/elkjs 0\.\d+\.\d+ .*license EPL-2\.0 OR GPL-3\.0-or-later/);
    expect(html).not.toMatch(/<script[^>]+src=|<link\b|<img\b|@import/i);
    expect(html).toContain(`content="default-src 'none';`);
    expect(html.match(/<script\b/g)).toHaveLength(3);
    expect(html.match(/<\/script>/g)).toHaveLength(3);
  });

  it('keeps markup in names and paths inert inside the embedded JSON', () => {
    const hostile = '</script><script>alert(1)</script><!--\u2028&';
    const text = scriptJson({ file: hostile });
    expect(text).not.toMatch(/[<>&\u2028]/);
    expect(JSON.parse(text)).toEqual({ file: hostile });
  });

  it(
    'draws every segment of the shop example in headless Chromium, and screenshots it',
    async () => {
      chromiumPath(); // fails here, with how to install it, when Chromium is missing
      const dir = mkdtempSync(join(tmpdir(), 'bulkhead-graph-html-'));
      const page = join(dir, 'shop.html');
      const r = await runCli(['graph', 'policies/shop.yaml', '--format', 'html', '--out', page], { cwd: repo });
      expect(r.code, r.stderr).toBe(0);

      const segments = (await compiled('policies/shop.yaml', repo)).segments.map((s) => s.name);
      expect(segments.length).toBeGreaterThan(0);
      const dom = await dumpDom(page);
      const state = layoutState(dom);
      expect(state.error ?? '').toBe('');
      expect(state.layout).toBe('done');
      expect(drawnNodes(dom, 'segment').sort()).toEqual([...segments].sort());
      expect(drawnNodes(dom, 'internet')).toEqual(['internet']);
      // Tiers are drawn as clusters, guardrails as a dashed deny edge and an `only` note.
      expect(dom).toContain('class="cluster" data-id="tier:data" data-name="data"');
      expect(dom).toMatch(
        /<g class="edge edge-deny"[^>]*data-from="internet" data-to="all-segments"><path d="M [\d.]+ [\d.]+/,
      );
      expect(dom).toMatch(/<g class="edge edge-note"[^>]*data-to="segment:db"/);
      expect(dom).toMatch(
        /<g class="edge edge-allow" data-id="allow:segment:web-&gt;segment:app"[^>]*><path d="M [\d.]+ [\d.]+ /,
      );

      const png = join(dir, 'shop.png');
      await screenshot(page, png, { width: 1400, height: 700 });
      const bytes = readFileSync(png);
      expect(bytes.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
      expect(statSync(png).size).toBeGreaterThan(5_000);
      // IHDR: width and height of the image are the window's.
      expect([bytes.readUInt32BE(16), bytes.readUInt32BE(20)]).toEqual([1400, 700]);
    },
    CHROMIUM_TEST_TIMEOUT,
  );

  it(
    'reports a failed layout on <body>, so the check above cannot pass without ELK',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'bulkhead-graph-html-'));
      const good = formatGraphHtml(buildGraph(await compiled('policies/shop.yaml', repo)));
      // An algorithm ELK does not know makes its layout reject.
      const broken = good.replace(`'elk.algorithm': 'layered'`, `'elk.algorithm': 'no-such-algorithm'`);
      expect(broken).not.toBe(good);
      const page = join(dir, 'broken.html');
      writeFileSync(page, broken);
      const state = layoutState(await dumpDom(page));
      expect(state.layout).toBe('failed');
      expect(state.error).toMatch(/^The layout failed: .+/);
    },
    CHROMIUM_TEST_TIMEOUT,
  );

  it(
    'renders a model whose names are keywords and whose file name is markup',
    async () => {
      const model = [
        'bulkhead: 1',
        'name: end',
        'targets:',
        '  aws-prod: { aws: { region: eu-west-1, vpc: vpc-0123456789abcdef0 } }',
        'entities:',
        '  x.y_z: { cidrs: [198.51.100.0/24] }',
        'tiers:',
        '  constructor: [end, node]',
        'segments:',
        '  end: { ingress: [{ from: node, ports: [tcp/80] }] }',
        '  node: { egress: [{ to: x.y_z, ports: [tcp/443] }] }',
        '  subgraph: { ingress: [{ from: internet, ports: [tcp/443] }] }',
        '',
      ].join('\n');
      const file = `we"ird <!--&'.yaml`;
      const dir = writeFiles({ [file]: model });
      const rules = await compiled(file, dir);
      const page = join(dir, 'g.html');
      const r = await runCli(['graph', file, '--format', 'html', '--out', 'g.html'], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
      const dom = await dumpDom(page);
      expect(layoutState(dom).layout).toBe('done');
      expect(drawnNodes(dom, 'segment').sort()).toEqual(rules.segments.map((s) => s.name).sort());
      expect(dom).toContain('<title>Bulkhead graph: end</title>');
      expect(dom).toContain('we"ird &lt;!--&amp;\'.yaml: 3 segments');
    },
    CHROMIUM_TEST_TIMEOUT,
  );
});
