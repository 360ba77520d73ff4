// kill -9 at any instant: during the upload write, the slot switch, the commit.
// A child process runs the store (crash-child.ts) and is SIGKILLed; the store
// must then open with the old or the new version of the pair, whole (the image
// verifies), never one of each, with no temp files left.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureExamplesBuilt } from "../examples-build.ts";
import { SlotStore } from "../../host/board/store.ts";
import { Rng } from "../../host/sim/rng.ts";
import { cleanupTmp, tmp, trusted, writeCrashFixtures } from "./fixtures.ts";

afterAll(() => cleanupTmp());

const root = fileURLToPath(new URL("../..", import.meta.url));
const child = fileURLToPath(new URL("./crash-child.ts", import.meta.url));
const PAIR = ["estimator", "controller"];
let fx: string;

beforeAll(async () => {
  await ensureExamplesBuilt();
  fx = tmp("crash-fixtures");
  writeCrashFixtures(fx);
}, 120_000);

interface Run { signal: NodeJS.Signals | null; code: number | null; out: string; err: string }

/** Runs the child; kills it with SIGKILL `delay` ms after it prints "ready" (or after spawn with fromSpawn). */
function runChild(dir: string, opts: { crashAt?: string; delay?: number; fromSpawn?: boolean } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ["--import", "tsx", child, dir, fx, ...(opts.crashAt ? [opts.crashAt] : [])], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let out = "", err = "";
    const kill = () => setTimeout(() => p.kill("SIGKILL"), opts.delay ?? 0);
    if (opts.delay !== undefined && opts.fromSpawn) kill();
    p.stdout.on("data", (d) => {
      const had = out.includes("ready");
      out += d;
      if (!had && out.includes("ready") && opts.delay !== undefined && !opts.fromSpawn) kill();
    });
    p.stderr.on("data", (d) => { err += d; });
    p.on("error", reject);
    p.on("close", (code, signal) => resolve({ signal, code, out, err }));
  });
}

const temps = (dir: string): string[] => {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const f of readdirSync(d, { withFileTypes: true })) {
      if (f.isDirectory()) walk(join(d, f.name));
      else if (f.name.endsWith(".tmp")) found.push(join(d, f.name));
    }
  };
  walk(dir);
  return found;
};

/** Opens the store after a crash and checks it is whole; returns e.g. "committed 1.0.0" or "trial 2.0.0 over 1.0.0". */
function checkAfterCrash(dir: string): { outcome: string; store: SlotStore } {
  const store = SlotStore.open(dir, trusted);
  expect(temps(dir), "temp files left after open").toEqual([]);
  expect(store.report.rejected, "a slot file did not verify").toEqual([]);
  const [e, c] = PAIR.map((n) => store.statusOf(n));
  for (const st of [e, c]) {
    expect(["committed", "trial"]).toContain(st.state);
    expect(st.active).toMatch(/^[12]\.0\.0$/);
    const img = store.activeImage(st.name); // re-read from disk and verified: signature + sha256
    expect(img.manifest.version).toBe(st.active);
    expect(img.manifest.name).toBe(st.name);
    expect(store.activeImage(st.name, "committed").manifest.version).toBe(st.committed!.version);
  }
  // the pair moves together: never estimator 2.0.0 with controller 1.0.0
  expect(c.active, `${e.line} / ${c.line}`).toBe(e.active);
  expect(c.state).toBe(e.state);
  expect(c.committed!.version).toBe(e.committed!.version);
  const outcome = e.state === "trial" ? `trial ${e.active} over ${e.committed!.version}` : `committed ${e.active}`;
  return { outcome, store };
}

