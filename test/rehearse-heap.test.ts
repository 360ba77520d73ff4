// bin/gsu.js runs a long in-process rehearsal (more than 2000 steps, --links sim) in a worker
// thread with a bounded V8 heap (issue 12: peak RSS). The user sees the same command: the same
// output, exit statuses and messages as a run without the worker (GSU_REHEARSE_HEAP_MB=0).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function gsu(env: Record<string, string>, ...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/gsu.js', ...args], {
    cwd: root, encoding: 'utf8', maxBuffer: 64 << 20,
    env: { ...process.env, NO_COLOR: '1', GSU_REHEARSE_HEAP_MB: '', ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
// wall-clock figures differ between any two runs
const stable = (json: string) => JSON.stringify(JSON.parse(json), (k, v) => (k === 'wall_ms' ? 0 : v));

describe('gsu rehearse with a bounded heap (worker thread)', () => {
  it('prints what the same run prints without the worker, and exits 0', () => {
    const a = gsu({}, 'rehearse', '--steps', '2500', '--json');
    const b = gsu({ GSU_REHEARSE_HEAP_MB: '0' }, 'rehearse', '--steps', '2500', '--json');
    expect(a.stderr).toBe('');
    expect(a.status).toBe(0);
    expect(b.status).toBe(0);
    expect(JSON.parse(a.stdout).verdict).toBe('pass');
    expect(stable(a.stdout)).toBe(stable(b.stdout));
  }, 60_000);

  it('a usage error inside the worker still exits 2 with its message', () => {
    const r = gsu({}, 'rehearse', '--steps', '2500', '--fault', 'nosuch@5');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--fault names 'nosuch'/);
  }, 60_000);

  it('running out of the heap limit exits 3 and says how to raise it', () => {
    const r = gsu({ GSU_REHEARSE_HEAP_MB: '8' }, 'rehearse', '--steps', '2500');
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/ran out of its heap limit \(8 MB .*GSU_REHEARSE_HEAP_MB=16/);
  }, 60_000);

  it('a bad GSU_REHEARSE_HEAP_MB is a usage error', () => {
    const r = gsu({ GSU_REHEARSE_HEAP_MB: 'lots' }, 'rehearse', '--steps', '2500');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/GSU_REHEARSE_HEAP_MB must be a whole number/);
  });
});
