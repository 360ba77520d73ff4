// SLCAN over a real pseudo-terminal pair: SlcanBus opens /dev/pts/N with
// serialport 13, the test plays the adapter on the master side (node-pty).
import { describe, expect, it } from "vitest";
import { SlcanBus, MockCanNetwork, openCanBus } from "../../host/transport/can/bus.ts";
import { CanTransport } from "../../host/transport/can/transport.ts";
import type { CanFrame } from "../../host/transport/can/cyphal.ts";
import { useAdapters, until } from "./pty-adapter.ts";

const adapter = useAdapters();

describe("SLCAN over a real PTY (node-pty)", () => {
  it("opens with C, S<n>, O; frames both ways; C on close", async () => {
    const a = await adapter();
    const bus = await openCanBus(`slcan:${a.path}@250k`) as SlcanBus;
    expect(a.commands).toEqual(["C", "S5", "O"]);
    expect(bus.name).toBe(a.path.split("/").pop());
    const rx: CanFrame[] = [];
    bus.onFrame((f) => rx.push(f));
    bus.send({ id: 0x123, ext: false, rtr: false, data: Uint8Array.of(0xde, 0xad, 0xbe, 0xef) });
    bus.send({ id: 0x1abcde01, ext: true, rtr: false, data: Uint8Array.of(0x11, 0x22) });
    bus.send({ id: 0x7ff, ext: false, rtr: true, data: new Uint8Array(0), dlc: 3 });
    a.inject({ id: 0x42, ext: false, rtr: false, data: Uint8Array.of(1) });
    a.inject({ id: 0x1fffffff, ext: true, rtr: true, data: new Uint8Array(0) });
    await until(() => rx.length === 2 && a.frames.length === 3);
    expect(a.commands.slice(3)).toEqual(["t1234DEADBEEF", "T1ABCDE0121122", "r7FF3"]);
    expect(rx).toEqual([
      { id: 0x42, ext: false, rtr: false, data: Uint8Array.of(1) },
      { id: 0x1fffffff, ext: true, rtr: true, data: new Uint8Array(0), dlc: 0 },
    ]);
    await until(() => bus.stats.txAcks === 3);
    await bus.close();
    expect(a.commands.at(-1)).toBe("C");
    expect(() => bus.send({ id: 1, ext: false, rtr: false, data: new Uint8Array(0) })).toThrow(/closed/);
  });

  it("resynchronises after garbage from the adapter", async () => {
    const a = await adapter();
    const bus = await SlcanBus.open(a.path, 500000);
    const rx: CanFrame[] = [];
    bus.onFrame((f) => rx.push(f));
    a.raw("\xff\xfe garbage t12\r" + "x".repeat(80) + "\rt1232ABCD\r");
    await until(() => rx.length === 1);
    expect(rx[0]).toEqual({ id: 0x123, ext: false, rtr: false, data: Uint8Array.of(0xab, 0xcd) });
    expect(bus.stats.garbage).toBe(2);
    await bus.close();
  });

  it("reports the adapter's BEL: refused bitrate at open, and after a frame", async () => {
    const refusing = await adapter({ reply: (c) => (c.startsWith("S") ? "\x07" : null) });
    await expect(SlcanBus.open(refusing.path, 1_000_000)).rejects.toThrow(`slcan ${refusing.path}: the adapter refused 'S8' (BEL)`);
    const a = await adapter({ reply: (c) => (c.startsWith("T") ? "\x07" : null) });
    const bus = await SlcanBus.open(a.path, 500000);
    const errors: string[] = [];
    bus.onError((e) => errors.push(e.message));
    bus.send({ id: 1, ext: true, rtr: false, data: new Uint8Array(0) });
    await until(() => errors.length === 1);
    expect(errors[0]).toMatch(/answered BEL/);
    expect(bus.stats.txErrors).toBe(1);
    await bus.close();
  });

  it("times out with a clear message when the device is not an SLCAN adapter", async () => {
    const silent = await adapter({ reply: () => "" });
    await expect(SlcanBus.open(silent.path, 500000, { ackTimeoutMs: 200 })).rejects.toThrow(/no reply to 'C' within 200 ms — is it an SLCAN adapter\?/);
  });

  it("names the device when it vanishes", async () => {
    const a = await adapter();
    const bus = await SlcanBus.open(a.path, 500000);
    const errors: string[] = [];
    bus.onError((e) => errors.push(e.message));
    a.kill();
    await until(() => errors.length > 0, 5000);
    expect(errors[0]).toContain(`slcan ${a.path}`);
    await bus.close();
  });

  it("CanTransport over SLCAN talks to a CanTransport on another bus through the adapter", async () => {
    const a = await adapter();
    const net = new MockCanNetwork();
    const far = net.attach("far");
    a.onFrame((f) => far.send(f)); // host -> adapter -> bus
    const slcanSide = new CanTransport(await SlcanBus.open(a.path, 500000), 1);
    const mockSide = new CanTransport(net.attach("gsu2"), 2);
    far.onFrame((f) => a.inject(f)); // bus -> adapter -> host
    const at1: number[][] = [], at2: number[][] = [];
    slcanSide.onFrame((_s, f) => at1.push([...f]));
    mockSide.onFrame((_s, f) => at2.push([...f]));
    const big = Uint8Array.from({ length: 200 }, (_, i) => i);
    slcanSide.send(2, big);
    mockSide.send(1, big.subarray(0, 50));
    mockSide.send(0xff, Uint8Array.of(7));
    await until(() => at1.length === 2 && at2.length === 1);
    expect(at2).toEqual([[...big]]);
    expect(at1).toEqual([[...big.subarray(0, 50)], [7]]);
    expect(slcanSide.stats().dropped).toEqual({});
    await slcanSide.close();
  });
});
