// The guarantee over links that lose, duplicate and damage frames and boards that are
// cut off (issue 9): random cases of the demo and of generated systems where every
// board runs the link layer over a seeded fault injector (host/sim/sim-links.ts), with
// loss up to 30%, duplication up to 10%, corruption up to 5% and, in a third of the
// cases, one board partitioned for up to 20 steps. The verdict is judge(), gsu
// rehearse's: device equivalence with the fault-free reference, the ground-truth taint,
// no loss, no duplicate, nothing held. Every failure prints the gsu rehearse command
// (with its --link-* and --partition options) that reproduces it.
import { describe, expect, it } from "vitest";
import { check, judge, runGenSuite, runSuite, type Case, type SuiteReport } from "../host/sim/property.ts";
import { demoSystem } from "../host/sim/demo-system.ts";
import { genSystem } from "../host/sim/gen-system.ts";
import { runTestbed } from "../host/sim/testbed.ts";
import { meshSystem } from "../host/sim/mesh-system.ts";
import { EXPLORE_SHAPES } from "../host/sim/explore-systems.ts";

const DEMO = Number(process.env.GSU_LINK_DEMO_CASES ?? 150);
const SHAPES = Number(process.env.GSU_LINK_SHAPES ?? 200);
const tell = (rep: SuiteReport) => `${rep.failures.length} of ${rep.cases} failed; by problem ${JSON.stringify(rep.byProblem)}\n` +
  rep.failures.slice(0, 3).map((f) => `${f.repro}\n  ${f.problems.slice(0, 3).join("\n  ")}`).join("\n");

describe("faulty links: every oracle holds", () => {
  it(`the demo: ${DEMO} random cases with link faults`, () => {
    const rep = runSuite(demoSystem(), "demo", ["estimator", "controller"], "safe", DEMO, 9, { links: true, maxSteps: 150 });
    expect(rep.cases).toBe(DEMO);
    expect(rep.failures.length, tell(rep)).toBe(0);
    // the faults happened, and the layer worked for it
    expect(rep.linkFaults!.injected).toBeGreaterThan(DEMO * 20);
    expect(rep.linkFaults!.retransmits).toBeGreaterThan(DEMO * 10);
  }, 600_000);

  it(`generated systems: ${SHAPES * 2} random cases over ${SHAPES} shapes with link faults`, () => {
    const rep = runGenSuite({ rules: "safe", seed: 13, first: 1, shapes: SHAPES, perShape: 2, minSteps: 4, maxSteps: 16, keep: 20, links: true });
    expect(rep.cases).toBe(SHAPES * 2);
    expect(rep.failed, tell(rep)).toBe(0);
    expect(rep.linkFaults!.injected).toBeGreaterThan(SHAPES);
  }, 600_000);

  it(`the demo: ${DEMO} random cases with link faults, a quarter with a board that crashes and restarts`, () => {
    // the crash verdict (judge): exact before the crash, nothing from the fault, no duplicate,
    // only the crash's steps lost, devices served again (docs/protocol.md "A board that crashes")
    const rep = runSuite(demoSystem(), "demo", ["estimator", "controller"], "safe", DEMO, 17, { links: true, crashes: true, maxSteps: 150 });
    expect(rep.failures.length, tell(rep)).toBe(0);
  }, 600_000);

  it("crashes of each demo board, in and after guarded operation, with and without a fault", () => {
    const sys = demoSystem();
    const cases = [];
    for (const board of ["io", "gnc", "comms"]) for (const step of [20, 100]) for (const fault of [null, { comp: "estimator", step: 60 }]) {
      cases.push({ system: "demo", seed: step + board.length, steps: 160, fault, rules: "safe" as const, latency: { min: 50, max: 2000 }, links: { loss: 0.1, dup: 0.02 }, crashes: [{ board, step }] });
    }
    for (const c of cases) {
      const v = check(sys, c);
      expect(v.problems, `${c.crashes[0].board}@${c.crashes[0].step} fault ${JSON.stringify(c.fault)}`).toEqual([]);
      // the crash really lost something and the board came back
      expect(v.result.trace.some((e) => e.type === "restart")).toBe(true);
      expect(v.result.devices.length).toBeLessThan(2 * 160);
    }
  }, 120_000);

  it("the control: the same faults without the link layer lose and duplicate what the devices get", () => {
    // a SimNetwork perturbation that loses every 7th frame (1 in 7, prime to the demo's frames
    // per step, so that it hits every kind of frame), with no layer to retransmit them
    let n = 0;
    const r = runTestbed(demoSystem(), { seed: 3, steps: 120, fault: null, perturb: (_s, _d, _f, t) => (++n % 7 === 0 ? null : t) });
    const ref = runTestbed(demoSystem(), { seed: 0, steps: 120, reference: true });
    expect(r.devices.map((d) => d.payload)).not.toEqual(ref.devices.map((d) => d.payload));
  });
});

