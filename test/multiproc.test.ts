// The rehearsal with every board as its own OS process over real pseudo-terminal
// links gives the same verdict as the in-process run with the same seed and fault.
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readCandumpLog } from "../host/transport/can/candump-log.ts";
import { runMultiProcess } from "../host/sim/multiproc.ts";

const root = join(import.meta.dirname, "..");
const dir = mkdtempSync(join(tmpdir(), "gsu-mp-"));
const gsu = (...args: string[]) => spawnSync(process.execPath, [join(root, "bin/gsu.js"), "rehearse", "--html", "-", "--json", ...args], { encoding: "utf8", timeout: 120_000 });
const SYSPY = "/usr/bin/python3";
const hasPythonCan = existsSync(SYSPY) && spawnSync(SYSPY, ["-c", "import can"]).status === 0;

describe("multi-process rehearsal over real links", () => {
  const inproc = JSON.parse(gsu("--seed", "3", "--steps", "120", "--fault", "estimator@70").stdout);
  it("in-process reference verdict", () => {
    expect(inproc.verdict).toBe("pass");
    expect(inproc.ended).toBe("recovery");
  });
  for (const links of ["pty", "slcan-pty"]) {
    it(`--links ${links}: three board processes, the fault recovered, the same verdict`, () => {
      const r = gsu("--links", links, "--seed", "3", "--steps", "120", "--fault", "estimator@70", ...(links === "slcan-pty" ? ["--candump", join(dir, "bus.log")] : []));
      expect(r.status, r.stderr + r.stdout).toBe(0);
      const s = JSON.parse(r.stdout);
      expect(s.verdict).toBe(inproc.verdict);
      expect(s.boards).toBe(3);
      expect(s.devices).toEqual({ wheel: 120, downlink: 120 });
      const types = s.timeline.map((e: { type: string }) => e.type);
      expect(types).toContain("at-failed");
      expect(types).toContain("takeover");
    }, 120_000);
  }
  it("--upgrade-at on real links: the boards' own upgrade round finds the quiescent point while inputs keep coming; the fault is recovered", async () => {
    const r = await runMultiProcess({ system: "demo", seed: 3, steps: 60, rules: "safe", links: "pty", fault: { comp: "estimator", step: 40 }, upgradeAt: 10 });
    expect(r.errors).toEqual([]);
    expect(r.differences).toEqual([]);
    expect(r.violations).toEqual([]);
    expect(r.verdict).toBe("pass");
    const types = r.trace.map((e) => e.type);
    expect(types.filter((t) => t === "upgrade")).toHaveLength(3);
    expect(types).toContain("upgrade-quiet");
    expect(types).toContain("at-failed");
    expect(types).toContain("takeover");
    expect(types.filter((t) => t === "resume")).toHaveLength(3); // every board held its inputs, then resumed
  }, 120_000);
  // serial PTYs with reordering too; the SLCAN bus on PTYs without (a CAN bus does not reorder;
  // the layer's header rides in the CAN identifier there)
  for (const [links, what, faults] of [
    ["pty", "links that lose 5%, duplicate 3% and reorder 5% of frames", { loss: 0.05, dup: 0.03, reorder: 0.05, maxDelayUs: 20_000, seed: 7 }],
    ["slcan-pty", "the SLCAN bus on PTYs losing 5% and duplicating 3% of frames", { loss: 0.05, dup: 0.03, seed: 7 }],
  ] as const) {
    it(`${what}: the link layer retransmits, and the fault is still recovered exactly`, async () => {
      const r = await runMultiProcess({ system: "demo", seed: 3, steps: 60, rules: "safe", links, fault: { comp: "estimator", step: 40 }, linkFaults: faults });
      expect(r.errors).toEqual([]);
      expect(r.differences).toEqual([]);
      expect(r.violations).toEqual([]);
      expect(r.verdict).toBe("pass");
      const layers = r.linkStats.map((s) => (s as { layer: { retransmits: number; duplicates: number } }).layer);
      expect(layers.reduce((a, l) => a + l.retransmits, 0)).toBeGreaterThan(0);
      expect(layers.reduce((a, l) => a + l.duplicates, 0)).toBeGreaterThan(0);
    }, 120_000);
  }
  it("--crash over real links: a board process killed with -9 in guarded operation and after a recovery, started again with its state directory; the crash verdict holds", async () => {
    // io hosts the devices' components, gnc the cluster and the coordinator (docs/protocol.md "A board that crashes");
    // over serial PTYs, and over the SLCAN bus on PTYs (the link layer on classic CAN, its header in the CAN identifier)
    for (const [board, fault, links] of [["io", null, "pty"], ["gnc", { comp: "estimator", step: 20 }, "pty"], ["gnc", { comp: "estimator", step: 20 }, "slcan-pty"]] as const) {
      const r = await runMultiProcess({ system: "demo", seed: 1, steps: 120, rules: "safe", links, fault, periodMs: 20, crashes: [{ board, step: 50 }] });
      expect(r.errors, board).toEqual([]);
      expect(r.problems, board).toEqual([]);
      expect(r.verdict, board).toBe("pass");
      const types = r.trace.map((e) => e.type);
      expect(types, board).toContain("crash");
      expect(types, board).toContain("restart");
      // the others saw the new incarnation, and the killed board came back at the epoch it had reached
      expect(r.trace.filter((e) => e.type === "peer-restarted").length, board).toBe(2);
      // the kill lost something, and the devices were served after it
      const wheel = r.devices.filter((d) => d.device === "wheel").map((d) => Buffer.from(d.payload.slice(0, 8), "hex").readUInt32LE(0));
      expect(wheel.length, board).toBeLessThan(120);
      expect(Math.max(...wheel), board).toBe(120);
      // with the fault, its recovery happened before the kill (the crash verdict alone would pass an untested run)
      if (fault) expect(r.trace.some((e) => e.type === "recovered"), `${board} ${links}`).toBe(true);
    }
  }, 240_000);
  it("gsu rehearse --links pty --crash io@40 (the default fault, estimator@90, comes after the crash's recovery): PASS, with the fault reported as not reached, as in process", () => {
    const r = spawnSync(process.execPath, [join(root, "bin/gsu.js"), "rehearse", "--links", "pty", "--crash", "io@40", "--steps", "150", "--period", "10"], { cwd: root, encoding: "utf8", timeout: 90_000 });
    expect(r.stdout, r.stderr).toMatch(/^Fault: estimator@90 not reached: the recovery after the crash ended guarded operation first/m);
    expect(r.stdout).toMatch(/^Verdict: PASS: before the crash \(io@40\)/m);
    expect(r.status).toBe(0);
  }, 120_000);
  it("--crash io@1:vote over PTYs: io dies right after its commit vote, gnc commits, io restarts in doubt, adopts the commit and starts again; the crash verdict holds", async () => {
    // 300 steps of 20 ms: each start of io's process (tsx) takes 1-2 s, twice, and the run must go on long after
    const r = await runMultiProcess({ system: "demo", seed: 2, steps: 300, rules: "safe", links: "pty", fault: null, commitAfter: 3, periodMs: 20, crashes: [{ board: "io", step: 1, atVote: true }] });
    expect(r.errors).toEqual([]);
    expect(r.problems, JSON.stringify(r.trace.filter((e) => e.board === "io").map((e) => e.type))).toEqual([]);
    expect(r.verdict).toBe("pass");
    const io = r.trace.filter((e) => e.board === "io").map((e) => e.type).filter((t) => ["commit-voted", "crash", "restart", "commit-adopt", "commit-after-restart"].includes(t));
    expect(io.slice(0, 4), JSON.stringify(r.problems)).toEqual(["commit-voted", "crash", "restart", "commit-adopt"]);
    // then it starts again on the committed versions and acknowledges the coordinator's commit
    expect(io.slice(4, 6)).toEqual(["crash", "restart"]);
    expect(io.slice(6)).toContain("commit-after-restart");
    expect(r.trace.some((e) => e.board === "gnc" && e.type === "commit")).toBe(true);
    const wheel = r.devices.filter((d) => d.device === "wheel").map((d) => Buffer.from(d.payload.slice(0, 8), "hex").readUInt32LE(0));
    expect(Math.max(...wheel)).toBe(300);
  }, 120_000);

  it("the SLCAN bus recording is a candump -L log", () => {
    const log = readCandumpLog(readFileSync(join(dir, "bus.log"), "utf8"));
    expect(log.length).toBeGreaterThan(500);
    expect(log[0].iface).toBe("slcan0");
    expect(log.every((e) => e.frame.ext)).toBe(true);
  });
  it.skipIf(!hasPythonCan)("python-can reads the recording (independent peer)" + (hasPythonCan ? "" : ": skipped, Debian's python3-can is not installed (apt-get install python3-can)"), () => {
    const r = spawnSync(SYSPY, ["-c", `import can\nn=0\nfor m in can.CanutilsLogReader(${JSON.stringify(join(dir, "bus.log"))}):\n  assert m.is_extended_id\n  n+=1\nprint(n)`], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(Number(r.stdout.trim())).toBe(readFileSync(join(dir, "bus.log"), "utf8").trim().split("\n").length);
  });
});
