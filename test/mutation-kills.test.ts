// Tests written to kill mutants of assembly/ that survived `npm run mutate`
// (scripts/mutate.ts), for facts only the facade's configuration reaches (effect
// buffer size, more processes than the as-pect specs init). Each names the mutant it
// kills (stable id); check with: npm run mutate -- --only ID
import { describe, expect, it } from "vitest";
import { Core, CoreError } from "../host/core/core.ts";
import { EV, EVENT_WORDS, EW, KIND } from "../host/core/abi.ts";

describe("effect-buffer room: a batch is cut by each event's own worst case", () => {
  // Kills index.ts worstCase: `type == EV_COMMIT` -> `type != EV_COMMIT` (1c1fc29d): every
  // ordinary event then reserved a commit's room (3 per process), so with many processes
  // step(n) stopped hundreds of effects short of a full buffer.
  it("step(n) consumes device messages until the buffer has less than one event's worst case left", () => {
    const core = new Core({ procs: 64, ckptSlots: 1, ckptBytes: 64, logSlots: 1, logBytes: 64, effects: 1, batch: 4096 });
    core.setRole(0, "low");
    core.setRole(1, "ha");
    core.beginGuarded();
    const n = core.fxCap; // more than fit
    expect(core.evCap).toBeGreaterThanOrEqual(n);
    core.events.fill(0, 0, n * EVENT_WORDS);
    for (let i = 0; i < n; i++) {
      core.events[i * EVENT_WORDS + EW.TYPE] = EV.SEND;
      core.events[i * EVENT_WORDS + EW.PID] = 1;
      core.events[i * EVENT_WORDS + EW.KIND] = KIND.device; // a clean active process delivers it: one effect
    }
    const effects = core.stepRaw(n);
    expect(core.status()).toBe(0);
    expect(effects).toBe(core.consumed());
    expect(core.consumed()).toBeGreaterThanOrEqual(core.fxCap - 16);
    expect(core.consumed()).toBeLessThan(n);
  });
});

describe("cluster size: causal vectors have 16 slots", () => {
  // Kills index.ts beginGuarded: `low > MAXM` -> `low >= MAXM` (46f083cf).
  it("16 cluster members are accepted, 17 refused", () => {
    const core = new Core({ procs: 18, logSlots: 4, ckptSlots: 4, ckptBytes: 1024, logBytes: 1024 });
    for (let p = 0; p < 16; p++) core.setRole(p, "low");
    core.setRole(16, "ha");
    core.beginGuarded();
    expect(core.global("guarded")).toBe(1);
    core.submit([{ type: "commit" }]);
    for (let p = 0; p < 17; p++) core.setRole(p, "low");
    let err: unknown;
    try { core.beginGuarded(); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(CoreError);
    expect((err as CoreError).code).toBe("E_BAD_CONFIG");
    expect(core.global("guarded")).toBe(0);
  });
});
