// The link layer (host/transport/reliable.ts): exactly once, in order, per pair of
// boards, over a network that loses, duplicates and reorders frames; restarted
// peers; start-up synchronisation; authentication, replay and roles.
import { describe, expect, it } from "vitest";
import { SimLinks, frameOf, hex } from "./harness.ts";
import { LAYER_MARK, F_DATA, F_MAC, isLayerFrame, type LinkLayerOptions } from "../../host/transport/reliable.ts";
import { BROADCAST } from "../../host/transport/types.ts";
import { roleCheck } from "../../host/runtime/roles.ts";
import { withBound } from "../../host/runtime/route.ts";

const KEY = Buffer.alloc(32, 0x5c);
const MODES: Record<string, Partial<LinkLayerOptions>> = {
  "no key": {},
  "key, control frames authenticated": { key: KEY, auth: "control" },
  "key, every frame authenticated": { key: KEY, auth: "all" },
};

/** Every board sends `n` frames to every other (some broadcast), app and passedAt mixed; returns what was sent per pair. */
function traffic(s: SimLinks, n: number, seed: number): Map<string, string[]> {
  const sent = new Map<string, string[]>();
  const nodes = s.nodes;
  let x = seed;
  const rnd = () => (x = (x * 1103515245 + 12345) >>> 0) / 2 ** 32;
  for (let k = 0; k < n; k++) {
    for (const from of nodes) {
      const kind = rnd() < 0.7 ? 0 : 1;
      const bcast = rnd() < 0.2;
      const to = bcast ? BROADCAST : nodes.filter((m) => m !== from)[Math.floor(rnd() * (nodes.length - 1))];
      const f = frameOf(kind, from, to, k, 8 + Math.floor(rnd() * 40));
      // spread sends over time so the window and the timers are exercised
      s.clock.at(k * 300 + Math.floor(rnd() * 300), () => s.boards.get(from)!.layer.send(to, f));
      for (const d of bcast ? nodes.filter((m) => m !== from) : [to]) {
        const key = `${from}>${d}`;
        (sent.get(key) ?? sent.set(key, []).get(key)!).push(hex(f));
      }
    }
  }
  return sent;
}

function received(s: SimLinks): Map<string, string[]> {
  const got = new Map<string, string[]>();
  for (const b of s.boards.values()) for (const [src, l] of b.got) got.set(`${src}>${b.node}`, l);
  return got;
}

describe("link layer: exactly once, in order", () => {
  for (const [mode, o] of Object.entries(MODES)) {
    it(`${mode}: a perfect network delivers every frame once, in order, and costs what the header says`, () => {
      const s = new SimLinks([1, 2, 3]);
      for (const n of s.nodes) s.start(n, { ...o, incarnation: 10 + n });
      const sent = traffic(s, 200, 7);
      s.settle();
      expect(received(s)).toEqual(sent);
      for (const b of s.boards.values()) {
        const st = b.layer.layerStats();
        expect(st.retransmits).toBe(0);
        expect(st.duplicates).toBe(0);
        expect(st.inFlight + st.backlog).toBe(0);
        expect(st.peersOpen).toBe(2);
      }
    });

    it(`${mode}: 20% loss, 10% duplication, 20% reordering: still exactly once, in order (10 seeds)`, () => {
      let retransmits = 0, duplicates = 0, faults = 0;
      for (let seed = 1; seed <= 10; seed++) {
        const s = new SimLinks([1, 2, 3], seed);
        for (const n of s.nodes) s.start(n, { ...o, incarnation: 100 + n }, { loss: 0.2, dup: 0.1, reorder: 0.2, maxDelayUs: 5_000, seed: seed * 7 + n });
        const sent = traffic(s, 150, seed);
        s.settle();
        expect(received(s), `seed ${seed}`).toEqual(sent);
        for (const b of s.boards.values()) {
          retransmits += b.layer.layerStats().retransmits;
          duplicates += b.layer.layerStats().duplicates;
          faults += (b.link as unknown as { faults: { lost: number } }).faults.lost;
          expect(b.layer.idle()).toBe(true);
        }
      }
      // the faults happened and the layer worked for it
      expect(faults).toBeGreaterThan(1000);
      expect(retransmits).toBeGreaterThan(faults / 2);
      expect(duplicates).toBeGreaterThan(100);
    });
  }

  it("the window bounds what is in flight; the rest waits in the backlog and follows in order", () => {
    const s = new SimLinks([1, 2]);
    const a = s.start(1, { incarnation: 1, window: 8 });
    s.start(2, { incarnation: 2 });
    s.run(100_000); // hellos
    expect(a.layer.isOpen(2)).toBe(true);
    // node 2's replies (acks) are lost: nothing is acknowledged
    const drop = { send: () => {} } as unknown as typeof s.boards;
    void drop;
    const inner2 = s.boards.get(2)!.link;
    const realSend = inner2.send.bind(inner2);
    inner2.send = () => {};
    const sent: string[] = [];
    for (let k = 0; k < 100; k++) { const f = frameOf(0, 1, 2, k); sent.push(hex(f)); a.layer.send(2, f); }
    s.run(50_000);
    expect(a.layer.layerStats().inFlight).toBe(8);
    expect(a.layer.layerStats().backlog).toBe(92);
    inner2.send = realSend;
    s.settle();
    expect(s.boards.get(2)!.got.get(1)).toEqual(sent);
  });
});

