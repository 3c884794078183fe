import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { PassThrough } from 'node:stream';
import { processIo, promptOn } from '../../src/io.js';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PROVIDERS } from '../../providers/index.js';
import { runCli } from '../helpers/cli.js';
import { createFakeWorkspace, restoreProviders, TWO_SEGMENT_MODEL as MODEL } from '../helpers/fake-workspace.js';
import { dumpCloud, seedGroup, setFaults, type FakeCloud } from '../helpers/fake-provider.js';
import { createFakeTerminal } from '../helpers/fake-io.js';
import { checksumOf } from '../../src/plan/saved-plan.js';
import type { Provider } from '../../src/provider.js';

let dir: string;
let cloud: FakeCloud;

beforeEach(async () => {
  ({ dir, cloud } = await createFakeWorkspace('bulkhead-apply-'));
});

afterEach(restoreProviders);

const state = () => JSON.stringify(dumpCloud(cloud));

describe('bulkhead apply', () => {
  it('refuses without a TTY and without --auto-approve, changing nothing', async () => {
    const r = await runCli(['apply'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--auto-approve');
    expect(cloud.log).toEqual([]);
  });

  it('asks on a TTY and applies only on "yes"', async () => {
    const no = await runCli(['apply'], { cwd: dir, tty: true, answers: ['y'] });
    expect(no.code).toBe(1);
    expect(no.stderr).toContain("Only 'yes' will be accepted");
    expect(no.stderr).toContain('Apply cancelled. Nothing was changed.');
    expect(cloud.log).toEqual([]);
    const yes = await runCli(['apply', '--no-color'], { cwd: dir, tty: true, answers: ['yes'] });
    expect(yes.code).toBe(0);
    expect(yes.stdout).toContain('Apply complete! Resources: 2 added, 0 changed, 0 destroyed');
    expect(yes.stdout).toMatch(/done {4}create aws-test\.fake_group\.shop-lb/);
    expect(yes.stderr).toContain('create:aws-test.fake_group.shop-lb: create…');
    const again = await runCli(['plan', '--detailed-exitcode'], { cwd: dir });
    expect(again.code).toBe(0);
  });

  it('applies a saved plan (re-checked against its model), and refuses it once stale, saying what changed', async () => {
    expect((await runCli(['plan', '--out', 'p1.json'], { cwd: dir })).code).toBe(0);
    expect((await runCli(['plan', '--out', 'p2.json'], { cwd: dir })).code).toBe(0);
    // Reformatting the model (lines move, rules do not) keeps the plan applicable.
    await writeFile(join(dir, 'bulkhead.yaml'), `# reviewed\n\n${MODEL}`);
    const r = await runCli(['apply', 'p1.json'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Apply complete!');
    // p2 was made against the empty cloud: it is stale now.
    const before = state();
    const stale = await runCli(['apply', 'p2.json'], { cwd: dir });
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('Target aws-test: 2 owned objects changed since the plan was made');
    expect(stale.stderr).toContain('aws-test.fake_group.shop-lb appeared');
    expect(stale.stderr).toContain('the saved plan is stale');
    expect(state()).toBe(before);
  });

  it('refuses a stale plan when only objects outside the model changed', async () => {
    await runCli(['plan', '--out', 'p.json'], { cwd: dir });
    seedGroup(cloud, 'aws-test', { name: 'shop-lb' }); // an unowned object now sits where the plan creates one
    const r = await runCli(['apply', 'p.json'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('objects outside the model changed');
  });

  it('rejects a broken plan file as invalid', async () => {
    await writeFile(join(dir, 'p.json'), JSON.stringify({ kind: 'bulkhead-plan', formatVersion: 99 }));
    const r = await runCli(['apply', 'p.json'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('saved plan format 99 is not supported');
    await writeFile(
      join(dir, 'p1.json'),
      JSON.stringify({ kind: 'bulkhead-plan', formatVersion: 1, plan: {}, rules: {} }),
    );
    expect((await runCli(['apply', 'p1.json'], { cwd: dir })).stderr).toContain('saved plan format 1 is not supported');
  });

  it('--max-destroy refuses before any change', async () => {
    await runCli(['apply', '--auto-approve'], { cwd: dir });
    await writeFile(join(dir, 'bulkhead.yaml'), MODEL.replace(/ {2}web:\n.*\n/, ''));
    const before = state();
    const r = await runCli(['apply', '--auto-approve', '--max-destroy', '0'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the plan destroys 2 objects (1 resource, 1 rule), more than --max-destroy 0');
    expect(state()).toBe(before);
    const ok = await runCli(['apply', '--auto-approve', '--max-destroy', '5'], { cwd: dir });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('1 destroyed');
  });

  it('exits 1 with a per-step report when a step fails, and a re-run converges', async () => {
    setFaults(cloud, { failAt: 2 });
    const r = await runCli(['apply', '--auto-approve', '--parallelism', '1'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAILED .*injected failure at call 2/);
    expect(r.stdout).toContain('Apply incomplete:');
    expect(r.stdout).toMatch(/skipped .*: (add|create):aws-test\.fake_group\.shop-\w+ failed/);
    setFaults(cloud, {});
    expect((await runCli(['apply', '--auto-approve'], { cwd: dir })).code).toBe(0);
    expect((await runCli(['plan', '--detailed-exitcode'], { cwd: dir })).code).toBe(0);
  });

  it('validates --parallelism', async () => {
    const r = await runCli(['apply', '--auto-approve', '--parallelism', 'many'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--parallelism needs a whole number');
  });

  it('says so and exits 0 when there is nothing to do', async () => {
    await runCli(['apply', '--auto-approve'], { cwd: dir });
    const r = await runCli(['apply'], { cwd: dir }); // no TTY needed when there is nothing to confirm
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('No changes.');
  });

  it('refuses a plan made against snapshots', async () => {
    await runCli(['export', '--out', 'snap'], { cwd: dir });
    expect((await runCli(['plan', '--snapshots', 'snap', '--out', 'p.json'], { cwd: dir })).code).toBe(0);
    const r = await runCli(['apply', 'p.json'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('made against snapshots');
    expect(r.stderr).toContain('snapshot plans cannot be applied');
    expect(cloud.log).toEqual([]);
  });

  it('plan --snapshots --out says the saved plan cannot be applied instead of suggesting apply', async () => {
    await runCli(['export', '--out', 'snap'], { cwd: dir });
    const r = await runCli(['plan', '--snapshots', 'snap', '--out', 'p.json'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('snapshot plans cannot be applied');
    expect(r.stderr).not.toContain('To carry it out');
    const live = await runCli(['plan', '--out', 'q.json'], { cwd: dir });
    expect(live.stderr).toContain('To carry it out: bulkhead apply q.json');
  });

  it('refuses when the targets change while the prompt waits', async () => {
    const r = await runCli(['apply'], {
      cwd: dir,
      tty: true,
      answers: ['yes'],
    });
    expect(r.code).toBe(0);
    // Now a change sneaks in between the plan and the answer.
    await writeFile(join(dir, 'bulkhead.yaml'), MODEL.replace('tcp/8080', 'tcp/8081'));
    const fake = PROVIDERS.aws!();
    let reads = 0;
    PROVIDERS.aws = () => ({
      ...fake,
      read: async (...args) => {
        reads++;
        if (reads === 2) seedGroup(cloud, 'aws-test', { name: 'intruder' });
        return fake.read(...args);
      },
    });
    const before = JSON.stringify(dumpCloud(cloud));
    const late = await runCli(['apply'], { cwd: dir, tty: true, answers: ['yes'] });
    expect(late.code).toBe(1);
    expect(late.stderr).toContain('the state changed before the changes could start');
    const after = JSON.parse(JSON.stringify(dumpCloud(cloud))) as Record<string, { name: string }[]>;
    expect(JSON.stringify({ 'aws-test': after['aws-test']!.filter((g) => g.name !== 'intruder') })).toBe(before);
  });
});

/* eslint-disable @typescript-eslint/no-explicit-any -- tests edit plan files as raw JSON, like a person would */
type Doc = any;

/** Edits a saved plan file; `resum` recomputes the checksum, as someone editing on purpose would. */
async function editPlan(name: string, edit: (doc: Doc) => void, resum = true): Promise<void> {
  const path = join(dir, name);
  const doc = JSON.parse(await readFile(path, 'utf8')) as Doc;
  edit(doc);
  if (resum) doc.checksum = checksumOf(doc);
  await writeFile(path, JSON.stringify(doc, null, 2));
}

const changeOf = (doc: Doc, name: string): Doc => doc.plan.targets[0].changes.find((c: Doc) => c.name === name);

const GUARDED = `${MODEL}guardrails:
  - name: no-ssh-from-internet
    deny: { from: internet, ports: [tcp/22] }
`;

describe("bulkhead apply and destroy take the targets' locks", () => {
  it('apply takes the lock before the first write and releases it at the end', async () => {
    const order: string[] = [];
    cloud.onChange = (c) => order.push(`${c.locks.has('aws-test') ? 'locked' : 'UNLOCKED'} ${c.log.at(-1)}`);
    const r = await runCli(['apply', '--auto-approve'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(cloud.lockLog).toEqual(['lock aws-test', 'unlock aws-test']);
    expect(order.length).toBeGreaterThan(0);
    expect(order.every((o) => o.startsWith('locked '))).toBe(true);
  });

  it('refuses, changing nothing, while another run holds the lock, and names the holder and force-unlock', async () => {
    const since = new Date().toISOString();
    const expires = new Date(Date.now() + 3_600_000).toISOString();
    cloud.locks.set('aws-test', {
      model: 'shop',
      holder: 'ci@runner-7',
      pid: 4242,
      runId: 'other',
      since,
      expires,
      objectId: 'lock-x',
    });
    const r = await runCli(['apply', '--auto-approve'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/target aws-test is locked by ci@runner-7/);
    expect(r.stderr).toContain('bulkhead force-unlock aws-test');
    expect(cloud.log).toEqual([]);
    expect(cloud.locks.get('aws-test')?.runId).toBe('other');
  });

  it('a run that waited for the lock re-reads the targets and refuses a plan another run made stale', async () => {
    // Another run holds the lock and changes the target while this one waits.
    const since = new Date().toISOString();
    const expires = new Date(Date.now() + 3_600_000).toISOString();
    cloud.locks.set('aws-test', {
      model: 'shop',
      holder: 'ci@runner-7',
      pid: 4242,
      runId: 'other',
      since,
      expires,
      objectId: 'lock-x',
    });
    const mine = runCli(['apply', '--auto-approve', '--lock-timeout', '30s'], { cwd: dir });
    await new Promise((resolve) => setTimeout(resolve, 700));
    seedGroup(cloud, 'aws-test', { name: 'shop-lb', owner: 'shop', rules: [] });
    cloud.locks.delete('aws-test');
    const r = await mine;
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('changed since the plan was made');
    expect(r.stderr).toMatch(/waiting|locked by ci@runner-7/);
    expect(cloud.log).toEqual([]);
  });

  it('destroy takes the lock as well', async () => {
    expect((await runCli(['apply', '--auto-approve'], { cwd: dir })).code).toBe(0);
    cloud.lockLog.length = 0;
    const r = await runCli(['destroy', '--auto-approve'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(cloud.lockLog).toEqual(['lock aws-test', 'unlock aws-test']);
  });
});

describe('bulkhead apply PLAN: a saved plan is a trust boundary', () => {
  beforeEach(async () => {
    await writeFile(join(dir, 'bulkhead.yaml'), GUARDED);
    expect((await runCli(['plan', '--out', 'p.json'], { cwd: dir })).code).toBe(0);
  });

  const refused = async (needle: string | RegExp) => {
    const before = state();
    const r = await runCli(['apply', 'p.json'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(needle);
    expect(r.stderr).not.toContain('Internal error');
    expect(state()).toBe(before);
    expect(cloud.log).toEqual([]);
    return r;
  };

  /** Turns the lb's internet rule into `tcp/22 from 0.0.0.0/0`, which the guardrail forbids. */
  const toSsh = (doc: Doc) => {
    const lb = changeOf(doc, 'shop-lb');
    const cc = lb.childChanges.find((c: Doc) => c.key.startsWith('ingress'));
    const after = {
      ...cc.after,
      key: 'ingress tcp/22-22 cidr:0.0.0.0/0',
      summary: 'ingress tcp/22-22 from 0.0.0.0/0',
      attributes: { direction: 'ingress', service: 'tcp/22-22', peer: 'cidr:0.0.0.0/0' },
    };
    lb.childChanges = [{ ...cc, key: after.key, after }];
    lb.after.children = [after];
  };

  it('an edit without a new checksum is a corrupt plan file', async () => {
    await editPlan('p.json', toSsh, false);
    await refused(/corrupt plan file: its checksum does not match/);
  });

  it('a rule changed to tcp/22 from 0.0.0.0/0 (breaking a guardrail) is refused with what differs', async () => {
    await editPlan('p.json', toSsh);
    const r = await refused('the saved plan does not match');
    expect(r.stderr).toContain(
      'aws-test.fake_group.shop-lb: the plan adds rule "ingress tcp/22-22 cidr:0.0.0.0/0"; the model does not',
    );
    expect(r.stderr).toMatch(/the model adds rule "ingress tcp\/443-443 [^"]+"; the plan does not/);
  });

  it('an added `ingress all from 0.0.0.0/0` is refused', async () => {
    await editPlan('p.json', (doc) => {
      const web = changeOf(doc, 'shop-web');
      const after = {
        key: 'ingress all cidr:0.0.0.0/0',
        summary: 'ingress all from 0.0.0.0/0',
        attributes: { direction: 'ingress', service: 'all', peer: 'cidr:0.0.0.0/0' },
      };
      web.childChanges.push({ action: 'create', key: after.key, before: null, after });
      web.after.children.push(after);
    });
    const r = await refused('the plan adds rule "ingress all cidr:0.0.0.0/0"; the model does not');
    expect(r.stderr).toContain('[plan-mismatch]');
  });

  it('bogus protocol/port values are never sent', async () => {
    await editPlan('p.json', (doc) => {
      const cc = changeOf(doc, 'shop-web').childChanges[0];
      cc.after.attributes.service = 'tcpx/0-99999';
    });
    await refused(/rule "ingress tcp\/8080-8080 sg:shop-lb" differs: the plan has .*tcpx\/0-99999/);
  });

  it('an added delete of an object the model does not own is refused by name, and the object survives', async () => {
    seedGroup(cloud, 'aws-test', {
      name: 'payroll-db',
      rules: [{ direction: 'ingress', service: 'tcp/5432-5432', peer: 'cidr:10.0.0.0/8' }],
    });
    expect((await runCli(['plan', '--out', 'p.json'], { cwd: dir })).code).toBe(0);
    await editPlan('p.json', (doc) => {
      const before = {
        address: 'aws-test.fake_group.payroll-db',
        target: 'aws-test',
        type: 'fake_group',
        name: 'payroll-db',
        attributes: { description: 'group payroll-db' },
        children: [],
        liveId: 'sg-1',
      };
      doc.plan.targets[0].prior.push(before);
      doc.plan.targets[0].changes.push({
        address: before.address,
        target: 'aws-test',
        type: 'fake_group',
        name: 'payroll-db',
        action: 'delete',
        before,
        after: null,
        attributeChanges: [],
        childChanges: [],
        widensAccess: false,
      });
    });
    const r = await refused('aws-test.fake_group.payroll-db: the plan deletes an object that model shop does not own');
    expect(r.stderr).toContain("the plan's recorded state is not what was read now (aws-test.fake_group.payroll-db)");
    expect(JSON.stringify(dumpCloud(cloud))).toContain('payroll-db');
  });

  it('edited saved rules, and a model that changed since the plan, are refused', async () => {
    await editPlan('p.json', (doc) => {
      doc.rules.denies = [];
    });
    await refused('the rules saved in the plan differ from what bulkhead.yaml compiles to (denies)');
    expect((await runCli(['plan', '--out', 'p.json'], { cwd: dir })).code).toBe(0);
    await writeFile(join(dir, 'bulkhead.yaml'), GUARDED.replace('tcp/8080', 'tcp/8081'));
    await refused('bulkhead.yaml now compiles to other rules than the plan was made from');
  });

  it('a malformed plan names the JSON path; a truncated one is a corrupt plan file, not a model', async () => {
    await editPlan('p.json', (doc) => {
      doc.plan.targets[0].changes[0].action = 'explode';
    });
    await refused(
      'corrupt plan file: $.plan.targets[0].changes[0].action: must be one of create, update, delete, replace',
    );
    const text = await readFile(join(dir, 'p.json'), 'utf8');
    for (const cut of [40, Math.floor(text.length / 2), text.length - 3]) {
      await writeFile(join(dir, 'p.json'), text.slice(0, cut));
      const r = await refused('corrupt plan file (truncated or damaged');
      expect(r.stderr).toContain('p.json:1:1');
    }
  });

  it('a snapshot plan whose source was edited to live is never applied', async () => {
    expect((await runCli(['apply', '--auto-approve'], { cwd: dir })).code).toBe(0);
    await runCli(['export', '--out', 'snap'], { cwd: dir });
    await writeFile(join(dir, 'bulkhead.yaml'), GUARDED.replace('tcp/8080', 'tcp/8081'));
    expect((await runCli(['plan', '--snapshots', 'snap', '--out', 'p.json'], { cwd: dir })).code).toBe(0);
    cloud.log.length = 0;
    const toLive = (doc: Doc) => {
      for (const t of doc.plan.targets) t.source = 'live';
    };
    await editPlan('p.json', toLive, false);
    await refused('corrupt plan file: its checksum does not match');
    expect((await runCli(['plan', '--snapshots', 'snap', '--out', 'p.json'], { cwd: dir })).code).toBe(0);
    await editPlan('p.json', toLive);
    await refused("the plan's recorded state is not what was read now");
  });

  it('refuses to run from a folder without the model it names', async () => {
    const other = await mkdtemp(join(tmpdir(), 'bulkhead-apply-elsewhere-'));
    await writeFile(join(other, 'p.json'), await readFile(join(dir, 'p.json'), 'utf8'));
    const r = await runCli(['apply', 'p.json'], { cwd: other });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the saved plan was made from bulkhead.yaml, which is not in');
    expect(cloud.log).toEqual([]);
  });
});

describe('Ctrl-C and Ctrl-D', () => {
  it('Ctrl-D or Ctrl-C at the prompt is a refusal: Apply cancelled, nothing changed, exit 1', async () => {
    const term = createFakeTerminal({ cwd: dir, answers: [null] });
    const r = await term.run(['apply']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Apply cancelled. Nothing was changed.');
    expect(r.stderr).not.toContain('Internal error');
    expect(cloud.log).toEqual([]);
  });

  it('Ctrl-C mid-apply starts no new step, lets the running one finish, reports, exits 130', async () => {
    const term = createFakeTerminal({ cwd: dir, tty: false });
    const fake = PROVIDERS.aws!();
    const started: string[] = [];
    PROVIDERS.aws = (): Provider => ({
      ...fake,
      createApplier: (target, st, options) => {
        const inner = fake.createApplier(target, st, options);
        return {
          run: async (step) => {
            started.push(step.id);
            if (started.length === 1) expect(term.interrupt()).toBe(1); // pressed while the first step runs
            await inner.run(step);
          },
        };
      },
    });
    const r = await term.run(['apply', '--auto-approve', '--parallelism', '1']);
    expect(r.code).toBe(130);
    expect(started).toHaveLength(1);
    expect(cloud.log).toEqual([`create ${started[0]!.replace(/^create:aws-test\.fake_group\./, '')}`]);
    expect(r.stderr).toContain('press Ctrl-C again to exit at once');
    expect(r.stdout).toMatch(new RegExp(`done {4}create ${started[0]!.replace('create:', '').replace(/\./g, '\\.')}`));
    expect(r.stdout).toContain('skipped add    aws-test.fake_group.shop-lb: not started: the apply was interrupted');
    expect(r.stdout).toContain('Apply interrupted: 1 step done, 0 failed, 3 not started.');
    // A re-run finishes the job.
    PROVIDERS.aws = () => fake;
    expect((await runCli(['apply', '--auto-approve'], { cwd: dir })).code).toBe(0);
    expect((await runCli(['plan', '--detailed-exitcode'], { cwd: dir })).code).toBe(0);
  });
});

describe('the terminal prompt (promptOn, what the real Io uses)', () => {
  const ask = async (keys: string) => {
    const input = new PassThrough();
    const output = new PassThrough();
    output.resume();
    const answer = promptOn(input, output, 'Enter a value: ', true);
    setImmediate(() => input.write(keys));
    return answer;
  };

  it('returns the typed line', async () => {
    expect(await ask('yes\r')).toBe('yes');
  });

  it('turns Ctrl-C and Ctrl-D into a refusal (null), not an exception', async () => {
    expect(await ask('\u0003')).toBeNull();
    expect(await ask('\u0004')).toBeNull();
    expect(await ask('ye\u0003')).toBeNull();
  });
});

describe('the real Io interrupt hook', () => {
  it('runs the handler on the first SIGINT and removes its listener when released', () => {
    const before = process.listeners('SIGINT');
    let calls = 0;
    const off = processIo().onInterrupt!(() => calls++);
    const ours = process.listeners('SIGINT').filter((l) => !before.includes(l));
    expect(ours).toHaveLength(1);
    // Called directly, not through process.emit: other SIGINT listeners of the test runner stay out of it.
    (ours[0] as () => void)();
    expect(calls).toBe(1);
    off();
    expect(process.listeners('SIGINT')).toEqual(before);
  });
});
