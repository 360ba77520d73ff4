// Byte-stream framing: CRC-32, COBS vectors and round trips, the envelope, the
// streaming decoder's resynchronisation and every drop reason, and the link layer.
import { describe, expect, it } from "vitest";
import { crc32, crc32IsNative, crc32Table } from "../../host/transport/framing/crc32.ts";
import { cobsDecode, cobsEncode, cobsMaxEncoded } from "../../host/transport/framing/cobs.ts";
import { CTL_SINGLE, CTL_SOT, CTL_EOT, ENVELOPE_OVERHEAD, encodeWireFrame, packEnvelope, segment, unpackEnvelope } from "../../host/transport/framing/envelope.ts";
import { WireDecoder, type WireEvent } from "../../host/transport/framing/decoder.ts";
import { FrameLink } from "../../host/transport/framing/link.ts";
import { BROADCAST } from "../../host/transport/types.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const bytes = (h: string) => new Uint8Array(Buffer.from(h.replace(/\s/g, ""), "hex"));
function rand(seed: number) { let s = seed >>> 0; return () => { s = (s + 0x6d2b79f5) >>> 0; let t = s; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32; }; }
function events(d: WireDecoder, chunk: Uint8Array): WireEvent[] { const out: WireEvent[] = []; d.push(chunk, (e) => out.push(e)); return out; }

describe("CRC-32/ISO-HDLC", () => {
  it("matches the catalogue check value and zlib", () => {
    const check = new TextEncoder().encode("123456789");
    expect(crc32Table(check)).toBe(0xcbf43926);
    expect(crc32(check)).toBe(0xcbf43926);
    expect(crc32IsNative).toBe(true); // Node 20.20 has zlib.crc32
    expect(crc32Table(new Uint8Array(0))).toBe(0);
    const r = rand(1);
    for (let i = 0; i < 50; i++) {
      const b = Uint8Array.from({ length: Math.floor(r() * 600) }, () => Math.floor(r() * 256));
      expect(crc32Table(b)).toBe(crc32(b));
      expect(crc32Table(b.subarray(7), crc32Table(b.subarray(0, 7)))).toBe(crc32(b));
    }
  });
});

describe("COBS", () => {
  // vectors from the COBS paper and Wikipedia's table
  const vectors: Array<[string, string]> = [
    ["", "01"],
    ["00", "0101"],
    ["0000", "010101"],
    ["001100", "01021101"],
    ["11220033", "03112202 33".replace(" ", "")],
    ["11223344", "0511223344"],
    ["11000000", "02110101 01".replace(" ", "")],
  ];
  it.each(vectors)("encodes %s as %s", (raw, enc) => {
    expect(hex(cobsEncode(bytes(raw), false))).toBe(enc);
    expect(hex(cobsEncode(bytes(raw)))).toBe(enc + "00");
    expect(hex(cobsDecode(bytes(enc))!)).toBe(raw);
  });
  it("handles 254- and 255-byte runs without zeros", () => {
    const run254 = Uint8Array.from({ length: 254 }, (_, i) => i + 1);
    const e = cobsEncode(run254, false);
    expect(e[0]).toBe(0xff);
    expect(e.length).toBe(256); // ff + 254 + trailing 01
    expect(hex(cobsDecode(e)!)).toBe(hex(run254));
    const run255 = Uint8Array.from({ length: 255 }, (_, i) => (i % 255) + 1);
    expect(hex(cobsDecode(cobsEncode(run255, false))!)).toBe(hex(run255));
  });
  it("round-trips random data with no zero inside and bounded overhead", () => {
    const r = rand(2);
    for (let i = 0; i < 500; i++) {
      const n = Math.floor(r() * 2000);
      const zeroish = r();
      const b = Uint8Array.from({ length: n }, () => (r() < zeroish ? 0 : Math.floor(r() * 256)));
      const e = cobsEncode(b, false);
      expect(e.includes(0)).toBe(false);
      expect(e.length).toBeLessThanOrEqual(cobsMaxEncoded(n));
      expect(e.length).toBeLessThanOrEqual(n + 1 + Math.ceil(n / 254));
      expect(hex(cobsDecode(e)!)).toBe(hex(b));
    }
  });
  it("rejects a block cut short", () => {
    expect(cobsDecode(bytes("0511"))).toBeNull();
    expect(cobsDecode(bytes("0511000000"))).toBeNull();
  });
});

