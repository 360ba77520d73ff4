// The guarantee on every system: the property suite over generated systems
// (host/sim/gen-system.ts, gen-N: 1-4 cluster members, bridges, chains inside the
// cluster, members fed by G_act, fan-in and fan-out, 0-3 device outputs per component,
// 2-4 boards, per-member faults). Short cases (few steps), many shapes. The verdict is
// host/sim/property.ts judge(), the same as gsu rehearse's; the oracles include the
// ground truth by data flow from the injected fault, which knows nothing of indexes,
// dirty bits or ATs. Every failure prints a gsu rehearse command that reproduces it.
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { check, judge, runGenSuite } from "../host/sim/property.ts";
import { genShape, genSystem } from "../host/sim/gen-system.ts";
import { runTestbed } from "../host/sim/testbed.ts";

const SHAPES = Number(process.env.GSU_GEN_SHAPES ?? 200);
const PER_SHAPE = Number(process.env.GSU_GEN_CASES_PER_SHAPE ?? 10);
const root = join(import.meta.dirname, "..");

describe("generated systems (gen-N), safe rules: every oracle holds", () => {
  it(`${SHAPES * PER_SHAPE} random cases over ${SHAPES} generated systems`, () => {
    const t0 = performance.now();
    const rep = runGenSuite({ rules: "safe", seed: 11, first: 1, shapes: SHAPES, perShape: PER_SHAPE, minSteps: 4, maxSteps: 12, shrink: 3, keep: 50 });
    const s = ((performance.now() - t0) / 1000).toFixed(0);
    const msg = `${rep.failed} of ${rep.cases} cases failed (${rep.shapes} systems, ${s} s); failing cases by problem: ${JSON.stringify(rep.byProblem)}\n` +
      rep.failures.slice(0, 3).map((f) => `${f.repro}\n  ${f.problems.slice(0, 3).join("\n  ")}`).join("\n");
    expect(rep.cases).toBe(SHAPES * PER_SHAPE);
    expect(rep.shapes).toBe(SHAPES);
    expect(rep.failed, msg).toBe(0);
  }, 1_800_000);
});

describe("the generator", () => {
  it("covers what it promises, keeps the cluster on one board and is deterministic", () => {
    const seen: Record<string, number> = {};
    for (let n = 1; n <= 200; n++) {
      const s = genShape(n);
      for (const f of s.features) seen[f] = (seen[f] ?? 0) + 1;
      expect(s.boards.filter((b) => b.components.some((c) => s.members.includes(c))).length).toBe(1);
      expect(s.boards.every((b) => b.components.length > 0)).toBe(true);
      expect(JSON.stringify(genShape(n))).toBe(JSON.stringify(s));
    }
    for (const f of ["members=1", "members=2", "members=3", "members=4", "boards=2", "boards=3", "boards=4", "cluster-chain", "gact-fed-member",
      "bridge", "several-gact-facing", "device-fed-member", "fan-in", "fan-out", "shared-device", "member-device", "member-depths"]) {
      expect(seen[f] ?? 0, `feature ${f} over gen-1..gen-200`).toBeGreaterThanOrEqual(10);
    }
  });

  it("new versions compute exactly what the old ones do: with no fault, devices match the reference exactly", () => {
    for (let n = 1; n <= 30; n++) {
      const sys = genSystem(n);
      const v = check(sys, { system: sys.name, seed: n, steps: 8, fault: null, latency: { min: 10, max: 3000 }, rules: "safe" });
      expect(v.problems, sys.name).toEqual([]);
    }
  });
});

describe("the ground-truth oracle is independent of the protocol", () => {
  it("with ATs that accept everything the fault reaches the devices unseen by the protocol, and the oracle sees it", async () => {
    const { demoSystem } = await import("../host/sim/demo-system.ts");
    const blind = <T extends { spec: { ats: Record<string, unknown> } }>(sys: T): T =>
      ({ ...sys, spec: { ...sys.spec, ats: Object.fromEntries(Object.keys(sys.spec.ats).map((d) => [d, () => true])) } });
    const cases = [
      ...Array.from({ length: 10 }, (_, i) => ({ name: `gen-${i + 1}`, sys: genSystem(i + 1), comp: genShape(i + 1).members[0] })),
      { name: "demo", sys: demoSystem(), comp: "estimator" }, // no App.erroneous: the message-level fallback
      { name: "demo", sys: demoSystem(), comp: "controller" },
    ];
    for (const { name, sys, comp } of cases) {
      const c = { system: name, seed: 5, steps: 8, fault: { comp, step: 3 }, latency: { min: 10, max: 3000 }, rules: "safe" as const };
      const b = blind(sys);
      const r = runTestbed(b, { seed: c.seed, steps: c.steps, fault: c.fault, latency: c.latency });
      expect(r.faultActive, name).toBe(true);
      expect(r.trace.some((e) => e.type === "at-failed"), name).toBe(false);
      const kinds = judge(b, c, r).map((p) => p.split(":")[0]);
      expect(kinds, name).toContain("erroneous-device-message");
      expect(kinds, name).toContain("undetected");
    }
  });

  it("the printed rules over-validate on generated systems: clean processes hold erroneous state", () => {
    const rep = runGenSuite({ rules: "paper", seed: 3, first: 1, shapes: 20, perShape: 2, minSteps: 6, maxSteps: 12 });
    expect(rep.byProblem["unvalidated-erroneous-state"] ?? 0).toBeGreaterThan(0);
    expect(rep.byProblem["erroneous-device-message"] ?? 0).toBeGreaterThan(0);
  }, 120_000);

  it("a printed reproduction command reproduces the failure as written (gsu rehearse, same verdict)", () => {
    const rep = runGenSuite({ rules: "paper", seed: 3, first: 1, shapes: 10, perShape: 2, minSteps: 6, maxSteps: 12, shrink: 1, keep: 1 });
    expect(rep.failures.length).toBe(1);
    const f = rep.failures[0];
    expect(f.repro).toMatch(/^gsu rehearse --system gen-\d+ /);
    const r = spawnSync(process.execPath, [join(root, "bin/gsu.js"), ...f.repro.split(" ").slice(1), "--json", "--html", "-"], { cwd: root, encoding: "utf8", timeout: 120_000 });
    expect(r.status, r.stderr).toBe(1);
    const s = JSON.parse(r.stdout);
    expect(s.verdict).toBe("fail");
    // the CLI's verdict is judge()'s, on the same run
    const sys = genSystem(Number(f.c.system.slice(4)));
    const again = check(sys, f.c);
    expect(s.problems).toEqual(judge(sys, f.c, again.result));
    expect(s.problems).toEqual(f.problems);
  }, 120_000);
});
