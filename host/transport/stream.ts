// Byte-stream transports share one link layer (framing/link.ts): COBS frames with
// an addressed, CRC-checked envelope. ByteLinkTransport is the common part;
// StreamTransport runs it over any Node Duplex (tests, PTY masters, sockets);
// SerialTransport (serial.ts) over a serialport device with reconnection.
import { EventEmitter } from "node:events";
import type { Duplex } from "node:stream";
import { FrameLink, type LinkOptions } from "./framing/link.ts";
import { emptyStats, type Transport, type TransportStats } from "./types.ts";

export interface ByteLinkStats extends TransportStats {
  /** Bytes written to / read from the wire, framing and idle delimiters included. */
  wireBytesOut: number;
  wireBytesIn: number;
  /** Successful re-opens after the device vanished (serial). */
  reconnects: number;
  /** Bytes held in the decoder and reassembly buffers right now. */
  buffered: number;
}

export abstract class ByteLinkTransport extends EventEmitter implements Transport {
  readonly link: FrameLink;
  protected counters: ByteLinkStats = { ...emptyStats(), wireBytesOut: 0, wireBytesIn: 0, reconnects: 0, buffered: 0 };
  private handler: (src: number, frame: Uint8Array) => void = () => {};

  constructor(opts: LinkOptions) {
    super();
    this.link = new FrameLink(opts);
  }

  get node(): number { return this.link.opts.node; }

  /**
   * After this many ms of silence the next frame starts with an extra 0x00, so
   * noise picked up by an idle line ends there instead of spoiling the frame.
   */
  idleDelimiterMs = 10;
  private lastSend = -Infinity;

  send(dst: number, frame: Uint8Array): void {
    if (dst === this.node) {
      // A link never carries a frame back to its sender: deliver to ourselves,
      // asynchronously and in order, as a link would.
      this.counters.framesOut++;
      this.counters.bytesOut += frame.length;
      const copy = frame.slice();
      queueMicrotask(() => { this.counters.framesIn++; this.counters.bytesIn += copy.length; this.handler(this.node, copy); });
      return;
    }
    let wire = this.link.encode(dst, frame);
    const now = performance.now();
    if (now - this.lastSend > this.idleDelimiterMs) {
      const w = new Uint8Array(wire.length + 1);
      w.set(wire, 1);
      wire = w;
    }
    this.lastSend = now;
    this.counters.framesOut++;
    this.counters.bytesOut += frame.length;
    this.writeWire(wire);
  }

  onFrame(handler: (src: number, frame: Uint8Array) => void): void { this.handler = handler; }

  stats(): ByteLinkStats {
    const s = structuredClone(this.counters);
    for (const [k, v] of Object.entries(this.link.dropped)) s.dropped[k] = (s.dropped[k] ?? 0) + v;
    s.buffered = this.link.decoder.buffered + this.link.reassemblyBytes;
    return s;
  }

  /** Feeds bytes read from the wire. */
  protected receive(chunk: Uint8Array): void {
    this.counters.wireBytesIn += chunk.length;
    this.link.push(chunk, (src, t) => {
      this.counters.framesIn++;
      this.counters.bytesIn += t.length;
      try {
        this.handler(src, t);
      } catch (e) {
        // keep the decoder consistent; surface the receiver's bug asynchronously
        queueMicrotask(() => { throw e; });
      }
    });
  }

  protected countDrop(reason: string): void {
    this.counters.dropped[reason] = (this.counters.dropped[reason] ?? 0) + 1;
  }

  protected abstract writeWire(bytes: Uint8Array): void;
  abstract close(): Promise<void>;
}

export interface StreamTransportOptions extends LinkOptions {
  stream: Duplex;
}

/** The link layer over any Duplex. Emits "disconnect" when the stream ends or fails. */
export class StreamTransport extends ByteLinkTransport {
  private readonly stream: Duplex;
  private closed = false;
  constructor(opts: StreamTransportOptions) {
    super(opts);
    this.stream = opts.stream;
    this.stream.on("data", (c: Buffer) => this.receive(c));
    this.stream.on("error", (e) => this.emit("disconnect", e));
    this.stream.on("close", () => { if (!this.closed) this.emit("disconnect", new Error("stream closed")); });
  }
  protected writeWire(bytes: Uint8Array): void {
    if (!this.stream.writable) return this.countDrop("link-down");
    this.counters.wireBytesOut += bytes.length;
    this.stream.write(bytes);
  }
  /** Writes raw bytes (diagnostics, fault injection in tests). */
  writeRaw(bytes: Uint8Array): void { this.counters.wireBytesOut += bytes.length; this.stream.write(bytes); }
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await new Promise<void>((res) => { this.stream.end(() => res()); setTimeout(res, 100).unref(); });
    this.stream.destroy();
  }
}
