// Image upload over any link, in chunks with per-chunk integrity, resumable.
// Ground: UploadSender (go-back-N with a window). Board: UploadReceiver (keeps a
// partial file per image, fsynced, so an interrupted upload resumes where it
// stopped). Both are sans-I/O: they take frames and the time, and return frames.
import { createHash } from "node:crypto";
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
// zlib.crc32 only from Node 20.15: this one falls back to a table on older Node (20.11 on armv7l).
import { crc32 } from "../transport/framing/crc32.ts";
import { M, Reader, Writer, frame, MgmtError } from "./mgmt.ts";

export const imageId = (bytes: Uint8Array): Uint8Array => createHash("sha256").update(bytes).digest();
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const chunkCrc = (offset: number, data: Uint8Array) => crc32(Buffer.from(data), crc32(Buffer.from(new Writer().u32(offset).done())));

export function chunkFrame(id: Uint8Array, offset: number, data: Uint8Array): Uint8Array {
  return frame(M.CHUNK, new Writer().bytes(id.subarray(0, 8)).u32(offset).bytes(data).u32(chunkCrc(offset, data)).done());
}

export interface SenderStats { sentBytes: number; retransmitted: number; resumedFrom: number }

export class UploadSender {
  readonly id: Uint8Array;
  private acked = 0;
  private next = 0;
  private lastProgress = 0;
  private doneSent = false;
  result: { ok: boolean; text: string } | null = null;
  readonly stats: SenderStats = { sentBytes: 0, retransmitted: 0, resumedFrom: 0 };
  private started = false;

  constructor(readonly image: Uint8Array, readonly chunk = 1024, readonly window = 8, readonly timeoutMs = 500) {
    this.id = imageId(image);
  }
  get ackedBytes(): number { return this.acked; }

  /** The first frame: ask the board what it has. */
  start(now: number): Uint8Array[] {
    this.started = true;
    this.lastProgress = now;
    return [frame(M.QUERY, new Writer().bytes(this.id).u32(this.image.length).done())];
  }

  /** A management frame from the board; returns frames to send. */
  onFrame(type: number, body: Uint8Array, now: number): Uint8Array[] {
    const r = new Reader(body, "upload reply");
    if (type === M.HAVE) {
      const id = r.bytes(32, "image id");
      if (hex(id) !== hex(this.id)) return [];
      const have = r.u32("bytes held");
      this.acked = Math.min(have, this.image.length);
      this.stats.resumedFrom = this.acked;
      this.next = this.acked;
      this.lastProgress = now;
      return this.fill();
    }
    if (type === M.ACK) {
      const p = r.bytes(8, "image id prefix");
      if (hex(p) !== hex(this.id.subarray(0, 8))) return [];
      const have = r.u32("bytes held");
      if (have > this.acked) { this.acked = have; this.lastProgress = now; }
      if (this.next < this.acked) this.next = this.acked;
      return this.fill();
    }
    if (type === M.RESULT) {
      const id = r.bytes(32, "image id");
      if (hex(id) !== hex(this.id)) return [];
      const status = r.u8("status");
      this.result = { ok: status === 0, text: new TextDecoder().decode(r.rest()) };
      return [];
    }
    return [];
  }

  /** Call periodically: retransmits from the last acknowledged byte after a timeout. */
  tick(now: number): Uint8Array[] {
    if (!this.started || this.result) return [];
    if (now - this.lastProgress < this.timeoutMs) return [];
    this.lastProgress = now;
    if (this.acked >= this.image.length) { this.doneSent = false; return this.fill(); }
    this.stats.retransmitted += this.next - this.acked;
    this.next = this.acked; // go back N
    return this.fill();
  }

  private fill(): Uint8Array[] {
    const out: Uint8Array[] = [];
    if (this.acked >= this.image.length) {
      if (!this.doneSent) { this.doneSent = true; out.push(frame(M.DONE, this.id)); }
      return out;
    }
    while (this.next < this.image.length && this.next - this.acked < this.window * this.chunk) {
      const data = this.image.subarray(this.next, Math.min(this.image.length, this.next + this.chunk));
      out.push(chunkFrame(this.id, this.next, data));
      this.stats.sentBytes += data.length;
      this.next += data.length;
    }
    return out;
  }
}