describe("link layer: retransmission timeout", () => {
  // One data frame lost on a link whose round trip is about 1 ms, after 30 frames measured it.
  // Returns when the frame reached the peer (µs after it was sent).
  function lostFrameDelay(rtt: boolean): number {
    const s = new SimLinks([1, 2], 3, { min: 200, max: 800 });
    const a = s.start(1, { incarnation: 1, rtoUs: 200_000 }, { loss: 0.999999, seed: 1 });
    const faulty = a.link as unknown as { enabled: boolean };
    faulty.enabled = false;
    const b = s.start(2, { incarnation: 2, rtoUs: 200_000 });
    s.run(100_000);
    if (rtt) { for (let k = 0; k < 30; k++) s.clock.at(s.clock.now + k * 2_000, () => a.layer.send(2, frameOf(0, 1, 2, k))); s.run(200_000); }
    const f = frameOf(0, 1, 2, 99);
    faulty.enabled = true;
    a.layer.send(2, f);
    faulty.enabled = false;
    const t0 = s.clock.now;
    // step the virtual clock 1 ms at a time (a tick scheduled each step: the clock stops at its last event)
    for (let i = 0; i < 1000 && !(b.got.get(1) ?? []).includes(hex(f)); i++) { s.clock.at(s.clock.now + 1_000, () => {}); s.run(1_000); }
    expect(b.got.get(1)).toContain(hex(f));
    return s.clock.now - t0;
  }
  it("adapts to the measured round trip (RFC 6298, at least 20 ms): a lost frame is sent again after ~20 ms, not the configured 200 ms", () => {
    const adaptive = lostFrameDelay(true);
    expect(adaptive).toBeGreaterThanOrEqual(20_000);
    expect(adaptive).toBeLessThan(40_000);
    // before any round trip was measured, the configured timeout holds
    const first = lostFrameDelay(false);
    expect(first).toBeGreaterThanOrEqual(200_000);
    expect(first).toBeLessThan(220_000);
  });
});

