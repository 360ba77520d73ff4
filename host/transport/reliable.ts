// The link layer between boards (docs/wire.md, "The link layer: reliable, ordered,
// authenticated"): one implementation over any Transport (serial COBS envelopes,
// Cyphal/CAN transfers, the simulated network). Per peer board it gives
//  - reliable, ordered delivery, exactly once: sequence numbers, cumulative
//    acknowledgements (piggybacked or delayed), retransmission on timeout with
//    backoff, a fast retransmit on duplicate acknowledgements, duplicate
//    suppression, a bounded window and a bounded backlog;
//  - incarnations: each run of a board has a number that rises at every restart;
//    a session is a pair of incarnations, opened by a hello exchange that also
//    carries the owner's start-up synchronisation (hello body, checked by the
//    owner); a restarted peer is recognised by its new incarnation, and frames of
//    an older one are refused;
//  - authentication (with a link key): a truncated HMAC over the layer header and
//    the frame, with the freshness value (sender incarnation, receiver incarnation,
//    full sequence number) in the manner of AUTOSAR SecOC, no clock needed;
//  - a role check on every delivered frame (the owner's `admit`).
// Frame bodies are opaque to the layer except for one bit of knowledge: a GSU
// header's kind (bits 7..5 of byte 0) says whether a frame is an application
// frame (kind 0), which a deployment may leave unauthenticated.
// Management frames (first byte 0xFF, ground <-> board) and frames to or from
// nodes that are not boards of the system pass through unchanged.
import { BROADCAST, type Transport, type TransportStats } from "./types.ts";
import { LinkAuthenticator, MAC_BYTES } from "./auth.ts";
import { carriesBound } from "../runtime/route.ts";
import { BytePool, copyBytes, FrameBuf } from "../runtime/byte-pool.ts";

/** Byte 0 of a layer frame: bits 7..4 = 1110 (a GSU header of kind 7 that is not 0xFF), bits 3..0 flags. */
export const LAYER_MARK = 0xe0;
export const F_DATA = 0x01;
export const F_ACK = 0x02;
export const F_MAC = 0x04;
export const F_HELLO = 0x08;
/** Hello flags (byte 8 of a hello body). */
export const H_WANT = 0x01;   // the sender has not yet seen this receiver echo its incarnation: answer with a hello
export const H_REFUSE = 0x02; // the sender refuses to run with this receiver (start-up synchronisation mismatch)
export const H_RESTARTED = 0x04; // this run of the sender is not its first (it crashed or rebooted): a receiver that knew no earlier run learns it restarted
export const HELLO_FIXED = 9; // u32 incarnation, u32 echo, u8 flags
export const MAX_HELLO_BODY = 1024;
/** A receiver accepts sequence numbers up to this far ahead (a sender's window is at most this). */
export const RX_WINDOW = 64;

export const isLayerFrame = (f: Uint8Array): boolean => f.length >= 2 && (f[0] & 0xf0) === LAYER_MARK;
const isMgmt = (f: Uint8Array): boolean => f.length >= 1 && f[0] === 0xff;
/** An application frame that may go unauthenticated: kind 0, and no passed-AT bound riding in it (docs/wire.md). */
const isApp = (f: Uint8Array): boolean => f.length >= 1 && f[0] >> 5 === 0 && !carriesBound(f);

export interface LayerClock {
  /** µs, monotonic. */
  now(): number;
  /** Runs fn after `us` µs; returns a cancel function. */
  after(us: number, fn: () => void): () => void;
  /** Optional: one timer for fn, armed again and again without allocating where the clock can (the real clock: a Node timer refreshed). */
  timer?(fn: () => void): ClockTimer;
}

/** A timer made once: arm(us) runs fn once after `us` µs (replacing an armed one), cancel() stops it. */
export interface ClockTimer { arm(us: number): void; cancel(): void }

export const realClock: LayerClock = {
  now: () => performance.now() * 1000,
  after: (us, fn) => { const t = setTimeout(fn, Math.max(0, us / 1000)); t.unref?.(); return () => clearTimeout(t); },
  timer: (fn) => {
    // a Node timer of the same duration is refreshed (no new timer object); another duration makes one
    let t: NodeJS.Timeout | null = null, ms = -1;
    return {
      arm(us: number): void {
        const m = Math.max(1, Math.ceil(us / 1000 - 1e-6)); // not early: a timer that fires early arms again
        if (t && m === ms) { t.refresh(); return; }
        if (t) clearTimeout(t);
        t = setTimeout(fn, m);
        t.unref?.();
        ms = m;
      },
      cancel(): void { if (t) clearTimeout(t); t = null; ms = -1; },
    };
  },
};

/** Which frames carry a MAC, when a key is given. */
export type AuthMode = "control" | "all";

