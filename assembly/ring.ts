// A bounded FIFO of variable-size records: a fixed array of record headers plus
// a byte ring for their payloads. Records leave from the front (reclamation)
// or the back (voiding). Allocation happens only at init; nothing grows later. A ring
// can keep index vectors (vec.ts) beside its records: nvec of them per record slot.
import { VB } from "./vec";

// record header layout, 12 x u32
export const R_IDX: u32 = 0;   // index the protocol reclaims by
export const R_IDX2: u32 = 4;
export const R_FLAGS: u32 = 8;
export const R_PEER: u32 = 12;
export const R_PORT: u32 = 16;
export const R_SEQ: u32 = 20;  // position in this ring since init (monotonic)
export const R_OFF: u32 = 24;  // absolute address of the payload
export const R_LEN: u32 = 28;  // payload length as given
export const R_A0: u32 = 32;
export const R_A1: u32 = 36;
export const R_A2: u32 = 40;
export const R_A3: u32 = 44;
export const REC_BYTES: u32 = 48;

// Payloads are 8-byte aligned and at least 8 bytes, so two records never share
// an offset and wrap detection can compare offsets.
// @ts-ignore: decorator
@inline export function alen(n: u32): u32 { return n == 0 ? 8 : (n + 7) & ~7; }

@unmanaged
export class Ring {
  recBase: usize = 0;
  recCap: u32 = 0;
  head: u32 = 0;      // slot of the oldest record
  count: u32 = 0;
  byteBase: usize = 0;
  byteCap: u32 = 0;
  used: u32 = 0;      // aligned payload bytes held
  peak: u32 = 0;
  nextSeq: u32 = 0;
  nvec: u32 = 0;
  vecBase: usize = 0;

  static create(recCap: u32, byteCap: u32, nvec: u32 = 0): Ring {
    const r = changetype<Ring>(heap.alloc(offsetof<Ring>()));
    r.recBase = heap.alloc(<usize>recCap * REC_BYTES);
    r.nvec = nvec;
    r.vecBase = nvec > 0 ? heap.alloc(<usize>recCap * nvec * VB) : 0;
    r.recCap = recCap;
    r.head = 0;
    r.count = 0;
    r.byteCap = byteCap & ~7;
    r.byteBase = heap.alloc(<usize>r.byteCap);
    r.used = 0;
    r.peak = 0;
    r.nextSeq = 0;
    return r;
  }

  // Address of the i-th record from the oldest (0 <= i < count).
  @inline at(i: u32): usize {
    let slot = this.head + i;
    if (slot >= this.recCap) slot -= this.recCap;
    return this.recBase + <usize>slot * REC_BYTES;
  }
  @inline oldest(): usize { return this.at(0); }
  // Vector k (< nvec) of the record whose header is at rec.
  @inline vec(rec: usize, k: u32): usize {
    const slot = <u32>((rec - this.recBase) / REC_BYTES);
    return this.vecBase + (<usize>slot * this.nvec + k) * VB;
  }
  @inline newest(): usize { return this.at(this.count - 1); }

  // Offset (relative to byteBase) where a payload of n bytes would go, or -1.
  fit(n: u32): i64 {
    const need = alen(n);
    if (this.count >= this.recCap || need > this.byteCap) return -1;
    if (this.count == 0) return 0;
    const h = <u32>(load<u32>(this.oldest(), R_OFF) - <u32>this.byteBase);
    const nw = this.newest();
    const nOff = <u32>(load<u32>(nw, R_OFF) - <u32>this.byteBase);
    const t = nOff + alen(load<u32>(nw, R_LEN));
    if (nOff >= h) {              // live bytes are [h, t)
      if (this.byteCap - t >= need) return t;
      if (h >= need) return 0;
      return -1;
    }
    // wrapped: live bytes are [h, cap) and [0, t)
    return h - t >= need ? <i64>t : -1;
  }

  // Appends a record with an n-byte payload area; returns its header or 0 when full.
  push(n: u32): usize {
    const off = this.fit(n);
    if (off < 0) return 0;
    const rec = this.at(this.count);
    memory.fill(rec, 0, REC_BYTES);
    if (this.nvec > 0) memory.fill(this.vec(rec, 0), 0, <usize>this.nvec * VB);
    store<u32>(rec, <u32>(this.byteBase + <usize>off), R_OFF);
    store<u32>(rec, n, R_LEN);
    store<u32>(rec, this.nextSeq, R_SEQ);
    this.nextSeq++;
    this.count++;
    this.used += alen(n);
    if (this.used > this.peak) this.peak = this.used;
    return rec;
  }

  // Removes the oldest record; returns the aligned bytes it held.
  popFront(): u32 {
    const b = alen(load<u32>(this.oldest(), R_LEN));
    this.head = this.head + 1 == this.recCap ? 0 : this.head + 1;
    this.count--;
    this.used -= b;
    if (this.count == 0) this.head = 0;
    return b;
  }

  // Removes the newest record (voiding); returns the aligned bytes it held.
  popBack(): u32 {
    const b = alen(load<u32>(this.newest(), R_LEN));
    this.count--;
    this.used -= b;
    if (this.count == 0) this.head = 0;
    return b;
  }

  // Drops every record; returns the bytes released.
  clear(): u32 {
    const b = this.used;
    this.head = 0;
    this.count = 0;
    this.used = 0;
    return b;
  }
}
