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
}

export class SimNetwork {
  private ports = new Map<number, SimTransport>();
  private lastArrival = new Map<string, number>();
  /** Frames sent and not yet delivered. */
  inFlight = 0;
  constructor(readonly clock: VirtualClock, private rng: Rng, readonly opts: NetworkOptions) {}

  attach(node: number): SimTransport {
    if (this.ports.has(node)) throw new Error(`sim network: node ${node} is already attached`);
    const t = new SimTransport(node, this);
    this.ports.set(node, t);
    return t;
  }
  nodes(): number[] { return [...this.ports.keys()].sort((a, b) => a - b); }

  /** @internal */
  carry(src: number, dst: number, frame: Uint8Array): void {
    if (src !== dst) this.opts.sendTap?.(this.clock.now, src, dst, frame);
    const dsts = dst === BROADCAST ? this.nodes().filter((n) => n !== src) : [dst];
    for (const d of dsts) {
      const to = this.ports.get(d);
      if (!to) { this.ports.get(src)!.counters.dropped["unknown-node"] = (this.ports.get(src)!.counters.dropped["unknown-node"] ?? 0) + 1; continue; }
      const key = `${src}>${d}`;
      const lat = src === d ? 0 : this.rng.int(this.opts.minLatency, this.opts.maxLatency);
      const t = Math.max(this.clock.now + lat, this.lastArrival.get(key) ?? 0); // FIFO per link
      this.lastArrival.set(key, t);
      this.inFlight++;
      this.clock.at(t, () => {
        this.inFlight--;
        this.opts.tap?.(t, src, d, frame);
        to.deliver(src, frame);
      });
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
