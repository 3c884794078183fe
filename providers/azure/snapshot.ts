import type { TargetSpec } from '../../src/compile/types.js';
import type { LiveOptions, SnapshotFile } from '../../src/provider.js';
import { azureRetryPolicy, withCredentials } from './errors.js';
import { azureConfig } from './render.js';
import { createNetworkClient, readLiveRaw, SNAPSHOT_FILES, type AzureProviderOptions } from './read.js';

/**
 * `bulkhead export` for Azure: reads the live API and writes the files `read` takes in snapshot
 * mode, in the shapes the az CLI prints (flattened properties plus `resourceGroup`):
 *
 *   nsg.json                    az network nsg show -g <rg> -n <nsg>
 *   asgs.json                   az network asg list -g <rg>
 *   rule-collection-group.json  az network firewall policy rule-collection-group show
 *                                 -g <rg> --policy-name <policy> -n <model>-fqdn-egress   (when present)
 *
 * Parsing is `readSnapshotRaw` in read.ts (it accepts the ARM `properties`-wrapped shape too).
 */
export async function exportAzureSnapshot(target: TargetSpec, live: LiveOptions, options: AzureProviderOptions): Promise<SnapshotFile[]> {
  const cfg = azureConfig(target);
  const raw = await withCredentials(target.name, async () => readLiveRaw(await createNetworkClient(target, options, live.endpoint), target, undefined, azureRetryPolicy(options)));
  const withRg = (o: object) => ({ ...o, resourceGroup: cfg.resourceGroup });
  const files: SnapshotFile[] = [];
  if (raw.nsg) files.push({ path: SNAPSHOT_FILES.nsg, content: `${JSON.stringify(withRg(raw.nsg), null, 2)}\n` });
  files.push({ path: SNAPSHOT_FILES.asgs, content: `${JSON.stringify(raw.asgs.map(withRg), null, 2)}\n` });
  if (raw.rcg) files.push({ path: SNAPSHOT_FILES.rcg, content: `${JSON.stringify(withRg(raw.rcg), null, 2)}\n` });
  return files;
}
