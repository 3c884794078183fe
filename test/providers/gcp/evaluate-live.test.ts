import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { effectiveDrift } from '../../../src/reach/effective-drift.js';
import { explainProbe } from '../../../src/reach/explain.js';
import { prepareTargets } from '../../../src/reach/targets.js';
import { SHOP_DNS, startGcpHarness, type GcpHarness } from '../../helpers/gcp/harness.js';

// The GCP evaluator on live state read through the real Compute client from the local emulator:
// read with unowned rules lists every firewall (no server-side narrowing to the model's names),
// and explain / drift --effective count another team's rule.

let h: GcpHarness;
const resolved = new Map(Object.entries(SHOP_DNS));

beforeAll(async () => {
  h = await startGcpHarness();
  const rules = await h.compile();
  const report = await h.apply(await h.plan(rules), rules);
  expect(report.ok).toBe(true);
  h.emulator.seedFirewall({
    name: 'ops-allow-metrics',
    network: 'https://www.googleapis.com/compute/v1/projects/shop-prod/global/networks/shop-vpc',
    direction: 'INGRESS',
    priority: 900,
    sourceRanges: ['0.0.0.0/0'],
    targetTags: ['shop-db'],
    allowed: [{ IPProtocol: 'tcp', ports: ['9100'] }],
    description: 'metrics scraping (ops team)',
  });
}, 120_000);

afterAll(async () => {
  await h?.close();
});

describe('GCP evaluator on live state (emulator)', () => {
  it("read with unowned rules keeps plan's resources and fingerprint and adds the other team's rule", async () => {
    const rules = await h.compile();
    const target = rules.targets.find((t) => t.kind === 'gcp')!;
    const source = { kind: 'live' as const, endpoint: h.emulator.url };
    const plain = await h.provider.read(target, source, { model: 'shop', segments: rules.segments });
    const full = await h.provider.read(target, source, { model: 'shop', segments: rules.segments, unowned: true });
    expect(full.resources).toEqual(plain.resources);
    expect(full.fingerprint).toBe(plain.fingerprint);
    expect(plain.unowned).toBeUndefined();
    expect(full.unowned!.filter((r) => r.type === 'gcp_firewall').map((r) => r.name)).toEqual(['ops-allow-metrics']);
  });

  it('explain blames the unowned rule; effective drift lists the flow it opens', async () => {
    const rules = await h.compile();
    const { targets } = await prepareTargets(rules, {
      providers: (id) => (id === 'gcp' ? h.provider : undefined),
      source: () => ({ kind: 'live', endpoint: h.emulator.url }),
      targets: ['gcp-prod'],
      resolved,
    });
    const answer = explainProbe(
      rules,
      {
        source: { kind: 'address', address: '198.51.100.99' },
        destination: { kind: 'segment', name: 'db' },
        service: { kind: 'ports', protocol: 'tcp', from: 9100, to: 9100 },
      },
      targets,
      resolved,
    );
    expect(answer.model.verdict).toBe('deny');
    expect(answer.targets[0]).toMatchObject({
      verdict: 'allow',
      source: 'live',
      disagreement: { cause: 'unowned-rule' },
    });
    expect(answer.targets[0]!.rules[0]).toMatchObject({ rule: 'ops-allow-metrics', owned: false, priority: 900 });
    // The model's own flows agree on the live state just applied.
    const ok = explainProbe(
      rules,
      {
        source: { kind: 'segment', name: 'app' },
        destination: { kind: 'segment', name: 'db' },
        service: { kind: 'ports', protocol: 'tcp', from: 5432, to: 5432 },
      },
      targets,
      resolved,
    );
    expect(ok.targets[0]).toMatchObject({ verdict: 'allow' });
    expect(ok.targets[0]!.disagreement).toBeUndefined();
    const [report] = effectiveDrift(rules, targets, resolved);
    expect(
      report!.findings.map((f) => `${f.source} -> ${f.destination} ${f.service} ${f.disagreement?.cause}`),
    ).toEqual([
      'internet -> db tcp/9100 unowned-rule',
      'object-storage -> db tcp/9100 unowned-rule',
      'office -> db tcp/9100 unowned-rule',
      'payment-apis -> db tcp/9100 unowned-rule',
    ]);
  });
});
