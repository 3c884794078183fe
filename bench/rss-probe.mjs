// Loaded with `node --import` by bench/startup.ts: appends the process's peak RSS (KiB) to the file
// named by BENCH_RSS_FILE when it exits, so the bench can report memory of a whole CLI run.
import { appendFileSync } from 'node:fs';

const file = process.env.BENCH_RSS_FILE;
if (file) process.on('exit', () => appendFileSync(file, `${process.resourceUsage().maxRSS}\n`));
