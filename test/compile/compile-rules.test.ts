import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { compileFile, compileRules, loadAndValidate } from '../../src/compile/index.js';
import { formatEndpoint } from '../../src/compile/canonical.js';
import type { RuleSet } from '../../src/compile/types.js';
import { formatPortMatch } from '../../src/model/services.js';
import { writeFiles } from '../model/write-model.js';

async function compile(body: string): Promise<RuleSet> {
  const dir = writeFiles({ 'm.yaml': `bulkhead: 1\nname: t\n${body}` });
  const r = await compileFile('m.yaml', { cwd: dir });
  if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.value;
}

const rules = (rs: RuleSet) =>
  rs.rules.map((r) => `${r.segment} ${r.direction} ${formatEndpoint(r.peer)} ${formatPortMatch(r.service)}`).sort();
const denies = (rs: RuleSet) =>
  rs.denies
    .map(
      (d) =>
        `${d.guardrail} ${d.direction} [${d.segments.join(',')}]${d.allSegments ? '*' : ''} ${formatEndpoint(d.peer)} ${d.services.map(formatPortMatch).join(',')}`,
    )
    .sort();

describe('compileRules', () => {
  it('expands tiers and named services: one intent per peer segment and port range, both sides', async () => {
    const rs = await compile(
      'services:\n  api: [tcp/8080, tcp/9000-9010]\n  both: [api, udp/53]\ntiers:\n  front: [a, b]\nsegments:\n  a: {}\n  b: {}\n  c:\n    ingress: [{ from: tier:front, ports: [both] }]\n',
    );
    expect(rules(rs)).toEqual(
      [
        'a egress c tcp/8080',
        'a egress c tcp/9000-9010',
        'a egress c udp/53',
        'b egress c tcp/8080',
        'b egress c tcp/9000-9010',
        'b egress c udp/53',
        'c ingress a tcp/8080',
        'c ingress a tcp/9000-9010',
        'c ingress a udp/53',
        'c ingress b tcp/8080',
        'c ingress b tcp/9000-9010',
        'c ingress b udp/53',
      ].sort(),
    );
  });

  it('gives flows with entities only the segment side, with canonical addresses', async () => {
    const rs = await compile(
      'entities:\n  office: { cidrs: ["2001:DB8:0::/48", 203.0.113.7, 198.51.100.0/24] }\n  apis: { fqdns: [API.Example.com., b.example.com] }\nsegments:\n  a:\n    ingress: [{ from: office, ports: [tcp/22] }]\n    egress: [{ to: apis, ports: [tcp/443] }]\n',
    );
    expect(rules(rs)).toEqual(['a egress apis tcp/443', 'a ingress office tcp/22']);
    const office = rs.rules.find((r) => r.direction === 'ingress')!.peer;
    expect(office).toEqual({
      kind: 'cidrs',
      entity: 'office',
      ipv4: ['198.51.100.0/24', '203.0.113.7/32'],
      ipv6: ['2001:db8::/48'],
    });
    expect(rs.rules.find((r) => r.direction === 'egress')!.peer).toEqual({
      kind: 'fqdns',
      entity: 'apis',
      fqdns: ['api.example.com', 'b.example.com'],
    });
  });

  it('pairs icmp with IPv4 and icmpv6 with IPv6 only', async () => {
    const rs = await compile(
      'segments:\n  a:\n    ingress: [{ from: internet, ports: [icmp/8, icmpv6/128, tcp/443] }]\n',
    );
    const peers = Object.fromEntries(rs.rules.map((r) => [formatPortMatch(r.service), r.peer]));
    expect(peers['icmp/8']).toEqual({ kind: 'cidrs', entity: 'internet', ipv4: ['0.0.0.0/0'], ipv6: [] });
    expect(peers['icmpv6/128']).toEqual({ kind: 'cidrs', entity: 'internet', ipv4: [], ipv6: ['::/0'] });
    expect(peers['tcp/443']).toEqual({
      kind: 'cidrs',
      entity: 'internet',
      ipv4: ['0.0.0.0/0'],
      ipv6: ['::/0'],
      builtin: 'internet',
    });
  });

  it('renders guardrail denies on the side that carries them', async () => {
    const rs = await compile(
      [
        'entities:\n  office: { cidrs: [203.0.113.0/24] }\n  apis: { fqdns: [api.example.com] }',
        'tiers:\n  data: [db]',
        'segments:\n  web: {}\n  app: {}\n  db: {}',
        'guardrails:',
        '  - { name: from-entity, deny: { from: office, ports: [tcp/22] } }',
        '  - { name: from-entity-to-seg, deny: { from: office, to: web, ports: [tcp/23] } }',
        '  - { name: to-entity, deny: { from: tier:data, to: apis } }',
        '  - { name: to-entity-any, deny: { to: internet, ports: [udp/53] } }',
        '  - { name: seg-to-seg, deny: { from: [web, app], to: db } }',
        '  - { name: seg-out, deny: { from: db, ports: [tcp/25] } }',
        '  - { name: seg-in, deny: { to: db, ports: [tcp/3389] } }',
        '  - { name: everything, deny: { ports: [tcp/23] } }',
        '',
      ].join('\n'),
    );
    expect(denies(rs)).toEqual(
      [
        'everything egress [app,db,web]* any tcp/23',
        'everything ingress [app,db,web]* any tcp/23',
        'from-entity ingress [app,db,web]* office tcp/22',
        'from-entity-to-seg ingress [web] office tcp/23',
        'seg-in ingress [db] any tcp/3389',
        'seg-out egress [db] any tcp/25',
        'seg-to-seg ingress [db] app all',
        'seg-to-seg ingress [db] web all',
        'to-entity egress [db] apis all',
        'to-entity-any egress [app,db,web]* internet udp/53',
      ].sort(),
    );
    expect(rs.denies.every((d) => d.origins.length === 1 && d.origins[0]!.pos.file === 'm.yaml')).toBe(true);
  });

  it('keeps per-cloud segment overrides and tiers on the segments', async () => {
    const rs = await compile(
      'tiers:\n  back: [app]\nsegments:\n  app:\n    aws: { groupId: sg-0123456789abcdef0 }\n    gcp: { serviceAccount: app@proj-123.iam.gserviceaccount.com }\n  web: {}\n',
    );
    expect(rs.segments.map(({ pos: _p, ...s }) => s)).toEqual([
      {
        name: 'app',
        tier: 'back',
        aws: { groupId: 'sg-0123456789abcdef0' },
        gcp: { serviceAccount: 'app@proj-123.iam.gserviceaccount.com' },
      },
      { name: 'web' },
    ]);
  });

  // The RuleSet lives until the end of the pipeline (render, diff, plan): per-intent copies of
  // the same peer or origins were most of its memory at estate scale (issue 11).
  it('shares one peer object per side and one origins array per flow between intents', async () => {
    const rs = await compile(
      'entities:\n  office: { cidrs: [203.0.113.0/24] }\nsegments:\n  a:\n    ingress: [{ from: office, ports: [tcp/22] }]\n  b:\n    ingress: [{ from: [a, office], ports: [tcp/443, tcp/80] }]\n  c:\n    ingress: [{ from: a, ports: [tcp/443] }]\n',
    );
    const find = (segment: string, direction: string, peer: string, service: string) =>
      rs.rules.find(
        (r) =>
          r.segment === segment &&
          r.direction === direction &&
          formatEndpoint(r.peer) === peer &&
          formatPortMatch(r.service) === service,
      )!;
    const toA = rs.rules.filter((r) => r.peer.kind === 'segment' && r.peer.name === 'a');
    expect(toA).toHaveLength(3);
    for (const r of toA) expect(r.peer).toBe(toA[0]!.peer);
    const fromOffice = rs.rules.filter((r) => formatEndpoint(r.peer) === 'office');
    expect(fromOffice).toHaveLength(3);
    for (const r of fromOffice) expect(r.peer).toBe(fromOffice[0]!.peer);
    // The two sides of one flow: the same origins (the same array, not a copy).
    const ingress = find('b', 'ingress', 'a', 'tcp/443'),
      egress = find('a', 'egress', 'b', 'tcp/443');
    expect(ingress.origins).toEqual([{ pos: { file: 'm.yaml', line: 9, column: 15 }, label: 'a -> b tcp/443' }]);
    expect(egress.origins).toBe(ingress.origins);
    expect(find('a', 'egress', 'b', 'tcp/80').origins).not.toBe(ingress.origins);
  });

  it('ids and digest depend on content only', async () => {
    const a = await compile('segments:\n  a:\n    ingress: [{ from: b, ports: [tcp/1] }]\n  b: {}\n');
    const b = await compile(
      '# a comment moves every line\n\nsegments:\n  b: {}\n  a:\n    ingress: [{ ports: [tcp/1], from: [b] }]\n',
    );
    expect(b.rules.map((r) => r.id)).toEqual(a.rules.map((r) => r.id));
    expect(b.model.digest).toBe(a.model.digest);
    expect(b.rules[0]!.origins[0]!.pos.line).not.toBe(a.rules[0]!.origins[0]!.pos.line);
    const c = await compile('segments:\n  a:\n    ingress: [{ from: b, ports: [tcp/2] }]\n  b: {}\n');
    expect(c.model.digest).not.toBe(a.model.digest);
  });
});

