import { describe, expect, it } from 'vitest';
import { compileFile } from '../../src/compile/index.js';
import { formatPortMatch } from '../../src/model/services.js';

const repo = new URL('../../', import.meta.url).pathname;

describe('compileFile(policies/shop.yaml)', () => {
  it('compiles DESIGN §1 shop model into both sides of every flow', async () => {
    const r = await compileFile('policies/shop.yaml', { cwd: repo });
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(r.ok).toBe(true);
    const rs = r.value!;
    expect(rs.model.name).toBe('shop');
    expect(rs.model.file).toBe('policies/shop.yaml');
    expect(rs.targets.map((t) => `${t.name}:${t.kind}`)).toEqual([
      'aws-prod:aws',
      'azure-prod:azure',
      'gcp-prod:gcp',
      'k8s-prod:kubernetes',
    ]);
    expect(rs.segments.map((s) => `${s.name}:${s.tier}`)).toEqual([
      'app:backend',
      'db:data',
      'lb:edge',
      'web:frontend',
    ]);
    const lines = rs.rules.map((r) => {
      const peer = r.peer.kind === 'segment' ? r.peer.name : r.peer.entity;
      return `${r.segment} ${r.direction} ${peer} ${formatPortMatch(r.service)}`;
    });
    expect(lines.sort()).toEqual(
      [
        'app egress db tcp/5432',
        'app egress object-storage tcp/443',
        'app egress payment-apis tcp/443',
        'app ingress web tcp/8080',
        'app ingress web tcp/9000-9010',
        'db ingress app tcp/5432',
        'lb egress web tcp/8080',
        'lb ingress internet tcp/443',
        'web egress app tcp/8080',
        'web egress app tcp/9000-9010',
        'web ingress lb tcp/8080',
      ].sort(),
    );
    const gcp = rs.targets.find((t) => t.kind === 'gcp');
    expect(gcp?.kind === 'gcp' && gcp.gcp.internalRanges).toEqual([
      '10.0.0.0/8',
      '100.64.0.0/10',
      '172.16.0.0/12',
      '192.168.0.0/16',
      'fc00::/7',
    ]);
    const deny = rs.denies.find((d) => d.guardrail === 'no-remote-admin-from-internet');
    expect(deny).toMatchObject({ direction: 'ingress', allSegments: true, segments: ['app', 'db', 'lb', 'web'] });
    expect(deny?.services.map(formatPortMatch)).toEqual(['tcp/22', 'tcp/3389']);
    expect(deny?.origins[0]?.pos.file).toBe('policies/guardrails/baseline.yaml');
  });

  it('gives byte-identical JSON on every run', async () => {
    const a = await compileFile('policies/shop.yaml', { cwd: repo });
    const b = await compileFile('policies/shop.yaml', { cwd: repo });
    expect(JSON.stringify(a.value)).toBe(JSON.stringify(b.value));
    expect(a.value?.model.digest).toMatch(/^[0-9a-f]{64}$/);
  });
});
