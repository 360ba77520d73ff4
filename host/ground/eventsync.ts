// The ground server's half of the on-board event log (host/board/events.ts): when a
// board is first heard, and every `pollMs` after, it asks the board for the events
// after the last one it holds (EV_Q), so events that happened while no ground listened
// (or whose live packet was lost on the link) reach the archive. Nothing twice: a stored
// event is the very packet the board sent live, so one whose bytes were already seen
// live is only counted; the others are handed on as replayed events.
//
// The cursor per board (ring id, last seq held) is kept in a JSON file beside the
// archive, so a ground server that restarts asks only for what it missed.
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { M } from "../board/mgmt.ts";
import { decodeEventReply, encodeEventQuery } from "../board/events.ts";
import { PacketDecoder } from "../telemetry/ccsds.ts";
import { decodeTelemetry, type Dictionary, type EventRecord } from "../telemetry/dictionary.ts";

export interface Cursor { ringId: number; last: number }
export type ReplayedEvent = EventRecord & { replayed: true; boardSeq: number };

export interface EventSyncOptions {
  dict: Dictionary;
  send(node: number, type: number, body: Uint8Array): void;
  /** An event the ground had not seen live, from the board's log. */
  onReplayed(e: ReplayedEvent): void;
  /** Events the board's ring had overwritten before the ground asked (they are lost). */
  onGap?(node: number, missing: number, from: number, first: number): void;
  /** Where the cursors are kept (undefined: memory only). */
  cursorFile?: string;
  /** Ask every board this often (default 5000 ms; 0: only on first contact). */
  pollMs?: number;
  /** Seconds a query may go unanswered before it is asked again (default 3000 ms). */
  queryTimeoutMs?: number;
}

const SEEN_MAX = 8192;

export class EventSync {
  readonly cursors = new Map<number, Cursor>();
  readonly counters = { queries: 0, replies: 0, replayed: 0, alreadySeen: 0, lost: 0, malformed: 0 };
  private seen = new Set<string>();
  private seenOrder: string[] = [];
  private pending = new Map<number, number>();
  private heardNodes = new Set<number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private o: EventSyncOptions) {
    if (o.cursorFile) {
      try {
        const j = JSON.parse(readFileSync(o.cursorFile, "utf8")) as Record<string, Cursor>;
        for (const [k, v] of Object.entries(j)) if (Number.isInteger(Number(k)) && Number.isInteger(v?.ringId) && Number.isInteger(v?.last)) this.cursors.set(Number(k), { ringId: v.ringId, last: v.last });
      } catch { /* none yet, or unreadable: ask from the start */ }
    }
    const poll = o.pollMs ?? 5000;
    if (poll > 0) { this.timer = setInterval(() => { for (const n of this.heardNodes) this.query(n); }, poll); this.timer.unref?.(); }
  }

  /** A live event packet (its hex) reached the ground. */
  seenLive(hex: string | undefined): void {
    if (!hex || this.seen.has(hex)) return;
    this.seen.add(hex);
    this.seenOrder.push(hex);
    if (this.seenOrder.length > SEEN_MAX) this.seen.delete(this.seenOrder.shift()!);
  }

  /** Something came from `node`: on first contact, ask for its log. */
  heard(node: number): void {
    if (this.heardNodes.has(node)) return;
    this.heardNodes.add(node);
    this.query(node);
  }

  query(node: number): void {
    const t = this.pending.get(node);
    if (t !== undefined && Date.now() - t < (this.o.queryTimeoutMs ?? 3000)) return;
    const c = this.cursors.get(node);
    this.pending.set(node, Date.now());
    this.counters.queries++;
    this.o.send(node, M.EV_Q, encodeEventQuery({ ringId: c?.ringId ?? 0, from: (c?.last ?? 0) + 1, maxBytes: 0 }));
  }

  /** An EV_R body from `src`. */
  onReply(src: number, body: Uint8Array): void {
    let r;
    try { r = decodeEventReply(body); } catch { this.counters.malformed++; return; }
    this.pending.delete(src);
    this.counters.replies++;
    let c = this.cursors.get(src);
    if (!c || c.ringId !== r.ringId) c = { ringId: r.ringId, last: 0 };
    const from = c.last + 1;
    const firstGot = r.events[0]?.seq ?? r.first;
    if (r.first > 0 && firstGot > from) {
      const missing = firstGot - from;
      this.counters.lost += missing;
      this.o.onGap?.(src, missing, from, firstGot);
    }
    for (const e of r.events) {
      if (e.seq <= c.last) continue;
      c.last = e.seq;
      const hex = Buffer.from(e.packet).toString("hex");
      if (this.seen.has(hex)) { this.counters.alreadySeen++; continue; }
      this.seenLive(hex);
      const rec = decode(this.o.dict, e.packet);
      if (!rec) { this.counters.malformed++; continue; }
      this.counters.replayed++;
      this.o.onReplayed({ ...rec, hex, replayed: true, boardSeq: e.seq });
    }
    this.cursors.set(src, c);
    this.save();
    // more held than fitted in one reply: ask on at once
    if (r.events.length && c.last < r.last) this.query(src);
  }

  private save(): void {
    if (!this.o.cursorFile) return;
    const tmp = `${this.o.cursorFile}.tmp`;
    try {
      writeFileSync(tmp, JSON.stringify(Object.fromEntries(this.cursors)) + "\n");
      renameSync(tmp, this.o.cursorFile);
    } catch { /* the cursor is an optimisation: at worst the ground asks again and dedupes */ }
  }

  close(): void { if (this.timer) clearInterval(this.timer); this.timer = null; }
}

function decode(dict: Dictionary, packet: Uint8Array): EventRecord | null {
  for (const ev of new PacketDecoder({ knownApid: (a) => dict.knowsApid(a) }).frame(packet)) {
    if (ev.kind !== "packet") continue;
    try {
      const r = decodeTelemetry(dict, ev.packet);
      return r.type === "event" ? r : null;
    } catch { return null; }
  }
  return null;
}
