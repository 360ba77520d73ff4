// Reused byte buffers for the per-message path (issue 12: no per-message allocations in the
// runtime). A component's output is copied out of its linear memory into a buffer taken
// from the pool (App.OutputBuffers); the board gives it back once the message is sent (to
// the core's log, into a frame, to a device: each copies what it keeps). Buffers are kept
// per exact length, so a buffer handed out is a whole Uint8Array of that length (offset 0,
// its own ArrayBuffer) like a fresh one; after warm-up nothing is allocated. Bounded:
// lengths above MAX_LEN are not pooled, and at most PER_LEN buffers of a length are kept.

export const MAX_LEN = 4096;
const PER_LEN = 64;

export class BytePool {
  private readonly free: Uint8Array[][] = [];
  /** buffers made because none of that length was free (for the benches and tests) */
  made = 0;

  /** A buffer of exactly `len` bytes, contents undefined. */
  take(len: number): Uint8Array {
    const list = len <= MAX_LEN ? this.free[len] : undefined;
    const b = list?.pop();
    if (b) return b;
    this.made++;
    return new Uint8Array(len);
  }

  /** Gives `b` back: the caller and everyone it lent `b` to are done with it. */
  give(b: Uint8Array): void {
    const len = b.length;
    if (len === 0 || len > MAX_LEN || b.byteOffset !== 0 || b.buffer.byteLength !== len) return;
    const list = this.free[len] ?? (this.free[len] = []);
    if (list.length < PER_LEN) list.push(b);
  }
}

/**
 * Copies `len` bytes of `src` from `from` to `dst` at `at`. Short copies (every demo
 * message) run as a loop, which makes no view object; longer ones take one view (subarray)
 * for the engine's memcpy.
 */
export function copyBytes(dst: Uint8Array, at: number, src: Uint8Array, from: number, len: number): void {
  if (len <= 256) { for (let i = 0; i < len; i++) dst[at + i] = src[from + i]; return; }
  dst.set(src.subarray(from, from + len), at);
}

/**
 * A buffer the board builds frames in, handed on as views of exactly a frame's length
 * (Transport.send's frame is valid during the call only: a transport copies what it keeps).
 * The view of each length is made once and reused, so a frame costs no allocation.
 */
export class FrameBuf {
  buf: Uint8Array;
  private views: Uint8Array[] = [];
  constructor(size: number) { this.buf = new Uint8Array(size); }
  /** The buffer, with room for n bytes (a larger one, its views dropped, when it has not). */
  room(n: number): Uint8Array {
    if (n > this.buf.length) { this.buf = new Uint8Array(Math.max(n, 2 * this.buf.length)); this.views = []; }
    return this.buf;
  }
  /** Its first `len` bytes, as a view made once per length. */
  view(len: number): Uint8Array { return this.views[len] ?? (this.views[len] = this.buf.subarray(0, len)); }
  /** Whether `f` lies in this buffer (a view handed out: copy it to keep it). */
  holds(f: Uint8Array): boolean { return f.buffer === this.buf.buffer; }
}
