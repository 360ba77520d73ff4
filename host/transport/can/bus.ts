// CAN bus abstraction: one narrow interface (in the manner of node-serialport's
// bindings-interface) with three implementations:
//   SocketCanBus  Linux SocketCAN via the optional `socketcan` package (can0, vcan0, ...)
//   SlcanBus      a Lawicel/SLCAN USB-CAN adapter over `serialport` (CANable, ...)
//   MockCanBus    an in-memory bus for tests (like @serialport/binding-mock)
// and the interface spec parser: `can0` or `slcan:/dev/ttyACM0@500000`.
import { existsSync, existsSync as exists, readFileSync } from "node:fs";
import { FD_LENGTHS, type CanFrame } from "./cyphal.ts";
import {
  bitrateCommand, closeCommand, dataBitrateCommand, encodeFrame, openCommand, SLCAN_BITRATES, SLCAN_DATA_BITRATES, SLCAN_FD_MAX_LINE, SLCAN_MAX_LINE, SlcanParser, type SlcanEvent,
} from "./slcan.ts";

export type { CanFrame };

export interface CanBus {
  /** Human-readable name for logs and candump's interface column (e.g. can0, ttyACM0). */
  readonly name: string;
  /** Queues one frame for transmission. Throws if the bus is closed or the frame is invalid. */
  send(frame: CanFrame): void;
  /** The bus carries CAN FD frames (set up for FD: SocketCAN MTU 72, an SLCAN adapter given a data bitrate). */
  readonly fd?: boolean;
  /** Registers the receiver of every frame seen on the bus from other nodes; `timestampUs` (wall clock, µs since the epoch) when the hardware gives one. */
  onFrame(cb: (frame: CanFrame, timestampUs?: number) => void): void;
  /** Reports asynchronous failures (device vanished, adapter error replies). */
  onError?(cb: (err: Error) => void): void;
  close(): Promise<void>;
}

/** Monotonic microseconds (for timeouts). */
export function nowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** Wall-clock microseconds since the Unix epoch (for logs). */
export function wallUs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

function checkFrame(f: CanFrame, fdCapable = false, name = "this bus"): void {
  const max = f.ext ? 0x1fffffff : 0x7ff;
  if (!Number.isInteger(f.id) || f.id < 0 || f.id > max) throw new RangeError(`CAN ID 0x${Number(f.id).toString(16)} does not fit a ${f.ext ? 29 : 11}-bit identifier`);
  if (f.fd) {
    if (!fdCapable) throw new RangeError(`CAN interface '${name}' is not set up for CAN FD: it cannot send an FD frame`);
    if (f.rtr) throw new RangeError("CAN FD has no remote frames");
    if (!FD_LENGTHS.includes(f.data.length)) throw new RangeError(`CAN FD frame with ${f.data.length} data bytes; valid lengths are ${FD_LENGTHS.join(", ")}`);
    return;
  }
  if (f.data.length > 8) throw new RangeError(`CAN frame with ${f.data.length} data bytes; classic CAN carries at most 8`);
  if (f.rtr && f.data.length > 0) throw new RangeError("an RTR frame carries no data");
}

// ---------------------------------------------------------------- interface specs

/** Link modes a spec may add: `+fd` (CAN FD; SLCAN: `+fd=2M` or `+fd=5M`, the data bitrate), `+compact`. */
export interface CanModes { fd?: boolean; dataBitrate?: number; compact?: boolean }
export type CanIfaceSpec =
  | ({ kind: "socketcan"; iface: string } & CanModes)
  | ({ kind: "slcan"; path: string; bitrate: number } & CanModes);

function rate(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(text);
  return m ? Math.round(Number(m[1]) * (m[2] === "" ? 1 : m[2].toLowerCase() === "k" ? 1e3 : 1e6)) : undefined;
}

/** Splits `+fd`, `+fd=2M`, `+compact` off the end of a spec. */
function parseModes(spec: string): { base: string; modes: CanModes } {
  const parts = spec.split("+");
  const modes: CanModes = {};
  for (const m of parts.slice(1)) {
    if (m === "fd") modes.fd = true;
    else if (m.startsWith("fd=")) {
      const r = rate(m.slice(3));
      if (r === undefined) throw new Error(`bad CAN interface '${spec}': data bitrate '${m.slice(3)}' is not a number (e.g. +fd=2M)`);
      modes.fd = true; modes.dataBitrate = r;
    } else if (m === "compact") modes.compact = true;
    else throw new Error(`bad CAN interface '${spec}': unknown mode '+${m}' (modes: +fd, +fd=2M, +compact)`);
  }
  return { base: parts[0], modes };
}

