// Serial links through `serialport` 13: point-to-point or multi-drop (RS-485),
// COBS-framed envelopes (framing/). A device that cannot be opened, or that
// vanishes (cable pulled, USB adapter reset), is reported with its path and what
// to do; the transport keeps its state, queues what is sent meanwhile (bounded),
// and reopens the device with exponential backoff until it returns.
import { write as fsWrite } from "node:fs";
import { SerialPort } from "serialport";
import { ByteLinkTransport } from "./stream.ts";
import type { LinkOptions } from "./framing/link.ts";

/** The parts of a SerialPort this transport uses (SerialPort, SerialPortMock). */
export interface SerialPortLike {
  readonly isOpen: boolean;
  open(cb: (err: Error | null) => void): void;
  write(data: Uint8Array, cb?: (err: Error | null | undefined) => void): boolean;
  close(cb?: (err: Error | null) => void): void;
  drain(cb: (err: Error | null) => void): void;
  on(ev: "data", f: (b: Buffer) => void): this;
  on(ev: "close", f: (err: (Error & { disconnected?: boolean }) | null) => void): this;
  on(ev: "error", f: (err: Error) => void): this;
  removeAllListeners(): this;
}

export interface SerialTransportOptions extends LinkOptions {
  path: string;
  baudRate: number;
  /** Backoff for reopening: first delay, cap, growth factor. false: never retry. */
  reconnect?: { initialMs?: number; maxMs?: number; factor?: number } | false;
  /** Most bytes queued while the device is away; beyond it frames are dropped (queue-full). */
  maxQueueBytes?: number;
  /** Log lines for open failures, disconnects and reconnects (default: console.warn). */
  log?: (line: string) => void;
  /** Port factory (tests: SerialPortMock); default a real SerialPort. */
  createPort?: (o: { path: string; baudRate: number }) => SerialPortLike;
}

export type SerialErrorCode = "E_SERIAL_OPEN" | "E_SERIAL_GONE";

export class SerialLinkError extends Error {
  constructor(message: string, readonly code: SerialErrorCode, readonly path: string, readonly cause?: unknown) {
    super(message);
    this.name = "SerialLinkError";
  }
}

function hint(msg: string): string {
  if (/ENOENT|No such file|not exist/i.test(msg)) return "check that the cable or USB adapter is plugged in and the path is right (ls /dev/serial/by-id/)";
  if (/EACCES|Permission denied/i.test(msg)) return "add your user to the 'dialout' group (sudo usermod -aG dialout $USER, then log in again) or fix the device's permissions";
  if (/EBUSY|lock/i.test(msg)) return "another program holds the device (close minicom/screen, stop ModemManager)";
  return "check the device and its driver (dmesg)";
}

/**
 * Events: "open" (first open), "open-failed" (SerialLinkError), "disconnect"
 * (SerialLinkError), "reconnect" (count), "close".
 */
export class SerialTransport extends ByteLinkTransport {
  readonly path: string;
  private port: SerialPortLike | null = null;
  private queue: Uint8Array[] = [];
  private queued = 0;
  private inflight: Uint8Array[] = [];
  private generation = 0;
  private everOpened = false;
  private closed = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private delay: number;
  private readonly log: (line: string) => void;
  private openWaiters: Array<() => void> = [];
  private lastFailure = "";

  constructor(readonly opts: SerialTransportOptions) {
    super(opts);
    this.path = opts.path;
    this.log = opts.log ?? ((l) => console.warn(l));
    this.delay = this.backoff().initialMs;
    this.attempt();
  }

  /** Whether the device is open now. */
  get isOpen(): boolean { return this.port !== null; }

  /** Resolves when the device is open (now, or when it appears). */
  whenOpen(): Promise<void> {
    return this.port ? Promise.resolve() : new Promise((res) => this.openWaiters.push(res));
  }

