import { describe, expect, it } from 'vitest';
import { ruleChild, SG_TYPE, type AwsRule } from '../../providers/aws/canonical.js';
import { firewallResource, type FirewallSpec } from '../../providers/gcp/canonical.js';
import {
  atomChild,
  namespaceSelector,
  networkPolicyResource,
  type Atom,
} from '../../providers/kubernetes/canonical.js';
import { ciliumChild, ciliumResource } from '../../providers/kubernetes/cilium.js';
import type { CloudId } from '../../src/compile/types.js';
import { planFlowChanges } from '../../src/graph/plan-flows.js';
import { summarize } from '../../src/plan/create-plan.js';
import { diffResources } from '../../src/plan/diff.js';
import type { Plan, Resource } from '../../src/plan/types.js';

function planOf(provider: CloudId, desired: Resource[], prior: Resource[]): Plan {
  const changes = diffResources(desired, prior);
  return {
    formatVersion: 1,
    model: { name: 'shop', digest: 'd', file: 'm.yaml' },
    targets: [{ target: 't', provider, source: 'snapshot', fingerprint: 'f', prior, changes, diagnostics: [] }],
    diagnostics: [],
    summary: summarize(changes),
  };
}

function sg(name: string, rules: AwsRule[]): Resource {
  return {
    address: `t.${SG_TYPE}.${name}`,
    target: 't',
    type: SG_TYPE,
    name,
    attributes: { description: 'x' },
    children: rules.map((r) => ruleChild(r)),
  };
}

const https = (description: string, cidr = '0.0.0.0/0'): AwsRule => ({
  direction: 'ingress',
  protocol: 'tcp',
  fromPort: 443,
  toPort: 443,
  peer: { kind: 'cidr', cidr },
  description,
});

function firewall(name: string, over: Partial<FirewallSpec> = {}): Resource {
  const spec: FirewallSpec = {
    name,
    network: 'projects/p/global/networks/n',
    direction: 'INGRESS',
    priority: 1000,
    action: 'allow',
    rules: [{ protocol: 'tcp', ports: ['8080'] }],
    sourceRanges: [],
    sourceTags: ['shop-lb'],
    sourceServiceAccounts: [],
    destinationRanges: [],
    targetTags: ['shop-web'],
    targetServiceAccounts: [],
    disabled: false,
    logging: 'off',
    description: name,
    ...over,
  };
  return firewallResource('t', spec);
}

