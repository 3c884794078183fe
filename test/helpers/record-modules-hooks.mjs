/**
 * Module load hook for a child process: prints `loaded: <url>` on stderr for every module of this
 * repository and every package it loads, so a test can tell what a command's start-up pulled in
 * (the speed issue, 11.0: `--version` and `--help` load no command module).
 */
export async function load(url, context, nextLoad) {
  if (!url.startsWith('node:')) process.stderr.write(`loaded: ${url}\n`);
  return nextLoad(url, context);
}
