// The serial frame envelope (docs/wire.md, "Serial links"), before COBS stuffing:
//
//   offset 0      dst   u8   destination node id, 0xFF = broadcast
//   offset 1      src   u8   source node id (0..0xFE)
//   offset 2      ctl   u8   bit 7 SOT (first frame of a transfer), bit 6 EOT (last
//                            frame), bits 5..0 frame index within the transfer mod 64
//   offset 3..    payload    0..maxFragment bytes of the transfer
//   last 4        crc   u32  CRC-32/ISO-HDLC over dst..payload, little endian
//
// A transfer of up to maxFragment bytes is one frame with ctl = 0xC0. A longer
// one is followed by its own CRC-32 (LE, over the transfer) and the whole is cut
// into frames of maxFragment bytes: the transfer CRC catches frames spliced from
// different transfers (as Cyphal's multi-frame CRC does), which the per-frame
// CRC and the 6-bit index alone cannot.
import { crc32 } from "./crc32.ts";
import { cobsEncode } from "./cobs.ts";

export const ENVELOPE_HEADER = 3;
export const ENVELOPE_TRAILER = 4;
export const ENVELOPE_OVERHEAD = ENVELOPE_HEADER + ENVELOPE_TRAILER;
/** Bytes of transfer CRC after a multi-frame transfer. */
export const TRANSFER_CRC = 4;
export const CTL_SOT = 0x80;
export const CTL_EOT = 0x40;
export const CTL_INDEX = 0x3f;
export const CTL_SINGLE = CTL_SOT | CTL_EOT;
/** Default largest payload per wire frame; a 64 KiB transfer is 64 frames. */
export const DEFAULT_MAX_FRAGMENT = 1024;

export interface Envelope { dst: number; src: number; ctl: number; payload: Uint8Array }

/** The unstuffed envelope bytes (header, payload, CRC). */
export function packEnvelope(e: Envelope): Uint8Array {
  const n = e.payload.length;
  const out = new Uint8Array(ENVELOPE_OVERHEAD + n);
  out[0] = e.dst;
  out[1] = e.src;
  out[2] = e.ctl;
  out.set(e.payload, ENVELOPE_HEADER);
  const c = crc32(out.subarray(0, ENVELOPE_HEADER + n));
  new DataView(out.buffer, out.byteOffset).setUint32(ENVELOPE_HEADER + n, c, true);
  return out;
}

/** Envelope, COBS-stuffed and delimited: exactly the bytes written to the wire. */
export function encodeWireFrame(e: Envelope): Uint8Array {
  return cobsEncode(packEnvelope(e), true);
}

/** A reassembled multi-frame transfer without its CRC, or null if the CRC fails. */
export function checkTransferCrc(whole: Uint8Array): Uint8Array | null {
  if (whole.length < TRANSFER_CRC) return null;
  const end = whole.length - TRANSFER_CRC;
  const want = new DataView(whole.buffer, whole.byteOffset, whole.length).getUint32(end, true);
  return crc32(whole.subarray(0, end)) === want ? whole.subarray(0, end) : null;
}

/** Checks length and CRC of unstuffed bytes; the envelope or a drop reason. */
export function unpackEnvelope(b: Uint8Array): Envelope | "short" | "crc" {
  if (b.length < ENVELOPE_OVERHEAD) return "short";
  const end = b.length - ENVELOPE_TRAILER;
  const want = new DataView(b.buffer, b.byteOffset, b.length).getUint32(end, true);
  if (crc32(b.subarray(0, end)) !== want) return "crc";
  return { dst: b[0], src: b[1], ctl: b[2], payload: b.subarray(ENVELOPE_HEADER, end) };
}

/** Splits a transfer into envelopes of at most `maxFragment` payload bytes. */
export function segment(dst: number, src: number, transfer: Uint8Array, maxFragment = DEFAULT_MAX_FRAGMENT): Envelope[] {
  if (!(maxFragment >= 1)) throw new RangeError(`maxFragment must be >= 1, not ${maxFragment}`);
  if (transfer.length > maxFragment) {
    const whole = new Uint8Array(transfer.length + TRANSFER_CRC);
    whole.set(transfer);
    new DataView(whole.buffer).setUint32(transfer.length, crc32(transfer), true);
    transfer = whole;
  }
  const count = Math.max(1, Math.ceil(transfer.length / maxFragment));
  const out: Envelope[] = [];
  for (let i = 0; i < count; i++) {
    const ctl = (i === 0 ? CTL_SOT : 0) | (i === count - 1 ? CTL_EOT : 0) | (i & CTL_INDEX);
    out.push({ dst, src, ctl, payload: transfer.subarray(i * maxFragment, Math.min(transfer.length, (i + 1) * maxFragment)) });
  }
  return out;
}
