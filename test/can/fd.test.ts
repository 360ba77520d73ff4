// CAN FD (Cyphal/CAN FD rules), bundles and compact transfers (host/transport/can/bundle.ts),
// bus bit counting (bits.ts), SLCAN FD lines and SocketCAN FD set-up checks.
import { describe, expect, it } from "vitest";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  crc16, CyphalDecoder, encodeTransfer, FD_LENGTHS, fdLength, frameCount, makeTail, type CanFrame, type DecodeResult,
} from "../../host/transport/can/cyphal.ts";
import { MockCanNetwork, parseCanIface, SocketCanBus, socketCanMtu } from "../../host/transport/can/bus.ts";
import { CanTransport } from "../../host/transport/can/transport.ts";
import { CompactDecoder, CompactEncoder, decodePlain, encodePlain } from "../../host/transport/can/bundle.ts";
import { classicFrameBits, crc15Bits, fdFrameBits } from "../../host/transport/can/bits.ts";
import { dataBitrateCommand, encodeFrame, parseLine } from "../../host/transport/can/slcan.ts";
import { BROADCAST } from "../../host/transport/types.ts";
import { ProfileError, validateProfile } from "../../host/board/profile.ts";
import { linkSpecOf } from "../../host/board/multilink.ts";

const bytes = (n: number, seed = 1) => Uint8Array.from({ length: n }, (_, i) => ((i * 31 + seed * 7 + (i >> 3)) & 0xff) || 1);
const T0 = 1_000_000;
const O = { subject: 4098, source: 1, transferId: 5, mtu: 64 as const, maxTransfer: 1 << 16 };

/** Every payload size that puts a frame length on or next to an FD length boundary, single and multi-frame. */
function boundarySizes(): number[] {
  const s = new Set<number>();
  for (const l of FD_LENGTHS) for (const d of [-2, -1, 0, 1]) { const n = l - 1 + d; if (n >= 0) s.add(n); }
  for (let k = 1; k <= 3; k++) for (const l of FD_LENGTHS) for (const d of [-1, 0, 1]) { const n = 63 * k - 2 + l - 1 + d; if (n > 0) s.add(n); }
  return [...s].sort((a, b) => a - b);
}

