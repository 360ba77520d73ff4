// The ground server (`gsu ground --link SPEC`), one per link, in the manner of F Prime's
// GDS and Yamcs: it owns the link, decodes and archives every packet and event
// (host/ground/archive.ts), asks each board for the events it missed (the on-board
// event log, host/ground/eventsync.ts), relays the link to local gsu commands over a
// Unix socket (host/ground/relay.ts) and serves the web console on 127.0.0.1
// (host/ground/http.ts).
import { createServer, type Server, type Socket } from "node:net";
import { chmodSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { KeyObject } from "node:crypto";
import { isMgmt, M } from "../board/mgmt.ts";
import { GroundStation, type GroundRecord } from "../telemetry/ground.ts";
import { loadDictionary, type EventRecord } from "../telemetry/dictionary.ts";
import type { Transport } from "../transport/types.ts";
import { Archive, readArchive, type ArchiveOptions } from "./archive.ts";
import { EventSync } from "./eventsync.ts";
import { GroundLink, decodeTcReply } from "./link.ts";
import { ensureRunDir, infoPath, record, RecordReader, RELAY, socketPath } from "./relay.ts";
import type { SeqStore } from "./seq.ts";

export interface GroundKey { key: KeyObject; keyId: string; seqs: SeqStore; file: string }

export interface GroundServerOptions {
  spec: string;
  /** The ground's node id on the link (default 100). */
  node?: number;
  /** Where the archive goes. */
  archiveDir: string;
  archive?: ArchiveOptions;
  dictionary?: string;
  /** Opens the link (default: openLink); tests pass their own. */
  open?: (spec: string, node: number) => Promise<Transport>;
  /** The run directory for the relay socket (default relay.ts runDir()). */
  runDir?: string;
  /** Telecommands from the web console are signed with this key (none: the console is read-only). */
  key?: GroundKey;
  /** Board node -> board name (the telecommand target), for the console. */
  targets?: Map<number, string>;
  /** Ask boards for their event logs this often (default 5000 ms). */
  pollMs?: number;
  log?: (line: string) => void;
}

/** Records kept in memory for the console (a page that opens gets the recent past). */
const RECENT_MAX = 20_000;

export class GroundServer {
  readonly station: GroundStation;
  readonly archive: Archive;
  readonly sync: EventSync;
  readonly node: number;
  /** Recent decoded records (tlm, events, replayed events), oldest first. */
  readonly recent: GroundRecord[] = [];
  readonly events: EventRecord[] = [];
  readonly counters = { clients: 0, clientFrames: 0, clientRefused: 0, frames: 0 };
  private subs = new Set<(src: number, f: Uint8Array) => void>();
  private listeners = new Set<(kind: string, data: unknown) => void>();
  private clients = new Set<Socket>();
  private relay: Server | null = null;
  private links = new Map<number, GroundLink>();
  private sockFile: string;
  private infoFile: string;
  private closed = false;

  private constructor(readonly o: GroundServerOptions, readonly transport: Transport) {
    this.node = transport.node;
    this.archive = new Archive(o.archiveDir, o.archive);
    const dict = loadDictionary(o.dictionary);
    this.sync = new EventSync({
      dict, cursorFile: join(o.archiveDir, "event-cursors.json"), pollMs: o.pollMs,
      send: (node, type, body) => this.sendMgmt(node, type, body),
      onReplayed: (e) => this.record(e),
      onGap: (node, missing, from, first) => {
        const gap = { type: "event-gap", node, t_us: Date.now() * 1000, missing, from, first, text: `board ${node}: ${missing} events (#${from}..#${first - 1}) were overwritten in its event log before the ground asked` };
        this.archive.write(gap);
        this.emit("gap", gap);
        o.log?.(gap.text);
      },
    });
    this.station = new GroundStation({
      dict,
      onRecord: (r) => {
        if (r.type === "event") this.sync.seenLive(r.hex);
        this.record(r);
      },
    });
    // the archive is the ground's memory: events already in it are not archived again when a
    // board's event log sends them (they arrived live after the last cursor was saved)
    for (const r of readArchive(o.archiveDir).records.filter((x) => x.type === "event").slice(-8192)) this.sync.seenLive(r.hex as string | undefined);
    this.sockFile = socketPath(o.spec, o.runDir);
    this.infoFile = infoPath(o.spec, o.runDir);
    transport.onFrame((src, f) => this.receive(src, f));
  }

  static async start(o: GroundServerOptions): Promise<GroundServer> {
    const node = o.node ?? 100;
    const open = o.open ?? (async (spec: string, n: number) => (await import("../transport/open.ts")).openLink(spec, n, { log: o.log }));
    if (o.runDir) mkdirSync(o.runDir, { recursive: true, mode: 0o700 }); else ensureRunDir();
    const sock = socketPath(o.spec, o.runDir);
    if (await alive(sock)) throw new GroundServerError(`a ground server for ${o.spec} is already running (${sock}); use it (gsu telemetry, gsu status ... --link ${o.spec} go through it) or stop it first`);
    const transport = await open(o.spec, node);
    const s = new GroundServer(o, transport);
    try { await s.listenRelay(); } catch (e) { await s.close(); throw e; }
    return s;
  }

  /** A view of the link for one more reader (GroundLink for a board). */
  view(): Transport {
    const t = this.transport;
    return { node: t.node, send: (d, f) => this.sendRaw(d, f, "console"), onFrame: (h) => { this.subs.add(h); }, stats: () => t.stats(), close: async () => {} };
  }

  /** The GroundLink for telecommands and uploads to one board (made on first use). */
  linkTo(board: number): GroundLink {
    let l = this.links.get(board);
    if (!l) { l = new GroundLink(this.view(), { board, spec: this.o.spec }); this.links.set(board, l); }
    return l;
  }

  /** Subscribes to what the console streams: ("record", rec), ("upload", progress), ("command", reply), ("gap", gap). */
  subscribe(f: (kind: string, data: unknown) => void): () => void { this.listeners.add(f); return () => { this.listeners.delete(f); }; }
  emit(kind: string, data: unknown): void { for (const f of this.listeners) { try { f(kind, data); } catch { /* a listener's fault is its own */ } } }

  private record(r: GroundRecord): void {
    this.archive.write(r);
    if (r.type === "event") { this.events.push(r); if (this.events.length > 2000) this.events.splice(0, this.events.length - 2000); }
    this.recent.push(r);
    if (this.recent.length > RECENT_MAX) this.recent.splice(0, this.recent.length - RECENT_MAX);
    this.emit("record", r);
  }

  private receive(src: number, f: Uint8Array): void {
    this.counters.frames++;
    if (isMgmt(f)) {
      const type = f[1], body = f.subarray(2);
      if (type === M.TM) { this.sync.heard(src); this.station.pushFrame(body, src); }
      else if (type === M.EV_R) { this.sync.heard(src); this.sync.onReply(src, body); }
      else if (type === M.TC_REPLY) {
        try { const r = decodeTcReply(body); this.archive.write({ type: "tc-reply", t_us: Date.now() * 1000, node: src, seq: r.seq, status: r.status, text: r.text.slice(0, 2000) }); } catch { /* malformed: GroundLink counts it */ }
      }
    }
    const rx = Buffer.alloc(1 + f.length);
    rx[0] = src; rx.set(f, 1);
    const rec = record(RELAY.RX, rx);
    for (const c of this.clients) c.write(rec);
    for (const h of this.subs) { try { h(src, f); } catch { /* one reader's fault is its own */ } }
  }

  private sendMgmt(node: number, type: number, body: Uint8Array): void {
    const f = new Uint8Array(2 + body.length);
    f[0] = 0xff; f[1] = type; f.set(body, 2);
    this.sendRaw(node, f, "server");
  }

  /** Sends a management frame on the link; telecommands are archived (who sent them: a client, the console, the server). */
  private sendRaw(dst: number, f: Uint8Array, by: string): void {
    if (this.closed) return;
    if (isMgmt(f) && f[1] === M.TC) this.archive.write({ type: "tc", t_us: Date.now() * 1000, node: dst, by, hex: Buffer.from(f.subarray(2)).toString("hex") });
    this.transport.send(dst, f);
  }

  private listenRelay(): Promise<void> {
    const path = this.sockFile;
    rmSync(path, { force: true });
    return new Promise((resolve, reject) => {
      const srv = createServer((c) => this.client(c));
      srv.once("error", (e) => reject(new GroundServerError(`cannot listen on ${path}: ${(e as NodeJS.ErrnoException).code ?? e.message}`)));
      srv.listen(path, () => {
        try { chmodSync(path, 0o600); } catch { /* the directory is 0700 anyway */ }
        this.relay = srv;
        resolve();
      });
    });
  }

  private client(c: Socket): void {
    this.clients.add(c);
    this.counters.clients++;
    c.write(record(RELAY.HELLO, Buffer.from(JSON.stringify({ spec: this.o.spec, node: this.node, version: 1 }))));
    const rr = new RecordReader((kind, body) => {
      if (kind !== RELAY.TX || body.length < 3) return;
      const f = Uint8Array.from(body.subarray(1));
      if (!isMgmt(f)) { this.counters.clientRefused++; return; }
      this.counters.clientFrames++;
      this.sendRaw(body[0], f, "client");
    });
    c.on("data", (d: Buffer) => { if (!rr.push(d)) c.destroy(); });
    const gone = () => { this.clients.delete(c); };
    c.on("close", gone);
    c.on("error", gone);
  }

  /** Writes RUNDIR/ground-<spec>.json (pid, spec, node, console URL) for people and tools. */
  writeInfo(extra: Record<string, unknown>): void {
    try { writeFileSync(this.infoFile, JSON.stringify({ pid: process.pid, spec: this.o.spec, node: this.node, archive: this.o.archiveDir, ...extra }, null, 1) + "\n", { mode: 0o600 }); } catch { /* informational */ }
  }

  get clientCount(): number { return this.clients.size; }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.sync.close();
    for (const c of this.clients) c.destroy();
    await new Promise<void>((r) => (this.relay ? this.relay.close(() => r()) : r()));
    rmSync(this.sockFile, { force: true });
    rmSync(this.infoFile, { force: true });
    for (const l of this.links.values()) await l.close();
    await this.transport.close();
    this.archive.close();
  }
}

export class GroundServerError extends Error {
  constructor(message: string) { super(message); this.name = "GroundServerError"; }
}

/** Whether something listens on the socket (a stale file from a killed server is not). */
function alive(path: string): Promise<boolean> {
  try { if (!statSync(path).isSocket()) return Promise.resolve(false); } catch { return Promise.resolve(false); }
  return new Promise((resolve) => {
    import("node:net").then(({ connect }) => {
      const s = connect(path);
      s.once("connect", () => { s.destroy(); resolve(true); });
      s.once("error", () => resolve(false));
    });
  });
}
