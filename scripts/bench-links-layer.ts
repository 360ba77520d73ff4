// Link layer rows for npm run bench:links (host/transport/reliable.ts): what the layer
// adds to the demo's traffic in bytes (serial wire, CAN frames and bus bits), and what
// it costs in CPU time, as paired, interleaved ratios:
//   with the layer / without (both over the serial framing, no key),
//   authenticated application frames / unauthenticated ones (with the key: "all" / "control").
import { SimNetwork } from "../host/sim/network.ts";
import { VirtualClock } from "../host/sim/clock.ts";
import { Rng } from "../host/sim/rng.ts";
import { LinkLayer, type LayerClock, type LinkLayerOptions } from "../host/transport/reliable.ts";
import { FaultyTransport } from "../host/transport/faulty.ts";
import { LinkAuthenticator, linkMac, MAC_BYTES } from "../host/transport/auth.ts";
import { FrameLink } from "../host/transport/framing/link.ts";
import { encodeTransfer } from "../host/transport/can/cyphal.ts";
import { CAN_CLASSIC_HINTS, emptyStats, type Transport } from "../host/transport/types.ts";
import type { TrafficFrame } from "./bench-links.ts";

const KEY = Buffer.alloc(32, 0x42);
const canBits = (n: number) => 67 + 8 * n + Math.floor((54 + 8 * n - 1) / 4);
const serialLink = new FrameLink({ node: 1 });
const serialBytes = (f: Uint8Array, dst: number) => serialLink.encode(dst, f).length;
/** A frame's cost on classic CAN; `inId`: a layer data frame without acknowledgements leaves its 3 header bytes to the CAN identifier (can/transport.ts). */
const can = (f: Uint8Array, src: number, dst: number, inId = false) => {
  const seqd = inId && dst !== 0xff && (f[0] | 0x04) === 0xe5;
  const fs = encodeTransfer(seqd ? f.subarray(3) : f, { subject: 4096 + (dst === 0xff ? 128 : seqd ? 256 + dst : dst), source: src, transferId: 0, maxTransfer: 1 << 17 });
  return { frames: fs.length, bits: fs.reduce((s, x) => s + canBits(x.data.length), 0) };
};
/** The layer as a classic CAN link asks it to run (CanTransport.layerHints). */
const ON_CAN = { window: CAN_CLASSIC_HINTS.maxWindow, loneAcks: CAN_CLASSIC_HINTS.loneAcks };

function vclock(c: VirtualClock): LayerClock {
  return { now: () => c.now, after: (us, fn) => { let live = true; c.after(us, () => { if (live) fn(); }); return () => { live = false; }; } };
}

interface Config { name: string; layer: boolean; opts: Partial<LinkLayerOptions>; inId?: boolean }
const CONFIGS: Config[] = [
  { name: "no layer (today)", layer: false, opts: {} },
  { name: "layer, no key", layer: true, opts: {} },
  { name: "layer, key, control frames authenticated", layer: true, opts: { key: KEY, auth: "control" } },
  { name: "layer, key, every frame authenticated", layer: true, opts: { key: KEY, auth: "all" } },
  { name: "classic CAN, header in the ID, no key", layer: true, opts: { ...ON_CAN }, inId: true },
  { name: "classic CAN, header in the ID, key, control", layer: true, opts: { key: KEY, auth: "control", ...ON_CAN }, inId: true },
  { name: "classic CAN, header in the ID, key, all", layer: true, opts: { key: KEY, auth: "all", ...ON_CAN }, inId: true },
];