describe("envelope", () => {
  it("lays out dst, src, ctl, payload, CRC-32 LE", () => {
    const e = packEnvelope({ dst: 2, src: 1, ctl: CTL_SINGLE, payload: bytes("deadbeef") });
    expect(e.length).toBe(4 + ENVELOPE_OVERHEAD);
    expect(hex(e.subarray(0, 7))).toBe("0201c0deadbeef");
    const c = crc32(e.subarray(0, 7));
    expect(new DataView(e.buffer).getUint32(7, true)).toBe(c);
    const u = unpackEnvelope(e);
    expect(u).toMatchObject({ dst: 2, src: 1, ctl: 0xc0 });
    expect(unpackEnvelope(e.subarray(0, 6))).toBe("short");
    const bad = e.slice(); bad[4] ^= 1;
    expect(unpackEnvelope(bad)).toBe("crc");
  });
  it("a known wire vector", () => {
    // dst 2, src 1, single frame, payload 00 01 02
    const w = encodeWireFrame({ dst: 2, src: 1, ctl: CTL_SINGLE, payload: bytes("000102") });
    const env = packEnvelope({ dst: 2, src: 1, ctl: CTL_SINGLE, payload: bytes("000102") });
    expect(hex(w.subarray(0, 4))).toBe("040201c0"); // code 04: three bytes, then the payload's 00
    expect(w[w.length - 1]).toBe(0);
    expect(w.length).toBe(env.length + 2); // + first code byte + delimiter; each data zero is replaced by a code byte
    expect(hex(cobsDecode(w.subarray(0, -1))!)).toBe(hex(env));
  });
  it("segments with SOT/EOT and a running index", () => {
    const s = segment(3, 1, new Uint8Array(2500), 1000);
    expect(s.map((e) => e.ctl)).toEqual([CTL_SOT | 0, 1, CTL_EOT | 2]);
    expect(s.map((e) => e.payload.length)).toEqual([1000, 1000, 504]); // + transfer CRC-32
    expect(segment(3, 1, new Uint8Array(0), 1000)).toHaveLength(1);
    expect(segment(3, 1, new Uint8Array(0), 1000)[0].ctl).toBe(CTL_SINGLE);
  });
});

describe("wire decoder", () => {
  const f1 = encodeWireFrame({ dst: 2, src: 1, ctl: CTL_SINGLE, payload: bytes("0102030000ff") });
  const f2 = encodeWireFrame({ dst: 2, src: 1, ctl: CTL_SINGLE, payload: new Uint8Array(300).fill(7) });

  it("decodes frames split at every byte boundary", () => {
    const wire = Buffer.concat([f1, f2, f1]);
    for (let cut = 1; cut < wire.length; cut += 7) {
      const d = new WireDecoder();
      const ev = [...events(d, wire.subarray(0, cut)), ...events(d, wire.subarray(cut))];
      expect(ev.map((e) => e.type)).toEqual(["frame", "frame", "frame"]);
    }
    const d = new WireDecoder();
    const ev: WireEvent[] = [];
    for (const b of wire) d.push(Uint8Array.of(b), (e) => ev.push(e));
    expect(ev.filter((e) => e.type === "frame")).toHaveLength(3);
  });

  it("resynchronises after garbage and counts it once per delimited run", () => {
    const d = new WireDecoder();
    const garbage = bytes("1234567890abcdef") ;
    const ev = events(d, Buffer.concat([garbage, Uint8Array.of(0), f1, garbage, f2, Uint8Array.of(0, 0, 0), f1]));
    expect(ev[0]).toMatchObject({ type: "drop", reason: "cobs" }); // code 0x12 promises 17 bytes, 7 follow
    expect(ev.filter((e) => e.type === "frame")).toHaveLength(3 - 1); // the f2 glued to garbage is lost
    expect(d.frames).toBe(2);
    expect(d.drops.crc + d.drops.cobs + d.drops.short).toBe(2);
  });

  it("drops each reason: cobs, short, crc, oversize", () => {
    const d = new WireDecoder({ maxFragment: 16 });
    const ev = (b: Uint8Array) => events(d, b).map((e) => (e.type === "frame" ? "frame" : e.reason));
    expect(ev(bytes("0511 00"))).toEqual(["cobs"]);                     // truncated block
    expect(ev(bytes("04010203 00"))).toEqual(["short"]);                // 3 bytes < 7
    const flip = f1.slice(); flip[5] ^= 0x10;
    expect(ev(flip)).toEqual(["crc"]);                                   // bit flip in payload
    const big = encodeWireFrame({ dst: 2, src: 1, ctl: CTL_SINGLE, payload: new Uint8Array(17).fill(9) });
    expect(ev(big)).toEqual(["oversize"]);
    expect(d.buffered).toBe(0);
    const ok = encodeWireFrame({ dst: 2, src: 1, ctl: CTL_SINGLE, payload: new Uint8Array(16).fill(9) });
    expect(ev(ok)).toEqual(["frame"]);
    expect(d.drops).toEqual({ cobs: 1, short: 1, crc: 1, oversize: 1 });
  });

  it("never buffers more than its capacity, even on an endless frame", () => {
    const d = new WireDecoder({ maxFragment: 64 });
    const r = rand(3);
    let max = 0;
    for (let i = 0; i < 200; i++) {
      d.push(Uint8Array.from({ length: 100 }, () => 1 + Math.floor(r() * 255)), () => {});
      max = Math.max(max, d.buffered);
    }
    expect(max).toBeLessThanOrEqual(d.capacity);
    expect(d.capacity).toBe(64 + ENVELOPE_OVERHEAD);
    const ev = events(d, Uint8Array.of(0));
    expect(ev).toEqual([{ type: "drop", reason: "oversize", bytes: 20000 }]);
  });

  it("a bit flip anywhere in a frame never yields a wrong frame", () => {
    const good = { dst: 2, src: 1, payload: hex(bytes("0102030000ff")) };
    for (let i = 0; i < f1.length * 8; i++) {
      const w = f1.slice();
      w[i >> 3] ^= 1 << (i & 7);
      const d = new WireDecoder();
      const ev = events(d, Buffer.concat([w, Uint8Array.of(0), f1]));
      const frames = ev.filter((e) => e.type === "frame");
      for (const f of frames) if (f.type === "frame") expect({ dst: f.frame.dst, src: f.frame.src, payload: hex(f.frame.payload) }).toEqual(good);
      expect(frames.length).toBeGreaterThanOrEqual(1); // the following good frame always survives
    }
  });
});

