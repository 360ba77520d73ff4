// The ground server's web console and its HTTP API, on 127.0.0.1 only.
//
// Access: the server makes a random token at start and prints the console URL with it
// (http://127.0.0.1:8470/?token=...; also in RUNDIR/ground-<link>.json, mode 0600).
// Every request must carry it (?token= or the X-GSU-Token header) and a Host header
// naming this loopback address (no DNS rebinding); commands are POSTs with the header,
// which a page of another origin cannot send (no CORS is granted). Telecommands are
// signed here with the ground key given to `gsu ground --key`; the browser never holds it.
//
//   GET  /                       the console (self-contained: uPlot and the page's code inlined)
//   GET  /api/state              boards, processes, recent records, archive, event-log sync
//   GET  /api/stream             Server-Sent Events: record, upload, command, gap
//   POST /api/command            {board, target, op, args}: a signed telecommand; the board's reply
//   POST /api/upload?board=N&target=NAME   the image bytes: authorised, uploaded (progress on the stream)
//   POST /api/rehearse           {seed, steps}: runs `gsu rehearse --html` and keeps its page
//   GET  /rehearsal              that page (the rehearsal's space-time diagram), or --rehearsal FILE
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { randomBytes, timingSafeEqual } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { GroundServer } from "./server.ts";
import type { Opcode } from "../board/telecommand.ts";
import { imageId } from "../board/upload.ts";
import { NoReplyError } from "./link.ts";
import { SeqError } from "./seq.ts";
import { uploadImage, UploadStalledError } from "./upload.ts";
import { consolePage } from "./console/page.ts";

export interface HttpOptions {
  port?: number;
  /** A rehearsal page to show until one is run from the console. */
  rehearsal?: string;
  token?: string;
  /** Seconds to wait for a board's reply (default 5). */
  timeoutMs?: number;
}

export interface ConsoleHttp { url: string; port: number; token: string; close(): Promise<void> }

const COMMANDS = new Set<Opcode>(["upgrade", "commit", "abort", "fault", "status"]);
const MAX_IMAGE = 16 * 1024 * 1024;
const ROOT = join(import.meta.dirname, "../..");

class HttpError extends Error { constructor(readonly status: number, message: string) { super(message); } }

