// Ground side of telemetry: link frames (or a raw byte stream) carrying CCSDS
// packets in, decoded records and the latest state per board out. No I/O here:
// the CLI (host/cli/telemetry.ts) feeds it from a link, a JSONL recording or stdin.
import type { Transport } from "../transport/types.ts";
import { PacketDecoder, SEQ_COUNT_MODULO, type PacketEvent } from "./ccsds.ts";
import { decodeTelemetry, DecodeError, loadDictionary, type Dictionary, type EventRecord, type TelemetryRecord, type Value } from "./dictionary.ts";

export interface RejectRecord { type: "reject"; reason: string; detail: string; bytes: number; src?: number; hex?: string }
export type GroundRecord = TelemetryRecord | RejectRecord;

export interface ProcView { pid: number; comp: string; t_us: number; values: Record<string, Value> }
export interface BoardView {
  node: number;
  /** Time of the newest packet from this board. */
  t_us: number;
  values: Record<string, Value>;
  procs: Map<number, ProcView>;
  links: Map<number, { name: string; values: Record<string, Value> }>;
  packets: number;
  /** Packets missing by sequence count (per APID gaps). */
  lost: number;
}

export interface GroundOptions {
  dict?: Dictionary;
  /** Called for every decoded packet and every rejection, in order. */
  onRecord?: (r: GroundRecord) => void;
  /** Keep the raw packet hex in records (default true: a JSONL recording can be replayed and re-decoded). */
  keepHex?: boolean;
  /** Events kept for the view's tail (default 200). */
  eventTail?: number;
}

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");

export class GroundStation {
  readonly dict: Dictionary;
  readonly boards = new Map<number, BoardView>();
  readonly events: EventRecord[] = [];
  readonly rejects: Record<string, number> = {};
  packets = 0;
  private decoder: PacketDecoder;
  private nextSeq = new Map<number, number>();

  constructor(readonly o: GroundOptions = {}) {
    this.dict = o.dict ?? loadDictionary();
    this.decoder = new PacketDecoder({ knownApid: (a) => this.dict.knowsApid(a) });
  }

  /** One link frame (transfer) holding one or more whole packets. */
  pushFrame(frame: Uint8Array, src?: number): GroundRecord[] {
    return this.handle(this.decoder.frame(frame), src);
  }

  /** Bytes of a stream with packets back to back and no link framing (e.g. --stdin-hex). */
  pushBytes(chunk: Uint8Array): GroundRecord[] { return this.handle(this.decoder.push(chunk)); }
  /** End of a byte stream: a partial packet is reported as truncated. */
  end(): GroundRecord[] { return this.handle(this.decoder.end()); }

  /** Consumes every frame a transport delivers as CCSDS telemetry (the ground's own node on the link). */
  attachTransport(t: Transport): void {
    t.onFrame((src, frame) => { this.pushFrame(frame, src); });
  }

  private handle(evs: PacketEvent[], src?: number): GroundRecord[] {
    const out: GroundRecord[] = [];
    for (const ev of evs) {
      if (ev.kind === "idle") continue;
      if (ev.kind === "reject") {
        out.push(this.reject({ type: "reject", reason: ev.reason, detail: ev.detail, bytes: ev.bytes, ...(src !== undefined ? { src } : {}) }));
        continue;
      }
      let rec: TelemetryRecord;
      try {
        rec = decodeTelemetry(this.dict, ev.packet);
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
        out.push(this.reject({ type: "reject", reason: "undecodable", detail: e.message, bytes: ev.packet.raw.length, hex: hex(ev.packet.raw) }));
        continue;
      }
      if (this.o.keepHex !== false) rec.hex = hex(ev.packet.raw);
      out.push(this.ingest(rec));
    }
    return out;
  }

  private reject(r: RejectRecord): RejectRecord {
    this.rejects[r.reason] = (this.rejects[r.reason] ?? 0) + 1;
    this.o.onRecord?.(r);
    return r;
  }

  /** Applies an already decoded record (a JSONL line without hex) to the state. */
  ingest(rec: TelemetryRecord): TelemetryRecord {
    this.packets++;
    let b = this.boards.get(rec.node);
    if (!b) {
      b = { node: rec.node, t_us: 0, values: {}, procs: new Map(), links: new Map(), packets: 0, lost: 0 };
      this.boards.set(rec.node, b);
    }
    b.packets++;
    b.t_us = Math.max(b.t_us, rec.t_us);
    const want = this.nextSeq.get(rec.apid);
    if (want !== undefined && rec.seq !== want) b.lost += (rec.seq - want + SEQ_COUNT_MODULO) % SEQ_COUNT_MODULO;
    this.nextSeq.set(rec.apid, (rec.seq + 1) % SEQ_COUNT_MODULO);
    if (rec.type === "event") {
      this.events.push(rec);
      const max = this.o.eventTail ?? 200;
      if (this.events.length > max) this.events.splice(0, this.events.length - max);
    } else if (rec.packet === "BOARD_TLM") Object.assign(b.values, rec.values);
    else if (rec.packet === "LINK_TLM") {
      const l = b.links.get(rec.link ?? 0) ?? { name: rec.linkName ?? "", values: {} };
      Object.assign(l.values, rec.values);
      b.links.set(rec.link ?? 0, l);
    } else {
      const pid = rec.pid ?? 0;
      const p = b.procs.get(pid);
      if (!p || p.comp !== rec.comp) b.procs.set(pid, { pid, comp: rec.comp ?? "", t_us: rec.t_us, values: { ...rec.values } });
      else { p.t_us = rec.t_us; Object.assign(p.values, rec.values); }
    }
    this.o.onRecord?.(rec);
    return rec;
  }
}
