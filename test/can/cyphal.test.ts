import { describe, expect, it } from "vitest";
import {
  crc16, CyphalDecoder, DROP_REASONS, encodeTransfer, frameCount, makeMessageId, makeTail, parseMessageId, parseTail,
  subjectFor, destinationOf, checkSubjectBase, type CanFrame, type DecodeResult,
} from "../../host/transport/can/cyphal.ts";

const bytes = (n: number, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7 + (i >> 3)) & 0xff);
const T0 = 1_000_000;

function feed(d: CyphalDecoder, frames: CanFrame[], t = T0): DecodeResult[] {
  return frames.map((f) => d.push(f, t));
}

describe("Cyphal/CAN CRC-16/CCITT-FALSE", () => {
  it("matches the catalogue check value and has residue 0", () => {
    expect(crc16(new TextEncoder().encode("123456789"))).toBe(0x29b1);
    expect(crc16(new Uint8Array(0))).toBe(0xffff);
    const p = bytes(40);
    const c = crc16(p);
    expect(crc16(Uint8Array.from([...p, c >> 8, c & 0xff]))).toBe(0);
  });
});

describe("Cyphal/CAN IDs and tail bytes", () => {
  it("lays out a message ID like libcanard (heartbeat from node 42 is 107D552A)", () => {
    expect(makeMessageId({ priority: 4, subject: 7509, source: 42 })).toBe(0x107d552a);
    expect(makeMessageId({ priority: 0, subject: 0, source: 0 })).toBe(0x00600000);
    expect(makeMessageId({ priority: 7, subject: 8191, source: 127 })).toBe(0x1c7fff7f);
    expect(parseMessageId(0x107d552a)).toEqual({ ok: true, priority: 4, subject: 7509, source: 42, anonymous: false });
    expect(parseMessageId(0x107d552a | (1 << 24))).toMatchObject({ ok: true, anonymous: true });
    // bits 22-21 are ignored on reception
    expect(parseMessageId(0x107d552a & ~(3 << 21))).toMatchObject({ ok: true, subject: 7509 });
    expect(parseMessageId(0x107d552a | (1 << 25))).toEqual({ ok: false, reason: "service" });
    expect(parseMessageId(0x107d552a | (1 << 23))).toEqual({ ok: false, reason: "not-cyphal" });
    expect(parseMessageId(0x107d552a | (1 << 7))).toEqual({ ok: false, reason: "not-cyphal" });
  });
  it("rejects out-of-range fields", () => {
    expect(() => makeMessageId({ priority: 8, subject: 0, source: 0 })).toThrow(/priority/);
    expect(() => makeMessageId({ priority: 0, subject: 8192, source: 0 })).toThrow(/subject/);
    expect(() => makeMessageId({ priority: 0, subject: 0, source: 128 })).toThrow(/7 bits/);
  });
  it("packs the tail byte SOT|EOT|toggle|transfer-ID", () => {
    expect(makeTail(true, true, true, 0)).toBe(0xe0);
    expect(makeTail(true, false, true, 31)).toBe(0xbf);
    expect(makeTail(false, true, false, 33)).toBe(0x41);
    expect(parseTail(0xa5)).toEqual({ sot: true, eot: false, toggle: true, transferId: 5 });
  });
  it("maps destinations onto subjects base+dst and base+128", () => {
    expect(subjectFor(0)).toBe(4096);
    expect(subjectFor(127)).toBe(4223);
    expect(subjectFor(0xff)).toBe(4224);
    expect(() => subjectFor(128)).toThrow(/0\.\.127/);
    expect(destinationOf(4224)).toBe(0xff);
    expect(destinationOf(4100)).toBe(4);
    expect(destinationOf(4225)).toBeUndefined();
    expect(destinationOf(7509)).toBeUndefined();
    expect(() => checkSubjectBase(6100)).toThrow(/unregulated/);
    expect(() => checkSubjectBase(6015)).not.toThrow();
  });
});