describe("link layer", () => {
  const pair = (opts: Partial<ConstructorParameters<typeof FrameLink>[0]> = {}) => {
    const a = new FrameLink({ node: 1, ...opts });
    const b = new FrameLink({ node: 2, ...opts });
    const got: Array<[number, string]> = [];
    const feed = (w: Uint8Array) => b.push(w, (src, t) => got.push([src, hex(t)]));
    return { a, b, got, feed };
  };

  it("round-trips single and multi-frame transfers, broadcast included", () => {
    const { a, got, feed } = pair({ maxFragment: 100 });
    const big = Uint8Array.from({ length: 1234 }, (_, i) => i * 7);
    feed(a.encode(2, bytes("0102")));
    feed(a.encode(BROADCAST, new Uint8Array(0)));
    feed(a.encode(2, big));
    expect(got).toEqual([[1, "0102"], [1, ""], [1, hex(big)]]);
  });

  it("drops by addressing: not-for-us, bad-src, own-src, unknown-node", () => {
    const { b, feed } = pair({ peers: [1] });
    const w = (dst: number, src: number) => encodeWireFrame({ dst, src, ctl: CTL_SINGLE, payload: bytes("aa") });
    feed(w(3, 1)); feed(w(2, 0xff)); feed(w(2, 2)); feed(w(2, 9)); feed(w(2, 1));
    expect(b.dropped).toEqual({ "not-for-us": 1, "bad-src": 1, "own-src": 1, "unknown-node": 1 });
    expect(b.transfersIn).toBe(1);
  });

  it("drops by reassembly: bad-ctl, orphan, sequence (lost/duplicated/reordered), truncated, oversize, evicted", () => {
    const { b, got, feed } = pair({ maxFragment: 10, maxTransfer: 40, maxPending: 2 });
    const segs = (src: number, n: number) => segment(2, src, new Uint8Array(n).fill(src), 10).map(encodeWireFrame);
    feed(encodeWireFrame({ dst: 2, src: 1, ctl: CTL_SOT | 3, payload: bytes("aa") }));   // bad-ctl
    const s = segs(1, 30);
    feed(s[1]);                                                // orphan-frame
    feed(s[0]); feed(s[0]);                                    // duplicate SOT: truncated-transfer, restart
    feed(s[2]);                                                // lost middle: sequence
    feed(s[0]); feed(s[2]); feed(s[1]);                        // reordered: sequence, then orphan
    feed(s[0]); feed(s[1]); feed(s[1]);                        // duplicated middle: sequence
    feed(Buffer.concat(segs(1, 50)));                          // > maxTransfer: transfer-oversize, then orphan (6 frames)
    feed(segs(3, 20)[0]); feed(segs(4, 20)[0]); feed(segs(5, 20)[0]); // evicted: 3 (maxPending 2)
    feed(Buffer.concat(s));                                    // evicts 4; a good one still arrives
    expect(got.map(([src, h]) => [src, h.length / 2])).toEqual([[1, 30]]);
    expect(b.dropped).toEqual({ "bad-ctl": 1, "orphan-frame": 3, "truncated-transfer": 1, sequence: 3, "transfer-oversize": 1, evicted: 2 });
  });

  it("frames spliced from two transfers fail the transfer CRC", () => {
    const { b, got, feed } = pair({ maxFragment: 10 });
    const t1 = segment(2, 1, new Uint8Array(30).fill(1), 10).map(encodeWireFrame);
    const t2 = segment(2, 1, new Uint8Array(30).fill(2), 10).map(encodeWireFrame);
    feed(t1[0]); feed(t2[1]); feed(t2[2]); feed(t2[3]);
    expect(got).toEqual([]);
    expect(b.dropped).toEqual({ "transfer-crc": 1 });
  });

  it("a wire drop abandons transfers in progress (the lost frame may be theirs)", () => {
    const { b, got, feed } = pair({ maxFragment: 10 });
    const s = segment(2, 1, new Uint8Array(30).fill(1), 10).map(encodeWireFrame);
    const hurt = s[1].slice(); hurt[4] ^= 0x40;
    feed(s[0]); feed(hurt); feed(s[2]);
    expect(got).toEqual([]);
    expect(b.dropped).toEqual({ crc: 1, "truncated-transfer": 1, "orphan-frame": 1 });
    expect(b.reassemblyBytes).toBe(0);
  });
});
