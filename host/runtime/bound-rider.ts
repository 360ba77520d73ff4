// A passed AT's bound riding on application frames (docs/wire.md, "A passed-AT bound
// riding"; docs/protocol.md, "The passed-AT bound rides on the next application frame").
//
// Within one batch of sends, the passedAt frame a passed AT makes waits for each peer's
// next application frame and rides in it; whatever peer has none by the end of the batch,
// or before this board sends that peer anything else, gets the passedAt frame alone. Every
// peer thus receives the same frames in the same order as without riding, the bound merged
// into the application frame that followed it.
import { BROADCAST } from "../transport/types.ts";
import { copyBytes, FrameBuf } from "./byte-pool.ts";

export class BoundRider {
  private frame: Uint8Array | null = null;
  /** the pending frame's bytes: queue() copies the frame it is given (its caller reuses its buffer) */
  private readonly buf = new FrameBuf(256);
  /** waiting[k]: peers[k] has not had the pending bound yet. */
  private readonly waiting: boolean[];
  private left = 0;

  constructor(private readonly peers: readonly number[], private readonly send: (dst: number, frame: Uint8Array) => void) {
    this.waiting = peers.map(() => false);
  }

  /** A new passedAt frame for every peer; one still pending goes out alone first. */
  queue(frame: Uint8Array): void {
    this.flush();
    if (this.peers.length === 0) return;
    copyBytes(this.buf.room(frame.length), 0, frame, 0, frame.length);
    this.frame = this.buf.view(frame.length);
    this.waiting.fill(true);
    this.left = this.peers.length;
  }

  /** The passedAt frame to ride on the application frame now going to `dst`, if `dst` still waits for it. */
  take(dst: number): Uint8Array | undefined {
    if (this.frame === null) return undefined;
    const k = this.peers.indexOf(dst);
    if (k < 0 || !this.waiting[k]) return undefined;
    const f = this.frame;
    this.waiting[k] = false;
    if (--this.left === 0) this.frame = null;
    return f;
  }

  /** Sends the pending passedAt frame alone to every peer still waiting: one broadcast when none had it. */
  flush(): void {
    const f = this.frame;
    if (f === null) return;
    this.frame = null;
    if (this.left === this.peers.length) { this.left = 0; this.send(BROADCAST, f); return; }
    this.left = 0;
    for (let k = 0; k < this.peers.length; k++) if (this.waiting[k]) { this.waiting[k] = false; this.send(this.peers[k], f); }
  }
}