describe("Cyphal/CAN FD framing", () => {
  it("fdLength rounds up to the FD lengths", () => {
    expect([0, 8, 9, 12, 13, 17, 21, 25, 33, 49, 64].map(fdLength)).toEqual([0, 8, 12, 12, 16, 20, 24, 32, 48, 64, 64]);
    expect(() => fdLength(65)).toThrow(/at most 64/);
  });
  it("single frame: payload, zero padding, tail; lengths valid; the decoder returns payload + padding", () => {
    for (let n = 0; n <= 63; n++) {
      const p = bytes(n);
      const fr = encodeTransfer(p, O);
      expect(fr).toHaveLength(1);
      const d = fr[0].data;
      expect(d.length).toBe(fdLength(n + 1));
      expect(fr[0].fd).toBe(true);
      expect([...d.subarray(0, n)]).toEqual([...p]);
      expect([...d.subarray(n, d.length - 1)].every((x) => x === 0)).toBe(true);
      expect(d[d.length - 1]).toBe(makeTail(true, true, true, 5));
      const r = new CyphalDecoder({ mtu: 64 }).push(fr[0], T0);
      expect(r.kind).toBe("transfer");
      if (r.kind === "transfer") expect([...r.transfer.payload]).toEqual([...d.subarray(0, d.length - 1)]);
    }
  });
  it("an exact vector: 70 bytes = a 64-byte frame, then 7 payload bytes + 2 padding + CRC (over the padding) + tail in a 12-byte frame", () => {
    const p = bytes(70);
    const fr = encodeTransfer(p, O);
    expect(fr.map((f) => f.data.length)).toEqual([64, 12]);
    expect([...fr[0].data.subarray(0, 63)]).toEqual([...p.subarray(0, 63)]);
    expect(fr[0].data[63]).toBe(makeTail(true, false, true, 5));
    const last = fr[1].data;
    expect([...last.subarray(0, 7)]).toEqual([...p.subarray(63)]);
    expect([last[7], last[8]]).toEqual([0, 0]);
    const crc = crc16(Uint8Array.from([...p, 0, 0]));
    expect([last[9], last[10]]).toEqual([crc >> 8, crc & 0xff]);
    expect(last[11]).toBe(makeTail(false, true, false, 5));
    // the CRC straddling two frames: 62 + 2 = 64 bytes -> 63 (payload + CRC high) and CRC low + tail
    expect(encodeTransfer(bytes(125), O).map((f) => f.data.length)).toEqual([64, 64, 2]);
  });
  it("multi-frame round trip at every FD length boundary: non-last frames 64 bytes, the last a valid length, CRC checked", () => {
    for (const n of boundarySizes().filter((x) => x >= 64)) {
      const p = bytes(n, n);
      const fr = encodeTransfer(p, O);
      expect(fr.length).toBe(frameCount(n, 64));
      fr.slice(0, -1).forEach((f) => expect(f.data.length).toBe(64));
      expect(FD_LENGTHS).toContain(fr[fr.length - 1].data.length);
      const d = new CyphalDecoder({ mtu: 64 });
      const rs = fr.map((f) => d.push(f, T0));
      const last = rs[rs.length - 1];
      expect(last.kind, `size ${n}`).toBe("transfer");
      if (last.kind !== "transfer") continue;
      const got = last.transfer.payload;
      expect([...got.subarray(0, n)]).toEqual([...p]);
      expect(got.length - n).toBeLessThan(64); // padding only
      expect([...got.subarray(n)].every((x) => x === 0)).toBe(true);
      // a flipped bit anywhere is caught by the CRC
      const bad = fr.map((f) => ({ ...f, data: f.data.slice() }));
      bad[bad.length - 1].data[0] ^= 0x10;
      const d2 = new CyphalDecoder({ mtu: 64 });
      const r2 = bad.map((f) => d2.push(f, T0));
      expect(r2[r2.length - 1]).toMatchObject({ kind: "drop", reason: "crc" });
    }
  });
  it("fd-mismatch: a classic decoder refuses FD frames and an FD decoder refuses classic frames and classic transfers", () => {
    const drop = (r: DecodeResult) => (r.kind === "drop" ? r.reason : r.kind);
    const fdFr = encodeTransfer(bytes(30), O);
    expect(drop(new CyphalDecoder().push(fdFr[0], T0))).toBe("fd-mismatch");
    const cl = encodeTransfer(bytes(30), { ...O, mtu: 8 });
    expect(drop(new CyphalDecoder({ mtu: 64 }).push({ ...cl[0], fd: false }, T0))).toBe("fd-mismatch");
    // frames whose FD flag is unknown (SocketCAN, <= 8 bytes): a classic multi-frame transfer's 8-byte first frame
    expect(drop(new CyphalDecoder({ mtu: 64 }).push(cl[0], T0))).toBe("fd-mismatch");
  });
});

