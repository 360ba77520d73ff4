// CAN figures for npm run bench:links: the demo's traffic through the real CanTransport
// (host/transport/can/transport.ts) on the mock bus, in each CAN mode, measured in one run:
//   classic   today's encoding: one Cyphal/CAN transfer per GSU frame, 8-byte frames
//   compact   classic CAN, compact transfers (bundle.ts): coalesced frames, deltas
//   fd        CAN FD, one bundle of coalesced frames per transfer, 64-byte frames
//   fd+compact
// Every CAN frame that goes on the bus is costed bit by bit (host/transport/can/bits.ts:
// 29-bit identifier, control, data, CRC, exact bit stuffing, delimiters, ACK, EOF,
// intermission; CAN FD's data phase at the data bit rate). Payload = the components'
// bytes of the application messages that cross a link (GSU header, route, link bytes and
// protocol messages are overhead). Every receiver must get exactly the frames the
// reference run delivered, in order, or the bench fails.
// The traffic: the demo rehearsal's frames as the boards send them (the simulated
// network's send tap; a board's frames to itself never reach a bus), grouped by sender
// and instant: the frames one board sends in one turn may share a transfer.
import { runTestbed } from "../host/sim/testbed.ts";
import { demoSystem } from "../host/sim/demo-system.ts";
import { Core } from "../host/core/core.ts";
import { decodeFrame } from "../host/runtime/frame.ts";
import { MockCanNetwork } from "../host/transport/can/bus.ts";
import { CanTransport, SEQ_SUBJECT_OFFSET } from "../host/transport/can/transport.ts";
import { classicFrameBits, fdFrameBits, type BusRates } from "../host/transport/can/bits.ts";
import { DEFAULT_SUBJECT_BASE, encodeTransfer, type CanFrame } from "../host/transport/can/cyphal.ts";
import { SimNetwork } from "../host/sim/network.ts";
import { VirtualClock } from "../host/sim/clock.ts";
import { Rng } from "../host/sim/rng.ts";
import { LinkLayer, type LayerClock } from "../host/transport/reliable.ts";
import { BROADCAST, CAN_CLASSIC_HINTS, type Transport } from "../host/transport/types.ts";

const CAN_CLASSIC_HINTS_OPTS = { window: CAN_CLASSIC_HINTS.maxWindow, loneAcks: CAN_CLASSIC_HINTS.loneAcks };
import type { LinkRow, TrafficFrame } from "./bench-links.ts";

interface Sent { t: number; src: number; dst: number; frame: Uint8Array }
const NODES = [1, 2, 3];
const CLASSIC: BusRates = { nominal: 500_000, data: 500_000 };
const FD_RATES: { name: string; r: BusRates }[] = [
  { name: "500 kbit/s / 2 Mbit/s", r: { nominal: 500_000, data: 2_000_000 } },
  { name: "1 Mbit/s / 5 Mbit/s", r: { nominal: 1_000_000, data: 5_000_000 } },
];
/** The old bench's estimate: worst-case stuffing (67 + 8n + (54 + 8n - 1) / 4 bits). */
const worstBits = (n: number) => 67 + 8 * n + Math.floor((54 + 8 * n - 1) / 4);

/**
 * The demo's frames as sent, with the app payload bytes of each (0 for protocol frames).
 * `ride`: as boards send them where a broadcast costs a frame per peer (a link layer
 * above CAN): a passed AT's bound rides on application frames. Without a layer a CAN
 * broadcast is one transfer and the bound goes alone (Transport.broadcastsOnce).
 */
function capture(steps: number, ride: boolean): { sent: Sent[]; payload: Map<Uint8Array, number> } {
  const core = new Core({ procs: 2 });
  const sent: Sent[] = [];
  const payload = new Map<Uint8Array, number>();
  runTestbed(demoSystem(), {
    seed: 11, steps, latency: { min: 50, max: 2000 }, fault: null, ridePassedAt: ride,
    sendTap: (t, src, dst, frame) => {
      const { header: h, body } = decodeFrame(core, frame);
      payload.set(frame, h.kind === "app" ? body.length - 2 : 0);
      sent.push({ t, src, dst, frame });
    },
  });
  return { sent, payload };
}

