// npm run bench:telemetry: telemetry's share of a 115200-baud serial link and of a
// 500 kbit/s CAN bus at default rates.
//
// Default rates (host/telemetry/sampler.ts): every board sends one sample round per
// second: BOARD_TLM, LINK_TLM per link, PROC_TLM per process, with only the channels
// that changed since the last round, and every channel every 10th round (F Prime's
// TlmChan sends changed channels only); events as they occur, DIAGNOSTIC ones (every
// passed AT) filtered out as F Prime's default filter does.
//
// Workload: the demo system (3 boards) in guarded operation for 10 s of virtual time
// (1000 control steps at 100 Hz), a fault in the new estimator at step 900 (9 s), so
// the run holds steady guarded operation, a refresh round, and the recovery burst
// (failed AT, recovery round, rollbacks, takeovers, drops) all in measured seconds.
//
// Wire costs use the real link encoders:
//   serial: host/transport/framing (3-byte envelope header, CRC-32, COBS, delimiter),
//           8N1 = 10 bits per byte;
//   CAN: host/transport/can/cyphal.ts (Cyphal/CAN, 29-bit IDs, tail byte, transfer CRC),
//        worst-case bit stuffing for an extended data frame with n data bytes:
//        67 + 8n + floor((54 + 8n - 1) / 4) bits (160 for 8 bytes), interframe space included.
// Each sample round of a board goes out as one transfer (packets back to back); each
// event as its own transfer.
//
//   npm run bench:telemetry               the workload above
//   npm run bench:telemetry -- --quick    a smoke run for CI: 3 s (fault at 2 s, steady second 1);
//                                         the same code paths, the figures are not the real ones
import { simTelemetry, type SimPacket } from "../host/telemetry/simlink.ts";
import { encodeWireFrame, segment } from "../host/transport/framing/envelope.ts";
import { encodeTransfer } from "../host/transport/can/cyphal.ts";

const SERIAL_BAUD = 115_200, SERIAL_BYTES_PER_S = SERIAL_BAUD / 10;
const CAN_BITRATE = 500_000;
const GROUND = 0;          // the ground's node id on the link
const args = process.argv.slice(2);
for (const a of args) {
  if (a !== "--quick") {
    console.error(`bench-telemetry: unknown argument '${a}'; usage: npm run bench:telemetry [-- --quick]`);
    process.exit(2);
  }
}
const QUICK = args.includes("--quick");
const SECONDS = QUICK ? 3 : 10;
const FAULT_S = SECONDS - 1;     // the fault's second; seconds 1..FAULT_S-1 are steady guarded operation

const canBits = (n: number) => 67 + 8 * n + Math.floor((54 + 8 * n - 1) / 4);
const briefCanBits = (n: number) => (47 + 8 * n) * 1.2; // the (47 + 64) * 1.2 standard-frame estimate
const serialBytes = (t: Uint8Array, src: number) => segment(GROUND, src, t).reduce((s, e) => s + encodeWireFrame(e).length, 0);
const canFrames = (t: Uint8Array, src: number) => encodeTransfer(t, { subject: 4096 + GROUND, source: src, transferId: 0, maxTransfer: 1 << 16 });
const concat = (ps: Uint8Array[]) => { const o = new Uint8Array(ps.reduce((s, p) => s + p.length, 0)); let k = 0; for (const p of ps) { o.set(p, k); k += p.length; } return o; };
const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

const run = simTelemetry({ seed: 1, steps: SECONDS * 100, fault: { comp: "estimator", step: FAULT_S * 100 }, sampleUs: 1_000_000 });
const boards = run.boards.map((b) => ({ name: b.name, node: b.node }));

// transfers: one per (board, sample instant) for channels, one per event
interface Transfer { second: number; node: number; kind: SimPacket["kind"]; bytes: Uint8Array; packets: number }
const transfers: Transfer[] = [];
const rounds = new Map<string, SimPacket[]>();
for (const p of run.packets) {
  if (p.kind === "event") { transfers.push({ second: Math.floor(p.t_us / 1e6), node: p.node, kind: "event", bytes: p.bytes, packets: 1 }); continue; }
  const k = `${p.node}@${p.t_us}`;
  rounds.set(k, [...(rounds.get(k) ?? []), p]);
}
for (const ps of rounds.values()) transfers.push({ second: Math.floor(ps[0].t_us / 1e6), node: ps[0].node, kind: "channels", bytes: concat(ps.map((p) => p.bytes)), packets: ps.length });

interface Cost { ccsds: number; serial: number; can: number; brief: number; frames: number; packets: number }
const zero = (): Cost => ({ ccsds: 0, serial: 0, can: 0, brief: 0, frames: 0, packets: 0 });
const costOf = (t: Transfer): Cost => {
  const fs = canFrames(t.bytes, t.node);
  return { ccsds: t.bytes.length, serial: serialBytes(t.bytes, t.node), can: fs.reduce((s, f) => s + canBits(f.data.length), 0), brief: fs.reduce((s, f) => s + briefCanBits(f.data.length), 0), frames: fs.length, packets: t.packets };
};
const add = (a: Cost, b: Cost): Cost => ({ ccsds: a.ccsds + b.ccsds, serial: a.serial + b.serial, can: a.can + b.can, brief: a.brief + b.brief, frames: a.frames + b.frames, packets: a.packets + b.packets });

