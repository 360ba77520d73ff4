// The board daemon end to end (issue 10): a real `gsu board` process on one end
// of a PTY serial link, and on the other a fuzzer that sends, seeded:
//   raw     random bytes written straight onto the PTY (bad framing, stray
//           delimiters, cut-off frames): the link layer's job
//   frame   valid link envelopes (sent through the transport) with random
//           bodies: management frames of every type, protocol frames
//   mutant  valid telecommands, upload frames and status queries with bytes
//           flipped, cut or repeated
//   signed  telecommands with valid signatures (the ground's key) on random
//           opcodes and random JSON arguments, some for another board or
//           outside the time window, some replayed
// Liveness after every batch: the process lives and answers a fresh signed
// status; at the end also a read-only status query, and the components still run
// (device outputs keep coming). Bounded: no log line, reply or event longer than
// the limits (nothing a peer sends is echoed unbounded).
// Used by test/fuzz.test.ts (a few hundred inputs, seconds) and `npm run fuzz`
// (`--daemon N`, default 5000).
import { openSync, writeSync, closeSync, readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { Rng } from "../host/sim/rng.ts";
import { M, frame } from "../host/board/mgmt.ts";
import { OP, type Opcode } from "../host/board/telecommand.ts";
import { chunkFrame } from "../host/board/upload.ts";
import { encodeStatusQuery } from "../host/board/status-query.ts";
import { Harness, BOARD } from "../test/attack-harness.ts";
import { socatMissing } from "../test/serial/socat.ts";

export interface DaemonFuzzReport {
  inputs: number;
  sent: Record<string, number>;
  /** TC_REPLY status counts (accepted/refused/failed) and refusal reasons seen. */
  replies: Record<string, number>;
  /** The daemon's own drop counters at the end (board stats.dropped). */
  dropped: Record<string, number>;
  problems: string[];
  /** The daemon's contained handler faults, as it logged them (rate-limited): exceptions a peer's frame caused, the board kept running. */
  handlerFaults: string[];
  liveness: number;
  maxLogLine: number;
  maxReply: number;
  seconds: number;
}

const OPS = Object.keys(OP) as Opcode[];
const KEYS = ["components", "comp", "step", "allowDowngrade", "image", "size", "challenge", "__proto__", "constructor", "x"];

function randomValue(rng: Rng, d = 0): unknown {
  switch (rng.int(0, d > 2 ? 5 : 8)) {
    case 0: return rng.next() < 0.5;
    case 1: return rng.int(-(2 ** 31), 2 ** 31);
    case 2: return "y".repeat(rng.int(0, 400));
    case 3: return null;
    case 4: return ["__proto__", "constructor", "estimator", "2.0.0", "toString", "ab".repeat(32), "../../etc/passwd"][rng.int(0, 6)];
    case 5: return rng.next() * 1e300;
    case 6: return [randomValue(rng, d + 1), randomValue(rng, d + 1)];
    default: return Object.fromEntries([[KEYS[rng.int(0, KEYS.length - 1)], randomValue(rng, d + 1)], ["estimator", "2.0.0"]]);
  }
}

const bytes = (rng: Rng, n: number) => Uint8Array.from({ length: n }, () => rng.int(0, 255));

function mutate(rng: Rng, b: Uint8Array): Uint8Array {
  const c = Uint8Array.from(b);
  switch (rng.int(0, 3)) {
    case 0: for (let i = rng.int(1, 3); i > 0; i--) c[rng.int(0, c.length - 1)] ^= 1 << rng.int(0, 7); return c;
    case 1: return c.subarray(0, rng.int(0, c.length - 1));
    case 2: return Uint8Array.from([...c, ...bytes(rng, rng.int(1, 40))]);
    default: { const at = rng.int(0, c.length - 1); return Uint8Array.from([...c.subarray(0, at), ...c.subarray(at, Math.min(c.length, at + 20)), ...c.subarray(at)]); }
  }
}

/**
 * Runs `n` inputs against a fresh daemon; `batch` inputs between liveness checks.
 * Throws when socat is missing (callers skip first).
 */
export async function fuzzDaemon(n: number, seed: number, o: { batch?: number; log?: (l: string) => void } = {}): Promise<DaemonFuzzReport> {
  if (socatMissing) throw new Error(socatMissing);
  const t0 = performance.now();
  const rng = new Rng(seed);
  const batch = o.batch ?? 100;
  const h = new Harness({ args: ["--sim-devices", "50"], profile: { telecommandWindowSeconds: 60, status: "open" } });
  const rep: DaemonFuzzReport = { inputs: 0, sent: {}, replies: {}, dropped: {}, problems: [], handlerFaults: [], liveness: 0, maxLogLine: 0, maxReply: 0, seconds: 0 };
  const inc = (r: Record<string, number>, k: string) => { r[k] = (r[k] ?? 0) + 1; };
  const problem = (p: string) => { if (rep.problems.length < 20) rep.problems.push(p); };
  const recent: string[] = [];
  let raw = -1;
  try {
    await h.up();
    raw = openSync(h.pair.b, "w"); // a second writer on the ground's end of the PTY: bytes that bypass the framing
    const pool: Uint8Array[] = [];
    const keep = (f: Uint8Array) => { if (pool.length < 32) pool.push(f); else pool[rng.int(0, 31)] = f; };
    for (const op of ["status", "commit", "upload"] as const) keep(frame(M.TC, h.encode(op, op === "upload" ? { image: "cd".repeat(32), size: 100 } : {})));
    keep(frame(M.QUERY, Uint8Array.from([...bytes(rng, 32), 100, 0, 0, 0])));
    keep(chunkFrame(bytes(rng, 32), 0, bytes(rng, 64)));
    keep(frame(M.STATUS_Q, encodeStatusQuery("target").body));
    keep(Uint8Array.of(0xc0, 0x01));
    keep(Uint8Array.of(0x40, 0x01));
    for (let i = 0; i < n; i++) {
      rep.inputs++;
      const r = rng.next();
      let kind: string, f: Uint8Array;
      if (r < 0.15) {
        kind = "raw";
        f = bytes(rng, rng.int(1, 200));
        if (rng.next() < 0.5) f[rng.int(0, f.length - 1)] = 0;
        writeSync(raw, f);
      } else if (r < 0.45) {
        kind = "frame";
        f = bytes(rng, rng.int(1, 120));
        if (rng.next() < 0.6) { f[0] = 0xff; if (f.length > 1) f[1] = rng.int(0, 12); }
        h.raw(f);
      } else if (r < 0.7) {
        kind = "mutant";
        f = mutate(rng, pool[rng.int(0, pool.length - 1)]);
        if (f.length) h.raw(f);
      } else {
        kind = "signed";
        const op = OPS[rng.int(0, OPS.length - 1)];
        const args = Object.fromEntries(Array.from({ length: rng.int(0, 3) }, () => [KEYS[rng.int(0, KEYS.length - 1)], randomValue(rng)]));
        const x = rng.next();
        const tc = h.encode(op, args as Record<string, unknown>, {
          board: x < 0.05 ? "other" : "target",
          timeMs: x > 0.95 ? Date.now() - 3_600_000 : Date.now(),
          seq: x > 0.9 && x <= 0.95 ? rng.int(1, Math.max(1, h.seq)) : undefined,
        });
        f = frame(M.TC, tc);
        h.raw(f);
        keep(f);
      }
      inc(rep.sent, kind);
      recent.push(`${kind} ${Buffer.from(f.subarray(0, 48)).toString("hex")}${f.length > 48 ? `...(${f.length} bytes)` : ""}`);
      if (recent.length > 8) recent.shift();
      if (i % 16 === 15) await new Promise((res) => setTimeout(res, 5)); // let the PTY drain
      if ((i + 1) % batch === 0 || i === n - 1) {
        rep.liveness++;
        let ok = false;
        try { ok = await h.healthy(); } catch (e) { problem(`liveness after input ${i + 1}: ${(e as Error).message.split("\n")[0]}`); }
        if (!ok) {
          problem(`after input ${i + 1} the board ${h.alive ? "did not answer a signed status" : "died"}; last inputs:\n    ${recent.join("\n    ")}\n  board said:\n${h.out.slice(-1500)}`);
          if (!h.alive) break;
        }
        o.log?.(`  ${i + 1}/${n} inputs, board alive`);
      }
    }
    // the end: read-only status, components running, counters
    // Read-only queries share a rate limit (4 a second) that the fuzz's own random STATUS_Q
    // frames may have used up just now: a ground retries after the window, so do we.
    let q = await h.statusQuery({}, 5000);
    for (let tries = 0; !q?.ok && tries < 3; tries++) {
      await new Promise((res) => setTimeout(res, 1200));
      q = await h.statusQuery({}, 5000);
    }
    if (!q?.ok) problem(`the read-only status query was not answered at the end (${q ? q.text : "no reply"})`);
    const devices = join(h.stateDir, "devices.jsonl");
    const count = () => (existsSync(devices) ? readFileSync(devices, "utf8").split("\n").length : 0);
    const d0 = count();
    await new Promise((res) => setTimeout(res, 600));
    if (count() <= d0) problem("the components stopped: no device output in 600 ms after the fuzzing");
    const st = await h.tc("status");
    try { rep.dropped = (JSON.parse(st.text) as { stats: { dropped: Record<string, number> } }).stats.dropped; } catch { problem(`status is not JSON: ${st.text.slice(0, 200)}`); }
    for (const [, r] of h.replies) {
      inc(rep.replies, r.status === 0 ? "accepted" : r.status === 1 ? `refused (${/^refused \(([a-z-]+)\)/.exec(r.text)?.[1] ?? "?"})` : "failed");
      rep.maxReply = Math.max(rep.maxReply, r.text.length);
    }
    rep.maxLogLine = Math.max(0, ...h.out.split("\n").map((l) => l.length));
    rep.handlerFaults = [...new Set(h.out.split("\n").filter((l) => l.includes("handler fault")).map((l) => l.replace(/from node \d+/, "from node N")))].slice(0, 10);
    if (rep.maxLogLine > 1000) problem(`a log line of ${rep.maxLogLine} characters: something echoes a peer's field unbounded`);
    if (rep.maxReply > 20_000) problem(`a reply of ${rep.maxReply} characters`);
    if (!h.alive) problem("the board process is not alive at the end");
  } finally {
    if (raw >= 0) closeSync(raw);
    await h.down();
  }
  rep.seconds = (performance.now() - t0) / 1000;
  return rep;
}

export { BOARD };