describe('planFlowChanges', () => {
  it('names owned objects by segment and peers as written', () => {
    const plan = planOf(
      'aws',
      [sg('shop-lb', [https('a'), https('a', '::/0')])],
      [sg('shop-lb', [{ ...https('a'), fromPort: 80, toPort: 80 }])],
    );
    expect(planFlowChanges(plan)).toEqual([
      {
        target: 't',
        provider: 'aws',
        added: [
          { from: '0.0.0.0/0', to: 'lb', ports: ['tcp/443'], deny: false },
          { from: '::/0', to: 'lb', ports: ['tcp/443'], deny: false },
        ],
        removed: [{ from: '0.0.0.0/0', to: 'lb', ports: ['tcp/80'], deny: false }],
      },
    ]);
  });

  it('a rule that changes but allows the same flow (its description) changes no flow', () => {
    const plan = planOf('aws', [sg('shop-lb', [https('new text')])], [sg('shop-lb', [https('old text')])]);
    expect(plan.targets[0]!.changes).toHaveLength(1);
    expect(planFlowChanges(plan)).toEqual([]);
  });

  it('a flow another rule keeps open is not removed; a disabled rule allows nothing', () => {
    const kept = planOf(
      'gcp',
      [firewall('shop-web-in-lb-1')],
      [firewall('shop-web-in-lb-1'), firewall('shop-web-in-lb-old', { priority: 900 })],
    );
    expect(kept.targets[0]!.changes.map((c) => c.action)).toEqual(['delete']);
    expect(planFlowChanges(kept)).toEqual([]);

    const disabled = planOf('gcp', [firewall('shop-web-in-lb-1', { disabled: true })], [firewall('shop-web-in-lb-1')]);
    expect(planFlowChanges(disabled)).toEqual([
      {
        target: 't',
        provider: 'gcp',
        added: [],
        removed: [{ from: 'lb', to: 'web', ports: ['tcp/8080'], deny: false }],
      },
    ]);
  });

  it('reads GCP egress, denies and service accounts', () => {
    const plan = planOf(
      'gcp',
      [
        firewall('shop-deny', {
          direction: 'EGRESS',
          action: 'deny',
          rules: [{ protocol: 'all', ports: [] }],
          sourceTags: [],
          targetTags: ['shop-db'],
          destinationRanges: ['0.0.0.0/0'],
        }),
        firewall('shop-sa', {
          sourceTags: [],
          sourceRanges: ['10.0.0.0/8', '192.168.0.0/16'],
          targetTags: [],
          targetServiceAccounts: ['app@p.iam.gserviceaccount.com'],
        }),
      ],
      [],
    );
    expect(planFlowChanges(plan)[0]!.added).toEqual([
      { from: '10.0.0.0/8, 192.168.0.0/16', to: 'app@p.iam.gserviceaccount.com', ports: ['tcp/8080'], deny: false },
      { from: 'db', to: '0.0.0.0/0', ports: ['all'], deny: true },
    ]);
  });

  it('reads Kubernetes NetworkPolicy atoms: the policy is its segment, pod peers by segment label, namespaces and ipBlocks as written', () => {
    const policy = (atoms: Atom[]) =>
      networkPolicyResource(
        't',
        'shop-web',
        {
          model: 'shop',
          namespace: 'shop',
          podSelector: { matchLabels: { 'bulkhead.io/segment': 'web' } },
          policyTypes: ['Ingress', 'Egress'],
        },
        atoms.map((a) => atomChild(a)),
      );
    const fromLb: Atom = {
      direction: 'ingress',
      peer: {
        kind: 'pods',
        namespaces: namespaceSelector('shop'),
        pods: { matchLabels: { 'bulkhead.io/segment': 'lb' } },
      },
      port: { kind: 'port', protocol: 'TCP', port: 8080 },
    };
    const toDns: Atom = {
      direction: 'egress',
      peer: {
        kind: 'pods',
        namespaces: namespaceSelector('kube-system'),
        pods: { matchLabels: { 'k8s-app': 'kube-dns' } },
      },
      port: { kind: 'port', protocol: 'UDP', port: 53 },
    };
    const toNet: Atom = {
      direction: 'egress',
      peer: { kind: 'ipBlock', cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] },
      port: { kind: 'port', protocol: 'TCP', port: 9000, endPort: 9010 },
    };
    const plan = planOf(
      'kubernetes',
      [policy([{ ...fromLb, port: { kind: 'port', protocol: 'TCP', port: 8443 } }, toDns, toNet])],
      [policy([fromLb, toDns])],
    );
    expect(plan.targets[0]!.changes).toHaveLength(1);
    expect(planFlowChanges(plan)).toEqual([
      {
        target: 't',
        provider: 'kubernetes',
        added: [
          { from: 'lb', to: 'web', ports: ['tcp/8443'], deny: false },
          { from: 'web', to: '0.0.0.0/0 except 10.0.0.0/8', ports: ['tcp/9000-9010'], deny: false },
        ],
        removed: [{ from: 'lb', to: 'web', ports: ['tcp/8080'], deny: false }],
      },
    ]);
  });

  it('reads the FQDN egress of a CiliumNetworkPolicy as its segment to the name', () => {
    const cnp = (names: string[]) =>
      ciliumResource(
        't',
        'shop-app-fqdn',
        {
          model: 'shop',
          namespace: 'shop',
          endpointSelector: { matchLabels: { 'bulkhead.io/segment': 'app' } },
          other: '{}',
        },
        names.map((n) =>
          ciliumChild({ peer: { kind: 'fqdn', matchName: n }, port: { kind: 'port', protocol: 'TCP', port: '443' } }),
        ),
      );
    const plan = planOf('kubernetes', [cnp(['api.example.com', 'api.paypal.com'])], [cnp(['api.example.com'])]);
    expect(planFlowChanges(plan)).toEqual([
      {
        target: 't',
        provider: 'kubernetes',
        added: [{ from: 'app', to: 'api.paypal.com', ports: ['tcp/443'], deny: false }],
        removed: [],
      },
    ]);
  });
});