export interface LinkLayerOptions {
  /** The other boards of the system (their node ids); this board's own id is ignored. */
  peers: Iterable<number>;
  /** This run's incarnation, 1..2^32-1; must rise at every restart (a persisted counter). */
  incarnation: number;
  /** This run is not the board's first (hello flag RESTARTED): a peer that never had a session with an earlier run still learns it restarted. */
  restarted?: boolean;
  /** The deployment's 32-byte link key; without it no frame is authenticated. */
  key?: Uint8Array;
  /** With a key: "control" (default) authenticates every frame but application frames; "all" every frame. */
  auth?: AuthMode;
  /** Frames in flight per peer and stream, unacknowledged (default 32, at most 64, and at most the link's layerHints.maxWindow). */
  window?: number;
  /** Acknowledgements only in frames of their own (default: the link's layerHints.loneAcks, else false: piggybacked on data). */
  loneAcks?: boolean;
  /**
   * Retransmission timeout, µs: rtoUs (default 200 ms) until the first round-trip sample,
   * then adaptive, SRTT + 4 RTTVAR (RFC 6298, Karn's rule: no sample from a frame sent
   * again), at least minRtoUs (default 20 ms); doubles without progress up to maxRtoUs
   * (default 16 x rtoUs, 3.2 s).
   */
  rtoUs?: number;
  minRtoUs?: number;
  maxRtoUs?: number;
  /** Delay before a lone acknowledgement is sent, µs (default 2 ms); an out-of-order frame is acknowledged at once. */
  ackDelayUs?: number;
  /** Hello period until a session is open, µs (default 300 ms). */
  helloUs?: number;
  /** Frames held per peer while its session is closed or its window is full (default 8192); beyond: dropped, counted. */
  maxBacklog?: number;
  /** Start-up synchronisation: the body this board puts in its hello. */
  hello?: () => Uint8Array;
  /** Checks a peer's hello body: null to run with it, or the mismatch, naming what differs. */
  checkHello?: (src: number, body: Uint8Array) => string | null;
  /** Role check on every delivered frame: null to accept, or why the sender may not send it. */
  admit?: (src: number, frame: Uint8Array) => string | null;
  onEvent?: (e: LinkLayerEvent) => void;
  clock?: LayerClock;
}

export type LinkLayerEvent =
  | { type: "refused"; src: number; reason: string; detail: string }
  | { type: "session-open"; node: number; incarnation: number }
  | { type: "peer-restarted"; node: number; from: number; incarnation: number; lost: number }
  | { type: "mismatch"; node: number; detail: string }
  | { type: "peer-refuses"; node: number }
  | { type: "backlog-full"; node: number };

export interface LayerStats {
  incarnation: number;
  dataSent: number;        // new data frames sent (each peer copy of a broadcast counts)
  delivered: number;       // frames delivered to the owner, in order, once
  retransmits: number;
  fastRetransmits: number;
  acksSent: number;        // lone acknowledgement frames
  hellosSent: number;
  duplicates: number;      // received again and suppressed
  sessionResets: number;   // peer restarts seen
  lostOnRestart: number;   // frames sent to, or queued for, a peer that restarted before acknowledging them
  inFlight: number;        // unacknowledged now, all peers
  backlog: number;         // queued now, all peers
  peersOpen: number;
  peers: number;
}

// Per message the layer allocates nothing once warm (issue 12): a stream's window is a ring of
// slots made once (sequence number & WIN_MASK), frame bodies are copies in buffers of a pool
// (byte-pool.ts), frames are built in buffers the layer reuses, the MAC is computed into the
// frame (auth.ts LinkAuthenticator), and timers are set and cleared without a closure
// (LazyTimer).
const WIN = 64; // slots per stream: the largest window, and RX_WINDOW
const WIN_MASK = WIN - 1;
/** A data frame sent and not yet acknowledged, in its stream's slot seq & WIN_MASK (reused; body null: free). */
interface Unacked { body: Uint8Array | null; after: number; sentAt: number; /** sent again: no round-trip sample (Karn) */ again: boolean }
/** Sent and unacknowledged: base..next-1, in win[seq & WIN_MASK]. */
interface Tx { next: number; base: number; win: Unacked[]; dupAcks: number; fastFor: number; lastRetx: number }
/** A frame received ahead of one still missing (or of the other stream's), in slot seq & WIN_MASK (body null: empty). */
interface RxSlot { seq: number; body: Uint8Array | null; after: number }
interface Rx { expected: number; win: RxSlot[] }

/** Frames queued for a peer (send order), a ring of entries made once: grows, never shrinks. */
class Backlog {
  private q: { stream: 0 | 1; body: Uint8Array | null }[] = [];
  private head = 0;
  length = 0;
  push(stream: 0 | 1, body: Uint8Array): void {
    if (this.length === this.q.length) {
      const old = this.q, n = Math.max(8, 2 * old.length);
      this.q = [];
      for (let i = 0; i < n; i++) this.q.push(i < this.length ? old[(this.head + i) % old.length] : { stream: 0, body: null });
      this.head = 0;
    }
    const e = this.q[(this.head + this.length) % this.q.length];
    e.stream = stream; e.body = body;
    this.length++;
  }
  /** The first entry's stream (length > 0). */
  firstStream(): 0 | 1 { return this.q[this.head].stream; }
  /** Takes the first entry's body (length > 0). */
  shift(): Uint8Array {
    const e = this.q[this.head];
    const b = e.body!;
    e.body = null;
    this.head = (this.head + 1) % this.q.length;
    this.length--;
    return b;
  }
  /** Empties it, giving the bodies back. */
  clear(pool: BytePool): void { while (this.length) pool.give(this.shift()); }
}

/**
 * A timer set and cleared per message without allocating: at most one clock timer is armed,
 * and it is re-armed only when it would fire too late. A timer cleared or set later than it is
 * armed for fires, finds nothing due (or not yet), and stops (or re-arms for what remains).
 * `fn` runs at the time set, as a timer cancelled and set again would.
 */
