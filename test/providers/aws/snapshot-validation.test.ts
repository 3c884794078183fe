import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseSnapshot, SNAPSHOT_FILES } from '../../../providers/aws/snapshot.js';
import { jsonErrorOffset } from '../../../providers/kit/json-syntax.js';
import { runCli } from '../../helpers/cli.js';

// Snapshot files are validated like the model: a null or wrongly typed entry names the file and
// the JSON path, invalid JSON names file:line:column, and the CLI exits 1 without a stack trace.

const BUNDLED = 'policies/snapshots/shop';
let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

/** A copy of the bundled snapshots with one AWS file rewritten. */
async function snapshotWith(file: string, edit: (text: string) => string): Promise<string> {
  dir = await mkdtemp(join(tmpdir(), 'bulkhead-snap-'));
  await cp(BUNDLED, dir, { recursive: true });
  const path = join(dir, 'aws-prod', file);
  await writeFile(path, edit(await readFile(path, 'utf8')));
  return dir;
}

const groups = JSON.stringify({ SecurityGroups: [{ GroupId: 'sg-1', GroupName: 'm-web', VpcId: 'vpc-1' }] });
const parse = (extra: [string, string][]) => () => parseSnapshot(new Map([[SNAPSHOT_FILES.groups, groups], ...extra]));

describe('AWS snapshot validation', () => {
  it('a null rule in describe-security-group-rules.json: file and JSON path, exit 1, no stack trace', async () => {
    const snaps = await snapshotWith(SNAPSHOT_FILES.rules, (t) =>
      t.replace('"SecurityGroupRules": [', '"SecurityGroupRules": [\n        null,'),
    );
    const r = await runCli(['plan', 'policies/shop.yaml', '--snapshots', snaps, '--target', 'aws-prod']);
    expect(r.code).toBe(1);
    // After the progress line: the error, one line at the target in the model, and the summary.
    expect(r.stderr.split('\n').slice(1).join('\n')).toBe(
      `policies/shop.yaml:16:3: error: snapshot of aws-prod: ${join(snaps, 'aws-prod', SNAPSHOT_FILES.rules)} $.SecurityGroupRules[0]: ` +
        "expected an object (a security group rule), got null (the AWS CLI's JSON output) [read-failed]\nError: cannot plan (1 error)\n",
    );
  });

  it('names the path of a wrongly typed field in every file', () => {
    expect(parse([[SNAPSHOT_FILES.rules, '{"SecurityGroupRules":[{"GroupId":"sg-1","FromPort":"443"}]}']])).toThrow(
      'describe-security-group-rules.json $.SecurityGroupRules[0].FromPort: expected a number, got string "443"',
    );
    expect(
      parse([[SNAPSHOT_FILES.rules, '{"SecurityGroupRules":[{"GroupId":"sg-1","CidrIpv4":"10.0.0.300/8"}]}']]),
    ).toThrow('$.SecurityGroupRules[0].CidrIpv4: expected a CIDR, got string "10.0.0.300/8"');
    expect(() =>
      parseSnapshot(
        new Map([
          [
            SNAPSHOT_FILES.groups,
            '{"SecurityGroups":[{"GroupId":"sg-1","IpPermissions":[{"IpProtocol":"tcp","IpRanges":[{"CidrIp":42}]}]}]}',
          ],
        ]),
      ),
    ).toThrow(
      'describe-security-groups.json $.SecurityGroups[0].IpPermissions[0].IpRanges[0].CidrIp: expected a CIDR string, got number 42',
    );
    expect(() =>
      parseSnapshot(new Map([[SNAPSHOT_FILES.groups, '{"SecurityGroups":[{"GroupId":"sg-1","Tags":[null]}]}']])),
    ).toThrow('$.SecurityGroups[0].Tags[0]: expected an object (a tag), got null');
    expect(
      parse([[SNAPSHOT_FILES.prefixLists, '{"PrefixLists":[{"PrefixListId":"pl-1","MaxEntries":"10"}]}']]),
    ).toThrow('describe-managed-prefix-lists.json $.PrefixLists[0].MaxEntries: expected a number');
    expect(parse([[SNAPSHOT_FILES.awsPrefixLists, '{"PrefixLists":[7]}']])).toThrow(
      'describe-prefix-lists.json $.PrefixLists[0]: expected an object',
    );
    expect(parse([['get-managed-prefix-list-entries.pl-1.json', '{"Entries":[{"Cidr":null}]}']])).toThrow(
      'get-managed-prefix-list-entries.pl-1.json $.Entries[0].Cidr: expected a CIDR string, got null',
    );
    expect(parse([[SNAPSHOT_FILES.rules, '{"SecurityGroupRules":{}}']])).toThrow(
      '$.SecurityGroupRules: expected an array',
    );
  });

  it('invalid JSON: file:line:column, also where JSON.parse gives no position', () => {
    expect(parse([[SNAPSHOT_FILES.rules, '{\n  "SecurityGroupRules": [\n    { "GroupId": }\n  ]\n}']])).toThrow(
      /^describe-security-group-rules\.json:3:18: not valid JSON \(Unexpected token '}'\)$/,
    );
    expect(parse([[SNAPSHOT_FILES.rules, '{\n  "SecurityGroupRules": [1,]\n}']])).toThrow(
      /^describe-security-group-rules\.json:2:28: not valid JSON/,
    );
    expect(parse([[SNAPSHOT_FILES.rules, '{"SecurityGroupRules": [']])).toThrow(
      /^describe-security-group-rules\.json:1:25: not valid JSON \(Unexpected end of JSON input\)$/,
    );
  });

  it('the JSON scanner accepts what JSON.parse accepts and rejects what it rejects', async () => {
    const valid = [
      await readFile(join(BUNDLED, 'aws-prod', SNAPSHOT_FILES.groups), 'utf8'),
      '"\\u00e9\\n"',
      '-0.5e+3',
      '[]',
      ' {} ',
      'null',
    ];
    for (const t of valid) expect(jsonErrorOffset(t), t).toBe(-1);
    const invalid = [
      '{',
      '[1 2]',
      '{"a":01}',
      '"\\x"',
      "{'a':1}",
      '{"a":1} x',
      '',
      'tru',
      '"a\u0001"',
      '[1,]',
      '{"a":1,}',
    ];
    for (const t of invalid) {
      expect(() => JSON.parse(t), t).toThrow();
      expect(jsonErrorOffset(t), t).toBeGreaterThanOrEqual(0);
    }
  });

  it('a CLI JSON export with a wrong field fails plan with the path, exit 1', async () => {
    const snaps = await snapshotWith(SNAPSHOT_FILES.groups, (t) =>
      t.replace(/"GroupName": "[^"]+"/, '"GroupName": 12'),
    );
    const r = await runCli(['plan', 'policies/shop.yaml', '--snapshots', snaps, '--target', 'aws-prod']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /\n.*shop\.yaml:\d+:\d+: error: snapshot of aws-prod: .*describe-security-groups\.json \$\.SecurityGroups\[0\]\.GroupName: expected a string, got number 12/,
    );
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });
});
