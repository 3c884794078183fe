import type { SegmentGraph } from './build.js';

/**
 * The JSON writer of `bulkhead graph --format json`: the SegmentGraph as it is (`formatVersion`
 * 1; a node's tier is its `parent`, a cluster id), sorted, two-space indented.
 */
export function formatGraphJson(graph: SegmentGraph): string {
  return `${JSON.stringify(graph, null, 2)}\n`;
}
