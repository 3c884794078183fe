import { copyFile, mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { applyPlan, type ApplyReport } from '../../../src/apply/apply-plan.js';
import { compileFile } from '../../../src/compile/index.js';
import type { RuleSet } from '../../../src/compile/types.js';
import { hasErrors } from '../../../src/diagnostics.js';
import { createPlan } from '../../../src/plan/create-plan.js';
import type { Plan } from '../../../src/plan/types.js';
import type { Provider } from '../../../src/provider.js';
import { createGcpProvider } from '../../../providers/gcp/index.js';
import { createGcpClients, type GcpClients } from '../../../providers/gcp/read.js';
import { startComputeEmulator, type ComputeEmulator } from './compute-emulator.js';

/**
 * The GCP test harness: a Compute emulator on 127.0.0.1, the GCP provider wired to it with the real
 * REST clients (fast backoff, small list pages so pagination is exercised), and helpers that run
 * the real pipeline (compileFile → createPlan → applyPlan) on a copy of policies/shop.yaml.
 */

/** Pinned resolutions of the shop's FQDNs (documentation ranges). */
export const SHOP_DNS: Readonly<Record<string, { ipv4: string[]; ipv6: string[] }>> = {
  'api.stripe.com': { ipv4: ['192.0.2.10'], ipv6: ['2001:db8::10'] },
  'api.paypal.com': { ipv4: ['198.51.100.20'], ipv6: [] },
};

/** A running harness. */
export interface GcpHarness {
  readonly emulator: ComputeEmulator;
  readonly provider: Provider;
  /** The real Compute clients pointed at the emulator (closed by `close`). */
  readonly clients: GcpClients;
  /** A temp folder holding `shop.yaml` (+ guardrails/) to edit. */
  readonly dir: string;
  readonly modelPath: string;
  compile(): Promise<RuleSet>;
  plan(rules?: RuleSet): Promise<Plan>;
  apply(plan: Plan, rules: RuleSet): Promise<ApplyReport>;
  /** Rewrites the model file: `edit(text) → new text`. */
  editModel(edit: (text: string) => string): Promise<void>;
  close(): Promise<void>;
}

/** Starts a harness with an empty project `shop-prod` holding the policy `shop-egress`. */
export async function startGcpHarness(
  options: { pageSize?: number; operationPolls?: number } = {},
): Promise<GcpHarness> {
  const emulator = await startComputeEmulator({ project: 'shop-prod', operationPolls: options.operationPolls ?? 2 });
  emulator.seedPolicy('shop-egress');
  // One set of real clients for the whole test (creating them loads the compute protos);
  // the provider's close() calls are no-ops, the harness closes them at the end.
  const real = await createGcpClients(emulator.url);
  const clients = { ...real, close: async () => undefined };
  const provider = createGcpProvider({
    clients: () => clients,
    retry: { attempts: 6, baseMs: 1, maxMs: 5 },
    pageSize: options.pageSize ?? 4,
  });
  const dir = await mkdtemp(join(tmpdir(), 'bulkhead-gcp-'));
  const repo = join(import.meta.dirname, '../../..');
  await mkdir(join(dir, 'guardrails'), { recursive: true });
  await copyFile(join(repo, 'policies/shop.yaml'), join(dir, 'shop.yaml'));
  await copyFile(join(repo, 'policies/guardrails/baseline.yaml'), join(dir, 'guardrails/baseline.yaml'));
  const modelPath = join(dir, 'shop.yaml');
  const resolver = async (fqdn: string) => ({
    ipv4: [...(SHOP_DNS[fqdn]?.ipv4 ?? [])],
    ipv6: [...(SHOP_DNS[fqdn]?.ipv6 ?? [])],
  });
  const providers = (id: string) => (id === 'gcp' ? provider : undefined);
  const source = () => ({ kind: 'live' as const, endpoint: emulator.url });
  const compile = async (): Promise<RuleSet> => {
    const r = await compileFile(modelPath, { cwd: dir });
    if (!r.ok) throw new Error(`model does not compile: ${JSON.stringify(r.diagnostics)}`);
    return r.value;
  };
  return {
    emulator,
    provider,
    clients,
    dir,
    modelPath,
    compile,
    async plan(rules) {
      const rs = rules ?? (await compile());
      return createPlan(rs, { providers, source, targets: ['gcp-prod'], resolver });
    },
    async apply(plan, rules) {
      if (hasErrors([...plan.diagnostics, ...plan.targets.flatMap((t) => t.diagnostics)])) {
        throw new Error(`plan has errors: ${JSON.stringify(plan.targets.flatMap((t) => t.diagnostics))}`);
      }
      return applyPlan(plan, rules, { providers, source, parallelism: 4, retries: 0 });
    },
    async editModel(edit) {
      const text = await readFile(modelPath, 'utf8');
      const next = edit(text);
      if (next === text) throw new Error('model edit changed nothing');
      await mkdir(dirname(modelPath), { recursive: true });
      await writeFile(modelPath, next);
    },
    async close() {
      await real.close();
      await emulator.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Counts of a plan's changes (gcp-prod). */
export function planCounts(plan: Plan): { create: number; update: number; delete: number; replace: number } {
  const changes = plan.targets.flatMap((t) => t.changes);
  return {
    create: changes.filter((c) => c.action === 'create').length,
    update: changes.filter((c) => c.action === 'update').length,
    delete: changes.filter((c) => c.action === 'delete').length,
    replace: changes.filter((c) => c.action === 'replace').length,
  };
}