describe("link layer: incarnations and restarts", () => {
  it("a restarted peer is recognised, the frames sent to its old run are reported lost, and the new session starts clean", () => {
    const s = new SimLinks([1, 2]);
    const a = s.start(1, { incarnation: 5 });
    s.start(2, { incarnation: 7 });
    for (let k = 0; k < 20; k++) a.layer.send(2, frameOf(0, 1, 2, k));
    s.settle();
    expect(s.boards.get(2)!.got.get(1)).toHaveLength(20);
    // node 2 crashes with frames in flight to it, and comes back as incarnation 8
    for (let k = 20; k < 30; k++) a.layer.send(2, frameOf(0, 1, 2, k));
    const b2 = s.start(2, { incarnation: 8 });
    s.settle();
    const restart = a.events.find((e) => e.type === "peer-restarted");
    expect(restart).toMatchObject({ node: 2, from: 7, incarnation: 8 });
    expect(a.layer.isOpen(2)).toBe(true);
    for (let k = 30; k < 40; k++) a.layer.send(2, frameOf(0, 1, 2, k));
    s.settle();
    // the new run gets exactly the frames sent after it opened its session, in order, once
    const got = b2.got.get(1)!;
    expect(got.slice(-10)).toEqual(Array.from({ length: 10 }, (_, i) => hex(frameOf(0, 1, 2, 30 + i))));
    expect(new Set(got).size).toBe(got.length);
  });

  for (const [mode, o] of Object.entries(MODES)) {
    it(`${mode}: frames of a peer's earlier incarnation are refused after it restarted`, () => {
      const s = new SimLinks([1, 2]);
      const captured: Uint8Array[] = [];
      s.start(1, { ...o, incarnation: 3 });
      const b = s.start(2, { ...o, incarnation: 9 });
      const inner1 = s.boards.get(1)!.link;
      const send = inner1.send.bind(inner1);
      inner1.send = (d, f) => { if (isLayerFrame(f) && f[0] & F_DATA) captured.push(f.slice()); send(d, f); };
      s.boards.get(1)!.layer.send(2, frameOf(1, 1, 2, 1));
      s.settle();
      expect(b.got.get(1)).toHaveLength(1);
      // node 1 restarts (incarnation 4); the frame its old run sent is replayed
      s.start(1, { ...o, incarnation: 4 });
      s.settle();
      expect(b.events.some((e) => e.type === "peer-restarted")).toBe(true);
      send(2, captured[0]);
      s.settle();
      expect(b.got.get(1)).toHaveLength(1);
      expect(b.layer.stats().dropped["stale-incarnation"]).toBe(1);
    });
  }
});

describe("link layer: start-up synchronisation", () => {
  it("a peer whose hello does not match is refused by name; neither board exchanges frames with it", () => {
    const s = new SimLinks([1, 2, 3]);
    const check = (src: number, body: Uint8Array) => (Buffer.from(body).toString() === "sys-A" ? null : `node ${src} runs system ${Buffer.from(body).toString()}, this board sys-A`);
    const a = s.start(1, { incarnation: 1, hello: () => Buffer.from("sys-A"), checkHello: check });
    const b = s.start(2, { incarnation: 1, hello: () => Buffer.from("sys-A"), checkHello: check });
    const c = s.start(3, { incarnation: 1, hello: () => Buffer.from("sys-B"), checkHello: (src, body) => (Buffer.from(body).toString() === "sys-B" ? null : `node ${src} differs`) });
    s.run(500_000);
    expect(a.layer.isOpen(2)).toBe(true);
    expect(a.layer.isOpen(3)).toBe(false);
    expect(a.layer.ready()).toBe(false);
    expect(a.layer.waiting()).toEqual(["node 3: node 3 runs system sys-B, this board sys-A"]);
    expect(a.events).toContainEqual({ type: "mismatch", node: 3, detail: "node 3 runs system sys-B, this board sys-A" });
    expect(c.events.some((e) => e.type === "peer-refuses")).toBe(true);
    a.layer.send(3, frameOf(0, 1, 3, 1));
    c.layer.send(1, frameOf(0, 3, 1, 1));
    a.layer.send(2, frameOf(0, 1, 2, 1));
    s.run(500_000);
    expect(c.got.size).toBe(0);
    expect(a.got.size).toBe(0);
    expect(b.got.get(1)).toHaveLength(1);
  });
});

