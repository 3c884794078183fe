import { run } from '../../src/commands/main.js';
import type { Io } from '../../src/io.js';
import type { CliResult } from './cli.js';

/**
 * An in-process Io that can simulate what a terminal user does beyond typing answers: close the
 * input at the prompt (Ctrl-D, answer `null`), interrupt it (Ctrl-C, also `null`, as the real
 * prompt reports both), and press Ctrl-C while a command runs (`interrupt()`).
 */
export interface FakeTerminal {
  readonly io: Io;
  /** Simulates Ctrl-C (SIGINT): calls the registered interrupt handlers; returns how many there were. */
  interrupt(): number;
  /** Runs the CLI with this Io. */
  run(argv: readonly string[]): Promise<CliResult>;
}

/** A fake terminal in `cwd` (a TTY unless `tty: false`); `answers` are the prompt's answers in order, null = Ctrl-C/Ctrl-D. */
export function createFakeTerminal(options: { cwd: string; tty?: boolean; answers?: (string | null)[] }): FakeTerminal {
  let stdout = '';
  let stderr = '';
  const answers = [...(options.answers ?? [])];
  const handlers = new Set<() => void>();
  const tty = options.tty ?? true;
  const io: Io = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    // Output is captured: colors off, the prompt on.
    stdoutIsTTY: false,
    stderrIsTTY: false,
    stdinIsTTY: tty,
    env: {},
    cwd: options.cwd,
    prompt: async (q: string) => {
      stderr += q;
      return answers.length > 0 ? answers.shift()! : null;
    },
    onInterrupt: (handler: () => void) => {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
  };
  return {
    io,
    interrupt: () => {
      const n = handlers.size;
      for (const h of [...handlers]) h();
      return n;
    },
    run: async (argv) => {
      stdout = '';
      stderr = '';
      const code = await run(argv, io);
      return { code, stdout, stderr };
    },
  };
}
