// The "live" side of the bench's diffs, shared by the phase runs (bench/run.ts, under tsx) and the
// pipeline child (bench/pipeline-child.mjs, plain node on dist/), so both diff the same work.
// Plain JavaScript so that both can load it; its types are in drifted-copy.d.mts.

/** A "live" copy of a render: reversed, 5% of the objects drifted (a rule dropped, one added). */
export function driftedCopy(desired) {
  return [...desired].reverse().map((r, i) => {
    if (i % 20 !== 0) return r;
    const children = r.children.slice(1);
    children.push({ key: `zz-drift-${i}`, summary: 'hand-made rule', attributes: { drift: i } });
    return { ...r, children };
  });
}
