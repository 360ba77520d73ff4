// CanTransport: the Transport interface over any CanBus, with Cyphal/CAN v1.0
// framing (cyphal.ts). A GSU frame to node d is one Cyphal message transfer on
// subject base+d, a broadcast one on base+128; the receiver reassembles only
// its own subject and the broadcast subject. docs/wire.md, "GSU on CAN" has the layout.
import { BROADCAST, CAN_CLASSIC_HINTS, emptyStats, type LayerHints, type Transport, type TransportStats } from "../types.ts";
import { F_DATA, F_HELLO, F_MAC, LAYER_MARK } from "../reliable.ts";
import type { CanBus } from "./bus.ts";
import { nowUs } from "./bus.ts";
import {
  BROADCAST_SUBJECT_OFFSET, checkSubjectBase, CyphalDecoder, DEFAULT_MAX_TRANSFER, DEFAULT_SUBJECT_BASE,
  DEFAULT_TRANSFER_ID_TIMEOUT_US, encodeTransfer, MTU_CLASSIC, MTU_FD, NODE_ID_MAX, PRIORITY_NOMINAL, subjectFor, type DecodeResult,
  UNREGULATED_SUBJECT_MAX,
} from "./cyphal.ts";

/**
 * The link layer's header in the CAN identifier (docs/wire.md, "On CAN: the layer's header
 * in the CAN identifier"). On a classic link a layer data frame without acknowledgements,
 * `E1|M tag seq rest` (host/transport/reliable.ts), travels as `rest` alone on the
 * sequenced subject of its stream, base + 256 + dst (no MAC) or base + 384 + dst (MAC),
 * with the low 5 bits of seq as the Cyphal transfer-ID. The receiver rebuilds the frame:
 * seq from the transfer-ID, nearest above the last seen (the layer keeps at most 16 frames
 * in flight per stream, CAN_CLASSIC_HINTS), tag from the sender's last hello. So the
 * reliability layer adds no byte to a CAN data frame. Only to a peer whose hello this
 * transport has seen (a link layer runs there and rebuilds the header; the layer sends data
 * only once a session is open, so after it), and only with a link layer above this one
 * (attachLayer): anything else travels as it is.
 */
export const SEQ_SUBJECT_OFFSET = [256, 384] as const;
// the link layer's byte 0 (reliable.ts): a data frame, its MAC flag, a hello
const L_DATA = LAYER_MARK | F_DATA, L_MAC = F_MAC, L_HELLO_MASK = 0xf8, L_HELLO = LAYER_MARK | F_HELLO;
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
  /**
   * Classic links: "in-id" (default) carries a link-layer data frame's header in the CAN
   * identifier and transfer-ID (SEQ_SUBJECT_OFFSET); "explicit" sends it as bytes (benches
   * compare the two). Every node on the bus must agree.
   */
  layerHeader?: "in-id" | "explicit";
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
  /** Classic links: layer data frames travel with their header in the CAN identifier (above). */
  private readonly sequenced: boolean;
  readonly layerHints: LayerHints | undefined;
  /** A link layer runs above (attachLayer): only then are the sequenced subjects sent and received. */
  private layered = false;
  attachLayer(): void { this.layered = true; }
  /** A broadcast is one transfer on the broadcast subject (a link layer above sends per peer instead). */
  get broadcastsOnce(): boolean { return !this.layered; }
  /** Per source: the incarnation of its last hello (its tag rebuilds a data frame's). */
  private helloInc = new Map<number, number>();
  /** Per source and stream (src * 2 + stream): the newest 8-bit sequence number rebuilt. */
  private seqRef = new Map<number, number>();

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
    // the sequenced subjects must fit the unregulated range too; a base too high for them keeps explicit headers
    this.sequenced = !this.bundled && opts.layerHeader !== "explicit" && this.base + SEQ_SUBJECT_OFFSET[1] + NODE_ID_MAX <= UNREGULATED_SUBJECT_MAX;
    this.layerHints = this.sequenced ? CAN_CLASSIC_HINTS : undefined;
    const seq0 = this.base + SEQ_SUBJECT_OFFSET[0] + node, seq1 = this.base + SEQ_SUBJECT_OFFSET[1] + node;
    this.decoder = new CyphalDecoder({
      self: node,
      accept: (s) => s === mine || s === all || (this.sequenced && this.layered && (s === seq0 || s === seq1)),
      sequenced: (s) => this.sequenced && this.layered && (s === seq0 || s === seq1),
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
    let subject: number, tid: number;
    if (this.sequenced && this.layered && dst !== BROADCAST && frame.length >= 3 && (frame[0] | L_MAC) === (L_DATA | L_MAC) && this.helloInc.has(dst)) {
      // a layer data frame without acknowledgements, to a peer whose link layer said hello
      // here (so it rebuilds the header): the header rides in the CAN identifier
      subject = this.base + SEQ_SUBJECT_OFFSET[frame[0] & L_MAC ? 1 : 0] + dst;
      tid = frame[2] & 31;
      frame = frame.subarray(3);
    } else {
      subject = subjectFor(dst === BROADCAST ? 0xff : dst, this.base);
      tid = this.tids.get(subject) ?? 0;
      this.tids.set(subject, (tid + 1) & 31);
    }
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
      const off = subject - this.base - this.node;
      if (this.sequenced && this.layered && (off === SEQ_SUBJECT_OFFSET[0] || off === SEQ_SUBJECT_OFFSET[1])) {
        this.deliver(source, this.rebuild(source, off === SEQ_SUBJECT_OFFSET[1] ? 1 : 0, transferId, payload));
        return;
      }
      if (isBundled(payload)) { this.refuse(`a ${payload[0] === 0xfe ? "CAN FD bundle" : "compact transfer"}`, source); return; }
      if (this.sequenced && this.layered && payload.length >= 6 && (payload[0] & L_HELLO_MASK) === L_HELLO) this.sawHello(source, payload);
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

  /** A peer's hello: a new incarnation restarts its sequence numbers at 1 (reliable.ts). */
  private sawHello(src: number, hello: Uint8Array): void {
    const inc = (hello[2] | (hello[3] << 8) | (hello[4] << 16) | (hello[5] << 24)) >>> 0;
    if (this.helloInc.get(src) === inc) return;
    this.helloInc.set(src, inc);
    this.seqRef.set(src * 2, 0);
    this.seqRef.set(src * 2 + 1, 0);
  }

  /** The layer data frame a sequenced transfer stands for: header E1|M, the tag, the sequence number rebuilt. */
  private rebuild(src: number, stream: 0 | 1, tid: number, rest: Uint8Array): Uint8Array {
    const k = src * 2 + stream;
    const ref = this.seqRef.get(k) ?? 0;
    // the sender keeps at most 16 frames in flight and the receiver has seen up to the newest:
    // a frame is at most 15 behind the newest seen and at most 16 ahead of it
    let d = (tid - ref) & 31;
    if (d > 16) d -= 32;
    const seq = (ref + d) & 0xff;
    if (d > 0) this.seqRef.set(k, seq);
    const out = new Uint8Array(3 + rest.length);
    out[0] = L_DATA | (stream ? L_MAC : 0);
    out[1] = (this.helloInc.get(src) ?? 0) & 0xff;
    out[2] = seq;
    out.set(rest, 3);
    return out;
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
