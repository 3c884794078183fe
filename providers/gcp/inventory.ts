import type { TargetSpec } from '../../src/compile/types.js';
import { isJsonObject, jsonPathError, lastSegment, listAt, mostCommon, stringAt } from '../../src/flows/json-input.js';
import type { Inventory, InventoryLiveOptions, InventoryReader, Workload } from '../../src/flows/types.js';

/**
 * GCP inventory: one workload per instance, from `gcloud compute instances list --format=json`
 * (a list; the API's `{"items": [...]}` page is read too): its internal and external addresses,
 * its labels, and its network tags (the segments' identity on GCP).
 */

function instanceWorkload(
  raw: unknown,
  file: string,
  path: string,
): { workload: Workload; project?: string; network?: string } {
  if (!isJsonObject(raw)) throw jsonPathError(file, path, 'expected an instance object');
  const name = stringAt(raw, 'name', file, path);
  if (!name) throw jsonPathError(file, `${path}.name`, 'is missing');
  const selfLink = stringAt(raw, 'selfLink', file, path);
  const addresses = new Set<string>();
  let network: string | undefined;
  listAt(raw, 'networkInterfaces', file, path).forEach((n, i) => {
    const at = `${path}.networkInterfaces[${i}]`;
    if (!isJsonObject(n)) throw jsonPathError(file, at, 'expected an object');
    const ip = stringAt(n, 'networkIP', file, at);
    if (ip) addresses.add(ip);
    const v6 = stringAt(n, 'ipv6Address', file, at);
    if (v6) addresses.add(v6);
    const net = stringAt(n, 'network', file, at);
    if (net && network === undefined) network = lastSegment(net);
    for (const key of ['accessConfigs', 'ipv6AccessConfigs']) {
      listAt(n, key, file, at).forEach((a, ai) => {
        if (!isJsonObject(a)) return;
        const ext = stringAt(a, key === 'accessConfigs' ? 'natIP' : 'externalIpv6', file, `${at}.${key}[${ai}]`);
        if (ext) addresses.add(ext);
      });
    }
  });
  const tags: Record<string, string> = {};
  const labels = raw['labels'];
  if (isJsonObject(labels)) for (const [k, v] of Object.entries(labels)) if (typeof v === 'string') tags[k] = v;
  const netTags = raw['tags'];
  const groups = isJsonObject(netTags)
    ? listAt(netTags, 'items', file, `${path}.tags`).filter((x): x is string => typeof x === 'string')
    : [];
  const project = selfLink ? /\/projects\/([^/]+)\//.exec(selfLink)?.[1] : undefined;
  return {
    workload: { id: selfLink ?? name, name, addresses: [...addresses].sort(), tags, groups: [...groups].sort() },
    ...(project ? { project } : {}),
    ...(network ? { network } : {}),
  };
}

/** Parses `gcloud compute instances list --format=json` output (or an API page with `items`). */
export function parseGcpInventory(json: unknown, file: string): Inventory {
  const list = Array.isArray(json)
    ? json
    : isJsonObject(json) && Array.isArray(json['items'])
      ? (json['items'] as unknown[])
      : undefined;
  if (!list)
    throw jsonPathError(
      file,
      '$',
      'expected the output of `gcloud compute instances list --format=json` (a list of instances)',
    );
  const prefix = Array.isArray(json) ? '' : 'items';
  const read = list.map((x, i) => instanceWorkload(x, file, `${prefix}[${i}]`));
  const project = mostCommon(read.flatMap((r) => (r.project ? [r.project] : [])));
  const network = mostCommon(read.flatMap((r) => (r.network ? [r.network] : [])));
  return {
    cloud: 'gcp',
    workloads: read.map((r) => r.workload).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    ...(project && network ? { target: { name: `gcp-${project}`, config: { project, network } } } : {}),
    warnings: [],
  };
}

/**
 * Reads the instances of the target's project that sit on its network: instances.aggregatedList
 * (REST, GET only; the SDK follows nextPageToken), with the client options of every GCP read
 * (read.ts gcpClientOptions).
 */
export async function readGcpInventoryLive(target: TargetSpec, options: InventoryLiveOptions): Promise<Inventory> {
  if (target.kind !== 'gcp') throw jsonPathError(target.name, 'target', 'is not a GCP target');
  const { project, network } = target.gcp;
  const endpoint = target.gcp.endpoint ?? options.endpoint;
  // read.ts and errors.ts on first use: the provider's index imports this module for parse and detect.
  const [{ gcpClientOptions }, { classifyGcpError }] = await Promise.all([import('./read.js'), import('./errors.js')]);
  const [{ InstancesClient }, opts] = await Promise.all([
    import('@google-cloud/compute'),
    gcpClientOptions(endpoint, target.name),
  ]);
  const client = new InstancesClient(opts);
  const instances: unknown[] = [];
  try {
    for await (const [, scoped] of client.aggregatedListAsync({ project, maxResults: 500 })) {
      for (const instance of scoped.instances ?? []) {
        const onNetwork = (instance.networkInterfaces ?? []).some(
          (n) => typeof n.network === 'string' && lastSegment(n.network) === network,
        );
        if (onNetwork) instances.push(JSON.parse(JSON.stringify(instance)));
      }
    }
  } catch (err) {
    throw classifyGcpError(err, `listing the instances of ${target.name} (project ${project})`);
  } finally {
    await client.close();
  }
  return parseGcpInventory(instances, `${target.name} (live)`);
}

/** The GCP inventory reader for the Provider interface. */
export const gcpInventoryReader: InventoryReader = {
  source: 'gcloud compute instances list --format=json',
  detect(json) {
    const list = Array.isArray(json) ? json : isJsonObject(json) ? json['items'] : undefined;
    const first = Array.isArray(list) ? list[0] : undefined;
    return isJsonObject(first) && Array.isArray(first['networkInterfaces']);
  },
  parse: parseGcpInventory,
  live: readGcpInventoryLive,
};
