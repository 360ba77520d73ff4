// Faulty links in the in-process testbed (gsu rehearse --link-loss, --link-dup,
// --link-corrupt, --partition): each board runs the real link layer
// (host/transport/reliable.ts) over a fault injector over the simulated network, as a
// board daemon runs it over a serial port or a CAN bus.
//
//   Board -> TaintCarrier -> LinkLayer -> Cut (partitions) -> FaultyTransport -> SimNetwork
//
// The simulator's ground-truth oracle marks frame objects as erroneous (derived from
// the injected fault). The link layer copies frames, so the carrier hands the mark
// across: the layer delivers each sender's application frames to each receiver
// exactly once and in order, so the n-th application frame node A sent to node B is
// the n-th that B receives from A. If the layer ever broke that, the marks would
// fall on the wrong frames, and the device-equivalence and no-loss oracles, which do
// not depend on them, would still see it.
import { BROADCAST, type Transport, type TransportStats } from "../transport/types.ts";
import { LinkLayer, type LayerClock, type LayerStats } from "../transport/reliable.ts";
import { FaultyTransport, type FaultCounts } from "../transport/faulty.ts";
import { roleCheck, wireSenders } from "../runtime/roles.ts";
import { checkHello, encodeHello, helloInfo } from "../runtime/startup.ts";
import type { SystemSpec } from "../runtime/system.ts";
import type { VirtualClock } from "./clock.ts";

/** Link faults of a rehearsal (per-frame probabilities on every link between boards). */
export interface SimLinkFaults {
  loss?: number;
  dup?: number;
  /** Frames whose bits are damaged on the wire: the link's frame check drops them (CAN's CRC-15, the serial framing's CRC-32). */
  corrupt?: number;
  /** Frames held back by a random delay up to maxDelayUs, so later ones overtake them. */
  reorder?: number;
  maxDelayUs?: number;
  /** A board cut off from every other between two steps (its frames and those to it are lost). */
  partitions?: { board: string; fromStep: number; toStep: number }[];
  /** The deployment's link key (frames authenticated as a keyed deployment runs them). */
  key?: Uint8Array;
}

export const isAppFrame = (f: Uint8Array): boolean => f.length >= 1 && f[0] >> 5 === 0;

/** Hands the oracle's marks from the frame a board sent to the frame its peer receives (see the head of this file). */
export class TaintCarrier implements Transport {
  readonly node: number;
  constructor(private inner: Transport, private peers: number[], private fifo: Map<string, Uint8Array[]>, private carry: (sent: Uint8Array, got: Uint8Array) => void) {
    this.node = inner.node;
  }
  private q(a: number, b: number): Uint8Array[] {
    const k = `${a}>${b}`;
    return this.fifo.get(k) ?? this.fifo.set(k, []).get(k)!;
  }
  send(dst: number, frame: Uint8Array): void {
    if (isAppFrame(frame) && dst !== this.node) for (const d of dst === BROADCAST ? this.peers : [dst]) if (d !== this.node) this.q(this.node, d).push(frame);
    this.inner.send(dst, frame);
  }
  onFrame(handler: (src: number, frame: Uint8Array) => void): void {
    this.inner.onFrame((src, f) => {
      if (isAppFrame(f) && src !== this.node) { const sent = this.q(src, this.node).shift(); if (sent) this.carry(sent, f); }
      handler(src, f);
    });
  }
  stats(): TransportStats { return this.inner.stats(); }
  close(): Promise<void> { return this.inner.close(); }
}

