// Read-only status without the signing key (issue 10): the ground asks with a
// STATUS_Q management frame, the board answers with STATUS_R, as its profile's
// "status" decides:
//   "signed"      refused: status only by a signed status telecommand (the default)
//   "open"        anyone on the link may read it
//   "key:FILE"    the query carries a truncated HMAC-SHA256 under a shared
//                 read-only key (gsu keygen --status-key): a weaker credential
//                 than the ground's signing key, which commands nothing
// A board answers at most STATUS_RATE queries per second (the rest are counted
// and dropped), so a query cannot be used to flood the link with replies.
// docs/wire.md, "Management frames".
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { M, MgmtError, Reader, Writer, frame } from "./mgmt.ts";
import { readFileSync } from "node:fs";

const VERSION = 1;
const DOMAIN = Buffer.from("GSU-SQ-1");
export const STATUS_MAC = 16;
export const NONCE = 16;
/** Queries answered per second at most (a token bucket of this size). */
export const STATUS_RATE = 4;

export interface StatusQuery { timeMs: number; board: string; nonce: Uint8Array; mac?: Uint8Array; signed: Uint8Array }

function mac(key: Uint8Array, signed: Uint8Array): Buffer {
  return createHmac("sha256", key).update(DOMAIN).update(signed).digest().subarray(0, STATUS_MAC);
}

/** A STATUS_Q body: u8 version | u64 time ms | u8 b | board name | 16-byte nonce | [16-byte MAC with a key]. */
export function encodeStatusQuery(board: string, o: { key?: Uint8Array; timeMs?: number; nonce?: Uint8Array } = {}): { body: Uint8Array; nonce: Uint8Array } {
  const name = new TextEncoder().encode(board);
  if (name.length < 1 || name.length > 255) throw new MgmtError("a status query names the board (1..255 bytes)");
  const nonce = o.nonce ?? randomBytes(NONCE);
  const signed = new Writer().u8(VERSION).u64(BigInt(o.timeMs ?? Date.now())).u8(name.length).bytes(name).bytes(nonce).done();
  return { body: o.key ? Buffer.concat([signed, mac(o.key, signed)]) : signed, nonce };
}

export function decodeStatusQuery(b: Uint8Array): StatusQuery {
  const r = new Reader(b, "status query");
  const v = r.u8("version");
  if (v !== VERSION) throw new MgmtError(`status query: version ${v} is not supported (this board speaks ${VERSION})`);
  const timeMs = Number(r.u64("time"));
  const n = r.u8("board name length");
  const board = new TextDecoder().decode(r.bytes(n, "board name"));
  const nonce = r.bytes(NONCE, "nonce").slice();
  const signed = b.subarray(0, r.offset);
  const rest = r.rest();
  if (rest.length !== 0 && rest.length !== STATUS_MAC) throw new MgmtError(`status query: ${rest.length} bytes after the nonce; a MAC is ${STATUS_MAC}`);
  return { timeMs, board, nonce, mac: rest.length ? rest.slice() : undefined, signed };
}

export function statusReply(nonce: Uint8Array, ok: boolean, text: string): Uint8Array {
  return frame(M.STATUS_R, new Writer().bytes(nonce).u8(ok ? 0 : 1).bytes(new TextEncoder().encode(text)).done());
}

export function decodeStatusReply(b: Uint8Array): { nonce: Uint8Array; ok: boolean; text: string } {
  const r = new Reader(b, "status reply");
  const nonce = r.bytes(NONCE, "nonce").slice();
  const ok = r.u8("status") === 0;
  return { nonce, ok, text: new TextDecoder().decode(r.rest()) };
}

/** A status key file: 32 bytes as 64 hex digits (gsu keygen --status-key NAME writes NAME.status, mode 0600). */
export function loadStatusKey(path: string): Buffer {
  let text: string;
  try { text = readFileSync(path, "utf8"); } catch (e) {
    throw new MgmtError(`cannot read the status key ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const hex = text.replace(/\s+/g, "");
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new MgmtError(`${path} must hold a 32-byte status key as 64 hex digits (make one with: gsu keygen --status-key NAME)`);
  return Buffer.from(hex, "hex");
}

export type StatusMode = "signed" | "open" | { key: string };

/** The board side: decides whether a query is answered. */
export class StatusGate {
  private key: Buffer | null;
  private tokens = STATUS_RATE;
  private at: number;
  readonly dropped: Record<string, number> = {};
  constructor(private mode: StatusMode, private board: string, private windowMs: number, private now: () => number = Date.now) {
    this.key = typeof mode === "object" ? loadStatusKey(mode.key) : null;
    this.at = now();
  }

  private count(r: string): void { this.dropped[r] = (this.dropped[r] ?? 0) + 1; }

  /**
   * null: drop silently (rate limit, malformed, another board's query); else
   * whether to answer and, if not, the refusal text (bounded, no echo).
   */
  check(body: Uint8Array): { nonce: Uint8Array; ok: true } | { nonce: Uint8Array; ok: false; why: string } | null {
    const t = this.now();
    this.tokens = Math.min(STATUS_RATE, this.tokens + ((t - this.at) / 1000) * STATUS_RATE);
    this.at = t;
    if (this.tokens < 1) { this.count("status-rate"); return null; }
    this.tokens -= 1;
    let q: StatusQuery;
    try { q = decodeStatusQuery(body); } catch { this.count("status-malformed"); return null; }
    if (q.board !== this.board) { this.count("status-wrong-board"); return null; }
    if (this.mode === "signed") {
      this.count("status-refused");
      return { nonce: q.nonce, ok: false, why: `this board's profile has "status": "signed": read its status with a signed telecommand (gsu status --key KEY --target ${this.board})` };
    }
    if (this.key) {
      if (!q.mac || !timingSafeEqual(q.mac, mac(this.key, q.signed))) {
        this.count("status-mac");
        return { nonce: q.nonce, ok: false, why: `the status query does not carry a valid MAC under this board's status key (profile "status": "key:..."; gsu status --status-key FILE)` };
      }
      if (this.windowMs && Math.abs(q.timeMs - t) > this.windowMs) {
        this.count("status-stale");
        return { nonce: q.nonce, ok: false, why: `the status query was made ${Math.round(Math.abs(q.timeMs - t) / 1000)} s from this board's clock (window ${this.windowMs / 1000} s)` };
      }
    }
    return { nonce: q.nonce, ok: true };
  }
}