const SPEC_HELP = "expected a SocketCAN interface such as can0 or vcan0, or an SLCAN adapter such as slcan:/dev/ttyACM0@500000";

/** Parses `can0` / `vcan0` (SocketCAN) or `slcan:/dev/ttyACM0[@bitrate]` (default 500000; k and M suffixes allowed), each optionally followed by `+fd[=RATE]` and `+compact`. */
export function parseCanIface(full: string): CanIfaceSpec {
  const { base: spec, modes } = parseModes(full);
  if (spec.startsWith("slcan:")) {
    const body = spec.slice("slcan:".length);
    const at = body.lastIndexOf("@");
    const path = at < 0 ? body : body.slice(0, at);
    if (path === "") throw new Error(`bad CAN interface '${spec}': no serial device after 'slcan:' (${SPEC_HELP})`);
    let bitrate = 500_000;
    if (at >= 0) {
      const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(body.slice(at + 1));
      if (!m) throw new Error(`bad CAN interface '${spec}': bitrate '${body.slice(at + 1)}' is not a number (e.g. 500000 or 500k)`);
      bitrate = Math.round(Number(m[1]) * (m[2] === "" ? 1 : m[2].toLowerCase() === "k" ? 1e3 : 1e6));
    }
    if (!SLCAN_BITRATES.includes(bitrate)) {
      throw new Error(`bad CAN interface '${spec}': SLCAN bitrate ${bitrate} is not one of ${SLCAN_BITRATES.join(", ")}`);
    }
    if (modes.fd) {
      modes.dataBitrate ??= 2_000_000;
      if (!SLCAN_DATA_BITRATES.includes(modes.dataBitrate)) throw new Error(`bad CAN interface '${full}': SLCAN FD data bitrate ${modes.dataBitrate} is not one of ${SLCAN_DATA_BITRATES.join(", ")} (the Y2/Y5 commands of CANable 2.0 firmware)`);
    }
    return { kind: "slcan", path, bitrate, ...modes };
  }
  if (modes.dataBitrate !== undefined) throw new Error(`bad CAN interface '${full}': a SocketCAN interface's data bitrate is set with ip link (dbitrate), not in the spec: write ${spec}+fd`);
  if (/^[A-Za-z][A-Za-z0-9_.-]{0,14}$/.test(spec)) return { kind: "socketcan", iface: spec, ...modes };
  throw new Error(`bad CAN interface '${spec}': ${SPEC_HELP}`);
}

/** Opens the bus an interface spec names. */
export async function openCanBus(spec: string | CanIfaceSpec, opts: { serialBaudRate?: number } = {}): Promise<CanBus> {
  const s = typeof spec === "string" ? parseCanIface(spec) : spec;
  return s.kind === "socketcan" ? SocketCanBus.open(s.iface, { fd: s.fd }) : SlcanBus.open(s.path, s.bitrate, { ...opts, dataBitrate: s.fd ? s.dataBitrate ?? 2_000_000 : undefined });
}

/** Candump's interface column for a spec: the SocketCAN name, or the serial device's basename. */
export function ifaceLabel(spec: CanIfaceSpec): string {
  return spec.kind === "socketcan" ? spec.iface : spec.path.split("/").pop() || spec.path;
}

// ---------------------------------------------------------------- SocketCAN

interface RawChannel {
  addListener(event: string, cb: (msg: { id: number; ext?: boolean; rtr?: boolean; err?: boolean; data: Buffer; ts_sec?: number; ts_usec?: number }) => void): void;
  start(): void;
  stop(): void;
  send(msg: { id: number; ext: boolean; rtr: boolean; data: Buffer }): number | void; // send(2)'s result: -1 when refused
  sendFD?(msg: { id: number; ext: boolean; fd_brs: boolean; data: Buffer }): number;
}

/**
 * Can a SocketCAN interface carry CAN FD frames? Its MTU says: 72 (CANFD_MTU) yes, 16 (CAN_MTU) no.
 * Returns undefined when sysfs does not say (no such interface). `sys` is for tests.
 */