describe("Cyphal/CAN encoder", () => {
  it("sends <= 7 bytes as one frame: payload then tail, no CRC", () => {
    const [f, ...rest] = encodeTransfer(Uint8Array.of(1, 2, 3), { subject: 4097, source: 5, transferId: 9 });
    expect(rest).toEqual([]);
    expect(f.ext).toBe(true);
    expect(f.id).toBe(0x10700105);
    expect([...f.data]).toEqual([1, 2, 3, 0xe9]);
    expect([...encodeTransfer(new Uint8Array(0), { subject: 1, source: 1, transferId: 0 })[0].data]).toEqual([0xe0]);
  });
  it("splits 8 bytes into two frames with a big-endian CRC over the payload", () => {
    const p = Uint8Array.of(0, 1, 2, 3, 4, 5, 6, 7);
    const fr = encodeTransfer(p, { subject: 4096, source: 1, transferId: 3 });
    const crc = crc16(p);
    expect(fr.map((f) => [...f.data])).toEqual([
      [0, 1, 2, 3, 4, 5, 6, 0xa3],
      [7, crc >> 8, crc & 0xff, 0x43],
    ]);
  });
  it("puts a CRC that does not fit the last frame into a frame of its own", () => {
    const p = bytes(13); // 13 + 2 = 15 bytes -> 7 + 7 + 1
    const fr = encodeTransfer(p, { subject: 4096, source: 1, transferId: 0 });
    expect(fr.map((f) => f.data.length)).toEqual([8, 8, 2]);
    expect(fr.map((f) => f.data.at(-1))).toEqual([0xa0, 0x00, 0x60]);
    expect(fr[2].data[0]).toBe(crc16(p) & 0xff);
  });
  it("refuses oversized transfers", () => {
    expect(() => encodeTransfer(new Uint8Array(101), { subject: 1, source: 1, transferId: 0, maxTransfer: 100 })).toThrow(/exceeds/);
  });
});

describe("Cyphal/CAN round trips", () => {
  it("reassembles every size 0..300 and the frame counts match", () => {
    const d = new CyphalDecoder();
    for (let n = 0; n <= 300; n++) {
      const p = bytes(n, n);
      const fr = encodeTransfer(p, { subject: 4096 + (n % 7), source: 10, transferId: n });
      expect(fr.length).toBe(frameCount(n));
      for (const f of fr.slice(0, -1)) expect(f.data.length).toBe(8);
      const res = feed(d, fr, T0 + n * 10_000_000);
      expect(res.slice(0, -1).every((r) => r.kind === "need-more")).toBe(true);
      const last = res.at(-1)!;
      expect(last.kind).toBe("transfer");
      if (last.kind === "transfer") {
        expect([...last.transfer.payload]).toEqual([...p]);
        expect(last.transfer).toMatchObject({ source: 10, subject: 4096 + (n % 7), transferId: n & 31, frames: fr.length, priority: 4 });
      }
    }
    expect(d.dropped).toEqual({});
    expect(d.pending()).toBe(0);
  });
  it("keeps interleaved transfers from different sources and subjects apart", () => {
    const d = new CyphalDecoder();
    const a = encodeTransfer(bytes(50, 1), { subject: 4096, source: 1, transferId: 0 });
    const b = encodeTransfer(bytes(33, 2), { subject: 4096, source: 2, transferId: 0 });
    const c = encodeTransfer(bytes(20, 3), { subject: 4224, source: 1, transferId: 0 });
    const mixed: CanFrame[] = [];
    for (let i = 0; i < 8; i++) for (const s of [a, b, c]) if (s[i]) mixed.push(s[i]);
    const got = feed(d, mixed).filter((r) => r.kind === "transfer");
    expect(got.length).toBe(3);
    expect(d.dropped).toEqual({});
  });
});

