/** The median of the bench's runs: the middle one, or the mean of the middle two of an even count. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * The model sizes a bench was asked for (`BENCH_SIZES`, the floor's arguments), as numbers of
 * segments. A text that is not a positive whole number ends the process with one line naming it
 * and `from`, and exit code 2, before anything is built.
 */
export function segmentCounts(texts: readonly string[], from: string): number[] {
  return texts.map((text) => {
    const n = Number(text.trim());
    if (Number.isInteger(n) && n > 0) return n;
    process.stderr.write(
      `bench: ${from}: ${JSON.stringify(text)} is not a number of segments (a whole number above 0)\n`,
    );
    process.exit(2);
  });
}