class LazyTimer {
  private due = Infinity;      // when fn runs (clock µs); Infinity: not set
  private armedFor = Infinity; // when the clock timer fires; Infinity: none armed
  private cancel: (() => void) | null = null;
  private readonly fire: () => void;
  private readonly timer: ClockTimer | null;
  constructor(private readonly clock: LayerClock, fn: () => void) {
    this.fire = () => {
      this.cancel = null;
      this.armedFor = Infinity;
      if (this.due === Infinity) return;
      const now = this.clock.now();
      if (now >= this.due) { this.due = Infinity; fn(); } else this.arm(now);
    };
    this.timer = clock.timer?.(this.fire) ?? null;
  }
  get pending(): boolean { return this.due !== Infinity; }
  /** Runs fn in `us` µs (replacing any earlier setting). */
  set(us: number): void {
    const now = this.clock.now();
    this.due = now + us;
    if (this.due < this.armedFor) this.arm(now);
  }
  clear(): void { this.due = Infinity; }
  /** Cleared, and its clock timer cancelled (the layer stops). */
  stop(): void { this.due = Infinity; this.cancel?.(); this.cancel = null; this.timer?.cancel(); this.armedFor = Infinity; }
  private arm(now: number): void {
    this.armedFor = this.due;
    if (this.timer) { this.timer.arm(this.due - now); return; }
    this.cancel?.();
    this.cancel = this.clock.after(this.due - now, this.fire);
  }
}
interface Peer {
  node: number;
  inc: number;              // 0: not known yet
  echoed: boolean;          // the peer has echoed our incarnation (it knows this run)
  wasOpen: boolean;
  mismatch: string | null;  // our refusal (start-up synchronisation)
  refuses: boolean;         // the peer's refusal
  tx: [Tx, Tx];
  rx: [Rx, Rx];
  backlog: Backlog;
  ackDue: boolean;
  ackT: LazyTimer;
  rtoT: LazyTimer;
  rtoCur: number;
  /** Smoothed round-trip time and its variation, µs (RFC 6298); srtt < 0: no sample yet. */
  srtt: number;
  rttvar: number;
  helloT: LazyTimer;
  lastHello: number;
}

const newTx = (): Tx => {
  const win: Unacked[] = [];
  for (let i = 0; i < WIN; i++) win.push({ body: null, after: 0, sentAt: 0, again: false });
  return { next: 1, base: 1, win, dupAcks: 0, fastFor: 0, lastRetx: -Infinity };
};
const newRx = (): Rx => {
  const win: RxSlot[] = [];
  for (let i = 0; i < WIN; i++) win.push({ seq: 0, body: null, after: 0 });
  return { expected: 1, win };
};
/** The unacknowledged frame `seq`, or undefined. */
const unackedAt = (tx: Tx, seq: number): Unacked | undefined => (seq >= tx.base && seq < tx.next ? tx.win[seq & WIN_MASK] : undefined);
/** The frame `seq` received and held, or undefined. */
const heldAt = (rx: Rx, seq: number): RxSlot | undefined => { const h = rx.win[seq & WIN_MASK]; return h.body && h.seq === seq ? h : undefined; };
/** The full counter nearest `ref` whose low 8 bits are `low8`. */
const nearest = (ref: number, low8: number): number => { const d = ((low8 - ref) & 0xff) << 24 >> 24; return ref + d; };

export class LinkLayer implements Transport {
  readonly node: number;
  private peers = new Map<number, Peer>();
  private handler: (src: number, frame: Uint8Array) => void = () => {};
  private dropped: Record<string, number> = {};
  private clock: LayerClock;
  private window: number;
  private rto: number;
  private minRto: number;
  private maxRto: number;
  private ackDelay: number;
  private helloUs: number;
  private maxBacklog: number;
  /** No key: one stream (0), unauthenticated. Key, auth "all": one stream (1), authenticated. Key, "control": both. */
  private readonly mixed: boolean;
  private readonly ackStreams: (0 | 1)[];
  private readonly loneAcks: boolean;
  private closed = false;
  /** Frame bodies held by the layer (queued, unacknowledged, received ahead), per length. */
  private readonly pool = new BytePool();
  private readonly auth: LinkAuthenticator | null;
  /** Data and acknowledgement frames are built here (the link copies what it keeps: Transport.send). */
  private readonly txBuf = new FrameBuf(256);
  private readonly ackBuf = new FrameBuf(16);
  /** The freshness counters of the frame being sent, and of the one being received. */
  private readonly txCtr = [0, 0, 0, 0];
  private readonly rxCtr = [0, 0, 0, 0];
  private readonly rxAcks = [0, 0];
  readonly counters = { dataSent: 0, delivered: 0, retransmits: 0, fastRetransmits: 0, acksSent: 0, hellosSent: 0, duplicates: 0, sessionResets: 0, lostOnRestart: 0 };