describe("link layer: authentication and roles", () => {
  const o = { key: KEY, auth: "control" as const };
  function pair() {
    const s = new SimLinks([1, 2, 3]);
    const taps: Uint8Array[] = [];
    for (const n of s.nodes) s.start(n, { ...o, incarnation: 40 + n, admit: roleCheck({ self: n, coordinator: 1 }) });
    const inner = s.boards.get(2)!.link;
    const send = inner.send.bind(inner);
    inner.send = (d, f) => { if (d === 3) taps.push(f.slice()); send(d, f); };
    s.settle();
    return { s, taps, raw: send, c: s.boards.get(3)! };
  }

  it("forged sequence numbers and altered frames fail the MAC; a replayed frame is suppressed as a duplicate", () => {
    const { s, taps, raw, c } = pair();
    s.boards.get(2)!.layer.send(3, frameOf(1, 2, 3, 1));
    s.settle();
    const f = taps.find((t) => t[0] & F_DATA)!;
    expect(f[0] & F_MAC).toBeTruthy();
    expect(c.got.get(2)).toHaveLength(1);
    const forged = f.slice(); forged[2] = (forged[2] + 1) & 0xff; // the next sequence number
    raw(3, forged);
    const altered = f.slice(); altered[f.length - 9] ^= 1;
    raw(3, altered);
    raw(3, f); // verbatim replay
    s.settle();
    expect(c.got.get(2)).toHaveLength(1);
    expect(c.layer.stats().dropped["auth-mac"]).toBe(1);
    expect(c.layer.layerStats().duplicates).toBeGreaterThanOrEqual(1);
    // the sequence still works: the next real frame is delivered
    s.boards.get(2)!.layer.send(3, frameOf(1, 2, 3, 2));
    s.settle();
    expect(c.got.get(2)).toHaveLength(2);
  });

  it("an application frame carrying a passed-AT bound is authenticated; without a MAC it is refused", () => {
    const { s, taps, raw, c } = pair();
    // app, index 5, wire 0, no flags, payload 01 02; a passedAt (v 7, vext 2) riding in it
    const rider = withBound(Uint8Array.of(0x00, 0x05, 0x00, 0x00, 0x01, 0x02), Uint8Array.of(0x20, 0x07, 0x02));
    s.boards.get(2)!.layer.send(3, rider);
    s.settle();
    const f = taps.find((t) => t[0] & F_DATA)!;
    expect(f[0] & F_MAC).toBeTruthy(); // stream 1, as a passedAt frame alone would go
    expect(c.got.get(2)).toEqual([hex(rider)]);
    // the same frame forged into stream 0 (no MAC), with that stream's first sequence number
    raw(3, Uint8Array.of(LAYER_MARK | F_DATA, 42, 1, 1, ...rider));
    s.settle();
    expect(c.got.get(2)).toHaveLength(1);
    expect(c.layer.stats().dropped["auth-missing"]).toBe(1);
  });

  it("a control frame without a MAC is refused without taking a sequence number; app frames may go unauthenticated", () => {
    const { s, raw, c } = pair();
    s.boards.get(2)!.layer.send(3, frameOf(0, 2, 3, 1)); // app: stream 0, no MAC
    s.settle();
    expect(c.got.get(2)).toHaveLength(1);
    // an attacker puts a commit (c0 01) in an unauthenticated frame with the next stream-0 number
    raw(3, Uint8Array.of(LAYER_MARK | F_DATA, 42, 2, 0, 0xc0, 0x01));
    raw(3, Uint8Array.of(0xc0, 0x01)); // and bare
    s.settle();
    expect(c.got.get(2)).toHaveLength(1);
    expect(c.layer.stats().dropped["auth-missing"]).toBe(2);
    s.boards.get(2)!.layer.send(3, frameOf(0, 2, 3, 2));
    s.settle();
    expect(c.got.get(2)).toHaveLength(2);
  });

  it("roles: only the coordinator commits and applies; bounds go to the coordinator; a wrong-role frame is refused and counted", () => {
    const { s, c } = pair();
    const a = s.boards.get(1)!, b = s.boards.get(2)!;
    b.layer.send(3, Uint8Array.of(0xc0, 0x01)); // commit from node 2: not the coordinator
    b.layer.send(3, Uint8Array.of(0x80, 0x05, 0x00)); // apply from node 2
    b.layer.send(3, Uint8Array.of(0x60, 0x05, 0x00)); // bound to node 3: not the coordinator
    b.layer.send(3, Uint8Array.of(0x40, 0x01)); // begin from node 2 to node 3
    a.layer.send(3, Uint8Array.of(0xc0, 0x01)); // commit from the coordinator
    b.layer.send(1, Uint8Array.of(0x60, 0x05, 0x00)); // bound to the coordinator
    b.layer.send(1, Uint8Array.of(0x40, 0x01)); // begin to the coordinator
    s.settle();
    expect(c.got.get(2)).toBeUndefined();
    expect(c.got.get(1)).toEqual(["c001"]);
    expect(a.got.get(2)).toEqual(["600500", "4001"]);
    expect(c.layer.stats().dropped.role).toBe(4);
    expect(c.events.filter((e) => e.type === "refused" && e.reason === "role").map((e) => (e as { detail: string }).detail).join("\n")).toMatch(
      /control( COMMIT)? from node 2: only the coordinator \(node 1\) sends it/);
  });

  it("a board without the key, or with another key, opens no session", () => {
    const s = new SimLinks([1, 2]);
    const a = s.start(1, { key: KEY, incarnation: 1 });
    const b = s.start(2, { key: Buffer.alloc(32, 1), incarnation: 1 });
    s.run(300_000);
    expect(a.layer.isOpen(2)).toBe(false);
    expect(a.layer.stats().dropped["auth-mac"]).toBeGreaterThan(0);
    expect(b.layer.isOpen(1)).toBe(false);
  });
});

