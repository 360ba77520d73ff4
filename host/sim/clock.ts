// A virtual clock with an ordered agenda. Events at the same instant run in the
// order they were scheduled, so a run is a pure function of its seed.
export class VirtualClock {
  now = 0; // microseconds
  private heap: { t: number; seq: number; fn: () => void }[] = [];
  private seq = 0;

  at(t: number, fn: () => void): void {
    if (t < this.now) t = this.now;
    const h = this.heap;
    h.push({ t, seq: this.seq++, fn });
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.less(h[p], h[i])) break;
      [h[p], h[i]] = [h[i], h[p]];
      i = p;
    }
  }
  after(dt: number, fn: () => void): void { this.at(this.now + dt, fn); }

  private less(a: { t: number; seq: number }, b: { t: number; seq: number }): boolean {
    return a.t < b.t || (a.t === b.t && a.seq < b.seq);
  }

  private pop() {
    const h = this.heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l], h[m])) m = l;
        if (r < h.length && this.less(h[r], h[m])) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i], h[m]];
        i = m;
      }
    }
    return top;
  }

  /** Runs the agenda until it is empty or `until` (virtual µs) is passed. */
  run(until = Infinity): void {
    while (this.heap.length && this.heap[0].t <= until) {
      const e = this.pop();
      this.now = e.t;
      e.fn();
    }
  }
  get pending(): number { return this.heap.length; }
  /** Runs only the earliest event (the explorer steps the clock like a link); false if none. */
  runNext(): boolean {
    if (!this.heap.length) return false;
    const e = this.pop();
    this.now = e.t;
    e.fn();
    return true;
  }
}
