import type { TargetSpec } from '../../src/compile/types.js';
import {
  isJsonObject,
  jsonPathError,
  listAt,
  mostCommon,
  stringAt,
  type JsonObject,
} from '../../src/flows/json-input.js';
import type { Inventory, InventoryLiveOptions, InventoryReader, Workload } from '../../src/flows/types.js';
import { DESCRIBE_PAGE_SIZE } from './limits.js';
import type { AwsClientOptions } from './read.js';

/**
 * AWS inventory: one workload per network interface, from `aws ec2 describe-network-interfaces`
 * (the CLI's JSON, or the live DescribeNetworkInterfaces of the target's VPC, paginated and
 * read-only, with the tags of the interfaces' instances from DescribeInstances filled in). Its
 * addresses (private, public, IPv6), its tags and its current security groups. Interfaces that
 * are not instances' (NAT gateways, load balancers, endpoints) keep their InterfaceType so
 * discovery leaves them out of the segments. `aws ec2 describe-instances` output is read too: one
 * workload per instance, with the instance's tags.
 */

function interfaceWorkload(eni: unknown, file: string, path: string): Workload {
  if (!isJsonObject(eni)) throw jsonPathError(file, path, 'expected a network interface object');
  const id = stringAt(eni, 'NetworkInterfaceId', file, path);
  if (!id) throw jsonPathError(file, `${path}.NetworkInterfaceId`, 'is missing');
  const addresses = new Set<string>();
  const add = (v: string | undefined) => v && addresses.add(v);
  add(stringAt(eni, 'PrivateIpAddress', file, path));
  const assoc = eni['Association'];
  if (isJsonObject(assoc)) add(stringAt(assoc, 'PublicIp', file, `${path}.Association`));
  listAt(eni, 'PrivateIpAddresses', file, path).forEach((p, i) => {
    const at = `${path}.PrivateIpAddresses[${i}]`;
    if (!isJsonObject(p)) throw jsonPathError(file, at, 'expected an object');
    add(stringAt(p, 'PrivateIpAddress', file, at));
    const a = p['Association'];
    if (isJsonObject(a)) add(stringAt(a, 'PublicIp', file, `${at}.Association`));
  });
  listAt(eni, 'Ipv6Addresses', file, path).forEach((p, i) => {
    if (isJsonObject(p)) add(stringAt(p, 'Ipv6Address', file, `${path}.Ipv6Addresses[${i}]`));
  });
  const tags: Record<string, string> = {};
  listAt(eni, 'TagSet', file, path).forEach((t, i) => {
    const at = `${path}.TagSet[${i}]`;
    if (!isJsonObject(t)) throw jsonPathError(file, at, 'expected {Key, Value}');
    const k = stringAt(t, 'Key', file, at);
    if (k !== undefined) tags[k] = stringAt(t, 'Value', file, at) ?? '';
  });
  const groups: string[] = [];
  const groupIds: string[] = [];
  listAt(eni, 'Groups', file, path).forEach((g, i) => {
    const at = `${path}.Groups[${i}]`;
    if (!isJsonObject(g)) throw jsonPathError(file, at, 'expected {GroupName, GroupId}');
    const name = stringAt(g, 'GroupName', file, at);
    const gid = stringAt(g, 'GroupId', file, at);
    if (name) groups.push(name);
    if (gid) groupIds.push(gid);
  });
  const attachment = eni['Attachment'];
  const instance = isJsonObject(attachment)
    ? stringAt(attachment, 'InstanceId', file, `${path}.Attachment`)
    : undefined;
  const type = stringAt(eni, 'InterfaceType', file, path);
  return {
    id,
    name: instance ?? id,
    addresses: [...addresses].sort(),
    tags,
    groups: groups.sort(),
    groupIds: groupIds.sort(),
    ...(type && type !== 'interface' ? { kind: type } : {}),
  };
}

/** The region of an availability zone (`eu-west-1a` → `eu-west-1`, `us-west-2-lax-1a` → `us-west-2`). */
export function regionOfZone(zone: string): string | undefined {
  return /^([a-z]{2}(?:-[a-z]+)+-\d+)/.exec(zone)?.[1];
}

