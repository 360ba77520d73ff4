// Authenticated, replay-protected telecommands (upgrade, commit, abort, fault
// injection). Signed with Ed25519 by a ground key the board trusts; each key's
// sequence number must rise, and the board persists the last one it accepted.
import { createPrivateKey, createPublicKey, randomBytes, sign, verify, type KeyObject } from "node:crypto";
import { existsSync, readFileSync, renameSync, openSync, fsyncSync, closeSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { Reader, Writer, MgmtError } from "./mgmt.ts";
import { clip } from "./harden.ts";

export const OP = { upgrade: 1, commit: 2, abort: 3, fault: 4, status: 5, upload: 6, resync: 7 } as const;
export type Opcode = keyof typeof OP;
export const OP_NAME: Record<number, Opcode> = Object.fromEntries(Object.entries(OP).map(([k, v]) => [v, k as Opcode]));
// Version 2 (issue 10) adds the target board's name to the signed part: a
// command captured on one board's link is refused by every other board.
const VERSION = 2;
const DOMAIN = new TextEncoder().encode("GSU-TC-2");

export interface Telecommand {
  op: Opcode; seq: number; timeMs: number; args: Record<string, unknown>; keyId: string;
  /** The target board's name (its profile's "name"); signed. */
  board: string;
}

function signedPart(tc: Telecommand): Uint8Array {
  const args = new TextEncoder().encode(JSON.stringify(tc.args));
  const key = new TextEncoder().encode(tc.keyId);
  if (args.length > 0xffff) throw new MgmtError(`telecommand arguments are ${args.length} bytes; at most 65535`);
  if (key.length > 255) throw new MgmtError(`key id '${tc.keyId}' is longer than 255 bytes`);
  const board = new TextEncoder().encode(tc.board ?? "");
  if (board.length < 1 || board.length > 255) throw new MgmtError("a telecommand names its target board (the board profile's name, 1..255 bytes)");
  return new Writer().u8(VERSION).u8(OP[tc.op]).u32(tc.seq).u64(BigInt(tc.timeMs)).u16(args.length).bytes(args).u8(key.length).bytes(key)
    .u8(board.length).bytes(board).done();
}

/** Encodes and signs: signed part, then the 64-byte Ed25519 signature over "GSU-TC-2" + signed part. */
export function encodeTelecommand(tc: Telecommand, privateKey: KeyObject | string): Uint8Array {
  const body = signedPart(tc);
  const key = typeof privateKey === "string" ? createPrivateKey(privateKey) : privateKey;
  const sig = sign(null, Buffer.concat([DOMAIN, body]), key);
  return new Writer().bytes(body).bytes(sig).done();
}

export function decodeTelecommand(b: Uint8Array): { tc: Telecommand; signed: Uint8Array; sig: Uint8Array } {
  const r = new Reader(b, "telecommand");
  const version = r.u8("version");
  if (version !== VERSION) throw new MgmtError(`telecommand: version ${version} is not supported (this board speaks ${VERSION}, which names the target board; update the ground's gsu)`);
  const op = r.u8("opcode");
  if (!OP_NAME[op]) throw new MgmtError(`telecommand: unknown opcode ${op}`);
  const seq = r.u32("seq");
  const timeMs = Number(r.u64("time"));
  const argLen = r.u16("argument length");
  const argBytes = r.bytes(argLen, "arguments");
  const keyLen = r.u8("key id length");
  const keyId = new TextDecoder().decode(r.bytes(keyLen, "key id"));
  const boardLen = r.u8("target board length");
  const board = new TextDecoder().decode(r.bytes(boardLen, "target board"));
  const signedLen = r.offset;
  const sig = r.bytes(64, "signature");
  r.end("signature");
  let args: Record<string, unknown>;
  try { args = JSON.parse(new TextDecoder().decode(argBytes)); } catch { throw new MgmtError("telecommand: arguments are not JSON"); }
  if (typeof args !== "object" || args === null || Array.isArray(args)) throw new MgmtError("telecommand: arguments must be a JSON object");
  return { tc: { op: OP_NAME[op], seq, timeMs, args, keyId, board }, signed: b.subarray(0, signedLen), sig };
}

export type Refusal = "malformed" | "unknown-key" | "forged" | "replayed" | "storage-full" | "replay-state-corrupt" | "wrong-board" | "stale" | "revoked" | "bad-challenge";

export interface GuardOptions {
  /** This board's name: a command signed for another board is refused. Unset: any target (tests, tools). */
  board?: string;
  /** A command whose signed time is further than this from the board's clock is refused (ms; 0 or unset: no check). */
  windowMs?: number;
  now?: () => number;
  /** Revoked key ids -> why: their commands are refused as "revoked" (not "unknown-key"). */
  revoked?: Record<string, string>;
}

/** Reserved entry of the replay-state file (not a key id: key ids start with a letter or digit). */
const FLOOR = "@floorMs";

/** Errors that mean the disk is full or failing (the write is refused, the daemon keeps running). */
export const STORAGE_ERRORS = new Set(["ENOSPC", "EDQUOT", "EFBIG", "EIO", "EROFS"]);

/** The board side: verifies, refuses and counts; persists the last accepted sequence per key. */
export class TelecommandGuard {
  readonly refused: Record<Refusal, number> = { malformed: 0, "unknown-key": 0, forged: 0, replayed: 0, "storage-full": 0, "replay-state-corrupt": 0, "wrong-board": 0, stale: 0, revoked: 0, "bad-challenge": 0 };
  /**
   * Set when the replay state file exists but cannot be trusted (empty, not JSON,
   * bad numbers): every telecommand is refused until an operator repairs it. Never
   * read as "nothing accepted yet", which would accept any captured old command.
   */
  corrupt: { file: string; why: string; recover: string; challenge: string } | null = null;
  /** Commands signed before this time (ms) are refused: set by a resync (captured commands from before it cannot be replayed). */
  floorMs = 0;
  /** Called when persisting fails for want of space: frees what it can (partial uploads). */
  onStorageFull: () => void = () => {};
  /** True while an accepted sequence number is held in memory only (the disk was full). */
  unpersisted = false;
  private last: Record<string, number> = {};
  private file: string;
  constructor(private trusted: Record<string, KeyObject>, stateDir: string, private opts: GuardOptions = {}) {
    this.file = join(stateDir, "telecommand-seq.json");
    if (existsSync(this.file)) {
      const why = TelecommandGuard.problem(this.file);
      if (typeof why === "string") {
        // a fresh challenge per start: a resync captured earlier cannot be replayed
        const challenge = randomBytes(16).toString("hex");
        this.corrupt = {
          file: this.file, why, challenge,
          recover: `send a signed resync telecommand with challenge ${challenge} (gsu resync --target ${opts.board ?? "BOARD"} --key KEY: it reads the challenge and sends it), ` +
            `or stop the board, write into ${this.file} the last sequence number the ground used per key id for this board (in the ground's KEY.seq, "KEYID@BOARD": N; here {"KEYID": N}), then restart it`,
        };
      } else {
        this.floorMs = why[FLOOR] ?? 0;
        delete why[FLOOR];
        this.last = why;
      }
    }
  }

  /** The replay state in `file`, or what is wrong with it. */
  static problem(file: string): Record<string, number> | string {
    let text: string;
    try { text = readFileSync(file, "utf8"); } catch (e) { return `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`; }
    if (text.trim() === "") return "is empty (a write was cut short, or the file was truncated)";
    let j: unknown;
    try { j = JSON.parse(text); } catch { return "is not JSON"; }
    if (typeof j !== "object" || j === null || Array.isArray(j)) return "is not a JSON object of key id -> last sequence number";
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(j)) {
      if (k === FLOOR) {
        if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) return `holds a bad ${FLOOR} (the time of the last resync)`;
        out[k] = v;
        continue;
      }
      if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 0xffffffff) return `holds a bad sequence number for key id ${JSON.stringify(k.slice(0, 64))}`;
      out[k] = v;
    }
    return out;
  }

  check(b: Uint8Array): { ok: true; tc: Telecommand } | { ok: false; reason: Refusal; detail: string; seq: number } {
    let d;
    try { d = decodeTelecommand(b); } catch (e) {
      this.refused.malformed++;
      return { ok: false, reason: "malformed", detail: (e as Error).message, seq: 0 };
    }
    const { tc, signed, sig } = d;
    if (this.corrupt && tc.op !== "resync") {
      this.refused["replay-state-corrupt"]++;
      return { ok: false, reason: "replay-state-corrupt", detail: `telecommands are refused: the replay state ${this.corrupt.file} ${this.corrupt.why}; to recover, ${this.corrupt.recover}`, seq: tc.seq };
    }
    const key = Object.hasOwn(this.trusted, tc.keyId) ? this.trusted[tc.keyId] : undefined;
    if (!key && this.opts.revoked && Object.hasOwn(this.opts.revoked, tc.keyId)) {
      this.refused.revoked++;
      return { ok: false, reason: "revoked", detail: `telecommand ${tc.op} #${tc.seq} is signed with key '${clip(tc.keyId, 64)}', which this board's profile revokes (${clip(this.opts.revoked[tc.keyId], 64)})`, seq: tc.seq };
    }
    if (!key) {
      this.refused["unknown-key"]++;
      return { ok: false, reason: "unknown-key", detail: `telecommand ${tc.op} #${tc.seq} is signed with key '${clip(tc.keyId, 64)}', which this board does not trust; add its .pub to the profile's keys`, seq: tc.seq };
    }
    if (!verify(null, Buffer.concat([DOMAIN, signed]), key, sig)) {
      this.refused.forged++;
      return { ok: false, reason: "forged", detail: `telecommand ${tc.op} #${tc.seq}: signature does not match key '${clip(tc.keyId, 64)}'`, seq: tc.seq };
    }
    if (this.opts.board !== undefined && tc.board !== this.opts.board) {
      this.refused["wrong-board"]++;
      return { ok: false, reason: "wrong-board", detail: `telecommand ${tc.op} #${tc.seq} is for board '${clip(tc.board, 64)}', and this is '${this.opts.board}': captured on another board's link, or sent to the wrong link (gsu --target)`, seq: tc.seq };
    }
    if (this.opts.windowMs) {
      const now = (this.opts.now ?? Date.now)();
      const off = tc.timeMs - now;
      if (Math.abs(off) > this.opts.windowMs) {
        this.refused.stale++;
        return { ok: false, reason: "stale", detail: `telecommand ${tc.op} #${tc.seq} was signed ${Math.round(Math.abs(off) / 1000)} s ${off < 0 ? "before" : "after"} this board's clock; the profile's telecommandWindowSeconds is ${this.opts.windowMs / 1000} (delayed or withheld, or a clock is wrong)`, seq: tc.seq };
      }
    }
    if (this.corrupt) return this.resync(tc);
    if (this.floorMs && tc.timeMs < this.floorMs) {
      this.refused.replayed++;
      return { ok: false, reason: "replayed", detail: `telecommand ${tc.op} #${tc.seq} was signed before the replay state was resynced (${new Date(this.floorMs).toISOString()}): captured earlier, or a ground clock is behind`, seq: tc.seq };
    }
    const last = this.last[tc.keyId] ?? 0;
    if (tc.seq <= last) {
      this.refused.replayed++;
      return { ok: false, reason: "replayed", detail: `telecommand ${tc.op} #${tc.seq} from '${clip(tc.keyId, 64)}' is not newer than #${last}: replayed or reordered`, seq: tc.seq };
    }
    // Used from now on, persisted or not: within this process it can never be replayed.
    this.last[tc.keyId] = tc.seq;
    let failed: string | null = null;
    for (let attempt = 0; attempt < 2; attempt++) {
      try { this.persist(); failed = null; this.unpersisted = false; break; } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? "";
        if (!STORAGE_ERRORS.has(code)) throw e;
        failed = code;
        if (attempt === 0) this.onStorageFull();
      }
    }
    if (failed) {
      this.unpersisted = true;
      // status changes nothing: it is answered on a full disk (its sequence number is
      // held in memory); a command that changes the board needs its replay state on disk.
      if (tc.op === "status") return { ok: true, tc };
      this.refused["storage-full"]++;
      return { ok: false, reason: "storage-full", detail: `telecommand ${tc.op} #${tc.seq}: the board cannot persist its replay state (${failed}: disk full or failing); free space in the state directory and send it again with a new sequence number (status still works)`, seq: tc.seq };
    }
    return { ok: true, tc };
  }

  /**
   * A resync while the replay state is corrupt: signed by a trusted key, for this
   * board, within the time window, quoting this start's challenge. The new state
   * is the signer's sequence number and a floor at the command's signed time: any
   * command signed before it (by any key) stays refused, so nothing captured
   * before the resync can be replayed after it.
   */
  private resync(tc: Telecommand): { ok: true; tc: Telecommand } | { ok: false; reason: Refusal; detail: string; seq: number } {
    const c = this.corrupt!;
    if (typeof tc.args.challenge !== "string" || tc.args.challenge !== c.challenge) {
      this.refused["bad-challenge"]++;
      return { ok: false, reason: "bad-challenge", detail: `resync #${tc.seq} quotes challenge ${clip(String(tc.args.challenge ?? "(none)"), 40)}; this start's challenge is ${c.challenge} (a resync from before the last restart, or replayed)`, seq: tc.seq };
    }
    const before = { last: this.last, floor: this.floorMs };
    this.last = { [tc.keyId]: tc.seq };
    this.floorMs = tc.timeMs;
    try { this.persist(); } catch (e) {
      this.last = before.last; this.floorMs = before.floor;
      const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      this.refused["storage-full"]++;
      return { ok: false, reason: "storage-full", detail: `resync #${tc.seq}: the new replay state cannot be written (${clip(code, 40)}); free space in the state directory and resync again`, seq: tc.seq };
    }
    this.corrupt = null;
    return { ok: true, tc };
  }

  /** Write a temp file, fsync it, rename it over the state file, fsync the directory (so the rename itself survives a power cut). */
  private persist(): void {
    const tmp = `${this.file}.tmp`;
    const fd = openSync(tmp, "w", 0o600);
    try { writeSync(fd, JSON.stringify(this.floorMs ? { ...this.last, [FLOOR]: this.floorMs } : this.last)); fsyncSync(fd); } finally { closeSync(fd); }
    renameSync(tmp, this.file);
    const dir = openSync(dirname(this.file), "r");
    try { fsyncSync(dir); } finally { closeSync(dir); }
  }
}

export function loadPublicKey(pem: string): KeyObject { return createPublicKey(pem); }
