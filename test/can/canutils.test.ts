import { describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CandumpFormatter, formatCanFrame, longFrame, parseCanFrame } from "../../host/transport/can/canutils.ts";
import { CandumpLogWriter, CandumpRecorder, formatLogLine, parseLogLine, readCandumpLog } from "../../host/transport/can/candump-log.ts";
import { CyphalDecoder } from "../../host/transport/can/cyphal.ts";
import { MockCanNetwork } from "../../host/transport/can/bus.ts";
import { candump } from "../../host/cli/candump.ts";
import { cansend } from "../../host/cli/cansend.ts";

const u8 = (...b: number[]) => Uint8Array.from(b);

describe("cansend frame syntax (can-utils parse_canframe)", () => {
  it("parses data, extended, dotted, empty and RTR frames", () => {
    expect(parseCanFrame("123#DEADBEEF")).toEqual({ id: 0x123, ext: false, rtr: false, data: u8(0xde, 0xad, 0xbe, 0xef) });
    expect(parseCanFrame("1ABCDE01#11.22")).toEqual({ id: 0x1abcde01, ext: true, rtr: false, data: u8(0x11, 0x22) });
    expect(parseCanFrame("5AA#11.2233.44556677.88")).toEqual({ id: 0x5aa, ext: false, rtr: false, data: u8(0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88) });
    expect(parseCanFrame("123#")).toEqual({ id: 0x123, ext: false, rtr: false, data: u8() });
    expect(parseCanFrame("123#R")).toEqual({ id: 0x123, ext: false, rtr: true, data: u8() });
    expect(parseCanFrame("00000123#r3")).toEqual({ id: 0x123, ext: true, rtr: true, data: u8(), dlc: 3 });
    expect(parseCanFrame("7ff#deadbeef")).toEqual({ id: 0x7ff, ext: false, rtr: false, data: u8(0xde, 0xad, 0xbe, 0xef) });
  });
  it("rejects what cansend rejects, with the reason", () => {
    expect(() => parseCanFrame("12#11")).toThrow(/3 \(standard\) or 8 \(extended\)/);
    expect(() => parseCanFrame("123#1")).toThrow(/pairs of hex/);
    expect(() => parseCanFrame("123#GG")).toThrow(/pairs of hex/);
    expect(() => parseCanFrame("800#11")).toThrow(/at most 7FF/);
    expect(() => parseCanFrame("123#112233445566778899")).toThrow(/at most 8/);
    expect(parseCanFrame("123##1AA")).toEqual({ id: 0x123, ext: false, rtr: false, data: Uint8Array.of(0xaa), fd: true, brs: true });
    expect(() => parseCanFrame("123##GAA")).toThrow(/flags digit/);
    expect(() => parseCanFrame("10700201##1" + "00".repeat(9))).toThrow(/not a CAN FD length/);
    const fd = { id: 0x10700201, ext: true, rtr: false, data: Uint8Array.from({ length: 12 }, (_, i) => i), fd: true, brs: true };
    expect(formatCanFrame(fd)).toBe("10700201##1000102030405060708090A0B");
    expect(parseCanFrame(formatCanFrame(fd))).toEqual(fd);
    expect(() => parseCanFrame("20000080#0000")).toThrow(/error frames/);
    expect(() => parseCanFrame("123#R9")).toThrow(/RTR length/);
  });
});

describe("candump output (can-utils sprint_canframe / sprint_long_canframe)", () => {
  it("compact form", () => {
    expect(formatCanFrame({ id: 0x123, ext: false, rtr: false, data: u8(0xde, 0xad, 0xbe, 0xef) })).toBe("123#DEADBEEF");
    expect(formatCanFrame({ id: 0x1abcde01, ext: true, rtr: false, data: u8(0x11, 0x22) })).toBe("1ABCDE01#1122");
    expect(formatCanFrame({ id: 0x1abcde01, ext: true, rtr: false, data: u8(0x11, 0x22) }, true)).toBe("1ABCDE01#11.22");
    expect(formatCanFrame({ id: 0x5, ext: false, rtr: true, data: u8() })).toBe("005#R");
    expect(formatCanFrame({ id: 0x5, ext: true, rtr: true, data: u8(), dlc: 4 })).toBe("00000005#R4");
    expect(formatCanFrame({ id: 0x5, ext: false, rtr: false, data: u8() })).toBe("005#");
  });
  it("default columns, exactly", () => {
    const f = new CandumpFormatter(4);
    expect(f.format("can0", { id: 0x123, ext: false, rtr: false, data: u8(0xde, 0xad, 0xbe, 0xef) })).toBe("  can0  123   [4]  DE AD BE EF");
    expect(f.format("can0", { id: 0x123, ext: false, rtr: true, data: u8() })).toBe("  can0  123   [0]  remote request");
    expect(f.format("can0", { id: 0x123, ext: false, rtr: false, data: u8() })).toBe("  can0  123   [0] ");
    expect(f.format("can0", { id: 0x1abcde01, ext: true, rtr: false, data: u8(0x11, 0x22) })).toBe("  can0  1ABCDE01   [2]  11 22");
    // after an extended frame, candump indents standard IDs to the 8-digit column
    expect(f.format("can0", { id: 0x123, ext: false, rtr: false, data: u8(0x01) })).toBe("  can0       123   [1]  01");
    expect(new CandumpFormatter(5).format("can0", { id: 1, ext: false, rtr: false, data: u8() })).toBe("   can0  001   [0] ");
    expect(longFrame({ id: 0x7ff, ext: false, rtr: true, data: u8(), dlc: 8 })).toBe("7FF   [8]  remote request");
  });
  it("log lines (candump -L)", () => {
    expect(formatLogLine(1_700_000_000_123_456, "can0", parseCanFrame("123#DEADBEEF"))).toBe("(1700000000.123456) can0 123#DEADBEEF");
    expect(formatLogLine(1_500_042, "vcan0", parseCanFrame("1ABCDE01#11.22"))).toBe("(0000000001.500042) vcan0 1ABCDE01#1122");
    expect(formatLogLine(0, "can0", parseCanFrame("123#R"))).toBe("(0000000000.000000) can0 123#R");
    expect(parseLogLine("(1700000000.123456) can0 123#DEADBEEF")).toEqual({ timestampUs: 1_700_000_000_123_456, iface: "can0", frame: parseCanFrame("123#DEADBEEF") });
    expect(() => parseLogLine("1700000000.123456 can0 123#DEADBEEF")).toThrow(/SECONDS\.MICROS/);
    expect(() => readCandumpLog("(1.000000) can0 123#00\n\n(2.000000) can0 12#00\n")).toThrow(/^line 3:/);
  });
});

