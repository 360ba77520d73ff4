// CanTransport: the Transport interface over any CanBus, with Cyphal/CAN v1.0
// framing (cyphal.ts). A GSU frame to node d is one Cyphal message transfer on
// subject base+d, a broadcast one on base+128; the receiver reassembles only
// its own subject and the broadcast subject. docs/wire.md, "GSU on CAN" has the layout.
import { BROADCAST, emptyStats, type Transport, type TransportStats } from "../types.ts";
import type { CanBus } from "./bus.ts";
import { nowUs } from "./bus.ts";
import {
  BROADCAST_SUBJECT_OFFSET, checkSubjectBase, CyphalDecoder, DEFAULT_MAX_TRANSFER, DEFAULT_SUBJECT_BASE,
  DEFAULT_TRANSFER_ID_TIMEOUT_US, encodeTransfer, MTU_CLASSIC, MTU_FD, NODE_ID_MAX, PRIORITY_NOMINAL, subjectFor, type DecodeResult,
} from "./cyphal.ts";
import { CompactDecoder, CompactEncoder, decodePlain, encodePlain, isBundled, type BundleError } from "./bundle.ts";

export interface CanTransportOptions {
  /** First GSU subject-ID (default 4096): node d listens on base+d, broadcasts go on base+128. */
  subjectBase?: number;
  /** Cyphal priority of every transfer, 0 (highest) .. 7 (default 4, nominal). */
  priority?: number;
  /** Largest transfer sent or accepted, bytes (default 65536). */
  maxTransfer?: number;
  /** Transfer-ID timeout, µs (default 2 s). */
  transferIdTimeoutUs?: number;
  /** If given, frames from other sources are dropped as "unknown-node". */
  knownNodes?: Iterable<number>;
  /** Clock in µs for the reassembler (default: monotonic process time). */
  now?: () => number;
  /** Sees every decoder result (telemetry, tests). */
  onResult?: (r: DecodeResult) => void;
  /** CAN FD: Cyphal/CAN FD frames of up to 64 bytes; transfers are bundles (bundle.ts). Every node on the bus must agree. */
  fd?: boolean;
  /** CAN FD only: data phase at the data bitrate (BRS), default true. */
  brs?: boolean;
  /** Compact transfers (bundle.ts: frames as deltas against frames the receiver holds), classic or FD. Every node on the bus must agree. */
  compact?: boolean;
  /** Compact: a raw record refreshes each slot at least every this many records (default 16). */
  keyEvery?: number;
  /** Compact: and once a slot has been unused this long, µs (default 300 ms). */
  refreshUs?: number;
  /** Bundled modes: flush a destination's pending frames once they reach this many bytes (default 512). */
  maxBundle?: number;
  /** One line per node whose transfers are of another mode (fd/compact/classic), and per other refusal kind. */
  log?: (line: string) => void;
}

export interface CanStats { canFramesOut: number; canFramesIn: number; ignored: number; pending: number }

export class CanTransport implements Transport {
  private handler: (src: number, frame: Uint8Array) => void = () => {};
  private counters: TransportStats = emptyStats();
  private decoder: CyphalDecoder;
  private tids = new Map<number, number>();
  private base: number;
  private now: () => number;
  private expiry: NodeJS.Timeout;
  readonly can: CanStats = { canFramesOut: 0, canFramesIn: 0, ignored: 0, pending: 0 };
  lastError: Error | undefined;
  /** "classic", "fd", "compact" or "fd+compact". */
  readonly mode: string;
  private readonly bundled: boolean;
  private pend: { dst: number; frames: Uint8Array[]; bytes: number } | undefined;
  private flushQueued = false;
  private encoders = new Map<number, CompactEncoder>();
  private decoders = new Map<number, CompactDecoder>();
  private told = new Set<string>();

