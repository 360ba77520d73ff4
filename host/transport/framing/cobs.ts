// Consistent Overhead Byte Stuffing (Cheshire & Baker, 1999), with 0x00 as the
// frame delimiter. Encoding removes every zero from the data: each block starts
// with a code byte 1..255 giving the distance to the next (implied) zero; code
// 0xFF means 254 data bytes and no implied zero. Overhead is at most one byte per
// 254 bytes of data (plus one), whatever the data is; a 0x00 then ends the frame.
// The incremental decoder (CobsDecoder) is the one the stream decoder uses; the
// one-shot functions are for tests, tools and the encoder side.

export const COBS_DELIMITER = 0x00;

/** Worst-case encoded size of `n` data bytes, without the delimiter. */
export function cobsMaxEncoded(n: number): number {
  return n + 1 + Math.floor(n / 254);
}

/** Encodes `data` and appends the 0x00 delimiter (`delimit` = true). */
export function cobsEncode(data: Uint8Array, delimit = true): Uint8Array {
  const out = new Uint8Array(cobsMaxEncoded(data.length) + (delimit ? 1 : 0));
  let codeAt = 0;
  let o = 1;
  let code = 1;
  for (let i = 0; i < data.length; i++) {
    const b = data[i];
    if (b === 0) {
      out[codeAt] = code;
      codeAt = o++;
      code = 1;
    } else {
      out[o++] = b;
      code++;
      if (code === 0xff) {
        out[codeAt] = code;
        codeAt = o++;
        code = 1;
      }
    }
  }
  out[codeAt] = code;
  if (delimit) out[o++] = COBS_DELIMITER;
  return out.subarray(0, o);
}

/** Decodes one frame (no delimiter); null if it is not valid COBS. */
export function cobsDecode(enc: Uint8Array): Uint8Array | null {
  const d = new CobsDecoder(enc.length);
  for (let i = 0; i < enc.length; i++) if (d.push(enc[i]) !== "ok") return null;
  const n = d.end();
  return n < 0 ? null : d.buf.slice(0, n);
}

/**
 * Byte-at-a-time COBS decoder into a fixed buffer of `capacity` bytes.
 * push(b) for each non-delimiter byte; end() at the delimiter returns the decoded
 * length, or -1 if the frame stopped inside a block (truncated / corrupt).
 * push returns "zero" for a 0x00 (caller's delimiter), "overflow" when the
 * decoded frame would exceed the capacity. Memory never grows.
 */
export class CobsDecoder {
  readonly buf: Uint8Array;
  private n = 0;       // decoded bytes so far
  private left = 0;    // data bytes still due in the current block
  private code = 0xff; // current block's code (0xff: no implied zero before the next block)
  constructor(readonly capacity: number) { this.buf = new Uint8Array(capacity); }

  get length(): number { return this.n; }

  push(b: number): "ok" | "overflow" | "zero" {
    if (b === 0) return "zero";
    if (this.left === 0) {
      // a code byte; the previous block (if any, and if < 0xff) implied a zero
      if (this.code !== 0xff) {
        if (this.n >= this.capacity) return "overflow";
        this.buf[this.n++] = 0;
      }
      this.code = b;
      this.left = b - 1;
      return "ok";
    }
    if (this.n >= this.capacity) return "overflow";
    this.buf[this.n++] = b;
    this.left--;
    return "ok";
  }

  /** Frame delimiter seen: the decoded length, or -1 if a block was cut short. */
  end(): number {
    const n = this.left === 0 ? this.n : -1;
    this.reset();
    return n;
  }

  reset(): void { this.n = 0; this.left = 0; this.code = 0xff; }
}