describe("candump log writer and recorder", () => {
  it("writes a file that reads back, and the frames reassemble to the transfers", () => {
    const dir = mkdtempSync(join(tmpdir(), "gsu-can-"));
    const { recorder, writer } = CandumpRecorder.toFile(join(dir, "bus.log"), "vcan0");
    const payloads = [u8(1, 2, 3), Uint8Array.from({ length: 40 }, (_, i) => i), u8()];
    recorder.transfer(1000, 1, 2, payloads[0]);
    recorder.transfer(2000, 2, 0xff, payloads[1]);
    recorder.transfer(3000, 1, 2, payloads[2]);
    writer.close();
    const text = readFileSync(join(dir, "bus.log"), "utf8");
    expect(text.split("\n")[0]).toBe("(0000000000.001000) vcan0 10700201#010203E0");
    const entries = readCandumpLog(text);
    expect(entries.length).toBe(1 + 6 + 1); // 40 + 2 CRC bytes = 6 frames
    const d = new CyphalDecoder();
    const got = entries.map((e) => d.push(e.frame, e.timestampUs)).filter((r) => r.kind === "transfer");
    expect(got.map((r) => r.kind === "transfer" && [...r.transfer.payload])).toEqual(payloads.map((p) => [...p]));
    const w = new CandumpLogWriter(join(dir, "b.log"));
    w.write(5, "can0", parseCanFrame("123#R"));
    w.close();
    expect(readFileSync(join(dir, "b.log"), "utf8")).toBe("(0000000000.000005) can0 123#R\n");
  });
});

describe("gsu candump / gsu cansend over the mock bus", () => {
  it("cansend's frame appears in candump's output, both formats", async () => {
    const net = new MockCanNetwork();
    const a = net.attach("a"), b = net.attach("b"), c = net.attach("c");
    const lines: string[] = [], log: string[] = [];
    const done = candump(b, "can0", { count: 3, out: (l) => lines.push(l) });
    const doneL = candump(c, "can0", { count: 3, log: true, out: (l) => log.push(l) });
    cansend(a, "123#DEADBEEF");
    cansend(a, "1ABCDE01#11.22");
    cansend(a, "123#R");
    expect(await done).toBe(3);
    await doneL;
    expect(lines).toEqual(["  can0  123   [4]  DE AD BE EF", "  can0  1ABCDE01   [2]  11 22", "  can0       123   [0]  remote request"]);
    expect(log.map((l) => l.replace(/^\(\d{10}\.\d{6}\) /, ""))).toEqual(["can0 123#DEADBEEF", "can0 1ABCDE01#1122", "can0 123#R"]);
    expect(net.frames.length).toBe(3);
  });
  it("the CLI gives clear errors for bad interfaces and frames", async () => {
    const { run: cansendRun, help: cansendHelp } = await import("../../host/cli/cansend.ts");
    expect(cansendHelp).toMatch(/1ABCDE01#11\.22/);
    await expect(cansendRun(["can0", "12#34"])).rejects.toThrow(/bad CAN frame '12#34'/);
    await expect(cansendRun(["not an iface", "123#34"])).rejects.toThrow(/bad CAN interface 'not an iface'/);
    await expect(cansendRun(["slcan:/dev/ttyACM0@123"])).rejects.toThrow(/needs an interface and a frame/);
    const { run: candumpRun } = await import("../../host/cli/candump.ts");
    await expect(candumpRun(["slcan:/dev/ttyACM0@123"])).rejects.toThrow(/bitrate 123 is not one of/);
    await expect(candumpRun(["slcan:/dev/gsu-no-such-tty@500k", "-n", "1"])).rejects.toThrow(/cannot open serial device '\/dev\/gsu-no-such-tty'/);
  });
});