export function socketCanMtu(iface: string, sys = "/sys/class/net"): number | undefined {
  const f = `${sys}/${iface}/mtu`;
  if (!exists(f)) return undefined;
  const n = Number(readFileSync(f, "utf8").trim());
  return Number.isFinite(n) ? n : undefined;
}

export function noFdMessage(iface: string, mtu: number | undefined): string {
  return `CAN interface '${iface}' cannot carry CAN FD frames (MTU ${mtu ?? "unknown"}, not 72): set it up for FD — ` +
    `ip link set ${iface} down; ip link set ${iface} up type can bitrate 500000 dbitrate 2000000 fd on ` +
    `(a virtual bus: ip link set ${iface} mtu 72) — or drop '+fd' from the link ('${iface}' alone is classic CAN)`;
}

export function noSocketCanMessage(iface: string): string {
  let why = "";
  if (!existsSync("/proc/net/can")) why = " (this kernel has no CAN protocol loaded: modprobe can can-raw)";
  else if (!existsSync(`/sys/class/net/${iface}`)) why = ` (no network interface '${iface}'; for a virtual bus: modprobe vcan && ip link add dev ${iface} type vcan && ip link set up ${iface})`;
  return `no CAN interface '${iface}': socket(AF_CAN) failed — load can/can-raw/vcan or use slcan:/dev/ttyACM0@500000${why}`;
}

export class SocketCanBus implements CanBus {
  private frameCbs: ((f: CanFrame, t?: number) => void)[] = [];
  private closed = false;
  private constructor(readonly name: string, private ch: RawChannel, readonly fd = false) {
    ch.addListener("onMessage", (m) => {
      if (m.err) return; // error frames are not data
      // socketcan 4.0.7 opens every socket with CAN_RAW_FD_FRAMES and reads canfd_frame, but does
      // not say whether a frame was FD: more than 8 bytes is FD for sure, 8 or fewer unknown.
      const f: CanFrame = m.rtr
        ? { id: m.id, ext: !!m.ext, rtr: true, data: new Uint8Array(0), dlc: m.data?.length ?? 0 }
        : m.data.length > 8 ? { id: m.id, ext: !!m.ext, rtr: false, data: new Uint8Array(m.data), fd: true }
        : { id: m.id, ext: !!m.ext, rtr: false, data: new Uint8Array(m.data) };
      const t = m.ts_sec !== undefined ? m.ts_sec * 1e6 + (m.ts_usec ?? 0) : undefined;
      for (const cb of this.frameCbs) cb(f, t);
    });
    ch.start();
  }

  /** `socketcan` is for tests: a stand-in for the package (its createRawChannel). */
  static async open(iface: string, o: { fd?: boolean; sys?: string; socketcan?: { createRawChannel(iface: string, timestamps?: boolean): RawChannel } } = {}): Promise<SocketCanBus> {
    if (o.fd) {
      const mtu = socketCanMtu(iface, o.sys);
      if (mtu !== undefined && mtu !== 72) throw new Error(noFdMessage(iface, mtu));
    }
    let mod: { createRawChannel(iface: string, timestamps?: boolean): RawChannel };
    if (o.socketcan) mod = o.socketcan;
    else try {
      const m = await import("socketcan");
      mod = (m as unknown as { default?: typeof mod }).default?.createRawChannel ? (m as unknown as { default: typeof mod }).default : (m as unknown as typeof mod);
    } catch (e) {
      throw new Error(`no CAN interface '${iface}': the optional package 'socketcan' is not installed or did not build (${(e as Error).message.split("\n")[0]}) — install a C++ toolchain and Linux headers and run 'npm rebuild socketcan', or use slcan:/dev/ttyACM0@500000`);
    }
    let ch: RawChannel;
    try {
      ch = mod.createRawChannel(iface, true);
    } catch {
      throw new Error(noSocketCanMessage(iface));
    }
    if (o.fd && typeof ch.sendFD !== "function") throw new Error(`CAN interface '${iface}': the installed 'socketcan' package has no sendFD (CAN FD needs socketcan 4.0.7 or later); or drop '+fd' from the link`);
    return new SocketCanBus(iface, ch, !!o.fd);
  }

