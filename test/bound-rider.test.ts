// A passed AT's bound riding on the next application frame (issue 12; docs/wire.md "A
// passed-AT bound riding", docs/protocol.md "The passed-AT bound rides on the next
// application frame"): the frame layout against the core's codec, the rider's batching
// rule, and whole runs against runs where every bound travels alone.
import { describe, expect, it } from "vitest";
import { Core, wide } from "../host/core/core.ts";
import { decodeFrame, encodeAppFields, FLAG_BOUND } from "../host/runtime/frame.ts";
import { boundLength, carriesBound, payloadAt, splitBound, withBound } from "../host/runtime/route.ts";
import { BoundRider } from "../host/runtime/bound-rider.ts";
import { BROADCAST } from "../host/transport/types.ts";
import { runTestbed } from "../host/sim/testbed.ts";
import { demoSystem } from "../host/sim/demo-system.ts";
import { genSystem } from "../host/sim/gen-system.ts";
import { check } from "../host/sim/property.ts";
import { Rng } from "../host/sim/rng.ts";

const core = new Core({ procs: 2 });
const rng = new Rng(77);
const u32 = () => (rng.int(0, 2) === 0 ? rng.int(0, 300) : rng.int(0, 0x7fffffff) * 2 + rng.int(0, 1)) >>> 0;
function vector(): number[] {
  const v = Array.from({ length: rng.int(2, 16) }, () => (rng.int(0, 2) === 0 ? 0 : u32()));
  if (!wide(v)) v[v.length - 1] = 1 + rng.int(0, 1000);
  return v;
}
const bytes = (n: number) => Uint8Array.from({ length: n }, () => rng.int(0, 255));
function randomApp(): Uint8Array {
  const vec = rng.int(0, 1) ? vector() : undefined;
  return encodeAppFields(core, rng.int(0, 1), vec ? vec[0] : u32(), rng.int(0, 15), vec, rng.int(0, 255), rng.int(0, 3), bytes(rng.int(0, 30)));
}
function randomBound(): Uint8Array {
  const vecForm = rng.int(0, 1) === 1;
  const P = vecForm ? vector() : undefined, Q = vecForm ? [u32(), ...Array.from({ length: rng.int(0, 3) }, u32)] : undefined;
  return core.encodeHeader({ kind: "passedAt", dirty: 0, index: P ? P[0] : u32(), epoch: rng.int(0, 15), aux: Q ? Q[0] : u32(), P, Q });
}

describe("the frame: an application frame with a passedAt header after its route", () => {
  it("splits back into exactly the two frames it was made of, and decodeFrame reads the application frame's fields", () => {
    for (let i = 0; i < 2000; i++) {
      const app = randomApp(), bound = randomBound();
      expect(carriesBound(app)).toBe(false);
      expect(boundLength(bound, 0)).toBe(bound.length);
      const f = withBound(app, bound);
      expect(f.length).toBe(app.length + bound.length);
      expect(carriesBound(f)).toBe(true);
      // the bound sits where the payload was; the payload follows it
      expect([...f.subarray(payloadAt(f), payloadAt(f) + bound.length)]).toEqual([...bound]);
      const s = splitBound(f);
      if (typeof s === "string") throw new Error(s);
      expect([...s.bound]).toEqual([...bound]);
      expect([...s.app]).toEqual([...app]);
      const d = decodeFrame(core, f), plain = decodeFrame(core, app);
      expect(d.header).toEqual(plain.header);
      expect([...d.body]).toEqual([...plain.body]);
      expect([...d.bound!]).toEqual([...bound]);
      expect(core.decodeHeader(d.bound!)).toEqual(core.decodeHeader(bound));
    }
  });

  it("a truncated frame, or a rider that is not a passedAt, is refused with a reason, never a throw", () => {
    for (let i = 0; i < 300; i++) {
      const f = withBound(randomApp(), randomBound());
      const cut = f.subarray(0, payloadAt(f) + rng.int(0, boundLength(f, payloadAt(f)) - 1));
      if (carriesBound(cut)) expect(typeof splitBound(cut)).toBe("string");
    }
    // an apply (kind 4, the coordinator's) in the rider's place: the role check never saw it
    const app = encodeAppFields(core, 0, 5, 0, undefined, 1, FLAG_BOUND, Uint8Array.of(0x80, 0x09, 0x00));
    expect(splitBound(app)).toBe("application frame carries a kind-4 header where only a passedAt (kind 1) may ride");
    expect(() => decodeFrame(core, app)).toThrow(/kind-4/);
  });
});

