import { run } from '../../src/commands/main.js';
import type { Io } from '../../src/io.js';

/** What a command printed and returned. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI in-process, as a non-TTY pipeline would (no color, no prompts), in `cwd`. */
export async function runCli(
  argv: readonly string[],
  options: { cwd?: string; env?: Record<string, string | undefined>; tty?: boolean; answers?: string[] } = {},
): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const answers = [...(options.answers ?? [])];
  const io: Io = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    stdoutIsTTY: options.tty ?? false,
    stderrIsTTY: options.tty ?? false,
    stdinIsTTY: options.tty ?? false,
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
    prompt: async (q: string) => {
      stderr += q;
      return answers.shift() ?? '';
    },
  };
  const code = await run(argv, io);
  return { code, stdout, stderr };
}