describe("link layer: bad input", () => {
  it("random frames and mutated real frames never throw, never deliver anything unauthenticated, and the session goes on", () => {
    const s = new SimLinks([1, 2]);
    const key = KEY;
    const a = s.start(1, { key, incarnation: 7, auth: "all" });
    const b = s.start(2, { key, incarnation: 8, auth: "all" });
    const inner = s.boards.get(1)!.link;
    const captured: Uint8Array[] = [];
    const send = inner.send.bind(inner);
    inner.send = (d, f) => { captured.push(f.slice()); send(d, f); };
    for (let k = 0; k < 20; k++) a.layer.send(2, frameOf(1, 1, 2, k));
    s.settle();
    let x = 99;
    const rnd = () => (x = (x * 1103515245 + 12345) >>> 0) >>> 8;
    for (let i = 0; i < 3000; i++) {
      let f: Uint8Array;
      if (i % 2) f = Uint8Array.from({ length: 1 + (rnd() % 60) }, () => rnd() & 0xff);
      else { f = captured[rnd() % captured.length].slice(); for (let m = 0; m <= rnd() % 3; m++) f[rnd() % f.length] ^= 1 << (rnd() % 8); }
      if (i % 5 === 0) f[0] = 0xe0 | (rnd() & 0x0f);
      expect(() => send(2, f)).not.toThrow();
    }
    s.settle();
    expect(b.got.get(1)).toHaveLength(20);
    expect(b.layer.stats().dropped["layer-fault"]).toBeUndefined();
    for (let k = 20; k < 30; k++) a.layer.send(2, frameOf(1, 1, 2, k));
    s.settle();
    expect(b.got.get(1)).toEqual(Array.from({ length: 30 }, (_, k) => hex(frameOf(1, 1, 2, k))));
  });
});

describe("link layer: telemetry", () => {
  it("LINK_TLM carries the layer's counters and drop reasons under their own channels", async () => {
    const { BoardTelemetry } = await import("../../host/telemetry/sampler.ts");
    const s = new SimLinks([1, 2]);
    const a = s.start(1, { incarnation: 1 }, { loss: 0.3, seed: 2 });
    s.start(2, { incarnation: 2 }, { loss: 0.3, seed: 3 });
    for (let k = 0; k < 50; k++) a.layer.send(2, frameOf(0, 1, 2, k));
    s.settle();
    s.boards.get(2)!.link.send(1, Uint8Array.of(0xc0, 0x01)); // a bare frame: "unlayered"
    s.settle();
    const v = new BoardTelemetry(1).linkSamples(a.layer);
    expect(v.LINK_RETRANSMITS).toBe(a.layer.layerStats().retransmits);
    expect(v.LINK_RETRANSMITS).toBeGreaterThan(0);
    expect(v.LINK_PEERS_OPEN).toBe(1);
    expect(v.LINK_IN_FLIGHT).toBe(0);
    expect(v.LINK_DROP_UNLAYERED).toBe(1);
  });
});
