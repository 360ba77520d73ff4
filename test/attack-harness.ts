// A board daemon (`gsu board`, its own OS process) on one end of a PTY serial
// link and an attacker/ground on the other: raw frames, signed telecommands,
// uploads, and the daemon's replies, events and log. For test/attacks.test.ts.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PtyPair } from "./serial/socat.ts";
import { writeKeyPair, loadPrivateKey, type KeyPairFiles } from "../host/board/keys.ts";
import { openLink } from "../host/transport/open.ts";
import { M, frame, Reader, isMgmt } from "../host/board/mgmt.ts";
import { decodeStatusReply, encodeStatusQuery } from "../host/board/status-query.ts";
import { encodeTelecommand, type Opcode, type Telecommand } from "../host/board/telecommand.ts";
import { imageId, UploadSender } from "../host/board/upload.ts";
import { loadDictionary, decodeTelemetry } from "../host/telemetry/dictionary.ts";
import { PacketDecoder } from "../host/telemetry/ccsds.ts";
import type { Transport } from "../host/transport/types.ts";

const root = join(import.meta.dirname, "..");
export const BOARD = 1, GROUND = 100;

export interface HarnessOptions {
  /** Extra profile fields (merged over the defaults). */
  profile?: Record<string, unknown>;
  /** Node id the ground/attacker uses on the link. */
  node?: number;
  /** A system file (examples/system.json's format with boards): the daemon runs with --system. */
  systemFile?: Record<string, unknown>;
  /** Extra `gsu board` arguments (e.g. --sim-devices 50). */
  args?: string[];
}

export class Harness {
  readonly dir = mkdtempSync(join(tmpdir(), "gsu-attack-"));
  readonly pair = new PtyPair();
  readonly keys: KeyPairFiles;
  readonly profile: string;
  readonly stateDir: string;
  board: ChildProcess | null = null;
  out = "";
  link!: Transport;
  events: string[] = [];
  eventText: string[] = [];
  replies = new Map<number, { status: number; text: string }>();
  /** Every management frame the board sent (type, body). */
  frames: { type: number; body: Uint8Array }[] = [];
  /** Every protocol (non-management) frame the board sent. */
  protocol: Uint8Array[] = [];
  /** Also sees every protocol frame (a test's link layer playing a peer board). */
  onProtocol: ((src: number, f: Uint8Array) => void) | null = null;
  upload: UploadSender | null = null;
  seq = 0;
  private dict = loadDictionary();
  private decoder = new PacketDecoder();
  private exitCode: number | null = null;
  private exitSignal: string | null = null;

  constructor(private o: HarnessOptions = {}) {
    this.keys = writeKeyPair("ground", this.dir);
    this.profile = join(this.dir, "profile.json");
    this.stateDir = join(this.dir, "state");
  }

  writeProfile(extra: Record<string, unknown> = {}): void {
    writeFileSync(this.profile, JSON.stringify({
      name: "target", node: BOARD, links: [{ kind: "serial", path: this.pair.a, baud: 115200 }], stateDir: this.stateDir,
      components: ["sensor@1.0.0", "estimator@1.0.0", "controller@1.0.0", "fdir@1.0.0", "telemetry@1.0.0"],
      trustedKeys: { ground: this.keys.pubFile }, at: { commit: "manual" }, telemetry: { housekeepingHz: 1 },
      ...this.o.profile, ...extra,
    }));
  }

  async up(): Promise<void> {
    await this.pair.up();
    this.writeProfile();
    await this.startBoard();
    await this.connect();
  }

  /** Opens the ground/attacker end of the link (up() does; after disconnect(), a CLI may have used it). */
  async connect(): Promise<void> {
    this.link = await openLink(`serial:${this.pair.b}@115200`, this.o.node ?? GROUND, { log: () => {} });
    this.link.onFrame((_src, f) => {
      if (!isMgmt(f)) { this.protocol.push(f.slice()); this.onProtocol?.(_src, f); return; }
      const body = f.subarray(2);
      this.frames.push({ type: f[1], body: body.slice() });
      if (f[1] === M.TC_REPLY) {
        const r = new Reader(body, "reply");
        this.replies.set(r.u32("seq"), { status: r.u8("status"), text: new TextDecoder().decode(r.rest()) });
      } else if (f[1] === M.TM) {
        this.decoder.reset();
        for (const ev of this.decoder.push(body)) if (ev.kind === "packet") {
          try {
            const d = decodeTelemetry(this.dict, ev.packet);
            if (d.type === "event") { this.events.push(d.event); this.eventText.push(d.text ?? JSON.stringify(d)); }
          } catch { /* not ours to judge here */ }
        }
      } else if (this.upload) {
        for (const out of this.upload.onFrame(f[1], body, Date.now())) this.link.send(BOARD, out);
      }
    });
  }

