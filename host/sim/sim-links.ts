// Faulty links in the in-process testbed (gsu rehearse --link-loss, --link-dup,
// --link-corrupt, --partition): each board runs the real link layer
// (host/transport/reliable.ts) over a fault injector over the simulated network, as a
// board daemon runs it over a serial port or a CAN bus.
//
//   Board -> TaintCarrier -> LinkLayer -> Cut (partitions) -> FaultyTransport -> SimNetwork
//
// The simulator's ground-truth oracle marks frame objects as erroneous (derived from
// the injected fault), and the detail trace tags them with message ids. The link layer
// copies frames, so the carrier carries both inside the frame, in a trailer only the
// simulation adds and strips (flag byte, tag, tag length): it survives loss,
// retransmission and a peer's restart, which drops frames the layer had queued.
import type { Transport, TransportStats } from "../transport/types.ts";
import { LinkLayer, type LayerClock, type LayerStats } from "../transport/reliable.ts";
import { FaultyTransport, type FaultCounts } from "../transport/faulty.ts";
import { roleCheck, wireSenders } from "../runtime/roles.ts";
import { boundLength, carriesBound, payloadAt } from "../runtime/route.ts";
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

/** The oracle's marks of a frame, as the testbed keeps them. */
export interface Marks { erroneous(f: Uint8Array): boolean; tag(f: Uint8Array): string | undefined; mark(f: Uint8Array, erroneous: boolean, tag: string | undefined): void }

/** The step of an application frame (the payload's first u32: after the header, the route, a vector's components and a riding bound), or -1. */
export function appStep(f: Uint8Array): number {
  let i = payloadAt(f);
  if (i >= 0 && carriesBound(f)) { const n = boundLength(f, i); i = n < 0 ? -1 : i + n; }
  return i >= 0 && i + 4 <= f.length ? (f[i] | (f[i + 1] << 8) | (f[i + 2] << 16) | (f[i + 3] << 24)) >>> 0 : -1;
}

/** Application frames sent and not yet received (simulation only): serial -> who and which step. */
export type Outstanding = Map<number, { src: number; dst: number; step: number }>;

/** Carries the oracle's marks inside application frames across the link layer (see the head of this file). */
export class TaintCarrier implements Transport {
  readonly node: number;
  private static serial = 0;
  constructor(private inner: Transport, private marks: Marks, private peers: number[], private outstanding?: Outstanding) { this.node = inner.node; }
  send(dst: number, frame: Uint8Array): void {
    if (!isAppFrame(frame) || dst === this.node) return this.inner.send(dst, frame);
    const tag = new TextEncoder().encode(this.marks.tag(frame) ?? "");
    const out = new Uint8Array(frame.length + tag.length + 6);
    out.set(frame);
    out[frame.length] = this.marks.erroneous(frame) ? 1 : 0;
    out.set(tag, frame.length + 1);
    const serial = ++TaintCarrier.serial;
    new DataView(out.buffer).setUint32(out.length - 5, serial, true);
    out[out.length - 1] = tag.length;
    if (this.outstanding) {
      const step = appStep(frame);
      // a broadcast is one serial: outstanding until the first peer gets it (good enough for the crash window)
      for (const d of dst === 0xff ? this.peers.filter((n) => n !== this.node) : [dst]) this.outstanding.set(serial * 64 + (d & 63), { src: this.node, dst: d, step });
    }
    this.inner.send(dst, out);
  }
  onFrame(handler: (src: number, frame: Uint8Array) => void): void {
    this.inner.onFrame((src, f) => {
      if (!isAppFrame(f) || src === this.node) return handler(src, f);
      const n = f[f.length - 1];
      const serial = new DataView(f.buffer, f.byteOffset).getUint32(f.length - 5, true);
      this.outstanding?.delete(serial * 64 + (this.node & 63));
      const body = f.subarray(0, f.length - n - 6);
      this.marks.mark(body, f[body.length] === 1, n ? new TextDecoder().decode(f.subarray(body.length + 1, body.length + 1 + n)) : undefined);
      handler(src, body);
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
  get layerHints() { return this.inner.layerHints; }
  attachLayer(): void { this.inner.attachLayer?.(); }
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
  marks: Marks;
  /** The layer's incarnation (rises at every restart of the board). */
  incarnation?: number;
  /** A peer's new incarnation: it restarted (Board.peerRestarted). */
  onPeerRestarted?: (node: number) => void;
  /** Records application frames in flight (the crash window's ground truth). */
  outstanding?: Outstanding;
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
    peers: nodes, incarnation: o.incarnation ?? 1, restarted: (o.incarnation ?? 1) > 1, key: f.key, clock: vc, rtoUs: 20_000, maxRtoUs: 400_000, helloUs: 20_000, ackDelayUs: 1_000,
    hello: () => encodeHello(helloInfo(o.spec, o.node)), checkHello: (src, body) => checkHello(o.spec, o.node, src, body),
    admit: roleCheck({ self: o.node, coordinator: o.coordinator, senderOfWire: wireSenders(o.spec) }),
    onEvent: (e) => { if (e.type === "peer-restarted") o.onPeerRestarted?.(e.node); },
  });
  const transport = new TaintCarrier(layer, o.marks, nodes, o.outstanding);
  return { transport, layer, faults: () => ({ ...faulty.faults, ...cc.counts }), layerStats: () => layer.layerStats() };
}

/** A board's attachment to the network for one run of it: closed when the board crashes (its frames stop both ways). */
export class Gate implements Transport {
  readonly node: number;
  open = true;
  constructor(private inner: Transport) { this.node = inner.node; }
  get layerHints() { return this.inner.layerHints; }
  attachLayer(): void { this.inner.attachLayer?.(); }
  send(dst: number, frame: Uint8Array): void { if (this.open) this.inner.send(dst, frame); }
  onFrame(handler: (src: number, frame: Uint8Array) => void): void { this.inner.onFrame((src, f) => { if (this.open) handler(src, f); }); }
  stats(): TransportStats { return this.inner.stats(); }
  close(): Promise<void> { this.open = false; return Promise.resolve(); }
}