/**
 * A reproduction command as the soak prints it (property.ts reproduce), back into a case.
 * The cases pinned below were found before a passed AT's bound rode on application frames;
 * each carries --no-ride, which keeps the frames, and so the seeded schedule, that found it
 * (riding changes how many frames each link carries, and the schedule draws per frame). The
 * random suites run with riding, the default.
 */
function parseRepro(cmd: string): Case {
  const a = cmd.trim().split(/\s+/);
  const v = (k: string) => { const i = a.indexOf(k); return i < 0 ? undefined : a[i + 1]; };
  const all = (k: string) => a.flatMap((x, i) => (x === k ? [a[i + 1]] : []));
  const [lo, hi] = v("--latency")!.split("..").map(Number);
  const f = v("--fault");
  const c: Case = {
    system: v("--system")!, seed: Number(v("--seed")), steps: Number(v("--steps")), rules: v("--rules") as Case["rules"],
    fault: f ? { comp: f.split("@")[0], step: Number(f.split("@")[1]) } : null, latency: { min: lo, max: hi },
    commitAfter: v("--commit-after") ? Number(v("--commit-after")) : undefined,
    upgradeAt: Number(v("--upgrade-at")) || undefined,
    links: { loss: Number(v("--link-loss") ?? 0), dup: Number(v("--link-dup") ?? 0), corrupt: Number(v("--link-corrupt") ?? 0),
      partitions: all("--partition").map((p) => { const [b, r] = p.split("@"); const [x, y] = r.split("..").map(Number); return { board: b, fromStep: x, toStep: y }; }) },
    crashes: all("--crash").map((x) => ({ board: x.split("@")[0], step: parseInt(x.split("@")[1], 10), ...(x.endsWith(":vote") ? { atVote: true } : {}) })),
    ...(a.includes("--no-ride") ? { ride: false as const } : {}),
  };
  return c;
}

