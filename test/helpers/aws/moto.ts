import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/**
 * moto's EC2 server for tests: `python3 -m moto.server` on 127.0.0.1 and a free port, started
 * once per test file, reset between tests (POST /moto-api/reset), killed at the end.
 */
export interface MotoServer {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Forgets every resource (between tests). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/** A free loopback port: bind port 0, read it, release it. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Starts moto and waits until it answers. */
export async function startMoto(): Promise<MotoServer> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const child: ChildProcess = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const deadline = Date.now() + 30_000;
    let up = false;
    while (Date.now() < deadline && child.exitCode === null) {
      try {
        const res = await fetch(`${url}/moto-api/`);
        if (res.status < 500) {
          up = true;
          break;
        }
      } catch (err) {
        lastError = err;
      }
      await new Promise((r) => setTimeout(r, 150));
    }
    if (up) {
      return {
        url,
        async reset() {
          const res = await fetch(`${url}/moto-api/reset`, { method: 'POST' });
          if (!res.ok) throw new Error(`moto reset failed: ${res.status}`);
        },
        async stop() {
          if (child.exitCode === null) {
            child.kill('SIGTERM');
            await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
            if (child.exitCode === null) child.kill('SIGKILL');
          }
        },
      };
    }
    child.kill('SIGKILL');
    lastError = new Error(`moto did not start on ${url}: ${stderr}`);
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}