  /** Opens `path` once; rejects with the clear SerialLinkError instead of retrying. */
  static async open(opts: SerialTransportOptions): Promise<SerialTransport> {
    const t = new SerialTransport({ ...opts, reconnect: opts.reconnect ?? {}, log: opts.log ?? (() => {}) });
    await new Promise<void>((res, rej) => {
      t.once("open", () => res());
      t.once("open-failed", (e: SerialLinkError) => { void t.close(); rej(e); });
    });
    return t;
  }

  private backoff() {
    const b = this.opts.reconnect === false ? {} : this.opts.reconnect ?? {};
    return { initialMs: b.initialMs ?? 250, maxMs: b.maxMs ?? 5000, factor: b.factor ?? 2 };
  }

  private attempt(): void {
    this.retryTimer = null;
    if (this.closed) return;
    const create = this.opts.createPort ??
      ((o) => new SerialPort({ ...o, autoOpen: false, binding: PollFreeWriteBinding } as ConstructorParameters<typeof SerialPort>[0]) as unknown as SerialPortLike);
    let port: SerialPortLike;
    try {
      port = create({ path: this.path, baudRate: this.opts.baudRate });
    } catch (e) {
      return this.failed(e as Error);
    }
    port.open((err) => {
      if (err) return this.failed(err);
      if (this.closed) { port.close(); return; }
      this.opened(port);
    });
  }

  private failed(err: Error): void {
    const retry = this.opts.reconnect !== false;
    const why = err.message.replace(/^Error: /, "");
    const e = new SerialLinkError(`serial ${this.path}: cannot open (${why}); ${hint(why)}.` +
      (retry ? ` Retrying (backoff up to ${this.backoff().maxMs} ms) until it appears.` : ""), "E_SERIAL_OPEN", this.path, err);
    // one log line per distinct failure, not one per retry; the event fires every time
    if (why !== this.lastFailure) this.log(e.message);
    this.lastFailure = why;
    this.emit("open-failed", e);
    this.schedule();
  }

  private schedule(): void {
    if (this.closed || this.opts.reconnect === false) return;
    const b = this.backoff();
    this.retryTimer = setTimeout(() => this.attempt(), this.delay);
    this.retryTimer.unref?.();
    this.delay = Math.min(b.maxMs, Math.round(this.delay * b.factor));
  }

  private opened(port: SerialPortLike): void {
    this.port = port;
    this.lastFailure = "";
    const gen = ++this.generation;
    this.delay = this.backoff().initialMs;
    port.on("data", (b) => { if (gen === this.generation) this.receive(b); });
    port.on("error", () => { /* reported through "close" */ });
    port.on("close", (err) => { if (gen === this.generation) this.lost(err); });
    const again = this.everOpened;
    this.everOpened = true;
    if (again) {
      this.counters.reconnects++;
      this.log(`serial ${this.path}: reconnected (reconnect ${this.counters.reconnects}); sending ${this.inflight.length + this.queue.length} queued frames`);
    }
    // a lone delimiter ends whatever partial frame the peer holds from before
    this.rawWrite(new Uint8Array([0]));
    const pending = this.queue;
    this.queue = [];
    this.queued = 0;
    for (const w of pending) this.rawWrite(w, true);
    this.emit(again ? "reconnect" : "open", this.counters.reconnects);
    for (const w of this.openWaiters.splice(0)) w();
  }

  private lost(err: (Error & { disconnected?: boolean }) | null): void {
    this.detach(this.port);
    this.port = null;
    this.generation++;
    // writes the OS had not taken yet go out again after the reconnect
    this.queue = [...this.inflight, ...this.queue];
    this.queued = this.queue.reduce((n, w) => n + w.length, 0);
    this.inflight = [];
    this.link.reset("disconnect");
    if (this.closed) return;
    const why = err?.message ?? "closed by the system";
    const e = new SerialLinkError(`serial ${this.path}: device disconnected (${why}); the cable was pulled or the adapter reset. ` +
      (this.opts.reconnect === false ? "Not reconnecting (reconnect: false)." :
        `State is kept; frames sent meanwhile are queued (up to ${this.maxQueue()} bytes) and the link reopens ${this.path} when it returns.`),
    "E_SERIAL_GONE", this.path, err);
    this.log(e.message);
    this.emit("disconnect", e);
    this.schedule();
  }

