// The board's event log: every event packet the board sends to the ground is also kept
// on the board, in a bounded ring in the state directory (as cFS EVS keeps its local
// event log and F Prime its event buffer), and sent again when a ground asks for it.
// So a rollback that happened while no ground listened reaches the ground when one
// connects (the ground server asks on first contact and every few seconds).
//
// On disk (STATE/events/):
//   ring-id            8 hex digits, made when the ring is first created; a ground that
//                      knows another id asks again from the oldest event held
//   seg-<first>.jsonl  segments, one JSON line per event:
//                        {"seq":N,"p":"<CCSDS event packet, hex>","c":<CRC-32 of "N:hex">}
//                      at most two; a new segment starts when the newest reaches half
//                      the ring's bytes, and the oldest is then deleted, so the ring
//                      never holds more than `maxBytes` (plus one line)
// Sequence numbers start at 1 and only go up, across restarts (the newest held + 1).
// A line that does not parse or whose CRC does not match (a torn write at power loss,
// a flipped bit) is skipped and counted in `corrupt`; the daemon reports it as an
// EVENT_LOG_CORRUPT event and keeps running. Write errors (disk full) are counted,
// never thrown: the event still goes to the ground live.
//
// Wire (docs/wire.md, "Event log"): EV_Q ground->board, EV_R board->ground.
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
// zlib.crc32 only from Node 20.15: this one falls back to a table on older Node (20.11 on armv7l).
import { crc32 } from "../transport/framing/crc32.ts";
import { M, Reader, Writer, frame } from "./mgmt.ts";

export interface StoredEvent { seq: number; packet: Uint8Array }

export interface EventLogOptions {
  /** Bytes the ring may hold on disk (default 256 KiB); two segments of half that. */
  maxBytes?: number;
  /** fsync after every event (default true). */
  sync?: boolean;
}

export interface EventLogCorruption { file: string; lines: number; why: string }

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
const lineCrc = (seq: number, h: string) => crc32(Buffer.from(`${seq}:${h}`));

export class EventLog {
  readonly dir: string;
  readonly maxBytes: number;
  /** This ring's id (u32): a new ring (state directory wiped) gets a new one. */
  readonly ringId: number;
  /** Events held, oldest first (the ring's contents; bounded by maxBytes on disk). */
  private held: { seq: number; packet: Uint8Array; seg: number }[] = [];
  private segs: { first: number; bytes: number }[] = [];
  private fd: number | null = null;
  private last = 0;
  private sync: boolean;
  /** What was skipped when the ring was read at start (null: nothing). */
  readonly corrupt: EventLogCorruption | null = null;
  readonly counters = { appended: 0, writeErrors: 0, served: 0, refused: 0 };
  lastError: string | null = null;

  constructor(stateDir: string, o: EventLogOptions = {}) {
    this.dir = join(stateDir, "events");
    this.maxBytes = o.maxBytes ?? 256 * 1024;
    this.sync = o.sync ?? true;
    mkdirSync(this.dir, { recursive: true });
    let id: number | null = null;
    try {
      const t = readFileSync(join(this.dir, "ring-id"), "utf8").trim();
      if (/^[0-9a-f]{8}$/.test(t) && t !== "00000000") id = parseInt(t, 16);
    } catch { /* none yet */ }
    if (id === null) {
      id = randomBytes(4).readUInt32BE(0) || 1;
      writeFileSync(join(this.dir, "ring-id"), id.toString(16).padStart(8, "0") + "\n");
    }
    this.ringId = id;
    const bad: { file: string; lines: number; why: string }[] = [];
    const names = readdirSync(this.dir).filter((n) => /^seg-\d+\.jsonl$/.test(n)).sort((a, b) => segFirst(a) - segFirst(b));
    // more than two segments (a crash between creating one and deleting the oldest): keep the newest two
    for (const n of names.slice(0, Math.max(0, names.length - 2))) rmSync(join(this.dir, n), { force: true });
    for (const n of names.slice(-2)) {
      const file = join(this.dir, n);
      let text = "";
      try { text = readFileSync(file, "utf8"); } catch (e) { bad.push({ file, lines: 0, why: `unreadable (${(e as NodeJS.ErrnoException).code})` }); continue; }
      const seg = { first: segFirst(n), bytes: Buffer.byteLength(text) };
      this.segs.push(seg);
      let skipped = 0;
      for (const l of text.split("\n")) {
        if (!l) continue;
        const r = parseLine(l);
        if (!r || r.seq <= this.last) { skipped++; continue; }
        this.held.push({ ...r, seg: seg.first });
        this.last = r.seq;
      }
      if (skipped) bad.push({ file, lines: skipped, why: "lines that did not parse or failed their CRC were skipped" });
    }
    if (bad.length) this.corrupt = { file: bad.map((b) => b.file).join(", "), lines: bad.reduce((s, b) => s + b.lines, 0), why: bad[0].why };
  }

