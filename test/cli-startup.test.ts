import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMANDS, commandNameOf, registerCommands, type CommandContext } from '../src/commands/index.js';
import { processIo, type Io } from '../src/io.js';

// Start-up (the speed issue, 11.0): the commands that talk to no cloud load no cloud SDK. Each
// runs the real CLI in a child process whose module hook refuses every SDK import.
const REPO = resolve(import.meta.dirname, '..');

function cli(args: readonly string[]): { code: number | null; out: string } {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--import', './test/helpers/forbid-sdks.mjs', 'src/commands/main.ts', ...args],
    {
      cwd: REPO,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    },
  );
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('commands that talk to no cloud load no SDK', () => {
  const cases: [string, string[]][] = [
    ['--version', ['--version']],
    ['--help', ['--help']],
    ['validate', ['validate', 'policies/shop.yaml', 'policies/pci.yaml', 'policies/wordpress.yaml']],
    ['compile', ['compile', 'policies/shop.yaml', '--json']],
    [
      'render aws',
      ['render', '--provider', 'aws', 'policies/shop.yaml', '--snapshots', 'policies/snapshots/shop', '--json'],
    ],
    [
      'render azure',
      ['render', '--provider', 'azure', 'policies/shop.yaml', '--snapshots', 'policies/snapshots/shop', '--json'],
    ],
    [
      'render gcp',
      ['render', '--provider', 'gcp', 'policies/shop.yaml', '--snapshots', 'policies/snapshots/shop', '--json'],
    ],
    [
      'render kubernetes',
      ['render', '--provider', 'kubernetes', 'policies/shop.yaml', '--snapshots', 'policies/snapshots/shop', '--json'],
    ],
    ['plan --snapshots', ['plan', 'policies/shop.yaml', '--snapshots', 'policies/snapshots/shop']],
    ['drift --snapshots', ['drift', 'policies/shop.yaml', '--snapshots', 'policies/snapshots/shop']],
  ];
  it.each(cases)(
    '%s',
    (_label, args) => {
      const r = cli(args);
      expect(r.out).not.toContain('forbidden');
      // drift exits 2 on the bundled snapshots' drift; everything else 0.
      expect(r.code, r.out).toBe(args[0] === 'drift' ? 2 : 0);
    },
    60_000,
  );

  it('control: the hook does refuse an SDK import', () => {
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        './test/helpers/forbid-sdks.mjs',
        '--input-type=module',
        '-e',
        "await import('@aws-sdk/client-ec2')",
      ],
      {
        cwd: REPO,
        encoding: 'utf8',
      },
    );
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('forbidden: @aws-sdk/client-ec2');
  }, 60_000);
});

