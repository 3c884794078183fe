import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TargetSpec } from '../../src/compile/types.js';
import { ProviderError } from '../../src/errors.js';
import type { SnapshotFile } from '../../src/provider.js';
import { jsonSyntaxError } from '../kit/json-syntax.js';
import { canonicalCidr } from './canonical.js';
import type { AwsRawState, RawPrefixList, RawSecurityGroup, RawSecurityGroupRule } from './state.js';

/**
 * Snapshot mode: the AWS CLI's JSON exports of one target, in `<snapshots>/<target>/`:
 *
 *   describe-security-groups.json            aws ec2 describe-security-groups --filters Name=vpc-id,Values=<vpc>
 *   describe-security-group-rules.json       aws ec2 describe-security-group-rules  (optional: else exploded from the groups)
 *   describe-managed-prefix-lists.json       aws ec2 describe-managed-prefix-lists   (optional)
 *   get-managed-prefix-list-entries.<pl-id>.json   aws ec2 get-managed-prefix-list-entries --prefix-list-id <pl-id>
 *   describe-prefix-lists.json               aws ec2 describe-prefix-lists  (optional: AWS-managed list names)
 *
 * `readSnapshotRaw` reads the folder; parse takes file contents and export returns them (pure).
 */

/** File names of a target's snapshot. */
export const SNAPSHOT_FILES = {
  groups: 'describe-security-groups.json',
  rules: 'describe-security-group-rules.json',
  prefixLists: 'describe-managed-prefix-lists.json',
  awsPrefixLists: 'describe-prefix-lists.json',
} as const;

/** File name of one list's entries. */
export function entriesFile(prefixListId: string): string {
  return `get-managed-prefix-list-entries.${prefixListId}.json`;
}

/** The list id of an entries file name, or undefined. */
export function entriesFileId(name: string): string | undefined {
  const m = /^get-managed-prefix-list-entries\.(pl-[A-Za-z0-9]+)\.json$/.exec(name);
  return m?.[1];
}

/**
 * A snapshot file could not be used. `file` is its name in the target's folder, `where` the place
 * in it (`:line:column` of a JSON syntax error, ` $.SecurityGroups[2].Tags` of a wrong value).
 */
export class SnapshotParseError extends Error {
  override readonly name = 'SnapshotParseError';
  readonly file: string;
  readonly where: string;
  readonly detail: string;
  constructor(file: string, where: string, detail: string) {
    super(`${file}${where}${where ? ': ' : ' '}${detail}`);
    this.file = file;
    this.where = where;
    this.detail = detail;
  }

  /** The message with the file's path (its folder joined) instead of its name. */
  at(path: string): string {
    return `${path}${this.where}${this.where ? ': ' : ' '}${this.detail}`;
  }
}

function parseJson(name: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const { line, column, reason } = jsonSyntaxError(text, err);
    throw new SnapshotParseError(name, `:${line}:${column}`, `not valid JSON (${reason})`);
  }
}

/** What a value of a snapshot file must be: enough for the reader, unknown fields allowed. */
type Shape =
  | 'string'
  | 'number'
  | 'boolean'
  /** A string that is an IPv4 or IPv6 CIDR (or bare address). */
  | 'cidr'
  | { readonly object: string; readonly fields: { readonly [field: string]: Shape } }
  | { readonly array: Shape };