export type Verdict = { ok: true; text: string } | { ok: false; text: string };

/** The board side. `accept` verifies and stages a complete image (signature, policy, slot). */
export class UploadReceiver {
  readonly dropped: Record<string, number> = {};
  /** Verdicts of the last few images, so a DONE re-sent after a lost RESULT gets the same answer. */
  private verdicts = new Map<string, Verdict>();
  private cur: { id: Uint8Array; size: number; path: string; have: number; fd: number; sinceSync: number } | null = null;

  /**
   * @param maxPartials partial uploads kept on disk for resumption; a query for
   *   another image evicts the oldest, so a peer cannot fill the disk with them.
   */
  /**
   * @param room called before a transfer opens with the bytes it still needs; returns
   *   a refusal reason when they would not fit (the state directory's quota), or null.
   */
  constructor(private dir: string, private maxSize: number, private accept: (image: Uint8Array) => Verdict, private maxPartials = 2,
    private room: (need: number) => string | null = () => null,
    /** Whether a transfer of this image (hex id) and size may open: null, or the refusal. */
    private authorise: (idHex: string, size: number) => string | null = () => null) {
    mkdirSync(dir, { recursive: true });
  }

  /** Deletes every partial upload (the transfer in progress included): space for what matters on a full disk. Returns bytes freed. */
  reclaim(): number {
    if (this.cur) { try { closeSync(this.cur.fd); } catch { /* already closed */ } this.cur = null; }
    let freed = 0;
    for (const f of readdirSync(this.dir)) {
      if (!f.endsWith(".part")) continue;
      try { freed += statSync(join(this.dir, f)).size; } catch { /* gone */ }
      try { unlinkSync(join(this.dir, f)); this.drop("reclaimed-partial"); } catch { /* gone */ }
    }
    return freed;
  }

  private drop(reason: string): void { this.dropped[reason] = (this.dropped[reason] ?? 0) + 1; }

