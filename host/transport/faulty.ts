// A fault-injecting Transport wrapper, seeded: loses, duplicates and delays
// (reorders) whole frames on their way out. It wraps any Transport, so the same
// faults run on the in-process network (with the virtual clock) and on real links
// (a StreamTransport or SerialTransport over PTYs, a CanTransport). Management
// frames (0xFF) can be spared, so a test's ground link stays usable.
import { Rng } from "../sim/rng.ts";
import { realClock, type LayerClock } from "./reliable.ts";
import type { Transport, TransportStats } from "./types.ts";

export interface FaultOptions {
  /** Per-frame probabilities. */
  loss?: number;
  dup?: number;
  /** Probability that a frame is held back by a random delay in 1..maxDelayUs (so later frames overtake it). */
  reorder?: number;
  maxDelayUs?: number;
  seed?: number;
  /** Leave management frames (first byte 0xFF) alone (default true). */
  spareMgmt?: boolean;
  clock?: LayerClock;
}

export interface FaultCounts { frames: number; lost: number; duplicated: number; delayed: number }

export class FaultyTransport implements Transport {
  readonly node: number;
  readonly faults: FaultCounts = { frames: 0, lost: 0, duplicated: 0, delayed: 0 };
  private rng: Rng;
  private clock: LayerClock;
  /** Set false to stop injecting (e.g. let a run drain). */
  enabled = true;

  constructor(readonly inner: Transport, readonly o: FaultOptions) {
    this.node = inner.node;
    this.rng = new Rng(o.seed ?? 1);
    this.clock = o.clock ?? realClock;
    for (const [k, v] of Object.entries({ loss: o.loss, dup: o.dup, reorder: o.reorder })) {
      if (v !== undefined && !(v >= 0 && v < 1)) throw new RangeError(`fault injection: ${k} must be a probability in [0, 1), not ${v}`);
    }
  }

  send(dst: number, frame: Uint8Array): void {
    // a frame to this node never crosses a link: no fault applies to it
    if (!this.enabled || dst === this.node || (frame[0] === 0xff && this.o.spareMgmt !== false)) return this.inner.send(dst, frame);
    this.faults.frames++;
    if (this.rng.next() < (this.o.loss ?? 0)) { this.faults.lost++; return; }
    const copies = this.rng.next() < (this.o.dup ?? 0) ? 2 : 1;
    if (copies === 2) this.faults.duplicated++;
    for (let c = 0; c < copies; c++) {
      if (this.rng.next() < (this.o.reorder ?? 0)) {
        this.faults.delayed++;
        const f = frame.slice();
        this.clock.after(1 + this.rng.next() * (this.o.maxDelayUs ?? 20_000), () => this.inner.send(dst, f));
      } else this.inner.send(dst, frame);
    }
  }

  get layerHints() { return this.inner.layerHints; }
  attachLayer(): void { this.inner.attachLayer?.(); }
  onFrame(handler: (src: number, frame: Uint8Array) => void): void { this.inner.onFrame(handler); }
  stats(): TransportStats { return this.inner.stats(); }
  close(): Promise<void> { return this.inner.close(); }
}