describe("bundles and compact transfers", () => {
  it("plain bundle: lengths, frames, zero padding; malformed ones refused", () => {
    const fs = [bytes(3), bytes(130, 2), bytes(1, 3)];
    const b = encodePlain(fs);
    expect([...b.subarray(0, 5)]).toEqual([0xfe, 3, ...fs[0]]);
    expect(b[5]).toBe(0x82); expect(b[6]).toBe(0x01); // 130 as a varint
    const padded = Uint8Array.from([...b, 0, 0, 0]);
    const r = decodePlain(padded);
    expect("frames" in r && r.frames.map((f) => [...f])).toEqual(fs.map((f) => [...f]));
    expect(decodePlain(Uint8Array.from([...b, 0, 7]))).toMatchObject({ reason: "bundle-malformed" });
    expect(decodePlain(Uint8Array.of(0xfe, 5, 1, 2))).toMatchObject({ reason: "bundle-malformed" });
    expect(decodePlain(Uint8Array.of(0xfe, 0x80, 0x00, 1))).toMatchObject({ reason: "bundle-malformed" }); // non-canonical length
    expect(decodePlain(Uint8Array.of(0x00, 0x05, 1))).toMatchObject({ reason: "mode-mismatch" });
  });
  it("compact: exact bytes of a raw and a delta record", () => {
    const e = new CompactEncoder();
    const a = Uint8Array.of(0x10, 0x05, 3, 0, 1, 2, 3, 4, 5, 6);
    expect([...e.encode([a])]).toEqual([0xfd, 0x01, 10, ...a]); // a stream's first transfer: FD; raw into slot 1, generation 0
    const b = a.slice(); b[1] = 6; b[9] = 7;
    expect([...e.encode([a])]).toEqual([0xfd, 0x01, 10, ...a]); // the second transfer is a reset transfer too: raw records only
    // delta against slot 1, generation 1: mask bytes 0b00000010, 0b00000010, then the changed bytes; third transfer: count 2
    expect([...e.encode([b])]).toEqual([0xf2, 0x80 | (1 << 4) | 1, 0x02, 0x02, 6, 7]);
    // the same frame twice in one transfer: the second is a delta against the previous record (tag 80), kept in no slot
    expect([...e.encode([b, b])]).toEqual([0xf3, 0x80 | (2 << 4) | 1, 0x00, 0x00, 0x80, 0x00, 0x00]);
    // a slot changes at most once per transfer: a third frame like b, but not like the previous record, goes raw into another slot
    const c = b.slice(); c[0] = 0x11;
    const t = e.encode([b, a.subarray(0, 3), c]);
    expect([...t.subarray(0, 4)]).toEqual([0xf4, 0x80 | (3 << 4) | 1, 0x00, 0x00]);
    expect(t[4]).toBe(0x02); // a's 3 bytes: raw into slot 2
    expect(t[9]).toBe(0x03); // c: raw into slot 3 (slot 1, the one like it, changed already in this transfer)
    const d = new CompactDecoder();
    expect(d.decode(Uint8Array.of(0xfd, 0x70, 2, 9, 9), 0).frames.map((f) => [...f])).toEqual([[9, 9]]); // tag 70: a raw frame no slot keeps
  });
  it("compact: after a few lost transfers only the slots they changed are refused; after many, every slot", () => {
    const e = new CompactEncoder(100), d = new CompactDecoder();
    const A = bytes(12, 1), B = bytes(20, 2);
    let tid = 0;
    const step = (frames: Uint8Array[], lose = false) => { const t = e.encode(frames); const id = tid++ & 31; return lose ? undefined : d.decode(t, id); };
    for (let k = 0; k < 4; k++) { A[0] = k; B[0] = k; step([A.slice(), B.slice()]); }
    A[1] = 99; step([A.slice()], true); // lost: changed A's slot only
    B[0] = 50; A[1] = 98;
    const r = step([B.slice(), A.slice()]);
    expect(r!.frames.map((f) => [...f])).toEqual([[...B]]); // B decodes; A is refused (its slot's generation moved)
    expect(r!.error?.reason).toBe("compact-ref");
    for (let k = 0; k < 8; k++) step([B.slice()], true); // 8 lost transfers: more than the generations tell
    B[0] = 51;
    const r2 = step([B.slice()]);
    expect(r2!.frames).toEqual([]);
    expect(r2!.error?.reason).toBe("compact-ref");
  });
  it("compact: long random-walk streams decode to the very frames sent", () => {
    let seed = 99;
    const rnd = () => { seed = (seed * 1103515245 + 12345) >>> 0; return seed / 2 ** 32; };
    const e = new CompactEncoder(), d = new CompactDecoder();
    const wires = Array.from({ length: 20 }, (_, w) => bytes(4 + (w % 9) * 5, w));
    let tid = 0;
    for (let t = 0; t < 2000; t++) {
      const batch: Uint8Array[] = [];
      for (let k = 0, n = 1 + Math.floor(rnd() * 4); k < n; k++) {
        const w = wires[Math.floor(rnd() * wires.length)];
        for (let j = 0; j < w.length; j++) if (rnd() < 0.2) w[j] = Math.floor(rnd() * 256);
        batch.push(w.slice());
      }
      const out = d.decode(e.encode(batch), tid++ & 31);
      expect(out.error).toBeUndefined();
      expect(out.frames.map((f) => [...f])).toEqual(batch.map((f) => [...f]));
    }
  });
  it("compact: a lost transfer never yields a wrong frame; every slot is refreshed within keyEvery records", () => {
    const e = new CompactEncoder(8), d = new CompactDecoder();
    const f = bytes(20);
    let tid = 0;
    const sent: number[][] = [], got: number[][] = [];
    let refused = 0;
    for (let k = 0; k < 100; k++) {
      f[0] = k; f[7] = k * 3;
      const t = e.encode([f]);
      sent.push([...f]);
      if (k === 30) { tid++; continue; } // lost on the bus
      const r = d.decode(t, tid++ & 31);
      if (r.error) { expect(r.error.reason).toBe("compact-ref"); refused++; } else got.push(...r.frames.map((x) => [...x]));
    }
    expect(refused).toBeGreaterThan(0);
    expect(refused).toBeLessThanOrEqual(8);
    // what was delivered is exactly the sent sequence minus the lost and refused ones, in order
    const lostOrRefused = new Set([30, ...Array.from({ length: refused }, (_, i) => 31 + i)]);
    expect(got).toEqual(sent.filter((_, i) => !lostOrRefused.has(i)));
  });
  it("random bytes: the FD reassembler, plain bundles and compact decoding never throw", () => {
    let seed = 7;
    const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) >>> 0; return Math.floor((seed / 2 ** 32) * n); };
    const cd = new CyphalDecoder({ mtu: 64, maxTransfer: 300 }), comp = new CompactDecoder();
    for (let i = 0; i < 5000; i++) {
      const len = rnd(3) === 0 ? rnd(80) : FD_LENGTHS[rnd(16)];
      const data = Uint8Array.from({ length: len }, () => rnd(256));
      if (rnd(2)) data[0] = 0xf0 + rnd(16);
      const f: CanFrame = { id: (rnd(2) ? 0x10700201 : rnd(0x20000000)) >>> 0, ext: rnd(10) > 0, rtr: rnd(20) === 0, data, fd: rnd(4) ? true : undefined };
      expect(() => cd.push(f, T0 + i)).not.toThrow();
      expect(() => decodePlain(data)).not.toThrow();
      expect(() => comp.decode(data, rnd(32))).not.toThrow();
    }
  });
  it("compact: a slot unused for refreshUs travels raw (a retransmission after a loss decodes)", () => {
    const e = new CompactEncoder(16, 300_000), d = new CompactDecoder();
    const f = bytes(20);
    let tid = 0;
    for (const t of [0, 1, 2]) d.decode(e.encode([f], t * 10_000), tid++);
    f[3] = 77;
    const lost = e.encode([f], 40_000); tid++; void lost; // lost on the bus
    expect(d.decode(e.encode([f], 240_000), tid++).error?.reason).toBe("compact-ref"); // 200 ms later: still a delta, refused
    const r = d.decode(e.encode([f], 700_000), tid++); // 460 ms after the slot's last use: raw
    expect(r.error).toBeUndefined();
    expect(r.frames.map((x) => [...x])).toEqual([[...f]]);
  });
  it("compact: malformed transfers are refused, not thrown", () => {
    const d = new CompactDecoder();
    for (const p of [[0xf0, 0x01], [0xf0, 0x01, 5, 1], [0xf0, 0x00, 1], [0xf0, 0x02, 1, 9, 0, 3], [0xf0, 0x91, 0xff], [0xfe, 3, 1, 2, 3], [0x10, 0x05], [0xfd, 0x70, 0], [0xf0, 0x80, 1]]) {
      const r = d.decode(Uint8Array.from(p), 0);
      expect(r.error, JSON.stringify(p)).toBeDefined();
    }
  });
});

