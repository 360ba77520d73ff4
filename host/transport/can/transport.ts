// CanTransport: the Transport interface over any CanBus, with Cyphal/CAN v1.0
// framing (cyphal.ts). A GSU frame to node d is one Cyphal message transfer on
// subject base+d, a broadcast one on base+128; the receiver reassembles only
// its own subject and the broadcast subject. docs/wire.md, "GSU on CAN" has the layout.
import { BROADCAST, emptyStats, type Transport, type TransportStats } from "../types.ts";
import type { CanBus } from "./bus.ts";
import { nowUs } from "./bus.ts";
import {
  BROADCAST_SUBJECT_OFFSET, checkSubjectBase, CyphalDecoder, DEFAULT_MAX_TRANSFER, DEFAULT_SUBJECT_BASE,
  DEFAULT_TRANSFER_ID_TIMEOUT_US, encodeTransfer, NODE_ID_MAX, PRIORITY_NOMINAL, subjectFor, type DecodeResult,
} from "./cyphal.ts";

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

  constructor(private bus: CanBus, readonly node: number, private opts: CanTransportOptions = {}) {
    if (!Number.isInteger(node) || node < 0 || node > NODE_ID_MAX) {
      throw new RangeError(`CAN transport: node id ${node} does not fit a Cyphal/CAN node-ID (0..127)`);
    }
    this.base = opts.subjectBase ?? DEFAULT_SUBJECT_BASE;
    checkSubjectBase(this.base);
    this.now = opts.now ?? nowUs;
    const mine = this.base + node, all = this.base + BROADCAST_SUBJECT_OFFSET;
    const timeout = opts.transferIdTimeoutUs ?? DEFAULT_TRANSFER_ID_TIMEOUT_US;
    this.decoder = new CyphalDecoder({
      self: node,
      accept: (s) => s === mine || s === all,
      knownNodes: opts.knownNodes,
      maxTransfer: opts.maxTransfer ?? DEFAULT_MAX_TRANSFER,
      transferIdTimeout: timeout,
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
    const subject = subjectFor(dst === BROADCAST ? 0xff : dst, this.base);
    const tid = this.tids.get(subject) ?? 0;
    this.tids.set(subject, (tid + 1) & 31);
    const frames = encodeTransfer(frame, {
      subject, source: this.node, transferId: tid,
      priority: this.opts.priority ?? PRIORITY_NOMINAL, maxTransfer: this.opts.maxTransfer ?? DEFAULT_MAX_TRANSFER,
    });
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
    if (r.kind === "transfer") this.deliver(r.transfer.source, r.transfer.payload);
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
    clearInterval(this.expiry);
    await this.bus.close();
  }
}