/** Parses `aws ec2 describe-network-interfaces` output (one page object, or a list of pages). */
export function parseAwsInventory(json: unknown, file: string): Inventory {
  const pages = Array.isArray(json) ? json : [json];
  const workloads: Workload[] = [];
  const zones: string[] = [];
  const vpcs: string[] = [];
  pages.forEach((page, pi) => {
    const at = Array.isArray(json) ? `[${pi}]` : '$';
    if (!isJsonObject(page) || !Array.isArray(page['NetworkInterfaces'])) {
      throw jsonPathError(
        file,
        at,
        'expected the output of `aws ec2 describe-network-interfaces` ({"NetworkInterfaces": [...]})',
      );
    }
    (page['NetworkInterfaces'] as unknown[]).forEach((eni, i) => {
      const path = `${at === '$' ? '' : at}NetworkInterfaces[${i}]`;
      workloads.push(interfaceWorkload(eni, file, path));
      const o = eni as JsonObject;
      const zone = stringAt(o, 'AvailabilityZone', file, path);
      const vpc = stringAt(o, 'VpcId', file, path);
      if (zone) zones.push(zone);
      if (vpc) vpcs.push(vpc);
    });
  });
  const region = mostCommon(zones.flatMap((z) => regionOfZone(z) ?? []));
  const vpc = mostCommon(vpcs);
  const warnings: string[] = [];
  if (new Set(vpcs).size > 1)
    warnings.push(
      `${file}: interfaces of ${new Set(vpcs).size} VPCs; the proposed target names ${vpc}, the one with the most`,
    );
  return {
    cloud: 'aws',
    workloads: workloads.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    ...(region && vpc ? { target: { name: `aws-${region}`, config: { region, vpc } } } : {}),
    warnings,
  };
}

/**
 * Parses `aws ec2 describe-instances` output: one workload per instance, with the instance's own
 * tags (interfaces rarely carry them), every address of its interfaces and its security groups.
 */
export function parseAwsInstances(json: unknown, file: string): Inventory {
  const pages = Array.isArray(json) ? json : [json];
  const workloads: Workload[] = [];
  const regions: string[] = [];
  const vpcs: string[] = [];
  pages.forEach((page, pi) => {
    const at = Array.isArray(json) ? `[${pi}]` : '';
    if (!isJsonObject(page) || !Array.isArray(page['Reservations'])) {
      throw jsonPathError(
        file,
        at || '$',
        'expected the output of `aws ec2 describe-instances` ({"Reservations": [...]})',
      );
    }
    listAt(page, 'Reservations', file, at).forEach((res, ri) => {
      const rpath = `${at}Reservations[${ri}]`;
      if (!isJsonObject(res)) throw jsonPathError(file, rpath, 'expected a reservation object');
      listAt(res, 'Instances', file, rpath).forEach((inst, ii) => {
        const path = `${rpath}.Instances[${ii}]`;
        if (!isJsonObject(inst)) throw jsonPathError(file, path, 'expected an instance object');
        const id = stringAt(inst, 'InstanceId', file, path);
        if (!id) throw jsonPathError(file, `${path}.InstanceId`, 'is missing');
        const enis = listAt(inst, 'NetworkInterfaces', file, path).map((eni, ei) =>
          interfaceWorkload(eni, file, `${path}.NetworkInterfaces[${ei}]`),
        );
        const addresses = new Set(enis.flatMap((e) => e.addresses));
        for (const key of ['PrivateIpAddress', 'PublicIpAddress', 'Ipv6Address']) {
          const v = stringAt(inst, key, file, path);
          if (v) addresses.add(v);
        }
        const tags: Record<string, string> = {};
        listAt(inst, 'Tags', file, path).forEach((t, ti) => {
          const tp = `${path}.Tags[${ti}]`;
          if (!isJsonObject(t)) throw jsonPathError(file, tp, 'expected {Key, Value}');
          const k = stringAt(t, 'Key', file, tp);
          if (k !== undefined) tags[k] = stringAt(t, 'Value', file, tp) ?? '';
        });
        const groups = new Set(enis.flatMap((e) => e.groups));
        const groupIds = new Set(enis.flatMap((e) => e.groupIds ?? []));
        listAt(inst, 'SecurityGroups', file, path).forEach((g) => {
          if (!isJsonObject(g)) return;
          if (typeof g['GroupName'] === 'string') groups.add(g['GroupName']);
          if (typeof g['GroupId'] === 'string') groupIds.add(g['GroupId']);
        });
        workloads.push({
          id,
          name: tags['Name'] ?? id,
          addresses: [...addresses].sort(),
          tags,
          groups: [...groups].sort(),
          groupIds: [...groupIds].sort(),
        });
        const placement = inst['Placement'];
        const zone = isJsonObject(placement)
          ? stringAt(placement, 'AvailabilityZone', file, `${path}.Placement`)
          : undefined;
        const region = zone ? regionOfZone(zone) : undefined;
        if (region) regions.push(region);
        const vpc = stringAt(inst, 'VpcId', file, path);
        if (vpc) vpcs.push(vpc);
      });
    });
  });
  const region = mostCommon(regions);
  const vpc = mostCommon(vpcs);
  return {
    cloud: 'aws',
    workloads: workloads.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    ...(region && vpc ? { target: { name: `aws-${region}`, config: { region, vpc } } } : {}),
    warnings:
      new Set(vpcs).size > 1
        ? [`${file}: instances of ${new Set(vpcs).size} VPCs; the proposed target names ${vpc}, the one with the most`]
        : [],
  };
}