  // Frames leave at the bus's pace. A real controller cannot put them on the wire
  // faster than the bit rate; a vcan interface can, and a burst (the work held
  // during a recovery round, say) then overflows the receiving sockets' buffers
  // (about 278 frames by default), where the kernel drops frames silently.
  // A real controller's interface has a short TX queue (txqueuelen 10 by default;
  // an SJA1000 or MCP2515 holds one frame at a time in hardware): when it is full,
  // send(2) fails with ENOBUFS instead of waiting. The frame then stays first in
  // line and is tried again shortly; only if the queue stays full for
  // STUCK_MS (bus off, no other node acknowledging) are the waiting frames
  // dropped, and reported, so memory stays bounded.
  bitrate = 500_000;
  static STUCK_MS = 2000;
  private queue: CanFrame[] = [];
  private tokens = 0;           // bits we may send now
  private last = performance.now();
  private timer: NodeJS.Timeout | null = null;
  private refusedSince: number | undefined; // first refusal of the frame at the head of the queue
  /** Sends the interface refused (ENOBUFS: its TX queue was full) and tried again; frames dropped after STUCK_MS. */
  readonly txStats = { refused: 0, dropped: 0 };

  send(f: CanFrame): void {
    if (this.closed) throw new Error(`CAN interface '${this.name}' is closed`);
    checkFrame(f, this.fd, this.name);
    this.queue.push(f);
    this.drain();
  }

  private drain(): void {
    const now = performance.now();
    const burst = 32 * 160; // at most ~32 full frames at once
    this.tokens = Math.min(burst, this.tokens + ((now - this.last) / 1000) * this.bitrate);
    this.last = now;
    let wait = 1;
    while (this.queue.length && !this.closed) {
      const f = this.queue[0];
      // an FD frame's data phase runs faster; costing it at the nominal rate only paces it more gently
      const cost = f.fd ? (47 + 8 * f.data.length) * 1.2 / 4 + 40 : (47 + 8 * f.data.length) * 1.2;
      if (this.tokens < cost) break;
      let r: number | void;
      if (f.fd) {
        r = this.ch.sendFD!({ id: f.id, ext: f.ext, fd_brs: f.brs ?? true, data: Buffer.from(f.data) });
        if (typeof r === "number" && r < 0) {
          const mtu = socketCanMtu(this.name);
          if (mtu !== undefined && mtu !== 72) { // not a full queue: this interface cannot carry FD frames at all
            this.queue.shift();
            const e = new Error(noFdMessage(this.name, mtu)); for (const cb of this.errorCbs) cb(e);
            continue;
          }
        }
      } else {
        // SocketCAN carries an RTR frame's DLC in can_dlc; the binding takes it from the data length.
        r = this.ch.send({ id: f.id, ext: f.ext, rtr: f.rtr, data: f.rtr ? Buffer.alloc(f.dlc ?? 0) : Buffer.from(f.data) });
      }
      if (typeof r === "number" && r < 0) {
        // Refused (ENOBUFS): the TX queue is full. Keep the frame; try again once the controller has sent some.
        this.txStats.refused++;
        this.refusedSince ??= now;
        if (now - this.refusedSince < SocketCanBus.STUCK_MS) { wait = 2; break; }
        const n = this.queue.length;
        this.queue = [];
        this.txStats.dropped += n;
        this.refusedSince = undefined;
        const e = new Error(`CAN interface '${this.name}': its TX queue stayed full for ${SocketCanBus.STUCK_MS} ms (the controller sends nothing: bus off, or no other node acknowledging?); ${n} waiting frame(s) dropped — check 'ip -details -statistics link show ${this.name}' (state, bus errors) and the wiring and termination`);
        for (const cb of this.errorCbs) cb(e);
        break;
      }
      this.refusedSince = undefined;
      this.tokens -= cost;
      this.queue.shift();
    }
    if (this.queue.length && !this.timer && !this.closed) {
      this.timer = setTimeout(() => { this.timer = null; this.drain(); }, wait);
    }
  }
  onFrame(cb: (f: CanFrame, t?: number) => void): void { this.frameCbs.push(cb); }
  private errorCbs: ((e: Error) => void)[] = [];
  onError(cb: (e: Error) => void): void { this.errorCbs.push(cb); }
  async close(): Promise<void> {
    if (this.closed) return;
    // let queued frames out first (bounded: at the bus rate they need little time)
    const t0 = performance.now();
    while (this.queue.length && performance.now() - t0 < 2000) await new Promise((r) => setTimeout(r, 2));
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.ch.stop();
  }
}

// ---------------------------------------------------------------- SLCAN