  /** Sequence number of the newest event held (0: none yet). */
  get lastSeq(): number { return this.last; }
  /** Sequence number of the oldest event held (0: none). */
  get firstSeq(): number { return this.held[0]?.seq ?? 0; }
  get size(): number { return this.held.length; }
  /** Bytes on disk. */
  get bytes(): number { return this.segs.reduce((s, x) => s + x.bytes, 0); }

  /** Stores one event packet; returns its sequence number. Never throws. */
  append(packet: Uint8Array): number {
    const seq = ++this.last;
    const h = hex(packet);
    const line = Buffer.from(JSON.stringify({ seq, p: h, c: lineCrc(seq, h) }) + "\n");
    try {
      let seg = this.segs[this.segs.length - 1];
      if (!seg || (seg.bytes > 0 && seg.bytes + line.length > this.maxBytes / 2)) seg = this.startSegment(seq);
      if (this.fd === null) this.fd = openSync(join(this.dir, `seg-${seg.first}.jsonl`), "a", 0o640);
      writeSync(this.fd, line);
      if (this.sync) fsyncSync(this.fd);
      seg.bytes += line.length;
      this.held.push({ seq, packet: Uint8Array.from(packet), seg: seg.first });
      this.counters.appended++;
    } catch (e) {
      this.counters.writeErrors++;
      this.lastError = `${this.dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
      // still served from memory until the next restart
      this.held.push({ seq, packet: Uint8Array.from(packet), seg: -1 });
      this.trimMemory();
    }
    return seq;
  }

  private startSegment(first: number): { first: number; bytes: number } {
    if (this.fd !== null) { try { closeSync(this.fd); } catch { /* closed */ } this.fd = null; }
    const seg = { first, bytes: 0 };
    this.segs.push(seg);
    while (this.segs.length > 2) {
      const old = this.segs.shift()!;
      rmSync(join(this.dir, `seg-${old.first}.jsonl`), { force: true });
      this.held = this.held.filter((h) => h.seg !== old.first);
    }
    return seg;
  }

  private trimMemory(): void {
    let bytes = this.held.reduce((s, h) => s + h.packet.length * 2 + 40, 0);
    while (bytes > this.maxBytes && this.held.length) bytes -= this.held.shift()!.packet.length * 2 + 40;
  }

  /** Events with seq >= from, oldest first, at most `maxBytes` of packets (at least one if any). */
  since(from: number, maxBytes = 768): StoredEvent[] {
    const out: StoredEvent[] = [];
    let n = 0;
    for (const h of this.held) {
      if (h.seq < from) continue;
      if (out.length && n + h.packet.length + 6 > maxBytes) break;
      if (out.length >= 255) break;
      out.push({ seq: h.seq, packet: h.packet });
      n += h.packet.length + 6;
    }
    return out;
  }

  /** The reply to an EV_Q body (see encodeEventQuery): an EV_R management frame. */
  answer(body: Uint8Array): Uint8Array {
    const q = decodeEventQuery(body);
    // a ground that knows another ring (this state directory was wiped) starts from the oldest held
    const from = q.ringId === this.ringId ? Math.max(q.from, this.firstSeq) : this.firstSeq;
    const evs = this.since(from, q.maxBytes || 768);
    this.counters.served += evs.length;
    return encodeEventReply({ ringId: this.ringId, first: this.firstSeq, last: this.last, events: evs });
  }

  /**
   * Whether to answer one more query now: at most `perSecond` a second, bursts of as many
   * (any peer may ask, and a reply is far larger than its query). Refusals are counted.
   */
  allow(nowMs: number, perSecond = 10): boolean {
    this.tokens = Math.min(perSecond, this.tokens + ((nowMs - this.tokensAt) * perSecond) / 1000);
    this.tokensAt = nowMs;
    if (this.tokens < 1) { this.counters.refused++; return false; }
    this.tokens--;
    return true;
  }
  private tokens = 10;
  private tokensAt = 0;

  close(): void { if (this.fd !== null) { try { closeSync(this.fd); } catch { /* closed */ } this.fd = null; } }
}

function segFirst(name: string): number { return Number(/^seg-(\d+)\.jsonl$/.exec(name)![1]); }

function parseLine(l: string): { seq: number; packet: Uint8Array } | null {
  let j: { seq?: unknown; p?: unknown; c?: unknown };
  try { j = JSON.parse(l); } catch { return null; }
  if (typeof j !== "object" || j === null) return null;
  if (typeof j.seq !== "number" || !Number.isInteger(j.seq) || j.seq < 1 || j.seq > 0xffffffff) return null;
  if (typeof j.p !== "string" || !/^([0-9a-f]{2})+$/.test(j.p) || j.c !== lineCrc(j.seq, j.p)) return null;
  return { seq: j.seq, packet: Uint8Array.from(Buffer.from(j.p, "hex")) };
}

// ---- wire ------------------------------------------------------------------------------

export interface EventQuery { ringId: number; from: number; maxBytes: number }
export interface EventReply { ringId: number; first: number; last: number; events: StoredEvent[] }

/** EV_Q body: u32 ring id the ground knows (0: none), u32 first seq wanted, u16 reply budget in bytes (0: the board's default). */
export function encodeEventQuery(q: EventQuery): Uint8Array {
  return new Writer().u32(q.ringId).u32(q.from).u16(q.maxBytes).done();
}
export function decodeEventQuery(b: Uint8Array): EventQuery {
  const r = new Reader(b, "event log query");
  const q = { ringId: r.u32("ring id"), from: r.u32("from"), maxBytes: r.u16("max bytes") };
  r.end("max bytes");
  return q;
}

/** EV_R frame: u32 ring id, u32 oldest seq held, u32 newest seq held, u8 n, n x (u32 seq, u16 length, CCSDS event packet). */
export function encodeEventReply(r: EventReply): Uint8Array {
  const w = new Writer().u32(r.ringId).u32(r.first).u32(r.last).u8(r.events.length);
  for (const e of r.events) w.u32(e.seq).u16(e.packet.length).bytes(e.packet);
  return frame(M.EV_R, w.done());
}
export function decodeEventReply(b: Uint8Array): EventReply {
  const r = new Reader(b, "event log reply");
  const out: EventReply = { ringId: r.u32("ring id"), first: r.u32("first"), last: r.u32("last"), events: [] };
  const n = r.u8("count");
  for (let i = 0; i < n; i++) {
    const seq = r.u32(`event ${i} seq`);
    const len = r.u16(`event ${i} length`);
    out.events.push({ seq, packet: Uint8Array.from(r.bytes(len, `event ${i} packet`)) });
  }
  r.end("events");
  return out;
}

/** For tests and status: the ring's files and their sizes. */
export function eventLogFiles(stateDir: string): { name: string; bytes: number }[] {
  const dir = join(stateDir, "events");
  try { return readdirSync(dir).map((name) => ({ name, bytes: statSync(join(dir, name)).size })); } catch { return []; }
}
