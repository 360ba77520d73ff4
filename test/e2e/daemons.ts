// Board daemons (`gsu board`) as OS processes for the end-to-end suites: start one and
// wait until it serves, read what its simulated devices received, run a `gsu` command
// without blocking the event loop (the daemons' output pipes keep draining).
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const root = join(import.meta.dirname, "../..");

export interface Daemon { name: string; proc: ChildProcess; out: () => string }

/** Starts `gsu board ARGS...` and resolves once it says it serves the ground (rejects with its output after `ms`). */
export async function startDaemon(name: string, args: string[], ms = 15_000, env?: Record<string, string>): Promise<Daemon> {
  let out = "";
  const proc = spawn(process.execPath, [join(root, "bin/gsu.js"), "board", ...args], { stdio: ["ignore", "pipe", "pipe"], env: env ? { ...process.env, ...env } : process.env });
  proc.stdout!.on("data", (d) => { out += d; });
  proc.stderr!.on("data", (d) => { out += d; });
  const d = { name, proc, out: () => out };
  await waitFor(() => out.includes("serving the ground"), ms, `board ${name} to serve`, () => out);
  return d;
}

/** Polls `cond` every 20 ms; throws after `ms` naming what it waited for, with `tell()`'s text. */
export async function waitFor(cond: () => boolean, ms: number, what: string, tell: () => string = () => ""): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}\n${tell()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** What board `board`'s simulated devices received (its state directory's devices.jsonl), in order. */
export function deviceLines(stateDir: string): { device: string; payload: unknown }[] {
  const f = join(stateDir, "devices.jsonl");
  if (!existsSync(f)) return [];
  return readFileSync(f, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

/** Runs `gsu ARGS...` to completion, asynchronously. */
export function gsu(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [join(root, "bin/gsu.js"), ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "", stderr = "";
    p.stdout.on("data", (d) => { stdout += d; });
    p.stderr.on("data", (d) => { stderr += d; });
    const t = setTimeout(() => p.kill("SIGKILL"), 60_000);
    p.on("close", (status) => { clearTimeout(t); resolve({ status, stdout, stderr }); });
  });
}
