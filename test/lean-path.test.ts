// The board's lean per-message path (host/runtime/recv-path.ts, send-path.ts; issue 12)
// splits its work into core runs by the core's batch (events per run). What the system
// does must not depend on that split: with the core's batch at 1, 2 and 3 events the demo
// with a fault recovers, the devices see exactly the fault-free reference, and every run
// takes the same checkpoints as with the default batch. A send stretch longer than the
// batch continues where the core stopped (send-path.ts runSends); a receipt for two
// targets with a batch of 1 takes the object path (Core.submit).
import { describe, expect, it } from "vitest";
import { compareDevices, runTestbed } from "../host/sim/testbed.ts";
import { demoSystem } from "../host/sim/demo-system.ts";

describe("the lean path does not depend on the core's batch", () => {
  const sys = demoSystem();
  const ref = runTestbed(sys, { seed: 0, steps: 200, reference: true });
  const run = (batch?: number) => runTestbed(sys, { seed: 7, steps: 200, core: batch ? { batch } : undefined, fault: { comp: "estimator", step: 120 } });
  const base = run();
  it("the default batch recovers exactly (the control)", () => {
    expect(base.ended).toBe("recovery");
    expect(base.violations).toEqual([]);
    expect(compareDevices(base.devices, ref.devices)).toEqual([]);
  });
  for (const batch of [1, 2, 3]) {
    it(`batch ${batch}: the same recovery, the same devices, the same checkpoints`, () => {
      const r = run(batch);
      expect(r.ended).toBe("recovery");
      expect(r.violations).toEqual([]);
      expect(compareDevices(r.devices, ref.devices)).toEqual([]);
      expect(r.devices.map((d) => `${d.device}:${d.payload}:${d.gen}`)).toEqual(base.devices.map((d) => `${d.device}:${d.payload}:${d.gen}`));
      expect(r.checkpoints).toBe(base.checkpoints);
    });
  }
});