describe("a board that crashes: the defects the crash soak found (docs/protocol.md \"A board that crashes\")", () => {
  // Every case `npm run soak -- --system gen --crashes --cases 4000 --per-shape 5 --shrink 0
  // --jobs 2` failed at aa0d2ed (9 duplicates at a device, 7 stalls, 4 losses outside the
  // crash window), and gen-9, the duplicate docs/protocol.md named. Each is judged by the
  // crash verdict (judge), which is independent of the protocol.
  const failedAtMerge = [
    ["duplicate", "--system gen-9 --seed 580520831 --steps 12 --fault m1@3 --rules safe --latency 60..4640 --upgrade-at 0 --link-loss 0.17 --link-dup 0.1 --link-corrupt 0.05 --partition b3@4..16 --crash b1@11 --no-ride"],
    ["duplicate", "--system gen-474 --seed 1222865694 --steps 14 --fault m1@9 --rules safe --latency 250..8570 --upgrade-at 0 --link-loss 0.17 --link-dup 0.01 --link-corrupt 0.04 --partition b2@9..29 --crash b1@5 --no-ride"],
    ["duplicate", "--system gen-579 --seed 524481815 --steps 7 --fault m1@5 --rules safe --latency 428..4450 --upgrade-at 0 --link-loss 0.17 --link-dup 0.04 --crash b1@4 --no-ride"],
    ["duplicate", "--system gen-203 --seed 1511408630 --steps 13 --fault m2@10 --rules safe --latency 400..18626 --upgrade-at 0 --link-loss 0.18 --link-dup 0.06 --link-corrupt 0.01 --crash b2@11 --no-ride"],
    ["duplicate", "--system gen-203 --seed 1031447625 --steps 13 --fault m1@9 --rules safe --latency 438..14305 --upgrade-at 0 --link-loss 0.25 --link-dup 0.09 --link-corrupt 0.02 --crash b2@9 --no-ride"],
    ["duplicate", "--system gen-251 --seed 1688376229 --steps 16 --fault m3@2 --rules safe --latency 202..4726 --upgrade-at 0 --link-loss 0.09 --link-dup 0.04 --crash b1@7 --no-ride"],
    ["duplicate", "--system gen-251 --seed 2146383623 --steps 16 --fault m4@16 --rules safe --latency 394..5547 --upgrade-at 0 --link-loss 0.11 --link-dup 0.06 --link-corrupt 0.01 --crash b1@10 --no-ride"],
    ["duplicate", "--system gen-700 --seed 200223820 --steps 16 --fault m2@6 --rules safe --latency 37..8650 --upgrade-at 0 --link-loss 0.13 --link-dup 0.04 --link-corrupt 0.02 --partition b3@15..22 --crash b1@8 --no-ride"],
    ["duplicate", "--system gen-768 --seed 363306315 --steps 8 --no-fault --rules safe --latency 408..5902 --commit-after 14 --upgrade-at 0 --link-loss 0.3 --link-dup 0.05 --link-corrupt 0.03 --crash b1@6 --no-ride"],
    ["duplicate", "--system gen-353 --seed 1586886104 --steps 4 --no-fault --rules safe --latency 483..3492 --upgrade-at 0 --link-loss 0.05 --link-dup 0.09 --link-corrupt 0.04 --crash b2@3 --no-ride"],
    ["stalled (apply)", "--system gen-82 --seed 1539488894 --steps 12 --fault m1@4 --rules safe --latency 96..5135 --upgrade-at 0 --link-loss 0.13 --link-dup 0.03 --link-corrupt 0.04 --crash b2@11 --no-ride"],
    ["stalled (apply)", "--system gen-538 --seed 1173624036 --steps 9 --fault m1@2 --rules safe --latency 216..8154 --upgrade-at 0 --link-loss 0.2 --link-dup 0.06 --link-corrupt 0.01 --partition b4@7..17 --crash b3@6 --no-ride"],
    ["stalled (apply), memory", "--system gen-637 --seed 2026438624 --steps 12 --fault m1@1 --rules safe --latency 391..2931 --upgrade-at 0 --link-loss 0.17 --link-dup 0.03 --link-corrupt 0.03 --partition b1@3..23 --crash b2@4 --no-ride"],
    ["stalled (apply), memory", "--system gen-323 --seed 953415978 --steps 13 --fault m2@5 --rules safe --latency 487..6705 --upgrade-at 0 --link-loss 0.02 --link-dup 0.02 --link-corrupt 0.01 --partition b1@10..12 --crash b1@11 --no-ride"],
    ["stalled (commit)", "--system gen-83 --seed 1756490523 --steps 13 --no-fault --rules safe --latency 334..18466 --commit-after 1 --upgrade-at 0 --link-loss 0.12 --link-dup 0.09 --link-corrupt 0.04 --partition b1@8..9 --crash b3@8 --no-ride"],
    ["stalled (commit)", "--system gen-231 --seed 2143949551 --steps 8 --no-fault --rules safe --latency 33..2440 --commit-after 1 --upgrade-at 0 --link-loss 0.14 --link-dup 0.05 --link-corrupt 0.01 --crash b2@6 --no-ride"],
    ["stalled (commit)", "--system gen-793 --seed 263611646 --steps 15 --no-fault --rules safe --latency 41..940 --commit-after 9 --upgrade-at 0 --link-loss 0.18 --link-dup 0.06 --link-corrupt 0.03 --partition b3@10..14 --crash b1@13 --no-ride"],
    ["loss", "--system gen-19 --seed 1001586623 --steps 15 --fault m2@6 --rules safe --latency 445..18008 --upgrade-at 0 --link-loss 0.23 --link-dup 0.01 --link-corrupt 0.03 --partition b1@2..6 --crash b1@2 --no-ride"],
    ["loss", "--system gen-655 --seed 156184294 --steps 9 --fault m1@7 --rules safe --latency 31..14436 --upgrade-at 0 --link-loss 0.25 --link-dup 0.09 --link-corrupt 0.01 --partition b1@4..18 --crash b1@3 --no-ride"],
    ["loss", "--system gen-737 --seed 1163367501 --steps 13 --fault m1@6 --rules safe --latency 494..17251 --upgrade-at 0 --link-loss 0.11 --link-dup 0.06 --link-corrupt 0.02 --crash b2@1 --no-ride"],
    ["loss", "--system gen-747 --seed 337053783 --steps 14 --fault m2@13 --rules safe --latency 318..377 --upgrade-at 0 --link-loss 0.16 --link-dup 0.03 --link-corrupt 0.02 --crash b1@4 --no-ride"],
  ] as const;
  it.each(failedAtMerge)("%s: %s", (_kind, cmd) => {
    const c = parseRepro(cmd);
    const v = check(genSystem(Number(c.system.slice(4))), c);
    expect(v.problems).toEqual([]);
    expect(v.result.trace.some((e) => e.type === "restart")).toBe(true);
  });

  // members on several boards (genx): a restarted member's messages reached a guarded board
  // with no version flag and its shadow refused them (E_ROLE_RECV, dropped); failed at ec8c602
  // in `npm run soak -- --system genx --crashes --cases 1000 --per-shape 5 --shrink 0`
  it.each([
    "--system genx-50 --seed 1812736541 --steps 16 --fault m2@15 --rules safe --latency 16..15049 --upgrade-at 0 --link-loss 0.08 --link-dup 0.08 --link-corrupt 0.01 --crash b1@1 --no-ride",
    "--system genx-63 --seed 324978504 --steps 12 --fault m2@11 --rules safe --latency 405..16336 --upgrade-at 0 --link-loss 0.02 --link-dup 0.02 --link-corrupt 0.04 --crash b1@1 --no-ride",
    "--system genx-161 --seed 282763457 --steps 13 --fault m1@2 --rules safe --latency 284..6435 --upgrade-at 0 --link-loss 0.22 --link-dup 0.06 --crash b2@7 --no-ride",
  ])("a restarted member's message to a guarded board (genx): %s", (cmd) => {
    const c = parseRepro(cmd);
    const v = check(genSystem(Number(c.system.slice(5)), "several"), c);
    expect(v.problems).toEqual([]);
    expect(v.result.trace.some((e) => e.type === "member-outside-guarded")).toBe(true);
  });

  // gen-2007: the coordinator b1 decided commit 1 and crashed at once (--crash b1@1:vote, which
  // since ca341d0 crashes the coordinator after its decision); b3 heard the COMMIT, b2, which
  // had voted ready, did not. b2 took the coordinator's restart as the end of guarded operation
  // and asked for a recovery round the committed b3 never answered: stalled. A board prepared
  // for a commit now asks the restarted coordinator for the outcome first (READY: it answers
  // COMMIT from its commit log). Failed in `npm run soak -- --system gen --links --crashes
  // --cases 6000 --first 2001 --seed 91 --jobs 2` (1 of 6000).
  it("a board prepared for a commit when the coordinator that decided it restarts: it asks, and commits (gen-2007)", () => {
    const c = parseRepro("--system gen-2007 --seed 1484276688 --steps 9 --no-fault --rules safe --latency 87..11006 --commit-after 19 --upgrade-at 2 --link-loss 0.16 --link-dup 0.02 --link-corrupt 0.04 --crash b1@1:vote --no-ride");
    const v = check(genSystem(2007), c);
    expect(v.problems).toEqual([]);
    const b2 = v.result.trace.filter((e) => e.board === "b2" && ["commit-voted", "commit-outcome-asked", "commit", "recovery-request"].includes(e.type)).map((e) => e.type);
    expect(b2).toEqual(["commit-voted", "commit-outcome-asked", "commit"]);
  });

  // genx-6188, no crash: b3 (hosting none of the cluster) was cut off by 30% loss during the
  // recovery round and held b2's frames of the new epoch (aheadHeld) until it caught up; a
  // later frame of b2's arrived during b3's late recovery (held) and ran before the older
  // ones: a1 saw b2's step 16 before steps 6..15 (d4 got a wrong output, then nothing). Frames
  // held during a recovery now queue behind the epoch-held ones. Failed in `npm run soak --
  // --system genx --links --crashes --cases 5000 --per-shape 5 --first 6001 --seed 79 --jobs 2`
  // once the adaptive retransmission timeout changed the timing (1 of 5000).
  it("one sender's frames stay in order when some wait for an epoch and later ones for a recovery (genx-6188)", () => {
    const c = parseRepro("--system genx-6188 --seed 2034507503 --steps 16 --fault m1@16 --rules safe --latency 17..10772 --upgrade-at 0 --link-loss 0.3 --link-dup 0.1 --link-corrupt 0.05 --no-ride");
    const v = check(genSystem(6188, "several"), c);
    expect(v.problems).toEqual([]);
    expect(v.result.trace.some((e) => e.board === "b3" && e.type === "round-catch-up")).toBe(true);
  });

  // genx-4507 (two boards): b2 never heard b1's first run (its hellos lost, then a partition)
  // when both started guarded operation; b1 crashed and restarted, and b2, meeting b1's second
  // run as the first it knew, stayed guarded for ever (stalled). The hello's RESTARTED flag
  // tells it. Failed in `npm run soak -- --system genx --crashes --cases 3000 --per-shape 5
  // --shrink 0 --first 4001 --seed 77` (1 of 3000), also at bd094d0.
  it("a restarted board whose peer never knew its first run (hello flag RESTARTED): genx-4507", () => {
    const c = parseRepro("--system genx-4507 --seed 1331544043 --steps 11 --fault m1@6 --rules safe --latency 259..20231 --upgrade-at 0 --link-loss 0.16 --link-dup 0.08 --link-corrupt 0.03 --partition b1@3..13 --crash b1@6 --no-ride");
    const v = check(genSystem(4507, "several"), c);
    expect(v.problems).toEqual([]);
    expect(v.result.trace.some((e) => e.board === "b2" && e.type === "recovered")).toBe(true);
  });

  // genx-5698: the coordinator b1 crashed and came back outside guarded operation, not knowing
  // the cluster; b2 (member m4) answered its round late (behind frames queued for b1's earlier
  // run) and b1 applied without b2's bound after the partition timeout: V below b2's bound,
  // refused by b2's core (E_BAD_BOUND) for ever. A coordinator that does not know the cluster
  // now waits for every board's bound. Failed in `npm run soak -- --system genx --crashes
  // --cases 5000 --per-shape 5 --shrink 0 --first 5001 --seed 78` (1 of 5000).
  it("a restarted coordinator that does not know the cluster waits for every bound: genx-5698", () => {
    const c = parseRepro("--system genx-5698 --seed 80950264 --steps 15 --fault m3@8 --rules safe --latency 59..18358 --upgrade-at 0 --link-loss 0.23 --link-dup 0.01 --link-corrupt 0.04 --crash b1@3 --no-ride");
    const v = check(genSystem(5698, "several"), c);
    // (the fault falls after guarded operation ended by the crash's recovery: the case tests the crash only)
    expect(v.problems.filter((p) => !p.startsWith("untested"))).toEqual([]);
    expect(v.result.unfinished).toEqual([]);
    expect(v.result.drops.filter((d) => d.reason.includes("E_BAD_BOUND"))).toEqual([]);
  });

  it("the duplicates need the marks on disk: a restarted board that forgets what its devices got gives them old steps again", () => {
    // gen-579: b1 restarts, the recovery hands its fresh components steps 1..4 again; with the
    // marks the device check holds them back (device-repeat), without them (a board whose disk
    // lost device-marks) d1 gets step 1 after step 3: the oracle sees it
    const c = parseRepro(failedAtMerge[2][1]);
    const v = check(genSystem(579), c);
    expect(v.problems).toEqual([]);
    expect(v.result.drops.some((d) => d.reason === "device-repeat" || d.reason === "device-stale-step")).toBe(true);
    const sys = genSystem(579);
    const forgot = runTestbed(sys, { seed: c.seed, steps: c.steps, fault: c.fault, rules: c.rules, latency: c.latency, links: c.links, crashes: c.crashes, ridePassedAt: c.ride, deviceMarks: false });
    expect(judge(sys, c, forgot).filter((p) => p.startsWith("duplicate"))).not.toEqual([]);
  });

  it("a crash before, during and after the upgrade round on running boards: the round is called off (OFF), the ground told, every oracle holds", () => {
    const sys = demoSystem();
    let aborted = 0;
    for (const board of ["io", "gnc", "comms"]) for (const step of [9, 10, 11, 14]) {
      const c: Case = { system: "demo", seed: step * 7 + board.length, steps: 70, fault: { comp: "estimator", step: 40 }, rules: "safe", latency: { min: 50, max: 2000 },
        upgradeAt: 10, links: { loss: 0.1, dup: 0.02 }, crashes: [{ board, step }] };
      const v = check(sys, c);
      expect(v.problems, `${board}@${step}`).toEqual([]);
      const off = v.result.trace.filter((e) => e.type === "upgrade-aborted");
      aborted += off.length ? 1 : 0;
      // a participant's restart during the round: the coordinator calls it off and every board hears it
      if (board !== "gnc" && step === 10) expect(new Set(off.map((e) => e.board)), `${board}@${step}`).toEqual(new Set(["io", "gnc", "comms"].filter((b) => b !== board)));
    }
    expect(aborted).toBeGreaterThanOrEqual(4);
  }, 120_000);
});