describe("kill -9 at random instants", () => {
  it("24 kills at random delays: every reopen finds the pair whole, old or new, and says which", async () => {
    const dir = tmp("crash");
    const rng = new Rng(20261127);
    const seen = new Map<string, number>();
    const lines: string[] = [];
    for (let i = 0; i < 24; i++) {
      // mostly while upgrading; every sixth kill lands during start-up (open, recovery, boot, install)
      const fromSpawn = i % 6 === 5;
      const delay = fromSpawn ? rng.int(100, 900) : rng.int(0, 40);
      const r = await runChild(dir, { delay, fromSpawn });
      expect(r.err).toBe("");
      const { outcome, store } = checkAfterCrash(dir);
      seen.set(outcome, (seen.get(outcome) ?? 0) + 1);
      lines.push(`#${i} kill ${fromSpawn ? "after spawn" : "after ready"} +${delay} ms (${r.signal ?? `exit ${r.code}`}): ${store.statusOf("estimator").line}`);
      // a restart runs the last committed versions
      const { running } = store.boot();
      expect(running.estimator).toBe(running.controller);
    }
    console.log(lines.join("\n") + "\noutcomes: " + JSON.stringify(Object.fromEntries(seen)));
    expect([...seen.values()].reduce((a, b) => a + b)).toBe(24);
  }, 180_000);
});

describe("kill -9 at every step of a round", () => {
  // After "ready" the child runs one round 1.0.0 -> 2.0.0: stage estimator (#1),
  // stage controller (#2), activate both, commit both.
  type Expect = { state: "committed" | "trial"; active: string; committed: string; estimatorB?: "empty" | "inactive" | "staged" };
  const cases: [string, Expect][] = [];
  for (const step of ["temp-partial", "temp-written", "temp-synced"]) cases.push([`stage:${step}#1`, { state: "committed", active: "1.0.0", committed: "1.0.0", estimatorB: "empty" }]);
  for (const step of ["renamed", "dir-synced", "state:temp-written", "state:temp-synced"]) cases.push([`stage:${step}#1`, { state: "committed", active: "1.0.0", committed: "1.0.0", estimatorB: "inactive" }]);
  for (const step of ["state:renamed", "state:dir-synced"]) cases.push([`stage:${step}#1`, { state: "committed", active: "1.0.0", committed: "1.0.0", estimatorB: "staged" }]);
  for (const step of ["temp-partial", "renamed", "state:temp-synced", "state:renamed"]) cases.push([`stage:${step}#2`, { state: "committed", active: "1.0.0", committed: "1.0.0", estimatorB: "staged" }]);
  for (const step of ["temp-written", "temp-synced"]) cases.push([`activate:state:${step}#1`, { state: "committed", active: "1.0.0", committed: "1.0.0", estimatorB: "staged" }]);
  for (const step of ["renamed", "dir-synced"]) cases.push([`activate:state:${step}#1`, { state: "trial", active: "2.0.0", committed: "1.0.0" }]);
  for (const step of ["temp-written", "temp-synced"]) cases.push([`commit:state:${step}#1`, { state: "trial", active: "2.0.0", committed: "1.0.0" }]);
  for (const step of ["renamed", "dir-synced"]) cases.push([`commit:state:${step}#1`, { state: "committed", active: "2.0.0", committed: "2.0.0" }]);

  it(`${cases.length} crash points: old or new, whole, as expected at each; a restart runs the last committed`, async () => {
    const results = await Promise.all(cases.map(async ([at, want]) => {
      const dir = tmp("crashpoint");
      const r = await runChild(dir, { crashAt: at });
      return { at, want, dir, r };
    }));
    for (const { at, want, dir, r } of results) {
      expect(r.signal, `${at}: the child should have died at its crash point (stdout ${JSON.stringify(r.out)}, stderr ${r.err})`).toBe("SIGKILL");
      expect(r.out).toBe("ready\n");
      const { store } = checkAfterCrash(dir);
      const e = store.statusOf("estimator");
      expect({ state: e.state, active: e.active, committed: e.committed!.version }, `${at}: ${e.line}`).toEqual({ state: want.state, active: want.active, committed: want.committed });
      if (want.estimatorB) {
        const b = e.slots.b;
        expect(b === null ? "empty" : b.role, `${at}: ${e.line}`).toBe(want.estimatorB);
        if (b) expect(b.version).toBe("2.0.0");
      }
      const { running } = store.boot();
      expect(running, at).toEqual({ estimator: want.committed, controller: want.committed });
      const again = SlotStore.open(dir, trusted);
      expect(again.statusOf("controller")).toMatchObject({ active: want.committed, state: "committed" });
    }
  }, 180_000);
});