// The lazy command registry (src/commands/index.ts): the commands that do not run are only names
// and summaries, so `--version` and `--help` load no command module, and what they print is what
// the real registrations print.
describe('command modules load on use', () => {
  function loadedBy(args: readonly string[]): string[] {
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--import', './test/helpers/record-modules.mjs', 'src/commands/main.ts', ...args],
      {
        cwd: REPO,
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1' },
      },
    );
    expect(r.status, r.stderr).toBe(0);
    return r.stderr
      .split('\n')
      .filter((l) => l.startsWith('loaded: '))
      .map((l) => l.slice('loaded: '.length));
  }
  const heavy =
    /\/src\/(compile|model\/(?!suggest)|plan\/(?!suggest))|\/providers\/|\/node_modules\/(yaml|ajv|ipaddr\.js)\//;
  const commandModule =
    /\/src\/commands\/(?!index|options|main|program|process-warnings|output|engine-context)[a-z-]+\.ts$/;

  it('--version loads no command module, no compiler, no provider', () => {
    const loaded = loadedBy(['--version']);
    expect(
      loaded.some((u) => u.endsWith('/src/commands/main.ts')),
      'the hook saw the CLI',
    ).toBe(true);
    expect(loaded.filter((u) => commandModule.test(u) || heavy.test(u))).toEqual([]);
    // The executable answers --version itself: not even commander or the program module loads.
    expect(loaded.filter((u) => /\/src\/commands\/program\.ts$|\/node_modules\/commander\//.test(u))).toEqual([]);
  }, 60_000);

  it('--version prints what the program (commander) prints for it, and exits 0', async () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/commands/main.ts', '--version'], {
      cwd: REPO,
      encoding: 'utf8',
    });
    const out: string[] = [];
    const io = { ...processIo(), stdout: { write: (s: string) => out.push(s) } } as unknown as Io;
    const code = await (await import('../src/commands/program.js')).run(['--version'], io);
    expect([r.status, r.stdout, r.stderr]).toEqual([code, out.join(''), '']);
    expect(r.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  }, 60_000);

  it("--help loads no command module and no compiler (the provider registry, for the providers' names)", () => {
    const loaded = loadedBy(['--help']);
    // Whatever the provider registry imports is allowed here; the compiler, the YAML and schema libraries are not.
    expect(
      loaded.filter((u) => commandModule.test(u) || /\/src\/compile\/|\/node_modules\/(yaml|ajv)\//.test(u)),
    ).toEqual([]);
  }, 60_000);

  it('validate loads its own command module and no other, and not the yaml package for a plain file', () => {
    const loaded = loadedBy(['validate', 'policies/pci.yaml']);
    expect(loaded.filter((u) => commandModule.test(u)).map((u) => u.replace(/.*\/src\/commands\//, ''))).toEqual([
      'validate.ts',
    ]);
    // pci.yaml is plain YAML: the fast path reads it, the yaml package is not loaded.
    expect(loaded.filter((u) => /\/node_modules\/yaml\//.test(u))).toEqual([]);
  }, 60_000);

  // The registry's descriptor half (providers/descriptors.ts): model validation asks the target
  // descriptors only, so validate, compile and --help load no provider's render, read, apply, lock,
  // flows … module and not the registry of factories (providers/index.ts) that imports them all.
  const providerRuntime =
    /\/providers\/(index\.ts|[a-z]+\/(apply|read|lock|flows|inventory|evaluate|native|snapshot|state|render|validate|cli-json|rule-flows|index)\.ts)$/;
  const sdk = /\/node_modules\/(@aws-sdk|@smithy|@azure|@google-cloud|google-gax|@kubernetes)\//;
  it.each([
    ['validate of the shop', ['validate', 'policies/shop.yaml']],
    ['compile of the shop', ['compile', 'policies/shop.yaml', '--json']],
    ['--help', ['--help']],
  ])(
    '%s loads the target descriptors, no provider runtime module, no SDK and no yaml package',
    (_label, args) => {
      const loaded = loadedBy(args);
      // Nor the yaml package: the fast YAML path reads the shop, flow collections over several lines included.
      expect(loaded.filter((u) => providerRuntime.test(u) || sdk.test(u) || /\/node_modules\/yaml\//.test(u))).toEqual(
        [],
      );
      // It did load the descriptors: the check above would pass for a CLI that never reached them.
      expect(loaded.some((u) => u.endsWith('/providers/descriptors.ts'))).toBe(true);
      expect(loaded.filter((u) => /\/providers\/[a-z]+\/target\.ts$/.test(u))).toHaveLength(4);
    },
    60_000,
  );

  // The providers' index modules import what render and validate run; read, apply, export and the
  // evaluator import theirs on first use. So `render` loads no read, apply or evaluator module (nor
  // the yaml package, for JSON output), and a snapshot plan reads through snapshot.ts and state.ts
  // only (Kubernetes keeps its snapshot reader in read.ts, whose client and SDK load lazily).
  it('render of the shop loads no read, apply or evaluator module of any provider, nor the yaml package', () => {
    const loaded = loadedBy(['render', '--provider', 'gcp', 'policies/shop.yaml', '--json']);
    expect(loaded.some((u) => u.endsWith('/providers/gcp/render.ts'))).toBe(true);
    expect(
      loaded.filter(
        (u) =>
          /\/providers\/[a-z]+\/(apply|read|evaluate|native|state)\.ts$/.test(u) ||
          sdk.test(u) ||
          /\/node_modules\/yaml\//.test(u),
      ),
    ).toEqual([]);
  }, 60_000);

  it('plan --snapshots of the shop reads the snapshots without any apply, live-read or evaluator module', () => {
    const loaded = loadedBy(['plan', 'policies/shop.yaml', '--snapshots', 'policies/snapshots/shop']);
    expect(loaded.filter((u) => /\/providers\/[a-z]+\/snapshot\.ts$/.test(u))).toHaveLength(4);
    expect(
      loaded.filter(
        (u) =>
          /\/providers\/[a-z]+\/(apply|evaluate|native)\.ts$/.test(u) ||
          /\/providers\/(aws|azure|gcp)\/read\.ts$/.test(u) ||
          sdk.test(u),
      ),
    ).toEqual([]);
  }, 60_000);

  const ctx: CommandContext = { io: processIo(), setExit: () => {} };
  async function program(argv: readonly string[], loadAll: boolean): Promise<Command> {
    const p = new Command('bulkhead');
    await registerCommands(p, ctx, argv, { loadAll });
    return p;
  }

  it('the lazy --help lists every command as the real registrations do', async () => {
    expect((await program(['--help'], false)).helpInformation()).toBe((await program([], true)).helpInformation());
  });

  it.each(COMMANDS.flatMap((c) => (typeof c === 'function' ? [] : [c.name])))(
    '%s: registered for real when it runs, its help unchanged',
    async (name) => {
      const eager = (await program([], true)).commands.find((c) => c.name() === name)!;
      for (const argv of [
        [name, 'x'],
        ['--no-color', '--no-warn', 'some-rule', name],
        ['help', name],
      ]) {
        const lazy = (await program(argv, false)).commands.find((c) => c.name() === name)!;
        expect(lazy.helpInformation(), argv.join(' ')).toBe(eager.helpInformation());
        expect(lazy.options.some((o) => o.long === '--lazy-stub')).toBe(false);
      }
    },
  );

  it('commandNameOf skips options and the value of --no-warn, and reads help <command>', () => {
    expect(commandNameOf(['--version'])).toBeUndefined();
    expect(commandNameOf([])).toBeUndefined();
    expect(commandNameOf(['plan', 'x.yaml'])).toBe('plan');
    expect(commandNameOf(['--no-warn', 'validate', 'render', 'x'])).toBe('render');
    expect(commandNameOf(['--no-warn=validate', 'render'])).toBe('render');
    expect(commandNameOf(['--no-color', 'help', 'apply'])).toBe('apply');
  });
});
