// npm run bench:links: what each real link costs on the wire, measured in one run,
// and what the link layer between boards adds (bytes, delivery under loss, CPU time as
// paired interleaved ratios: scripts/bench-links-layer.ts).
//  - wire efficiency: application payload bytes / bytes on the wire, for the demo's
//    own traffic (captured from an in-process rehearsal) and for a 64 KiB transfer;
//  - protocol header bytes per message (GSU core header), and link envelope bytes.
// Serial is measured through StreamTransport (the same link layer SerialTransport
// uses) over an in-memory pipe, counting every byte written.
// CAN: scripts/bench-links-can.ts, if present, exports `benchCan(traffic)` returning
// rows; it is called with the same captured traffic and its step count (hook for the
// CAN helper).
//
//   npm run bench:links               the demo rehearsal at 300 steps (GSU_BENCH_STEPS overrides)
//   npm run bench:links -- --quick    a smoke run for CI: 60 steps (past the upgrade at step 30),
//                                     every case still measured; the figures are not the real ones
import { existsSync } from "node:fs";
import { Duplex, PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import { runTestbed } from "../host/sim/testbed.ts";
import { demoSystem } from "../host/sim/demo-system.ts";
import { Core } from "../host/core/core.ts";
import { decodeFrame } from "../host/runtime/frame.ts";
import { StreamTransport } from "../host/transport/stream.ts";
import { ENVELOPE_OVERHEAD } from "../host/transport/framing/envelope.ts";

export interface TrafficFrame { src: number; dst: number; frame: Uint8Array; header: number; payload: number; kind: string }
export interface LinkRow { link: string; case: string; messages: number; payload: number; transfer: number; wire: number; note?: string }

// ---- the demo's traffic ------------------------------------------------------------
const args = process.argv.slice(2);
for (const a of args) {
  if (a !== "--quick") {
    console.error(`bench-links: unknown argument '${a}'; usage: npm run bench:links [-- --quick]`);
    process.exit(2);
  }
}
const QUICK = args.includes("--quick");
const core = new Core({ procs: 2 });
const traffic: TrafficFrame[] = [];
const steps = Number(process.env.GSU_BENCH_STEPS ?? (QUICK ? 60 : 300));
runTestbed(demoSystem(), {
  seed: 11, steps, latency: { min: 50, max: 2000 }, fault: null,
  tap: (_t, src, dst, frame) => {
    // the protocol's bytes: the core header and, in the vector form (FLAG_VEC), the vector's
    // components after the route; decodeFrame hands back route + payload alone
    const { header: h, body } = decodeFrame(core, frame);
    const app = h.kind === "app";
    traffic.push({ src, dst, frame, header: frame.length - body.length, payload: app ? body.length - 2 : 0, kind: h.kind });
  },
});

// ---- serial, measured ---------------------------------------------------------------
async function serialRun(frames: Array<{ dst: number; frame: Uint8Array }>, maxFragment?: number): Promise<{ transfer: number; wire: number; got: number }> {
  const ab = new PassThrough(), ba = new PassThrough();
  const a = new StreamTransport({ node: 1, maxFragment, maxTransfer: 1 << 20, stream: Duplex.from({ readable: ba, writable: ab }) });
  const b = new StreamTransport({ node: 2, maxFragment, maxTransfer: 1 << 20, stream: Duplex.from({ readable: ab, writable: ba }) });
  a.idleDelimiterMs = Infinity; // back-to-back traffic; the idle delimiter is counted separately below
  let got = 0;
  b.onFrame(() => got++);
  for (const f of frames) a.send(f.dst, f.frame);
  while (got < frames.length) await new Promise((r) => setImmediate(r));
  const s = a.stats();
  await a.close(); await b.close();
  return { transfer: s.bytesOut, wire: s.wireBytesOut - 0, got };
}

const rows: LinkRow[] = [];
const demo = traffic.map((t) => ({ dst: t.dst === 0xff ? 0xff : 2, frame: t.frame }));
const appOnly = traffic.filter((t) => t.kind === "app");
{
  const r = await serialRun(demo);
  rows.push({ link: "serial", case: `demo traffic, all ${traffic.length} messages`, messages: traffic.length, payload: traffic.reduce((n, t) => n + t.payload, 0), transfer: r.transfer, wire: r.wire });
  const ra = await serialRun(appOnly.map((t) => ({ dst: 2, frame: t.frame })));
  rows.push({ link: "serial", case: `demo app messages (${appOnly.length})`, messages: appOnly.length, payload: appOnly.reduce((n, t) => n + t.payload, 0), transfer: ra.transfer, wire: ra.wire });
  rows.push({ link: "serial", case: "  same, each after an idle line (+1 delimiter, computed)", messages: appOnly.length, payload: appOnly.reduce((n, t) => n + t.payload, 0), transfer: ra.transfer, wire: ra.wire + appOnly.length });
}
for (const p of [12, 40]) {
  const h = core.encodeHeader({ kind: "app", dirty: 0, index: 1000, epoch: 0 });
  const f = new Uint8Array(h.length + 2 + p).fill(0x5a);
  f.set(h);
  const r = await serialRun(Array.from({ length: 100 }, () => ({ dst: 2, frame: f })));
  rows.push({ link: "serial", case: `${p}-byte payload + ${h.length}-byte GSU header + 2 route`, messages: 100, payload: 100 * p, transfer: r.transfer, wire: r.wire });
}
const big = new Uint8Array(65536);
for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24;
for (const mf of [256, 1024, 4096]) {
  const r = await serialRun([{ dst: 2, frame: big }], mf);
  rows.push({ link: "serial", case: `64 KiB transfer, ${mf}-byte frames${mf === 1024 ? " (default)" : ""}`, messages: 1, payload: 65536, transfer: r.transfer, wire: r.wire, note: `${Math.ceil((65536 + 4) / mf)} frames` });
}
{
  const r = await serialRun([{ dst: 2, frame: new Uint8Array(65536) }]);
  rows.push({ link: "serial", case: "64 KiB of zeros, 1024-byte frames", messages: 1, payload: 65536, transfer: r.transfer, wire: r.wire });
}

// ---- CAN hook -----------------------------------------------------------------------
const canBench = fileURLToPath(new URL("./bench-links-can.ts", import.meta.url));
let canLines: string[] = [];
if (existsSync(canBench)) {
  const m = (await import(canBench)) as { benchCan?: (t: TrafficFrame[], steps: number) => Promise<LinkRow[]> | LinkRow[]; lastLines?: string[] };
  if (m.benchCan) rows.push(...(await m.benchCan(traffic, steps)));
  canLines = (await import(canBench) as { lastLines?: string[] }).lastLines ?? [];
}

// ---- report -------------------------------------------------------------------------
const hdr = traffic.map((t) => t.header);
const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / Math.max(1, a.length);
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
console.log(`GSU link bench (node ${process.version}): demo rehearsal, ${steps} steps, ${traffic.length} messages captured${QUICK ? "  --quick: smoke run, not the real figures" : ""}`);
console.log(`GSU protocol header per message: mean ${mean(hdr).toFixed(2)} bytes, max ${Math.max(...hdr)} (goal <= 4); app messages add 2 route bytes`);
console.log(`demo app payloads: ${Math.min(...appOnly.map((t) => t.payload))}..${Math.max(...appOnly.map((t) => t.payload))} bytes, mean ${mean(appOnly.map((t) => t.payload)).toFixed(1)}`);
console.log(`serial envelope per frame: ${ENVELOPE_OVERHEAD - 4} header (dst, src, ctl) + 4 CRC-32 + COBS (1 + 1 per 254) + 1 delimiter = ${ENVELOPE_OVERHEAD + 2} bytes for frames under 254 bytes; multi-frame transfers add a 4-byte transfer CRC`);
console.log("");
const w = Math.max(...rows.map((r) => r.case.length));
console.log(`${"link".padEnd(7)} ${"case".padEnd(w)} ${"msgs".padStart(6)} ${"payload".padStart(9)} ${"wire".padStart(9)}  ${"payload/wire".padStart(12)} ${"transfer/wire".padStart(13)}  wire B/msg`);
for (const r of rows) {
  console.log(`${r.link.padEnd(7)} ${r.case.padEnd(w)} ${String(r.messages).padStart(6)} ${String(r.payload).padStart(9)} ${String(r.wire).padStart(9)}  ${pct(r.payload / r.wire).padStart(12)} ${pct(r.transfer / r.wire).padStart(13)}  ${((r.wire - r.transfer) / r.messages).toFixed(2).padStart(9)} overhead${r.note ? `  (${r.note})` : ""}`);
}

if (canLines.length) { console.log(""); for (const l of canLines) console.log(l); }

// ---- the link layer between boards (scripts/bench-links-layer.ts) ---------------------
{
  const { benchLayer } = await import("./bench-links-layer.ts");
  console.log("");
  for (const l of benchLayer(traffic, QUICK)) console.log(l);
}