// The digest is fed to sha256 in pieces (compileRules' modelDigest, issue 11) instead of as one
// JSON text: it must stay the hash of exactly that text, the RuleSet without positions.
describe('the model digest', () => {
  const reference = (rs: RuleSet) =>
    createHash('sha256')
      .update(
        JSON.stringify({
          formatVersion: rs.formatVersion,
          name: rs.model.name,
          targets: rs.targets.map(({ pos: _pos, ...t }) => t),
          segments: rs.segments.map(({ pos: _pos, ...s }) => s),
          rules: rs.rules.map((r) => ({
            id: r.id,
            direction: r.direction,
            segment: r.segment,
            peer: r.peer,
            service: r.service,
          })),
          denies: rs.denies.map(({ origins: _o, ...d }) => d),
        }),
      )
      .digest('hex');

  it.each(['shop.yaml', 'pci.yaml', 'wordpress.yaml'])(
    'is the sha256 of the RuleSet without positions: policies/%s',
    async (name) => {
      const r = await compileFile(resolve(import.meta.dirname, '../../policies', name));
      if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
      expect(r.value.model.digest).toBe(reference(r.value));
    },
  );

  it('is that sha256 across the chunks it is fed in (more than 2,048 rules)', async () => {
    const segs = Array.from(
      { length: 60 },
      (_, i) =>
        `  s${i}:\n    ingress: [${Array.from({ length: 20 }, (_, j) => `{ from: s${(i + j + 1) % 60}, ports: [tcp/${1000 + j}] }`).join(', ')}]`,
    );
    const rs = await compile(
      `entities:\n  office: { cidrs: [203.0.113.0/24, "2001:db8::/48"] }\nsegments:\n${segs.join('\n')}\n  web:\n    ingress: [{ from: office, ports: [tcp/443, icmp] }]\n`,
    );
    expect(rs.rules.length).toBeGreaterThan(2048);
    expect(rs.model.digest).toBe(reference(rs));
  });

  it('keeps the RuleSet free of the SegmentModel until it is read (the model is garbage after compile)', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const dir = writeFiles({
      'm.yaml': 'bulkhead: 1\nname: t\nsegments:\n  web:\n    ingress: [{ from: internet, ports: [tcp/443] }]\n',
    });
    // The model only behind a WeakRef once compiled: what holds it then is the RuleSet.
    const compileHeld = async () => {
      const model = await loadAndValidate('m.yaml', { cwd: dir });
      if (!model.ok) throw new Error('the model does not validate');
      const compiled = compileRules(model.value);
      if (!compiled.ok) throw new Error('the model does not compile');
      return { rules: compiled.value, model: new WeakRef(model.value) };
    };
    const { rules: rs, model } = await compileHeld();
    await new Promise((r) => setTimeout(r, 0));
    gc();
    expect(model.deref()).toBeUndefined();
    expect(rs.model.digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is computed when first read and then kept: JSON and spreads see it in its place (name, digest, file)', async () => {
    const rs = await compile('segments:\n  web:\n    ingress: [{ from: internet, ports: [tcp/443] }]\n');
    const descriptor = Object.getOwnPropertyDescriptor(rs.model, 'digest');
    // A getter (the hash waits for a reader), enumerable, so JSON.stringify and { ...model } read it.
    expect(typeof descriptor?.get).toBe('function');
    expect(descriptor?.enumerable).toBe(true);
    const first = rs.model.digest;
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(rs.model.digest).toBe(first);
    expect(first).toBe(reference(rs));
    expect(Object.keys(JSON.parse(JSON.stringify(rs.model)))).toEqual(['name', 'digest', 'file']);
    expect({ ...rs.model }).toEqual({ name: rs.model.name, digest: first, file: rs.model.file });
  });
});