  async startBoard(args: string[] = []): Promise<void> {
    if (this.o.systemFile) {
      const f = join(this.dir, "system.json");
      writeFileSync(f, JSON.stringify(this.o.systemFile));
      args = ["--system", f, ...args];
    }
    args = [...(this.o.args ?? []), ...args];
    this.out = "";
    this.exitCode = null; this.exitSignal = null;
    const b = spawn(process.execPath, [join(root, "bin/gsu.js"), "board", "--profile", this.profile, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    this.board = b;
    b.stdout!.on("data", (d) => { this.out += d; });
    b.stderr!.on("data", (d) => { this.out += d; });
    b.on("exit", (code, sig) => { if (this.board === b) { this.exitCode = code; this.exitSignal = sig; } });
    await this.until(() => this.out.includes("up; serving the ground") || !this.alive, 20_000, "board start");
  }

  async disconnect(): Promise<void> { await this.link.close(); }

  /** The board process's exit code, once it has exited (null while it runs). */
  get exited(): number | null { return this.exitCode; }

  /** A read-only status query (no signing key); resolves to the reply, or null when the board sends none within `ms`. */
  async statusQuery(o: { key?: Uint8Array; board?: string; timeMs?: number } = {}, ms = 3000): Promise<{ ok: boolean; text: string } | null> {
    const { body, nonce } = encodeStatusQuery(o.board ?? "target", { key: o.key, timeMs: o.timeMs });
    const hex = Buffer.from(nonce).toString("hex");
    const find = () => this.frames.filter((f) => f.type === M.STATUS_R).map((f) => decodeStatusReply(f.body)).find((r) => Buffer.from(r.nonce).toString("hex") === hex);
    this.link.send(BOARD, frame(M.STATUS_Q, body));
    try { await this.until(() => !!find(), ms, "status reply"); } catch { return null; }
    const r = find()!;
    return { ok: r.ok, text: r.text };
  }

  get alive(): boolean { return !!this.board && this.exitCode === null && this.exitSignal === null; }

  async restart(args: string[] = []): Promise<void> {
    const b = this.board;
    if (b && this.alive) { const gone = new Promise((r) => b.once("exit", r)); b.kill("SIGKILL"); await gone; }
    await this.startBoard(args);
  }

  async until(f: () => boolean, ms: number, what: string): Promise<void> {
    const t0 = Date.now();
    while (!f()) {
      if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}; board alive=${this.alive}, said:\n${this.out.slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  raw(f: Uint8Array, dst = BOARD): void { this.link.send(dst, f); }

  /** Sends a signed telecommand and waits for its reply. */
  async tc(op: Opcode, args: Record<string, unknown> = {}, o: Partial<Telecommand> & { key?: string } = {}): Promise<{ status: number; text: string }> {
    const s = o.seq ?? ++this.seq;
    this.replies.delete(s);
    this.link.send(BOARD, frame(M.TC, this.encode(op, args, { ...o, seq: s })));
    await this.until(() => this.replies.has(s), 10_000, `reply to ${op} #${s}`);
    return this.replies.get(s)!;
  }

  encode(op: Opcode, args: Record<string, unknown> = {}, o: Partial<Telecommand> & { key?: string } = {}): Uint8Array {
    const tc: Telecommand = { op, seq: o.seq ?? ++this.seq, timeMs: o.timeMs ?? Date.now(), args, keyId: o.keyId ?? "ground", board: o.board ?? "target" };
    return encodeTelecommand(tc, loadPrivateKey(o.key ?? this.keys.keyFile));
  }

  /** Uploads an image; with `authorise` (default) a signed upload telecommand names it first, as gsu upload --key does. */
  async send(img: Uint8Array, ms = 60_000, authorise = true): Promise<{ ok: boolean; text: string }> {
    if (authorise) {
      const r = await this.tc("upload", { image: Buffer.from(imageId(img)).toString("hex"), size: img.length });
      if (r.status !== 0) return { ok: false, text: `(authorisation refused: ${r.text})` };
    }
    this.upload = new UploadSender(img, 1024, 16, 300);
    for (const f of this.upload.start(Date.now())) this.link.send(BOARD, f);
    const t = setInterval(() => { for (const f of this.upload!.tick(Date.now())) this.link.send(BOARD, f); }, 50);
    try { await this.until(() => this.upload!.result !== null || !this.alive, ms, "upload result"); } finally { clearInterval(t); }
    return this.upload.result ?? { ok: false, text: "(no result: the board died)" };
  }

  /** The board answers status (signed, fresh) and its process is alive. */
  async healthy(): Promise<boolean> {
    if (!this.alive) return false;
    const r = await this.tc("status");
    return r.status === 0 && this.alive;
  }

  async down(): Promise<void> {
    this.board?.kill("SIGKILL");
    await this.link?.close();
    await this.pair.dispose();
  }
}
