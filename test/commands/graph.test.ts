import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SegmentGraph } from '../../src/graph/build.js';
import { runCli } from '../helpers/cli.js';
import { BASE_MODEL, writeFiles } from '../model/write-model.js';

const repo = new URL('../../', import.meta.url).pathname;

describe('bulkhead graph', () => {
  it('prints Mermaid by default, byte-identical across runs', async () => {
    const a = await runCli(['graph', 'policies/shop.yaml'], { cwd: repo });
    const b = await runCli(['graph', 'policies/shop.yaml', '--format', 'mermaid'], { cwd: repo });
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    expect(a.stdout).toMatch(/^%% bulkhead graph of model shop\nflowchart LR\n {2}subgraph c0\["backend"\]\n/);
    expect(a.stdout).toMatch(/ -->\|"tcp\/8080, tcp\/9000-9010"\| /);
  });

  it('--format json and dot; --out writes the file and says so on stderr', async () => {
    const json = await runCli(['graph', 'policies/shop.yaml', '--format', 'json'], { cwd: repo });
    expect(json.code).toBe(0);
    const g = JSON.parse(json.stdout) as SegmentGraph;
    expect(g.formatVersion).toBe(1);
    expect(g.nodes.filter((n) => n.kind === 'segment').map((n) => n.label)).toEqual(['app', 'db', 'lb', 'web']);

    const dir = writeFiles({ 'm.yaml': BASE_MODEL });
    const dot = await runCli(['graph', 'm.yaml', '--format', 'dot', '--out', 'out/m.dot'], { cwd: dir });
    expect(dot.code, dot.stderr).toBe(0);
    expect(dot.stdout).toBe('');
    expect(dot.stderr).toBe('Wrote the dot graph of demo to out/m.dot\n');
    expect(readFileSync(join(dir, 'out/m.dot'), 'utf8')).toContain('"segment:web" -> "segment:db" [label="tcp/5432"];');
  });

  it('refuses an unknown format and an invalid model, exit 1, nothing on stdout', async () => {
    const bad = await runCli(['graph', 'policies/shop.yaml', '--format', 'svg'], { cwd: repo });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('unknown --format "svg" (use mermaid, dot, json, html)');
    const proto = await runCli(['graph', 'policies/shop.yaml', '--format', 'constructor'], { cwd: repo });
    expect(proto.code).toBe(1);
    expect(proto.stderr).toContain('unknown --format "constructor"');

    const dir = writeFiles({ 'm.yaml': BASE_MODEL.replace('from: web', 'from: wbe') });
    const r = await runCli(['graph', 'm.yaml'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/m\.yaml:\d+:\d+: error: .*wbe/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('writes HTML to stdout only when it is not a terminal', async () => {
    const tty = await runCli(['graph', 'policies/shop.yaml', '--format', 'html'], { cwd: repo, tty: true });
    expect(tty.code).toBe(1);
    expect(tty.stdout).toBe('');
    expect(tty.stderr).toContain('--format html writes a whole web page: give --out FILE');
    const piped = await runCli(['graph', 'policies/shop.yaml', '--format', 'html'], { cwd: repo });
    expect(piped.code).toBe(0);
    expect(piped.stdout).toMatch(/^<!DOCTYPE html>\n/);
  });

  it('reports an unwritable --out as a usage error', async () => {
    const dir = writeFiles({ 'm.yaml': BASE_MODEL, file: 'x' });
    const r = await runCli(['graph', 'm.yaml', '--out', 'file/g.mmd'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^Error: cannot write file\/g\.mmd: E[A-Z]+\n$/);
  });
});