/** n nodes on a mock bus in one mode; frames delivered per receiver. */
function bus(modes: { fd?: boolean; compact?: boolean }[]) {
  const net = new MockCanNetwork();
  const logs: string[] = [];
  const ts = modes.map((m, i) => new CanTransport(net.attach(`n${i + 1}`, { fd: m.fd }), i + 1, { ...m, log: (l) => logs.push(l) }));
  const got = ts.map(() => [] as { src: number; data: number[] }[]);
  ts.forEach((t, i) => t.onFrame((src, f) => got[i].push({ src, data: [...f] })));
  return { net, ts, got, logs };
}

describe("CanTransport in FD and compact modes over the mock bus", () => {
  for (const mode of [{ fd: true }, { compact: true }, { fd: true, compact: true }]) {
    it(`${JSON.stringify(mode)}: every boundary size, unicast and broadcast, coalesced, delivered exactly and in order`, async () => {
      const { net, ts, got } = bus([mode, mode, mode]);
      const sent: { from: number; to: number; data: number[] }[] = [];
      const sizes = boundarySizes();
      for (let k = 0; k < sizes.length; k++) {
        const n = Math.max(1, sizes[k]);
        for (const [from, to] of [[1, 2], [1, 2], [3, BROADCAST], [2, 3]] as const) {
          const p = bytes(n, k + from);
          ts[from - 1].send(to, p);
          sent.push({ from, to, data: [...p] });
        }
        if (k % 3 === 0) await net.settle();
      }
      await net.settle();
      for (const [i, node] of [1, 2, 3].entries()) {
        const expected = sent.filter((s) => s.to === node || (s.to === BROADCAST && s.from !== node)).map((s) => ({ src: s.from, data: s.data }));
        // per-source order (frames of different senders interleave on a bus in any order)
        for (const src of [1, 2, 3]) expect(got[i].filter((g) => g.src === src)).toEqual(expected.filter((g) => g.src === src));
        expect(got[i].length).toBe(expected.length);
      }
      for (const t of ts) expect(t.stats().dropped).toEqual({});
      if (mode.fd) expect(net.frames.every((r) => r.frame.fd && FD_LENGTHS.includes(r.frame.data.length))).toBe(true);
      else expect(net.frames.every((r) => !r.frame.fd && r.frame.data.length <= 8)).toBe(true);
      await Promise.all(ts.map((t) => t.close()));
    });
  }
  it("compact classic needs fewer CAN frames than today's encoding for repetitive traffic", async () => {
    const count = async (mode: { compact?: boolean }) => {
      const { net, ts } = bus([mode, mode]);
      const f = bytes(28);
      for (let k = 0; k < 50; k++) { f[0] = k; ts[0].send(2, f.slice()); ts[0].send(2, f.slice()); await net.settle(); }
      const n = net.frames.length;
      await Promise.all(ts.map((t) => t.close()));
      return n;
    };
    const before = await count({}), after = await count({ compact: true });
    expect(before).toBe(50 * 2 * 5);
    expect(after).toBeLessThan(before / 2.5);
  });
  it("a classic peer on an FD link, and the reverse, are refused clearly, naming the link and what to do", async () => {
    const { net, ts, got, logs } = bus([{ fd: true }, {}]);
    ts[1].send(1, bytes(20)); // classic multi-frame to the FD node
    ts[0].send(2, bytes(20)); // FD to the classic node
    await net.settle();
    expect(got[0]).toEqual([]); expect(got[1]).toEqual([]);
    expect(ts[0].stats().dropped["fd-mismatch"]).toBeGreaterThan(0);
    expect(ts[1].stats().dropped["fd-mismatch"]).toBeGreaterThan(0);
    expect(ts[0].lastError?.message).toMatch(/CAN link 'n1' \(fd\).*classic CAN.*same CAN mode/);
    expect(ts[1].lastError?.message).toMatch(/CAN link 'n2' \(classic\).*FD frame.*same CAN mode/);
    // a short classic transfer (single frame, FD flag unknown as on SocketCAN) reaches the bundle check
    const { net: n2, ts: t2, got: g2 } = bus([{ fd: true }, {}]);
    const raw = net.attach("raw"); void raw;
    t2[1].send(1, Uint8Array.of(0x21, 7, 2));
    await n2.settle();
    expect(g2[0]).toEqual([]);
    expect(t2[0].stats().dropped["fd-mismatch"] ?? t2[0].stats().dropped["mode-mismatch"]).toBeGreaterThan(0);
    // compact against plain on classic CAN
    const { net: n3, ts: t3, got: g3, logs: l3 } = bus([{ compact: true }, {}]);
    t3[0].send(2, bytes(10)); t3[1].send(1, bytes(10));
    await n3.settle();
    expect(g3).toEqual([[], []]);
    expect(t3[0].stats().dropped["mode-mismatch"]).toBe(1);
    expect(t3[1].stats().dropped["mode-mismatch"]).toBe(1);
    expect(l3.join("\n")).toMatch(/node 2 sends a plain GSU transfer/);
    expect(t3[1].lastError?.message).toMatch(/node 1 sends a compact transfer/);
    expect(logs.length).toBeGreaterThan(0);
    for (const t of [...ts, ...t2, ...t3]) await t.close();
  });
  it("a mock node not set up for FD cannot send FD frames", () => {
    const net = new MockCanNetwork();
    const t = new CanTransport(net.attach("x"), 1, { fd: true });
    expect(() => net.attach("y").send(encodeTransfer(bytes(3), O)[0])).toThrow(/not set up for CAN FD/);
    void t.close();
  });
});