  constructor(readonly inner: Transport, readonly o: LinkLayerOptions) {
    this.node = inner.node;
    const inc = o.incarnation;
    if (!Number.isInteger(inc) || inc < 1 || inc > 0xffffffff) throw new RangeError(`link layer: incarnation must be 1..2^32-1, not ${inc}`);
    if (o.key && o.key.length < 16) throw new RangeError("link layer: the link key must be at least 16 bytes");
    this.clock = o.clock ?? realClock;
    // a link whose sequence numbers are short (CAN's transfer-ID) caps the window: not overridable
    this.window = Math.min(64, inner.layerHints?.maxWindow ?? 64, Math.max(1, o.window ?? 32));
    this.loneAcks = o.loneAcks ?? inner.layerHints?.loneAcks ?? false;
    this.rto = o.rtoUs ?? 200_000;
    this.minRto = Math.min(this.rto, o.minRtoUs ?? 20_000);
    this.maxRto = Math.max(this.rto, o.maxRtoUs ?? 16 * this.rto);
    this.ackDelay = o.ackDelayUs ?? 2_000;
    this.helloUs = o.helloUs ?? 300_000;
    this.maxBacklog = o.maxBacklog ?? 8192;
    this.mixed = !!o.key && (o.auth ?? "control") === "control";
    this.ackStreams = !o.key ? [0] : this.mixed ? [1, 0] : [1];
    this.auth = o.key ? new LinkAuthenticator(o.key) : null;
    for (const n of o.peers) {
      if (n === this.node || this.peers.has(n)) continue;
      const p: Peer = {
        node: n, inc: 0, echoed: false, wasOpen: false, mismatch: null, refuses: false,
        tx: [newTx(), newTx()], rx: [newRx(), newRx()], backlog: new Backlog(), ackDue: false,
        ackT: null!, rtoT: null!, rtoCur: this.rto, srtt: -1, rttvar: 0, helloT: null!, lastHello: -Infinity,
      };
      p.ackT = new LazyTimer(this.clock, () => { if (p.ackDue) this.sendAck(p); });
      p.rtoT = new LazyTimer(this.clock, () => this.onRto(p));
      p.helloT = new LazyTimer(this.clock, () => { if (!this.open(p)) this.sendHello(p); });
      this.peers.set(n, p);
    }
    inner.attachLayer?.();
    inner.onFrame((src, f) => {
      // nothing a peer sends may stop the layer: a fault is counted and reported, the frame dropped
      try { this.receive(src, f); } catch (e) { this.drop("layer-fault", src, `frame from node ${src}: ${(e as Error).message ?? e}`.slice(0, 200)); }
    });
    for (const p of this.peers.values()) this.sendHello(p);
  }

  get incarnation(): number { return this.o.incarnation; }
  /** Buffers the layer's pool has made (a warm layer makes none: test/lean-alloc.test.ts). */
  get buffersMade(): number { return this.pool.made; }

  /** A session with `node` is open: both incarnations known, no mismatch either way. */
  isOpen(node: number): boolean {
    const p = this.peers.get(node);
    return !!p && this.open(p);
  }
  /** Every peer's session is open (start-up synchronisation done). */
  ready(): boolean { for (const p of this.peers.values()) if (!this.open(p)) return false; return true; }
  /** Why the layer is not ready, per peer (for messages). */
  waiting(): string[] {
    const out: string[] = [];
    for (const p of this.peers.values()) {
      if (p.mismatch) out.push(`node ${p.node}: ${p.mismatch}`);
      else if (p.refuses) out.push(`node ${p.node} refuses to run with this board (see its events)`);
      else if (!p.inc) out.push(`node ${p.node}: no hello yet`);
      else if (!p.echoed) out.push(`node ${p.node}: hello not yet answered`);
    }
    return out;
  }

  private open(p: Peer): boolean { return p.inc !== 0 && p.echoed && !p.mismatch && !p.refuses; }

  private streamOf(f: Uint8Array): 0 | 1 {
    if (!this.o.key) return 0;
    if (!this.mixed) return 1;
    return isApp(f) ? 0 : 1;
  }

  // ---- sending -------------------------------------------------------------------
  send(dst: number, frame: Uint8Array): void {
    if (this.closed) return;
    if (isMgmt(frame) || dst === this.node) return this.inner.send(dst, frame);
    if (dst === BROADCAST) {
      for (const p of this.peers.values()) this.enqueue(p, frame);
      return;
    }
    const p = this.peers.get(dst);
    if (!p) return this.inner.send(dst, frame); // not a board of the system: not the layer's
    this.enqueue(p, frame);
  }

  private enqueue(p: Peer, frame: Uint8Array): void {
    if (p.backlog.length >= this.maxBacklog) {
      this.drop("backlog-full", p.node, `${p.backlog.length} frames queued for node ${p.node}, whose session is ${this.open(p) ? "open but not acknowledging" : "closed"}`);
      this.emit({ type: "backlog-full", node: p.node });
      return;
    }
    const body = this.pool.take(frame.length);
    copyBytes(body, 0, frame, 0, frame.length);
    p.backlog.push(this.streamOf(frame), body);
    this.pump(p);
  }

  /** Assigns sequence numbers to queued frames in send order while the window allows. */
  private pump(p: Peer): void {
    if (!this.open(p)) return;
    while (p.backlog.length) {
      const stream = p.backlog.firstStream();
      const tx = p.tx[stream];
      if (tx.next - tx.base >= this.window) break;
      const seq = tx.next++;
      const u = tx.win[seq & WIN_MASK];
      u.body = p.backlog.shift();
      u.after = this.mixed ? p.tx[1 - stream as 0 | 1].next - 1 : 0;
      u.sentAt = this.clock.now();
      u.again = false;
      this.counters.dataSent++;
      this.transmit(p, stream, seq, u);
    }
    this.armRto(p);
  }

