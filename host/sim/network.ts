// The simulated network: per-link FIFO order, arbitrary interleaving across links,
// latencies from a seeded generator, all on a virtual clock. It implements the
// same Transport interface as the real links.
import { BROADCAST, emptyStats, type Transport, type TransportStats } from "../transport/types.ts";
import type { VirtualClock } from "./clock.ts";
import type { Rng } from "./rng.ts";

export interface NetworkOptions {
  minLatency: number; // µs
  maxLatency: number; // µs
  /** Observes every frame as it is delivered (traces, candump-style logs). */
  tap?: (t: number, src: number, dst: number, frame: Uint8Array) => void;
  /** Observes every frame once, as it is sent (dst may be BROADCAST): bus recordings. */
  sendTap?: (t: number, src: number, dst: number, frame: Uint8Array) => void;
  /** A frame sent was copied (the network keeps `copy`): the testbed moves its marks (oracle, tags) from `sent` to it. */
  copied?: (sent: Uint8Array, copy: Uint8Array) => void;
  /**
   * Exploration (host/sim/explore.ts): frames wait in per-link FIFO queues with no
   * latency, and drive() lets the scheduler pick which link's head frame, or the
   * clock's next timed event (a device input), runs next.
   */
  scheduler?: Scheduler;
  /**
   * Link faults (tests of the rounds under loss): called for every frame on every link
   * with its planned arrival time; returns the arrival time to use (a later one delays
   * it, as a retransmitting link layer does across an outage) or null to lose it.
   * Per-link FIFO order is kept: a delayed frame delays the frames behind it.
   */
  perturb?: (src: number, dst: number, frame: Uint8Array, arrival: number) => number | null;
}

/** An event the scheduler may run next: one link's head frame, or (frame null) the clock's next event. */
export interface Pending { link: string; src: number; dst: number; frame: Uint8Array | null }

export interface Scheduler {
  /** drive() starts: the network, and whatever the caller hands over (the testbed: its boards). */
  start?(net: SimNetwork, ctx: unknown): void;
  /** Picks the index of the next event among the enabled ones (sorted by link), or -1 to stop. */
  choose(enabled: readonly Pending[]): number;
  /** A frame entered a link's queue (sent by the event now running). */
  sent?(p: Pending): void;
  /** The chosen event has run. */
  ran?(p: Pending): void;
}

export class SimNetwork {
  private ports = new Map<number, SimTransport>();
  /** Per link (src * 65536 + dst): the last planned arrival, for per-link FIFO. */
  private lastArrival = new Map<number, number>();
  /** nodes() and, per sender, the other nodes (a broadcast's destinations); reset by attach. */
  private sorted: number[] | undefined;
  private others = new Map<number, number[]>();
  /** Frames sent and not yet delivered. */
  inFlight = 0;
  /** Frames lost by the perturb hook. */
  lost = 0;
  /** Scheduler mode: per-link FIFO queues, keyed "src>dst". */
  private queues = new Map<string, { src: number; dst: number; frames: Uint8Array[] }>();
  constructor(readonly clock: VirtualClock, private rng: Rng, readonly opts: NetworkOptions) {}

  attach(node: number): SimTransport {
    if (this.ports.has(node)) throw new Error(`sim network: node ${node} is already attached`);
    const t = new SimTransport(node, this);
    this.ports.set(node, t);
    this.sorted = undefined;
    this.others.clear();
    return t;
  }
  nodes(): number[] { return [...this.sortedNodes()]; }
  private sortedNodes(): number[] { return (this.sorted ??= [...this.ports.keys()].sort((a, b) => a - b)); }
  private othersOf(src: number): number[] {
    let o = this.others.get(src);
    if (!o) { o = this.sortedNodes().filter((n) => n !== src); this.others.set(src, o); }
    return o;
  }

  /** @internal */
  carry(src: number, dst: number, sent: Uint8Array): void {
    // a sender's frame is valid during send() only (Transport.send): the network keeps a copy,
    // and the simulation's marks on the frame follow it (NetworkOptions.copied)
    const frame = new Uint8Array(sent); // (the copy constructor: faster than slice() on a short frame)
    this.opts.copied?.(sent, frame);
    if (src !== dst) this.opts.sendTap?.(this.clock.now, src, dst, frame);
    if (dst !== BROADCAST) { this.carryTo(src, dst, frame); return; }
    for (const d of this.othersOf(src)) this.carryTo(src, d, frame);
  }