/** Loses every frame to or from a board while it is cut off; damaged frames are dropped as the link's frame check would. */
export class CutAndCorrupt implements Transport {
  readonly node: number;
  readonly counts = { cut: 0, corrupted: 0 };
  constructor(private inner: Transport, private cut: (src: number, dst: number) => boolean, private corrupt: () => boolean) { this.node = inner.node; }
  send(dst: number, frame: Uint8Array): void {
    if (dst !== this.node && frame[0] !== 0xff) {
      if (this.cut(this.node, dst)) { this.counts.cut++; return; }
      if (this.corrupt()) { this.counts.corrupted++; return; }
    }
    this.inner.send(dst, frame);
  }
  onFrame(handler: (src: number, frame: Uint8Array) => void): void {
    // a frame that set out before the cut and arrives during it is lost too
    this.inner.onFrame((src, f) => { if (src !== this.node && f[0] !== 0xff && this.cut(src, this.node)) { this.counts.cut++; return; } handler(src, f); });
  }
  stats(): TransportStats { return this.inner.stats(); }
  close(): Promise<void> { return this.inner.close(); }
}

export interface LinkStack { transport: Transport; layer: LinkLayer; faults: () => FaultCounts & { cut: number; corrupted: number }; layerStats: () => LayerStats }

export interface LinkStackOptions {
  spec: SystemSpec;
  node: number;
  coordinator: number;
  port: Transport;
  clock: VirtualClock;
  faults: SimLinkFaults;
  seed: number;
  periodUs: number;
  fifo: Map<string, Uint8Array[]>;
  carry: (sent: Uint8Array, got: Uint8Array) => void;
  /** The layer's incarnation (rises at every restart of the board). */
  incarnation?: number;
}

/** A small seeded generator in [0, 1) (independent of the network's, so faults do not shift latencies). */
export function xorshift(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => { state ^= state << 13; state >>>= 0; state ^= state >>> 17; state ^= state << 5; state >>>= 0; return state / 2 ** 32; };
}

export function layerClock(c: VirtualClock): LayerClock {
  return { now: () => c.now, after: (us, fn) => { let live = true; c.after(us, () => { if (live) fn(); }); return () => { live = false; }; } };
}

/** The stack one board runs over the simulated network (see the head of this file). */
export function simLinkStack(o: LinkStackOptions): LinkStack {
  const f = o.faults;
  const vc = layerClock(o.clock);
  const nodes = o.spec.boards.map((b) => b.node);
  const nodeOf = new Map(o.spec.boards.map((b) => [b.name, b.node]));
  const cuts = (f.partitions ?? []).map((p) => {
    const n = nodeOf.get(p.board);
    if (n === undefined) throw new Error(`--partition names board '${p.board}', which is not in the system (boards: ${[...nodeOf.keys()].join(", ")})`);
    return { node: n, from: p.fromStep * o.periodUs, to: p.toStep * o.periodUs };
  });
  const cut = (a: number, b: number) => cuts.some((c) => (c.node === a || c.node === b) && o.clock.now >= c.from && o.clock.now < c.to);
  const rnd = xorshift(o.seed * 7919 + o.node * 104729);
  const faulty = new FaultyTransport(o.port, { loss: f.loss, dup: f.dup, reorder: f.reorder, maxDelayUs: f.maxDelayUs ?? 20_000, seed: o.seed * 1000 + o.node, clock: vc });
  const cc = new CutAndCorrupt(faulty, cut, () => (f.corrupt ?? 0) > 0 && rnd() < f.corrupt!);
  const layer = new LinkLayer(cc, {
    peers: nodes, incarnation: o.incarnation ?? 1, key: f.key, clock: vc, rtoUs: 20_000, maxRtoUs: 400_000, helloUs: 20_000, ackDelayUs: 1_000,
    hello: () => encodeHello(helloInfo(o.spec, o.node)), checkHello: (src, body) => checkHello(o.spec, o.node, src, body),
    admit: roleCheck({ self: o.node, coordinator: o.coordinator, senderOfWire: wireSenders(o.spec) }),
  });
  const transport = new TaintCarrier(layer, nodes, o.fifo, o.carry);
  return { transport, layer, faults: () => ({ ...faulty.faults, ...cc.counts }), layerStats: () => layer.layerStats() };
}
