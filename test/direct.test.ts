// The directly wired baseline of bench:rehearsal (host/sim/direct.ts) does the same
// application work as the unprotected testbed: the same device outputs, byte for byte.
import { describe, expect, it } from "vitest";
import { runDirect } from "../host/sim/direct.ts";
import { demoSystem } from "../host/sim/demo-system.ts";
import { compareDevices, runTestbed } from "../host/sim/testbed.ts";

describe("directly wired components (host/sim/direct.ts)", () => {
  const sys = demoSystem();
  const steps = 300;
  const unprotected = runTestbed(sys, { seed: 11, steps, latency: { min: 50, max: 2000 }, oracles: false, reference: true, protocol: false });

  it("the demo's device outputs equal the unprotected testbed run's", () => {
    const d = runDirect(sys, steps);
    expect(unprotected.devices.length).toBe(2 * steps); // wheel and downlink, one each per step
    expect(d.devices.length).toBe(unprotected.devices.length);
    expect(compareDevices(d.devices, unprotected.devices)).toEqual([]);
    // each step: the IMU input, then sensor's 2 outputs, estimator's 1, controller's 2 to components, fdir's 1
    expect(d.handled).toBe(7 * steps);
    expect(d.runCpuMs).toBeGreaterThan(0);
  });

  it("a different application run is caught: IMU inputs one step late change the outputs", () => {
    const shifted = { ...sys, inputs: sys.inputs.map((x) => ({ ...x, gen: (k: number) => x.gen(k + 1) })) };
    const d = runDirect(shifted, steps);
    expect(d.devices.length).toBe(unprotected.devices.length);
    expect(compareDevices(d.devices, unprotected.devices).length).toBeGreaterThan(0);
  });
});