  constructor(private bus: CanBus, readonly node: number, private opts: CanTransportOptions = {}) {
    if (!Number.isInteger(node) || node < 0 || node > NODE_ID_MAX) {
      throw new RangeError(`CAN transport: node id ${node} does not fit a Cyphal/CAN node-ID (0..127)`);
    }
    this.base = opts.subjectBase ?? DEFAULT_SUBJECT_BASE;
    checkSubjectBase(this.base);
    this.now = opts.now ?? nowUs;
    this.bundled = !!(opts.fd || opts.compact);
    this.mode = opts.fd ? (opts.compact ? "fd+compact" : "fd") : opts.compact ? "compact" : "classic";
    const mine = this.base + node, all = this.base + BROADCAST_SUBJECT_OFFSET;
    const timeout = opts.transferIdTimeoutUs ?? DEFAULT_TRANSFER_ID_TIMEOUT_US;
    this.decoder = new CyphalDecoder({
      self: node,
      accept: (s) => s === mine || s === all,
      knownNodes: opts.knownNodes,
      maxTransfer: opts.maxTransfer ?? DEFAULT_MAX_TRANSFER,
      transferIdTimeout: timeout,
      mtu: opts.fd ? MTU_FD : MTU_CLASSIC,
    });
    bus.onFrame((f) => this.receive(f));
    bus.onError?.((e) => { this.lastError = e; });
    // Partial transfers whose sender went quiet are freed after the timeout.
    this.expiry = setInterval(() => this.decoder.expire(this.now()), Math.max(10, timeout / 1000));
    this.expiry.unref();
  }

  send(dst: number, frame: Uint8Array): void {
    this.counters.framesOut++;
    this.counters.bytesOut += frame.length;
    if (dst === this.node) { // a bus does not echo: deliver to ourselves directly, asynchronously like a link
      const copy = frame.slice();
      queueMicrotask(() => this.deliver(this.node, copy));
      return;
    }
    if (!this.bundled) { this.transmit(dst, frame); return; }
    // bundled modes: consecutive frames to one destination in one turn of the event loop
    // travel in one transfer (a frame to another destination flushes first: order is kept)
    if (this.pend && this.pend.dst !== dst) this.flush();
    this.pend ??= { dst, frames: [], bytes: 0 };
    this.pend.frames.push(frame.slice());
    this.pend.bytes += frame.length;
    if (this.pend.bytes >= (this.opts.maxBundle ?? 512)) this.flush();
    else if (!this.flushQueued) { this.flushQueued = true; queueMicrotask(() => { this.flushQueued = false; this.flush(); }); }
  }

  /** Sends the frames held for a destination now (bundled modes). */
  flush(): void {
    const p = this.pend;
    if (!p) return;
    this.pend = undefined;
    let body: Uint8Array;
    if (this.opts.compact) {
      const enc = this.encoders.get(p.dst) ?? this.encoders.set(p.dst, new CompactEncoder(this.opts.keyEvery, this.opts.refreshUs)).get(p.dst)!;
      body = enc.encode(p.frames, this.now());
    } else body = encodePlain(p.frames);
    this.transmit(p.dst, body);
  }

  private transmit(dst: number, frame: Uint8Array): void {
    const subject = subjectFor(dst === BROADCAST ? 0xff : dst, this.base);
    const tid = this.tids.get(subject) ?? 0;
    this.tids.set(subject, (tid + 1) & 31);
    let frames;
    try {
      frames = encodeTransfer(frame, {
        subject, source: this.node, transferId: tid, mtu: this.opts.fd ? MTU_FD : MTU_CLASSIC, brs: this.opts.brs ?? true,
        priority: this.opts.priority ?? PRIORITY_NOMINAL, maxTransfer: this.opts.maxTransfer ?? DEFAULT_MAX_TRANSFER,
      });
    } catch (e) {
      if (!this.bundled) throw e;
      this.lastError = e as Error; // a bundle over maxTransfer: the frames are lost, counted
      this.counters.dropped["send-failed"] = (this.counters.dropped["send-failed"] ?? 0) + 1;
      return;
    }
    try {
      for (const f of frames) { this.bus.send(f); this.can.canFramesOut++; }
    } catch (e) {
      this.lastError = e as Error;
      this.counters.dropped["send-failed"] = (this.counters.dropped["send-failed"] ?? 0) + 1;
    }
  }