/** Replays the demo traffic through the layers on the simulated network; counts what goes on the links. */
function bytesOf(traffic: TrafficFrame[], c: Config, loss = 0) {
  const clock = new VirtualClock();
  const out: { src: number; dst: number; frame: Uint8Array }[] = [];
  const net = new SimNetwork(clock, new Rng(3), { minLatency: 50, maxLatency: 2000, sendTap: (_t, src, dst, frame) => out.push({ src, dst, frame }) });
  const nodes = [...new Set(traffic.flatMap((t) => [t.src, t.dst]).filter((n) => n !== 0xff))].sort((a, b) => a - b);
  const ports = new Map<number, Transport>(nodes.map((n) => [n, net.attach(n)]));
  const senders = new Map<number, Transport>();
  let delivered = 0;
  const latencies: number[] = [];
  const sentAt = new Map<string, number[]>();
  for (const n of nodes) {
    let t: Transport = ports.get(n)!;
    if (loss) t = new FaultyTransport(t, { loss, seed: n, clock: vclock(clock) });
    if (c.layer) t = new LinkLayer(t, { peers: nodes, incarnation: n, clock: vclock(clock), ...c.opts });
    t.onFrame((src, f) => {
      delivered++;
      const k = `${src}>${n}:${Buffer.from(f).toString("hex")}`;
      const q = sentAt.get(k);
      if (q?.length) latencies.push(clock.now - q.shift()!);
    });
    senders.set(n, t);
  }
  clock.run(1_000_000); // hellos
  const helloFrames = out.length;
  out.length = 0;
  const t0 = clock.now;
  traffic.forEach((tr, i) => clock.at(t0 + i * 100, () => {
    for (const d of tr.dst === 0xff ? nodes.filter((m) => m !== tr.src) : [tr.dst]) {
      const k = `${tr.src}>${d}:${Buffer.from(tr.frame).toString("hex")}`;
      (sentAt.get(k) ?? sentAt.set(k, []).get(k)!).push(clock.now);
    }
    senders.get(tr.src)!.send(tr.dst, tr.frame);
  }));
  clock.run(t0 + traffic.length * 100 + 600e6);
  const end = Math.max(...[...sentAt.values()].flat(), t0);
  let serial = 0, canFrames = 0, bits = 0, bytes = 0;
  for (const o of out) {
    bytes += o.frame.length;
    serial += serialBytes(o.frame, o.dst);
    const x = can(o.frame, o.src, o.dst, c.inId);
    canFrames += x.frames; bits += x.bits;
  }
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  return { frames: out.length, bytes, serial, canFrames, bits, helloFrames, delivered, p50: q(0.5), p99: q(0.99), spanUs: clock.now - t0, end };
}

/**
 * A synchronous serial loopback (FrameLink encode -> push) between nodes 1 and 2. Time is
 * virtual and stands still between flushes; flush() runs the timers set, earliest first,
 * moving the time to each (so a delayed acknowledgement goes out at flush, as it would once
 * its delay is over; the layer's timers never fire before their time).
 */
function loopback() {
  const links = [new FrameLink({ node: 1 }), new FrameLink({ node: 2 })];
  const handlers: ((src: number, f: Uint8Array) => void)[] = [() => {}, () => {}];
  const timers: { at: number; fn: () => void; live: boolean }[] = [];
  let now = 0;
  const clock: LayerClock = { now: () => now, after: (us, fn) => { const t = { at: now + us, fn, live: true }; timers.push(t); return () => { t.live = false; }; } };
  const mk = (i: number): Transport => ({
    node: i + 1,
    send: (dst, f) => { const w = links[i].encode(dst, f); links[1 - i].push(w, (src, t) => handlers[1 - i](src, t)); },
    onFrame: (h) => { handlers[i] = h; },
    stats: emptyStats, close: async () => {},
  });
  const flush = () => {
    while (timers.length) {
      let k = 0;
      for (let i = 1; i < timers.length; i++) if (timers[i].at < timers[k].at) k = i;
      const [t] = timers.splice(k, 1);
      now = Math.max(now, t.at);
      if (t.live) t.fn();
    }
  };
  return { a: mk(0), b: mk(1), clock, flush };
}