export interface SlcanStats { txAcks: number; txErrors: number; garbage: number; replies: string[] }

/** SLCAN adapter over a serial port. Open with SlcanBus.open(path, bitrate). */
export class SlcanBus implements CanBus {
  readonly name: string;
  readonly stats: SlcanStats = { txAcks: 0, txErrors: 0, garbage: 0, replies: [] };
  private parser: SlcanParser;
  private frameCbs: ((f: CanFrame, t?: number) => void)[] = [];
  private errorCbs: ((e: Error) => void)[] = [];
  private waiter: ((ev: SlcanEvent) => boolean) | undefined;
  private closed = false;

  readonly fd: boolean;
  private constructor(readonly path: string, readonly bitrate: number, private port: import("serialport").SerialPort, readonly dataBitrate?: number) {
    this.fd = dataBitrate !== undefined;
    this.parser = new SlcanParser(this.fd ? SLCAN_FD_MAX_LINE : SLCAN_MAX_LINE);
    this.name = path.split("/").pop() || path;
    port.on("data", (chunk: Buffer) => this.onBytes(chunk));
    port.on("close", (err?: Error & { disconnected?: boolean }) => {
      if (!this.closed) this.fail(new Error(`slcan ${this.path}: device closed${err?.disconnected ? " (disconnected: cable pulled?)" : ""}`));
    });
    port.on("error", (err: Error) => this.fail(new Error(`slcan ${this.path}: ${err.message}`)));
  }

  /** Opens the serial device, then sends C (in case it was open), S<n> and O, each acknowledged. */
  static async open(path: string, bitrate: number, opts: { serialBaudRate?: number; ackTimeoutMs?: number; dataBitrate?: number } = {}): Promise<SlcanBus> {
    const cmdS = bitrateCommand(bitrate); // validates before touching the device
    const cmdY = opts.dataBitrate !== undefined ? dataBitrateCommand(opts.dataBitrate) : undefined;
    const { SerialPort } = await import("serialport");
    const port = await new Promise<import("serialport").SerialPort>((resolve, reject) => {
      const p: import("serialport").SerialPort = new SerialPort({ path, baudRate: opts.serialBaudRate ?? 115200, autoOpen: true }, (err) => {
        if (err) reject(new Error(`slcan: cannot open serial device '${path}': ${err.message}`));
        else resolve(p);
      });
    });
    const bus = new SlcanBus(path, bitrate, port, opts.dataBitrate);
    const timeout = opts.ackTimeoutMs ?? 1000;
    try {
      await bus.command(closeCommand(), timeout, true); // an adapter that was closed may answer BEL
      await bus.command(cmdS, timeout);
      if (cmdY) {
        try { await bus.command(cmdY, timeout); } catch (e) {
          throw new Error(`slcan ${path}: the adapter does not take a CAN FD data bitrate ('${cmdY.trim()}': ${(e as Error).message.replace(/^slcan [^:]*: /, "")}): it speaks classic SLCAN only (a CANable 2.0 with FD firmware does); drop '+fd' from the link`);
        }
      }
      await bus.command(openCommand(), timeout);
    } catch (e) {
      bus.closed = true;
      await new Promise<void>((r) => port.close(() => r()));
      throw e;
    }
    return bus;
  }

  private onBytes(chunk: Buffer): void {
    for (const ev of this.parser.push(chunk)) {
      if (this.waiter && this.waiter(ev)) continue;
      switch (ev.type) {
        case "frame": for (const cb of this.frameCbs) cb(ev.frame); break;
        case "ack": this.stats.txAcks++; break;
        case "error": this.stats.txErrors++; this.fail(new Error(`slcan ${this.path}: the adapter answered BEL (error) to a frame`)); break;
        case "garbage": this.stats.garbage++; break;
        case "reply": if (this.stats.replies.length < 16) this.stats.replies.push(ev.text); break;
      }
    }
  }

  private fail(e: Error): void {
    for (const cb of this.errorCbs) cb(e);
  }