  private canAck(stream: 0 | 1): boolean { return !this.o.key || stream === 1; }

  private transmit(p: Peer, stream: 0 | 1, seq: number, u: Unacked): void {
    const mac = stream === 1;
    const withAck = this.canAck(stream) && !this.loneAcks;
    const n = 2 + 1 + (this.mixed ? 1 : 0) + (withAck ? this.ackStreams.length : 0);
    const body = u.body!;
    const len = n + body.length, total = len + (mac ? MAC_BYTES : 0);
    const out = this.txBuf.room(total);
    out[0] = LAYER_MARK | F_DATA | (withAck ? F_ACK : 0) | (mac ? F_MAC : 0);
    out[1] = this.o.incarnation & 0xff;
    let i = 2, c = 0;
    const ctr = this.txCtr;
    out[i++] = seq & 0xff;
    ctr[c++] = seq;
    if (this.mixed) { out[i++] = u.after & 0xff; ctr[c++] = u.after; }
    if (withAck) for (let k = 0; k < this.ackStreams.length; k++) { const a = p.rx[this.ackStreams[k]].expected - 1; out[i++] = a & 0xff; ctr[c++] = a; }
    copyBytes(out, n, body, 0, body.length);
    if (mac) this.auth!.sign(this.node, p.node, this.o.incarnation, p.inc, ctr, c, out, len);
    if (withAck) this.ackSent(p);
    this.inner.send(p.node, this.txBuf.view(total));
  }

  private sendAck(p: Peer): void {
    p.ackT.clear();
    if (!p.inc || this.closed) return;
    const mac = !!this.o.key;
    const n = 2 + this.ackStreams.length, total = n + (mac ? MAC_BYTES : 0);
    const out = this.ackBuf.room(total);
    out[0] = LAYER_MARK | F_ACK | (mac ? F_MAC : 0);
    out[1] = this.o.incarnation & 0xff;
    const ctr = this.txCtr;
    for (let k = 0; k < this.ackStreams.length; k++) { const a = p.rx[this.ackStreams[k]].expected - 1; out[2 + k] = a & 0xff; ctr[k] = a; }
    if (mac) this.auth!.sign(this.node, p.node, this.o.incarnation, p.inc, ctr, this.ackStreams.length, out, n);
    this.ackSent(p);
    this.counters.acksSent++;
    this.inner.send(p.node, this.ackBuf.view(total));
  }

  private ackSent(p: Peer): void { p.ackDue = false; p.ackT.clear(); }

  private scheduleAck(p: Peer, now: boolean): void {
    p.ackDue = true;
    if (now) return this.sendAck(p);
    if (!p.ackT.pending) p.ackT.set(this.ackDelay);
  }

  private sendHello(p: Peer): void {
    if (this.closed) return;
    p.helloT.clear();
    const body = this.o.hello?.() ?? new Uint8Array(0);
    if (body.length > MAX_HELLO_BODY) throw new RangeError(`link layer: hello body of ${body.length} bytes exceeds ${MAX_HELLO_BODY}`);
    const mac = !!this.o.key;
    const n = 2 + HELLO_FIXED + body.length;
    const out = new Uint8Array(n + (mac ? MAC_BYTES : 0));
    const dv = new DataView(out.buffer);
    out[0] = LAYER_MARK | F_HELLO | (mac ? F_MAC : 0);
    out[1] = this.o.incarnation & 0xff;
    dv.setUint32(2, this.o.incarnation, true);
    dv.setUint32(6, p.inc, true);
    out[10] = (p.echoed ? 0 : H_WANT) | (p.mismatch ? H_REFUSE : 0) | (this.o.restarted ? H_RESTARTED : 0);
    out.set(body, 11);
    if (mac) this.auth!.sign(this.node, p.node, this.o.incarnation, p.inc, this.txCtr, 0, out, n);
    p.lastHello = this.clock.now();
    this.counters.hellosSent++;
    this.inner.send(p.node, out);
    // until the session is open (or while refused), say hello again
    if (!this.open(p)) p.helloT.set(this.helloUs * (p.mismatch || p.refuses ? 10 : 1));
  }

  /** The timeout after progress: the configured one until a round trip was measured, then SRTT + 4 RTTVAR (RFC 6298). */
  private baseRto(p: Peer): number {
    return p.srtt < 0 ? this.rto : Math.min(this.maxRto, Math.max(this.minRto, Math.round(p.srtt + 4 * p.rttvar)));
  }
  private sampleRtt(p: Peer, r: number): void {
    if (p.srtt < 0) { p.srtt = r; p.rttvar = r / 2; return; }
    p.rttvar = 0.75 * p.rttvar + 0.25 * Math.abs(p.srtt - r);
    p.srtt = 0.875 * p.srtt + 0.125 * r;
  }

