// StreamTransport over an in-memory Duplex pair, and SerialTransport's outage
// handling against serialport's mock binding (deterministic: queue, reconnect, stats).
import { Duplex, PassThrough } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { SerialPortMock } from "serialport";
import { StreamTransport } from "../../host/transport/stream.ts";
import { SerialTransport, type SerialLinkError, type SerialPortLike } from "../../host/transport/serial.ts";
import { FrameLink } from "../../host/transport/framing/link.ts";

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));
const until = async (cond: () => boolean, what: string) => {
  for (let i = 0; i < 400 && !cond(); i++) await tick();
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
};

describe("StreamTransport", () => {
  it("carries transfers over any Duplex, with the serial framing", async () => {
    const ab = new PassThrough(), ba = new PassThrough();
    const a = new StreamTransport({ node: 1, stream: Duplex.from({ readable: ba, writable: ab }) });
    const b = new StreamTransport({ node: 2, peers: [1], stream: Duplex.from({ readable: ab, writable: ba }) });
    const got: Array<[number, number[]]> = [];
    b.onFrame((s, f) => got.push([s, [...f.subarray(0, 3)], ] as [number, number[]]));
    a.send(2, Uint8Array.of(1, 2, 3));
    a.send(2, new Uint8Array(5000).fill(4));
    a.send(3, Uint8Array.of(9));            // not for b
    a.writeRaw(Uint8Array.of(1, 2, 3, 0));  // garbage
    await until(() => got.length === 2, "frames");
    expect(got).toEqual([[1, [1, 2, 3]], [1, [4, 4, 4]]]);
    expect(b.stats().dropped).toEqual({ "not-for-us": 1, short: 1 }); // 01 02 03 is valid COBS for 2 bytes
    expect(b.stats().bytesIn).toBe(5003);
    await a.close(); await b.close();
  });
});

describe("SerialTransport outage handling (mock binding)", () => {
  const path = "/dev/ttyGSUMOCK0";
  afterEach(() => SerialPortMock.binding.reset());

  it("reports, queues, reconnects with backoff, and flushes the queue", async () => {
    SerialPortMock.binding.createPort(path, { record: true });
    const ports: SerialPortMock[] = [];
    const logs: string[] = [];
    const t = new SerialTransport({
      path, baudRate: 115200, node: 1, maxQueueBytes: 64, log: (l) => logs.push(l),
      reconnect: { initialMs: 5, maxMs: 20 },
      createPort: (o) => { const p = new SerialPortMock({ ...o, autoOpen: false }); ports.push(p); return p as unknown as SerialPortLike; },
    });
    await t.whenOpen();
    const got: number[][] = [];
    t.onFrame((_, f) => got.push([...f]));
    const peer = new FrameLink({ node: 2 });
    t.send(2, Uint8Array.of(1, 2));
    await tick(20);
    const rec = () => Buffer.from((ports.at(-1)!.port as unknown as { recording: Buffer }).recording);
    expect(rec()[0]).toBe(0); // the lone delimiter sent on open
    const seen: number[][] = [];
    new FrameLink({ node: 2 }).push(rec(), (_, f) => seen.push([...f]));
    expect(seen).toEqual([[1, 2]]);
    (ports[0].port as unknown as { emitData(b: Uint8Array): void }).emitData(peer.encode(1, Uint8Array.of(5)));
    (ports[0].port as unknown as { emitData(b: Uint8Array): void }).emitData(peer.encode(1, Uint8Array.of(6)).subarray(0, 4));
    await until(() => got.length === 1, "incoming frame");

    // the device vanishes
    const events: string[] = [];
    t.on("disconnect", (e: SerialLinkError) => events.push(`disconnect ${e.code} ${e.path}`));
    t.on("open-failed", (e: SerialLinkError) => events.push(`open-failed ${e.code}`));
    t.on("reconnect", (n: number) => events.push(`reconnect ${n}`));
    SerialPortMock.binding.reset();
    (ports[0] as unknown as { _disconnected(e: Error): void })._disconnected(new Error("ENXIO: no such device or address"));
    await until(() => events.length >= 3, "disconnect and failed reopens");
    expect(events[0]).toBe(`disconnect E_SERIAL_GONE ${path}`);
    expect(events[1]).toBe("open-failed E_SERIAL_OPEN");
    expect(logs.join("\n")).toContain(`serial ${path}: device disconnected (ENXIO: no such device or address)`);
    expect(logs.join("\n")).toContain(`serial ${path}: cannot open (Port does not exist`);
    expect(t.stats().dropped.disconnect).toBe(1); // the partial frame held when it vanished

    t.send(2, Uint8Array.of(7));                // queued
    t.send(2, new Uint8Array(100));              // over maxQueueBytes: dropped
    expect(t.stats().dropped["queue-full"]).toBe(1);

    SerialPortMock.binding.createPort(path, { record: true });
    await until(() => events.includes("reconnect 1"), "reconnect");
    await tick(20);
    const after: number[][] = [];
    new FrameLink({ node: 2 }).push(rec(), (_, f) => after.push([...f]));
    expect(after).toEqual([[7]]);
    const s = t.stats();
    expect(s.reconnects).toBe(1);
    expect(s.framesOut).toBe(3);
    expect(s.framesIn).toBe(1);
    expect(logs.at(-1)).toMatch(/reconnected \(reconnect 1\); sending 1 queued frames/);
    await t.close();
  });
});