/**
 * The same frames after the link layer (reliable.ts) of every board, as the layers send them
 * (virtual time), hellos included (a receiver rebuilds a sequenced frame's tag from them).
 * `classic`: as over a classic CAN link (its layerHints: acknowledgements alone, window 16).
 */
function throughLayer(sent: Sent[], opts: { key?: Buffer; auth?: "control" | "all" }, classic = false): Sent[] {
  const clock = new VirtualClock();
  const out: Sent[] = [];
  const net = new SimNetwork(clock, new Rng(3), { minLatency: 50, maxLatency: 2000, sendTap: (t, src, dst, frame) => out.push({ t, src, dst, frame }) });
  const vclock: LayerClock = { now: () => clock.now, after: (us, fn) => { let live = true; clock.after(us, () => { if (live) fn(); }); return () => { live = false; }; } };
  const layers = new Map<number, Transport>(NODES.map((n) => [n, new LinkLayer(net.attach(n), { peers: NODES, incarnation: n, clock: vclock, ...opts, ...(classic ? CAN_CLASSIC_HINTS_OPTS : {}) })]));
  for (const l of layers.values()) l.onFrame(() => {});
  clock.run(1_000_000); // hellos
  // the hellos that opened the sessions stay in the trace, at its start
  for (const h of out) h.t = 0;
  const t0 = clock.now;
  for (const s of sent) clock.at(t0 + s.t, () => layers.get(s.src)!.send(s.dst, s.frame));
  clock.run(t0 + (sent.at(-1)?.t ?? 0) + 10e6);
  for (const o of out) if (o.t) o.t -= t0 - 1;
  return out;
}

interface ModeResult { frames: CanFrame[]; transfers: number; delivered: number }

/** Replays the frames through CanTransports in one mode; checks every receiver got exactly the reference. */
async function replay(sent: Sent[], mode: { fd?: boolean; compact?: boolean; layerHeader?: "in-id" | "explicit" }): Promise<ModeResult> {
  const net = new MockCanNetwork();
  const ts = NODES.map((n) => new CanTransport(net.attach(`node${n}`, { fd: mode.fd }), n, { ...mode, knownNodes: NODES }));
  // replaying link-layer frames: as with the layer above (its header in the CAN identifier on classic links)
  if (sent.some((s) => (s.frame[0] & 0xf0) === 0xe0)) for (const t of ts) t.attachLayer();
  const got = new Map<string, string[]>();
  ts.forEach((t, i) => t.onFrame((src, f) => {
    const k = `${src}>${NODES[i]}`;
    (got.get(k) ?? got.set(k, []).get(k)!).push(Buffer.from(f).toString("hex"));
  }));
  const want = new Map<string, string[]>();
  for (const s of sent) for (const d of s.dst === BROADCAST ? NODES.filter((n) => n !== s.src) : [s.dst]) {
    const k = `${s.src}>${d}`;
    (want.get(k) ?? want.set(k, []).get(k)!).push(Buffer.from(s.frame).toString("hex"));
  }
  let transfers = 0;
  for (let i = 0; i < sent.length;) {
    let j = i;
    while (j < sent.length && sent[j].t === sent[i].t && sent[j].src === sent[i].src) j++;
    for (let k = i; k < j; k++) ts[sent[k].src - 1].send(sent[k].dst, sent[k].frame);
    await net.settle();
    i = j;
  }
  await net.settle();
  // transfers: CAN frames whose tail byte has start-of-transfer set
  for (const r of net.frames) if (r.frame.data[r.frame.data.length - 1] & 0x80) transfers++;
  for (const [k, w] of want) {
    const g = got.get(k) ?? [];
    if (g.length !== w.length || g.some((x, i) => x !== w[i])) throw new Error(`bench-can: ${JSON.stringify(mode)}: link ${k} delivered ${g.length} frames, ${w.length} sent, or not the same bytes in the same order`);
  }
  for (const t of ts) { const d = t.stats().dropped; if (Object.keys(d).length) throw new Error(`bench-can: ${JSON.stringify(mode)}: drops ${JSON.stringify(d)}`); }
  const delivered = [...got.values()].reduce((n, g) => n + g.length, 0);
  await Promise.all(ts.map((t) => t.close()));
  return { frames: net.frames.map((r) => r.frame), transfers, delivered };
}

