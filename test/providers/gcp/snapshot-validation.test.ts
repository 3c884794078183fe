import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compileFile } from '../../../src/compile/index.js';
import type { TargetSpec } from '../../../src/compile/types.js';
import { createGcpProvider } from '../../../providers/gcp/index.js';
import { SNAPSHOT_FILES } from '../../../providers/gcp/snapshot.js';

/**
 * Issue 5 (GCP): hand-edited snapshot files (a `null` entry, a wrongly typed field, broken
 * JSON) are reported as diagnostics naming the file and the JSON path (or line:column), never a
 * TypeError from deep inside read. Each case edits a copy of the bundled shop snapshot.
 */

const repo = join(import.meta.dirname, '../../..');
let dir: string;
let target: TargetSpec;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bulkhead-gcp-snap-'));
  await cp(join(repo, 'policies/snapshots/shop/gcp-prod'), join(dir, 'gcp-prod'), { recursive: true });
  const r = await compileFile(join(repo, 'policies/shop.yaml'), { cwd: repo });
  if (!r.ok) throw new Error('shop.yaml does not compile');
  target = r.value.targets.find((t) => t.name === 'gcp-prod')!;
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function edit(file: string, change: (json: any) => void): Promise<string> {
  const path = join(dir, 'gcp-prod', file);
  const json = JSON.parse(await readFile(path, 'utf8'));
  change(json);
  await writeFile(path, `${JSON.stringify(json, null, 2)}\n`);
  return path;
}

async function readErrors() {
  const state = await createGcpProvider().read(target, { kind: 'snapshot', dir }, { model: 'shop' });
  return state.diagnostics.filter((d) => d.severity === 'error');
}

describe('gcp snapshot files are validated', () => {
  it('reads the bundled snapshot without errors (the control)', async () => {
    expect(await readErrors()).toEqual([]);
  });

  it.each([
    ['a null firewall', (j: any) => j.splice(1, 0, null), '$[1]: expected a firewall rule object, got null'],
    [
      'a null source range',
      (j: any) => (j[0].sourceRanges = [null]),
      '$[0].sourceRanges[0]: expected a string, got null',
    ],
    ['allowed as a string', (j: any) => (j[0].allowed = 'tcp'), '$[0].allowed: expected an array, got string "tcp"'],
    ['a null protocol entry', (j: any) => (j[0].allowed = [null]), '$[0].allowed[0]: expected an object, got null'],
    [
      'ports as a number',
      (j: any) => (j[0].allowed[0].ports = 22),
      '$[0].allowed[0].ports: expected an array of strings, got number 22',
    ],
    [
      'priority as a boolean',
      (j: any) => (j[2].priority = true),
      '$[2].priority: expected an integer priority, got boolean true',
    ],
    [
      'targetTags of numbers',
      (j: any) => (j[0].targetTags = [1]),
      '$[0].targetTags[0]: expected a string, got number 1',
    ],
    [
      'description as an object',
      (j: any) => (j[0].description = {}),
      '$[0].description: expected a string, got an object',
    ],
  ])('firewall-rules.json with %s', async (_label, change, path) => {
    const file = await edit(SNAPSHOT_FILES.firewalls, change);
    const errors = await readErrors();
    expect(errors.map((d) => d.message)).toEqual([`${file}: ${path}`]);
    expect(errors[0]!.code).toBe('gcp-snapshot-invalid');
  });

  it.each([
    ['a null rule', (j: any) => (j.rules[0] = null), '$.rules[0]: expected an object, got null'],
    ['a string match', (j: any) => (j.rules[0].match = 'x'), '$.rules[0].match: expected an object, got string "x"'],
    [
      'numeric ports',
      (j: any) => (j.rules[0].match.layer4Configs[0].ports = [443]),
      '$.rules[0].match.layer4Configs[0].ports[0]: expected a string, got number 443',
    ],
    [
      'a null FQDN',
      (j: any) => (j.rules[0].match.destFqdns = [null]),
      '$.rules[0].match.destFqdns[0]: expected a string, got null',
    ],
    ['rules as an object', (j: any) => (j.rules = {}), '$.rules: expected an array, got an object'],
  ])('firewall-policy.json with %s', async (_label, change, path) => {
    const file = await edit(SNAPSHOT_FILES.policy, change);
    const errors = await readErrors();
    expect(errors.map((d) => d.message)).toEqual([`${file}: ${path}`]);
  });

  it.each([SNAPSHOT_FILES.firewalls, SNAPSHOT_FILES.policy])(
    'invalid JSON in %s is reported at file:line:column',
    async (name) => {
      const path = join(dir, 'gcp-prod', name);
      const lines = (await readFile(path, 'utf8')).split('\n');
      // Break line 4: a key without its value.
      lines[3] = lines[3]!.replace(/:.*$/, ': ,');
      await writeFile(path, lines.join('\n'));
      const errors = await readErrors();
      expect(errors).toHaveLength(1);
      const column = lines[3]!.indexOf(',') + 1;
      expect(errors[0]!.pos).toEqual({ file: path, line: 4, column });
      expect(errors[0]!.message).toMatch(
        new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4:${column}: not JSON \\(`),
      );
      expect(errors[0]!.message).not.toContain('\n');
    },
  );
});