describe("the rider: the batch's rule", () => {
  it("a bound rides once per peer; the peers left get it alone at the flush, all of them as one broadcast", () => {
    const sent: [number, number[]][] = [];
    const r = new BoundRider([2, 3, 4], (d, f) => sent.push([d, [...f]]));
    const b1 = Uint8Array.of(0x20, 1, 0), b2 = Uint8Array.of(0x20, 2, 0);
    r.queue(b1);
    expect([...r.take(3)!]).toEqual([...b1]);
    expect(r.take(3)).toBeUndefined(); // once per peer
    expect(r.take(9)).toBeUndefined(); // not a peer
    r.queue(b2); // the earlier bound goes alone to the peers it did not reach, first
    expect(sent).toEqual([[2, [...b1]], [4, [...b1]]]);
    r.flush();
    expect(sent.slice(2)).toEqual([[BROADCAST, [...b2]]]);
    r.flush();
    expect(sent).toHaveLength(3);
    r.queue(b1);
    for (const p of [2, 3, 4]) expect([...r.take(p)!]).toEqual([...b1]);
    r.flush();
    expect(sent).toHaveLength(3);
  });
  it("keeps its own copy of the bound: the board encodes every notification into one buffer it reuses", () => {
    const sent: [number, number[]][] = [];
    const r = new BoundRider([2, 3], (d, f) => sent.push([d, [...f]]));
    const buf = Uint8Array.of(0x20, 1, 0);
    r.queue(buf);
    buf.set([0x20, 9, 9]); // the next notification overwrites the caller's buffer
    expect([...r.take(2)!]).toEqual([0x20, 1, 0]);
    r.flush();
    expect(sent).toEqual([[3, [0x20, 1, 0]]]);
  });
});

/** Bounds and application frames each board received, per sender, from the testbed's delivery tap. */
function deliveries(ride: boolean, sys = demoSystem(), steps = 200) {
  const got = { bounds: 0, riders: 0, app: 0, frames: 0 };
  const r = runTestbed(sys, {
    // the coordinator commits once it has seen 150 passes: a bound a board did not take would delay it
    seed: 9, steps, fault: null, commitAfter: 150, ridePassedAt: ride,
    tap: (_t, src, dst, f) => {
      if (src === dst) return;
      got.frames++;
      if (f[0] >> 5 === 1) got.bounds++;
      if (f[0] >> 5 === 0) { got.app++; if (carriesBound(f)) { got.bounds++; got.riders++; } }
    },
  });
  return { r, got };
}

describe("whole runs: riding changes the frames, not what anyone receives", () => {
  it("the demo: every device gets the reference run's messages; every board gets every bound; fewer frames", () => {
    const ref = runTestbed(demoSystem(), { seed: 0, steps: 200, reference: true });
    const alone = deliveries(false), ride = deliveries(true);
    for (const x of [alone, ride]) {
      expect(x.r.violations).toEqual([]);
      expect(x.r.ended).toBe("commit");
      expect(x.r.devices.map((d) => d.payload)).toEqual(ref.devices.map((d) => d.payload));
    }
    expect(alone.got.riders).toBe(0);
    expect(ride.got.riders).toBeGreaterThan(0);
    expect(ride.got.bounds).toBe(alone.got.bounds);
    expect(ride.got.app).toBe(alone.got.app);
    expect(ride.got.frames).toBe(alone.got.frames - ride.got.riders);
  });

  it("generated systems with members on several boards, a fault and faulty links: no oracle breaks", () => {
    for (const n of [3, 17, 41, 58]) {
      for (const fault of [{ comp: "m1", step: 6 }, null]) {
        const v = check(genSystem(n, "several"), { system: `genx-${n}`, seed: n, steps: 14, fault, rules: "safe", latency: { min: 50, max: 5000 }, upgradeAt: 0, commitAfter: fault ? undefined : 3, links: { loss: 0.1, dup: 0.05 } });
        expect(v.problems).toEqual([]);
      }
    }
  });
});
