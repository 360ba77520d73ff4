// The link layer above Cyphal/CAN transfers: three nodes on a CAN bus (the mock bus),
// single CAN frames lost and duplicated below Cyphal (a lost frame costs its whole
// transfer, which Cyphal drops), and every GSU frame still arrives exactly once, in order.
import { describe, expect, it } from "vitest";
import { MockCanNetwork } from "../../host/transport/can/bus.ts";
import { CanTransport, SEQ_SUBJECT_OFFSET } from "../../host/transport/can/transport.ts";
import { DEFAULT_SUBJECT_BASE, parseMessageId, parseTail } from "../../host/transport/can/cyphal.ts";
import { LinkLayer } from "../../host/transport/reliable.ts";
import { BROADCAST } from "../../host/transport/types.ts";
import { frameOf, hex } from "./harness.ts";

describe("link layer over Cyphal/CAN", () => {
  it("4% of CAN frames lost, 2% duplicated, key, broadcasts: exactly once, in order, per pair", async () => {
    const net = new MockCanNetwork();
    let x = 17;
    const rnd = () => (x = (x * 1103515245 + 12345) >>> 0) / 2 ** 32;
    let lost = 0;
    net.tamper = (f) => { const r = rnd(); if (r < 0.04) { lost++; return []; } return r < 0.06 ? [f, f] : [f]; };
    const nodes = [1, 2, 3];
    const key = Buffer.alloc(32, 0x21);
    const layers = nodes.map((n) => new LinkLayer(new CanTransport(net.attach(`n${n}`), n, { knownNodes: nodes }), { peers: nodes, incarnation: 50 + n, key, rtoUs: 30_000, helloUs: 30_000 }));
    const got = new Map<string, string[]>();
    layers.forEach((l, i) => l.onFrame((src, f) => { const k = `${src}>${nodes[i]}`; (got.get(k) ?? got.set(k, []).get(k)!).push(hex(f)); }));
    const t0 = Date.now();
    while (!layers.every((l) => l.ready())) {
      if (Date.now() - t0 > 10_000) throw new Error("no sessions");
      await new Promise((r) => setTimeout(r, 5));
    }
    const sent = new Map<string, string[]>();
    for (let k = 0; k < 120; k++) {
      for (const [i, from] of nodes.entries()) {
        const bcast = k % 7 === 0;
        const to = bcast ? BROADCAST : nodes[(i + 1 + (k % 2)) % 3];
        const f = frameOf(k % 3 === 0 ? 1 : 0, from, to, k, 7 + (k % 40));
        layers[i].send(to, f);
        for (const d of bcast ? nodes.filter((m) => m !== from) : [to]) { const key2 = `${from}>${d}`; (sent.get(key2) ?? sent.set(key2, []).get(key2)!).push(hex(f)); }
      }
      if (k % 10 === 0) await new Promise((r) => setTimeout(r, 2));
    }
    while (!layers.every((l) => l.idle()) && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 10));
    await net.settle();
    expect(got).toEqual(sent);
    expect(lost).toBeGreaterThan(20);
    // Cyphal dropped the transfers those frames belonged to (and the duplicates): the layer made up for it
    const cyphalDrops = layers.reduce((n, l) => n + Object.values(l.inner.stats().dropped).reduce((a, b) => a + b, 0), 0);
    expect(cyphalDrops).toBeGreaterThan(10);
    expect(layers.reduce((n, l) => n + l.layerStats().retransmits, 0)).toBeGreaterThan(0);
    for (const l of layers) await l.close();
  }, 40_000);

  // The layer's header rides in the CAN identifier (docs/wire.md): a data frame is the GSU
  // frame alone on its stream's sequenced subject, its sequence number the transfer-ID.
  // 700 frames per direction (the 8-bit sequence numbers wrap twice, the 5-bit transfer-IDs
  // 20 times), CAN frames lost and duplicated, the sender restarted half-way.
  // "acks in data" overrides the link's hint: control frames (which carry acknowledgements)
  // keep their header as bytes, application frames ride in the identifier.
  for (const mode of ["no key", "key, all", "key, control", "key, control, acks in data"] as const) {
    it(`${mode}: no byte added to a data frame; exactly once and in order through loss, duplication, wrap and a restart`, async () => {
      const net = new MockCanNetwork();
      let x = 99;
      const rnd = () => (x = (x * 1103515245 + 12345) >>> 0) / 2 ** 32;
      net.tamper = (f) => { const r = rnd(); return r < 0.05 ? [] : r < 0.08 ? [f, f] : [f]; };
      const key = mode.startsWith("no key") ? undefined : Buffer.alloc(32, 0x5a);
      const auth = mode === "key, all" ? "all" as const : "control" as const;
      const start = (n: number, inc: number) => new LinkLayer(new CanTransport(net.attach(`n${n}.${inc}`), n, { knownNodes: [1, 2] }),
        { peers: [1, 2], incarnation: inc, key, auth, rtoUs: 20_000, helloUs: 20_000, ...(mode === "key, control, acks in data" ? { loneAcks: false } : {}) });
      let a = start(1, 7), b = start(2, 9);
      const got: string[] = [], sent: string[] = [];
      b.onFrame((src, f) => { if (src === 1) got.push(hex(f)); });
      const waitFor = async (ok: () => boolean, what: string) => {
        const t0 = Date.now();
        while (!ok()) { if (Date.now() - t0 > 20_000) throw new Error(`timed out: ${what}`); await new Promise((r) => setTimeout(r, 5)); }
      };
      await waitFor(() => a.ready() && b.ready(), "sessions");
      expect(a.layerStats().peers).toBe(1);
      const sizes = [6, 5, 3, 13, 40];
      // a numbered frame of any size >= 3 (frameOf needs 7): kind, then the number, then filler
      const small = (kind: number, k: number, size: number) => Uint8Array.from({ length: size }, (_, i) => i === 0 ? kind << 5 : i === 1 ? k & 0xff : i === 2 ? k >> 8 : (k * 7 + i) & 0xff);
      const run = async (from: number, to: number) => {
        for (let k = from; k < to; k++) {
          // application frames (kind 0) and control frames (kind 1): both streams in mixed mode
          const f = small(k % 5 === 0 ? 1 : 0, k, sizes[k % sizes.length]);
          a.send(2, f); sent.push(hex(f));
          if (k % 20 === 0) await new Promise((r) => setTimeout(r, 1));
        }
        await waitFor(() => a.idle() && got.length === sent.length, `delivery of ${sent.length} frames (got ${got.length})`);
      };
      await run(0, 350);
      // the sender restarts: a new incarnation, a new transport; its sequence numbers start
      // again at 1, and b's transport must see that from its hello alone
      a.stop();
      const before = got.length;
      a = start(1, 8);
      await waitFor(() => a.ready() && b.ready() && b.isOpen(1), "the session after the restart");
      sent.length = before; // nothing was in flight: run() waited until a was idle
      await run(350, 700);
      expect(got).toEqual(sent);
      // every data transfer travelled on a sequenced subject, with no layer header in its bytes:
      // a single-frame transfer of a 6-byte GSU frame (no key, application) is 6 bytes + tail
      const seqSubjects = SEQ_SUBJECT_OFFSET.map((o) => DEFAULT_SUBJECT_BASE + o + 2);
      let seqFrames = 0, explicitData = 0;
      const singles = new Map<number, number>();
      for (const { frame } of net.frames) {
        const id = parseMessageId(frame.id);
        if (!id.ok || id.source !== 1) continue;
        const tail = parseTail(frame.data[frame.data.length - 1]);
        if (seqSubjects.includes(id.subject)) {
          seqFrames++;
          if (tail.sot && tail.eot) singles.set(frame.data.length - 1, (singles.get(frame.data.length - 1) ?? 0) + 1);
        } else if (id.subject === DEFAULT_SUBJECT_BASE + 2 && tail.sot && (frame.data[0] & 0xf1) === 0xe1) explicitData++;
      }
      expect(seqFrames).toBeGreaterThan(mode === "key, control, acks in data" ? 100 : 700);
      if (mode === "key, control, acks in data") expect(explicitData).toBeGreaterThan(10);
      else expect(explicitData).toBe(0);
      // the sizes of single-frame data transfers: the GSU frame, plus only what authentication needs
      // (mixed mode: 1 byte "after"; a MAC makes every control frame multi-frame)
      const extra = mode.startsWith("no key") ? 0 : 1;
      for (const sz of singles.keys()) expect(sizes.map((s) => s + extra)).toContain(sz);
      if (mode !== "key, all") expect(singles.get(5 + extra) ?? 0).toBeGreaterThan(50); // application frames of 5 bytes
      expect(a.layerStats().retransmits).toBeGreaterThan(0);
      expect(b.layerStats().duplicates + a.layerStats().duplicates).toBeGreaterThan(0);
      await a.close(); await b.close();
    }, 60_000);
  }
});
