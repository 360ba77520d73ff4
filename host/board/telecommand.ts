// Authenticated, replay-protected telecommands (upgrade, commit, abort, fault
// injection). Signed with Ed25519 by a ground key the board trusts; each key's
// sequence number must rise, and the board persists the last one it accepted.
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from "node:crypto";
import { existsSync, readFileSync, writeFileSync, renameSync, openSync, fsyncSync, closeSync } from "node:fs";
import { join } from "node:path";
import { Reader, Writer, MgmtError } from "./mgmt.ts";

export const OP = { upgrade: 1, commit: 2, abort: 3, fault: 4, status: 5 } as const;
export type Opcode = keyof typeof OP;
export const OP_NAME: Record<number, Opcode> = Object.fromEntries(Object.entries(OP).map(([k, v]) => [v, k as Opcode]));
const VERSION = 1;
const DOMAIN = new TextEncoder().encode("GSU-TC-1");

export interface Telecommand { op: Opcode; seq: number; timeMs: number; args: Record<string, unknown>; keyId: string }

function signedPart(tc: Telecommand): Uint8Array {
  const args = new TextEncoder().encode(JSON.stringify(tc.args));
  const key = new TextEncoder().encode(tc.keyId);
  if (args.length > 0xffff) throw new MgmtError(`telecommand arguments are ${args.length} bytes; at most 65535`);
  if (key.length > 255) throw new MgmtError(`key id '${tc.keyId}' is longer than 255 bytes`);
  return new Writer().u8(VERSION).u8(OP[tc.op]).u32(tc.seq).u64(BigInt(tc.timeMs)).u16(args.length).bytes(args).u8(key.length).bytes(key).done();
}

/** Encodes and signs: signed part, then the 64-byte Ed25519 signature over "GSU-TC-1" + signed part. */
export function encodeTelecommand(tc: Telecommand, privateKey: KeyObject | string): Uint8Array {
  const body = signedPart(tc);
  const key = typeof privateKey === "string" ? createPrivateKey(privateKey) : privateKey;
  const sig = sign(null, Buffer.concat([DOMAIN, body]), key);
  return new Writer().bytes(body).bytes(sig).done();
}

export function decodeTelecommand(b: Uint8Array): { tc: Telecommand; signed: Uint8Array; sig: Uint8Array } {
  const r = new Reader(b, "telecommand");
  const version = r.u8("version");
  if (version !== VERSION) throw new MgmtError(`telecommand: version ${version} is not supported (this board speaks ${VERSION})`);
  const op = r.u8("opcode");
  if (!OP_NAME[op]) throw new MgmtError(`telecommand: unknown opcode ${op}`);
  const seq = r.u32("seq");
  const timeMs = Number(r.u64("time"));
  const argLen = r.u16("argument length");
  const argBytes = r.bytes(argLen, "arguments");
  const keyLen = r.u8("key id length");
  const keyId = new TextDecoder().decode(r.bytes(keyLen, "key id"));
  const signedLen = r.offset;
  const sig = r.bytes(64, "signature");
  r.end("signature");
  let args: Record<string, unknown>;
  try { args = JSON.parse(new TextDecoder().decode(argBytes)); } catch { throw new MgmtError("telecommand: arguments are not JSON"); }
  if (typeof args !== "object" || args === null || Array.isArray(args)) throw new MgmtError("telecommand: arguments must be a JSON object");
  return { tc: { op: OP_NAME[op], seq, timeMs, args, keyId }, signed: b.subarray(0, signedLen), sig };
}

export type Refusal = "malformed" | "unknown-key" | "forged" | "replayed" | "storage-full";

/** Errors that mean the disk is full or failing (the write is refused, the daemon keeps running). */
export const STORAGE_ERRORS = new Set(["ENOSPC", "EDQUOT", "EFBIG", "EIO", "EROFS"]);

/** The board side: verifies, refuses and counts; persists the last accepted sequence per key. */
export class TelecommandGuard {
  readonly refused: Record<Refusal, number> = { malformed: 0, "unknown-key": 0, forged: 0, replayed: 0, "storage-full": 0 };
  /** Called when persisting fails for want of space: frees what it can (partial uploads). */
  onStorageFull: () => void = () => {};
  /** True while an accepted sequence number is held in memory only (the disk was full). */
  unpersisted = false;
  private last: Record<string, number> = {};
  private file: string;
  constructor(private trusted: Record<string, KeyObject>, stateDir: string) {
    this.file = join(stateDir, "telecommand-seq.json");
    if (existsSync(this.file)) {
      try { this.last = JSON.parse(readFileSync(this.file, "utf8")); } catch { this.last = {}; }
    }
  }

  check(b: Uint8Array): { ok: true; tc: Telecommand } | { ok: false; reason: Refusal; detail: string; seq: number } {
    let d;
    try { d = decodeTelecommand(b); } catch (e) {
      this.refused.malformed++;
      return { ok: false, reason: "malformed", detail: (e as Error).message, seq: 0 };
    }
    const { tc, signed, sig } = d;
    const key = Object.hasOwn(this.trusted, tc.keyId) ? this.trusted[tc.keyId] : undefined;
    if (!key) {
      this.refused["unknown-key"]++;
      return { ok: false, reason: "unknown-key", detail: `telecommand ${tc.op} #${tc.seq} is signed with key '${tc.keyId}', which this board does not trust; add its .pub to the profile's keys`, seq: tc.seq };
    }
    if (!verify(null, Buffer.concat([DOMAIN, signed]), key, sig)) {
      this.refused.forged++;
      return { ok: false, reason: "forged", detail: `telecommand ${tc.op} #${tc.seq}: signature does not match key '${tc.keyId}'`, seq: tc.seq };
    }
    const last = this.last[tc.keyId] ?? 0;
    if (tc.seq <= last) {
      this.refused.replayed++;
      return { ok: false, reason: "replayed", detail: `telecommand ${tc.op} #${tc.seq} from '${tc.keyId}' is not newer than #${last}: replayed or reordered`, seq: tc.seq };
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

  private persist(): void {
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.last));
    const fd = openSync(tmp, "r");
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, this.file);
  }
}

export function loadPublicKey(pem: string): KeyObject { return createPublicKey(pem); }
