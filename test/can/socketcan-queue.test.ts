// SocketCanBus against a controller's short TX queue, without a CAN kernel: a stand-in
// for the socketcan package whose send() fails like send(2) with ENOBUFS (returns -1)
// while its queue (txqueuelen 10, as a real controller's interface has) is full, and
// which puts one frame on the "wire" per millisecond. The same burst runs on a real
// controller (kvaser_pci / SJA1000) in the emulated Pi: test/can/socketcan.test.ts.
import { afterEach, describe, expect, it } from "vitest";
import { SocketCanBus } from "../../host/transport/can/bus.ts";

type Msg = { id: number; ext: boolean; rtr: boolean; data: Buffer };
function controller(opts: { txqueuelen: number; perMs: number }) {
  const o = opts;
  const queue: Msg[] = [];
  const wire: Msg[] = [];
  let refused = 0;
  const timer = setInterval(() => { for (let i = 0; i < o.perMs && queue.length; i++) wire.push(queue.shift()!); }, 1);
  const ch = {
    addListener() {}, start() {}, stop() { clearInterval(timer); },
    send(m: Msg) {
      if (queue.length >= o.txqueuelen) { refused++; return -1; } // ENOBUFS
      queue.push({ ...m, data: Buffer.from(m.data) });
      return 16;
    },
  };
  return { ch, wire, opts: o, refused: () => refused };
}
const until = async (cond: () => boolean, ms: number, what: () => string) => {
  const end = Date.now() + ms;
  while (!cond()) { if (Date.now() > end) throw new Error(`timed out after ${ms} ms: ${what()}`); await new Promise((r) => setTimeout(r, 2)); }
};

describe("SocketCanBus on a controller whose TX queue fills (ENOBUFS)", () => {
  const stuck = SocketCanBus.STUCK_MS;
  afterEach(() => { SocketCanBus.STUCK_MS = stuck; });

  it("a burst of 300 frames, 30 times the TX queue, arrives whole and in order", async () => {
    const c = controller({ txqueuelen: 10, perMs: 1 });
    const bus = await SocketCanBus.open("can0", { socketcan: { createRawChannel: () => c.ch } });
    const errors: string[] = [];
    bus.onError((e) => errors.push(e.message));
    for (let i = 0; i < 300; i++) bus.send({ id: 0x100 + (i & 0xff), ext: false, rtr: false, data: Uint8Array.of(i >> 8, i & 0xff) });
    await until(() => c.wire.length === 300, 20_000, () => `${c.wire.length} of 300 on the wire`);
    expect(c.wire.map((m) => m.data.readUInt16BE(0))).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(c.refused()).toBeGreaterThan(0); // the queue did fill: the case this is about happened
    expect(bus.txStats.refused).toBe(c.refused());
    expect(bus.txStats.dropped).toBe(0);
    expect(errors).toEqual([]);
    await bus.close();
  });

  it("a queue that stays full (bus off): the waiting frames are dropped after STUCK_MS and the error names the interface", async () => {
    SocketCanBus.STUCK_MS = 100;
    const c = controller({ txqueuelen: 10, perMs: 0 });
    const bus = await SocketCanBus.open("can7", { socketcan: { createRawChannel: () => c.ch } });
    const errors: string[] = [];
    bus.onError((e) => errors.push(e.message));
    for (let i = 0; i < 25; i++) bus.send({ id: 0x10, ext: false, rtr: false, data: Uint8Array.of(i) });
    await until(() => errors.length > 0, 10_000, () => `no error; ${bus.txStats.refused} refused`);
    expect(errors[0]).toMatch(/^CAN interface 'can7': its TX queue stayed full for 100 ms .*15 waiting frame\(s\) dropped — check 'ip -details -statistics link show can7'/);
    expect(bus.txStats.dropped).toBe(15);
    // the controller sends again (bus recovered): the frames sent from then on go out, in order
    c.opts.perMs = 1;
    for (let i = 100; i < 105; i++) bus.send({ id: 0x10, ext: false, rtr: false, data: Uint8Array.of(i) });
    await until(() => c.wire.length === 15, 10_000, () => `${c.wire.length} of 15 on the wire`);
    expect(c.wire.map((m) => m.data[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 100, 101, 102, 103, 104]);
    expect(errors.length).toBe(1);
    await bus.close();
  });
});
