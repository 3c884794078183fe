import type { TargetSpec } from '../../src/compile/types.js';
import {
  isJsonObject,
  jsonPathError,
  lastSegment,
  listAt,
  mostCommon,
  stringAt,
  type JsonObject,
} from '../../src/flows/json-input.js';
import type { Inventory, InventoryLiveOptions, InventoryReader, Workload } from '../../src/flows/types.js';
import type { AzureProviderOptions } from './read.js';
import { azureConfig } from './render.js';

/**
 * Azure inventory: one workload per network interface, from `az network nic list` (the CLI
 * flattens `properties`; the ARM REST shape `{"value": [...]}` with `properties` is read too):
 * its private and public addresses, its tags, and its application security groups (by name).
 */

function props(o: JsonObject): JsonObject {
  const p = o['properties'];
  return isJsonObject(p) ? { ...o, ...p } : o;
}

function nicWorkload(
  raw: unknown,
  file: string,
  path: string,
): { workload: Workload; nsg?: string; location?: string; id: string } {
  if (!isJsonObject(raw)) throw jsonPathError(file, path, 'expected a network interface object');
  const nic = props(raw);
  const id = stringAt(nic, 'id', file, path);
  if (!id) throw jsonPathError(file, `${path}.id`, 'is missing');
  const addresses = new Set<string>();
  const groups = new Set<string>();
  listAt(nic, 'ipConfigurations', file, path).forEach((c, i) => {
    const at = `${path}.ipConfigurations[${i}]`;
    if (!isJsonObject(c)) throw jsonPathError(file, at, 'expected an object');
    const conf = props(c);
    const ip = stringAt(conf, 'privateIPAddress', file, at);
    if (ip) addresses.add(ip);
    const pub = conf['publicIPAddress'];
    if (isJsonObject(pub)) {
      const address = stringAt(props(pub), 'ipAddress', file, `${at}.publicIPAddress`);
      if (address) addresses.add(address);
    }
    listAt(conf, 'applicationSecurityGroups', file, at).forEach((g, gi) => {
      if (!isJsonObject(g)) return;
      const gid = stringAt(g, 'id', file, `${at}.applicationSecurityGroups[${gi}]`);
      if (gid) groups.add(lastSegment(gid));
    });
  });
  const tags: Record<string, string> = {};
  const t = nic['tags'];
  if (isJsonObject(t)) for (const [k, v] of Object.entries(t)) if (typeof v === 'string') tags[k] = v;
  const vm = nic['virtualMachine'];
  const vmId = isJsonObject(vm) ? stringAt(vm, 'id', file, `${path}.virtualMachine`) : undefined;
  const nsgRef = nic['networkSecurityGroup'];
  const nsgId = isJsonObject(nsgRef) ? stringAt(nsgRef, 'id', file, `${path}.networkSecurityGroup`) : undefined;
  const location = stringAt(nic, 'location', file, path);
  const name = stringAt(nic, 'name', file, path) ?? lastSegment(id);
  const workload: Workload = {
    id,
    name: vmId ? lastSegment(vmId) : name,
    addresses: [...addresses].sort(),
    tags,
    groups: [...groups].sort(),
    ...(vmId ? {} : { kind: 'unattached' }),
  };
  return { workload, id, ...(nsgId ? { nsg: lastSegment(nsgId) } : {}), ...(location ? { location } : {}) };
}

/** Parses `az network nic list` output (a list), or the REST list shape `{"value": [...]}`. */
export function parseAzureInventory(json: unknown, file: string): Inventory {
  const list = Array.isArray(json)
    ? json
    : isJsonObject(json) && Array.isArray(json['value'])
      ? (json['value'] as unknown[])
      : undefined;
  if (!list)
    throw jsonPathError(file, '$', 'expected the output of `az network nic list` (a list of network interfaces)');
  const prefix = Array.isArray(json) ? '' : 'value';
  const read = list.map((nic, i) => nicWorkload(nic, file, `${prefix}[${i}]`));
  const ids = read.map((r) => /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\//i.exec(r.id));
  const subscription = mostCommon(ids.flatMap((m) => (m ? [m[1]!] : [])));
  const resourceGroup = mostCommon(ids.flatMap((m) => (m ? [m[2]!] : [])));
  const location = mostCommon(read.flatMap((r) => (r.location ? [r.location] : [])));
  const nsg = mostCommon(read.flatMap((r) => (r.nsg ? [r.nsg] : [])));
  const target =
    subscription && resourceGroup && location
      ? {
          name: `azure-${location}`,
          config: { subscription, resourceGroup, location, nsg: nsg ?? `${resourceGroup}-nsg` },
        }
      : undefined;
  return {
    cloud: 'azure',
    workloads: read.map((r) => r.workload).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    ...(target ? { target } : {}),
    warnings: nsg
      ? []
      : read.length > 0
        ? [`${file}: no interface names an NSG; the proposed target names "${resourceGroup}-nsg"`]
        : [],
  };
}

/**
 * Reads the NICs of the target's resource group through ARM (NetworkInterfaces_List, GET only; the
 * SDK follows `nextLink` page by page). The SDK's objects are in the CLI's flattened shape.
 */
export async function readAzureInventoryLive(
  target: TargetSpec,
  options: InventoryLiveOptions,
  providerOptions: AzureProviderOptions = {},
): Promise<Inventory> {
  const cfg = azureConfig(target);
  // read.ts (the client) and errors.ts on first use: the provider's index imports this module for parse and detect.
  const [{ createNetworkClient }, { classifyAzureError, withCredentials }] = await Promise.all([
    import('./read.js'),
    import('./errors.js'),
  ]);
  return withCredentials(target.name, async () => {
    const client = await createNetworkClient(target, providerOptions, options.endpoint);
    const nics: unknown[] = [];
    try {
      for await (const nic of client.networkInterfaces.list(cfg.resourceGroup)) nics.push(nic);
    } catch (err) {
      throw classifyAzureError(
        err,
        `listing the network interfaces of ${target.name} (resource group ${cfg.resourceGroup})`,
      );
    }
    return parseAzureInventory(nics, `${target.name} (live)`);
  });
}

/** The Azure inventory reader for the Provider interface. */
export function createAzureInventoryReader(providerOptions: AzureProviderOptions = {}): InventoryReader {
  return {
    source: 'az network nic list',
    detect(json) {
      const list = Array.isArray(json) ? json : isJsonObject(json) ? json['value'] : undefined;
      const first = Array.isArray(list) ? list[0] : undefined;
      return isJsonObject(first) && typeof first['id'] === 'string' && /\/networkInterfaces\//i.test(first['id']);
    },
    parse: parseAzureInventory,
    live: (target, options) => readAzureInventoryLive(target, options, providerOptions),
  };
}

/** The reader with the default credential chain. */
export const azureInventoryReader: InventoryReader = createAzureInventoryReader();