describe("Cyphal/CAN drop reasons", () => {
  const multi = (tid = 0, src = 3, n = 19) /* 3 frames */ => encodeTransfer(bytes(n), { subject: 4096, source: src, transferId: tid });
  const drop = (r: DecodeResult) => (r.kind === "drop" ? r.reason : r.kind);

  it("not-cyphal: 11-bit IDs, RTR, empty frames, reserved bits, services", () => {
    const d = new CyphalDecoder();
    const good = multi()[0];
    expect(drop(d.push({ id: 0x123, ext: false, rtr: false, data: Uint8Array.of(0xe0) }, T0))).toBe("not-cyphal");
    expect(drop(d.push({ ...good, rtr: true, data: new Uint8Array(0) }, T0))).toBe("not-cyphal");
    expect(drop(d.push({ ...good, data: new Uint8Array(0) }, T0))).toBe("not-cyphal");
    expect(drop(d.push({ ...good, id: good.id | (1 << 23) }, T0))).toBe("not-cyphal");
    expect(drop(d.push({ ...good, id: good.id | (1 << 25) }, T0))).toBe("not-cyphal");
    expect(d.dropped["not-cyphal"]).toBe(5);
  });
  it("anonymous, unknown-node, own-node-id", () => {
    const d = new CyphalDecoder({ self: 3, knownNodes: [1, 2, 3] });
    const f = encodeTransfer(Uint8Array.of(1), { subject: 4096, source: 9, transferId: 0 })[0];
    expect(drop(d.push({ ...f, id: f.id | (1 << 24) }, T0))).toBe("anonymous");
    expect(drop(d.push(f, T0))).toBe("unknown-node");
    expect(drop(d.push({ ...f, id: (f.id & ~0x7f) | 3 }, T0))).toBe("own-node-id");
    expect(drop(d.push({ ...f, id: (f.id & ~0x7f) | 2 }, T0))).toBe("transfer");
  });
  it("missing-start, wrong-transfer-id, bad-toggle (duplicated frame), then completes", () => {
    const d = new CyphalDecoder();
    const fr = multi(5);
    expect(drop(d.push(fr[1], T0))).toBe("missing-start");
    expect(drop(d.push(fr[0], T0))).toBe("need-more");
    const other = multi(6)[1];
    expect(drop(d.push(other, T0))).toBe("wrong-transfer-id");
    expect(drop(d.push(fr[1], T0))).toBe("need-more");
    expect(drop(d.push(fr[1], T0))).toBe("bad-toggle"); // a repeated frame
    expect(drop(d.push(fr[2], T0))).toBe("transfer");
    expect(d.dropped).toEqual({ "missing-start": 1, "wrong-transfer-id": 1, "bad-toggle": 1 });
  });
  it("bad-toggle on a first frame with toggle 0", () => {
    const d = new CyphalDecoder();
    const f = multi()[0];
    const data = f.data.slice(); data[7] &= ~0x20;
    expect(drop(d.push({ ...f, data }, T0))).toBe("bad-toggle");
  });
  it("crc: one flipped bit anywhere in a multi-frame transfer", () => {
    const d = new CyphalDecoder();
    for (let bit = 0; bit < 7 * 8; bit++) {
      const fr = multi(bit & 31, 3, 19); // 3 frames: 7 + 7 + (5 + CRC)
      const i = Math.floor(bit / 56) + (bit % 3); // spread over the frames
      const data = fr[i].data.slice();
      data[(bit >> 3) % (data.length - 1)] ^= 1 << (bit & 7);
      fr[i] = { ...fr[i], data };
      const res = feed(d, fr, T0 + bit * 3_000_000);
      expect(drop(res.at(-1)!)).toBe("crc");
    }
    expect(d.dropped.crc).toBe(56);
  });
  it("oversized: multi-frame and single-frame transfers over the maximum", () => {
    const d = new CyphalDecoder({ maxTransfer: 16 });
    const res = feed(d, encodeTransfer(bytes(30), { subject: 4096, source: 1, transferId: 0 }));
    expect(res.map(drop)).toEqual(["need-more", "need-more", "oversized", "missing-start", "missing-start"]);
    const d2 = new CyphalDecoder({ maxTransfer: 4 });
    expect(drop(d2.push(encodeTransfer(bytes(5), { subject: 1, source: 1, transferId: 0 })[0], T0))).toBe("oversized");
  });
  it("duplicate: a repeated transfer-ID within the timeout, accepted again after it", () => {
    const d = new CyphalDecoder({ transferIdTimeout: 1000 });
    const f = encodeTransfer(Uint8Array.of(1), { subject: 4096, source: 1, transferId: 7 })[0];
    expect(drop(d.push(f, T0))).toBe("transfer");
    expect(drop(d.push(f, T0 + 500))).toBe("duplicate");
    expect(drop(d.push(f, T0 + 2000))).toBe("transfer");
    const fr = multi(8, 1);
    expect(drop(d.push(fr[0], T0 + 3000))).toBe("need-more");
    expect(drop(d.push(fr[0], T0 + 3000))).toBe("duplicate"); // repeated first frame
  });
  it("timeout: a continuation after the transfer-ID timeout; expire() frees stale partials", () => {
    const d = new CyphalDecoder({ transferIdTimeout: 1000 });
    const fr = multi(1);
    d.push(fr[0], T0);
    expect(drop(d.push(fr[1], T0 + 5000))).toBe("timeout");
    expect(drop(d.push(fr[2], T0 + 5000))).toBe("missing-start");
    d.push(fr[0], T0 + 10_000_000);
    expect(d.pending()).toBe(1);
    expect(d.expire(T0 + 10_000_500)).toBe(0);
    expect(d.expire(T0 + 10_002_000)).toBe(1);
    expect(d.pending()).toBe(0);
    expect(d.dropped.timeout).toBe(2);
  });
  it("interrupted: a new transfer replaces an unfinished one", () => {
    const d = new CyphalDecoder();
    const a = multi(1), b = multi(2);
    d.push(a[0], T0);
    expect(drop(d.push(b[0], T0))).toBe("need-more");
    expect(d.dropped.interrupted).toBe(1);
    expect(feed(d, b.slice(1)).map(drop).at(-1)).toBe("transfer");
  });
  it("bad-frame-length: a short first or middle frame", () => {
    const d = new CyphalDecoder();
    const fr = multi(1);
    expect(drop(d.push({ ...fr[0], data: fr[0].data.subarray(1) }, T0))).toBe("bad-frame-length");
    d.push(fr[0], T0);
    const mid = fr[1].data.slice(2);
    expect(drop(d.push({ ...fr[1], data: mid }, T0))).toBe("bad-frame-length");
    expect(d.pending()).toBe(0);
  });
  it("ignored: subjects the node does not listen to are not drops", () => {
    const d = new CyphalDecoder({ accept: (s) => s === 4096 });
    const r = d.push(encodeTransfer(Uint8Array.of(1), { subject: 4097, source: 1, transferId: 0 })[0], T0);
    expect(r).toEqual({ kind: "ignored", subject: 4097 });
    expect(d.ignored).toBe(1);
    expect(d.dropped).toEqual({});
  });
  it("fd-mismatch: an FD frame on a classic link (more tests in fd.test.ts)", () => {
    const d = new CyphalDecoder();
    expect(drop(d.push(encodeTransfer(bytes(20), { subject: 4096, source: 1, transferId: 0, mtu: 64 })[0], T0))).toBe("fd-mismatch");
  });
  it("every reason is covered by a test above", () => {
    expect([...DROP_REASONS].sort()).toEqual([
      "anonymous", "bad-frame-length", "bad-toggle", "crc", "duplicate", "fd-mismatch", "interrupted", "missing-start",
      "not-cyphal", "oversized", "own-node-id", "timeout", "unknown-node", "wrong-transfer-id",
    ]);
  });
  it("survives random frames without throwing and bounds its memory", () => {
    const d = new CyphalDecoder({ maxTransfer: 256 });
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (let i = 0; i < 20000; i++) {
      const len = Math.floor(rnd() * 9);
      const data = Uint8Array.from({ length: len }, () => Math.floor(rnd() * 256));
      const id = (0x00600000 | (Math.floor(rnd() * 4) << 8) | Math.floor(rnd() * 4)) ^ (rnd() < 0.05 ? 1 << 23 : 0);
      d.push({ id, ext: rnd() > 0.02, rtr: rnd() < 0.01, data }, T0 + i);
    }
    expect(d.pending()).toBeLessThanOrEqual(16);
  });
});