  /** The retransmission timer runs while anything is unacknowledged, set for the earliest frame due. */
  private armRto(p: Peer): void {
    let first = Infinity;
    for (let s = 0; s < 2; s++) {
      const tx = p.tx[s];
      for (let q = tx.base; q < tx.next; q++) first = Math.min(first, tx.win[q & WIN_MASK].sentAt);
    }
    if (first === Infinity) { p.rtoT.clear(); p.rtoCur = this.baseRto(p); return; }
    if (p.rtoT.pending) return;
    p.rtoT.set(Math.max(1000, first + p.rtoCur - this.clock.now()));
  }

  private onRto(p: Peer): void {
    if (this.closed || !p.inc) return;
    const now = this.clock.now();
    let timedOut = false;
    for (let k = 0; k < 2; k++) {
      const s = k as 0 | 1;
      // Only the frame everything waits for is sent again: the receiver may hold the later
      // ones, and each partial acknowledgement after this resends the next hole at once (onAck).
      const tx = p.tx[s];
      const u = unackedAt(tx, tx.base);
      if (!u || now - u.sentAt < p.rtoCur - 1) continue;
      timedOut = true;
      u.sentAt = now;
      u.again = true;
      tx.lastRetx = now;
      this.counters.retransmits++;
      this.transmit(p, s, tx.base, u);
    }
    // back off only when the frame everything waits for timed out (not for later ones)
    if (timedOut) p.rtoCur = Math.min(this.maxRto, p.rtoCur * 2);
    this.armRto(p);
  }

  // ---- receiving -----------------------------------------------------------------
  onFrame(handler: (src: number, frame: Uint8Array) => void): void { this.handler = handler; }

  private drop(reason: string, src: number, detail: string): void {
    this.dropped[reason] = (this.dropped[reason] ?? 0) + 1;
    this.emit({ type: "refused", src, reason, detail });
  }

  private emit(e: LinkLayerEvent): void { this.o.onEvent?.(e); }

  private up(src: number, f: Uint8Array): void { this.handler(src, f); }

  private receive(src: number, f: Uint8Array): void {
    if (this.closed) return;
    if (isMgmt(f) || src === this.node) return this.up(src, f);
    const p = this.peers.get(src);
    if (!p) {
      // not a board: management frames only (above)
      return this.drop("auth-unknown-node", src, `frame (byte 0 = 0x${(f[0] ?? 0).toString(16).padStart(2, "0")}) from node ${src}, which is not a board of this system`);
    }
    if (!isLayerFrame(f)) {
      return this.drop(this.o.key ? "auth-missing" : "unlayered", src,
        `frame from node ${src} without the link layer (byte 0 = 0x${(f[0] ?? 0).toString(16).padStart(2, "0")}, ${f.length} bytes)${this.o.key ? ": no authenticator" : ""}`);
    }
    const flags = f[0] & 0x0f;
    const mac = (flags & F_MAC) !== 0;
    if (mac && !this.o.key) return this.drop("auth-no-key", src, `authenticated frame from node ${src}, but this board has no link key (profile linkKey)`);
    if (flags & F_HELLO) return this.onHello(p, f, mac);
    if (!mac && this.o.key && (!this.mixed || !(flags & F_DATA) || (flags & F_ACK))) {
      return this.drop("auth-missing", src, `link frame (flags 0x${flags.toString(16)}) from node ${src} without a MAC`);
    }
    if (!p.inc) {
      this.drop("no-session", src, `frame from node ${src} before its hello`);
      if (this.clock.now() - p.lastHello > this.helloUs / 4) this.sendHello(p);
      return;
    }
    if (f[1] !== (p.inc & 0xff)) return this.drop("stale-incarnation", src, `frame from node ${src} of incarnation tag ${f[1]}, not its current incarnation ${p.inc}`);
    const data = (flags & F_DATA) !== 0, ack = (flags & F_ACK) !== 0;
    if (!data && !ack) return this.drop("layer-malformed", src, `link frame from node ${src} with neither data nor acknowledgement`);
    const stream: 0 | 1 = mac ? 1 : 0;
    const hdr = 2 + (data ? 1 + (this.mixed ? 1 : 0) : 0) + (ack ? this.ackStreams.length : 0);
    if (ack && !this.canAck(stream)) return this.drop("layer-malformed", src, `unauthenticated acknowledgement from node ${src}`);
    if (f.length < hdr + (mac ? MAC_BYTES : 0) + (data ? 1 : 0)) return this.drop("layer-malformed", src, `link frame from node ${src}: ${f.length} bytes, shorter than its header`);
    const ctr = this.rxCtr;
    let i = 2, seq = 0, after = 0, c = 0;
    const rx = p.rx[stream];
    if (data) {
      const d = (f[i++] - rx.expected) & 0xff;
      if (d >= 128) {
        // already delivered: the sender missed our acknowledgement
        this.counters.duplicates++;
        this.dropped["duplicate-frame"] = (this.dropped["duplicate-frame"] ?? 0) + 1;
        this.scheduleAck(p, true);
        return;
      }
      if (d >= RX_WINDOW) return this.drop("out-of-window", src, `frame from node ${src}: sequence ${rx.expected + d} beyond the window (expected ${rx.expected}, window ${RX_WINDOW})`);
      seq = rx.expected + d;
      ctr[c++] = seq;
      if (this.mixed) {
        const other = p.rx[1 - stream as 0 | 1].expected - 1;
        after = other + ((f[i++] - other) & 0xff);
        ctr[c++] = after;
      }
    }
    const acks = this.rxAcks;
    if (ack) {
      for (let k = 0; k < this.ackStreams.length; k++) {
        const a = nearest(p.tx[this.ackStreams[k]].base - 1, f[i++]);
        acks[k] = a;
        ctr[c++] = a;
      }
    }
    if (mac && !this.auth!.verify(src, this.node, p.inc, this.o.incarnation, ctr, c, f)) {
      return this.drop("auth-mac", src, `link frame from node ${src}: MAC does not match (no key, another key, altered, or replayed from another session)`);
    }
    if (ack) for (let k = 0; k < this.ackStreams.length; k++) this.onAck(p, this.ackStreams[k], acks[k], !data);
    if (!data) return;
    // the body is copied into a buffer of the layer's pool: held until delivered, given back after
    const len = f.length - (mac ? MAC_BYTES : 0) - hdr;
    const body = this.pool.take(len);
    copyBytes(body, 0, f, hdr, len);
    if (this.o.key && !mac && !isApp(body)) {
      // refused before it takes a sequence number: it cannot displace the sender's frame
      this.pool.give(body);
      const what = body[0] >> 5 === 0 ? "application frame carrying a passed-AT bound" : `control frame (kind ${body[0] >> 5})`;
      return this.drop("auth-missing", src, `${what} from node ${src} without a MAC (only application frames without a passed-AT bound may be unauthenticated)`);
    }
    if (heldAt(rx, seq)) {
      this.pool.give(body);
      this.counters.duplicates++;
      this.dropped["duplicate-frame"] = (this.dropped["duplicate-frame"] ?? 0) + 1;
      return;
    }
    const slot = rx.win[seq & WIN_MASK];
    slot.seq = seq; slot.body = body; slot.after = after;
    const inOrder = seq === rx.expected;
    this.deliver(p);
    this.scheduleAck(p, !inOrder);
  }

