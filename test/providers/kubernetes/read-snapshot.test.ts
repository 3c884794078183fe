import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readKubernetes } from '../../../providers/kubernetes/read.js';
import { kubeTarget } from '../../helpers/kubernetes/targets.js';

let dir: string;
const target = kubeTarget('k8s-prod');
const read = (ctx = { model: 'shop', segments: [] }) => readKubernetes(target, { kind: 'snapshot', dir }, ctx);
const write = (text: string, file = 'networkpolicies.json') => writeFile(join(dir, 'k8s-prod', file), text);

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bulkhead-k8s-read-'));
  await mkdir(join(dir, 'k8s-prod'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const labelled = { 'app.kubernetes.io/managed-by': 'bulkhead', 'bulkhead.io/model': 'shop' };

describe('kubernetes snapshots (kubectl get networkpolicies -A -o json)', () => {
  it('names the kubectl command when the file is missing', async () => {
    const state = await read();
    expect(state.diagnostics.map((d) => [d.code, d.severity])).toEqual([['kubernetes-snapshot-missing', 'error']]);
    expect(state.diagnostics[0]!.message).toContain('kubectl get networkpolicies -A -o json >');
  });

  it('points at line:column when the file is not JSON', async () => {
    await write('{\n  "kind": "List",\n  "items": [,]\n}\n');
    const [d] = (await read()).diagnostics;
    expect(d!.code).toBe('kubernetes-snapshot-invalid');
    expect(d!.pos).toMatchObject({ line: 3, column: 13 });
  });

  it('names the JSON path of a value of the wrong type', async () => {
    await write(
      JSON.stringify({
        kind: 'List',
        items: [
          {
            metadata: { name: 'a', namespace: 'shop', labels: labelled },
            spec: { ingress: [{ ports: [{ port: true }] }] },
          },
        ],
      }),
    );
    expect((await read()).diagnostics[0]!.message).toContain(
      '$.items[0].spec.ingress[0].ports[0].port: expected a number or a name, got boolean true',
    );
  });

  it("keeps only the model's labelled objects, and flags an unlabelled one in the way", async () => {
    await write(
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [
          {
            metadata: { name: 'shop-web', namespace: 'shop', labels: labelled, resourceVersion: '5' },
            spec: { podSelector: {} },
          },
          {
            metadata: {
              name: 'shop-admin-web',
              namespace: 'shop',
              labels: { ...labelled, 'bulkhead.io/model': 'shop-admin' },
            },
            spec: { podSelector: {} },
          },
          { metadata: { name: 'shop-db', namespace: 'shop' }, spec: { podSelector: {} } },
          { metadata: { name: 'default-deny', namespace: 'shop' }, spec: { podSelector: {} } },
        ],
      }),
    );
    const state = await read({
      model: 'shop',
      segments: [{ name: 'db', pos: { file: 'm', line: 1, column: 1 } }] as never,
    });
    expect(state.resources.map((r) => `${r.address} ${r.liveId}`)).toEqual([
      'k8s-prod.kubernetes_network_policy.shop/shop-web shop/shop-web@5',
    ]);
    expect(state.diagnostics.map((d) => d.code)).toEqual(['kubernetes-unowned-in-the-way']);
  });
});
