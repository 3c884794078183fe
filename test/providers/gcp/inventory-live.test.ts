import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readGcpInventoryLive } from '../../../providers/gcp/inventory.js';
import type { TargetSpec } from '../../../src/compile/types.js';

/**
 * The live GCP inventory read (instances.aggregatedList of the project, REST) through the real
 * InstancesClient, against a loopback server answering in two pages (nextPageToken) in the Compute
 * API's shape, recording every request (only GETs are allowed).
 */
const instance = (name: string, ip: string, network: string, tier: string) => ({
  kind: 'compute#instance',
  name,
  selfLink: `https://www.googleapis.com/compute/v1/projects/shop-prod/zones/europe-west4-a/instances/${name}`,
  labels: { tier },
  tags: { items: [`shop-${tier}`] },
  networkInterfaces: [
    {
      name: 'nic0',
      networkIP: ip,
      network: `https://www.googleapis.com/compute/v1/projects/shop-prod/global/networks/${network}`,
    },
  ],
});

let server: Server;
let url: string;
const requests: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    res.setHeader('content-type', 'application/json');
    if (req.method !== 'GET' || u.pathname !== '/compute/v1/projects/shop-prod/aggregated/instances') {
      res.statusCode = 404;
      res.end(
        JSON.stringify({
          error: { code: 404, message: `${req.method} ${u.pathname}`, errors: [{ reason: 'notFound', message: 'no' }] },
        }),
      );
      return;
    }
    if (u.searchParams.get('pageToken') === 'p2') {
      res.end(
        JSON.stringify({
          kind: 'compute#instanceAggregatedList',
          items: { 'zones/europe-west4-b': { instances: [instance('app-1', '10.0.2.4', 'shop-vpc', 'app')] } },
        }),
      );
      return;
    }
    res.end(
      JSON.stringify({
        kind: 'compute#instanceAggregatedList',
        items: {
          'zones/europe-west4-a': {
            instances: [
              instance('web-1', '10.0.1.4', 'shop-vpc', 'web'),
              instance('other-1', '10.9.0.4', 'other-vpc', 'web'),
            ],
          },
          'zones/us-east1-b': { warning: { code: 'NO_RESULTS_ON_PAGE', message: 'none' } },
        },
        nextPageToken: 'p2',
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('GCP live inventory', () => {
  it('lists the project’s instances page by page, read-only, keeping those on the target network', async () => {
    const target: TargetSpec = {
      kind: 'gcp',
      name: 'gcp-prod',
      pos: { file: 'm.yaml', line: 1, column: 1 },
      gcp: { project: 'shop-prod', network: 'shop-vpc', internalRanges: [] },
    };
    const inv = await readGcpInventoryLive(target, { endpoint: url });
    expect(inv.workloads.map((w) => [w.name, w.addresses, w.tags['tier'], w.groups])).toEqual([
      ['app-1', ['10.0.2.4'], 'app', ['shop-app']],
      ['web-1', ['10.0.1.4'], 'web', ['shop-web']],
    ]);
    expect(inv.target).toEqual({ name: 'gcp-shop-prod', config: { project: 'shop-prod', network: 'shop-vpc' } });
    expect(requests).toHaveLength(2);
    expect(requests.every((r) => r.startsWith('GET '))).toBe(true);
  });
});