/**
 * Interfaces with the tags of their instances: an interface's own tags win, the instance's fill in
 * (most estates tag instances, not their interfaces).
 */
export function withInstanceTags(interfaces: Inventory, instances: Inventory): Inventory {
  const byInstance = new Map(instances.workloads.map((w) => [w.id, w]));
  return {
    ...interfaces,
    workloads: interfaces.workloads.map((w) => {
      const inst = byInstance.get(w.name);
      return inst ? { ...w, tags: { ...inst.tags, ...w.tags } } : w;
    }),
  };
}

/** Reads the interfaces of the target's VPC through DescribeNetworkInterfaces (paginated, read-only). */
export async function readAwsInventoryLive(
  target: TargetSpec,
  options: InventoryLiveOptions,
  clientOptions: AwsClientOptions = {},
): Promise<Inventory> {
  if (target.kind !== 'aws') throw jsonPathError(target.name, 'target', 'is not an AWS target');
  // read.ts (the client) and errors.ts on first use: the provider's index imports this module for parse and detect.
  const [{ createEc2Client, loadEc2Sdk }, { classifyAwsError, credentialsError }] = await Promise.all([
    import('./read.js'),
    import('./errors.js'),
  ]);
  const client = await createEc2Client(target, options.endpoint, clientOptions);
  try {
    const { paginateDescribeNetworkInterfaces, paginateDescribeInstances } = await loadEc2Sdk();
    const NetworkInterfaces: unknown[] = [];
    const filter = { Filters: [{ Name: 'vpc-id', Values: [target.aws.vpc] }] };
    for await (const page of paginateDescribeNetworkInterfaces({ client, pageSize: DESCRIBE_PAGE_SIZE }, filter)) {
      NetworkInterfaces.push(...(page.NetworkInterfaces ?? []));
    }
    // The instances' tags (what `--group-by tag:KEY` usually means on AWS).
    const Reservations: unknown[] = [];
    for await (const page of paginateDescribeInstances({ client, pageSize: DESCRIBE_PAGE_SIZE }, filter)) {
      Reservations.push(...(page.Reservations ?? []));
    }
    const file = `${target.name} (live)`;
    return withInstanceTags(parseAwsInventory({ NetworkInterfaces }, file), parseAwsInstances({ Reservations }, file));
  } catch (err) {
    if (err instanceof Error && err.name === 'ProviderError') throw err;
    throw (
      credentialsError(err, target) ??
      classifyAwsError(err, `reading the network interfaces of ${target.name} (${target.aws.region} ${target.aws.vpc})`)
    );
  } finally {
    client.destroy();
  }
}

/** The AWS inventory reader for the Provider interface. */
export function createAwsInventoryReader(clientOptions: AwsClientOptions = {}): InventoryReader {
  const firstPage = (json: unknown): JsonObject | undefined => {
    const page = Array.isArray(json) ? json[0] : json;
    return isJsonObject(page) ? page : undefined;
  };
  return {
    source: 'aws ec2 describe-network-interfaces (or describe-instances)',
    detect: (json) => {
      const page = firstPage(json);
      return page !== undefined && ('NetworkInterfaces' in page || 'Reservations' in page);
    },
    parse: (json, file) =>
      'Reservations' in (firstPage(json) ?? {}) ? parseAwsInstances(json, file) : parseAwsInventory(json, file),
    live: (target, options) => readAwsInventoryLive(target, options, clientOptions),
  };
}