export function startConsole(g: GroundServer, o: HttpOptions = {}): Promise<ConsoleHttp> {
  const token = o.token ?? randomBytes(16).toString("hex");
  let rehearsalFile = o.rehearsal;
  let rehearsalDir: string | null = null;
  let rehearsing = false;
  const streams = new Set<ServerResponse>();
  const unsub = g.subscribe((kind, data) => {
    const msg = `event: ${kind}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const s of streams) s.write(msg);
  });
  const keepalive = setInterval(() => { for (const s of streams) s.write(": keepalive\n\n"); }, 15_000);
  keepalive.unref();
  let port = 0;

  const tokenOk = (req: IncomingMessage, url: URL): boolean => {
    const t = (req.headers["x-gsu-token"] as string | undefined) ?? url.searchParams.get("token") ?? "";
    const a = Buffer.from(t), b = Buffer.from(token);
    return a.length === b.length && timingSafeEqual(a, b);
  };
  const hostOk = (req: IncomingMessage) => [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`].includes(String(req.headers.host ?? ""));

  const json = (res: ServerResponse, status: number, v: unknown) => {
    res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
    res.end(JSON.stringify(v));
  };
  const body = (req: IncomingMessage, limit: number): Promise<Buffer> => new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let n = 0;
    req.on("data", (c: Buffer) => {
      n += c.length;
      if (n > limit) { reject(new HttpError(413, `request body above ${limit} bytes`)); req.destroy(); return; }
      parts.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(parts)));
    req.on("error", reject);
  });
  const intParam = (v: unknown, what: string, lo: number, hi: number): number => {
    const n = typeof v === "string" ? Number(v) : v;
    if (typeof n !== "number" || !Number.isInteger(n) || n < lo || n > hi) throw new HttpError(400, `${what} must be an integer ${lo}..${hi}, not ${JSON.stringify(v)}`);
    return n;
  };
  const targetParam = (v: unknown): string => {
    if (typeof v !== "string" || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/.test(v)) throw new HttpError(400, `target must be a board name (its profile's "name"), not ${JSON.stringify(v)}`);
    return v;
  };
  const needKey = () => {
    if (!g.o.key) throw new HttpError(409, "this ground server has no key, so it cannot sign telecommands: restart it with gsu ground --key FILE");
    return g.o.key;
  };

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (!hostOk(req)) throw new HttpError(403, "the console answers only at 127.0.0.1 or localhost (Host header)");
    if (!tokenOk(req, url)) throw new HttpError(403, `no or wrong access token: open the URL gsu ground printed (it carries ?token=...), or read it from ${g.o.runDir ?? "the run directory"}'s ground-*.json`);
    const p = url.pathname;
    if (req.method === "GET" && p === "/") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", "content-security-policy": "default-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-src 'self'" });
      res.end(consolePage({ token, spec: g.o.spec, targets: Object.fromEntries(g.o.targets ?? []) }));
      return;
    }
    if (req.method === "GET" && p === "/api/state") return json(res, 200, state(g));
    if (req.method === "GET" && p === "/api/stream") {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" });
      res.write(": gsu ground\n\n");
      streams.add(res);
      req.on("close", () => streams.delete(res));
      return;
    }
    if (req.method === "GET" && p === "/rehearsal") {
      if (!rehearsalFile || !existsSync(rehearsalFile)) {
        res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
        res.end(`<!doctype html><meta charset="utf-8"><body style="font:14px system-ui,sans-serif"><p>No rehearsal yet: press <b>Run rehearsal</b> above, or start the server with <code>gsu ground --rehearsal gsu-rehearsal.html</code> (written by <code>gsu rehearse</code>).</p></body>`);
        return;
      }
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
      res.end(readFileSync(rehearsalFile));
      return;
    }
    if (req.method !== "POST") throw new HttpError(404, `no such page: ${req.method} ${p}`);
    if (!req.headers["x-gsu-token"]) throw new HttpError(403, "commands need the X-GSU-Token header");
    if (p === "/api/command") {
      let a: { board?: unknown; target?: unknown; op?: unknown; args?: unknown };
      try { a = JSON.parse((await body(req, 64 * 1024)).toString("utf8")); } catch (e) { if (e instanceof HttpError) throw e; throw new HttpError(400, "the body must be JSON {board, target, op, args}"); }
      const board = intParam(a.board, "board", 0, 254);
      const target = targetParam(a.target);
      if (typeof a.op !== "string" || !COMMANDS.has(a.op as Opcode)) throw new HttpError(400, `op must be one of ${[...COMMANDS].join(", ")}, not ${JSON.stringify(a.op)}`);
      const op = a.op as Opcode;
      const args = (a.args && typeof a.args === "object" && !Array.isArray(a.args) ? a.args : {}) as Record<string, unknown>;
      const k = needKey();
      try {
        const r = await g.linkTo(board).telecommand(op, args, { key: k.key, keyId: k.keyId, target, seqs: k.seqs, timeoutMs: o.timeoutMs });
        const out = { board, target, op, seq: r.sent, status: r.status, text: r.text };
        g.emit("command", out);
        return json(res, 200, out);
      } catch (e) {
        if (e instanceof NoReplyError || e instanceof SeqError) {
          const out = { board, target, op, status: "no-reply", text: e.message };
          g.emit("command", out);
          return json(res, 504, out);
        }
        throw e;
      }
    }
    if (p === "/api/upload") {
      const board = intParam(url.searchParams.get("board"), "board", 0, 254);
      const target = targetParam(url.searchParams.get("target"));
      const label = (url.searchParams.get("name") ?? "image").slice(0, 80);
      const k = needKey();
      const image = new Uint8Array(await body(req, MAX_IMAGE));
      if (!image.length) throw new HttpError(400, "the image is empty");
      const link = g.linkTo(board);
      const id = Buffer.from(imageId(image)).toString("hex");
      let auth;
      try { auth = await link.telecommand("upload", { image: id, size: image.length }, { key: k.key, keyId: k.keyId, target, seqs: k.seqs, timeoutMs: o.timeoutMs }); } catch (e) {
        if (e instanceof NoReplyError || e instanceof SeqError) return json(res, 504, { ok: false, text: e.message });
        throw e;
      }
      if (auth.status !== "accepted") return json(res, 200, { ok: false, text: `board ${board} refused to authorise the upload: ${auth.text}` });
      try {
        const out = await uploadImage(link, image, {
          timeoutMs: o.timeoutMs,
          onStart: (pr) => g.emit("upload", { board, label, ...pr }),
          onProgress: (pr) => g.emit("upload", { board, label, ...pr }),
        });
        const r = { ok: out.ok, text: out.text, board, label, size: image.length };
        g.emit("upload", { board, label, done: true, ok: out.ok, text: out.text, size: image.length, acked: out.progress.acked });
        return json(res, 200, r);
      } catch (e) {
        if (e instanceof NoReplyError || e instanceof UploadStalledError) return json(res, 504, { ok: false, text: e.message });
        throw e;
      }
    }
    if (p === "/api/rehearse") {
      let a: { seed?: unknown; steps?: unknown } = {};
      try { a = JSON.parse((await body(req, 4096)).toString("utf8") || "{}"); } catch { throw new HttpError(400, "the body must be JSON {seed, steps}"); }
      const seed = intParam(a.seed ?? 1, "seed", 0, 2 ** 31);
      const steps = intParam(a.steps ?? 200, "steps", 20, 5000);
      if (rehearsing) throw new HttpError(409, "a rehearsal is already running");
      rehearsing = true;
      try {
        if (rehearsalDir) rmSync(rehearsalDir, { recursive: true, force: true });
        rehearsalDir = mkdtempSync(join(tmpdir(), "gsu-console-rehearsal-"));
        const file = join(rehearsalDir, "rehearsal.html");
        const r = await run(process.execPath, [join(ROOT, "bin/gsu.js"), "rehearse", "--seed", String(seed), "--steps", String(steps), "--html", file]);
        if (existsSync(file)) rehearsalFile = file;
        return json(res, 200, { exit: r.code, verdict: /Verdict: PASS/.test(r.out) ? "PASS" : /Verdict: FAIL/.test(r.out) ? "FAIL" : "none", output: r.out.slice(-4000) });
      } finally { rehearsing = false; }
    }
    throw new HttpError(404, `no such command: POST ${p}`);
  }

  const srv: Server = createServer((req, res) => {
    route(req, res).catch((e) => {
      if (res.headersSent) { res.end(); return; }
      if (e instanceof HttpError) return json(res, e.status, { error: e.message });
      json(res, 500, { error: `ground server fault: ${(e as Error).message}` });
    });
  });
  return new Promise((resolve, reject) => {
    srv.once("error", (e: NodeJS.ErrnoException) => reject(new Error(e.code === "EADDRINUSE" ? `port ${o.port} on 127.0.0.1 is in use: pass --port N (0: any free port)` : `cannot serve the console: ${e.message}`)));
    srv.listen(o.port ?? 8470, "127.0.0.1", () => {
      port = (srv.address() as { port: number }).port;
      resolve({
        url: `http://127.0.0.1:${port}/?token=${token}`, port, token,
        close: () => new Promise<void>((r) => {
          unsub();
          clearInterval(keepalive);
          for (const s of streams) s.end();
          if (rehearsalDir) rmSync(rehearsalDir, { recursive: true, force: true });
          srv.closeAllConnections?.();
          srv.close(() => r());
        }),
      });
    });
  });
}