export function benchLayer(traffic: TrafficFrame[], quick = false): string[] {
  const lines: string[] = [];
  const app = traffic.filter((t) => t.kind === "app");
  const ctl = traffic.filter((t) => t.kind !== "app");
  lines.push(`link layer (host/transport/reliable.ts) on the demo's ${traffic.length} messages (${app.length} app, ${ctl.length} protocol; ${traffic.filter((t) => t.dst === 0xff).length} broadcast), 3 boards, sent 100 µs apart:`);
  lines.push(`  ${"configuration".padEnd(42)} ${"frames".padStart(7)} ${"bytes".padStart(8)} ${"B/msg".padStart(6)} ${"serial wire".padStart(11)} ${"CAN frames".padStart(10)} ${"CAN bits".padStart(9)}  vs today`);
  let base: ReturnType<typeof bytesOf> | undefined;
  for (const c of CONFIGS) {
    const r = bytesOf(traffic, c);
    base ??= r;
    const pct = (x: number, y: number) => `${x >= y ? "+" : ""}${(100 * (x - y) / y).toFixed(1)}%`;
    const ser = c.inId ? "serial -" : `serial ${pct(r.serial, base.serial)}`;
    lines.push(`  ${c.name.padEnd(42)} ${String(r.frames).padStart(7)} ${String(r.bytes).padStart(8)} ${(r.bytes / traffic.length).toFixed(2).padStart(6)} ${String(c.inId ? "-" : r.serial).padStart(11)} ${String(r.canFrames).padStart(10)} ${String(r.bits).padStart(9)}  ${ser}, CAN bits ${pct(r.bits, base.bits)}${c.layer ? `; ${r.helloFrames} hello frames at start` : ""}`);
  }
  lines.push("  (\"classic CAN, header in the ID\": the layer as a classic CAN link runs it, acknowledgements alone and a window of 16; a data frame's");
  lines.push("  marker, tag and sequence number ride in the CAN identifier and transfer-ID: no byte added to it; bytes and frames count the layer's frames before that)");
  lines.push("  header per data frame as bytes (serial, CAN FD and compact): 4 bytes (marker+flags, incarnation tag, seq, ack) without a key; with a key, 4 on an unauthenticated app frame (seq, after),");
  lines.push("  14 on an authenticated one in \"control\" mode (seq, after, 2 acks, 8-byte MAC), 12 in \"all\" mode (seq, ack, MAC); broadcasts go once per peer board.");

  // goodput and delivery latency under loss (virtual time: the simulated network's 50..2000 µs latency, no bandwidth limit)
  lines.push("");
  lines.push("delivery under frame loss, both ways (the layer with a key, control frames authenticated; simulated network, 50..2000 µs latency, virtual time):");
  lines.push("  goodput = application bytes delivered per bit on the link, against the same at 0% loss; latency from send to delivery");
  const appBytes = (r: ReturnType<typeof bytesOf>, d: number) => r.delivered * (app.reduce((n, t) => n + t.frame.length, 0) / app.length) / d;
  for (const [link, c] of [["serial", CONFIGS[2]], ["classic CAN", CONFIGS[5]]] as const) {
    const free = bytesOf(traffic, c, 0);
    const wire = (r: ReturnType<typeof bytesOf>) => (link === "serial" ? r.serial * 10 : r.bits);
    const g0 = appBytes(free, wire(free));
    for (const loss of quick ? [0, 0.05] : [0, 0.01, 0.05, 0.2]) {
      const r = bytesOf(traffic, c, loss);
      lines.push(`  ${link.padEnd(11)} loss ${String(loss * 100).padStart(2)}%: delivered ${r.delivered} of ${free.delivered}, goodput ${(100 * appBytes(r, wire(r)) / g0).toFixed(1)}% of loss-free, latency median ${(r.p50 / 1000).toFixed(2)} ms, p99 ${(r.p99 / 1000).toFixed(2)} ms, frames on the links ${r.frames} (${(r.frames / free.frames).toFixed(2)}x loss-free)`);
    }
  }
  lines.push("  (serial wire bits: 10 per byte, start and stop bits; CAN: bus bits of classic frames, stuffing at its worst case)");

  // CPU time: paired, interleaved
  const rounds = quick ? 6 : 30, batch = quick ? 300 : 2000;
  const frames = Array.from({ length: batch }, (_, i) => app[i % app.length].frame);
  const setups = [
    { name: "without the layer", opts: null },
    { name: "layer, no key", opts: {} },
    { name: "layer, key, app unauthenticated", opts: { key: KEY, auth: "control" as const } },
    { name: "layer, key, app authenticated", opts: { key: KEY, auth: "all" as const } },
  ].map((s) => {
    const lb = loopback();
    let got = 0;
    let send: (f: Uint8Array) => void;
    if (!s.opts) { lb.b.onFrame(() => got++); send = (f) => lb.a.send(2, f); }
    else {
      const a = new LinkLayer(lb.a, { peers: [1, 2], incarnation: 1, clock: lb.clock, window: 64, ...s.opts });
      const b = new LinkLayer(lb.b, { peers: [1, 2], incarnation: 2, clock: lb.clock, window: 64, ...s.opts });
      b.onFrame(() => got++);
      lb.flush();
      if (!a.ready() || !b.ready()) throw new Error(`bench: ${s.name}: no session`);
      send = (f) => a.send(2, f);
    }
    return { name: s.name, run: () => {
      const g0 = got;
      const t0 = performance.now();
      for (let i = 0; i < frames.length; i++) { send(frames[i]); if (i % 32 === 31) lb.flush(); }
      lb.flush();
      const dt = performance.now() - t0;
      if (got - g0 !== frames.length) throw new Error(`bench: ${s.name}: ${got - g0} of ${frames.length} delivered`);
      return dt;
    } };
  });
  for (const s of setups) s.run(); // warm up
  const t: number[][] = setups.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < setups.length; k++) { const i = (k + r) % setups.length; t[i].push(setups[i].run()); }
  }
  const med = (a: number[]) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
  const ratio = (i: number, j: number) => { const rs = t[i].map((x, k) => x / t[j][k]).sort((x, y) => x - y); return `${med(rs).toFixed(2)}x (p10 ${rs[Math.floor(rs.length * 0.1)].toFixed(2)}, p90 ${rs[Math.floor(rs.length * 0.9)].toFixed(2)})`; };
  lines.push("");
  lines.push(`CPU time per app frame, sender and receiver together, over the serial framing (${rounds} interleaved rounds of ${batch} demo app frames):`);
  setups.forEach((s, i) => lines.push(`  ${s.name.padEnd(34)} ${(med(t[i]) * 1000 / batch).toFixed(2).padStart(7)} µs`));
  lines.push(`  paired ratios: layer / no layer ${ratio(1, 0)}; authenticated / unauthenticated app frames ${ratio(3, 2)}; key (control) / no key ${ratio(2, 1)}`);

  // The MAC: the layer's, computed into the frame (auth.ts LinkAuthenticator, hmac.ts), against
  // node:crypto's HMAC (auth.ts linkMac, the reference), over the same demo app frames, paired
  const auth = new LinkAuthenticator(KEY);
  const ctr = [0, 0, 0, 0];
  const macRuns = [
    () => { for (let i = 0; i < frames.length; i++) { const f = frames[i], out = new Uint8Array(f.length + MAC_BYTES); out.set(f); ctr[0] = i; auth.sign(1, 2, 1, 2, ctr, 3, out, f.length); } },
    () => { for (let i = 0; i < frames.length; i++) { const f = frames[i]; ctr[0] = i; linkMac(KEY, { src: 1, dst: 2, incSrc: 1, incDst: 2, counters: ctr.slice(0, 3) }, f); } },
  ];
  const mt: number[][] = [[], []];
  for (const m of macRuns) m();
  for (let r = 0; r < rounds; r++) for (let k = 0; k < 2; k++) { const i = (k + r) % 2; const t0 = performance.now(); macRuns[i](); mt[i].push(performance.now() - t0); }
  const mr = mt[1].map((x, k) => x / mt[0][k]).sort((x, y) => x - y);
  lines.push(`MAC per app frame (${rounds} interleaved rounds of ${batch}): in the frame, plain JavaScript ${(med(mt[0]) * 1000 / batch).toFixed(2)} µs; ` +
    `node:crypto createHmac ${(med(mt[1]) * 1000 / batch).toFixed(2)} µs; node:crypto / in the frame, paired: min ${mr[0].toFixed(2)}x, median ${med(mr).toFixed(2)}x, max ${mr[mr.length - 1].toFixed(2)}x`);
  return lines;
}