describe("a board that voted ready in a commit vote and crashed before the commit reached it (docs/protocol.md \"A board that crashes\")", () => {
  // x2b: cluster {m1, m2} over a changed interface (m1 -> m2), m1 on b2 (the coordinator),
  // m2 on b3 with a1. b3 votes ready and crashes at once; b2 commits (every vote is in).
  // Restarted on its last committed versions, b3 would run m2's old version against m1's new
  // one; it is in doubt, so the coordinator's COMMIT makes it restart into the new versions.
  const sys = meshSystem(EXPLORE_SHAPES.x2b);
  const newM2 = sys.plan.upgrades.find((u) => u.name === "m2")!.version;
  it.each([1, 2, 3, 4, 5, 6])("seed %i: b3 adopts the commit and runs m2's new version; every oracle holds", (seed) => {
    const c: Case = { system: "x2b", seed, steps: 40, fault: null, rules: "safe", latency: { min: 50, max: 2000 }, commitAfter: 2,
      links: { loss: 0.05, dup: 0.02 }, crashes: [{ board: "b3", step: 0, atVote: true }] };
    const v = check(sys, c);
    expect(v.problems).toEqual([]);
    const seq = v.result.trace.filter((e) => e.board === "b3" && ["commit-voted", "crash", "restart", "commit-adopt", "commit-after-restart"].includes(e.type)).map((e) => e.type);
    expect(seq).toEqual(["commit-voted", "crash", "restart", "commit-adopt", "crash", "restart", "commit-after-restart"]);
    expect(v.result.trace.some((e) => e.board === "b2" && e.type === "commit")).toBe(true);
    expect(v.result.procs.filter((p) => p.board === "b3" && p.comp === "m2").map((p) => p.version)).toEqual([newM2]);
    // and the devices were served with the new versions after it
    expect(v.result.devices.some((d) => d.device === "dm" && d.t > v.result.crashWindows!.at(-1)!.t!)).toBe(true);
  });
});