const TAGS: Shape = { array: { object: 'tag', fields: { Key: 'string', Value: 'string' } } };
const DESCRIBED_CIDR = (field: string): Shape => ({
  array: { object: 'range', fields: { [field]: 'cidr', Description: 'string' } },
});
const PERMISSION: Shape = {
  object: 'permission',
  fields: {
    IpProtocol: 'string',
    FromPort: 'number',
    ToPort: 'number',
    IpRanges: DESCRIBED_CIDR('CidrIp'),
    Ipv6Ranges: DESCRIBED_CIDR('CidrIpv6'),
    PrefixListIds: { array: { object: 'prefix list id', fields: { PrefixListId: 'string', Description: 'string' } } },
    UserIdGroupPairs: {
      array: {
        object: 'group pair',
        fields: { GroupId: 'string', GroupName: 'string', UserId: 'string', Description: 'string' },
      },
    },
  },
};
const GROUP: Shape = {
  object: 'security group',
  fields: {
    GroupId: 'string',
    GroupName: 'string',
    Description: 'string',
    VpcId: 'string',
    OwnerId: 'string',
    Tags: TAGS,
    IpPermissions: { array: PERMISSION },
    IpPermissionsEgress: { array: PERMISSION },
  },
};
const RULE: Shape = {
  object: 'security group rule',
  fields: {
    SecurityGroupRuleId: 'string',
    GroupId: 'string',
    IsEgress: 'boolean',
    IpProtocol: 'string',
    FromPort: 'number',
    ToPort: 'number',
    CidrIpv4: 'cidr',
    CidrIpv6: 'cidr',
    PrefixListId: 'string',
    Description: 'string',
    Tags: TAGS,
    ReferencedGroupInfo: { object: 'referenced group', fields: { GroupId: 'string', UserId: 'string' } },
  },
};
const PREFIX_LIST: Shape = {
  object: 'prefix list',
  fields: {
    PrefixListId: 'string',
    PrefixListName: 'string',
    AddressFamily: 'string',
    MaxEntries: 'number',
    Version: 'number',
    State: 'string',
    OwnerId: 'string',
    Tags: TAGS,
  },
};
const AWS_PREFIX_LIST: Shape = { object: 'prefix list', fields: { PrefixListId: 'string', PrefixListName: 'string' } };
const ENTRY: Shape = { object: 'entry', fields: { Cidr: 'cidr', Description: 'string' } };

const kindOf = (v: unknown): string =>
  v === null
    ? 'null'
    : Array.isArray(v)
      ? 'an array'
      : typeof v === 'object'
        ? 'an object'
        : `${typeof v} ${JSON.stringify(v)}`;

/** Checks `value` against `shape`; absent (undefined) fields are fine, null and wrong types are not. */
function check(file: string, path: string, value: unknown, shape: Shape): void {
  const wrong = (expected: string) => {
    throw new SnapshotParseError(
      file,
      ` ${path}`,
      `expected ${expected}, got ${kindOf(value)} (the AWS CLI's JSON output)`,
    );
  };
  if (shape === 'string' || shape === 'number' || shape === 'boolean') {
    if (typeof value !== shape) wrong(`a ${shape}`);
    return;
  }
  if (shape === 'cidr') {
    if (typeof value !== 'string') return wrong('a CIDR string');
    try {
      canonicalCidr(value);
    } catch {
      wrong('a CIDR');
    }
    return;
  }
  if ('array' in shape) {
    if (!Array.isArray(value)) return wrong('an array');
    value.forEach((item, i) => check(file, `${path}[${i}]`, item, shape.array));
    return;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return wrong(`an object (a ${shape.object})`);
  for (const [field, fieldShape] of Object.entries(shape.fields)) {
    const v = (value as Record<string, unknown>)[field];
    if (v !== undefined) check(file, `${path}.${field}`, v, fieldShape);
  }
}

/** The `field` array of a file's top-level object, every item checked against `item`. */
function arrayField<T>(name: string, value: unknown, field: string, item: Shape): T[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SnapshotParseError(
      name,
      ' $',
      `expected an object with a "${field}" array (the AWS CLI's JSON output), got ${kindOf(value)}`,
    );
  }
  const list = (value as Record<string, unknown>)[field];
  if (!Array.isArray(list)) {
    throw new SnapshotParseError(
      name,
      ` $.${field}`,
      `expected an array (the AWS CLI's JSON output), got ${list === undefined ? 'nothing' : kindOf(list)}`,
    );
  }
  list.forEach((v, i) => check(name, `$.${field}[${i}]`, v, item));
  return list as T[];
}