// per second, per board
const perSecond: Cost[][] = Array.from({ length: SECONDS + 1 }, () => boards.map(zero));
const events = boards.map(zero);
for (const t of transfers) {
  const bi = boards.findIndex((b) => b.node === t.node);
  const c = costOf(t);
  perSecond[t.second][bi] = add(perSecond[t.second][bi], c);
  if (t.kind === "event") events[bi] = add(events[bi], c);
}

console.log(`GSU telemetry bandwidth (node ${process.version})${QUICK ? "  --quick: smoke run, not the real figures" : ""}`);
console.log(`demo system, 3 boards; channels at 1 Hz per board (changed channels, all every 10th round), events as they occur;`);
console.log(`${SECONDS} s of guarded operation, fault at ${FAULT_S} s; serial ${SERIAL_BAUD} baud 8N1, CAN ${CAN_BITRATE / 1000} kbit/s (Cyphal/CAN, worst-case stuffing)`);
console.log("");
console.log(`  ${"second".padEnd(7)} ${boards.map((b) => `${b.name} pk/B/serial B/CAN bits`.padStart(30)).join("")}   serial max  serial all   CAN all`);
const rows = perSecond.map((bs, s) => {
  const maxSerial = Math.max(...bs.map((c) => c.serial));
  const all = bs.reduce(add, zero());
  console.log(`  ${String(s).padEnd(7)} ${bs.map((c) => `${c.packets}/${c.ccsds}/${c.serial}/${c.can}`.padStart(30)).join("")}   ${pct(maxSerial / SERIAL_BYTES_PER_S).padStart(10)}  ${pct(all.serial / SERIAL_BYTES_PER_S).padStart(10)} ${pct(all.can / CAN_BITRATE).padStart(9)}`);
  return { s, maxSerial, all };
});
const steady = rows.filter((r) => r.s >= 1 && r.s < FAULT_S); // guarded operation after start-up, before the fault
const avg = (f: (r: (typeof rows)[number]) => number, rs = rows) => rs.reduce((a, r) => a + f(r), 0) / rs.length;
const worst = (f: (r: (typeof rows)[number]) => number) => Math.max(...rows.filter((r) => r.s >= 1).map(f));
console.log("");
console.log(`Events over the run: ${events.reduce((a, c) => a + c.packets, 0)} packets, ${events.reduce((a, c) => a + c.ccsds, 0)} CCSDS bytes (all in the recovery second but the 3 UPGRADE_STARTED)`);
console.log("");
console.log(`Share of the link                         ${`steady (1-${FAULT_S - 1} s)`.padStart(14)}   ${`average (0-${SECONDS} s)`.padStart(16)}   ${`worst second (1-${SECONDS} s)`.padStart(21)}   start-up second (0)`);
console.log(`  serial, one board per link (worst board)  ${pct(avg((r) => r.maxSerial, steady) / SERIAL_BYTES_PER_S).padStart(14)} ${pct(avg((r) => r.maxSerial) / SERIAL_BYTES_PER_S).padStart(18)} ${pct(worst((r) => r.maxSerial) / SERIAL_BYTES_PER_S).padStart(23)} ${pct(rows[0].maxSerial / SERIAL_BYTES_PER_S).padStart(21)}`);
console.log(`  serial, all 3 boards on one link          ${pct(avg((r) => r.all.serial, steady) / SERIAL_BYTES_PER_S).padStart(14)} ${pct(avg((r) => r.all.serial) / SERIAL_BYTES_PER_S).padStart(18)} ${pct(worst((r) => r.all.serial) / SERIAL_BYTES_PER_S).padStart(23)} ${pct(rows[0].all.serial / SERIAL_BYTES_PER_S).padStart(21)}`);
console.log(`  CAN 500 kbit/s, all 3 boards              ${pct(avg((r) => r.all.can, steady) / CAN_BITRATE).padStart(14)} ${pct(avg((r) => r.all.can) / CAN_BITRATE).padStart(18)} ${pct(worst((r) => r.all.can) / CAN_BITRATE).padStart(23)} ${pct(rows[0].all.can / CAN_BITRATE).padStart(21)}`);
console.log(`  CAN, (47 + 8n) * 1.2 bits per frame       ${pct(avg((r) => r.all.brief, steady) / CAN_BITRATE).padStart(14)} ${pct(avg((r) => r.all.brief) / CAN_BITRATE).padStart(18)} ${pct(worst((r) => r.all.brief) / CAN_BITRATE).padStart(23)} ${pct(rows[0].all.brief / CAN_BITRATE).padStart(21)}`);
console.log("");
console.log("Goal (issue 5): <= 5% at default rates.");
