// Bad frames from a peer never crash a board: each is dropped and counted with a
// reason, and the board keeps working.
import { describe, expect, it } from "vitest";
import { Board } from "../host/runtime/board.ts";
import { fakeSystem } from "../host/sim/fake-system.ts";
import { VirtualClock } from "../host/sim/clock.ts";
import { Rng } from "../host/sim/rng.ts";
import { SimNetwork } from "../host/sim/network.ts";
import { Core } from "../host/core/core.ts";
import { encodeApp } from "../host/runtime/frame.ts";

describe("a board under bad frames", () => {
  it("refused, malformed and unknown frames are counted by reason; the board keeps running", () => {
    const sys = fakeSystem();
    const clock = new VirtualClock();
    const net = new SimNetwork(clock, new Rng(1), { minLatency: 10, maxLatency: 10 });
    const devices: string[] = [];
    const boards = sys.spec.boards.map((b) => new Board({
      name: b.name, node: b.node, transport: net.attach(b.node), spec: sys.spec, coordinator: 2, rules: "safe",
      hooks: { now: () => clock.now, device: (d) => devices.push(d) },
    }));
    for (const b of boards) b.startUpgrade(sys.plan);
    const evil = net.attach(9);
    const core = new Core({ procs: 1 });
    const gnc = 2, comms = 3;
    const bad: Uint8Array[] = [
      new Uint8Array([]),                                                     // empty
      new Uint8Array([0xe0, 1]),                                              // header kind 7
      new Uint8Array([0x10, 0x80]),                                           // truncated varint
      encodeApp(core, { kind: "app", dirty: 1, index: 5, epoch: 5 }, 5, 0, new Uint8Array([1, 0, 0, 0])),  // an epoch from the future
      encodeApp(core, { kind: "app", dirty: 0, index: 0, epoch: 0 }, 250, 0, new Uint8Array(4)),          // unknown wire
      encodeApp(core, { kind: "app", dirty: 0, index: 0, epoch: 0 }, 5, 1, new Uint8Array(4)),            // 'shadow' frame to an active component
      core.encodeHeader({ kind: "apply", dirty: 0, index: 0, epoch: 1, aux: 0 }),                         // an apply nobody asked for
      core.encodeHeader({ kind: "bound", dirty: 0, index: 3, epoch: 0, aux: 0 }),                         // a bound with no round
    ];
    for (const f of bad) { evil.send(comms, f); evil.send(gnc, f); }
    for (let k = 1; k <= 20; k++) clock.at(1000 + k * 10_000, () => boards[0].deviceInput("imu", sys.inputs[0].gen(k)));
    expect(() => clock.run()).not.toThrow();
    const dropped = { ...boards[1].stats.dropped, ...boards[2].stats.dropped };
    expect(Object.keys(dropped).sort()).toEqual(expect.arrayContaining(["malformed-header", "future-epoch", "unknown-wire"]));
    expect(devices.filter((d) => d === "wheel").length).toBe(20);    // the system still ran every step
    expect(devices.filter((d) => d === "downlink").length).toBe(20);
  });
});
