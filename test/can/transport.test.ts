import { describe, expect, it } from "vitest";
import { type CanBus, type CanFrame, MockCanNetwork, parseCanIface, openCanBus, ifaceLabel } from "../../host/transport/can/bus.ts";
import { CanTransport } from "../../host/transport/can/transport.ts";
import { BROADCAST } from "../../host/transport/types.ts";

const payload = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 13 + seed) & 0xff);

/** Holds a bus's outgoing frames so the test decides the interleaving on the wire. */
class HoldBus implements CanBus {
  held: CanFrame[] = [];
  constructor(private inner: CanBus) {}
  get name() { return this.inner.name; }
  send(f: CanFrame) { this.held.push(f); }
  release(n = 1) { for (const f of this.held.splice(0, n)) this.inner.send(f); }
  onFrame(cb: (f: CanFrame, t?: number) => void) { this.inner.onFrame(cb); }
  close() { return this.inner.close(); }
}

function setup(n = 3, opts = {}) {
  const net = new MockCanNetwork();
  const buses = Array.from({ length: n }, (_, i) => new HoldBus(net.attach(`node${i + 1}`)));
  const ts = buses.map((b, i) => new CanTransport(b, i + 1, opts));
  const got = ts.map(() => [] as { src: number; data: number[] }[]);
  ts.forEach((t, i) => t.onFrame((src, f) => got[i].push({ src, data: [...f] })));
  return { net, buses, ts, got };
}

describe("CanTransport over MockCanBus", () => {
  it("three nodes, interleaved multi-frame unicasts and broadcasts, all delivered in per-link order", async () => {
    const { net, buses, ts, got } = setup();
    const sent: { from: number; to: number; data: number[] }[] = [];
    const send = (from: number, to: number, n: number) => {
      const p = payload(n, sent.length);
      ts[from - 1].send(to, p);
      sent.push({ from, to, data: [...p] });
    };
    for (let k = 0; k < 40; k++) {
      send(1, 2, (k * 37) % 300);
      send(3, 2, (k * 11) % 120 + 8);
      send(2, BROADCAST, k % 50);
      send(1, 3, 7 + (k % 3));
    }
    // round-robin one frame at a time from every node: frames of different transfers interleave on the bus
    while (buses.some((b) => b.held.length)) for (const b of buses) b.release(1 + (b.held.length % 2));
    await net.settle();
    for (const [i, node] of [1, 2, 3].entries()) {
      const expected = sent.filter((s) => s.to === node || (s.to === BROADCAST && s.from !== node)).map((s) => ({ src: s.from, data: s.data }));
      const bySrc = (src: number, xs: { src: number; data: number[] }[]) => xs.filter((x) => x.src === src);
      for (const src of [1, 2, 3]) expect(bySrc(src, got[i])).toEqual(bySrc(src, expected));
    }
    for (const t of ts) expect(t.stats().dropped).toEqual({});
    const s2 = ts[1].stats();
    expect(s2.framesIn).toBe(40 * 2);
    expect(ts[0].canStats().ignored).toBeGreaterThan(0); // node 1 sees node 3's unicasts to 2 and ignores them
    expect(net.frames.every((r) => r.frame.ext && r.frame.data.length >= 1 && r.frame.data.length <= 8)).toBe(true);
    await Promise.all(ts.map((t) => t.close()));
  });

  it("delivers to itself without touching the bus", async () => {
    const { net, ts, got } = setup(1);
    ts[0].send(1, Uint8Array.of(9, 9));
    await new Promise((r) => setImmediate(r));
    expect(got[0]).toEqual([{ src: 1, data: [9, 9] }]);
    expect(net.frames.length).toBe(0);
  });

  it("counts and drops corrupted, lost and duplicated frames; good transfers still arrive once", async () => {
    const net = new MockCanNetwork();
    const a = new CanTransport(net.attach("a"), 1), b = new CanTransport(net.attach("b"), 2, { knownNodes: [1] });
    const rx: number[][] = [];
    b.onFrame((_s, f) => rx.push([...f]));
    let n = 0;
    net.tamper = (f) => {
      n++;
      if (n === 2) return [{ ...f, data: f.data.map((x, i) => (i === 0 ? x ^ 0x10 : x)) }]; // bit flip -> crc
      if (n === 5) return []; // lost middle frame of transfer 2 -> its last frame has the wrong toggle
      if (n === 8) return [f, f]; // duplicated middle frame of transfer 3 -> bad-toggle, transfer intact
      return [f];
    };
    for (let k = 0; k < 3; k++) a.send(2, payload(19, k)); // 3 frames each
    a.send(2, Uint8Array.of(1, 2, 3));
    await net.settle();
    expect(rx).toEqual([[...payload(19, 2)], [1, 2, 3]]);
    // transfer 2's partial is discarded when transfer 3 starts: "interrupted"
    expect(b.stats().dropped).toEqual({ crc: 1, "bad-toggle": 2, interrupted: 1 });
    // an unknown source and a foreign non-Cyphal frame
    const c = new CanTransport(net.attach("c"), 5);
    c.send(2, Uint8Array.of(1));
    net.attach("raw").send({ id: 0x123, ext: false, rtr: false, data: Uint8Array.of(1) });
    await net.settle();
    expect(b.stats().dropped["unknown-node"]).toBe(1);
    expect(b.stats().dropped["not-cyphal"]).toBe(1);
    expect(rx.length).toBe(2);
  });

  it("rejects node ids that do not fit 7 bits and oversize transfers", () => {
    const net = new MockCanNetwork();
    expect(() => new CanTransport(net.attach(), 128)).toThrow(/0\.\.127/);
    const t = new CanTransport(net.attach(), 1, { maxTransfer: 10 });
    expect(() => t.send(2, new Uint8Array(11))).toThrow(/exceeds/);
    expect(() => t.send(200, new Uint8Array(1))).toThrow(/does not fit/);
  });
});

