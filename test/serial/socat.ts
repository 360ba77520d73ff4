// A real pseudo-terminal pair from Debian's socat: two raw PTYs joined back to
// back, reachable through stable symlinks so they can vanish and come back.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const socatMissing: string | null = (() => {
  const r = spawnSync("socat", ["-V"], { stdio: "ignore" });
  return r.error || r.status !== 0 ? "socat is not installed (apt-get install socat)" : null;
})();

export class PtyPair {
  readonly dir = mkdtempSync(join(tmpdir(), "gsu-pty-"));
  readonly a = join(this.dir, "a");
  readonly b = join(this.dir, "b");
  private proc: ChildProcess | null = null;

  /** Starts socat and waits until both ends exist. */
  async up(): Promise<void> {
    this.proc = spawn("socat", [`pty,raw,echo=0,link=${this.a}`, `pty,raw,echo=0,link=${this.b}`], { stdio: "ignore" });
    const t0 = Date.now();
    while (!(existsSync(this.a) && existsSync(this.b))) {
      if (Date.now() - t0 > 5000) throw new Error("socat did not create the PTY pair in 5 s");
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Kills socat: both PTYs vanish, like a pulled cable. */
  async down(): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((res) => { p.once("exit", () => res()); p.kill("SIGTERM"); });
  }

  async dispose(): Promise<void> {
    await this.down();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
