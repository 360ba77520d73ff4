// A tiny fake board for the ground-command tests: on the far end of a Transport
// it answers telecommands (TelecommandGuard, then a handler) with TC_REPLY and
// uploads (UploadReceiver) with HAVE/ACK/RESULT, and sends events as TM frames.
// Independent of the real daemon (gsu board).
import type { KeyObject } from "node:crypto";
import { M, Writer, frame, isMgmt } from "../../host/board/mgmt.ts";
import { TelecommandGuard, type Telecommand } from "../../host/board/telecommand.ts";
import { UploadReceiver, type Verdict } from "../../host/board/upload.ts";
import { TelemetryEncoder, loadDictionary, type EventArgs } from "../../host/telemetry/dictionary.ts";
import { BROADCAST, emptyStats, type Transport, type TransportStats } from "../../host/transport/types.ts";

/** Two in-memory Transports joined back to back; frames arrive asynchronously, in order. */
export class MemTransport implements Transport {
  peer!: MemTransport;
  private handler: (src: number, f: Uint8Array) => void = () => {};
  private counters: TransportStats = emptyStats();
  closed = false;
  /** Drops frames this side sends while true (a cut cable). */
  cut = false;
  constructor(readonly node: number) {}
  send(dst: number, f: Uint8Array): void { this.sendAs(this.node, dst, f); }
  /** Sends as if from node `src`: another board on the same bus. */
  sendAs(src: number, dst: number, f: Uint8Array): void {
    if (this.closed) return;
    this.counters.framesOut++;
    this.counters.bytesOut += f.length;
    if (this.cut) return;
    const copy = f.slice();
    setImmediate(() => {
      const p = this.peer;
      if (p.closed || (dst !== p.node && dst !== BROADCAST)) return;
      p.counters.framesIn++;
      p.counters.bytesIn += copy.length;
      p.handler(src, copy);
    });
  }
  onFrame(h: (src: number, f: Uint8Array) => void): void { this.handler = h; }
  stats(): TransportStats { return structuredClone(this.counters); }
  async close(): Promise<void> { this.closed = true; }
}

export function memPair(groundNode: number, boardNode: number): { ground: MemTransport; board: MemTransport } {
  const ground = new MemTransport(groundNode), board = new MemTransport(boardNode);
  ground.peer = board;
  board.peer = ground;
  return { ground, board };
}

export type TcHandler = (tc: Telecommand, board: FakeBoard) => { status: 0 | 1 | 2; text: string };

export interface FakeBoardOptions {
  trusted: Record<string, KeyObject>;
  stateDir: string;
  /** What to do with an authenticated telecommand (default: accept, text "ok"). */
  onTc?: TcHandler;
  /** Judges a complete upload (default: accept). */
  accept?: (image: Uint8Array, board: FakeBoard) => Verdict;
  maxSize?: number;
  /** Stop answering anything once the partial upload reaches this many bytes (an interrupted link). */
  goQuietAt?: number;
}

export class FakeBoard {
  readonly guard: TelecommandGuard;
  readonly receiver: UploadReceiver;
  readonly commands: Telecommand[] = [];
  readonly uploads: Uint8Array[] = [];
  readonly tm: TelemetryEncoder;
  private held = 0;
  quiet = false;
  private t0 = performance.now();

  constructor(readonly t: Transport, readonly o: FakeBoardOptions) {
    this.guard = new TelecommandGuard(o.trusted, o.stateDir);
    this.tm = new TelemetryEncoder(loadDictionary(), t.node);
    this.receiver = new UploadReceiver(`${o.stateDir}/incoming`, o.maxSize ?? 1 << 20, (img) => {
      const v = o.accept ? o.accept(img, this) : { ok: true as const, text: `staged ${img.length} bytes` };
      if (v.ok) this.uploads.push(img.slice());
      return v;
    });
    t.onFrame((src, f) => this.receive(src, f));
  }

  /** Sends one event to `to` as a TM frame. */
  event(to: number, name: string, args: EventArgs = {}): void {
    const us = Math.round((performance.now() - this.t0) * 1000);
    this.t.send(to, frame(M.TM, this.tm.event(us, name, args)));
  }

  private receive(src: number, f: Uint8Array): void {
    if (this.quiet || !isMgmt(f)) return;
    const type = f[1], body = f.subarray(2);
    if (type === M.TC) {
      const c = this.guard.check(body);
      const reply = (seq: number, status: number, text: string) =>
        this.t.send(src, frame(M.TC_REPLY, new Writer().u32(seq).u8(status).bytes(new TextEncoder().encode(text)).done()));
      if (!c.ok) {
        this.event(src, "TELECOMMAND_REFUSED", { command: "tc", reason: c.reason });
        return reply(c.seq, 1, c.detail);
      }
      this.commands.push(c.tc);
      const r = this.o.onTc ? this.o.onTc(c.tc, this) : { status: 0 as const, text: "ok" };
      if (r.status === 0) this.event(src, "TELECOMMAND_ACCEPTED", { command: c.tc.op });
      return reply(c.tc.seq, r.status, r.text);
    }
    if (type === M.QUERY || type === M.CHUNK || type === M.DONE) {
      for (const out of this.receiver.onFrame(type, body)) {
        if (out[1] === M.ACK) this.held = new DataView(out.buffer, out.byteOffset + 10, 4).getUint32(0, true);
        if (this.o.goQuietAt !== undefined && this.held >= this.o.goQuietAt) { this.quiet = true; return; }
        this.t.send(src, out);
      }
    }
  }

  close(): void { this.receiver.close(); }
}