  private onAck(p: Peer, s: 0 | 1, a: number, pure: boolean): void {
    const tx = p.tx[s];
    if (a > tx.next - 1) { this.dropped["bad-ack"] = (this.dropped["bad-ack"] ?? 0) + 1; return; }
    if (a < tx.base - 1) return; // an older acknowledgement, overtaken (reordered or duplicated)
    if (a >= tx.base) {
      // a round-trip sample from the newest frame this acknowledges, unless it was sent again,
      // or was sent before the last retransmission (the receiver may have held its
      // acknowledgement behind the hole: that wait is no round trip)
      const newest = unackedAt(tx, a);
      if (newest && !newest.again && newest.sentAt > tx.lastRetx) this.sampleRtt(p, Math.max(0, this.clock.now() - newest.sentAt));
      for (let q = tx.base; q <= a; q++) { const u = tx.win[q & WIN_MASK]; this.pool.give(u.body!); u.body = null; }
      tx.base = a + 1;
      tx.dupAcks = 0;
      p.rtoCur = this.baseRto(p);
      p.rtoT.clear();
      // a partial acknowledgement after a retransmission: the next hole was sent before it, resend it now
      const nb = unackedAt(tx, tx.base);
      if (nb && nb.sentAt < tx.lastRetx) {
        nb.sentAt = this.clock.now();
        nb.again = true;
        tx.lastRetx = nb.sentAt;
        this.counters.retransmits++;
        this.transmit(p, s, tx.base, nb);
      }
      this.pump(p);
      return;
    }
    // a lone duplicate acknowledgement: the receiver holds later frames and misses tx.base
    const u = unackedAt(tx, tx.base);
    if (!u || !pure) return;
    if (++tx.dupAcks >= 2 && tx.fastFor !== tx.base) {
      tx.fastFor = tx.base;
      u.sentAt = this.clock.now();
      u.again = true;
      tx.lastRetx = u.sentAt;
      this.counters.fastRetransmits++;
      this.counters.retransmits++;
      this.transmit(p, s, tx.base, u);
    }
  }

  private deliver(p: Peer): void {
    for (let progress = true; progress;) {
      progress = false;
      for (let k = 1; k >= 0; k--) {
        const rx = p.rx[k];
        const h = heldAt(rx, rx.expected);
        if (!h) continue;
        const other = p.rx[1 - k].expected - 1;
        if (this.mixed && h.after > other) continue; // an earlier frame of the other stream comes first
        const body = h.body!;
        h.body = null;
        if (this.mixed && h.after < other) {
          // cannot come from the sender (its order is total): an unauthenticated forgery; the slot stays open
          this.pool.give(body);
          this.drop("bad-order", p.node, `frame ${rx.expected} from node ${p.node} claims to follow ${h.after} frames of the other stream, ${other} were delivered`);
          continue;
        }
        rx.expected++;
        progress = true;
        this.deliverOne(p, body);
        // the owner copies what it keeps of a delivered frame (as of Transport.send's)
        this.pool.give(body);
      }
    }
  }

  private deliverOne(p: Peer, body: Uint8Array): void {
    if (isMgmt(body) || isLayerFrame(body) || !body.length) return this.drop("layer-malformed", p.node, `link frame from node ${p.node} carries no GSU frame`);
    const why = this.o.admit?.(p.node, body) ?? null;
    if (why) return this.drop("role", p.node, why);
    this.counters.delivered++;
    try { this.up(p.node, body); } catch (e) { queueMicrotask(() => { throw e; }); }
  }