  private carryTo(src: number, d: number, frame: Uint8Array): void {
    const to = this.ports.get(d);
    if (!to) { this.ports.get(src)!.counters.dropped["unknown-node"] = (this.ports.get(src)!.counters.dropped["unknown-node"] ?? 0) + 1; return; }
    if (this.opts.scheduler) {
      const key = `${src}>${d}`;
      const q = this.queues.get(key) ?? this.queues.set(key, { src, dst: d, frames: [] }).get(key)!;
      q.frames.push(frame);
      this.inFlight++;
      this.opts.scheduler.sent?.({ link: key, src, dst: d, frame });
      return;
    }
    const key = src * 65536 + d;
    const lat = src === d ? 0 : this.rng.int(this.opts.minLatency, this.opts.maxLatency);
    let t = Math.max(this.clock.now + lat, this.lastArrival.get(key) ?? 0); // FIFO per link
    if (this.opts.perturb && src !== d) {
      const p = this.opts.perturb(src, d, frame, t);
      if (p === null) { this.lost++; return; }
      t = Math.max(t, p);
    }
    this.lastArrival.set(key, t);
    this.inFlight++;
    this.clock.atWith(t, this.arrive, to, src, frame); // no closure per frame
  }

  /** A frame's arrival (scheduled by carryTo; `this` bound: the clock calls it with no receiver). */
  private readonly arrive = (to: SimTransport, src: number, frame: Uint8Array): void => {
    this.inFlight--;
    this.opts.tap?.(this.clock.now, src, to.node, frame);
    to.deliver(src, frame);
  };

  // ---- scheduler mode --------------------------------------------------------------
  /** What may run next: every non-empty link's head frame (sorted by link), then the clock's next event. */
  pending(): Pending[] {
    const out: Pending[] = [];
    for (const k of [...this.queues.keys()].sort()) {
      const q = this.queues.get(k)!;
      if (q.frames.length) out.push({ link: k, src: q.src, dst: q.dst, frame: q.frames[0] });
    }
    if (this.clock.pending) out.push({ link: "clock", src: -1, dst: -1, frame: null });
    return out;
  }

  /** Every frame in flight, per link (sorted), oldest first. */
  queued(): { link: string; frames: readonly Uint8Array[] }[] {
    return [...this.queues.keys()].sort().filter((k) => this.queues.get(k)!.frames.length).map((k) => ({ link: k, frames: this.queues.get(k)!.frames }));
  }

  /** Runs the system under the scheduler until nothing is pending or it returns -1. */
  drive(ctx?: unknown): void {
    const s = this.opts.scheduler;
    if (!s) throw new Error("sim network: drive() needs a scheduler (NetworkOptions.scheduler)");
    s.start?.(this, ctx);
    for (;;) {
      const en = this.pending();
      if (!en.length) return;
      const i = s.choose(en);
      if (i < 0) return;
      const p = en[i];
      if (!p) throw new Error(`sim network: the scheduler chose ${i} of ${en.length} pending events`);
      if (p.frame === null) this.clock.runNext();
      else {
        this.queues.get(p.link)!.frames.shift();
        this.inFlight--;
        this.opts.tap?.(this.clock.now, p.src, p.dst, p.frame);
        this.ports.get(p.dst)!.deliver(p.src, p.frame);
      }
      s.ran?.(p);
    }
  }
}

export class SimTransport implements Transport {
  private handler: (src: number, frame: Uint8Array) => void = () => {};
  /** @internal */
  counters: TransportStats = emptyStats();
  constructor(readonly node: number, private net: SimNetwork) {}
  send(dst: number, frame: Uint8Array): void {
    this.counters.framesOut++;
    this.counters.bytesOut += frame.length;
    this.net.carry(this.node, dst, frame);
  }
  onFrame(h: (src: number, frame: Uint8Array) => void): void { this.handler = h; }
  /** @internal */
  deliver(src: number, frame: Uint8Array): void {
    this.counters.framesIn++;
    this.counters.bytesIn += frame.length;
    this.handler(src, frame);
  }
  stats(): TransportStats { return structuredClone(this.counters); }
  async close(): Promise<void> {}
}
