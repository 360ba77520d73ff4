// CCSDS Space Packets (CCSDS 133.0-B-2): bit-exact headers, the time code, the sans-I/O decoder.
import { describe, expect, it } from "vitest";
import {
  decodePrimaryHeader, decodeTime, encodePacket, encodePrimaryHeader, encodeTime, idlePacket, PacketDecoder,
  SequenceCounter, CcsdsError, type PacketEvent,
} from "../../host/telemetry/ccsds.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const packets = (evs: PacketEvent[]) => evs.filter((e) => e.kind === "packet").map((e) => (e as Extract<PacketEvent, { kind: "packet" }>).packet);
const rejects = (evs: PacketEvent[]) => evs.filter((e) => e.kind === "reject").map((e) => (e as Extract<PacketEvent, { kind: "reject" }>).reason);

describe("CCSDS primary header", () => {
  // Public vectors from us-irs/spacepackets-py (tests/ccsds/test_space_packet.py and
  // docs/packets.rst), an independent implementation of CCSDS 133.0-B-2.
  it("matches spacepackets-py: TC, secondary header, APID 0x02, first segment, count 0x34, length 0x16", () => {
    const b = encodePrimaryHeader({ version: 0, type: 1, secondaryHeader: true, apid: 0x02, seqFlags: 0b01, seqCount: 0x34, dataLength: 0x16 });
    expect(hex(b)).toBe("180240340016");
  });
  it("matches spacepackets-py: all fields at their maximum (TC, sec header) is 1F FF FF FF FF FF", () => {
    const b = encodePrimaryHeader({ version: 0, type: 1, secondaryHeader: true, apid: 0x7ff, seqFlags: 0b11, seqCount: 0x3fff, dataLength: 0xffff });
    expect(hex(b)).toBe("1fffffffffff");
  });
  it("matches the PUS TC[17,1] example in spacepackets-py's docs: 18 73 C0 19 00 04", () => {
    const b = encodePrimaryHeader({ version: 0, type: 1, secondaryHeader: true, apid: 0x73, seqFlags: 0b11, seqCount: 25, dataLength: 4 });
    expect(hex(b)).toBe("1873c0190004");
    expect(decodePrimaryHeader(b)).toEqual({ version: 0, type: 1, secondaryHeader: true, apid: 0x73, seqFlags: 3, seqCount: 25, dataLength: 4 });
  });
  it("lays out a GSU telemetry header bit by bit", () => {
    // version 000, type 0, sec hdr 1, APID 0b000_0010_1000 (node 2, code 8) | flags 11, count 5 | length 9
    const b = encodePrimaryHeader({ version: 0, type: 0, secondaryHeader: true, apid: 0x28, seqFlags: 3, seqCount: 5, dataLength: 9 });
    expect([...b].map((x) => x.toString(2).padStart(8, "0")).join(" ")).toBe("00001000 00101000 11000000 00000101 00000000 00001001");
  });
  it("refuses fields out of range, naming them", () => {
    const h = { version: 0, type: 0 as const, secondaryHeader: true, apid: 1, seqFlags: 3, seqCount: 0, dataLength: 0 };
    for (const [f, v] of [["apid", 0x800], ["seqCount", 0x4000], ["dataLength", 0x10000], ["seqFlags", 4], ["version", 8]] as const) {
      expect(() => encodePrimaryHeader({ ...h, [f]: v })).toThrow(CcsdsError);
      try { encodePrimaryHeader({ ...h, [f]: v }); } catch (e) { expect((e as CcsdsError).field).toBe(f); }
    }
  });
  it("round-trips every field", () => {
    for (const apid of [0, 1, 0x2a5, 0x7fe]) for (const seqCount of [0, 1, 0x1555, 0x3fff]) for (const type of [0, 1] as const) {
      const h = { version: 0, type, secondaryHeader: apid % 2 === 0, apid, seqFlags: apid & 3, seqCount, dataLength: (apid * 31 + seqCount) & 0xffff };
      expect(decodePrimaryHeader(encodePrimaryHeader(h))).toEqual(h);
    }
  });
});

describe("CUC-like time (4 octets seconds, 2 octets 2^-16 s)", () => {
  it("encodes seconds and sub-seconds big endian", () => {
    expect(hex(encodeTime(0))).toBe("000000000000");
    expect(hex(encodeTime(1_500_000))).toBe("000000018000");          // 1.5 s
    expect(hex(encodeTime(0x12345678 * 1e6 + 250_000))).toBe("123456784000");
  });
  it("round-trips within one tick (15.26 us)", () => {
    for (const us of [0, 1, 15, 16, 999_999, 1_204_468, 1_700_000_000_123_456]) expect(Math.abs(decodeTime(encodeTime(us)) - us)).toBeLessThan(15.26);
  });
  it("refuses negative times and 32-bit second overflow", () => {
    expect(() => encodeTime(-1)).toThrow(CcsdsError);
    expect(() => encodeTime(2 ** 32 * 1e6)).toThrow(CcsdsError);
  });
});

