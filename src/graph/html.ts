import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { InternalError } from '../errors.js';
import type { SegmentGraph } from './build.js';
import { GRAPH_COLORS } from './mermaid.js';

/**
 * The HTML writer of `bulkhead graph --format html`: ONE self-contained page that works offline.
 * The layout is ELK's (elkjs, the Eclipse Layout Kernel compiled to JavaScript: layered layout
 * with compound nodes, so tiers are real clusters), inlined from the installed package with its
 * license headers; a small renderer below draws SVG from ELK's result. A Content-Security-Policy
 * of `default-src 'none'` keeps the page from loading anything at all.
 *
 * When the layout is drawn the renderer sets `data-layout="done"` on <body> (and
 * `data-layout="failed"` with the reason in #bulkhead-error otherwise): tests and tools wait for
 * that attribute, never for the load event alone.
 */

const require = createRequire(import.meta.url);

/** elkjs's browser bundle, its version and license, read once from node_modules (it is a dependency). */
let elkBundle: { readonly code: string; readonly version: string; readonly license: string } | undefined;

function loadElk(): NonNullable<typeof elkBundle> {
  if (elkBundle) return elkBundle;
  const path = require.resolve('elkjs/lib/elk.bundled.js');
  const pkg = JSON.parse(readFileSync(require.resolve('elkjs/package.json'), 'utf8')) as {
    version?: string;
    license?: string;
  };
  const code = readFileSync(path, 'utf8');
  // Inside <script>, only `</script` (any case) and `<!--` can end or derail the element early.
  if (/<\/script|<!--/i.test(code))
    throw new InternalError(`${path} contains "</script" or "<!--" and cannot be inlined`);
  elkBundle = { code, version: pkg.version ?? 'unknown', license: pkg.license ?? 'unknown' };
  return elkBundle;
}

/** Text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/**
 * JSON safe inside a <script type="application/json">: `<` is written `\u003c` (so no `</script>`
 * or `<!--` can appear), and U+2028/U+2029 escaped too. JSON.parse reads it back unchanged.
 */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

