import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createAwsProvider } from '../../../providers/aws/index.js';
import { buildSteps } from '../../../src/apply/build-steps.js';
import { createPlan } from '../../../src/plan/create-plan.js';
import { compile, copyShop, editModel, resolver } from '../../helpers/aws/scenario.js';

// Make-before-break on the live side: rules read back from AWS carry the same `dependsOn` edges
// render gives them, so deleting a segment revokes the rules of other groups that name its group
// before the group's DeleteSecurityGroup starts (README "make-before-break").

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

/** Plans a copy of shop.yaml against the bundled aws-prod snapshot, after `edit`. */
async function planShop(edit: (file: string) => Promise<void>) {
  const copy = await copyShop('vpc-0123456789abcdef0');
  dir = copy.dir;
  await edit(copy.file);
  const rules = await compile(copy.file);
  const provider = createAwsProvider();
  const target = rules.targets.find((t) => t.name === 'aws-prod')!;
  const plan = await createPlan(rules, {
    providers: (id) => (id === 'aws' ? provider : undefined),
    source: () => ({ kind: 'snapshot', dir: 'policies/snapshots/shop' }),
    targets: ['aws-prod'],
    resolver,
  });
  return { plan, target };
}

describe('AWS live state dependency edges', () => {
  it('a rule read back that names another group or an owned list depends on it, like render', async () => {
    const { target } = await planShop(async () => undefined);
    const live = await createAwsProvider().read(
      target,
      { kind: 'snapshot', dir: 'policies/snapshots/shop' },
      { model: 'shop', segments: [] },
    );
    const web = live.resources.find((r) => r.name === 'shop-web')!;
    const fromLb = web.children.find((c) => c.key === 'ingress tcp 8080-8080 sg:shop-lb')!;
    expect(fromLb.dependsOn).toEqual(['aws-prod.aws_security_group.shop-lb']);
    const app = live.resources.find((r) => r.name === 'shop-app')!;
    const toPayments = app.children.filter((c) => String(c.attributes['peer']).startsWith('pl:shop-'));
    expect(toPayments.length).toBeGreaterThan(0);
    for (const c of toPayments)
      expect(c.dependsOn).toEqual([`aws-prod.aws_managed_prefix_list.${String(c.attributes['peer']).slice(3)}`]);
    // A CIDR or an AWS-managed list is no object of the plan: no edge.
    for (const c of app.children.filter(
      (c) => !String(c.attributes['peer']).startsWith('pl:shop-') && !String(c.attributes['peer']).startsWith('sg:'),
    )) {
      expect(c.dependsOn).toBeUndefined();
    }
  });

  it("deleting a segment orders the revoke of another group's rule naming it before the group delete", async () => {
    const { plan } = await planShop(async (file) => {
      await editModel(file, /\n {2}lb: .*\n/, '\n');
      await editModel(file, '{ from: lb, ports: [tcp/8080] }', '{ from: office, ports: [tcp/8080] }');
      await editModel(file, /\n {2}edge: \[lb\]\n/, '\n');
    });
    const changes = plan.targets[0]!.changes.map((c) => `${c.action} ${c.name}`);
    expect(changes).toContain('delete shop-lb');
    expect(changes).toContain('update shop-web');
    const steps = buildSteps(plan);
    const del = steps.find((s) => s.step.id === 'delete:aws-prod.aws_security_group.shop-lb')!;
    const revoke = steps.find((s) => s.step.id === 'remove:aws-prod.aws_security_group.shop-web')!;
    expect(revoke.step.children.map((c) => c.key)).toContain('ingress tcp 8080-8080 sg:shop-lb');
    expect(del.waitsFor).toContain(revoke.step.id);
  });
});
