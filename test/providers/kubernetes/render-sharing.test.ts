import { describe, expect, it, vi } from 'vitest';
import { NP_TYPE, type Peer } from '../../../providers/kubernetes/canonical.js';
import { createKubernetesProvider } from '../../../providers/kubernetes/index.js';
import * as render from '../../../providers/kubernetes/render.js';
import { cidrs, flow, ruleSet, seg, tcp } from '../../helpers/rulesets.js';
import { kubeTarget } from '../../helpers/kubernetes/targets.js';

// Counts the renders the provider makes (the module is the real one, wrapped).
vi.mock('../../../providers/kubernetes/render.js', async (original) => {
  const actual = await original<typeof import('../../../providers/kubernetes/render.js')>();
  return { ...actual, renderKubernetes: vi.fn(actual.renderKubernetes) };
});

// Issue 11: at 10,000 segments the render keeps ~900,000 atoms alive until output. The atoms that
// name one endpoint share its Peer objects (and so their printed text) instead of three selectors
// each; and the render that follows validate takes validate's instead of rendering again.
const target = kubeTarget();
const rules = ruleSet({
  targets: [target],
  segments: ['api', 'db', 'web'],
  rules: [
    ...flow(seg('web'), seg('db'), tcp(5432), 10),
    ...flow(seg('web'), seg('db'), tcp(6432), 11),
    ...flow(seg('web'), seg('api'), tcp(8080), 12),
    ...flow(cidrs('office', ['203.0.113.0/24']), seg('db'), tcp(22), 13),
    ...flow(cidrs('office', ['203.0.113.0/24']), seg('api'), tcp(22), 14),
  ],
});

function policies() {
  return render.renderKubernetes(rules, target).resources.filter((r) => r.type === NP_TYPE);
}

function peersNaming(text: string): Peer[] {
  return policies()
    .flatMap((r) => r.children)
    .filter((c) => c.key.includes(text))
    .map((c) => c.attributes['peer'] as unknown as Peer);
}

describe('Kubernetes render shares what atoms have in common', () => {
  it('gives every atom naming one segment the same Peer object', () => {
    const web = peersNaming('from pods{bulkhead.io/segment=web}');
    expect(web).toHaveLength(3);
    expect(web[1]).toBe(web[0]);
    expect(web[2]).toBe(web[0]);
  });

  it('gives every atom naming one entity, and every DNS atom, the same Peer object', () => {
    const office = peersNaming('from 203.0.113.0/24');
    expect(office).toHaveLength(2);
    expect(office[1]).toBe(office[0]);
    const dns = peersNaming('to pods{k8s-app=kube-dns}');
    expect(dns.length).toBe(6); // UDP and TCP for each of three segments
    for (const p of dns) expect(p).toBe(dns[0]);
  });

  it('renders once for a validate and the render that follows it', () => {
    const renders = vi.mocked(render.renderKubernetes);
    renders.mockClear();
    const provider = createKubernetesProvider();
    const ctx = { resolved: new Map() };
    expect(provider.validate(rules, target, ctx)).toEqual([]);
    const taken = provider.render(rules, target, ctx);
    expect(renders).toHaveBeenCalledTimes(1);
    expect(taken).toEqual(render.renderKubernetes(rules, target).resources);
    // taken once: the next render is a render of its own
    provider.render(rules, target, ctx);
    expect(renders).toHaveBeenCalledTimes(3);
  });
});
