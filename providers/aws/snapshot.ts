import type { SnapshotFile } from '../../src/provider.js';
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
 * Pure: parse takes file contents, export returns them.
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

/** A snapshot file could not be used. */
export class SnapshotParseError extends Error {
  override readonly name = 'SnapshotParseError';
}

function parseJson(name: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new SnapshotParseError(`${name}: not valid JSON (${(err as Error).message})`);
  }
}

function arrayField<T>(name: string, value: unknown, field: string): T[] {
  if (typeof value !== 'object' || value === null || !Array.isArray((value as Record<string, unknown>)[field])) {
    throw new SnapshotParseError(`${name}: expected an object with a "${field}" array (the AWS CLI's JSON output)`);
  }
  return (value as Record<string, T[]>)[field] as T[];
}

/** Parses the files of a target's snapshot (name → content) into the raw state. */
export function parseSnapshot(files: ReadonlyMap<string, string>): AwsRawState {
  const groupsText = files.get(SNAPSHOT_FILES.groups);
  if (groupsText === undefined) throw new SnapshotParseError(`${SNAPSHOT_FILES.groups} is missing`);
  const SecurityGroups = arrayField<RawSecurityGroup>(SNAPSHOT_FILES.groups, parseJson(SNAPSHOT_FILES.groups, groupsText), 'SecurityGroups');
  const rulesText = files.get(SNAPSHOT_FILES.rules);
  const SecurityGroupRules = rulesText === undefined
    ? undefined
    : arrayField<RawSecurityGroupRule>(SNAPSHOT_FILES.rules, parseJson(SNAPSHOT_FILES.rules, rulesText), 'SecurityGroupRules');
  const plText = files.get(SNAPSHOT_FILES.prefixLists);
  const PrefixLists = plText === undefined
    ? []
    : arrayField<RawPrefixList>(SNAPSHOT_FILES.prefixLists, parseJson(SNAPSHOT_FILES.prefixLists, plText), 'PrefixLists');
  const awsText = files.get(SNAPSHOT_FILES.awsPrefixLists);
  const AwsPrefixLists = awsText === undefined
    ? undefined
    : arrayField<{ PrefixListId?: string; PrefixListName?: string }>(SNAPSHOT_FILES.awsPrefixLists, parseJson(SNAPSHOT_FILES.awsPrefixLists, awsText), 'PrefixLists');
  const Entries: Record<string, { Cidr?: string; Description?: string }[]> = {};
  for (const [name, text] of files) {
    const id = entriesFileId(name);
    if (id) Entries[id] = arrayField(name, parseJson(name, text), 'Entries');
  }
  return { SecurityGroups, ...(SecurityGroupRules ? { SecurityGroupRules } : {}), PrefixLists, Entries, ...(AwsPrefixLists ? { AwsPrefixLists } : {}) };
}

/** The snapshot files of a raw state, as the CLI would print them (4-space JSON), sorted by path. */
export function snapshotFiles(raw: AwsRawState): SnapshotFile[] {
  const json = (v: unknown) => `${JSON.stringify(v, null, 4)}\n`;
  const files: SnapshotFile[] = [
    { path: SNAPSHOT_FILES.groups, content: json({ SecurityGroups: raw.SecurityGroups }) },
    { path: SNAPSHOT_FILES.rules, content: json({ SecurityGroupRules: raw.SecurityGroupRules ?? [] }) },
    { path: SNAPSHOT_FILES.prefixLists, content: json({ PrefixLists: raw.PrefixLists }) },
  ];
  for (const [id, entries] of Object.entries(raw.Entries)) files.push({ path: entriesFile(id), content: json({ Entries: entries }) });
  return files.sort((a, b) => (a.path < b.path ? -1 : 1));
}
