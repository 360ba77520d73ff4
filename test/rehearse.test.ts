// gsu rehearse as a user runs it: the contract of its flags, output and exit status.
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { untested } from "../host/cli/rehearse.ts";

const root = join(import.meta.dirname, "..");
const dir = mkdtempSync(join(tmpdir(), "gsu-rehearse-"));
const gsu = (...args: string[]) => spawnSync(process.execPath, [join(root, "bin/gsu.js"), "rehearse", ...args], { cwd: dir, encoding: "utf8", timeout: 60_000 });

describe("gsu rehearse", () => {
  it("the default rehearsal: fault, detection, recovery, takeover, and a PASS verdict", () => {
    const r = gsu("--html", "report.html");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/AT failed: controller\(new\) -> wheel/);
    expect(r.stdout).toMatch(/takeover: old estimator is active/);
    expect(r.stdout).toMatch(/Recovery latency .* ms virtual, .* ms wall/);
    expect(r.stdout).toMatch(/Verdict: PASS/);
    const html = readFileSync(join(dir, "report.html"), "utf8");
    expect(html).toContain("<svg");
    expect(html).toMatch(/class="tk"/); // a takeover mark on the diagram
  });

  it("--json prints only the summary; --trace writes every device delivery in order", () => {
    const r = gsu("--json", "--trace", "t.jsonl", "--steps", "50", "--fault", "controller@20", "--html", "-");
    expect(r.status, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.verdict).toBe("pass");
    expect(s.ended).toBe("recovery");
    const lines = readFileSync(join(dir, "t.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    const dev = lines.filter((l) => l.type === "device");
    expect(dev.length).toBe(s.devices.wheel + s.devices.downlink);
    expect(dev[0]).toMatchObject({ type: "device", device: expect.any(String), payload: expect.stringMatching(/^[0-9a-f]+$/) });
  });

  it("the same seed gives the same run", () => {
    const a = gsu("--json", "--seed", "5", "--steps", "60", "--fault", "estimator@30", "--html", "-", "--trace", "a.jsonl");
    const b = gsu("--json", "--seed", "5", "--steps", "60", "--fault", "estimator@30", "--html", "-", "--trace", "b.jsonl");
    expect(readFileSync(join(dir, "a.jsonl"), "utf8")).toBe(readFileSync(join(dir, "b.jsonl"), "utf8"));
    expect(JSON.parse(a.stdout).timeline).toEqual(JSON.parse(b.stdout).timeline);
  });

  it("--reference and --no-fault with --commit-after pass", () => {
    expect(gsu("--reference", "--steps", "40", "--html", "-").status).toBe(0);
    const r = gsu("--no-fault", "--commit-after", "30", "--steps", "60", "--json", "--html", "-");
    expect(r.status, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.ended).toBe("commit");
    expect(s.heldAfter).toBe(0);
  });

  it("the printed rules fail the oracle on a schedule with long link delays: exit 1 and what differed", () => {
    const r = gsu("--rules", "paper", "--seed", "7", "--latency", "100..30000", "--html", "-");
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/Verdict: FAIL/);
    // What differed, named: a message delivered twice (in flight across the recovery, the
    // printed rules have no rule for it).
    expect(r.stdout).toMatch(/duplicate: \w+: \w+\(\w+\) port '\w+' got step \d+ after \d+/);
  });

  it("bad arguments exit 2 with a message naming the thing at fault, never a stack trace", () => {
    for (const [args, pat] of [
      [["--fault", "estimator"], /--fault must look like COMPONENT@STEP/],
      [["--fault", "sensor@3"], /'sensor', which the upgrade does not change/],
      [["--rules", "strict"], /--rules must be paper, safe or folded/],
      [["--steps", "-4"], /--steps/],
      [["--latency", "9..3"], /--latency/],
      [["--system", "nope"], /unknown system 'nope'/],
      [["--bogus"], /bogus/],
    ] as const) {
      const r = gsu(...args);
      expect(r.status, `${args.join(" ")}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(pat);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it("a rehearsal that would test nothing is refused (exit 2) when the options say so, and fails (exit 1) when the run shows it", () => {
    for (const [args, pat] of [
      [["--fault", "estimator@500", "--steps", "100"], /--fault estimator@500 would never fire: the run has 100 steps/],
      [["--upgrade-at", "250"], /--upgrade-at 250 is not before the last step \(--steps 200\)/],
      [["--upgrade-at", "150", "--fault", "estimator@120"], /--fault estimator@120 is before the upgrade \(--upgrade-at 150\)/],
      [["--reference", "--fault", "estimator@50"], /--fault and --reference cannot be used together/],
    ] as const) {
      const r = gsu(...args, "--html", "-");
      expect(r.status, `${args.join(" ")}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(pat);
    }
    // gen-5's m2 runs out of checkpoint memory before step 120: guarded operation ends by recovery first
    const r = gsu("--system", "gen-5", "--fault", "m2@120", "--html", "-");
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/Verdict: FAIL\n {2}untested: the fault m2@120 never took effect in 200 steps/);
  });

  it("the default fault follows --steps and --system and fires", () => {
    const short = JSON.parse(gsu("--steps", "60", "--json", "--html", "-").stdout);
    expect(short.fault).toBe("estimator@36");      // 60% of the steps (was estimator@120: never fired)
    expect(short.ended).toBe("recovery");
    const gen = gsu("--system", "gen-5", "--json", "--html", "-");
    expect(gen.status, gen.stderr).toBe(0);
    const s = JSON.parse(gen.stdout);
    // gen-5 runs out of checkpoint memory before 60% of the steps: the default fault comes earlier
    expect(s.fault).toMatch(/^m\d@(\d+)$/);
    expect(Number(s.fault.split("@")[1])).toBeLessThan(120);
    expect(s.problems).toEqual([]);
  });

  it("untested(): no device output, or a fault with no effect, is a reason to fail", () => {
    expect(untested({ fault: null, steps: 10, devices: 0, detected: false })[0]).toMatch(/no device received a message in 10 steps/);
    expect(untested({ fault: { comp: "a", step: 5 }, steps: 10, devices: 3, faultActive: false, detected: false })[0]).toMatch(/never took effect/);
    expect(untested({ fault: { comp: "a", step: 5 }, steps: 10, devices: 3, detected: false })[0]).toMatch(/never detected/);   // real links: no ground truth
    expect(untested({ fault: { comp: "a", step: 5 }, steps: 10, devices: 3, faultActive: true, detected: true })).toEqual([]);
    // a requested crash the run never showed (a :vote crash with no commit vote)
    expect(untested({ fault: null, steps: 10, devices: 3, detected: false, ended: "recovery", crashes: [{ board: "b1", step: 1, atVote: true }], crashed: [] })[0])
      .toMatch(/the crash b1@1:vote never happened \(b1 never voted in, or decided, a commit from step 1 on; guarded operation ended by recovery\)/);
    expect(untested({ fault: null, steps: 10, devices: 3, detected: false, crashes: [{ board: "b1", step: 1 }], crashed: ["b1"] })).toEqual([]);
  });
  it("--crash BOARD@STEP:vote that never happens (gen-203: guarded operation ends by a full protocol store before any commit) fails as untested; on the coordinator it crashes after the decision", () => {
    const r = gsu("--system", "gen-203", "--crash", "b1@1:vote", "--no-fault", "--commit-after", "3", "--steps", "120", "--html", "-");
    expect(r.stdout).toMatch(/untested: the crash b1@1:vote never happened/);
    expect(r.status).toBe(1);
    const c = gsu("--crash", "gnc@1:vote", "--no-fault", "--commit-after", "3", "--html", "-");
    expect(c.stdout, c.stderr).toMatch(/^Verdict: PASS: before the crash \(gnc@1:vote\)/m);
    expect(c.status).toBe(0);
  });
});
