// The board runtime over the link layer on the in-process network, behind the fault
// injector: the demo's three boards run with 20% of frames lost, 10% duplicated and 20%
// delayed past later ones, and the devices receive exactly what the fault-free reference
// run gives them, in order (no upgrade: the layer alone is under test).
import { describe, expect, it } from "vitest";
import { Board } from "../../host/runtime/board.ts";
import { demoSystem } from "../../host/sim/demo-system.ts";
import { runTestbed } from "../../host/sim/testbed.ts";
import { SimNetwork } from "../../host/sim/network.ts";
import { VirtualClock } from "../../host/sim/clock.ts";
import { Rng } from "../../host/sim/rng.ts";
import { LinkLayer } from "../../host/transport/reliable.ts";
import { FaultyTransport } from "../../host/transport/faulty.ts";
import { roleCheck, wireSenders } from "../../host/runtime/roles.ts";
import { checkHello, encodeHello, helloInfo } from "../../host/runtime/startup.ts";
import { virtualClock } from "./harness.ts";

describe("the board runtime over the link layer, in process", () => {
  for (const key of [undefined, Buffer.alloc(32, 9), "none" as const]) {
    it(key === "none" ? "the control: the same faults without the layer change what the devices get" : `20% loss, 10% duplication, 20% reordering${key ? ", with a link key" : ""}: the devices get the reference run's messages, in order, once`, () => {
      const sys = demoSystem();
      const steps = 120;
      const ref = runTestbed(sys, { seed: 1, steps, reference: true }).devices;
      const clock = new VirtualClock();
      const vc = virtualClock(clock);
      const net = new SimNetwork(clock, new Rng(4), { minLatency: 50, maxLatency: 2000 });
      const coordinator = sys.spec.boards[0].node;
      const devices: { device: string; payload: string }[] = [];
      const layers: LinkLayer[] = [];
      const boards = sys.spec.boards.map((b) => {
        const faulty = new FaultyTransport(net.attach(b.node), { loss: 0.2, dup: 0.1, reorder: 0.2, maxDelayUs: 5_000, seed: b.node, clock: vc });
        if (key === "none") {
          layers.push({ inner: faulty, ready: () => true } as unknown as LinkLayer);
          return new Board({
            name: b.name, node: b.node, transport: faulty, spec: sys.spec, coordinator, rules: "safe",
            hooks: { now: () => clock.now, device: (device, payload) => devices.push({ device, payload: Buffer.from(payload).toString("hex") }) },
          });
        }
        const layer = new LinkLayer(faulty, {
          peers: sys.spec.boards.map((x) => x.node), incarnation: 1, key, clock: vc, rtoUs: 20_000, helloUs: 20_000,
          hello: () => encodeHello(helloInfo(sys.spec, b.node)), checkHello: (src, body) => checkHello(sys.spec, b.node, src, body),
          admit: roleCheck({ self: b.node, coordinator, senderOfWire: wireSenders(sys.spec) }),
        });
        layers.push(layer);
        return new Board({
          name: b.name, node: b.node, transport: layer, spec: sys.spec, coordinator, rules: "safe",
          hooks: { now: () => clock.now, device: (device, payload) => devices.push({ device, payload: Buffer.from(payload).toString("hex") }) },
        });
      });
      clock.run(200_000); // hellos
      expect(layers.every((l) => l.ready())).toBe(true);
      const t0 = clock.now;
      for (const input of sys.inputs) {
        const board = boards.find((b) => sys.spec.wires.some((w) => "device" in w.from && w.from.device === input.device && !("device" in w.to) && b.hosts(w.to.comp)))!;
        for (let k = 1; k <= steps; k++) clock.at(t0 + k * 10_000, () => board.deviceInput(input.device, input.gen(k)));
      }
      clock.run(t0 + 600e6);
      const lost = layers.reduce((n, l) => n + (l.inner as FaultyTransport).faults.lost, 0);
      expect(lost).toBeGreaterThan(key === "none" ? 20 : 150);
      if (key === "none") {
        const got = (d: string) => devices.filter((x) => x.device === d).map((x) => x.payload);
        expect(["wheel", "downlink"].some((d) => JSON.stringify(got(d)) !== JSON.stringify(ref.filter((x) => x.device === d).map((x) => x.payload)))).toBe(true);
        return;
      }
      for (const d of ["wheel", "downlink"]) {
        expect(devices.filter((x) => x.device === d).map((x) => x.payload), d).toEqual(ref.filter((x) => x.device === d).map((x) => x.payload));
      }
      for (const b of boards) expect(Object.keys(b.stats.dropped), b.name).toEqual([]);
    });
  }
});