  onFrame(type: number, body: Uint8Array): Uint8Array[] {
    try {
      return this.handle(type, body);
    } catch (e) {
      if (e instanceof MgmtError) { this.drop("malformed"); return []; }
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOSPC" || code === "EDQUOT" || code === "EFBIG" || code === "EIO" || code === "EROFS") {
        // The disk is full (or failing): refuse this image with the reason, and
        // reclaim every partial file so that telecommands keep working.
        const id = this.cur?.id ?? (body.length >= 32 && type !== M.CHUNK ? body.slice(0, 32) : null);
        this.drop(`storage-${code.toLowerCase()}`);
        const freed = this.reclaim();
        if (!id) return [];
        return [frame(M.RESULT, new Writer().bytes(id).u8(1).bytes(new TextEncoder().encode(
          `upload rejected: the board's storage failed (${code}: ${code === "ENOSPC" || code === "EDQUOT" ? "disk full" : "write error"}); the partial upload was discarded (${freed} bytes reclaimed); free space on the board, then upload again`)).done())];
      }
      throw e;
    }
  }

  private handle(type: number, body: Uint8Array): Uint8Array[] {
    const r = new Reader(body, "upload frame");
    if (type === M.QUERY) {
      const id = r.bytes(32, "image id").slice();
      const size = r.u32("size");
      if (size > this.maxSize) {
        return [frame(M.RESULT, new Writer().bytes(id).u8(1).bytes(new TextEncoder().encode(`upload rejected: image of ${size} bytes exceeds this board's limit of ${this.maxSize}`)).done())];
      }
      const denied = this.authorise(hex(id), size);
      if (denied) {
        this.drop("not-authorised");
        return [frame(M.RESULT, new Writer().bytes(id).u8(1).bytes(new TextEncoder().encode(`upload rejected: ${denied}`)).done())];
      }
      const held = this.cur && hex(this.cur.id) === hex(id) ? this.cur.have : this.partialSize(id);
      const full = this.room(Math.max(0, size - held));
      if (full) {
        if (!(this.cur && hex(this.cur.id) === hex(id))) this.drop("quota");
        return [frame(M.RESULT, new Writer().bytes(id).u8(1).bytes(new TextEncoder().encode(`upload rejected: ${full}`)).done())];
      }
      this.open(id, size);
      return [frame(M.HAVE, new Writer().bytes(id).u32(this.cur!.have).done())];
    }
    if (type === M.CHUNK) {
      if (body.length < 16) { this.drop("short-chunk"); return []; }
      const prefix = r.bytes(8, "image id prefix");
      const offset = r.u32("offset");
      const data = body.subarray(12, body.length - 4);
      const crc = new DataView(body.buffer, body.byteOffset + body.length - 4, 4).getUint32(0, true);
      const c = this.cur;
      if (!c || hex(prefix) !== hex(c.id.subarray(0, 8))) { this.drop("no-upload"); return []; }
      if (chunkCrc(offset, data) !== crc) { this.drop("crc"); return [this.ack()]; }
      if (offset !== c.have) { this.drop(offset < c.have ? "duplicate" : "gap"); return [this.ack()]; }
      if (c.have + data.length > c.size) { this.drop("oversized"); return [this.ack()]; }
      writeSync(c.fd, data, 0, data.length, offset);
      c.have += data.length;
      c.sinceSync += data.length;
      if (c.sinceSync >= 64 * 1024 || c.have === c.size) { fsyncSync(c.fd); c.sinceSync = 0; }
      return [this.ack()];
    }
    if (type === M.DONE) {
      const id = r.bytes(32, "image id").slice();
      const c = this.cur;
      const reply = (ok: boolean, text: string) => [frame(M.RESULT, new Writer().bytes(id).u8(ok ? 0 : 1).bytes(new TextEncoder().encode(text)).done())];
      const earlier = this.verdicts.get(hex(id));
      if ((!c || hex(id) !== hex(c.id)) && earlier) return reply(earlier.ok, earlier.text);
      if (!c || hex(id) !== hex(c.id)) return reply(false, "upload rejected: no transfer of this image is open; query first");
      if (c.have !== c.size) return reply(false, `upload rejected: only ${c.have} of ${c.size} bytes arrived`);
      fsyncSync(c.fd);
      closeSync(c.fd);
      const bytes = readFileSync(c.path);
      this.cur = null;
      unlinkSync(c.path);
      if (hex(imageId(bytes)) !== hex(id)) return reply(false, "upload rejected: the received bytes do not hash to the image id (corrupted in transit)");
      const v = this.accept(bytes);
      this.verdicts.set(hex(id), v);
      if (this.verdicts.size > 4) this.verdicts.delete(this.verdicts.keys().next().value!);
      return reply(v.ok, v.text);
    }
    this.drop("unknown-type");
    return [];
  }

  private ack(): Uint8Array {
    const c = this.cur!;
    return frame(M.ACK, new Writer().bytes(c.id.subarray(0, 8)).u32(c.have).done());
  }

  private open(id: Uint8Array, size: number): void {
    if (this.cur && hex(this.cur.id) === hex(id)) return;
    if (this.cur) { closeSync(this.cur.fd); this.cur = null; }
    const path = join(this.dir, `${hex(id)}.part`);
    if (!existsSync(path)) this.evict(this.maxPartials - 1);
    const have = existsSync(path) ? Math.min(statSync(path).size, size) : 0;
    const fd = openSync(path, existsSync(path) ? "r+" : "w+");
    this.cur = { id, size, path, have, fd, sinceSync: 0 };
  }

  private partialSize(id: Uint8Array): number {
    try { return statSync(join(this.dir, `${hex(id)}.part`)).size; } catch { return 0; }
  }

  private evict(keep: number): void {
    const parts = readdirSync(this.dir).filter((f) => f.endsWith(".part"))
      .map((f) => ({ f, t: statSync(join(this.dir, f)).mtimeMs })).sort((a, b) => b.t - a.t);
    for (const p of parts.slice(Math.max(0, keep))) {
      unlinkSync(join(this.dir, p.f));
      this.drop("evicted-partial");
    }
  }

  close(): void { if (this.cur) { closeSync(this.cur.fd); this.cur = null; } }
}

export { MgmtError };
