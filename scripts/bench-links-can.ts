// CAN rows for npm run bench:links: the demo's traffic and a 64 KiB transfer in
// Cyphal/CAN framing, costed in bus bits (worst-case bit stuffing, 29-bit IDs,
// interframe space), and the bus load the demo puts on a 500 kbit/s bus.
import { encodeTransfer } from "../host/transport/can/cyphal.ts";
import type { LinkRow, TrafficFrame } from "./bench-links.ts";

const canBits = (n: number) => 67 + 8 * n + Math.floor((54 + 8 * n - 1) / 4);
const BITRATE = 500_000;

function bits(frame: Uint8Array, src: number, dst: number): { bits: number; frames: number } {
  const fs = encodeTransfer(frame, { subject: 4096 + (dst === 0xff ? 128 : dst), source: src, transferId: 0, maxTransfer: 1 << 17 });
  return { bits: fs.reduce((s, f) => s + canBits(f.data.length), 0), frames: fs.length };
}

/** traffic: the frames of a demo rehearsal of `steps` control steps (default: GSU_BENCH_STEPS, else 300). */
export function benchCan(traffic: TrafficFrame[], steps = Number(process.env.GSU_BENCH_STEPS ?? 300)): LinkRow[] {
  const rows: LinkRow[] = [];
  // "wire" is reported in bytes: bus bits / 8, so payload/wire is payload bits over bus bits
  const sum = (ts: TrafficFrame[]) => ts.reduce((a, t) => { const b = bits(t.frame, t.src, t.dst); return { bits: a.bits + b.bits, frames: a.frames + b.frames }; }, { bits: 0, frames: 0 });
  const all = sum(traffic), app = traffic.filter((t) => t.kind === "app"), sa = sum(app);
  rows.push({ link: "CAN", case: `demo traffic, all ${traffic.length} messages (${all.frames} CAN frames)`, messages: traffic.length, payload: traffic.reduce((n, t) => n + t.payload, 0), transfer: traffic.reduce((n, t) => n + t.frame.length, 0), wire: all.bits / 8 });
  rows.push({ link: "CAN", case: `demo app messages (${sa.frames} CAN frames)`, messages: app.length, payload: app.reduce((n, t) => n + t.payload, 0), transfer: app.reduce((n, t) => n + t.frame.length, 0), wire: sa.bits / 8 });
  const big = new Uint8Array(65536).map((_, i) => (i * 2654435761) >>> 24);
  const b = bits(big, 1, 2);
  rows.push({ link: "CAN", case: `64 KiB transfer (${b.frames} CAN frames)`, messages: 1, payload: 65536, transfer: 65536, wire: b.bits / 8 });
  // bus load of the demo's traffic at a 10 Hz and a 50 Hz control rate
  const perStep = all.bits / steps;
  for (const hz of [10, 50]) {
    rows.push({ link: "CAN", case: `bus load at ${hz} steps/s: ${(perStep * hz / BITRATE * 100).toFixed(1)}% of 500 kbit/s`, messages: traffic.length, payload: 0, transfer: 0, wire: all.bits / 8, note: `${Math.round(perStep)} bus bits per control step` });
  }
  return rows;
}