/** Payload bytes of the transfers on the link layer's sequenced subjects (tails and multi-frame CRCs left out). */
function sequencedPayloadBytes(frames: CanFrame[]): { transfers: number; bytes: number } {
  let transfers = 0, bytes = 0, cur = 0;
  for (const f of frames) {
    const subject = (f.id >> 8) & 0x1fff, off = subject - DEFAULT_SUBJECT_BASE;
    if (off < SEQ_SUBJECT_OFFSET[0] || off >= SEQ_SUBJECT_OFFSET[1] + 128) continue;
    const tail = f.data[f.data.length - 1];
    if (tail & 0x80) { transfers++; cur = 0; }
    cur += f.data.length - 1;
    if (tail & 0x40) bytes += (tail & 0x80) ? cur : cur - 2;
  }
  return { transfers, bytes };
}

function cost(frames: CanFrame[], r: BusRates): { seconds: number; bits: number; stuff: number } {
  let seconds = 0, bits = 0, stuff = 0;
  for (const f of frames) {
    const b = f.fd ? fdFrameBits(f) : classicFrameBits(f);
    seconds += b.nominal / r.nominal + b.data / r.data;
    bits += b.nominal + b.data;
    stuff += b.stuff;
  }
  return { seconds, bits, stuff };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** The report's lines; also the table rows bench-links prints. */
export async function canReport(steps: number): Promise<{ lines: string[]; rows: LinkRow[] }> {
  const { sent, payload } = capture(steps, false);
  const ridden = capture(steps, true).sent;
  const app = sent.filter((s) => (payload.get(s.frame) ?? 0) > 0);
  const payloadBytes = app.reduce((n, s) => n + payload.get(s.frame)!, 0) ;
  // a broadcast's payload reaches every peer but crosses the bus once: counted once
  const lines: string[] = [];
  const rows: LinkRow[] = [];
  const gsuBytes = sent.reduce((n, s) => n + s.frame.length, 0);
  lines.push(`CAN (host/transport/can/, exact bit stuffing, 29-bit IDs): the demo's ${sent.length} frames that cross a link in ${steps} steps (${app.length} application messages, ${sent.length - app.length} protocol), ${payloadBytes} payload bytes, ${gsuBytes} GSU frame bytes (${((gsuBytes - payloadBytes) / sent.length).toFixed(2)} header/route/protocol bytes per frame);`);
  lines.push(`  every receiver got exactly the reference frames, in order, in every mode. Payload share = the application payload bits delivered / bus bits (CAN FD: / bus time,`);
  lines.push(`  the data phase at the data rate); compact modes deliver the same payload in fewer bits. Classic CAN at 500 kbit/s; FD rates as named (nominal / data).`);
  lines.push(`  ${"mode".padEnd(48)} ${"transfers".padStart(9)} ${"CAN frames".padStart(10)} ${"frames/msg".padStart(10)} ${"bus bits".padStart(9)} ${"stuff".padStart(6)}  ${"payload share".padStart(13)}  bus load at 50 steps/s`);
  // With the link layer: on classic CAN the layer runs as that link asks (acknowledgements
  // alone, window 16) and its data frames' header rides in the CAN identifier; the bundled
  // modes carry the layer's frames as bytes (acknowledgements piggybacked).
  const key = Buffer.alloc(32, 0x42);
  const layerCases: { name: string; frames: Sent[]; classic: Sent[] }[] = [
    { name: "", frames: sent, classic: sent },
    { name: "layer, no key: ", frames: throughLayer(ridden, {}), classic: throughLayer(ridden, {}, true) },
    { name: "layer, key (control): ", frames: throughLayer(ridden, { key, auth: "control" }), classic: throughLayer(ridden, { key, auth: "control" }, true) },
  ];
  const added: string[] = [];
  for (const lc of layerCases) {
    const before = await replay(lc.classic, {});
    if (lc.name) {
      // the bytes the layer adds to a data frame on classic CAN: its sequenced transfers' payloads against the GSU frames they carry
      const seqd = sequencedPayloadBytes(before.frames);
      const dataIn = lc.classic.filter((s) => s.frame[0] === 0xe1 || s.frame[0] === 0xe5);
      // the GSU frame inside a layer data frame: after E1|M, tag, seq (and "after" in mixed mode), before a MAC
      const mixed = lc.name.includes("control");
      const gsu = dataIn.reduce((n, s) => n + s.frame.length - 3 - (mixed ? 1 : 0) - (s.frame[0] === 0xe5 ? 8 : 0), 0);
      const acks = lc.classic.filter((s) => (s.frame[0] & 0xf3) === 0xe2).length;
      added.push(`  ${lc.name.replace(/: $/, "")}, classic CAN: ${dataIn.length} data frames in ${seqd.transfers} sequenced transfers, ${((seqd.bytes - gsu - 8 * dataIn.filter((s) => s.frame[0] === 0xe5).length) / dataIn.length).toFixed(2)} bytes added per data frame beyond the GSU frame and its MAC (the header is in the CAN identifier and transfer-ID${mixed ? "; with a key in control mode, the 1-byte \"after\" that orders the two streams" : ""}); ${acks} lone acknowledgement frames (${(acks / dataIn.length).toFixed(2)} per data frame)`);
      const explicit = await replay(lc.frames, { layerHeader: "explicit" });
      const ce = cost(explicit.frames, CLASSIC);
      const r = explicit;
      lines.push(`  ${(lc.name + "classic, header as bytes (before)").padEnd(48)} ${String(r.transfers).padStart(9)} ${String(r.frames.length).padStart(10)} ${(r.frames.length / lc.frames.length).toFixed(2).padStart(10)} ${String(ce.bits).padStart(9)} ${String(ce.stuff).padStart(6)}  ${pct(payloadBytes * 8 / CLASSIC.data / ce.seconds).padStart(13)}  ${pct(ce.seconds / steps * 50)}`);
    }
    const cb = cost(before.frames, CLASSIC);
    const worst = before.frames.reduce((n, f) => n + worstBits(f.data.length), 0);
    const line = (name: string, r: ModeResult, seconds: number, bits: number, stuff: number, rate: BusRates) =>
      `  ${(lc.name + name).padEnd(48)} ${String(r.transfers).padStart(9)} ${String(r.frames.length).padStart(10)} ${(r.frames.length / lc.frames.length).toFixed(2).padStart(10)} ${String(bits).padStart(9)} ${String(stuff).padStart(6)}  ${pct(payloadBytes * 8 / rate.data / seconds).padStart(13)}  ${pct(seconds / steps * 50)}`;
    lines.push(line(lc.name ? "classic, header in the CAN ID" : "classic, today (before)", before, cb.seconds, cb.bits, cb.stuff, CLASSIC));
    if (!lc.name) lines.push(`  ${"  same, worst-case stuffing".padEnd(48)} ${"".padStart(9)} ${"".padStart(10)} ${"".padStart(10)} ${String(worst).padStart(9)} ${"".padStart(6)}  ${pct(payloadBytes * 8 / worst).padStart(13)}  ${pct(worst / CLASSIC.nominal / steps * 50)}  (the old estimate)`);
    const compact = await replay(lc.frames, { compact: true });
    const cc = cost(compact.frames, CLASSIC);
    lines.push(line("classic, compact (after)", compact, cc.seconds, cc.bits, cc.stuff, CLASSIC));
    for (const m of [{ fd: true }, { fd: true, compact: true }]) {
      const r = await replay(lc.frames, m);
      for (const fr of FD_RATES) {
        const c = cost(r.frames, fr.r);
        lines.push(line(`${m.compact ? "FD+compact" : "FD"} ${fr.name}`, r, c.seconds, c.bits, c.stuff, fr.r));
      }
      if (!lc.name && !m.compact) {
        const c = cost(r.frames.map((f) => ({ ...f, brs: false })), { nominal: 500_000, data: 500_000 });
        lines.push(line("FD 500 kbit/s, no bit rate switch", r, c.seconds, c.bits, c.stuff, { nominal: 500_000, data: 500_000 }));
      }
    }
    if (!lc.name) {
      rows.push({ link: "CAN", case: `demo, ${sent.length} frames crossing links, classic today (${before.frames.length} CAN frames)`, messages: sent.length, payload: payloadBytes, transfer: gsuBytes, wire: cb.bits / 8 });
      rows.push({ link: "CAN", case: `same, classic compact (${compact.frames.length} CAN frames)`, messages: sent.length, payload: payloadBytes, transfer: gsuBytes, wire: cc.bits / 8 });
    }
  }
  lines.push("  the link layer's bytes on classic CAN (docs/wire.md, \"On CAN: the layer's header in the CAN identifier\"):", ...added);
  // what bounds the share: one full frame of payload, no other byte
  const full8 = classicFrameBits({ id: 0x10700201, ext: true, rtr: false, data: new Uint8Array(8).fill(0x5a) });
  const full64 = fdFrameBits({ id: 0x10700201, ext: true, rtr: false, fd: true, brs: true, data: new Uint8Array(64).fill(0x5a) });
  const fr0 = FD_RATES[0].r;
  lines.push(`  bounds: a classic frame of 8 bytes is ${full8.nominal} bits with this data, so 7 payload bytes + tail reach at most ${pct(56 / full8.nominal)};`);
  lines.push(`  a 64-byte FD frame at ${FD_RATES[0].name}: 63 payload bytes reach at most ${pct((63 * 8 / fr0.data) / (full64.nominal / fr0.nominal + full64.data / fr0.data))}; ${FD_RATES[1].name}: ${pct((63 * 8 / 5e6) / (full64.nominal / 1e6 + full64.data / 5e6))}.`);
  const big = new Uint8Array(65536).map((_, i) => (i * 2654435761) >>> 24);
  const bigFrames = encodeTransfer(big, { subject: 4098, source: 1, transferId: 0, maxTransfer: 1 << 17 });
  const bb = cost(bigFrames, CLASSIC);
  rows.push({ link: "CAN", case: `64 KiB transfer, classic (${bigFrames.length} CAN frames, exact stuffing)`, messages: 1, payload: 65536, transfer: 65536, wire: bb.bits / 8 });
  const bigFd = encodeTransfer(big, { subject: 4098, source: 1, transferId: 0, maxTransfer: 1 << 17, mtu: 64 });
  const bf = cost(bigFd, FD_RATES[0].r);
  lines.push(`  64 KiB transfer: classic ${bigFrames.length} frames, ${pct(65536 * 8 / bb.bits)} of the bus; FD ${bigFd.length} frames, ${pct(65536 * 8 / FD_RATES[0].r.data / bf.seconds)} of bus time at ${FD_RATES[0].name}.`);
  return { lines, rows };
}

/** bench-links' hook: the table rows (the report lines are printed by bench-links after the table). */
export async function benchCan(_traffic: TrafficFrame[], steps = Number(process.env.GSU_BENCH_STEPS ?? 300)): Promise<LinkRow[]> {
  const r = await canReport(steps);
  lastLines = r.lines;
  return r.rows;
}
export let lastLines: string[] = [];
