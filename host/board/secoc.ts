// Authenticated protocol control frames between boards (issue 10), in the manner
// of AUTOSAR SecOC: a freshness value and a truncated MAC appended to the frame.
// docs/wire.md, "Authenticated control frames".
//
//   GSU header (2..11 bytes) | u64 freshness (LE, the sender's clock in µs, strictly rising) | 8-byte MAC
//   MAC = first 8 bytes of HMAC-SHA256(link key, "GSU-AUTH-1" | u8 src node | GSU header | freshness)
//
// Which frames: every protocol frame whose header kind is not 0 (app) and not the
// management marker 0xFF: passedAt (1), begin (2), bound (3), apply (4), counter
// (5), control/commit (6). A receiver with a link key accepts such a frame only
// when it comes from a board the system names, carries a valid MAC for that
// source node, and a freshness above the last it accepted from that node and
// within the freshness window of its own clock. Application frames (kind 0) are
// not authenticated (yet; per-deployment, see docs/wire.md).
import { createHmac, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";

export const AUTH_DOMAIN = Buffer.from("GSU-AUTH-1", "ascii");
export const FRESHNESS_BYTES = 8;
export const MAC_BYTES = 8;
export const AUTH_BYTES = FRESHNESS_BYTES + MAC_BYTES;

/** Header kind of a protocol frame (bits 7..5 of byte 0). */
export const kindOf = (f: Uint8Array): number => (f[0] ?? 0) >> 5;
/** Protocol control frames: every kind but app (0); 0xFF (kind 7) is a management frame, never here. */
export const isControl = (f: Uint8Array): boolean => f.length >= 1 && kindOf(f) !== 0 && f[0] !== 0xff;

export type AuthRefusal = "auth-missing" | "auth-mac" | "auth-replayed" | "auth-stale" | "auth-unknown-node";

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

function mac(key: Buffer, src: number, header: Uint8Array, fresh: Uint8Array): Buffer {
  return createHmac("sha256", key).update(AUTH_DOMAIN).update(Uint8Array.of(src & 0xff)).update(header).update(fresh).digest().subarray(0, MAC_BYTES);
}

export interface SecOcOptions {
  key: Buffer;
  /** This board's node id (the src the MAC binds). */
  node: number;
  /** Node ids of the boards the system names (frames from others are refused). */
  boards: Iterable<number>;
  /** A frame whose freshness is further than this from the receiver's clock is refused (µs). */
  windowUs: number;
  nowUs?: () => number;
  /**
   * Freshness values at or below this are refused from every node (default: this
   * receiver's clock when it starts): a frame captured before a restart cannot be
   * replayed to the restarted board, even within the window.
   */
  floorUs?: number;
}

export class SecOc {
  private last = new Map<number, bigint>();
  private sent = 0n;
  private boards: Set<number>;
  readonly refused: Record<AuthRefusal, number> = { "auth-missing": 0, "auth-mac": 0, "auth-replayed": 0, "auth-stale": 0, "auth-unknown-node": 0 };
  readonly accepted = { frames: 0 };
  private floor: bigint;
  constructor(private o: SecOcOptions) {
    this.boards = new Set(o.boards);
    this.floor = o.floorUs !== undefined ? BigInt(Math.round(o.floorUs)) : this.now();
  }

  private now(): bigint { return BigInt(Math.round(this.o.nowUs ? this.o.nowUs() : Date.now() * 1000)); }

  /** The frame with freshness and MAC appended (control frames; others unchanged). */
  protect(f: Uint8Array): Uint8Array {
    if (!isControl(f)) return f;
    let t = this.now();
    if (t <= this.sent) t = this.sent + 1n;
    this.sent = t;
    const fresh = new Uint8Array(FRESHNESS_BYTES);
    new DataView(fresh.buffer).setBigUint64(0, t, true);
    const out = new Uint8Array(f.length + AUTH_BYTES);
    out.set(f, 0);
    out.set(fresh, f.length);
    out.set(mac(this.o.key, this.o.node, f, fresh), f.length + FRESHNESS_BYTES);
    return out;
  }

  /**
   * Checks a received control frame from `src`: the frame without its trailer, or
   * the reason it is refused. Non-control frames pass unchanged.
   */
  verify(src: number, f: Uint8Array): { ok: true; frame: Uint8Array } | { ok: false; reason: AuthRefusal; detail: string } {
    if (!isControl(f)) return { ok: true, frame: f };
    const bad = (reason: AuthRefusal, detail: string) => { this.refused[reason]++; return { ok: false as const, reason, detail }; };
    if (!this.boards.has(src)) return bad("auth-unknown-node", `control frame (kind ${kindOf(f)}) from node ${src}, which is not a board of this system`);
    if (f.length < 1 + AUTH_BYTES) return bad("auth-missing", `control frame (kind ${kindOf(f)}) from node ${src} carries no authenticator (${f.length} bytes)`);
    const header = f.subarray(0, f.length - AUTH_BYTES);
    const fresh = f.subarray(header.length, header.length + FRESHNESS_BYTES);
    const tag = f.subarray(header.length + FRESHNESS_BYTES);
    const want = mac(this.o.key, src, header, fresh);
    if (!timingSafeEqual(Buffer.from(tag), want)) return bad("auth-mac", `control frame (kind ${kindOf(f)}) from node ${src}: MAC does not match (no key, another key, or altered)`);
    const t = new DataView(fresh.buffer, fresh.byteOffset, FRESHNESS_BYTES).getBigUint64(0, true);
    const off = t - this.now();
    const abs = off < 0n ? -off : off;
    if (abs > BigInt(Math.round(this.o.windowUs))) return bad("auth-stale", `control frame (kind ${kindOf(f)}) from node ${src}: freshness ${Number(abs / 1000n)} ms from this board's clock (window ${Math.round(this.o.windowUs / 1000)} ms)`);
    const last = this.last.get(src) ?? this.floor;
    if (t <= last) return bad("auth-replayed", `control frame (kind ${kindOf(f)}) from node ${src}: freshness ${t} not above ${last} (replayed, or sent before this board started)`);
    this.last.set(src, t);
    this.accepted.frames++;
    return { ok: true, frame: header.slice() };
  }
}