describe("interface specs", () => {
  it("parses SocketCAN names and slcan: specs", () => {
    expect(parseCanIface("can0")).toEqual({ kind: "socketcan", iface: "can0" });
    expect(parseCanIface("vcan0")).toEqual({ kind: "socketcan", iface: "vcan0" });
    expect(parseCanIface("slcan:/dev/ttyACM0@500000")).toEqual({ kind: "slcan", path: "/dev/ttyACM0", bitrate: 500000 });
    expect(parseCanIface("slcan:/dev/ttyUSB1")).toEqual({ kind: "slcan", path: "/dev/ttyUSB1", bitrate: 500000 });
    expect(parseCanIface("slcan:/dev/ttyACM0@1M")).toEqual({ kind: "slcan", path: "/dev/ttyACM0", bitrate: 1000000 });
    expect(parseCanIface("slcan:/dev/ttyACM0@125k")).toEqual({ kind: "slcan", path: "/dev/ttyACM0", bitrate: 125000 });
    expect(ifaceLabel(parseCanIface("slcan:/dev/ttyACM0"))).toBe("ttyACM0");
  });
  it("explains bad specs", () => {
    expect(() => parseCanIface("slcan:")).toThrow(/no serial device/);
    expect(() => parseCanIface("slcan:/dev/ttyACM0@fast")).toThrow(/not a number/);
    expect(() => parseCanIface("slcan:/dev/ttyACM0@600000")).toThrow(/600000 is not one of/);
    expect(() => parseCanIface("/dev/ttyACM0")).toThrow(/bad CAN interface '\/dev\/ttyACM0': expected a SocketCAN interface such as can0/);
    expect(() => parseCanIface("averyveryverylongname0")).toThrow(/bad CAN interface/);
  });
  it("SocketCAN: opening a missing interface names it and says what to do", async () => {
    const iface = "gsunocan0";
    await expect(openCanBus(iface)).rejects.toThrow(new RegExp(`^no CAN interface '${iface}': (socket\\(AF_CAN\\) failed — load can/can-raw/vcan or use slcan:/dev/ttyACM0@500000|the optional package 'socketcan')`));
  });
});
