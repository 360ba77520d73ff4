// Streaming wire decoder: bytes in, events out (one per non-empty 0x00-delimited
// frame): a checked envelope, or a drop with its reason. Resynchronises at the
// next delimiter after garbage, bit flips, truncation or an oversized frame, and
// never holds more than maxFrame decoded bytes (its buffer is allocated once).
import { CobsDecoder } from "./cobs.ts";
import { DEFAULT_MAX_FRAGMENT, ENVELOPE_OVERHEAD, unpackEnvelope, type Envelope } from "./envelope.ts";

/** Why the wire decoder dropped a frame. */
export type WireDropReason =
  | "cobs"      // stuffing broken: a block ran past the delimiter (truncation, bit flip, garbage)
  | "oversize"  // more than maxFrame decoded bytes before the delimiter
  | "short"     // fewer bytes than the envelope's header and CRC
  | "crc";      // CRC-32 mismatch

export type WireEvent = { type: "frame"; frame: Envelope } | { type: "drop"; reason: WireDropReason; bytes: number };

export interface WireDecoderOptions {
  /** Largest envelope payload accepted (default 1024); the buffer holds this plus 7 bytes. */
  maxFragment?: number;
}

export class WireDecoder {
  readonly maxFrame: number;
  readonly drops: Record<WireDropReason, number> = { cobs: 0, oversize: 0, short: 0, crc: 0 };
  frames = 0;
  /** Raw bytes taken, including delimiters. */
  bytes = 0;
  private cobs: CobsDecoder;
  private skipping = false;  // oversized: discard until the next delimiter
  private raw = 0;           // raw bytes of the frame in progress

  constructor(opts: WireDecoderOptions = {}) {
    this.maxFrame = (opts.maxFragment ?? DEFAULT_MAX_FRAGMENT) + ENVELOPE_OVERHEAD;
    this.cobs = new CobsDecoder(this.maxFrame);
  }

  /** Decoded bytes held for the frame in progress (never more than maxFrame). */
  get buffered(): number { return this.cobs.length; }
  get capacity(): number { return this.cobs.capacity; }

  /** Feeds bytes; `emit` is called once per complete frame or drop, in order. */
  push(chunk: Uint8Array, emit: (e: WireEvent) => void): void {
    this.bytes += chunk.length;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      if (b === 0) { this.delimiter(emit); continue; }
      this.raw++;
      if (this.skipping) continue;
      if (this.cobs.push(b) === "overflow") { this.skipping = true; this.cobs.reset(); }
    }
  }

  /** Forgets a partial frame (port closed, reconnect); returns whether one was held. */
  reset(): boolean {
    const had = this.raw > 0;
    this.cobs.reset();
    this.skipping = false;
    this.raw = 0;
    return had;
  }

  private delimiter(emit: (e: WireEvent) => void): void {
    const raw = this.raw;
    this.raw = 0;
    if (raw === 0) return; // idle fill / leading delimiter
    if (this.skipping) { this.skipping = false; return this.drop("oversize", raw, emit); }
    const n = this.cobs.end();
    if (n < 0) return this.drop("cobs", raw, emit);
    // copy out: the buffer is reused for the next frame
    const env = unpackEnvelope(this.cobs.buf.slice(0, n));
    if (typeof env === "string") return this.drop(env, raw, emit);
    this.frames++;
    emit({ type: "frame", frame: env });
  }

  private drop(reason: WireDropReason, bytes: number, emit: (e: WireEvent) => void): void {
    this.drops[reason]++;
    emit({ type: "drop", reason, bytes });
  }
}
