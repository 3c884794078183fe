/**
 * Option parsers the CLI needs before any command module is loaded (the global `--no-warn` is
 * repeatable): kept free of heavy imports, so `--version` and `--help` stay cheap.
 */

/** Collects a repeatable option (`--target a --target b`, also `--target a,b`). */
export function collect(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  ];
}
