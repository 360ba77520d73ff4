// A virtual clock with an ordered agenda. Events at the same instant run in the
// order they were scheduled, so a run is a pure function of its seed.
//
// An event is a function and up to three arguments (atWith): the simulated network
// schedules every frame's arrival, and a closure per frame was most of what a rehearsal
// allocated. Every agenda entry has the same shape.
type Fn3 = (a: unknown, b: unknown, c: unknown) => void;
interface Entry { t: number; seq: number; fn: Fn3; a: unknown; b: unknown; c: unknown }
const NOOP: Fn3 = () => {};

export class VirtualClock {
  now = 0; // microseconds
  private heap: Entry[] = [];
  /** Entries that have run, for reuse: no object per event (no caller ever holds an entry). */
  private free: Entry[] = [];
  private seq = 0;

  at(t: number, fn: () => void): void {
    this.push(t, fn as Fn3, undefined, undefined, undefined);
  }
  /** Runs fn(a, b, c) at t: as at(), without a closure. */
  atWith<A, B, C>(t: number, fn: (a: A, b: B, c: C) => void, a: A, b: B, c: C): void {
    this.push(t, fn as Fn3, a, b, c);
  }
  after(dt: number, fn: () => void): void { this.at(this.now + dt, fn); }

  private push(t: number, fn: Fn3, a: unknown, b: unknown, c: unknown): void {
    if (t < this.now) t = this.now;
    const h = this.heap;
    let e = this.free.pop();
    if (e) { e.t = t; e.seq = this.seq++; e.fn = fn; e.a = a; e.b = b; e.c = c; } else e = { t, seq: this.seq++, fn, a, b, c };
    let i = h.length;
    h.push(e);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.less(h[p], e)) break;
      h[i] = h[p];
      i = p;
    }
    h[i] = e;
  }

  private less(a: Entry, b: Entry): boolean {
    return a.t < b.t || (a.t === b.t && a.seq < b.seq);
  }

  private pop(): Entry {
    const h = this.heap;
    const top = h[0];
    const last = h.pop()!;
    const n = h.length;
    if (n) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = l < n && this.less(h[l], last) ? l : -1;
        if (r < n && this.less(h[r], m >= 0 ? h[m] : last)) m = r;
        if (m < 0) break;
        h[i] = h[m];
        i = m;
      }
      h[i] = last;
    }
    return top;
  }

  /** Runs the agenda until it is empty or `until` (virtual µs) is passed. */
  run(until = Infinity): void {
    while (this.heap.length && this.heap[0].t <= until) this.runTop();
  }
  /** Pops the earliest event, recycles its entry and runs it. */
  private runTop(): void {
    const e = this.pop();
    this.now = e.t;
    const fn = e.fn, a = e.a, b = e.b, c = e.c;
    e.fn = NOOP; e.a = e.b = e.c = undefined; // no references held for the garbage collector's sake
    this.free.push(e);
    fn(a, b, c);
  }
  get pending(): number { return this.heap.length; }
  /** Runs only the earliest event (the explorer steps the clock like a link); false if none. */
  runNext(): boolean {
    if (!this.heap.length) return false;
    this.runTop();
    return true;
  }
}
