// The board's outbox (issue 12: no per-message allocations in the runtime): the outputs its
// components emitted and it has not sent yet. Entries, their queues and their bytes are
// reused: an entry goes back to the free list, and its bytes to the byte pool, once its
// batch is sent, unless something still holds it (a send held for after a recovery or a
// full store: `held`). A message's position on its port (output-commit.ts) is two numbers
// in the entry; the port's last position (Instance.outPos) is updated in place.
import { copyBytes, type BytePool } from "./byte-pool.ts";
import { stepOf, type Instance } from "./board-types.ts";

/** One output of a component. */
export interface Outgoing {
  inst: Instance;
  port: number;
  bytes: Uint8Array;
  /** simulation only: derives from the fault */
  bad: boolean;
  /** its position on the port (a message with a step; output-commit.ts), step -1 when it has none */
  step: number;
  ord: number;
  /** something keeps this entry past its batch: not reused */
  held: boolean;
}

/** Outputs in order; clearing keeps the array's capacity (length = 0 would give it up). */
export class OutQueue {
  readonly items: Outgoing[] = [];
  n = 0;
  get length(): number { return this.n; }
  push(o: Outgoing): void { this.items[this.n++] = o; }
  /** The entries as a new array (the rare paths: a recovery, the fallback oracle). */
  toArray(from = 0): Outgoing[] { return this.items.slice(from, this.n); }
  clear(): void { for (let i = 0; i < this.n; i++) this.items[i] = undefined as unknown as Outgoing; this.n = 0; }
}

const NO_INST = undefined as unknown as Instance;
const EMPTY = new Uint8Array(0);

export class Outbox {
  queue = new OutQueue();
  private spare: OutQueue | null = null;
  private readonly free: Outgoing[] = [];
  constructor(private readonly pool: BytePool) {}

  /**
   * A component's output, on the queue. `owned`: `bytes` is the board's to keep (the app
   * took it from the pool, or made it fresh for this call); otherwise it is copied.
   */
  emit(inst: Instance, port: number, bytes: Uint8Array, owned: boolean, bad: boolean): void {
    let b = bytes;
    if (!owned) { b = this.pool.take(bytes.length); copyBytes(b, 0, bytes, 0, bytes.length); }
    const o = this.free.pop() ?? { inst, port, bytes: b, bad, step: -1, ord: 0, held: false };
    o.inst = inst; o.port = port; o.bytes = b; o.bad = bad; o.held = false;
    const step = stepOf(b);
    if (step !== undefined) {
      let m = inst.outPos.get(port);
      if (!m) inst.outPos.set(port, (m = { step, ord: 0 }));
      else if (m.step === step) m.ord++;
      else { m.step = step; m.ord = 0; }
      o.step = step; o.ord = m.ord;
    } else { o.step = -1; o.ord = 0; }
    this.queue.push(o);
  }

  /** The queued outputs for a flush; the outbox left empty, in a recycled queue. */
  take(): OutQueue {
    const b = this.queue;
    this.queue = this.spare ?? new OutQueue();
    this.spare = null; // a nested flush takes a new queue, never this one
    return b;
  }

  /** A taken queue is done with: its entries (those nothing holds) and their bytes are reused. */
  recycle(b: OutQueue): void {
    for (let i = 0; i < b.n; i++) {
      const o = b.items[i];
      if (o.held) continue;
      this.pool.give(o.bytes);
      o.bytes = EMPTY; o.inst = NO_INST;
      this.free.push(o);
    }
    b.clear();
    this.spare = b;
  }
}