const C = GRAPH_COLORS;

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 16px; color: #202124; background: #fff; }
h1 { font-size: 18px; margin: 0 0 4px; }
p.meta { margin: 0 0 12px; color: #5f6368; }
#bulkhead-error { color: ${C.deny}; font-weight: bold; }
#bulkhead-graph-view svg { max-width: 100%; height: auto; }
svg text { font: 13px sans-serif; fill: #202124; }
svg text.edge-label { font-size: 11px; fill: #3c4043; }
svg .edge-deny text.edge-label { fill: ${C.deny}; }
svg .cluster rect { fill: #f8f9fa; stroke: ${C.segmentStroke}; stroke-dasharray: 4 3; }
svg .cluster text { font-weight: bold; fill: ${C.segmentStroke}; }
svg .node-segment rect, svg .node-all-segments rect { fill: ${C.segment}; stroke: ${C.segmentStroke}; }
svg .node-all-segments rect { stroke-dasharray: 4 2; }
svg .node-entity rect, svg .node-any rect { fill: ${C.entity}; stroke: ${C.entityStroke}; }
svg .node-internet rect { fill: ${C.internet}; stroke: ${C.internetStroke}; }
svg .node-note rect { fill: ${C.note}; stroke: ${C.noteStroke}; }
svg .edge path { fill: none; stroke: #5f6368; stroke-width: 1.5; }
svg .edge-deny path { stroke: ${C.deny}; stroke-dasharray: 6 4; stroke-width: 2; }
svg .edge-note path { stroke: ${C.noteStroke}; stroke-dasharray: 2 3; }
ul.legend { list-style: none; padding: 0; display: flex; gap: 16px; color: #5f6368; }
`;

/**
 * The renderer: reads the graph JSON, asks ELK for a layout (tiers as compound nodes, coordinates
 * relative to the root) and draws it as SVG with DOM calls only (textContent, setAttribute), so no
 * name from the model is ever parsed as markup. Plain ES2017 for any current browser.
 */
const RENDERER = String.raw`
(function () {
  'use strict';
  var body = document.body;
  var SVG = 'http://www.w3.org/2000/svg';
  function fail(err) {
    body.setAttribute('data-layout', 'failed');
    var p = document.getElementById('bulkhead-error');
    p.hidden = false;
    p.textContent = 'The layout failed: ' + (err && err.message ? err.message : String(err));
  }
  function el(name, attrs, parent) {
    var e = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, String(attrs[k])); });
    if (parent) parent.appendChild(e);
    return e;
  }
  function text(parent, content, attrs) {
    var t = el('text', attrs, parent);
    t.textContent = content;
    return t;
  }
  try {
    var graph = JSON.parse(document.getElementById('bulkhead-graph').textContent);
    var ctx = document.createElement('canvas').getContext('2d');
    var width = function (t, font) { ctx.font = font; return Math.ceil(ctx.measureText(t).width); };
    var NODE_FONT = '13px sans-serif', EDGE_FONT = '11px sans-serif';
    var info = new Map();
    var clusters = new Map();
    var root = {
      id: '__bulkhead_root',
      layoutOptions: {
        'elk.algorithm': 'layered',
        'elk.direction': 'RIGHT',
        'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
        'elk.json.edgeCoords': 'ROOT',
        'elk.json.shapeCoords': 'ROOT',
        'elk.edgeLabels.placement': 'CENTER',
        'elk.layered.spacing.nodeNodeBetweenLayers': '60',
        'elk.spacing.nodeNode': '24',
        'elk.padding': '[top=12,left=12,bottom=12,right=12]'
      },
      children: [],
      edges: []
    };
    graph.clusters.forEach(function (c) {
      var node = {
        id: c.id,
        labels: [{ text: c.label, width: width(c.label, 'bold ' + NODE_FONT), height: 16 }],
        layoutOptions: { 'elk.padding': '[top=30,left=14,bottom=14,right=14]', 'elk.nodeLabels.placement': '[H_LEFT, V_TOP, INSIDE]' },
        children: []
      };
      clusters.set(c.id, { cluster: c, node: node });
      root.children.push(node);
    });
    graph.nodes.forEach(function (n) {
      info.set(n.id, n);
      var node = { id: n.id, width: Math.max(64, width(n.label, NODE_FONT) + 28), height: n.kind === 'note' ? 40 : 34 };
      var parent = n.parent !== undefined ? clusters.get(n.parent) : undefined;
      (parent ? parent.node.children : root.children).push(node);
    });
    graph.edges.forEach(function (e) {
      var edge = { id: e.id, sources: [e.from], targets: [e.to] };
      if (e.label) edge.labels = [{ text: e.label, width: width(e.label, EDGE_FONT) + 8, height: 14 }];
      root.edges.push(edge);
    });
    var byId = new Map(graph.edges.map(function (e) { return [e.id, e]; }));
    new ELK().layout(root).then(function (layout) {
      var svg = el('svg', { xmlns: SVG, width: layout.width, height: layout.height, viewBox: '0 0 ' + layout.width + ' ' + layout.height, role: 'img' });
      var defs = el('defs', {}, svg);
      [['arrow-allow', '#5f6368'], ['arrow-deny', '${C.deny}']].forEach(function (m) {
        var marker = el('marker', { id: m[0], viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 8, markerHeight: 8, orient: 'auto-start-reverse' }, defs);
        el('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: m[1] }, marker);
      });
      var clusterLayer = el('g', { class: 'clusters' }, svg);
      var edgeLayer = el('g', { class: 'edges' }, svg);
      var nodeLayer = el('g', { class: 'nodes' }, svg);
      var placed = new Map();
      (function walk(n) { (n.children || []).forEach(function (c) { placed.set(c.id, c); walk(c); }); })(layout);
      clusters.forEach(function (entry, id) {
        var c = placed.get(id);
        var g = el('g', { class: 'cluster', 'data-id': id, 'data-name': entry.cluster.label }, clusterLayer);
        el('rect', { x: c.x, y: c.y, width: c.width, height: c.height, rx: 8 }, g);
        var label = (c.labels && c.labels[0]) || { x: c.x + 14, y: c.y + 6 };
        text(g, entry.cluster.label, { x: label.x, y: label.y + 12 });
      });
      (layout.edges || []).forEach(function (e) {
        var data = byId.get(e.id);
        var g = el('g', { class: 'edge edge-' + data.kind, 'data-id': e.id, 'data-from': data.from, 'data-to': data.to }, edgeLayer);
        (e.sections || []).forEach(function (s) {
          var pts = [s.startPoint].concat(s.bendPoints || [], [s.endPoint]);
          var d = pts.map(function (p, i) { return (i === 0 ? 'M ' : 'L ') + p.x + ' ' + p.y; }).join(' ');
          var attrs = { d: d };
          if (data.kind !== 'note') attrs['marker-end'] = 'url(#' + (data.kind === 'deny' ? 'arrow-deny' : 'arrow-allow') + ')';
          el('path', attrs, g);
        });
        (e.labels || []).forEach(function (l) { text(g, l.text, { class: 'edge-label', x: l.x + 4, y: l.y + 11 }); });
      });
      var drawn = 0;
      graph.nodes.forEach(function (n) {
        var p = placed.get(n.id);
        if (!p) throw new Error('ELK placed no node ' + n.id);
        var g = el('g', { class: 'node node-' + n.kind, 'data-id': n.id, 'data-kind': n.kind, 'data-name': n.label }, nodeLayer);
        var tip = el('title', {}, g);
        tip.textContent = [n.label].concat(n.detail).join('\n');
        var round = n.kind === 'segment' ? 6 : n.kind === 'note' ? 0 : p.height / 2;
        el('rect', { x: p.x, y: p.y, width: p.width, height: p.height, rx: round }, g);
        text(g, n.label, { x: p.x + p.width / 2, y: p.y + p.height / 2 + 4, 'text-anchor': 'middle' });
        drawn++;
      });
      document.getElementById('bulkhead-graph-view').appendChild(svg);
      body.setAttribute('data-node-count', String(drawn));
      body.setAttribute('data-layout', 'done');
    }).catch(fail);
  } catch (err) {
    fail(err);
  }
})();
`;

/** The graph as one self-contained HTML page (ELK inlined, no network, no external files). */
export function formatGraphHtml(graph: SegmentGraph): string {
  const elk = loadElk();
  const title = `Bulkhead graph: ${graph.model.name}`;
  const segments = graph.nodes.filter((n) => n.kind === 'segment').length;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="bulkhead graph">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body data-layout="pending">
<h1>${escapeHtml(title)}</h1>
<p class="meta">${escapeHtml(graph.model.file)}: ${segments} segment${segments === 1 ? '' : 's'}, ${graph.edges.filter((e) => e.kind === 'allow').length} allowed pairs. Solid arrows: allowed flows (ports on the arrow). Dashed red: guardrail denies. Notes: <code>only</code> guardrails. Hover a node for its addresses.</p>
<p id="bulkhead-error" hidden></p>
<noscript><p>This page draws the graph with JavaScript (no network needed).</p></noscript>
<div id="bulkhead-graph-view"></div>
<script id="bulkhead-graph" type="application/json">${scriptJson(graph)}</script>
<script>
/* elkjs ${elk.version} (https://github.com/kieler/elkjs), license ${elk.license}: the Eclipse Layout Kernel, inlined unchanged below with its license headers. */
${elk.code}
</script>
<script>${RENDERER}</script>
</body>
</html>
`;
}
