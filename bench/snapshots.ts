/**
 * Snapshots of the same size as the model, for `plan --snapshots` in the bench: each target's
 * render, in the cloud CLI's JSON shape (`render --json`), written as the export files `read`
 * takes, with 5% of the objects missing (drift, so the plan has changes to find). AWS groups get
 * the ids an export would carry (`sg-…`, referenced by id in group pairs); Azure's render is split
 * into nsg.json (or nsgs/<nsg>.json per NSG) and asgs.json; GCP's render is already `firewall-rules list` output.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { CloudId, RuleSet } from '../src/compile/types.js';
import type { Json } from '../src/plan/types.js';
import type { Provider } from '../src/provider.js';

type Obj = { [k: string]: Json };

/** Every `every`-th item dropped (the first kept): the objects an export would be missing. */
function drift<T>(items: readonly T[], every = 20): T[] {
  return items.filter((_, i) => i % every !== every - 1);
}

/** A target's snapshot files (name → JSON) and how many objects (groups, rules, ASGs) they hold. */
interface Files {
  readonly files: Record<string, Json>;
  readonly objects: number;
}

function awsFiles(json: Json): Files {
  const groups = ((json as Obj)['SecurityGroups'] as Obj[]) ?? [];
  const ids = new Map(
    groups.map((g, i) => [g['GroupName'] as string, `sg-${(0x1000000 + i).toString(16).padStart(17, '0')}`]),
  );
  const withIds = (perms: Json): Json =>
    (perms as Obj[]).map((p) => ({
      ...p,
      UserIdGroupPairs: ((p['UserIdGroupPairs'] as Obj[]) ?? []).map((pair) => {
        const { GroupName, ...rest } = pair;
        const id = typeof GroupName === 'string' ? ids.get(GroupName) : undefined;
        return id ? { ...rest, GroupId: id, UserId: '111122223333' } : pair;
      }),
    }));
  const SecurityGroups = drift(groups).map((g) => ({
    ...g,
    GroupId: (g['GroupId'] as string | undefined) ?? ids.get(g['GroupName'] as string)!,
    OwnerId: '111122223333',
    IpPermissions: withIds(g['IpPermissions'] ?? []),
    IpPermissionsEgress: withIds(g['IpPermissionsEgress'] ?? []),
  }));
  return { files: { 'describe-security-groups.json': { SecurityGroups } }, objects: SecurityGroups.length };
}

function azureFiles(json: Json): Files {
  const o = json as Obj;
  const asgs = drift((o['asgs'] as Json[]) ?? []);
  const files: Record<string, Json> = { 'asgs.json': asgs };
  let rules = 0;
  // One NSG (`nsg.json`), or a target with `nsgs`: `nsgs/<nsg>.json` per NSG (render --json lists them under `nsgs`).
  const nsgs = o['nsgs'] !== undefined ? (o['nsgs'] as Obj[]) : [o['nsg'] as Obj];
  for (const nsg of nsgs) {
    const securityRules = drift((nsg['securityRules'] as Json[]) ?? []);
    rules += securityRules.length;
    files[o['nsgs'] !== undefined ? `nsgs/${String(nsg['name'])}.json` : 'nsg.json'] = { ...nsg, securityRules };
  }
  if (o['ruleCollectionGroup']) files['rule-collection-group.json'] = o['ruleCollectionGroup'];
  return { files, objects: rules + asgs.length };
}

function gcpFiles(json: Json): Files {
  const rules = drift(json as Json[]);
  return { files: { 'firewall-rules.json': rules }, objects: rules.length };
}

/** `render --provider kubernetes --json` is a List, as `kubectl get networkpolicies -A -o json` prints it. */
function kubernetesFiles(json: Json): Files {
  const list = json as Obj;
  const items = drift((list['items'] as Json[]) ?? []);
  return { files: { 'networkpolicies.json': { ...list, items } }, objects: items.length };
}

const FILES: { readonly [C in CloudId]: (json: Json) => Files } = {
  aws: awsFiles,
  azure: azureFiles,
  gcp: gcpFiles,
  kubernetes: kubernetesFiles,
};

/**
 * Writes `<dir>/<target>/…` for every target of `rules` whose provider is given, and an empty
 * `<dir>/dns.json` (the synthetic model has no FQDNs). Returns the objects written per target.
 */
export async function writeSnapshots(
  dir: string,
  rules: RuleSet,
  providers: ReadonlyMap<CloudId, () => Provider>,
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'dns.json'), '{}\n');
  for (const target of rules.targets) {
    const make = providers.get(target.kind);
    if (!make) continue;
    const provider = make();
    const resources = provider.render(rules, target, { resolved: new Map() });
    const { files, objects } = FILES[target.kind](provider.toCliJson(resources, target));
    await mkdir(join(dir, target.name), { recursive: true });
    for (const [name, content] of Object.entries(files)) {
      if (name.includes('/')) await mkdir(dirname(join(dir, target.name, name)), { recursive: true });
      await writeFile(join(dir, target.name, name), `${JSON.stringify(content)}\n`);
    }
    counts.set(target.name, objects);
  }
  return counts;
}
