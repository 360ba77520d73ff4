import { describe, expect, it } from "vitest";
import {
  bitrateCommand, closeCommand, encodeFrame, openCommand, parseLine, SlcanParser, listenOnlyCommand,
} from "../../host/transport/can/slcan.ts";

const u8 = (...b: number[]) => Uint8Array.from(b);

describe("SLCAN commands", () => {
  it("open, close, listen-only and the S0..S8 bitrates", () => {
    expect(openCommand()).toBe("O\r");
    expect(closeCommand()).toBe("C\r");
    expect(listenOnlyCommand()).toBe("L\r");
    const rates = [10e3, 20e3, 50e3, 100e3, 125e3, 250e3, 500e3, 800e3, 1e6];
    expect(rates.map(bitrateCommand)).toEqual(["S0\r", "S1\r", "S2\r", "S3\r", "S4\r", "S5\r", "S6\r", "S7\r", "S8\r"]);
    expect(() => bitrateCommand(83_333)).toThrow(/not one of the standard SLCAN rates/);
  });
  it("encodes t, T, r and R frames", () => {
    expect(encodeFrame({ id: 0x123, ext: false, rtr: false, data: u8(0xde, 0xad, 0xbe, 0xef) })).toBe("t1234DEADBEEF\r");
    expect(encodeFrame({ id: 0x1abcde01, ext: true, rtr: false, data: u8(0x11, 0x22) })).toBe("T1ABCDE0121122\r");
    expect(encodeFrame({ id: 0x7ff, ext: false, rtr: false, data: u8() })).toBe("t7FF0\r");
    expect(encodeFrame({ id: 0x123, ext: false, rtr: true, data: u8() })).toBe("r1230\r");
    expect(encodeFrame({ id: 0x5, ext: true, rtr: true, data: u8(), dlc: 8 })).toBe("R000000058\r");
    expect(() => encodeFrame({ id: 0x800, ext: false, rtr: false, data: u8() })).toThrow(/11-bit/);
    expect(() => encodeFrame({ id: 1, ext: false, rtr: false, data: new Uint8Array(9) })).toThrow(/at most 8/);
  });
});

describe("SLCAN received lines", () => {
  it("parses frames, with and without the Z1 timestamp", () => {
    expect(parseLine("t1234DEADBEEF")).toEqual({ type: "frame", frame: { id: 0x123, ext: false, rtr: false, data: u8(0xde, 0xad, 0xbe, 0xef) } });
    expect(parseLine("T1ABCDE0121122")).toEqual({ type: "frame", frame: { id: 0x1abcde01, ext: true, rtr: false, data: u8(0x11, 0x22) } });
    expect(parseLine("t1230")).toEqual({ type: "frame", frame: { id: 0x123, ext: false, rtr: false, data: u8() } });
    expect(parseLine("r1232")).toEqual({ type: "frame", frame: { id: 0x123, ext: false, rtr: true, data: u8(), dlc: 2 } });
    expect(parseLine("R1ABCDE010")).toEqual({ type: "frame", frame: { id: 0x1abcde01, ext: true, rtr: true, data: u8(), dlc: 0 } });
    expect(parseLine("t123111A2B3")).toEqual({ type: "frame", frame: { id: 0x123, ext: false, rtr: false, data: u8(0x11) }, timestamp: 0xa2b3 });
    expect(parseLine("t1ff2abcd")).toEqual({ type: "frame", frame: { id: 0x1ff, ext: false, rtr: false, data: u8(0xab, 0xcd) } });
  });
  it("acknowledgements and replies", () => {
    expect(parseLine("")).toEqual({ type: "ack", text: "" });
    expect(parseLine("z")).toEqual({ type: "ack", text: "z" });
    expect(parseLine("Z")).toEqual({ type: "ack", text: "Z" });
    expect(parseLine("V1013")).toEqual({ type: "reply", text: "V1013" });
  });
  it("garbage: bad lengths, bad hex, out-of-range IDs, DLC 9, binary", () => {
    for (const g of ["t12", "t1234DEAD", "t12G1AA", "T2000000000", "t1239" + "00".repeat(9), "t123411", "\x01\x02"]) {
      expect(parseLine(g).type).toBe("garbage");
    }
  });
});

describe("SLCAN stream parser", () => {
  it("splits on CR, reports BEL on its own, tolerates CRLF", () => {
    const p = new SlcanParser();
    const ev = p.push("\r\x07t1230\r\nz\r");
    expect(ev).toEqual([
      { type: "ack", text: "" },
      { type: "error" },
      { type: "frame", frame: { id: 0x123, ext: false, rtr: false, data: u8() } },
      { type: "ack", text: "z" },
    ]);
    expect(p.errors).toBe(1);
  });
  it("reassembles lines split over chunks", () => {
    const p = new SlcanParser();
    expect(p.push("t12")).toEqual([]);
    expect(p.push("3211")).toEqual([]);
    expect(p.push(u8(0x32, 0x32, 0x0d))).toEqual([{ type: "frame", frame: { id: 0x123, ext: false, rtr: false, data: u8(0x11, 0x22) } }]);
  });
  it("resynchronises after garbage, overlong runs and a BEL mid-line", () => {
    const p = new SlcanParser();
    const junk = "\xff\xfe" + "x".repeat(100);
    const ev = p.push(junk + "\rt1231AA\r" + "t12\x07" + "T000000011BB\r");
    expect(ev.map((e) => e.type)).toEqual(["garbage", "frame", "garbage", "error", "frame"]);
    expect(p.garbage).toBe(2);
    // random bytes never throw and the parser recovers
    let s = 7;
    const rnd = new Uint8Array(50_000).map(() => ((s = (s * 1103515245 + 12345) >>> 0) >>> 24));
    p.push(rnd);
    expect(p.push("\rt7FF0\r").at(-1)).toEqual({ type: "frame", frame: { id: 0x7ff, ext: false, rtr: false, data: u8() } });
  });
});