/** Parses the files of a target's snapshot (name → content) into the raw state. */
export function parseSnapshot(files: ReadonlyMap<string, string>): AwsRawState {
  const groupsText = files.get(SNAPSHOT_FILES.groups);
  if (groupsText === undefined) throw new SnapshotParseError(SNAPSHOT_FILES.groups, '', 'is missing');
  const SecurityGroups = arrayField<RawSecurityGroup>(
    SNAPSHOT_FILES.groups,
    parseJson(SNAPSHOT_FILES.groups, groupsText),
    'SecurityGroups',
    GROUP,
  );
  const rulesText = files.get(SNAPSHOT_FILES.rules);
  const SecurityGroupRules =
    rulesText === undefined
      ? undefined
      : arrayField<RawSecurityGroupRule>(
          SNAPSHOT_FILES.rules,
          parseJson(SNAPSHOT_FILES.rules, rulesText),
          'SecurityGroupRules',
          RULE,
        );
  const plText = files.get(SNAPSHOT_FILES.prefixLists);
  const PrefixLists =
    plText === undefined
      ? []
      : arrayField<RawPrefixList>(
          SNAPSHOT_FILES.prefixLists,
          parseJson(SNAPSHOT_FILES.prefixLists, plText),
          'PrefixLists',
          PREFIX_LIST,
        );
  const awsText = files.get(SNAPSHOT_FILES.awsPrefixLists);
  const AwsPrefixLists =
    awsText === undefined
      ? undefined
      : arrayField<{ PrefixListId?: string; PrefixListName?: string }>(
          SNAPSHOT_FILES.awsPrefixLists,
          parseJson(SNAPSHOT_FILES.awsPrefixLists, awsText),
          'PrefixLists',
          AWS_PREFIX_LIST,
        );
  const Entries: Record<string, { Cidr?: string; Description?: string }[]> = {};
  for (const [name, text] of files) {
    const id = entriesFileId(name);
    if (id) Entries[id] = arrayField(name, parseJson(name, text), 'Entries', ENTRY);
  }
  return {
    SecurityGroups,
    ...(SecurityGroupRules ? { SecurityGroupRules } : {}),
    PrefixLists,
    Entries,
    ...(AwsPrefixLists ? { AwsPrefixLists } : {}),
  };
}

/** The snapshot files of a raw state, as the CLI would print them (4-space JSON), sorted by path. */
export function snapshotFiles(raw: AwsRawState): SnapshotFile[] {
  const json = (v: unknown) => `${JSON.stringify(v, null, 4)}\n`;
  const files: SnapshotFile[] = [
    { path: SNAPSHOT_FILES.groups, content: json({ SecurityGroups: raw.SecurityGroups }) },
    { path: SNAPSHOT_FILES.rules, content: json({ SecurityGroupRules: raw.SecurityGroupRules ?? [] }) },
    { path: SNAPSHOT_FILES.prefixLists, content: json({ PrefixLists: raw.PrefixLists }) },
  ];
  for (const [id, entries] of Object.entries(raw.Entries))
    files.push({ path: entriesFile(id), content: json({ Entries: entries }) });
  return files.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** Reads the snapshot files of a target from `<dir>/<target>/`. */
export async function readSnapshotRaw(dir: string, target: TargetSpec): Promise<AwsRawState> {
  const folder = join(dir, target.name);
  let names: string[];
  try {
    names = await readdir(folder);
  } catch {
    throw new ProviderError(
      `snapshot of ${target.name}: cannot read the folder ${folder} (expected the AWS CLI's JSON exports, see policies/snapshots/README.md)`,
    );
  }
  const files = new Map<string, string>();
  for (const name of names.filter((n) => n.endsWith('.json')).sort())
    files.set(name, await readFile(join(folder, name), 'utf8'));
  try {
    return parseSnapshot(files);
  } catch (err) {
    if (err instanceof SnapshotParseError)
      throw new ProviderError(`snapshot of ${target.name}: ${err.at(join(folder, err.file))}`);
    throw err;
  }
}
