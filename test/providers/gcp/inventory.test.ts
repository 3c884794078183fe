import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gcpInventoryReader, parseGcpInventory } from '../../../providers/gcp/inventory.js';

const page = JSON.parse(
  readFileSync(
    join(import.meta.dirname, '../../fixtures/vendor/gcp/gcpdiag-gce1.instances.list.europe-west4-a.json'),
    'utf8',
  ),
) as { items: unknown[] };

describe('GCP inventory from gcloud compute instances list --format=json', () => {
  it('reads a real instances.list page: internal and external addresses, labels, network tags, the target', () => {
    expect(gcpInventoryReader.detect(page)).toBe(true);
    expect(gcpInventoryReader.detect(page.items)).toBe(true);
    const inv = parseGcpInventory(page.items, 'instances.json');
    expect(inv.workloads.map((w) => [w.name, w.addresses, w.tags, w.groups])).toEqual([
      ['gce1', ['10.164.0.2'], { foo: 'bar' }, ['secured-instance']],
      ['gce2', ['10.164.0.3'], {}, ['secured-instance']],
      ['mig-4h21', ['10.164.0.5'], {}, []],
      ['windows-test', ['10.164.0.2', '34.78.171.82'], { foo: 'bar' }, ['secured-instance']],
    ]);
    expect(inv.target).toEqual({
      name: 'gcp-gcpdiag-gce1-aaaa',
      config: { project: 'gcpdiag-gce1-aaaa', network: 'default' },
    });
  });

  it('names the JSON path of bad input', () => {
    expect(() => parseGcpInventory([{ name: 'a', networkInterfaces: [{ networkIP: 5 }] }], 'i.json')).toThrow(
      'i.json: [0].networkInterfaces[0].networkIP: expected a string',
    );
  });
});
