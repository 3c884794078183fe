/**
 * The command line's view of the outside world, injected so tests run commands in-process:
 * results go to stdout, messages to stderr, color only on a TTY and never with NO_COLOR.
 */
export interface Io {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly stdoutIsTTY: boolean;
  readonly stderrIsTTY: boolean;
  readonly stdinIsTTY: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /**
   * Asks a question on the terminal and returns the answer (only called when stdin is a TTY), or
   * null when the user closed the input (Ctrl-D) or interrupted the question (Ctrl-C): a refusal.
   */
  prompt(question: string): Promise<string | null>;
  /**
   * Calls `handler` on the first interrupt (Ctrl-C, SIGINT) until the returned function is called;
   * while a handler is registered the first interrupt does not end the process, a second one does.
   * Absent where interrupts cannot happen (tests that do not simulate them).
   */
  readonly onInterrupt?: (handler: () => void) => () => void;
}

/** ANSI styling that turns itself off where color is not wanted. */
export interface Style {
  readonly bold: (s: string) => string;
  readonly dim: (s: string) => string;
  readonly red: (s: string) => string;
  readonly green: (s: string) => string;
  readonly yellow: (s: string) => string;
  readonly cyan: (s: string) => string;
}

/** Styling for a stream: color only when it is a TTY and NO_COLOR is unset (https://no-color.org). */
export function createStyle(isTTY: boolean, env: Io['env']): Style {
  const on = isTTY && env['NO_COLOR'] === undefined && env['TERM'] !== 'dumb';
  const wrap = (open: number, close: number) => (s: string) => (on ? `\u001b[${open}m${s}\u001b[${close}m` : s);
  return {
    bold: wrap(1, 22),
    dim: wrap(2, 22),
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    cyan: wrap(36, 39),
  };
}

/**
 * Asks `question` on `output` and reads one line from `input`: the answer, or null when the input
 * ends (Ctrl-D) or the user presses Ctrl-C. `terminal` is detected from `input` unless given.
 */
export async function promptOn(
  input: NodeJS.ReadableStream,
  output: NodeJS.WritableStream,
  question: string,
  terminal?: boolean,
): Promise<string | null> {
  const { createInterface } = await import('node:readline');
  const rl = createInterface({ input, output, ...(terminal !== undefined ? { terminal } : {}) });
  return new Promise<string | null>((resolve) => {
    let answered = false;
    // On a terminal readline turns Ctrl-C into 'SIGINT' on the interface (the process gets no
    // signal) and Ctrl-D into 'close'. Both are a refusal, never an exception.
    rl.on('SIGINT', () => {
      output.write('\n');
      rl.close();
    });
    rl.on('close', () => {
      if (!answered) resolve(null);
    });
    rl.question(question, (answer) => {
      answered = true;
      resolve(answer);
      rl.close();
    });
  });
}

/** The real process's Io. */
export function processIo(): Io {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdoutIsTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    stdinIsTTY: process.stdin.isTTY === true,
    env: process.env,
    cwd: process.cwd(),
    prompt: (question: string) => promptOn(process.stdin, process.stderr, question),
    onInterrupt(handler: () => void): () => void {
      let interrupted = false;
      const listener = (): void => {
        if (interrupted) {
          // The second Ctrl-C: stop waiting for the running steps and die of the signal (exit 130).
          process.removeListener('SIGINT', listener);
          process.kill(process.pid, 'SIGINT');
          return;
        }
        interrupted = true;
        handler();
      };
      process.on('SIGINT', listener);
      return () => process.removeListener('SIGINT', listener);
    },
  };
}
