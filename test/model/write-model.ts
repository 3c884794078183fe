import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** Writes files (path → text) into a fresh temporary folder and returns the folder. */
export function writeFiles(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'bulkhead-model-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

/** A small valid model; `extra` lines are appended (so tests can add a section). */
export const BASE_MODEL = `bulkhead: 1
name: demo
targets:
  aws-prod: { aws: { region: eu-west-1, vpc: vpc-0123456789abcdef0 } }
services:
  https: tcp/443
entities:
  office: { cidrs: [203.0.113.0/24] }
segments:
  web:
    ingress: [{ from: internet, ports: [https] }]
  db:
    ingress: [{ from: web, ports: [tcp/5432] }]
`;