  onFrame(handler: (src: number, frame: Uint8Array) => void): void { this.handler = handler; }

  private receive(f: Parameters<CanBus["send"]>[0]): void {
    this.can.canFramesIn++;
    // One clock for reassembly and expiry: bus timestamps may be wall-clock (SocketCAN) or absent.
    const r = this.decoder.push(f, this.now());
    this.opts.onResult?.(r);
    if (r.kind === "drop" && r.reason === "fd-mismatch") this.refuse(r.detail ?? "", undefined);
    if (r.kind !== "transfer") return;
    const { source, subject, payload, transferId } = r.transfer;
    if (!this.bundled) {
      if (isBundled(payload)) { this.refuse(`a ${payload[0] === 0xfe ? "CAN FD bundle" : "compact transfer"}`, source); return; }
      this.deliver(source, payload);
      return;
    }
    let frames: Uint8Array[] = [], err: BundleError | undefined;
    try {
      if (this.opts.compact) {
        const key = (source << 13) | subject;
        const dec = this.decoders.get(key) ?? this.decoders.set(key, new CompactDecoder()).get(key)!;
        const d = dec.decode(payload, transferId);
        frames = d.frames; err = d.error;
      } else {
        const d = decodePlain(payload);
        if ("frames" in d) frames = d.frames; else err = d;
      }
    } catch (e) { // the decoders return errors; this is a bug's safety net: the frame is dropped, the board runs on
      err = { reason: "bundle-malformed", detail: `decoder fault: ${(e as Error).message}` };
    }
    for (const f of frames) this.deliver(source, f);
    if (err) {
      if (err.reason === "mode-mismatch") this.refuse(err.detail, source);
      else {
        this.counters.dropped[err.reason] = (this.counters.dropped[err.reason] ?? 0) + 1;
        this.lastError = new Error(`CAN link '${this.bus.name}': transfer from node ${source} refused (${err.reason}): ${err.detail}`);
        if (!this.told.has(err.reason)) { this.told.add(err.reason); this.opts.log?.(this.lastError.message); }
      }
    }
  }

  /** A transfer or frame of another link mode: refused, counted as mode-mismatch (fd-mismatch for CAN frames), said once per node. */
  private refuse(what: string, source: number | undefined): void {
    if (source !== undefined) this.counters.dropped["mode-mismatch"] = (this.counters.dropped["mode-mismatch"] ?? 0) + 1;
    const who = source === undefined ? "a node" : `node ${source}`;
    const want = this.mode === "classic" ? "no \"fd\" or \"compact\"" : `"${this.mode}" (link spec ${this.bus.name}+${this.mode.replace("+", "+")})`;
    this.lastError = new Error(`CAN link '${this.bus.name}' (${this.mode}): ${who} sends ${what}; every node on a bus must use the same CAN mode: give ${who}'s link ${want} as well, or change this link to match it`);
    const key = `mismatch:${source}`;
    if (!this.told.has(key)) { this.told.add(key); this.opts.log?.(this.lastError.message); }
  }

  private deliver(src: number, payload: Uint8Array): void {
    this.counters.framesIn++;
    this.counters.bytesIn += payload.length;
    this.handler(src, payload);
  }

  stats(): TransportStats {
    const s = structuredClone(this.counters);
    for (const [k, v] of Object.entries(this.decoder.dropped)) s.dropped[k] = (s.dropped[k] ?? 0) + v;
    return s;
  }

  canStats(): CanStats {
    return { ...this.can, ignored: this.decoder.ignored, pending: this.decoder.pending() };
  }

  async close(): Promise<void> {
    this.flush();
    clearInterval(this.expiry);
    await this.bus.close();
  }
}
