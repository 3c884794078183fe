import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileFile, loadAndValidate } from '../../src/compile/index.js';
import { formatPos, type Diagnostic } from '../../src/diagnostics.js';
import { CASES, HEAD } from './rule-cases.js';
import { writeFiles } from './write-model.js';

/** Compiles `m.yaml` (plus other files) in a fresh folder; returns the diagnostics as `pos code message`. */
async function diagnose(
  files: Record<string, string>,
  root = 'm.yaml',
): Promise<{ ok: boolean; lines: string[]; diags: readonly Diagnostic[] }> {
  const dir = writeFiles(files);
  const r = await compileFile(root, { cwd: dir });
  return {
    ok: r.ok,
    diags: r.diagnostics,
    lines: r.diagnostics.map((d) => `${d.pos ? formatPos(d.pos) : '-'} ${d.severity} ${d.code}: ${d.message}`),
  };
}

describe('validation rules', () => {
  for (const c of CASES) {
    it(`${c.rule}: reported with its position`, async () => {
      const r = await diagnose(c.files);
      const matching = r.lines.filter((l) => c.expect.test(l));
      expect(matching, r.lines.join('\n')).toHaveLength(1);
      // One mistake, one message: never two diagnostics at the same place.
      const places = r.diags.map((d) => (d.pos ? formatPos(d.pos) : '-'));
      expect(new Set(places).size, r.lines.join('\n')).toBe(places.length);
      if (c.expect.source.includes(' error ')) expect(r.ok).toBe(false);
    });
  }

  it('include-outside-repo: an include may not leave the repository (the folder with .git)', async () => {
    const dir = writeFiles({
      'repo/app/m.yaml': `${HEAD}include: [../../shared.yaml, ../g/ok.yaml]\nsegments: { web: {} }\n`,
      'shared.yaml': 'bulkhead: 1\n',
      'repo/g/ok.yaml': 'bulkhead: 1\n',
    });
    mkdirSync(join(dir, 'repo/.git'));
    const r = await compileFile('repo/app/m.yaml', { cwd: dir });
    expect(r.diagnostics.map((d) => `${d.pos ? formatPos(d.pos) : '-'} ${d.code}`)).toEqual([
      'repo/app/m.yaml:3:11 include-outside-repo',
    ]);
    expect(r.diagnostics[0]?.message).toBe(
      'include "../../shared.yaml" leaves the repository (repo): included files must live inside it',
    );
  });

  it("without .git, the repository is the root file's folder", async () => {
    const r = await diagnose(
      { 'app/m.yaml': `${HEAD}include: ../x.yaml\nsegments: { web: {} }\n`, 'x.yaml': 'bulkhead: 1\n' },
      'app/m.yaml',
    );
    expect(r.diags.map((d) => d.code)).toEqual(['include-outside-repo']);
  });

  it('reports positions inside included files', async () => {
    const r = await diagnose({
      'm.yaml': `${HEAD}include: g/p.yaml\nsegments: { web: {} }\n`,
      'g/p.yaml': 'bulkhead: 1\nguardrails:\n  - name: x\n    deny: { to: wbe }\n',
    });
    expect(r.lines).toEqual([
      'g/p.yaml:4:17 error unknown-reference: unknown reference "wbe": no segment, entity or tier has this name; did you mean "web"?',
    ]);
  });

  it('reports every error at once, sorted by position', async () => {
    const r = await diagnose({
      'm.yaml': `${HEAD}services:\n  a: tcp/99999\n  b: tpc/1\nentities:\n  o: { cidrs: [10.0.0.1/8] }\nsegments:\n  web:\n    ingress: [{ from: nowhere, ports: [c] }]\n`,
    });
    expect(r.diags.map((d) => d.code)).toEqual([
      'bad-port',
      'bad-protocol',
      'cidr-host-bits',
      'unknown-reference',
      'unknown-service',
    ]);
    const lines = r.diags.map((d) => d.pos!.line);
    expect([...lines].sort((x, y) => x - y)).toEqual(lines);
  });

  it('reports guardrail violations together with the other errors, never from a half-resolved guardrail', async () => {
    const r = await diagnose({
      'm.yaml': `${HEAD}entities:\n  bad: { cidrs: [10.0.0.0/8], fqdns: [a.example.com] }\nsegments:\n  web:\n    ingress: [{ from: internet, ports: [tcp/22, htps] }, { from: bad, ports: [tcp/1] }]\nguardrails:\n  - { name: no-ssh, deny: { from: internet, ports: [tcp/22] } }\n  - { name: half, deny: { from: nosuch, ports: [tcp/22] } }\n`,
    });
    expect(r.lines).toEqual([
      'm.yaml:4:3 error entity-kind: entity "bad" mixes cidrs and fqdns: an entity is one kind; split it in two',
      'm.yaml:7:15 error guardrail-violation: flow internet -> web tcp/22 overlaps guardrail "no-ssh" (deny from internet (addresses outside the internal ranges 10.0.0.0/8, 100.64.0.0/10, 172.16.0.0/12, 192.168.0.0/16, fc00::/7) on tcp/22)',
      'm.yaml:7:49 error unknown-service: unknown service "htps"',
      'm.yaml:10:33 error unknown-reference: unknown reference "nosuch": no segment, entity or tier has this name',
    ]);
  });

  it('names both places of a guardrail violation, each with its position', async () => {
    const r = await diagnose({
      'm.yaml': `${HEAD}include: g.yaml\nsegments:\n  web:\n    ingress: [{ from: internet, ports: [tcp/20-30] }]\n`,
      'g.yaml': 'bulkhead: 1\nguardrails:\n  - name: no-ssh\n    deny: { from: internet, ports: [tcp/22] }\n',
    });
    const d = r.diags.find((x) => x.code === 'guardrail-violation')!;
    expect(d.message).toContain('internet -> web tcp/20-30');
    expect(d.message).toContain('"no-ssh"');
    expect(d.pos).toEqual({ file: 'm.yaml', line: 6, column: 15 });
    expect(d.related).toEqual([{ message: 'guardrail "no-ssh"', pos: { file: 'g.yaml', line: 3, column: 5 } }]);
  });

  it('supports YAML anchors, aliases and merge keys, with x- fields to hold them', async () => {
    const dir = writeFiles({
      'm.yaml': `${HEAD}x-ports: &web [tcp/443]\nx-defaults: &defaults\n  ingress: [{ from: internet, ports: *web }]\nsegments:\n  a:\n    <<: *defaults\n  b:\n    <<: *defaults\n    ingress: [{ from: a, ports: [tcp/1] }]\n`,
    });
    const r = await compileFile('m.yaml', { cwd: dir });
    expect(r.diagnostics).toEqual([]);
    expect(
      r.value!.rules.map(
        (x) =>
          `${x.segment} ${x.direction} ${x.peer.kind === 'segment' ? x.peer.name : x.peer.entity} ${x.origins[0]!.pos.line}`,
      ),
    ).toEqual(expect.arrayContaining(['a ingress internet 5', 'b ingress a 11']));
    // b's explicit ingress wins over the merged one.
    expect(r.value!.rules.some((x) => x.segment === 'b' && x.peer.kind === 'cidrs')).toBe(false);
  });

  it('accepts a flow written on both sides and merges its origins', async () => {
    const dir = writeFiles({
      'm.yaml': `${HEAD}segments:\n  app:\n    egress: [{ to: db, ports: [tcp/5432] }]\n  db:\n    ingress: [{ from: app, ports: [tcp/5432] }]\n`,
    });
    const r = await compileFile('m.yaml', { cwd: dir });
    expect(r.ok).toBe(true);
    expect(
      r.value!.rules.map((x) => `${x.segment} ${x.direction} ${x.origins.map((o) => o.pos.line).join(',')}`),
    ).toEqual(['app egress 5,7', 'db ingress 5,7']);
  });
});

