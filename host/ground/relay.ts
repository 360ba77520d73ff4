// Local clients of the ground server. `gsu ground --link SPEC` owns the link; other gsu
// commands for the same SPEC (telemetry, status, upgrade, commit, abort, fault, upload)
// reach the boards through it instead of opening the device themselves, so `gsu upgrade`
// works while `gsu telemetry` watches, and the archive sees every command's traffic.
//
// Rendezvous: a Unix socket per link spec in the run directory (GSU_RUN_DIR, default
// $XDG_RUNTIME_DIR/gsu or /tmp/gsu-<uid>, mode 0700: only this user's processes):
//   serial:/dev/pts/3@115200 -> RUNDIR/ground-serial_dev_pts_3_115200.sock
// and RUNDIR/ground-<same>.json: { pid, spec, node, url } for people and the console URL.
//
// Stream on the socket, both ways: records [u32 LE length][u8 kind][body]
//   kind 1 hello  server->client  JSON {spec, node, version}
//   kind 2 rx     server->client  u8 src node, the frame as received from the link
//   kind 3 tx     client->server  u8 dst node, a management frame to send (first byte 0xFF;
//                                  anything else is refused and counted: clients do not
//                                  speak the boards' protocol)
// Every client sees every frame from the link (replies are matched by seq, nonce or
// image id, as on the link itself).
import { connect, type Socket } from "node:net";
import { mkdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { emptyStats, type Transport, type TransportStats } from "../transport/types.ts";

export const RELAY = { HELLO: 1, RX: 2, TX: 3 } as const;
/** Largest record accepted on the socket (a frame is far smaller). */
export const MAX_RECORD = 1 << 20;

export function runDir(): string {
  if (process.env.GSU_RUN_DIR) return process.env.GSU_RUN_DIR;
  if (process.env.XDG_RUNTIME_DIR) return join(process.env.XDG_RUNTIME_DIR, "gsu");
  return join(tmpdir(), `gsu-${process.getuid?.() ?? "user"}`);
}

/** Makes the run directory (0700) if needed. */
export function ensureRunDir(): string {
  const d = runDir();
  mkdirSync(d, { recursive: true, mode: 0o700 });
  return d;
}

const slug = (spec: string) => spec.replace(/[^A-Za-z0-9]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 60);
export const socketPath = (spec: string, dir = runDir()) => join(dir, `ground-${slug(spec)}.sock`);
export const infoPath = (spec: string, dir = runDir()) => join(dir, `ground-${slug(spec)}.json`);

export function record(kind: number, body: Uint8Array): Buffer {
  const b = Buffer.alloc(5 + body.length);
  b.writeUInt32LE(1 + body.length, 0);
  b[4] = kind;
  b.set(body, 5);
  return b;
}

/** Splits a byte stream into records; calls `on(kind, body)`; returns false on a record too large (close the stream). */
export class RecordReader {
  private buf: Buffer = Buffer.alloc(0);
  constructor(private on: (kind: number, body: Buffer) => void) {}
  push(chunk: Buffer): boolean {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length >= 4) {
      const n = this.buf.readUInt32LE(0);
      if (n < 1 || n > MAX_RECORD) return false;
      if (this.buf.length < 4 + n) break;
      const kind = this.buf[4], body = this.buf.subarray(5, 4 + n);
      this.buf = this.buf.subarray(4 + n);
      this.on(kind, body);
    }
    return true;
  }
}

/** A Transport to the link through a running ground server. */
export class RelayTransport implements Transport {
  private handler: ((src: number, f: Uint8Array) => void) | null = null;
  private s = emptyStats();
  private closed = false;
  node = 100;
  /** Resolves with the server's hello (its node id on the link). */
  readonly hello: Promise<{ node?: number; spec?: string; version?: string }>;
  constructor(private sock: Socket, readonly spec: string) {
    let gotHello: (h: { node?: number }) => void;
    this.hello = new Promise((r) => { gotHello = r; });
    const rr = new RecordReader((kind, body) => {
      if (kind === RELAY.HELLO) {
        let h: { node?: number } = {};
        try { h = JSON.parse(body.toString("utf8")); } catch { /* keep the default */ }
        if (typeof h.node === "number") this.node = h.node;
        gotHello(h);
        return;
      }
      if (kind !== RELAY.RX || body.length < 1) return;
      this.s.framesIn++; this.s.bytesIn += body.length - 1;
      this.handler?.(body[0], Uint8Array.from(body.subarray(1)));
    });
    sock.on("data", (c: Buffer) => { if (!rr.push(c)) sock.destroy(); });
    sock.on("error", () => { /* close follows */ });
  }
  send(dst: number, f: Uint8Array): void {
    if (this.closed || this.sock.destroyed) { this.s.dropped["link-down"] = (this.s.dropped["link-down"] ?? 0) + 1; return; }
    const body = new Uint8Array(1 + f.length);
    body[0] = dst; body.set(f, 1);
    this.sock.write(record(RELAY.TX, body));
    this.s.framesOut++; this.s.bytesOut += f.length;
  }
  onFrame(h: (src: number, f: Uint8Array) => void): void { this.handler = h; }
  stats(): TransportStats { return this.s; }
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((res) => {
      if (this.sock.destroyed) return res();
      this.sock.end(() => res());
      setTimeout(() => { this.sock.destroy(); res(); }, 200).unref();
    });
  }
}

/**
 * Connects to the ground server for `spec` if one runs (resolves null at once when
 * there is no socket, or nobody listens on it: the caller opens the link itself).
 */
export function connectRelay(spec: string, dir = runDir()): Promise<RelayTransport | null> {
  const path = socketPath(spec, dir);
  try { if (!statSync(path).isSocket()) return Promise.resolve(null); } catch { return Promise.resolve(null); }
  return new Promise((resolve) => {
    const sock = connect(path);
    let done = false;
    const fail = () => { if (!done) { done = true; clearTimeout(timer); sock.destroy(); resolve(null); } };
    const timer = setTimeout(fail, 2000);
    sock.once("error", fail);
    const t = new RelayTransport(sock, spec);
    void t.hello.then(() => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.off("error", fail);
      resolve(t);
    });
  });
}

/**
 * How every ground command opens a link: through the ground server for that spec when
 * one runs, else the device itself. `via` says which.
 */
export async function openGroundLink(spec: string, node: number, o: { log?: (l: string) => void; dir?: string } = {}): Promise<Transport & { via?: "ground-server" }> {
  const r = await connectRelay(spec, o.dir);
  if (r) return Object.assign(r, { via: "ground-server" as const });
  const { openLink } = await import("../transport/open.ts");
  return openLink(spec, node, { log: o.log });
}
