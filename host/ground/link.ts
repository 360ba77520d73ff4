// The ground's end of a link to one board: sends management frames to it,
// dispatches its replies by type, matches telecommand replies by seq (with a
// timeout that says what to check), and hands telemetry (TM frames) to a
// GroundStation. Protocol frames on the same link (first byte not 0xFF) are the
// boards' business and are ignored. Wire: host/board/mgmt.ts, docs/wire.md.
import type { KeyObject } from "node:crypto";
import { M, MGMT, Reader, frame as mgmtFrame, isMgmt, MgmtError } from "../board/mgmt.ts";
import { encodeTelecommand, type Opcode } from "../board/telecommand.ts";
import type { GroundStation } from "../telemetry/ground.ts";
import type { Transport } from "../transport/types.ts";
import type { SeqStore } from "./seq.ts";

export const DEFAULT_GROUND_NODE = 100;
export const DEFAULT_BOARD_NODE = 1;
export const DEFAULT_TIMEOUT_MS = 5000;

/** TC_REPLY status byte. */
export const TC_STATUS = { accepted: 0, refused: 1, failed: 2 } as const;
export type TcStatus = keyof typeof TC_STATUS | "unknown";

export interface TcReply { seq: number; status: TcStatus; code: number; text: string }

export class NoReplyError extends Error {
  constructor(message: string) { super(message); this.name = "NoReplyError"; }
}

export interface GroundLinkOptions {
  /** The board's node id on the link (commands go to it, replies come from it). Undefined: telemetry only. */
  board?: number;
  /** The link spec, for messages (serial:/dev/pts/3@115200). */
  spec: string;
  /** Receives every TM frame's packets (from any board on the link). */
  station?: GroundStation;
}

export interface LinkCounters {
  /** Protocol frames (not management) seen and ignored. */
  protocolFrames: number;
  /** Management frames from nodes other than the board (TM excepted). */
  otherNodes: number;
  /** Management frames that did not parse, or of unknown type. */
  malformed: number;
  /** TC_REPLYs nobody was waiting for (late replies after a timeout, duplicates). */
  unexpectedReplies: number;
  tmFrames: number;
}

export function decodeTcReply(body: Uint8Array): TcReply {
  const r = new Reader(body, "telecommand reply");
  const seq = r.u32("seq");
  const code = r.u8("status");
  const status: TcStatus = code === 0 ? "accepted" : code === 1 ? "refused" : code === 2 ? "failed" : "unknown";
  return { seq, status, code, text: new TextDecoder().decode(r.rest()) };
}

export class GroundLink {
  readonly counters: LinkCounters = { protocolFrames: 0, otherNodes: 0, malformed: 0, unexpectedReplies: 0, tmFrames: 0 };
  private listeners = new Map<number, Set<(body: Uint8Array, src: number) => void>>();
  private waiting = new Map<number, { resolve: (r: TcReply) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private closed = false;

  constructor(readonly transport: Transport, readonly o: GroundLinkOptions) {
    transport.onFrame((src, f) => this.receive(src, f));
  }

  get board(): number {
    if (this.o.board === undefined) throw new Error("this GroundLink has no board (telemetry only)");
    return this.o.board;
  }
  get spec(): string { return this.o.spec; }

  /** Sends one management frame (type + body) to the board. */
  send(type: number, body: Uint8Array): void { this.sendFrame(mgmtFrame(type, body)); }

  /** Sends an already built management frame (e.g. from UploadSender). */
  sendFrame(f: Uint8Array): void {
    if (this.closed) return;
    if (!isMgmt(f)) throw new MgmtError("GroundLink.sendFrame: not a management frame (first byte must be 0xFF)");
    this.transport.send(this.board, f);
  }

  /** Calls `h` with the body of every management frame of `type` from the board. Returns an unsubscribe function. */
  on(type: number, h: (body: Uint8Array, src: number) => void): () => void {
    let s = this.listeners.get(type);
    if (!s) this.listeners.set(type, (s = new Set()));
    s.add(h);
    return () => { s!.delete(h); };
  }

  /** The message for a board that does not answer. */
  noReply(ms: number, what = "reply"): string {
    return `no ${what} from board ${this.board} on ${this.o.spec} within ${fmtSeconds(ms)}: is \`gsu board\` running with that link and node id?`;
  }

  /** Waits for the TC_REPLY with this seq. */
  waitReply(seq: number, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<TcReply> {
    if (this.waiting.has(seq)) return Promise.reject(new Error(`already waiting for the reply to telecommand #${seq}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(seq);
        reject(new NoReplyError(this.noReply(timeoutMs)));
      }, timeoutMs);
      this.waiting.set(seq, { resolve, reject, timer });
    });
  }

  /** Sends an encoded telecommand and waits for its reply. */
  async request(encoded: Uint8Array, seq: number, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<TcReply> {
    const p = this.waitReply(seq, timeoutMs);
    this.send(M.TC, encoded);
    return p;
  }

  /** Signs a telecommand with the next seq for keyId (reserved in `seqs` first), sends it and waits for the reply. */
  async telecommand(op: Opcode, args: Record<string, unknown>, k: { key: KeyObject; keyId: string; target: string; seqs: SeqStore; seq?: number; timeoutMs?: number; now?: number }): Promise<TcReply & { sent: number }> {
    const seq = k.seqs.nextFor(k.keyId, k.target, k.seq);
    const encoded = encodeTelecommand({ op, seq, timeMs: k.now ?? Date.now(), args, keyId: k.keyId, board: k.target }, k.key);
    const reply = await this.request(encoded, seq, k.timeoutMs);
    return { ...reply, sent: seq };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const [seq, w] of this.waiting) { clearTimeout(w.timer); w.reject(new Error(`link closed while waiting for the reply to telecommand #${seq}`)); }
    this.waiting.clear();
    await this.transport.close();
  }

  private receive(src: number, f: Uint8Array): void {
    if (f.length === 0 || f[0] !== MGMT) { this.counters.protocolFrames++; return; }
    if (f.length < 2) { this.counters.malformed++; return; }
    const type = f[1], body = f.subarray(2);
    if (type === M.TM) {
      // telemetry from any board on the link: the ground station sorts it by APID
      this.counters.tmFrames++;
      this.o.station?.pushFrame(body, src);
      for (const h of this.listeners.get(type) ?? []) h(body, src);
      return;
    }
    if (src !== this.o.board) { this.counters.otherNodes++; return; }
    if (type === M.TC_REPLY) {
      let r: TcReply;
      try { r = decodeTcReply(body); } catch { this.counters.malformed++; return; }
      const w = this.waiting.get(r.seq);
      if (!w) { this.counters.unexpectedReplies++; }
      else { this.waiting.delete(r.seq); clearTimeout(w.timer); w.resolve(r); }
      for (const h of this.listeners.get(type) ?? []) h(body, src);
      return;
    }
    const hs = this.listeners.get(type);
    if (!hs || hs.size === 0) { if (!Object.values(M).includes(type as never)) this.counters.malformed++; return; }
    for (const h of hs) h(body, src);
  }
}

export function fmtSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(ms < 1000 ? 2 : 1))} s`;
}
