import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function gsu(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/gsu.js', ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('gsu CLI', () => {
  it('--help exits 0 and lists the subcommands', () => {
    const r = gsu('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Usage: gsu <command>/);
    expect(r.stdout).toMatch(/^\s+rehearse\s+\S/m);
    expect(r.stdout).toMatch(/^\s+help\s+\S/m);
  });

  it('an unknown subcommand exits 2 and names it, without a stack trace', () => {
    const r = gsu('nosuchcmd');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('nosuchcmd');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('an unknown option exits 2 and names it', () => {
    const r = gsu('--bogus-flag');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--bogus-flag');
  });

  it('`help <cmd>` and `<cmd> --help` print that command\'s usage', () => {
    for (const args of [['help', 'rehearse'], ['rehearse', '--help']]) {
      const r = gsu(...args);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/Usage: gsu rehearse/);
    }
  });
});
