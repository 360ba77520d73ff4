// Authentication of link-layer frames between boards (docs/wire.md, "The link layer"),
// in the manner of AUTOSAR SecOC: a truncated MAC over the frame and a freshness
// value. The freshness value is the link layer's own (sender incarnation, receiver
// incarnation, full sequence number): no clock, no clock synchronisation. The MAC
// is the first 8 bytes of HMAC-SHA256 under the deployment's link key.
import { createHmac, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { Hmac256 } from "./hmac.ts";

export const MAC_BYTES = 8;
export const LINK_AUTH_DOMAIN = Buffer.from("GSU-LINK-1", "ascii");

export class LinkKeyError extends Error {
  constructor(message: string) { super(message); this.name = "LinkKeyError"; }
}

/** Reads a link key file: 64 hex digits (32 bytes), whitespace ignored. */
export function loadLinkKey(path: string): Buffer {
  let text: string;
  try { text = readFileSync(path, "utf8"); } catch (e) {
    throw new LinkKeyError(`cannot read the link key ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const hex = text.replace(/\s+/g, "");
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new LinkKeyError(`${path} must hold a 32-byte link key as 64 hex digits (make one with: gsu keygen --link-key NAME)`);
  return Buffer.from(hex, "hex");
}

/**
 * The freshness value the MAC covers, never sent in full: the sender's and the
 * receiver's incarnations, and the full 32-bit counters whose low 8 bits the
 * header carries (sequence, the other stream's count, acknowledgements), each
 * as a u32 LE, in header order. Unused counters are left out.
 */
export interface Freshness { src: number; dst: number; incSrc: number; incDst: number; counters: number[] }

function input(f: Freshness): Buffer {
  const b = Buffer.alloc(2 + 8 + 4 * f.counters.length);
  b[0] = f.src & 0xff;
  b[1] = f.dst & 0xff;
  b.writeUInt32LE(f.incSrc >>> 0, 2);
  b.writeUInt32LE(f.incDst >>> 0, 6);
  f.counters.forEach((c, i) => b.writeUInt32LE(c >>> 0, 10 + 4 * i));
  return b;
}

/** MAC = HMAC-SHA256(key, "GSU-LINK-1" | u8 src | u8 dst | u32 incSrc | u32 incDst | u32 counters... | frame bytes before the MAC)[0..8]. */
export function linkMac(key: Uint8Array, fresh: Freshness, bytes: Uint8Array): Buffer {
  return createHmac("sha256", key).update(LINK_AUTH_DOMAIN).update(input(fresh)).update(bytes).digest().subarray(0, MAC_BYTES);
}

/** Constant-time check of the MAC at the end of `frame` (the MAC covers everything before it). */
export function checkMac(key: Uint8Array, fresh: Freshness, frame: Uint8Array): boolean {
  if (frame.length < MAC_BYTES) return false;
  const body = frame.subarray(0, frame.length - MAC_BYTES);
  const tag = frame.subarray(frame.length - MAC_BYTES);
  return timingSafeEqual(Buffer.from(tag), linkMac(key, fresh, body));
}

/**
 * The same MAC as linkMac, computed into the frame with no allocation per frame (the link
 * layer's, host/transport/reliable.ts): the key's HMAC states are made once (hmac.ts), the
 * freshness value is fed field by field. `counters[0..n)` as Freshness.counters.
 */
export class LinkAuthenticator {
  private readonly h: Hmac256;
  constructor(key: Uint8Array) { this.h = new Hmac256(key); }

  private feed(src: number, dst: number, incSrc: number, incDst: number, counters: number[], n: number, bytes: Uint8Array, len: number): Hmac256 {
    const h = this.h.begin().update(LINK_AUTH_DOMAIN).byte(src & 0xff).byte(dst & 0xff).u32le(incSrc >>> 0).u32le(incDst >>> 0);
    for (let i = 0; i < n; i++) h.u32le(counters[i] >>> 0);
    return h.update(bytes, 0, len);
  }

  /** Writes the MAC of bytes[0..len) at bytes[len..len + MAC_BYTES). */
  sign(src: number, dst: number, incSrc: number, incDst: number, counters: number[], n: number, bytes: Uint8Array, len: number): void {
    this.feed(src, dst, incSrc, incDst, counters, n, bytes, len).finish(bytes, len, MAC_BYTES);
  }

  /** Whether the last MAC_BYTES of `frame` are the MAC of the rest (constant time). */
  verify(src: number, dst: number, incSrc: number, incDst: number, counters: number[], n: number, frame: Uint8Array): boolean {
    if (frame.length < MAC_BYTES) return false;
    const len = frame.length - MAC_BYTES;
    return this.feed(src, dst, incSrc, incDst, counters, n, frame, len).matches(frame, len, MAC_BYTES);
  }
}