describe('internet means outside the internal ranges', () => {
  const guard = 'guardrails:\n  - { name: no-ssh, deny: { from: internet, ports: [tcp/22] } }\n';
  const seg = (from: string) => `segments:\n  monitoring:\n    ingress: [{ from: ${from}, ports: [tcp/22] }]\n`;
  it('a VPN range inside RFC 1918 may SSH under a deny of internet; a partner /24 may not', async () => {
    const ok = await diagnose({
      'm.yaml': `${HEAD}entities:\n  vpn: { cidrs: [172.16.50.0/24] }\n${seg('vpn')}${guard}`,
    });
    expect(ok.lines).toEqual([]);
    expect(ok.ok).toBe(true);
    const bad = await diagnose({
      'm.yaml': `${HEAD}entities:\n  partner: { cidrs: [198.51.100.0/24] }\n${seg('partner')}${guard}`,
    });
    expect(bad.lines).toEqual([
      'm.yaml:7:15 error guardrail-violation: flow partner -> monitoring tcp/22 overlaps guardrail "no-ssh" (deny from internet (addresses outside the internal ranges 10.0.0.0/8, 100.64.0.0/10, 172.16.0.0/12, 192.168.0.0/16, fc00::/7) on tcp/22)',
    ]);
  });
  it('the default includes 100.64.0.0/10 and fc00::/7', async () => {
    const r = await diagnose({
      'm.yaml': `${HEAD}entities:\n  vpn: { cidrs: [100.64.8.0/24, "fd00:1::/64"] }\n${seg('vpn')}${guard}`,
    });
    expect(r.lines).toEqual([]);
  });
  it("a target's internalRanges (on any cloud) decides; with several targets, outside any of them overlaps", async () => {
    const aws = '  a: { aws: { region: eu-west-1, vpc: vpc-0123456789abcdef0, internalRanges: [10.0.0.0/8] } }\n';
    const az =
      '  z: { azure: { subscription: 00000000-0000-0000-0000-000000000000, resourceGroup: rg, location: westeurope, nsg: n, internalRanges: [172.16.0.0/12] } }\n';
    const ent = 'entities:\n  vpn: { cidrs: [172.16.50.0/24] }\n';
    const onlyAz = await diagnose({ 'm.yaml': `${HEAD}targets:\n${az}${ent}${seg('vpn')}${guard}` });
    expect(onlyAz.lines).toEqual([]);
    const both = await diagnose({ 'm.yaml': `${HEAD}targets:\n${aws}${az}${ent}${seg('vpn')}${guard}` });
    expect(both.diags.map((d) => d.code)).toEqual(['guardrail-violation']);
    expect(both.diags[0]!.message).toContain("internet (addresses outside each target's internal ranges)");
  });
  it('internalRanges is accepted on aws and azure targets, canonical, and checked with positions', async () => {
    const dir = writeFiles({
      'm.yaml': `${HEAD}targets:\n  a: { aws: { region: eu-west-1, vpc: vpc-0123456789abcdef0, internalRanges: [10.1.0.0/16, "FD00::/8"] } }\n  z: { azure: { subscription: 00000000-0000-0000-0000-000000000000, resourceGroup: rg, location: westeurope, nsg: n, internalRanges: [10.0.0.1/8] } }\nsegments: { web: {} }\n`,
    });
    const r = await compileFile('m.yaml', { cwd: dir });
    expect(r.diagnostics.map((d) => `${formatPos(d.pos!)} ${d.code}`)).toEqual(['m.yaml:5:135 cidr-host-bits']);
    const ok = await compileFile('m.yaml', {
      cwd: writeFiles({
        'm.yaml': `${HEAD}targets:\n  a: { aws: { region: eu-west-1, vpc: vpc-0123456789abcdef0, internalRanges: ["FD00::/8", 10.1.0.0/16] } }\nsegments: { web: {} }\n`,
      }),
    });
    expect(ok.ok && ok.value.targets[0]).toMatchObject({
      kind: 'aws',
      aws: { internalRanges: ['10.1.0.0/16', 'fd00::/8'] },
    });
  });
});

