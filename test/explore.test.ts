// Exhaustive exploration (host/sim/explore.ts, npm run explore), a bounded part: every
// delivery interleaving of a small system with two cluster members, every fault step,
// under the default rules; the reduction checked against full enumeration; and evidence
// that the explorer can fail (the printed rules break on some interleaving).
import { describe, expect, it } from "vitest";
import { checkIndependence, exploreCase, faultCases, formatSchedule, replay, type ExploreCase } from "../host/sim/explore.ts";
import { faultComponents, loadExploreSystem } from "../host/sim/explore-systems.ts";

const fmt = (c: ExploreCase, v: { kind: string; problems: string[]; schedule: string[] }) =>
  `${v.kind} in ${c.system} ${c.rules} steps=${c.steps} fault=${c.fault ? `${c.fault.comp}@${c.fault.step}` : "none"}\n  ${v.problems.slice(0, 3).join("\n  ")}\n  schedule: ${formatSchedule(v.schedule)}`;

describe("exhaustive exploration (safe rules)", () => {
  it("x2 (two members, two active processes, three boards), 2 steps, no fault and every fault step: no violation on any interleaving", async () => {
    const sys = await loadExploreSystem("x2");
    let schedules = 0;
    const bad: string[] = [];
    for (const fault of faultCases(faultComponents(sys), 2)) {
      const c: ExploreCase = { system: "x2", sys, steps: 2, rules: "safe", fault };
      const r = exploreCase(c);
      expect(r.exhaustive).toBe(true);
      expect(r.schedules).toBeGreaterThan(0);
      schedules += r.schedules;
      for (const v of r.violations) bad.push(fmt(c, v));
    }
    expect(bad, bad.join("\n")).toEqual([]);
    expect(schedules).toBeGreaterThan(100);
  }, 120_000);

  it("a commit mid-run (after the first passed AT) frees every byte on every interleaving", async () => {
    const sys = await loadExploreSystem("x2");
    const c: ExploreCase = { system: "x2", sys, steps: 2, rules: "safe", fault: null, commitAfter: 1 };
    const r = exploreCase(c);
    expect(r.violations.map((v) => fmt(c, v))).toEqual([]);
    expect(r.exhaustive).toBe(true);
  }, 60_000);
});

describe("the reduction", () => {
  // npm run explore -- --cross-check does the same for any case (docs/protocol.md lists the
  // violation-bearing ones checked); this one is small enough for every npm test.
  it("reaches the same terminal states with the same verdicts as every interleaving (x1, 2 steps)", async () => {
    const sys = await loadExploreSystem("x1");
    const c: ExploreCase = { system: "x1", sys, steps: 2, rules: "safe", fault: null };
    const dpor = exploreCase(c, { keepTerminals: true });
    const full = exploreCase(c, { keepTerminals: true, reduction: false });
    expect(full.exhaustive && dpor.exhaustive).toBe(true);
    expect(dpor.schedules).toBeLessThan(full.schedules / 4); // it does reduce
    const sorted = (m?: Map<number, string>) => [...(m ?? new Map())].sort((a, b) => a[0] - b[0]);
    expect(sorted(dpor.terminals)).toEqual(sorted(full.terminals));
    expect(dpor.violations.map((v) => v.kind).sort()).toEqual(full.violations.map((v) => v.kind).sort());
  }, 120_000);

  it("events on different boards commute in the real code (state and oracle verdicts)", async () => {
    const sys = await loadExploreSystem("x2");
    for (const fault of [null, { comp: "m1", step: 2 }]) {
      const r = checkIndependence({ system: "x2", sys, steps: 3, rules: "safe", fault }, 12, 5);
      expect(r.pairs).toBe(12);
      expect(r.mismatches).toEqual([]);
    }
  }, 60_000);
});

describe("the explorer can fail", () => {
  it("finds an interleaving where the printed rules break (x1, 2 steps, fault m1@2), and its schedule reproduces it", async () => {
    const sys = await loadExploreSystem("x1");
    const c: ExploreCase = { system: "x1", sys, steps: 2, rules: "paper", fault: { comp: "m1", step: 2 } };
    const r = exploreCase(c);
    expect(r.violations.length).toBeGreaterThan(0);
    const kinds = r.violations.map((v) => v.kind);
    expect(kinds).toContain("device equivalence");
    // not every interleaving breaks: the explorer had to find the bad ones
    const bad = Math.max(...r.violations.map((v) => v.runs));
    expect(bad).toBeLessThan(r.schedules);
    const v = r.violations.find((x) => x.kind === "device equivalence")!;
    const again = replay(c, v.schedule);
    expect(again.complete).toBe(true);
    expect(again.problems.some((p) => p.startsWith("device equivalence"))).toBe(true);
  }, 60_000);
});