  private onHello(p: Peer, f: Uint8Array, mac: boolean): void {
    const src = p.node;
    if (this.o.key && !mac) return this.drop("auth-missing", src, `hello from node ${src} without a MAC`);
    if (f.length < 2 + HELLO_FIXED + (mac ? MAC_BYTES : 0)) return this.drop("layer-malformed", src, `hello from node ${src}: ${f.length} bytes`);
    const dv = new DataView(f.buffer, f.byteOffset, f.length);
    const inc = dv.getUint32(2, true), echo = dv.getUint32(6, true), hf = f[10];
    if (!inc || f[1] !== (inc & 0xff)) return this.drop("layer-malformed", src, `hello from node ${src}: incarnation ${inc} and tag ${f[1]} disagree`);
    if (mac && !this.auth!.verify(src, this.node, inc, echo, this.rxCtr, 0, f)) {
      return this.drop("auth-mac", src, `hello from node ${src}: MAC does not match (no key, another key, or altered)`);
    }
    if (echo !== 0 && echo !== this.o.incarnation) {
      // addressed to an earlier run of this board: says nothing about this one
      if (this.clock.now() - p.lastHello > this.helloUs / 10) this.sendHello(p);
      return this.drop("stale-incarnation", src, `hello from node ${src} addressed to incarnation ${echo} of this board, not ${this.o.incarnation}`);
    }
    if (p.inc && inc < p.inc) return this.drop("stale-incarnation", src, `hello from node ${src} of incarnation ${inc}, older than its current ${p.inc} (a replay, or a frame delayed across its restart)`);
    let fresh = false;
    if (inc !== p.inc) {
      fresh = true;
      if (p.inc) this.restarted(p, inc);
      // the first run of the peer this board hears of, but not the peer's first run: whatever
      // it held before (its part in a guarded operation, say) is gone with that run
      else if (hf & H_RESTARTED) { this.counters.sessionResets++; this.emit({ type: "peer-restarted", node: p.node, from: 0, incarnation: inc, lost: 0 }); }
      p.inc = inc;
      p.echoed = false;
      p.refuses = false;
      const body = f.subarray(2 + HELLO_FIXED, f.length - (mac ? MAC_BYTES : 0));
      const was = p.mismatch;
      p.mismatch = this.o.checkHello?.(src, body) ?? null;
      if (p.mismatch && p.mismatch !== was) this.emit({ type: "mismatch", node: src, detail: p.mismatch });
    }
    const wasOpen = this.open(p);
    if (echo === this.o.incarnation) p.echoed = true;
    const refuses = (hf & H_REFUSE) !== 0;
    if (refuses && !p.refuses) this.emit({ type: "peer-refuses", node: src });
    p.refuses = refuses;
    if (fresh || echo !== this.o.incarnation || (hf & H_WANT)) {
      if (fresh || this.clock.now() - p.lastHello > this.helloUs / 10) this.sendHello(p);
    }
    if (!wasOpen && this.open(p)) {
      p.helloT.clear();
      p.wasOpen = true;
      this.emit({ type: "session-open", node: src, incarnation: inc });
      this.pump(p);
    }
  }

  /** The peer restarted: what was sent to its old incarnation is gone with it. */
  private restarted(p: Peer, inc: number): void {
    let lost = p.tx[0].next - p.tx[0].base + p.tx[1].next - p.tx[1].base;
    // frames queued while the old session was open were meant for the run that is gone
    if (p.wasOpen) { lost += p.backlog.length; p.backlog.clear(this.pool); }
    this.counters.sessionResets++;
    this.counters.lostOnRestart += lost;
    const from = p.inc;
    p.tx = [newTx(), newTx()];
    p.rx = [newRx(), newRx()];
    p.rtoT.clear(); p.srtt = -1; p.rttvar = 0; p.rtoCur = this.rto;
    p.ackT.clear(); p.ackDue = false;
    p.wasOpen = false;
    this.emit({ type: "peer-restarted", node: p.node, from, incarnation: inc, lost });
  }

  // ---- bookkeeping -------------------------------------------------------------
  layerStats(): LayerStats {
    let inFlight = 0, backlog = 0, open = 0;
    for (const p of this.peers.values()) {
      inFlight += p.tx[0].next - p.tx[0].base + p.tx[1].next - p.tx[1].base;
      backlog += p.backlog.length;
      if (this.open(p)) open++;
    }
    return { incarnation: this.o.incarnation, ...this.counters, inFlight, backlog, peersOpen: open, peers: this.peers.size };
  }

  stats(): TransportStats & { layer: LayerStats } {
    const s = this.inner.stats();
    const dropped = { ...s.dropped };
    for (const [k, v] of Object.entries(this.dropped)) dropped[k] = (dropped[k] ?? 0) + v;
    return { ...s, dropped, layer: this.layerStats() };
  }

  /** Nothing unacknowledged and nothing queued (tests, drains). */
  idle(): boolean { const s = this.layerStats(); return s.inFlight === 0 && s.backlog === 0; }

  /** Stops the layer without closing the link under it (tests: a board that crashes). */
  stop(): void {
    this.closed = true;
    for (const p of this.peers.values()) { p.ackT.stop(); p.rtoT.stop(); p.helloT.stop(); }
  }

  async close(): Promise<void> {
    this.stop();
    await this.inner.close();
  }
}
