// A process's checkpoint: the component's own snapshot (App.snapshotAt / snapshotInto), then
// the runtime's per-process trailer, all little endian:
//   erroneous u32 (the simulation's fallback oracle flag),
//   n u32, n x (input port u32, last step i32)                (the no-loss/no-duplicate oracle),
//   m u32, m x (output port u32, step u32, ordinal u32)        (output commit: output-commit.ts),
//   the component snapshot's length u32.
// Written in place at its offset in the core's memory, with no object per checkpoint.
import type { Instance } from "./board-types.ts";
import { wholeView } from "./data-view.ts";

const TRAILER_FIXED = 16;

/** The bytes a checkpoint of t can take (the core reserves them before it asks for one). */
export function snapshotBytes(t: Instance): number {
  return t.app.snapshotSize() + TRAILER_FIXED + 8 * (t.steps.size + 4) + 12 * t.outPos.size;
}

/** Writes checkpoints; one per board, reused (its Map callbacks are made once: a for-of over a Map makes an iterator and an entry per step). */
export class SnapshotWriter {
  private dv = wholeView(new ArrayBuffer(0));
  private at = 0;
  private readonly putStep = (step: number, port: number): void => {
    const dv = this.dv, o = this.at;
    dv.setUint32(o, port, true); dv.setInt32(o + 4, step, true);
    this.at = o + 8;
  };
  private readonly putOutPos = (p: { step: number; ord: number }, port: number): void => {
    const dv = this.dv, o = this.at;
    dv.setUint32(o, port, true); dv.setUint32(o + 4, p.step, true); dv.setUint32(o + 8, p.ord, true);
    this.at = o + 12;
  };

  /** t's checkpoint into the `cap` bytes at `at` of `mem`; returns its length. */
  write(t: Instance, mem: Uint8Array, at: number, cap: number): number {
    const n = t.app.snapshotAt ? t.app.snapshotAt(mem, at, cap) : t.app.snapshotInto(at === 0 && cap === mem.length ? mem : mem.subarray(at, at + cap));
    if (cap < n + TRAILER_FIXED + 8 * t.steps.size + 12 * t.outPos.size) throw new Error(`checkpoint of ${t.comp}(${t.gen}): ${cap} bytes cannot hold its trailer (bug: snapshotBytes)`);
    const dv = wholeView(mem.buffer), b = mem.byteOffset + at; // the trailer at b + o: no DataView per checkpoint
    dv.setUint32(b + n, t.erroneous ? 1 : 0, true);
    dv.setUint32(b + n + 4, t.steps.size, true);
    this.dv = dv; this.at = b + n + 8;
    t.steps.forEach(this.putStep);
    dv.setUint32(this.at, t.outPos.size, true); this.at += 4;
    t.outPos.forEach(this.putOutPos);
    dv.setUint32(this.at, n, true);
    return this.at + 4 - b;
  }
}

/** Restores t's component and trailer state from a checkpoint `write` made. */
export function restoreSnapshot(t: Instance, snap: Uint8Array): void {
  const dv = new DataView(snap.buffer, snap.byteOffset, snap.byteLength);
  const n = dv.getUint32(snap.length - 4, true);
  t.app.restoreFrom(snap.subarray(0, n));
  let o = n;
  t.erroneous = dv.getUint32(o, true) === 1; o += 4;
  const k = dv.getUint32(o, true); o += 4;
  t.steps = new Map();
  for (let i = 0; i < k; i++) { t.steps.set(dv.getUint32(o, true), dv.getInt32(o + 4, true)); o += 8; }
  const m = dv.getUint32(o, true); o += 4;
  t.outPos = new Map();
  for (let i = 0; i < m; i++) { t.outPos.set(dv.getUint32(o, true), { step: dv.getUint32(o + 4, true), ord: dv.getUint32(o + 8, true) }); o += 12; }
}
