// The link layer above Cyphal/CAN transfers: three nodes on a CAN bus (the mock bus),
// single CAN frames lost and duplicated below Cyphal (a lost frame costs its whole
// transfer, which Cyphal drops), and every GSU frame still arrives exactly once, in order.
import { describe, expect, it } from "vitest";
import { MockCanNetwork } from "../../host/transport/can/bus.ts";
import { CanTransport } from "../../host/transport/can/transport.ts";
import { LinkLayer } from "../../host/transport/reliable.ts";
import { BROADCAST } from "../../host/transport/types.ts";
import { frameOf, hex } from "./harness.ts";

describe("link layer over Cyphal/CAN", () => {
  it("4% of CAN frames lost, 2% duplicated, key, broadcasts: exactly once, in order, per pair", async () => {
    const net = new MockCanNetwork();
    let x = 17;
    const rnd = () => (x = (x * 1103515245 + 12345) >>> 0) / 2 ** 32;
    let lost = 0;
    net.tamper = (f) => { const r = rnd(); if (r < 0.04) { lost++; return []; } return r < 0.06 ? [f, f] : [f]; };
    const nodes = [1, 2, 3];
    const key = Buffer.alloc(32, 0x21);
    const layers = nodes.map((n) => new LinkLayer(new CanTransport(net.attach(`n${n}`), n, { knownNodes: nodes }), { peers: nodes, incarnation: 50 + n, key, rtoUs: 30_000, helloUs: 30_000 }));
    const got = new Map<string, string[]>();
    layers.forEach((l, i) => l.onFrame((src, f) => { const k = `${src}>${nodes[i]}`; (got.get(k) ?? got.set(k, []).get(k)!).push(hex(f)); }));
    const t0 = Date.now();
    while (!layers.every((l) => l.ready())) {
      if (Date.now() - t0 > 10_000) throw new Error("no sessions");
      await new Promise((r) => setTimeout(r, 5));
    }
    const sent = new Map<string, string[]>();
    for (let k = 0; k < 120; k++) {
      for (const [i, from] of nodes.entries()) {
        const bcast = k % 7 === 0;
        const to = bcast ? BROADCAST : nodes[(i + 1 + (k % 2)) % 3];
        const f = frameOf(k % 3 === 0 ? 1 : 0, from, to, k, 7 + (k % 40));
        layers[i].send(to, f);
        for (const d of bcast ? nodes.filter((m) => m !== from) : [to]) { const key2 = `${from}>${d}`; (sent.get(key2) ?? sent.set(key2, []).get(key2)!).push(hex(f)); }
      }
      if (k % 10 === 0) await new Promise((r) => setTimeout(r, 2));
    }
    while (!layers.every((l) => l.idle()) && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 10));
    await net.settle();
    expect(got).toEqual(sent);
    expect(lost).toBeGreaterThan(20);
    // Cyphal dropped the transfers those frames belonged to (and the duplicates): the layer made up for it
    const cyphalDrops = layers.reduce((n, l) => n + Object.values(l.inner.stats().dropped).reduce((a, b) => a + b, 0), 0);
    expect(cyphalDrops).toBeGreaterThan(10);
    expect(layers.reduce((n, l) => n + l.layerStats().retransmits, 0)).toBeGreaterThan(0);
    for (const l of layers) await l.close();
  }, 40_000);
});
