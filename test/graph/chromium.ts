import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Headless Chromium for the HTML graph tests (Debian's `chromium`, installed by .ci/run). Missing
 * Chromium is a test FAILURE with a message that says how to install it, never a skip.
 *
 * Chromium gets no network: every host name resolves to nothing and every request goes to a dead
 * proxy on 127.0.0.1 (the page's own CSP forbids fetching anything too), and its background
 * services (updates, sync, metrics) are off, so a test run sends nothing off the machine.
 */

/** The chromium executable, or an Error explaining that it must be installed. */
export function chromiumPath(): string {
  try {
    return execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(
      'chromium is not installed: the HTML graph tests need headless Chromium ' +
        '(Debian: `apt-get update && apt-get install -y chromium`; .ci/run installs it)',
    );
  }
}

const OFFLINE_FLAGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-extensions',
  '--disable-default-apps',
  '--disable-domain-reliability',
  '--metrics-recording-only',
  '--no-pings',
  '--host-resolver-rules=MAP * ~NOTFOUND',
  '--proxy-server=http://127.0.0.1:9',
  '--proxy-bypass-list=<-loopback>',
  // Virtual time runs the page's timers and promises to completion before the dump or screenshot.
  '--virtual-time-budget=60000',
];

function run(args: readonly string[]): Promise<string> {
  const bin = chromiumPath();
  const profile = mkdtempSync(join(tmpdir(), 'bulkhead-chromium-'));
  return new Promise((resolve, reject) => {
    execFile(
      bin,
      [...OFFLINE_FLAGS, `--user-data-dir=${profile}`, ...args],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 240_000 },
      (err, stdout, stderr) =>
        err ? reject(new Error(`chromium failed: ${err.message}\n${stderr.slice(-2000)}`)) : resolve(stdout),
    );
  });
}

/** The DOM of a local HTML file after its scripts ran (`--dump-dom`). */
export function dumpDom(file: string): Promise<string> {
  return run(['--dump-dom', pathToFileURL(file).href]);
}

/** Takes a PNG screenshot of a local HTML file into `png` (`--screenshot`). */
export async function screenshot(file: string, png: string, size: { width: number; height: number }): Promise<void> {
  await run([`--screenshot=${png}`, `--window-size=${size.width},${size.height}`, pathToFileURL(file).href]);
}

/** What the renderer says on <body>: `done`, `failed` or still `pending` (and the node count it drew). */
export function layoutState(dom: string): {
  layout: string | undefined;
  nodes: number | undefined;
  error: string | undefined;
} {
  const body = /<body\b([^>]*)>/.exec(dom)?.[1] ?? '';
  const layout = /\bdata-layout="([^"]*)"/.exec(body)?.[1];
  const count = /\bdata-node-count="(\d+)"/.exec(body)?.[1];
  const error = /<p id="bulkhead-error"[^>]*>([^<]*)<\/p>/.exec(dom)?.[1];
  return { layout, nodes: count === undefined ? undefined : Number(count), error };
}

/** Decodes the few entities Chromium's serializer writes in attribute values. */
export function decodeAttr(s: string): string {
  return s
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&nbsp;/g, '\u00a0')
    .replace(/&amp;/g, '&');
}

/** The drawn node elements of one kind: their `data-name`s, in document order. */
export function drawnNodes(dom: string, kind: string): string[] {
  const out: string[] = [];
  const re = /<g class="node node-([a-z-]+)"[^>]*?\bdata-kind="([a-z-]+)" data-name="([^"]*)"/g;
  for (let m = re.exec(dom); m; m = re.exec(dom)) if (m[2] === kind) out.push(decodeAttr(m[3]!));
  return out;
}