  private maxQueue(): number { return this.opts.maxQueueBytes ?? 1 << 20; }

  protected writeWire(bytes: Uint8Array): void {
    if (this.port) return this.rawWrite(bytes, true);
    if (this.queued + bytes.length > this.maxQueue()) return this.countDrop("queue-full");
    this.queue.push(bytes);
    this.queued += bytes.length;
  }

  private rawWrite(bytes: Uint8Array, track = false): void {
    const port = this.port!;
    const gen = this.generation;
    if (track) this.inflight.push(bytes);
    this.counters.wireBytesOut += bytes.length;
    port.write(bytes, (err) => {
      if (gen !== this.generation || !track) return;
      if (!err) this.inflight.shift(); // the OS has it; written in order
    });
  }

  /** Stops listening to a port we are done with (bindings may still report errors as it closes). */
  private detach(port: SerialPortLike | null): void {
    if (!port) return;
    port.removeAllListeners();
    port.on("error", () => {});
  }

  /** Writes raw bytes, bypassing framing (diagnostics, fault injection in tests). */
  writeRaw(bytes: Uint8Array): void { if (this.port) this.rawWrite(bytes); }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const port = this.port;
    if (!port) return;
    await new Promise<void>((res) => { port.drain(() => res()); setTimeout(res, 500).unref(); });
    this.generation++;
    this.detach(port);
    this.port = null;
    await new Promise<void>((res) => port.close(() => res()));
    this.emit("close");
  }
}

// ---- workaround: @serialport/bindings-cpp 13 can hang a write forever ------------
// Its Poller::poll() ORs the new interest into `events` but calls uv_poll_start()
// with only the new flag, so when a write hits EAGAIN (the OS transmit buffer is
// full: any bulk transfer on a real UART) and a read then re-arms "readable", the
// "writable" interest is lost and the write never completes unless more bytes
// arrive. Seen on PTYs with a 64 KiB transfer. This binding is the stock one
// with writes done by a loop that retries EAGAIN on a short timer instead of the
// poller; reads, open, close and the rest are unchanged.

type Binding = typeof SerialPort.binding;
type PortBinding = Awaited<ReturnType<Binding["open"]>> & { fd?: number | null; writeOperation?: Promise<void> | null };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const writeSome = (fd: number, b: Buffer, off: number) =>
  new Promise<number>((res, rej) => fsWrite(fd, b, off, b.length - off, null, (e, n) => (e ? rej(e) : res(n))));

async function writeAll(port: PortBinding, buffer: Buffer): Promise<void> {
  let off = 0;
  let wait = 1;
  while (off < buffer.length) {
    if (!port.isOpen || port.fd == null) throw new Error("Port is not open");
    try {
      off += await writeSome(port.fd, buffer, off);
      wait = 1;
    } catch (e) {
      const err = e as NodeJS.ErrnoException & { disconnect?: boolean };
      if (err.code === "EAGAIN" || err.code === "EWOULDBLOCK" || err.code === "EINTR") {
        await sleep(wait);
        wait = Math.min(wait * 2, 16);
        continue;
      }
      if (["EBADF", "ENXIO", "EIO", "UNKNOWN"].includes(err.code ?? "") || err.errno === -1) err.disconnect = true;
      throw err;
    }
  }
}

const Base = SerialPort.binding;
export const PollFreeWriteBinding: Binding = {
  ...Base,
  list: () => Base.list(),
  async open(options: Parameters<Binding["open"]>[0]) {
    const port = (await Base.open(options as never)) as PortBinding;
    if (typeof port.fd === "number") {
      port.write = function (this: PortBinding, buffer: Buffer) {
        if (!this.isOpen) return Promise.reject(new Error("Port is not open"));
        const op: Promise<void> = (buffer.length === 0 ? Promise.resolve() : writeAll(this, buffer))
          .finally(() => { if (this.writeOperation === op) this.writeOperation = null; });
        this.writeOperation = op;
        return op;
      };
    }
    return port;
  },
} as Binding;