function run(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    c.stdout.on("data", (d) => { out += d; });
    c.stderr.on("data", (d) => { out += d; });
    c.on("close", (code) => resolve({ code: code ?? 1, out }));
    c.on("error", (e) => resolve({ code: 1, out: String(e) }));
  });
}

/** What the console shows when it opens. */
export function state(g: GroundServer): unknown {
  const boards = [...g.station.boards.values()].map((b) => ({
    node: b.node, name: g.o.targets?.get(b.node) ?? null, t_us: b.t_us, values: b.values, packets: b.packets, lost: b.lost,
    procs: [...b.procs.values()], links: [...b.links.entries()].map(([i, l]) => ({ index: i, ...l })),
  }));
  const recent = g.recent.filter((r) => r.type === "tlm" || r.type === "event").slice(-8000).map((r) => ({ ...r, hex: undefined }));
  return {
    spec: g.o.spec, node: g.node, keyId: g.o.key?.keyId ?? null,
    targets: Object.fromEntries(g.o.targets ?? []),
    boards, recent,
    archive: { dir: g.archive.dir, lines: g.archive.counters.lines, files: g.archive.files().length, lastError: g.archive.lastError },
    eventLog: { ...g.sync.counters, cursors: Object.fromEntries(g.sync.cursors) },
    clients: g.clientCount,
  };
}