describe("the coordinator crashes right after deciding a commit (--crash COORDINATOR@STEP:vote)", () => {
  const sys = meshSystem(EXPLORE_SHAPES.x2b);
  const want = new Map(sys.plan.upgrades.map((u) => [u.name, u.version]));
  it.each([1, 2, 3])("seed %i: b2 restarts on the committed versions, knowing its decision; every board runs the new versions; every oracle holds", (seed) => {
    const c: Case = { system: "x2b", seed, steps: 40, fault: null, rules: "safe", latency: { min: 50, max: 2000 }, commitAfter: 2,
      links: { loss: 0.05, dup: 0.02 }, crashes: [{ board: "b2", step: 0, atVote: true }] };
    const v = check(sys, c);
    expect(v.problems).toEqual([]);
    expect(v.result.trace.filter((e) => e.board === "b2" && ["commit-decided", "crash", "restart"].includes(e.type)).map((e) => e.type)).toEqual(["commit-decided", "crash", "restart"]);
    const mixed = v.result.procs.filter((p) => want.has(p.comp) && p.role !== "retired" && p.version !== want.get(p.comp));
    expect(mixed).toEqual([]);
  });
});

describe("double failure: the board in doubt is away, and the coordinator that committed restarts before it returns", () => {
  // As above, but b3 stays down 15 steps, and b2 (the coordinator) crashes right after
  // committing and restarts before b3 is back. The restarted coordinator must still know it
  // committed (its disk: rounds.ts commitLog), so b3's vote is answered COMMIT (adopt), not
  // RESUME (b3 would then run m2's old version against m1's new one).
  const sys = meshSystem(EXPLORE_SHAPES.x2b);
  const newM2 = sys.plan.upgrades.find((u) => u.name === "m2")!.version;
  it.each([1, 2, 3, 4])("seed %i: b3 adopts the commit b2 made before its own crash; every oracle holds", (seed) => {
    const base: Case = { system: "x2b", seed, steps: 60, fault: null, rules: "safe", latency: { min: 50, max: 2000 }, commitAfter: 2,
      links: { loss: 0.05, dup: 0.02 }, crashes: [{ board: "b3", step: 0, atVote: true, downSteps: 15 }] };
    const first = check(sys, base);
    const decided = first.result.trace.find((e) => e.board === "b2" && e.type === "commit-decided");
    expect(decided, "b2 commits while b3 is down").toBeDefined();
    const step = Math.floor(decided!.t / (first.result.options.periodUs ?? 10_000)) + 1;
    const c: Case = { ...base, crashes: [...base.crashes!, { board: "b2", step, downSteps: 3 }] };
    const v = check(sys, c);
    expect(v.problems).toEqual([]);
    const ev = (b: string, types: string[]) => v.result.trace.filter((e) => e.board === b && types.includes(e.type)).map((e) => e.type);
    expect(ev("b2", ["commit-decided", "crash", "restart"])).toEqual(["commit-decided", "crash", "restart"]);
    // b2 was back before b3
    const restarts = v.result.trace.filter((e) => e.type === "restart").map((e) => e.board);
    expect(restarts.slice(0, 2)).toEqual(["b2", "b3"]);
    expect(ev("b3", ["commit-adopt", "commit-vote-void"])).toEqual(["commit-adopt"]);
    expect(v.result.procs.filter((p) => p.board === "b3" && p.comp === "m2").map((p) => p.version)).toEqual([newM2]);
  });
});