describe('mistakes that used to pass silently', () => {
  const codes = (r: { diags: readonly Diagnostic[] }) =>
    r.diags.map((d) => `${formatPos(d.pos!)} ${d.severity} ${d.code}`);
  it('bulkhead: "1" (a string) is an error at the value', async () => {
    const r = await diagnose({ 'm.yaml': 'bulkhead: "1"\nname: demo\nsegments: { web: {} }\n' });
    expect(r.lines).toEqual([
      'm.yaml:1:11 error unsupported-version: format version "1" is a string: write the number, "bulkhead: 1" without quotes',
    ]);
    expect(r.ok).toBe(false);
  });
  it('a model without segments: is an error that says how to retire a model; segments: {} a warning', async () => {
    const none = await diagnose({
      'm.yaml': `${HEAD}targets:\n  a: { aws: { region: eu-west-1, vpc: vpc-0123456789abcdef0 } }\n`,
    });
    expect(codes(none)).toEqual(['m.yaml:1:1 error missing-segments']);
    expect(none.diags[0]!.message).toContain('write "segments: {}"');
    const empty = await diagnose({ 'm.yaml': `${HEAD}segments: {}\n` });
    expect(empty.ok).toBe(true);
    expect(codes(empty)).toEqual(['m.yaml:3:1 warning empty-segments']);
    // A guardrail pack has no segments of its own: neither.
    expect(
      (await diagnose({ 'p.yaml': 'bulkhead: 1\nguardrails: []\n' }, 'p.yaml')).diags.map((d) => d.code),
    ).not.toContain('missing-segments');
  });
  it('an AWS region or Azure location near a known one is an error with "did you mean"; an unknown one a warning', async () => {
    const t = (aws: string, az: string) =>
      `${HEAD}targets:\n  a: { aws: { region: ${aws}, vpc: vpc-0123456789abcdef0 } }\n  z: { azure: { subscription: 00000000-0000-0000-0000-000000000000, resourceGroup: rg, location: ${az}, nsg: n } }\nsegments: { web: {} }\n`;
    const typo = await diagnose({ 'm.yaml': t('eu-wset-1', 'westeurop') });
    expect(typo.lines).toEqual([
      'm.yaml:4:23 error misspelled-region: "eu-wset-1" is not an AWS region; did you mean "eu-west-1"?',
      'm.yaml:5:98 error misspelled-location: "westeurop" is not an Azure location; did you mean "westeurope"?',
    ]);
    const fresh = await diagnose({ 'm.yaml': t('eu-west-9', 'marscentral') });
    expect(fresh.ok).toBe(true);
    expect(codes(fresh)).toEqual(['m.yaml:4:23 warning unknown-region', 'm.yaml:5:98 warning unknown-location']);
    expect((await diagnose({ 'm.yaml': t('eu-west-1', 'westeurope') })).lines).toEqual([]);
  });
  it('ignoreWarnings silences warnings by code, never errors; it must be a list of strings', async () => {
    const t = `${HEAD}ignoreWarnings: [unknown-region, empty-segments, some-future-code]\ntargets:\n  a: { aws: { region: eu-west-9, vpc: vpc-0123456789abcdef0 } }\nsegments: {}\n`;
    const r = await diagnose({ 'm.yaml': t });
    expect(r.lines).toEqual([]);
    expect(r.ok).toBe(true);
    const errs = await diagnose({
      'm.yaml': t.replace('eu-west-9', 'eu-wset-1').replace('unknown-region', 'misspelled-region'),
    });
    expect(codes(errs)).toEqual(['m.yaml:5:23 error misspelled-region']);
    const bad = await diagnose({ 'm.yaml': `${HEAD}ignoreWarnings: [1, x]\nsegments: { web: {} }\n` });
    expect(codes(bad)).toEqual(['m.yaml:3:18 error wrong-type']);
    const notList = await diagnose({ 'm.yaml': `${HEAD}ignoreWarnings: unknown-region\nsegments: { web: {} }\n` });
    expect(codes(notList)).toEqual(['m.yaml:3:17 error wrong-type']);
    const inc = await diagnose({
      'm.yaml': `${HEAD}include: g.yaml\nsegments: { web: {} }\n`,
      'g.yaml': 'bulkhead: 1\nignoreWarnings: [x]\n',
    });
    expect(codes(inc)).toEqual(['g.yaml:2:1 error include-content']);
  });
});

// The model is kept while compiling (and often after): a large one names each segment ~20 times.
describe('the validated model', () => {
  it('has one reference object per segment name, shared by every flow naming it', async () => {
    const dir = writeFiles({
      'm.yaml': `${HEAD}segments:\n  a: {}\n  b:\n    ingress: [{ from: a, ports: [tcp/443] }, { from: [a], ports: [udp/53] }]\n  c:\n    ingress: [{ from: a, ports: [tcp/443] }]\n`,
    });
    const r = await loadAndValidate('m.yaml', { cwd: dir });
    if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
    const refs = [...r.value.segments.values()].flatMap((s) => s.flows.flatMap((f) => f.peers.map((p) => p.ref)));
    expect(refs).toHaveLength(3);
    expect(refs[0]).toEqual({ kind: 'segment', name: 'a' });
    expect(refs[1]).toBe(refs[0]);
    expect(refs[2]).toBe(refs[0]);
  });
});
