/**
 * The bench's synthetic model: `n` segments with about 20 flows each (17 from other segments on a
 * few services, 2 from CIDR entities, 1 from the internet on every tenth), one guardrail, one
 * target per cloud. Deterministic: the same text for the same `n` on every run. The side-by-side
 * with Aerleon (bench/aerleon.ts) writes the same policy in Aerleon's language from `syntheticFlows`.
 */

/** Flows per segment (17 segment peers, 2 CIDR entities, the internet on every tenth). */
export const FLOWS_PER_SEGMENT = 20;

/** A deterministic pseudo-random generator (the same model on every run). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** One ingress flow of a synthetic segment: a peer (segment, entity or `internet`) and one service. */
export interface SyntheticFlow {
  readonly from: string;
  readonly service: string;
}

/** The services of the synthetic model: name → the ports it stands for. */
export const SYNTHETIC_SERVICES: Readonly<Record<string, readonly string[]>> = {
  https: ['tcp/443'],
  api: ['tcp/8080', 'tcp/9000-9010'],
  postgres: ['tcp/5432'],
};

/** The CIDR entities of the synthetic model. */
export const SYNTHETIC_ENTITIES: Readonly<Record<string, readonly string[]>> = {
  office: ['203.0.113.0/24', '2001:db8:100::/48'],
  partners: ['198.51.100.0/24'],
};

/** The segments of the synthetic model and their ingress flows, in the order the YAML writes them. */
export function syntheticSegments(n: number): { readonly name: string; readonly ingress: readonly SyntheticFlow[] }[] {
  const rand = rng(n);
  const services = ['https', 'api', 'postgres', 'tcp/6379', 'udp/53'];
  const out: { name: string; ingress: SyntheticFlow[] }[] = [];
  for (let i = 0; i < n; i++) {
    const ingress: SyntheticFlow[] = [];
    const peers = new Set<number>();
    const fromSegments = Math.min(FLOWS_PER_SEGMENT - 3, n - 1);
    while (peers.size < fromSegments) {
      const p = Math.floor(rand() * n);
      if (p !== i) peers.add(p);
    }
    for (const p of [...peers].sort((a, b) => a - b)) {
      ingress.push({ from: `s${p}`, service: services[Math.floor(rand() * services.length)]! });
    }
    ingress.push({ from: 'office', service: 'https' }, { from: 'partners', service: 'api' });
    if (i % 10 === 0) ingress.push({ from: 'internet', service: 'https' });
    out.push({ name: `s${i}`, ingress });
  }
  return out;
}

/** Options of the synthetic model's text. */
export interface SyntheticOptions {
  /**
   * Extra keys of each target's cloud block (`firewallQuota: 200000`, …): the declared quotas
   * that let an estate-scale model plan through the CLI. Absent: the clouds' defaults apply.
   */
  readonly targetExtras?: { readonly aws?: string; readonly azure?: string; readonly gcp?: string };
  /**
   * Azure: spread the segments over several NSGs (`nsgs`), this many consecutive segments per NSG
   * (`bench-0: [s0, s1]`, …), instead of the one NSG `bench`. Absent: one NSG.
   */
  readonly azureSegmentsPerNsg?: number;
}

/** The Azure target's NSG key: `nsg: bench`, or `nsgs` with `per` consecutive segments per NSG. */
function azureNsgs(n: number, per: number | undefined): string {
  if (per === undefined) return 'nsg: bench';
  const groups: string[] = [];
  for (let i = 0; i < n; i += per) {
    const members = Array.from({ length: Math.min(per, n - i) }, (_, k) => `s${i + k}`);
    groups.push(`bench-${i / per}: [${members.join(', ')}]`);
  }
  return `nsgs: { ${groups.join(', ')} }`;
}

/** The YAML text of a synthetic model with `n` segments. */
export function syntheticModel(n: number, options: SyntheticOptions = {}): string {
  const extra = (cloud: 'aws' | 'azure' | 'gcp') =>
    options.targetExtras?.[cloud] ? `, ${options.targetExtras[cloud]}` : '';
  const lines: string[] = [
    'bulkhead: 1',
    'name: bench',
    'targets:',
    `  aws-bench: { aws: { region: eu-west-1, vpc: vpc-0123456789abcdef0${extra('aws')} } }`,
    `  azure-bench: { azure: { subscription: 00000000-0000-0000-0000-000000000000, resourceGroup: rg, location: westeurope, ${azureNsgs(n, options.azureSegmentsPerNsg)}${extra('azure')} } }`,
    `  gcp-bench: { gcp: { project: bench-proj, network: bench-vpc${extra('gcp')} } }`,
    '  k8s-bench: { kubernetes: { namespace: bench } }',
    'services:',
    ...Object.entries(SYNTHETIC_SERVICES).map(
      ([name, ports]) => `  ${name}: ${ports.length === 1 ? ports[0] : `[${ports.join(', ')}]`}`,
    ),
    'entities:',
    '  office: { cidrs: [203.0.113.0/24, "2001:db8:100::/48"] }',
    '  partners: { cidrs: [198.51.100.0/24] }',
    'guardrails:',
    '  - name: no-remote-admin-from-internet',
    '    deny: { from: internet, ports: [tcp/22, tcp/3389] }',
    'segments:',
  ];
  for (const s of syntheticSegments(n)) {
    lines.push(`  ${s.name}:`, `    ingress:`);
    for (const f of s.ingress) lines.push(`      - { from: ${f.from}, ports: [${f.service}] }`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * How the bench's model is written so it plans through the CLI at every size (issue 11.5): GCP's
 * default project quota (100 rules) and AWS's 2,500 groups per Region refuse a large estate, so
 * those targets declare raised quotas. Azure's per-NSG limits (1,000 rules, 100 ASGs named, 4,000
 * addresses) cannot be raised, so the Azure target spreads its segments over NSGs of 2 segments
 * each: a synthetic segment's ~17 ingress and ~17 egress peers make ~35 ASGs and ~40 rules per
 * segment, so 2 per NSG stay well under 100 ASGs (3 would come close).
 */
export const ESTATE_OPTIONS: SyntheticOptions = {
  targetExtras: { aws: 'quotas: { securityGroupsPerRegion: 10000 }', gcp: 'firewallQuota: 1000000' },
  azureSegmentsPerNsg: 2,
};

/** The targets the bench plans through the CLI (see ESTATE_OPTIONS). */
export const PLANNED_TARGETS: readonly string[] = ['aws-bench', 'azure-bench', 'gcp-bench', 'k8s-bench'];
