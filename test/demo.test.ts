import { describe, it, expect } from "vitest";
import { ComponentInstance } from "../host/component/component.ts";
import { checkAT, loadManifest, portByName } from "../host/component/manifest.ts";
import { imuMessage, loadComponentModule, loadSystem, manifestPath, runPipeline, type PipelineRun } from "../host/component/demo.ts";
import { ensureExamplesBuilt } from "./examples-build.ts";

await ensureExamplesBuilt();

const STEPS = 2000;
const sys = loadSystem();
const V1 = sys.initial;
const V2 = { ...sys.initial, ...sys.upgrade };
const hex = (l: Uint8Array[]) => l.map((b) => Buffer.from(b).toString("hex"));
const wheelAT = portByName(loadManifest(manifestPath("controller", "1.0.0")), "wheel").at!;
const downAT = portByName(loadManifest(manifestPath("telemetry", "1.0.0")), "downlink").at!;
const torques = (b: Uint8Array) => { const d = new DataView(b.buffer, b.byteOffset); return [d.getInt32(4, true), d.getInt32(8, true), d.getInt32(12, true)]; };

/** the streams that must not change with the upgrade: devices + every link outside estimator->controller */
function observable(r: PipelineRun): Record<string, string[]> {
  const o: Record<string, string[]> = {};
  for (const [d, l] of r.devices) o[`device:${d}`] = hex(l);
  for (const [k, l] of r.links) if (k !== "estimator.attitude->controller.attitude") o[`link:${k}`] = hex(l);
  return o;
}

describe("demo attitude-control loop", () => {
  const r1 = runPipeline({ versions: V1, steps: STEPS });
  const r2 = runPipeline({ versions: V2, steps: STEPS });

  it("v1 produces a full, non-trivial stream that passes every AT", () => {
    const wheel = r1.devices.get("wheel")!, down = r1.devices.get("downlink")!;
    expect(wheel.length).toBe(STEPS);
    expect(down.length).toBe(STEPS);
    for (const b of wheel) expect(checkAT(wheelAT, b)).toBeNull();
    for (const b of down) expect(checkAT(downAT, b)).toBeNull();
    const all = wheel.flatMap(torques);
    expect(new Set(all).size).toBeGreaterThan(500);
    expect(Math.max(...all.map(Math.abs))).toBeGreaterThan(1000);
  });

  it("v1 and v2 give byte-identical wheel, fdir and telemetry streams over 2000 steps", () => {
    expect(r2.links.get("estimator.attitude->controller.attitude")![0]!.length).toBe(36); // it really is the quaternion
    const o1 = observable(r1), o2 = observable(r2);
    expect(Object.keys(o2).sort()).toEqual(Object.keys(o1).sort());
    for (const k of Object.keys(o1)) {
      const a = o1[k]!, b = o2[k]!;
      const firstDiff = a.findIndex((x, i) => x !== b[i]);
      expect({ k, firstDiff, len: b.length }).toEqual({ k, firstDiff: -1, len: a.length });
    }
  });

  it("outputs do not depend on the interleaving across links", () => {
    const ref1 = observable(r1), ref2 = observable(r2);
    for (const seed of [1, 2, 3, 0xdeadbeef]) {
      expect(observable(runPipeline({ versions: V1, steps: STEPS, seed }))).toEqual(ref1);
      expect(observable(runPipeline({ versions: V2, steps: STEPS, seed }))).toEqual(ref2);
    }
  });

  for (const comp of ["estimator", "controller"] as const) {
    it(`a persistent NaN fault in ${comp}@2 from step 1000 fails the wheel and downlink ATs from step 1000 on`, () => {
      const r = runPipeline({ versions: V2, steps: 1200, faults: { [comp]: 1000 } });
      const wheel = r.devices.get("wheel")!, down = r.devices.get("downlink")!;
      expect(wheel.length).toBe(1200);
      expect(down.length).toBe(1200);
      for (let k = 0; k < 1200; k++) {
        const w = checkAT(wheelAT, wheel[k]!), d = checkAT(downAT, down[k]!);
        if (k < 1000) {
          expect(w).toBeNull();
          expect(d).toBeNull();
          expect(Buffer.from(wheel[k]!).equals(Buffer.from(r1.devices.get("wheel")![k]!))).toBe(true);
        } else {
          expect(w).toMatch(/tx = 2147483647 > max 250000/);
          expect(d).toMatch(/> max/);
        }
      }
      const health = r.links.get("fdir.health->telemetry.health")!;
      expect(new DataView(health[1100]!.buffer).getUint32(4, true) & 1).toBe(1);
    });
  }

  it("a mid-run upgrade with state transfer (gsu_state_save/load) is behaviour-preserving", () => {
    const wheel: Uint8Array[] = [];
    let est = new ComponentInstance(loadComponentModule("estimator", "1.0.0"), (_p, b) => ctl.handle(0, b));
    let ctl = new ComponentInstance(loadComponentModule("controller", "1.0.0"), (p, b) => { if (p === 1) wheel.push(b); });
    const sen = new ComponentInstance(loadComponentModule("sensor", "1.0.0"), (p, b) => { if (p === 1) est.handle(0, b); });
    sen.start(); est.start(); ctl.start();
    for (let k = 0; k < STEPS; k++) {
      if (k === 777) {
        const e2 = new ComponentInstance(loadComponentModule("estimator", "2.0.0"), (_p, b) => ctl.handle(0, b));
        const c2 = new ComponentInstance(loadComponentModule("controller", "2.0.0"), (p, b) => { if (p === 1) wheel.push(b); });
        e2.start(); c2.start();
        e2.loadState(est.saveState());
        c2.loadState(ctl.saveState());
        est = e2; ctl = c2;
      }
      sen.handle(0, imuMessage(k));
    }
    expect(hex(wheel)).toEqual(hex(r1.devices.get("wheel")!));
  });
});
