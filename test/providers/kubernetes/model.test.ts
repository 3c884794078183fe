import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { startKubernetesApiServer } from '../../helpers/kubernetes/api-server.js';
import { compileFile } from '../../../src/compile/index.js';
import { runCli } from '../../helpers/cli.js';
import { writeFiles } from '../../model/write-model.js';

/** The model's `kubernetes` target and segment bindings: schema, validation with positions, compile. */

const model = (
  target: string,
  segments = '  web: { ingress: [{ from: internet, ports: [tcp/443] }] }\n  app: { ingress: [{ from: web, ports: [tcp/8080] }] }\n',
) => `bulkhead: 1\nname: shop\ntargets:\n  k8s:\n    kubernetes: ${target}\nsegments:\n${segments}`;

describe('kubernetes in the model', () => {
  it('compiles a target and a segment binding into the RuleSet', async () => {
    const dir = writeFiles({
      'm.yaml': model(
        '{ namespace: shop, context: prod, dns: false, fqdn: cilium, adminNetworkPolicy: true }',
        '  web: { ingress: [{ from: internet, ports: [tcp/443] }] }\n  app:\n    ingress: [{ from: web, ports: [tcp/8080] }]\n    kubernetes: { namespace: api, podSelector: { app.kubernetes.io/name: api, tier: backend } }\n',
      ),
    });
    const r = await compileFile('m.yaml', { cwd: dir });
    expect(r.diagnostics).toEqual([]);
    expect(r.value!.targets[0]).toMatchObject({
      kind: 'kubernetes',
      name: 'k8s',
      kubernetes: { namespace: 'shop', context: 'prod', dns: false, fqdn: 'cilium', adminNetworkPolicy: true },
    });
    expect(r.value!.segments.find((s) => s.name === 'app')).toMatchObject({
      kubernetes: { namespace: 'api', podSelector: { 'app.kubernetes.io/name': 'api', tier: 'backend' } },
    });
  });

  it('carries the only guardrails into the RuleSet (tiers expanded), for AdminNetworkPolicy', async () => {
    const r = await compileFile('policies/shop.yaml', { cwd: new URL('../../../', import.meta.url).pathname });
    expect(r.value!.onlys).toEqual([
      {
        guardrail: 'data-only-from-backend',
        segments: ['db'],
        fromSegments: ['app'],
        fromEntities: [],
        origins: [expect.objectContaining({ label: expect.stringContaining('data-only-from-backend') })],
      },
    ]);
  });

  it('refuses unknown keys, bad namespaces and label syntax at file:line:column', async () => {
    const dir = writeFiles({
      'm.yaml': model(
        '{ namespace: Shop_NS, dsn: false, fqdn: calico }',
        '  web:\n    ingress: [{ from: internet, ports: [tcp/443] }]\n    kubernetes: { podSelector: { "bad key!": x, tier: "-no" } }\n',
      ),
    });
    const r = await runCli(['validate', 'm.yaml'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const lines = r.stderr
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('m.yaml:'));
    expect(lines.every((l) => /^m\.yaml:\d+:\d+: error: /.test(l))).toBe(true);
    const text = lines.join('\n');
    expect(text).toMatch(/m\.yaml:5:\d+: error: .*dsn/);
    expect(text).toMatch(/m\.yaml:5:\d+: error: .*namespace name/);
    expect(text).toMatch(/m\.yaml:5:\d+: error: .*cilium/);
    expect(text).toMatch(/m\.yaml:9:\d+: error: .*label key/);
    expect(text).toMatch(/m\.yaml:9:\d+: error: .*label value/);
  });

  it('requires the namespace', async () => {
    const r = await runCli(['validate', 'm.yaml'], { cwd: writeFiles({ 'm.yaml': model('{ context: prod }') }) });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^m\.yaml:5:\d+: error: .*namespace/m);
  });

  it('warns at validation that FQDN egress needs fqdn: cilium on this target', async () => {
    const dir = writeFiles({
      'm.yaml': `bulkhead: 1\nname: shop\ntargets:\n  k8s:\n    kubernetes: { namespace: shop }\nentities:\n  pay: { fqdns: [api.stripe.com] }\nsegments:\n  app: { egress: [{ to: pay, ports: [tcp/443] }] }\n`,
    });
    const r = await runCli(['validate', 'm.yaml'], { cwd: dir });
    expect(r.stderr).toContain('fqdn: cilium');
  });

  it('renders the List (--json) and kubectl-ready YAML documents (--format yaml)', async () => {
    const dir = writeFiles({ 'm.yaml': model('{ namespace: shop }') });
    const json = await runCli(['render', 'm.yaml', '--provider', 'kubernetes', '--json'], { cwd: dir });
    expect(json.code).toBe(0);
    const list = JSON.parse(json.stdout) as { kind: string; items: { kind: string; metadata: { name: string } }[] };
    expect(list.kind).toBe('List');
    expect(list.items.map((i) => `${i.kind} ${i.metadata.name}`)).toEqual([
      'NetworkPolicy shop-app',
      'NetworkPolicy shop-web',
    ]);
    const yaml = await runCli(['render', 'm.yaml', '--provider', 'kubernetes', '--format', 'yaml'], { cwd: dir });
    expect(yaml.code).toBe(0);
    const docs = yaml.stdout.split(/^---\n/m).filter((d) => d.trim() !== '');
    expect(docs).toHaveLength(2);
    expect(docs[0]).toMatch(
      /^apiVersion: networking\.k8s\.io\/v1\nkind: NetworkPolicy\nmetadata:\n {2}name: shop-app\n/,
    );
    // Each document is an object the API server accepts (schema-checked by the local server).
    const server = await startKubernetesApiServer();
    try {
      for (const doc of docs) {
        const body = parseYaml(doc) as { metadata: { namespace: string } };
        const res = await fetch(
          `${server.url}/apis/networking.k8s.io/v1/namespaces/${body.metadata.namespace}/networkpolicies`,
          { method: 'POST', body: JSON.stringify(body) },
        );
        expect(res.status).toBe(201);
      }
      expect(server.rejected).toEqual([]);
    } finally {
      await server.close();
    }
  });
});
