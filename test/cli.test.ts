import { describe, expect, it, vi } from 'vitest';
import { main } from '../host/cli/main.ts';
import { commands } from '../host/cli/commands.ts';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

describe('exit statuses: 0 ok, 1 the thing checked failed, 2 bad usage, 3 I/O or device error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gsu-exit-'));
  const at = (f: string) => join(dir, f);
  // in-process (main() is what bin/gsu.js runs), so the table takes seconds, not a spawn per row
  async function run(...args: string[]) {
    let out = '', err = '';
    const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => { out += a.join(' ') + '\n'; });
    const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => { err += a.join(' ') + '\n'; });
    const w1 = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => { out += String(s); return true; });
    const w2 = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => { err += String(s); return true; });
    try { return { status: await main(args), stdout: out, stderr: err }; } finally { log.mockRestore(); error.mockRestore(); w1.mockRestore(); w2.mockRestore(); }
  }
  it('gsu --help documents them once', () => {
    const r = gsu('--help');
    expect(r.stdout).toMatch(/Exit status \(every command\):\n\s+0\s+ok\n\s+1\s+the thing checked failed[\s\S]*\n\s+2\s+bad usage[\s\S]*\n\s+3\s+an I\/O or device error/);
  });
  it('a table of commands and the status each must exit with', async () => {
    expect((await run('keygen', '--name', 't', '--out', at('keys'))).status).toBe(0);
    writeFileSync(at('bad.gsui'), 'not an image');
    const vcan = existsSync('/sys/class/net/vcan0');
    const table: [string[], number, RegExp?][] = [
      [['--version'], 0],
      [['verify', '--trust', at('keys/t.pub'), at('bad.gsui')], 1, /REJECTED/],                 // checked, failed
      [['nosuchcmd'], 2, /unknown command 'nosuchcmd'/],
      [['rehearse', '--steps', '-4'], 2, /--steps must not be negative, not '-4'/],             // not Node's parser text
      [['rehearse', '--fault', 'estimator@500', '--steps', '100'], 2, /would never fire/],
      [['verify', '--trust', at('keys/t.pub'), at('missing.gsui')], 3, /cannot read .*missing\.gsui: ENOENT/],
      [['sign', '--key', at('missing.key'), '--component', 'estimator@2.0.0'], 3, /cannot read key .*missing\.key/],
      [['report', at('missing.jsonl')], 3, /cannot read .*missing\.jsonl/],
      [['upload', '--link', 'serial:/dev/gsu-no-such-port@115200', '--board', '2', '--target', 'pi-2', '--key', at('missing.key'), at('bad.gsui')], 3, /cannot read key/],
      [['status', '--link', 'serial:/dev/gsu-no-such-port@115200', '--board', '2', '--target', 'pi-2', '--key', at('keys/t.key')], 3, /cannot open the link serial:\/dev\/gsu-no-such-port@115200/],
      [['rehearse', '--links', 'vcan', ...(vcan ? ['--bogus'] : [])], vcan ? 2 : 3, vcan ? undefined : /vcan0.*modprobe vcan && ip link add dev vcan0 type vcan/],
      [['rehearse', '--links', 'socketcan:gsu-no-can9'], 3, /--links socketcan:gsu-no-can9 needs the SocketCAN interface gsu-no-can9/],
      [['rehearse', '--timeout', '5'], 2, /--timeout works with --links other than sim/],
      [['rehearse', '--links', 'socketcan:'], 2, /--links must be .*socketcan:IF\[,IF\.\.\.\]/],
    ];
    for (const [args, status, pat] of table) {
      const r = await run(...args);
      expect(r.status, `gsu ${args.join(' ')}: ${r.stderr}`).toBe(status);
      if (pat) expect(r.stdout + r.stderr).toMatch(pat);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
  it('the same statuses from the real binary: 3 for a missing file', () => {
    const r = gsu('report', join(dir, 'missing.jsonl'));
    expect(r.status).toBe(3);
  });
  it("every command's help says Usage once", async () => {
    const names = Object.keys(commands);
    expect(names.length).toBeGreaterThan(10);
    for (const n of names) {
      const r = await run(n, '--help');
      expect(r.status, n).toBe(0);
      expect(r.stdout.match(/^Usage:/gm)?.length, `${n} --help:\n${r.stdout}`).toBe(1);
    }
  });
});