describe("packets and the decoder", () => {
  const p1 = encodePacket({ apid: 0x21, seqCount: 7, timeUs: 2_000_000, data: Uint8Array.of(1, 2, 3) });
  const p2 = encodePacket({ apid: 0x28, seqCount: 0, timeUs: 3_000_000, data: new Uint8Array(0) });

  it("encodes header + time + data with data length = octets after the header - 1", () => {
    expect(hex(p1)).toBe("0821c007" + "0008" + "00000002" + "0000" + "010203"); // header | seconds | sub-seconds | data
    expect(p1.length).toBe(6 + 6 + 3);
  });
  it("decodes packets back to back in one frame", () => {
    const evs = new PacketDecoder().frame(Uint8Array.from([...p1, ...p2]));
    const ps = packets(evs);
    expect(ps.map((p) => [p.header.apid, p.header.seqCount, p.timeUs, hex(p.data)])).toEqual([[0x21, 7, 2_000_000, "010203"], [0x28, 0, 3_000_000, ""]]);
  });
  it("reassembles a packet split across pushes of a stream", () => {
    const d = new PacketDecoder();
    const all = Uint8Array.from([...p1, ...p2]);
    const evs: PacketEvent[] = [];
    for (let i = 0; i < all.length; i++) evs.push(...d.push(all.subarray(i, i + 1)));
    evs.push(...d.end());
    expect(packets(evs).length).toBe(2);
    expect(rejects(evs)).toEqual([]);
  });
  it("rejects a truncated packet at the end of the frame", () => {
    const evs = new PacketDecoder().frame(Uint8Array.from([...p1, ...p2.subarray(0, 9)]));
    expect(packets(evs).length).toBe(1);
    expect(rejects(evs)).toEqual(["truncated"]);
  });
  it("rejects an oversized length and discards the rest of the frame (no resync in raw CCSDS)", () => {
    const big = encodePrimaryHeader({ version: 0, type: 0, secondaryHeader: true, apid: 1, seqFlags: 3, seqCount: 0, dataLength: 60000 });
    const d = new PacketDecoder({ maxPacket: 1024 });
    const evs = d.frame(Uint8Array.from([...big, ...p1]));
    expect(rejects(evs)).toEqual(["oversized"]);
    expect(packets(evs)).toEqual([]);
    // the next link frame decodes again
    expect(packets(d.frame(p1)).length).toBe(1);
  });
  it("a stream stays lost after a bad header until reset (the link framing resynchronises)", () => {
    const d = new PacketDecoder();
    const bad = Uint8Array.from(p1); bad[0] |= 0x20; // version 1
    expect(rejects(d.push(bad))).toEqual(["version"]);
    expect(rejects(d.push(p1))).toEqual(["desync"]);
    d.reset();
    expect(packets(d.push(p1)).length).toBe(1);
  });
  it("skips unknown APIDs, telecommands, segmented and header-less packets by their length, and idle packets silently", () => {
    const tc = encodePacket({ apid: 0x21, seqCount: 0, timeUs: 0, data: Uint8Array.of(9), type: 1 });
    const seg = Uint8Array.from(p1); seg[2] = (seg[2] & 0x3f) | 0x40;
    const noSec = Uint8Array.from(p1); noSec[0] &= ~0x08;
    const unknown = encodePacket({ apid: 0x5f, seqCount: 0, timeUs: 0, data: Uint8Array.of(1) });
    const short = encodePrimaryHeader({ version: 0, type: 0, secondaryHeader: true, apid: 0x21, seqFlags: 3, seqCount: 0, dataLength: 2 });
    const d = new PacketDecoder({ knownApid: (a) => a !== 0x5f });
    const evs = d.frame(Uint8Array.from([...tc, ...seg, ...noSec, ...unknown, ...short, 0, 0, 0, ...idlePacket(4), ...p2]));
    expect(rejects(evs)).toEqual(["not-telemetry", "segmented", "no-secondary-header", "unknown-apid", "short"]);
    expect(packets(evs).map((p) => p.header.apid)).toEqual([0x28]);
    expect(d.counts.idle).toBe(1);
  });
  it("counts sequence numbers per APID, wrapping at 2^14", () => {
    const s = new SequenceCounter();
    expect([s.take(1), s.take(1), s.take(2), s.take(1)]).toEqual([0, 1, 0, 2]);
    for (let i = 3; i < 16384; i++) s.take(1);
    expect(s.take(1)).toBe(0);
  });
});