describe("link specs and SocketCAN / SLCAN FD set-up", () => {
  it("parses +fd, +fd=RATE and +compact", () => {
    expect(parseCanIface("can0+fd")).toEqual({ kind: "socketcan", iface: "can0", fd: true });
    expect(parseCanIface("vcan0+compact")).toEqual({ kind: "socketcan", iface: "vcan0", compact: true });
    expect(parseCanIface("slcan:/dev/ttyACM0@500000+fd")).toEqual({ kind: "slcan", path: "/dev/ttyACM0", bitrate: 500000, fd: true, dataBitrate: 2000000 });
    expect(parseCanIface("slcan:/dev/ttyACM0@1M+fd=5M+compact")).toMatchObject({ fd: true, dataBitrate: 5000000, compact: true });
    expect(() => parseCanIface("slcan:/dev/ttyACM0+fd=4M")).toThrow(/2000000, 5000000/);
    expect(() => parseCanIface("can0+fd=2M")).toThrow(/dbitrate/);
    expect(() => parseCanIface("can0+fast")).toThrow(/unknown mode '\+fast'/);
  });
  it("SocketCAN: an interface whose MTU is not 72 is refused for FD with the ip link commands to fix it", async () => {
    const sys = mkdtempSync(join(tmpdir(), "gsu-sys-"));
    mkdirSync(join(sys, "can7")); writeFileSync(join(sys, "can7", "mtu"), "16\n");
    mkdirSync(join(sys, "can8")); writeFileSync(join(sys, "can8", "mtu"), "72\n");
    expect(socketCanMtu("can7", sys)).toBe(16);
    expect(socketCanMtu("can8", sys)).toBe(72);
    await expect(SocketCanBus.open("can7", { fd: true, sys })).rejects.toThrow(/'can7' cannot carry CAN FD frames \(MTU 16.*dbitrate 2000000 fd on.*mtu 72.*drop '\+fd'/);
  });
  it("SLCAN FD lines: d/D/b/B with a hex DLC, Y2/Y5; parse(encode(f)) = f at every FD length", () => {
    expect(dataBitrateCommand(2_000_000)).toBe("Y2\r");
    expect(dataBitrateCommand(5_000_000)).toBe("Y5\r");
    expect(() => dataBitrateCommand(4_000_000)).toThrow(/Y2, Y5/);
    expect(encodeFrame({ id: 0x10700201, ext: true, rtr: false, fd: true, brs: true, data: Uint8Array.from({ length: 12 }, (_, i) => i) })).toBe("B107002019000102030405060708090A0B\r");
    expect(encodeFrame({ id: 0x123, ext: false, rtr: false, fd: true, brs: false, data: Uint8Array.of(0xaa) })).toBe("d1231AA\r");
    for (const len of FD_LENGTHS) for (const [ext, brs] of [[true, true], [true, false], [false, true], [false, false]]) {
      const f: CanFrame = { id: ext ? 0x1abcdef : 0x7ff, ext, rtr: false, fd: true, brs, data: bytes(len, len) };
      const line = encodeFrame(f);
      expect(parseLine(line.slice(0, -1))).toEqual({ type: "frame", frame: { ...f, data: f.data.slice() } });
    }
    expect(parseLine("D107002019000102")).toMatchObject({ type: "garbage" }); // DLC 9 = 12 bytes, 3 given
  });
});

describe("board profiles: CAN modes per link", () => {
  const prof = (links: unknown[]) => validateProfile({ name: "pi-1", node: 1, links, stateDir: "/var/lib/gsu" }, "test.json", "/etc/gsu");
  it("fd, compact and an SLCAN data bitrate become the link spec", () => {
    const p = prof([
      { kind: "socketcan", iface: "can0", bitrate: 500000, fd: true },
      { kind: "slcan", path: "/dev/ttyACM0", bitrate: 500000, fd: true, dataBitrate: 5000000, compact: true },
      { kind: "socketcan", iface: "can1", bitrate: 500000, compact: true },
      { kind: "socketcan", iface: "can2", bitrate: 500000 },
    ]);
    expect(p.links.map(linkSpecOf)).toEqual(["can0+fd", "slcan:/dev/ttyACM0@500000+fd=5000000+compact", "can1+compact", "can2"]);
    for (const s of p.links.map(linkSpecOf)) expect(() => parseCanIface(s)).not.toThrow();
  });
  it("refuses fd on a serial link, a data bitrate without fd or not Y2/Y5, a non-boolean mode, naming the field", () => {
    const bad = (links: unknown[], re: RegExp) => {
      let e: unknown;
      try { prof(links); } catch (x) { e = x; }
      expect(e).toBeInstanceOf(ProfileError);
      expect((e as Error).message).toMatch(re);
    };
    bad([{ kind: "serial", path: "/dev/ttyS0", baud: 115200, fd: true }], /links\[0\].*fd/);
    bad([{ kind: "slcan", path: "/dev/ttyACM0", bitrate: 500000, dataBitrate: 2000000 }], /links\[0\]\.dataBitrate.*only with "fd": true/);
    bad([{ kind: "slcan", path: "/dev/ttyACM0", bitrate: 500000, fd: true, dataBitrate: 4000000 }], /links\[0\]\.dataBitrate/);
    bad([{ kind: "socketcan", iface: "can0", bitrate: 500000, fd: "yes" }], /links\[0\]\.fd.*true or false/);
  });
});

describe("bus bits", () => {
  /** An independent stuffer: writes the stuffed bit string out and counts its length. */
  function stuffedLength(bits: number[]): number {
    const out: number[] = [];
    let run = 0, last = -1;
    for (const b of bits) {
      out.push(b);
      run = b === last ? run + 1 : 1; last = b;
      if (run === 5) { out.push(1 - b); last = 1 - b; run = 1; }
    }
    return out.length;
  }
  it("CRC-15/CAN check value and classic frames' exact stuffing", () => {
    const msg = [..."123456789"].flatMap((c) => Array.from({ length: 8 }, (_, i) => (c.charCodeAt(0) >> (7 - i)) & 1));
    expect(crc15Bits(msg)).toBe(0x059e); // CRC-15/CAN check value
    for (const [id, data] of [[0, []], [0x1fffffff, [0xff, 0xff]], [0x10700201, [0, 0, 0, 0, 0, 0, 0, 0]], [0x10700201, [0x55, 0xaa, 0x0f, 0xf0, 1, 2, 3, 0xe0]]] as const) {
      const f: CanFrame = { id, ext: true, rtr: false, data: Uint8Array.from(data) };
      const b = classicFrameBits(f);
      const bits: number[] = [0];
      for (let i = 10; i >= 0; i--) bits.push((id >>> (18 + i)) & 1);
      bits.push(1, 1);
      for (let i = 17; i >= 0; i--) bits.push((id >>> i) & 1);
      bits.push(0, 0, 0);
      for (let i = 3; i >= 0; i--) bits.push((data.length >> i) & 1);
      for (const x of data) for (let i = 7; i >= 0; i--) bits.push((x >> i) & 1);
      const crc = crc15Bits(bits);
      for (let i = 14; i >= 0; i--) bits.push((crc >> i) & 1);
      expect(b.nominal).toBe(stuffedLength(bits) + 13);
      expect(b.stuff).toBeLessThanOrEqual(Math.floor((54 + 8 * data.length - 1) / 4)); // the worst case bounds it
    }
  });
  it("FD frames: the data phase at the data rate, fixed stuff bits, CRC-17 up to 16 bytes and CRC-21 above", () => {
    const f = (n: number): CanFrame => ({ id: 0x10700201, ext: true, rtr: false, fd: true, brs: true, data: bytes(n) });
    const b8 = fdFrameBits(f(8)), b20 = fdFrameBits(f(20)), b64 = fdFrameBits(f(64));
    // 36 arbitration bits + 12 after the CRC delimiter at the nominal rate, plus their stuff bits
    for (const b of [b8, b20, b64]) expect(b.nominal).toBeGreaterThanOrEqual(48);
    expect(b8.data - 8 * 8).toBeGreaterThanOrEqual(1 + 4 + 4 + 17 + 6 + 1);
    expect(b20.data - 20 * 8).toBeGreaterThanOrEqual(1 + 4 + 4 + 21 + 7 + 1);
    expect(b64.data).toBeLessThan(64 * 8 + 38 + 64 * 8 / 4);
    const nobrs = fdFrameBits(f(64), false);
    expect(nobrs.data).toBe(0);
    expect(nobrs.nominal).toBe(b64.nominal + b64.data);
  });
});
