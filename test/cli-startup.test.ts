import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// Start-up (the speed issue, 11.0): the commands that talk to no cloud load no cloud SDK. Each
// runs the real CLI in a child process whose module hook refuses every SDK import.
const REPO = resolve(import.meta.dirname, '..');

function cli(args: readonly string[]): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', './test/helpers/forbid-sdks.mjs', 'src/commands/main.ts', ...args], {
    cwd: REPO,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('commands that talk to no cloud load no SDK', () => {
  const cases: [string, string[]][] = [
    ['--version', ['--version']],
    ['--help', ['--help']],
    ['validate', ['validate', 'policies/shop.yaml', 'policies/pci.yaml', 'policies/wordpress.yaml']],
    ['compile', ['compile', 'policies/shop.yaml', '--json']],
    ['render aws', ['render', '--provider', 'aws', 'policies/shop.yaml', '--snapshots', 'policies/snapshots/shop', '--json']],
    ['render azure', ['render', '--provider', 'azure', 'policies/shop.yaml', '--snapshots', 'policies/snapshots/shop', '--json']],
    ['render gcp', ['render', '--provider', 'gcp', 'policies/shop.yaml', '--snapshots', 'policies/snapshots/shop', '--json']],
    ['render kubernetes', ['render', '--provider', 'kubernetes', 'policies/shop.yaml', '--snapshots', 'policies/snapshots/shop', '--json']],
    ['plan --snapshots', ['plan', 'policies/shop.yaml', '--snapshots', 'policies/snapshots/shop']],
    ['drift --snapshots', ['drift', 'policies/shop.yaml', '--snapshots', 'policies/snapshots/shop']],
  ];
  it.each(cases)('%s', (_label, args) => {
    const r = cli(args);
    expect(r.out).not.toContain('forbidden');
    // drift exits 2 on the bundled snapshots' drift; everything else 0.
    expect(r.code, r.out).toBe(args[0] === 'drift' ? 2 : 0);
  }, 60_000);

  it('control: the hook does refuse an SDK import', () => {
    const r = spawnSync(process.execPath, ['--import', './test/helpers/forbid-sdks.mjs', '--input-type=module', '-e', "await import('@aws-sdk/client-ec2')"], {
      cwd: REPO,
      encoding: 'utf8',
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('forbidden: @aws-sdk/client-ec2');
  }, 60_000);
});