  private write(text: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.port.write(Buffer.from(text, "latin1"), (err) => (err ? reject(new Error(`slcan ${this.path}: write failed: ${err.message}`)) : resolve()));
    });
  }

  /** Sends a command and waits for '\r' (ok) or BEL (refused). */
  private async command(cmd: string, timeoutMs: number, belOk = false): Promise<void> {
    const shown = cmd.replace("\r", "");
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { this.waiter = undefined; reject(new Error(`slcan ${this.path}: no reply to '${shown}' within ${timeoutMs} ms — is it an SLCAN adapter?`)); }, timeoutMs);
      this.waiter = (ev) => {
        if (ev.type === "ack") { clearTimeout(timer); this.waiter = undefined; resolve(); return true; }
        if (ev.type === "error") {
          clearTimeout(timer); this.waiter = undefined;
          if (belOk) resolve(); else reject(new Error(`slcan ${this.path}: the adapter refused '${shown}' (BEL)`));
          return true;
        }
        return false;
      };
      this.write(cmd).catch((e) => { clearTimeout(timer); this.waiter = undefined; reject(e); });
    });
  }

  send(f: CanFrame): void {
    if (this.closed) throw new Error(`slcan ${this.path} is closed`);
    checkFrame(f, this.fd, `slcan:${this.path}`);
    this.port.write(Buffer.from(encodeFrame(f), "latin1"));
  }
  onFrame(cb: (f: CanFrame, t?: number) => void): void { this.frameCbs.push(cb); }
  onError(cb: (e: Error) => void): void { this.errorCbs.push(cb); }

  async close(): Promise<void> {
    if (this.closed) return;
    try { await this.command(closeCommand(), 500, true); } catch { /* adapter gone: close the port anyway */ }
    this.closed = true;
    if (this.port.isOpen) await new Promise<void>((r) => this.port.close(() => r()));
  }
}

// ---------------------------------------------------------------- mock

export interface RecordedFrame { seq: number; from: string; frame: CanFrame }

/**
 * An in-memory CAN bus several MockCanBus nodes attach to. Every frame a node
 * sends is recorded and delivered, in global send order, to every other node
 * (a CAN bus is a broadcast medium; like SocketCAN without recv_own_msgs, the
 * sender does not get its own frames). `tamper` can drop, duplicate, alter or
 * reorder frames for fault tests.
 */
export class MockCanNetwork {
  readonly frames: RecordedFrame[] = [];
  private buses: MockCanBus[] = [];
  private queue: { from: MockCanBus; frame: CanFrame }[] = [];
  private scheduled = false;
  private seq = 0;
  tamper?: (frame: CanFrame, from: string) => CanFrame[];

  /** `fd`: this node's controller is set up for CAN FD (it may send FD frames). */
  attach(name = `mock${this.buses.length}`, o: { fd?: boolean } = {}): MockCanBus {
    const b = new MockCanBus(name, this, !!o.fd);
    this.buses.push(b);
    return b;
  }

  /** @internal */
  transmit(from: MockCanBus, frame: CanFrame): void {
    const copy = { ...frame, data: frame.data.slice() };
    this.frames.push({ seq: this.seq++, from: from.name, frame: copy });
    const out = this.tamper ? this.tamper(copy, from.name) : [copy];
    for (const f of out) this.queue.push({ from, frame: f });
    if (!this.scheduled) { this.scheduled = true; setImmediate(() => this.flush()); }
  }

  /** @internal */
  detach(b: MockCanBus): void { this.buses = this.buses.filter((x) => x !== b); }

  /** Resolves once every queued frame has been delivered. */
  async settle(): Promise<void> {
    while (this.scheduled || this.queue.length) await new Promise((r) => setImmediate(r));
  }

  private flush(): void {
    this.scheduled = false;
    const q = this.queue;
    this.queue = [];
    for (const { from, frame } of q) for (const b of this.buses) if (b !== from) b.deliver(frame);
  }
}

export class MockCanBus implements CanBus {
  private cbs: ((f: CanFrame, t?: number) => void)[] = [];
  private closed = false;
  constructor(readonly name: string, private net: MockCanNetwork, readonly fd = false) {}
  send(f: CanFrame): void {
    if (this.closed) throw new Error(`mock CAN bus '${this.name}' is closed`);
    checkFrame(f, this.fd, this.name);
    this.net.transmit(this, f);
  }
  onFrame(cb: (f: CanFrame, t?: number) => void): void { this.cbs.push(cb); }
  /** @internal */
  deliver(f: CanFrame): void {
    if (this.closed) return;
    for (const cb of this.cbs) cb({ ...f, data: f.data.slice() });
  }
  async close(): Promise<void> { this.closed = true; this.net.detach(this); }
}
