// Fuzz harness for every decoder in the repo (test/fuzz.test.ts runs it at CI
// size, scripts/fuzz.ts at 10^6+). Deterministic: same seed, same inputs.
// Each target feeds valid inputs, mutated ones (bit flips, truncation,
// duplication, reordering, garbage, oversized) and random ones, and checks:
//  - no exception other than the decoder's documented error type;
//  - every drop is counted with a reason (accounting identities per decoder);
//  - bounded memory (internal buffers never exceed their maximum);
//  - no corrupted serial transfer is ever delivered (CRC oracle), no CAN transfer
//    that was never put on the bus, no image or telecommand that was never signed
//    (or, for telecommands, signed but replayed);
//  - clean inputs are accepted and decode to what was encoded (CCSDS, telemetry,
//    ground station, signed images, telecommand guard).
// Decoders covered: serial framing (WireDecoder + FrameLink), Core#decodeHeader,
// runtime decodeFrame, Cyphal/CAN reassembly, SLCAN line parser, can-utils frame
// syntax and candump log lines, board-management telecommands and the upload
// receiver, CCSDS space packets (PacketDecoder, decodePrimaryHeader, decodeTime),
// the telemetry dictionary (decodeTelemetry), the ground station (GroundStation),
// signed images (verifyImage), the telecommand guard's signature path
// (TelecommandGuard#check) and CanTransport end to end over MockCanBus.
// A new decoder gets a target here.
//
// An input that hits a bug already reported goes to the report's `known` (by
// bug name, see KNOWN_BUGS in test/fuzz.test.ts) instead of `problems`, so the
// rest of the target keeps guarding against regressions.
import { isBundled } from "../host/transport/can/bundle.ts";
import { Rng } from "../host/sim/rng.ts";
import { FrameLink } from "../host/transport/framing/link.ts";
import { CTL_SINGLE, encodeWireFrame } from "../host/transport/framing/envelope.ts";
import { BROADCAST } from "../host/transport/types.ts";
import { Core, CoreError } from "../host/core/core.ts";
import { HK_NAME } from "../host/core/abi.ts";
import type { Header } from "../host/core/types.ts";
import { decodeFrame, FrameError } from "../host/runtime/frame.ts";
import { CyphalDecoder, DROP_REASONS, encodeTransfer, type CanFrame } from "../host/transport/can/cyphal.ts";
import { SlcanParser, SLCAN_MAX_LINE, encodeFrame as slcanEncode } from "../host/transport/can/slcan.ts";
import { parseCanFrame, formatCanFrame } from "../host/transport/can/canutils.ts";
import { parseLogLine, formatLogLine } from "../host/transport/can/candump-log.ts";
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { M, MgmtError, frame as mgmtFrame } from "../host/board/mgmt.ts";
import { OP, decodeTelecommand, encodeTelecommand } from "../host/board/telecommand.ts";
import { UploadReceiver, chunkFrame, imageId } from "../host/board/upload.ts";
import {
  PacketDecoder, decodePrimaryHeader, decodeTime, encodePacket, encodePrimaryHeader, idlePacket, CcsdsError,
  IDLE_APID, PRIMARY_HEADER_BYTES, TIME_BYTES, SEQ_UNSEGMENTED, type PacketEvent, type DecodedPacket,
} from "../host/telemetry/ccsds.ts";
import { DecodeError, TelemetryEncoder, decodeTelemetry, loadDictionary, type Dictionary, type Value, type TelemetryRecord } from "../host/telemetry/dictionary.ts";
import { GroundStation, type GroundRecord } from "../host/telemetry/ground.ts";
import { encodeImage, signImage, verifyImage, canonicalJson, IMAGE_PREFIX, type ImageHeader } from "../host/board/image.ts";
import { TelecommandGuard, type Telecommand } from "../host/board/telecommand.ts";
import { manifestPath, wasmPath } from "../host/component/demo.ts";
import { readFileSync, existsSync } from "node:fs";
import { MockCanNetwork, type CanBus } from "../host/transport/can/bus.ts";
import { CanTransport } from "../host/transport/can/transport.ts";
import { crc16, makeMessageId, subjectFor, TAIL_SOT, TAIL_EOT, type DecodeResult } from "../host/transport/can/cyphal.ts";
import type { Transport } from "../host/transport/types.ts";

export interface TargetReport {
  name: string;
  inputs: number;
  accepted: number;
  /** Drop / rejection histogram by reason. */
  reasons: Record<string, number>;
  /** Invariant violations (empty when all is well). */
  problems: string[];
  maxBuffered: number;
  bufferLimit: number;
  /** Inputs that hit an already reported bug, by bug name: how many, and the first one. */
  known?: Record<string, { hits: number; example: string }>;
}

const inc = (r: Record<string, number>, k: string, n = 1) => { r[k] = (r[k] ?? 0) + n; };
const bytes = (rng: Rng, n: number) => { const b = new Uint8Array(n); for (let i = 0; i < n; i++) b[i] = rng.int(0, 255); return b; };
const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.length).toString("hex");

/** One mutation of a byte string; returns the operator's name too. */
export function mutate(rng: Rng, b: Uint8Array): [string, Uint8Array] {
  const out = Uint8Array.from(b);
  switch (rng.int(0, 7)) {
    case 0: { const n = rng.int(1, 3); for (let i = 0; i < n && out.length; i++) out[rng.int(0, out.length - 1)] ^= 1 << rng.int(0, 7); return ["bitflip", out]; }
    case 1: return ["truncate", out.subarray(0, rng.int(0, Math.max(0, out.length - 1)))];
    case 2: { const a = rng.int(0, out.length), z = rng.int(a, out.length); return ["duplicate", Buffer.concat([out.subarray(0, z), out.subarray(a, z), out.subarray(z)])]; }
    case 3: { const a = rng.int(0, out.length), z = rng.int(a, out.length); return ["reorder", Buffer.concat([out.subarray(z), out.subarray(a, z), out.subarray(0, a)])]; }
    case 4: { const at = rng.int(0, out.length); return ["garbage", Buffer.concat([out.subarray(0, at), bytes(rng, rng.int(1, 40)), out.subarray(at)])]; }
    case 5: { const at = rng.int(0, out.length); return ["delete", Buffer.concat([out.subarray(0, at), out.subarray(Math.min(out.length, at + rng.int(1, 8)))])]; }
    case 6: { for (let i = 0; i < out.length; i++) if (rng.next() < 0.02) out[i] = rng.int(0, 255); return ["scramble", out]; }
    default: return ["random", bytes(rng, rng.int(0, 64))];
  }
}

function guard(rep: TargetReport, what: string, f: () => void, ok: (e: unknown) => string | null): void {
  try { f(); } catch (e) {
    const reason = ok(e);
    if (reason === null) {
      if (rep.problems.length < 20) rep.problems.push(`${what}: unexpected ${(e as Error)?.name}: ${(e as Error)?.message}`);
    } else inc(rep.reasons, reason);
  }
}

// ---- serial framing ---------------------------------------------------------------

export function fuzzSerial(n: number, seed: number): TargetReport {
  const rng = new Rng(seed);
  const rep: TargetReport = { name: "serial framing (WireDecoder + FrameLink)", inputs: 0, accepted: 0, reasons: {}, problems: [], maxBuffered: 0, bufferLimit: 0 };
  const opts = { node: 2, peers: [1, 3], maxFragment: 64, maxTransfer: 1024, maxPending: 4 };
  const rx = new FrameLink(opts);
  const senders = [new FrameLink({ ...opts, node: 1 }), new FrameLink({ ...opts, node: 3 }), new FrameLink({ ...opts, node: 9 })];
  const sent = new Set<string>();
  let segments = 0;       // non-empty 0x00-terminated runs fed (each must give one wire event)
  let run = 0;
  const limit = rx.decoder.capacity;
  const reassemblyLimit = opts.maxPending * (opts.maxTransfer + 4);
  rep.bufferLimit = limit;
  const feed = (b: Uint8Array) => {
    let off = 0;
    while (off < b.length) {
      const k = Math.min(b.length - off, rng.int(1, 300));
      const chunk = b.subarray(off, off + k);
      for (const x of chunk) { if (x === 0) { if (run > 0) segments++; run = 0; } else run++; }
      guard(rep, "FrameLink.push", () => rx.push(chunk, (src, t) => {
        rep.accepted++;
        if (!sent.has(`${src}:${hex(t)}`)) rep.problems.length < 20 && rep.problems.push(`delivered a transfer never sent: src ${src}, ${t.length} bytes`);
      }), () => null);
      off += k;
      rep.maxBuffered = Math.max(rep.maxBuffered, rx.decoder.buffered);
      if (rx.decoder.buffered > limit) rep.problems.push(`decoder holds ${rx.decoder.buffered} > ${limit}`);
      if (rx.reassemblyBytes > reassemblyLimit) rep.problems.push(`reassembly holds ${rx.reassemblyBytes} > ${reassemblyLimit}`);
    }
  };
  const transfer = () => {
    const s = senders[rng.int(0, senders.length - 1)];
    const size = rng.next() < 0.7 ? rng.int(0, 64) : rng.int(65, 1100);
    const t = bytes(rng, size);
    if (rng.next() < 0.3) t.fill(0, 0, rng.int(0, size)); // zero runs exercise COBS
    const dst = [2, 2, BROADCAST, 7][rng.int(0, 3)];
    if (size <= opts.maxTransfer) sent.add(`${s.opts.node}:${hex(t)}`);
    return size <= opts.maxTransfer ? s.encode(dst, t) : encodeWireFrame({ dst, src: s.opts.node, ctl: CTL_SINGLE, payload: t }); // oversized
  };
  for (let i = 0; i < n; i++) {
    rep.inputs++;
    const kind = rng.int(0, 9);
    if (kind < 3) feed(transfer());
    else if (kind < 9) {
      // a burst of frames, then mutated as one byte string (frame-level dup/reorder included)
      const frames = Array.from({ length: rng.int(1, 4) }, transfer);
      if (rng.next() < 0.3) frames.push(frames[rng.int(0, frames.length - 1)]);           // duplicated frame
      if (rng.next() < 0.3) frames.reverse();                                              // reordered frames
      const [op, m] = mutate(rng, Buffer.concat(frames));
      inc(rep.reasons, `mutation:${op}`, 0);
      feed(m);
    } else feed(bytes(rng, rng.int(1, 2000)));                                             // pure noise
  }
  feed(Uint8Array.of(0)); // close the last frame
  // accounting: every delimited run produced exactly one wire event
  const d = rx.decoder;
  const wireDrops = Object.values(d.drops).reduce((a, b) => a + b, 0);
  if (d.frames + wireDrops !== segments) rep.problems.push(`wire events ${d.frames}+${wireDrops} != delimited frames ${segments}`);
  for (const [k, v] of Object.entries(rx.dropped)) inc(rep.reasons, k, v);
  for (const k of Object.keys(rep.reasons)) if (k.startsWith("mutation:")) delete rep.reasons[k];
  inc(rep.reasons, "wire-frames-ok", d.frames);
  return rep;
}

// ---- core header and runtime frame ------------------------------------------------

function headerInputs(rng: Rng, core: Core): Uint8Array {
  const kind = HK_NAME[rng.int(0, HK_NAME.length - 1)];
  const big = () => (rng.next() < 0.5 ? rng.int(0, 300) : rng.int(0, 0xffffffff));
  const h: Header = { kind, dirty: kind === "app" ? rng.int(0, 1) : 0, index: big(), epoch: rng.int(0, 15), aux: big() };
  // the bounds' vector form (docs/wire.md "Vectors"), over up to 16 member slots
  if ((kind === "passedAt" || kind === "bound" || kind === "apply") && rng.next() < 0.4) {
    const vec = () => Array.from({ length: rng.int(2, 16) }, () => (rng.next() < 0.5 ? 0 : big()));
    h.P = vec(); h.Q = vec(); h.P[1] = h.P[1] || 1;
  }
  const enc = core.encodeHeader(h);
  const body = bytes(rng, rng.int(0, 40));
  const valid = Buffer.concat([enc, body]);
  const r = rng.int(0, 9);
  if (r < 2) return valid;
  if (r < 9) return mutate(rng, valid)[1];
  return bytes(rng, rng.int(0, 20));
}

export function fuzzCoreHeader(n: number, seed: number): TargetReport[] {
  const rng = new Rng(seed);
  const core = new Core({ procs: 2 });
  // A header is at most 16 bytes, or HDR_VEC_MAX in the bounds' vector form (docs/wire.md "Vectors":
  // byte 0, two masks of at most 3 bytes, 2 x 16 components of at most 5 bytes).
  const HDR_VEC_MAX = 1 + 2 * (3 + 16 * 5);
  const hdr: TargetReport = { name: "core header (Core#decodeHeader)", inputs: 0, accepted: 0, reasons: {}, problems: [], maxBuffered: 0, bufferLimit: HDR_VEC_MAX };
  const frm: TargetReport = { name: "runtime frame (decodeFrame)", inputs: 0, accepted: 0, reasons: {}, problems: [], maxBuffered: 0, bufferLimit: HDR_VEC_MAX };
  for (let i = 0; i < n; i++) {
    const input = headerInputs(rng, core);
    hdr.inputs++;
    guard(hdr, "decodeHeader", () => {
      const h = core.decodeHeader(input);
      hdr.accepted++;
      const limit = (h.P || h.Q) ? HDR_VEC_MAX : 16;
      if (!(h.length >= 1 && h.length <= Math.min(limit, input.length))) hdr.problems.push(`decodeHeader length ${h.length} for ${input.length} bytes`);
      hdr.maxBuffered = Math.max(hdr.maxBuffered, h.length);
    }, (e) => (e instanceof CoreError ? e.code : null));
    frm.inputs++;
    guard(frm, "decodeFrame", () => {
      const { header, body, bound } = decodeFrame(core, input);
      frm.accepted++;
      const h = input.length - body.length;
      if (bound) {
        // a passed-AT bound riding (route.ts): the bound is a whole passedAt header inside the
        // frame, and the payload stays the frame's tail
        const tail = input.subarray(input.length - (body.length - 2));
        if (bound.length < 3 || bound[0] >> 5 !== 1 || body.length < 2 || Buffer.compare(Buffer.from(body.subarray(2)), Buffer.from(tail)) !== 0) frm.problems.push(`decodeFrame with a bound: ${bound.length}-byte bound, payload not the frame's tail (${body.length} of ${input.length})`);
      } else if (header.vec) {
        // the vector form: route and payload handed on without the components in between
        const tail = input.subarray(input.length - (body.length - 2));
        if (body.length < 2 || Buffer.compare(Buffer.from(body.subarray(2)), Buffer.from(tail)) !== 0) frm.problems.push(`decodeFrame vector form: payload not the frame's tail (${body.length} of ${input.length})`);
      } else if (!(h >= 1 && h <= (header.P || header.Q ? HDR_VEC_MAX : 16)) || body.byteOffset - input.byteOffset !== h) frm.problems.push(`decodeFrame split ${h}+${body.length} of ${input.length}`);
    }, (e) => (e instanceof FrameError ? (e.message.match(/: (E_[A-Z_]+) on/)?.[1] ?? "FrameError") : null));
  }
  return [hdr, frm];
}

// ---- Cyphal/CAN -------------------------------------------------------------------

export function fuzzCyphal(n: number, seed: number): TargetReport {
  const rng = new Rng(seed);
  const rep: TargetReport = { name: "Cyphal/CAN reassembly (CyphalDecoder)", inputs: 0, accepted: 0, reasons: {}, problems: [], maxBuffered: 0, bufferLimit: 0 };
  const maxTransfer = 512;
  const dec = new CyphalDecoder({ self: 5, knownNodes: [1, 2, 3, 4], maxTransfer, transferIdTimeout: 2_000_000 });
  rep.bufferLimit = maxTransfer + 2; // per session (sessions: at most 128 sources x subjects)
  let now = 0;
  let drops = 0;
  const tids = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  const mutateFrame = (f: CanFrame): CanFrame => {
    const g = { ...f, data: Uint8Array.from(f.data) };
    switch (rng.int(0, 5)) {
      case 0: if (g.data.length) g.data[rng.int(0, g.data.length - 1)] ^= 1 << rng.int(0, 7); break;
      case 1: g.id ^= 1 << rng.int(0, 28); break;
      case 2: g.data = g.data.subarray(0, rng.int(0, g.data.length)); break;
      case 3: g.ext = !g.ext; break;
      case 4: g.rtr = !g.rtr; break;
      default: g.data = bytes(rng, rng.int(0, 9)); // 9: beyond classic CAN
    }
    return g;
  };
  for (let i = 0; i < n; i++) {
    rep.inputs++;
    const src = rng.int(1, 6);
    const size = rng.next() < 0.6 ? rng.int(0, 7) : rng.int(8, 600);
    let frames: CanFrame[];
    try {
      frames = encodeTransfer(bytes(rng, size), { subject: 4096 + rng.int(0, 3), source: src, transferId: tids[src]++, maxTransfer: 600 });
    } catch (e) {
      rep.problems.push(`encodeTransfer threw ${(e as Error).message}`);
      continue;
    }
    const r = rng.int(0, 9);
    if (r >= 3) {
      if (rng.next() < 0.3 && frames.length) frames.splice(rng.int(0, frames.length - 1), 1);                        // lost
      if (rng.next() < 0.3 && frames.length) { const k = rng.int(0, frames.length - 1); frames.splice(k, 0, frames[k]); } // duplicated
      if (rng.next() < 0.3 && frames.length > 1) { const a = rng.int(0, frames.length - 1), b = rng.int(0, frames.length - 1); [frames[a], frames[b]] = [frames[b], frames[a]]; }
      if (rng.next() < 0.5) frames = frames.map((f) => (rng.next() < 0.2 ? mutateFrame(f) : f));
      if (rng.next() < 0.1) frames.push({ id: rng.int(0, 0x1fffffff), ext: rng.next() < 0.8, rtr: rng.next() < 0.1, data: bytes(rng, rng.int(0, 8)) });
    }
    for (const f of frames) {
      now += rng.next() < 0.01 ? 3_000_000 : rng.int(1, 500);
      guard(rep, "CyphalDecoder.push", () => {
        const res = dec.push(f, now);
        if (res.kind === "transfer") rep.accepted++;
        else if (res.kind === "drop") {
          drops++;
          if (!(DROP_REASONS as readonly string[]).includes(res.reason)) rep.problems.push(`unknown drop reason ${res.reason}`);
        } else if (res.kind === "ignored") inc(rep.reasons, "ignored");
      }, () => null);
    }
    if (rng.next() < 0.01) dec.expire(now);
    const sessions = (dec as unknown as { sessions: Map<number, { partial?: { size: number } }> }).sessions;
    let held = 0;
    for (const s of sessions.values()) if (s.partial) { held = Math.max(held, s.partial.size); if (s.partial.size > maxTransfer + 2) rep.problems.push(`partial of ${s.partial.size} bytes > ${maxTransfer + 2}`); }
    rep.maxBuffered = Math.max(rep.maxBuffered, held);
  }
  for (const [k, v] of Object.entries(dec.dropped)) inc(rep.reasons, k, v);
  // accounting: returned drops + silently counted ones (interrupted, expire timeouts) == counters
  const counted = Object.values(dec.dropped).reduce((a, b) => a + b, 0);
  const silent = (dec.dropped.interrupted ?? 0);
  if (counted < drops || counted - drops - silent < 0) rep.problems.push(`drop accounting: returned ${drops}, counted ${counted}`);
  return rep;
}

// ---- SLCAN, can-utils syntax, candump logs ----------------------------------------

export function fuzzSlcan(n: number, seed: number): TargetReport {
  const rng = new Rng(seed);
  const rep: TargetReport = { name: "SLCAN stream (SlcanParser)", inputs: 0, accepted: 0, reasons: {}, problems: [], maxBuffered: 0, bufferLimit: SLCAN_MAX_LINE + 1 };
  const p = new SlcanParser();
  let garbageEvents = 0, errorEvents = 0;
  const line = (): string => {
    const r = rng.int(0, 9);
    if (r === 0) return "\x07";
    if (r === 1) return ["\r", "z\r", "Z\r", "V1013\r", "N0001\r"][rng.int(0, 4)];
    const ext = rng.next() < 0.6, rtr = rng.next() < 0.1;
    return slcanEncode({ id: rng.int(0, ext ? 0x1fffffff : 0x7ff), ext, rtr, data: rtr ? new Uint8Array(0) : bytes(rng, rng.int(0, 8)), dlc: rtr ? rng.int(0, 8) : undefined }) + (rng.next() < 0.5 ? "" : "\r");
  };
  for (let i = 0; i < n; i++) {
    rep.inputs++;
    let s = Buffer.from(Array.from({ length: rng.int(1, 4) }, line).join("").replace(/([^\r\x07])$/, "$1\r"), "latin1");
    if (rng.next() < 0.7) s = Buffer.from(mutate(rng, s)[1]);
    guard(rep, "SlcanParser.push", () => {
      for (const ev of p.push(s)) {
        if (ev.type === "frame") rep.accepted++;
        else if (ev.type === "garbage") { garbageEvents++; inc(rep.reasons, `garbage: ${ev.reason.replace(/ DLC \d/, " DLC")}`); }
        else if (ev.type === "error") { errorEvents++; inc(rep.reasons, "BEL"); }
      }
    }, () => null);
    const held = (p as unknown as { buf: string }).buf.length;
    rep.maxBuffered = Math.max(rep.maxBuffered, held);
    if (held > SLCAN_MAX_LINE + 1) rep.problems.push(`SLCAN parser holds ${held} chars`);
  }
  if (p.garbage !== garbageEvents) rep.problems.push(`garbage counter ${p.garbage} != events ${garbageEvents}`);
  if (p.errors !== errorEvents) rep.problems.push(`error counter ${p.errors} != events ${errorEvents}`);
  return rep;
}

export function fuzzCanText(n: number, seed: number): TargetReport {
  const rng = new Rng(seed);
  const rep: TargetReport = { name: "can-utils frame syntax and candump log lines", inputs: 0, accepted: 0, reasons: {}, problems: [], maxBuffered: 0, bufferLimit: 0 };
  for (let i = 0; i < n; i++) {
    rep.inputs++;
    const ext = rng.next() < 0.5, rtr = rng.next() < 0.1;
    const f: CanFrame = { id: rng.int(0, ext ? 0x1fffffff : 0x7ff), ext, rtr, data: rtr ? new Uint8Array(0) : bytes(rng, rng.int(0, 8)) };
    let text = formatCanFrame(f, rng.next() < 0.3);
    const log = rng.next() < 0.5;
    if (log) text = formatLogLine(rng.int(0, 2e15), "can0", f);
    if (rng.next() < 0.8) text = Buffer.from(mutate(rng, Buffer.from(text, "latin1"))[1]).toString("latin1");
    if (log) guard(rep, "parseLogLine", () => { parseLogLine(text); rep.accepted++; }, (e) => (e instanceof Error && e.constructor === Error && /^candump log:|bad CAN frame/.test(e.message) ? "log: rejected" : null));
    else guard(rep, "parseCanFrame", () => { parseCanFrame(text); rep.accepted++; }, (e) => (e instanceof Error && e.constructor === Error && /^bad CAN frame/.test(e.message) ? "frame: rejected" : null));
  }
  return rep;
}

// ---- board management: telecommands and uploads -----------------------------------

export function fuzzMgmt(n: number, seed: number): TargetReport[] {
  const rng = new Rng(seed);
  const tc: TargetReport = { name: "telecommand (decodeTelecommand)", inputs: 0, accepted: 0, reasons: {}, problems: [], maxBuffered: 0, bufferLimit: 0 };
  // its "buffer" is the .part files it keeps on disk; a few images' worth is the bound
  const up: TargetReport = { name: "upload receiver (UploadReceiver#onFrame)", inputs: 0, accepted: 0, reasons: {}, problems: [], maxBuffered: 0, bufferLimit: 2 };
  const { privateKey } = generateKeyPairSync("ed25519", { });
  const ops = Object.keys(OP) as Array<keyof typeof OP>;
  const valid = Array.from({ length: 16 }, (_, i) => encodeTelecommand({ op: ops[i % ops.length], seq: i, timeMs: 1700000000000 + i, args: i % 3 ? { component: "controller", version: `1.${i}.0` } : {}, keyId: i % 2 ? "ground" : "k", board: "b1" }, privateKey));
  for (let i = 0; i < n; i++) {
    tc.inputs++;
    const input = rng.next() < 0.1 ? valid[rng.int(0, valid.length - 1)] : mutate(rng, valid[rng.int(0, valid.length - 1)])[1];
    guard(tc, "decodeTelecommand", () => { decodeTelecommand(input); tc.accepted++; },
      (e) => (e instanceof MgmtError ? e.message.replace(/\d+/g, "N").replace(/^(telecommand: [^(]*).*$/, "$1").trim().slice(0, 60) : null));
  }
  // uploads: a few images, their QUERY/CHUNK/DONE frames, mutated
  const dir = mkdtempSync(join(tmpdir(), "gsu-fuzz-upload-"));
  try {
    const rx = new UploadReceiver(dir, 1 << 16, () => ({ ok: true, text: "staged" }));
    const images = Array.from({ length: 3 }, () => bytes(rng, rng.int(1, 3000)));
    const frames = images.flatMap((img) => {
      const id = imageId(img);
      const out = [mgmtFrame(M.QUERY, new Uint8Array([...id, 0, 0, 0, 0].map((v, k) => (k >= 32 ? (img.length >>> (8 * (k - 32))) & 0xff : v))))];
      for (let off = 0; off < img.length; off += 512) out.push(mgmtFrame(M.CHUNK, chunkFrame(id, off, img.subarray(off, off + 512)).subarray(2)));
      out.push(mgmtFrame(M.DONE, id));
      return out;
    });
    for (let i = 0; i < n; i++) {
      up.inputs++;
      const f = frames[rng.int(0, frames.length - 1)];
      const g = rng.next() < 0.3 ? f : Uint8Array.from(mutate(rng, f)[1]);
      if (g.length < 2) continue;
      guard(up, "UploadReceiver.onFrame", () => { rx.onFrame(g[1], g.subarray(2)); up.accepted++; }, () => null);
      if (i % 1000 === 0) up.maxBuffered = Math.max(up.maxBuffered, readdirSync(dir).length);
    }
    up.maxBuffered = Math.max(up.maxBuffered, readdirSync(dir).length);
    for (const [k, v] of Object.entries(rx.dropped)) inc(up.reasons, k, v);
    rx.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return [tc, up];
}

// ---- shared by the targets below --------------------------------------------------

/** Bugs the harness recognises (reported, not fixed): inputs hitting them go to TargetReport.known. */
export const BUG = {
  decodeTimeShort: "decodeTime reads past the end of a time code shorter than 6 octets",
  tcPrototypeKeyId: "TelecommandGuard#check throws on a key id naming an Object.prototype member",
  imageSigPadding: "verifyImage accepts a sig whose unused base64 bits are not zero",
} as const;

const newReport = (name: string, bufferLimit = 0): TargetReport => ({ name, inputs: 0, accepted: 0, reasons: {}, problems: [], maxBuffered: 0, bufferLimit });
const problem = (rep: TargetReport, msg: string) => { if (rep.problems.length < 20) rep.problems.push(msg); };
const knownHit = (rep: TargetReport, bug: string, example: string) => {
  rep.known ??= {};
  (rep.known[bug] ??= { hits: 0, example }).hits++;
};
/** A deterministic Ed25519 key pair (PKCS#8 with a seed from the run's generator), so a seed replays the same inputs. */
function ed25519(rng: Rng): { privateKey: KeyObject; publicKey: KeyObject } {
  const privateKey = createPrivateKey({ key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), bytes(rng, 32)]), format: "der", type: "pkcs8" });
  return { privateKey, publicKey: createPublicKey(privateKey) };
}
const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);
const errText = (e: unknown) => `${(e as Error)?.name}: ${(e as Error)?.message}`;

// ---- CCSDS space packets ----------------------------------------------------------

const CCSDS_REJECTS = ["version", "not-telemetry", "no-secondary-header", "segmented", "short", "oversized", "unknown-apid", "truncated", "desync"];

export function fuzzCcsds(n: number, seed: number): TargetReport[] {
  const rng = new Rng(seed);
  const maxPacket = 1024;
  const known = (apid: number) => apid % 7 !== 3;
  const dec = new PacketDecoder({ maxPacket, knownApid: known });
  const pk = newReport("CCSDS packets (PacketDecoder push/reset/frame)", maxPacket);
  const hd = newReport("CCSDS primary header (decodePrimaryHeader)", PRIMARY_HEADER_BYTES);
  const tm = newReport("CCSDS time code (decodeTime)", TIME_BYTES);
  const seen = { packets: 0, idle: 0, rejected: {} as Record<string, number> };
  let bytesIn = 0, bytesOut = 0, resetDiscarded = 0, resets = 0;

  /** A well-formed packet and the event a decoder must give for it. */
  const packet = (): [Uint8Array, string] => {
    if (rng.next() < 0.1) return [idlePacket(rng.int(1, 40)), "idle"];
    const size = rng.next() < 0.7 ? rng.int(0, 100) : rng.next() < 0.85 ? rng.int(100, 1000) : rng.int(1000, 1100);
    const type = rng.next() < 0.05 ? 1 : 0;
    const apid = rng.int(0, IDLE_APID - 1);
    const p = encodePacket({ apid, seqCount: rng.int(0, 16383), timeUs: rng.int(0, 0xffffffff) * 1e6 + rng.int(0, 999_999), data: bytes(rng, size), type });
    return [p, p.length > maxPacket ? "oversized" : type ? "not-telemetry" : known(apid) ? "packet" : "unknown-apid"];
  };
  const check = (evs: PacketEvent[]) => {
    for (const ev of evs) {
      bytesOut += ev.kind === "packet" ? ev.packet.raw.length : ev.bytes;
      if (ev.kind === "idle") { seen.idle++; if (ev.bytes < 7) problem(pk, `idle packet of ${ev.bytes} bytes`); continue; }
      if (ev.kind === "reject") {
        inc(seen.rejected, ev.reason);
        if (!CCSDS_REJECTS.includes(ev.reason)) problem(pk, `unknown reject reason ${ev.reason}`);
        continue;
      }
      seen.packets++;
      pk.accepted++;
      const { header: h, raw, data, timeUs } = ev.packet;
      const whyNot =
        raw.length !== PRIMARY_HEADER_BYTES + h.dataLength + 1 ? `raw of ${raw.length} bytes for data length ${h.dataLength}`
        : raw.length > maxPacket ? `packet of ${raw.length} > ${maxPacket} accepted`
        : !same(encodePrimaryHeader(h), raw.subarray(0, 6)) ? "header fields do not re-encode to the header octets"
        : h.version !== 0 || h.type !== 0 || !h.secondaryHeader || h.seqFlags !== SEQ_UNSEGMENTED || h.apid === IDLE_APID || !known(h.apid) ? `accepted a packet it must reject: ${JSON.stringify(h)}`
        : timeUs !== decodeTime(raw.subarray(6, 12)) ? "time does not match the secondary header"
        : !same(data, raw.subarray(12)) ? "data is not the rest of the packet" : null;
      if (whyNot) problem(pk, whyNot);
    }
  };
  const frameOf = (): [Uint8Array, string[]] => {
    const ps = Array.from({ length: rng.int(1, 4) }, packet);
    const kinds: string[] = [];
    for (const [, k] of ps) { kinds.push(k); if (k === "oversized") break; } // sync lost: the rest goes with it
    return [Buffer.concat(ps.map(([p]) => p)), kinds];
  };

  for (let i = 0; i < n; i++) {
    pk.inputs++;
    const [frame, kinds] = frameOf();
    const clean = rng.next() < 0.2;
    const input = clean ? frame : rng.next() < 0.05 ? bytes(rng, rng.int(0, 300)) : mutate(rng, frame)[1];
    if (rng.next() < 0.6) {
      // one link frame
      if (dec.buffered) { resets++; resetDiscarded += dec.buffered; } // frame() starts with reset()
      bytesIn += input.length;
      const before = bytesOut;
      let evs: PacketEvent[] = [];
      guard(pk, "PacketDecoder.frame", () => { evs = dec.frame(input); }, () => null);
      check(evs);
      if (bytesOut - before !== input.length) problem(pk, `frame of ${input.length} bytes gave events covering ${bytesOut - before}`);
      if (clean) {
        const got = evs.map((e) => (e.kind === "reject" ? e.reason : e.kind));
        if (got.join() !== kinds.join()) problem(pk, `clean frame: expected ${kinds.join(",")}, got ${got.join(",")}`);
      }
    } else {
      // a byte stream without link framing, in chunks; now and then a frame boundary
      let off = 0;
      while (off < input.length) {
        const chunk = input.subarray(off, off + rng.int(1, 200));
        off += chunk.length;
        bytesIn += chunk.length;
        guard(pk, "PacketDecoder.push", () => check(dec.push(chunk)), () => null);
        pk.maxBuffered = Math.max(pk.maxBuffered, dec.buffered);
      }
      const r = rng.next();
      if (r < 0.1) guard(pk, "PacketDecoder.end", () => check(dec.end()), () => null);
      else if (r < 0.15) { if (dec.buffered) { resets++; resetDiscarded += dec.buffered; } dec.reset(); }
    }
    pk.maxBuffered = Math.max(pk.maxBuffered, dec.buffered);

    // the header and time decoders on the same inputs (the time code of a short input is short)
    hd.inputs++;
    guard(hd, "decodePrimaryHeader", () => {
      const h = decodePrimaryHeader(input);
      hd.accepted++;
      if (!same(encodePrimaryHeader(h), input.subarray(0, 6))) problem(hd, `fields ${JSON.stringify(h)} do not re-encode to ${hex(input.subarray(0, 6))}`);
    }, (e) => (e instanceof CcsdsError ? `CcsdsError: ${e.field}` : null));
    tm.inputs++;
    const t = rng.next() < 0.3 ? input.subarray(6, 6 + rng.int(0, 5)) : input.subarray(6, 12);
    if (t.length >= TIME_BYTES) {
      guard(tm, "decodeTime", () => {
        const us = decodeTime(t);
        tm.accepted++;
        const want = (((t[0] << 24) | (t[1] << 16) | (t[2] << 8) | t[3]) >>> 0) * 1e6 + Math.round((((t[4] << 8) | t[5]) * 1e6) / 65536);
        if (us !== want) problem(tm, `decodeTime(${hex(t)}) = ${us}, expected ${want}`);
      }, () => null);
    } else {
      // Too short: the only right answer is a CcsdsError. Today decodeTime reads the
      // bytes after its argument (or throws RangeError when there are none): KNOWN BUG.
      try {
        const us = decodeTime(t);
        knownHit(tm, BUG.decodeTimeShort, `decodeTime(${t.length} octets ${hex(t)}) = ${us}`);
        inc(tm.reasons, "short: not refused (KNOWN BUG)");
      } catch (e) {
        if (e instanceof CcsdsError) inc(tm.reasons, `CcsdsError: ${e.field}`);
        else { knownHit(tm, BUG.decodeTimeShort, `decodeTime(${t.length} octets ${hex(t)}) threw ${errText(e)}`); inc(tm.reasons, "short: not refused (KNOWN BUG)"); }
      }
    }
  }
  guard(pk, "PacketDecoder.end", () => check(dec.end()), () => null);
  // accounting: counters match the events, and every byte in is in an event or was discarded by reset()
  if (dec.counts.packets !== seen.packets || dec.counts.idle !== seen.idle) problem(pk, `counts ${JSON.stringify(dec.counts)} != events ${JSON.stringify(seen)}`);
  for (const r of new Set([...Object.keys(dec.counts.rejected), ...Object.keys(seen.rejected)])) {
    if (dec.counts.rejected[r] !== seen.rejected[r]) problem(pk, `rejected.${r}: counted ${dec.counts.rejected[r]}, events ${seen.rejected[r]}`);
  }
  if (bytesIn !== bytesOut + resetDiscarded) problem(pk, `bytes in ${bytesIn} != in events ${bytesOut} + discarded by reset ${resetDiscarded}`);
  for (const [k, v] of Object.entries(dec.counts.rejected)) inc(pk.reasons, k, v);
  if (resets) inc(pk.reasons, "partial packet discarded by reset() (caller's boundary)", resets);
  inc(pk.reasons, "idle", dec.counts.idle);
  return [pk, hd, tm];
}

// ---- telemetry dictionary and ground station --------------------------------------

const TEXT = "abcxyzABC_-.09 é€😀";
function randomText(rng: Rng, maxBytes: number): string {
  let s = "";
  const k = rng.int(0, Math.min(12, Math.floor(maxBytes / 4)));
  for (let i = 0; i < k; i++) s += [...TEXT][rng.int(0, [...TEXT].length - 1)];
  return s;
}

function randomValue(d: Dictionary, type: string, rng: Rng, maxBytes = 255): Value {
  switch (type) {
    case "U8": return rng.int(0, 0xff);
    case "U16": return rng.int(0, 0xffff);
    case "U32": return rng.next() < 0.2 ? 0xffffffff : rng.int(0, 0xffffffff);
    case "I32": return rng.int(-0x80000000, 0x7fffffff);
    case "F64": return (rng.next() - 0.5) * 10 ** rng.int(0, 300);
    case "BOOL": return rng.next() < 0.5;
    case "STRING": return randomText(rng, maxBytes);
  }
  const keys = Object.keys(d.enums.get(type)!.values);
  return keys[rng.int(0, keys.length - 1)];
}

interface TlmSample { bytes: Uint8Array; packet: string; values: Record<string, Value>; pid?: number; comp?: string; link?: number; linkName?: string; event?: string }

/** One valid telemetry packet from a board's encoder, with what it carries. */
function telemetrySample(rng: Rng, d: Dictionary, encs: TelemetryEncoder[]): TlmSample {
  const enc = encs[rng.int(0, encs.length - 1)];
  const t = rng.int(0, 4e9) * 1e6 + rng.int(0, 999_999);
  const k = rng.int(0, 3);
  if (k === 3) {
    const evs = [...d.events.values()];
    const e = evs[rng.int(0, evs.length - 1)];
    const values: Record<string, Value> = {};
    for (const p of e.params) values[p.name] = randomValue(d, p.type, rng, p.maxLength ?? 255);
    return { bytes: enc.event(t, e.name, values), packet: "EVENT", values, event: e.name };
  }
  const scope = (["process", "board", "link"] as const)[k];
  const chans = d.channelsOf(scope);
  const values: Record<string, Value> = {};
  for (let j = rng.int(0, 8); j > 0; j--) { const c = chans[rng.int(0, chans.length - 1)]; values[c.name] = randomValue(d, c.type, rng); }
  if (k === 0) { const pid = rng.int(0, 255), comp = randomText(rng, 32); return { bytes: enc.proc(t, pid, comp, values), packet: "PROC_TLM", values, pid, comp }; }
  if (k === 1) return { bytes: enc.board(t, values), packet: "BOARD_TLM", values };
  const link = rng.int(0, 255), linkName = randomText(rng, 32);
  return { bytes: enc.link(t, link, linkName, values), packet: "LINK_TLM", values, link, linkName };
}

const asPacket = (b: Uint8Array, apid?: number, data?: Uint8Array): DecodedPacket => {
  const header = decodePrimaryHeader(b);
  return { header: apid === undefined ? header : { ...header, apid }, timeUs: decodeTime(b.subarray(6, 12)), data: data ?? b.subarray(12), raw: b };
};

/** What is wrong with a decoded record, or null. */
function recordProblem(d: Dictionary, rec: TelemetryRecord, p: DecodedPacket): string | null {
  const typeOk = (v: Value, type: string): boolean => {
    switch (type) {
      case "U8": return Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xff;
      case "U16": return Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffff;
      case "U32": return Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffffffff;
      case "I32": return Number.isInteger(v) && (v as number) >= -0x80000000 && (v as number) <= 0x7fffffff;
      case "F64": return typeof v === "number";
      case "BOOL": return typeof v === "boolean";
      case "STRING": return typeof v === "string" && Buffer.byteLength(v) <= 3 * 255;
    }
    return typeof v === "string" && (v in d.enums.get(type)!.values || new RegExp(`^${type}#\\d+$`).test(v));
  };
  if (rec.apid !== p.header.apid || rec.node !== p.header.apid >>> 4 || rec.seq !== p.header.seqCount || rec.t_us !== p.timeUs) return `record header ${JSON.stringify([rec.apid, rec.node, rec.seq, rec.t_us])} does not match the packet`;
  const def = d.packets.get(p.header.apid & 15);
  if (!def) return `decoded a packet of unknown code ${p.header.apid & 15}`;
  if (rec.type === "event") {
    const e = d.events.get(rec.id);
    if (def.name !== "EVENT" || !e || e.name !== rec.event || e.severity !== rec.severity) return `event record ${rec.event} (${rec.id}) does not match the dictionary`;
    if (Object.keys(rec.args).join() !== e.params.map((x) => x.name).join()) return `event ${e.name} args ${Object.keys(rec.args)}`;
    for (const prm of e.params) if (!typeOk(rec.args[prm.name], prm.type)) return `event ${e.name}.${prm.name} = ${JSON.stringify(rec.args[prm.name])} is not a ${prm.type}`;
    return null;
  }
  if (rec.packet !== def.name) return `record of packet ${rec.packet} for code ${def.code} (${def.name})`;
  for (const [k, v] of Object.entries(rec.values)) {
    const c = d.channelByName.get(k);
    if (!c || c.scope !== def.channels) return `value for ${k}, not a ${def.channels} channel`;
    if (!typeOk(v, c.type)) return `${k} = ${JSON.stringify(v)} is not a ${c.type}`;
  }
  return null;
}

const sampleMatches = (s: TlmSample, rec: TelemetryRecord): boolean => {
  const eqValues = (a: Record<string, Value>, b: Record<string, Value>) => Object.keys(a).length === Object.keys(b).length && Object.keys(a).every((k) => Object.is(a[k], b[k]));
  if (rec.type === "event") return s.packet === "EVENT" && rec.event === s.event && eqValues(rec.args, s.values) && rec.error === undefined;
  return rec.packet === s.packet && eqValues(rec.values, s.values) && rec.pid === s.pid && rec.comp === s.comp && rec.link === s.link && rec.linkName === s.linkName && rec.error === undefined;
};

const decodeReason = (e: DecodeError) => (e.message.startsWith("truncated") ? "DecodeError: truncated" : `DecodeError: ${e.message.replace(/ \(.*?\)/g, "").replace(/\b(0x[0-9a-f]+|\d+)\b/g, "N")}`);
const partialReason = (err: string) => `partial: ${err.replace(/ at offset.*$|;.*$/, "").replace(/\b\d+\b/g, "N")}`;

export function fuzzTelemetry(n: number, seed: number): TargetReport {
  const rng = new Rng(seed);
  const rep = newReport("telemetry dictionary (decodeTelemetry)");
  const d = loadDictionary();
  const encs = [1, 2, 7, 127].map((node) => new TelemetryEncoder(d, node));
  for (let i = 0; i < n; i++) {
    rep.inputs++;
    const s = telemetrySample(rng, d, encs);
    const r = rng.next();
    const clean = r < 0.15;
    const data = s.bytes.subarray(12);
    const p = clean ? asPacket(s.bytes)
      : r < 0.7 ? asPacket(s.bytes, undefined, mutate(rng, data)[1])
      : r < 0.8 ? asPacket(s.bytes, (s.bytes[1] | ((s.bytes[0] & 7) << 8)) & ~15 | rng.int(0, 15))      // another packet kind's layout
      : r < 0.9 ? asPacket(s.bytes, undefined, bytes(rng, rng.int(0, 80)))
      : asPacket(s.bytes, rng.int(0, 0x7fe), mutate(rng, data)[1]);
    guard(rep, "decodeTelemetry", () => {
      const rec = decodeTelemetry(d, p);
      rep.accepted++;
      const why = recordProblem(d, rec, p);
      if (why) problem(rep, why);
      if (clean && !sampleMatches(s, rec)) problem(rep, `clean ${s.packet} packet decoded to ${JSON.stringify(rec)}, sent ${JSON.stringify(s.values)}`);
      if (rec.error) inc(rep.reasons, partialReason(rec.error));
    }, (e) => (e instanceof DecodeError ? decodeReason(e) : null));
  }
  return rep;
}

export function fuzzGround(n: number, seed: number): TargetReport {
  const rng = new Rng(seed);
  const d = loadDictionary();
  const encs = [1, 2, 3, 126].map((node) => new TelemetryEncoder(d, node));
  const eventTail = 50;
  let recs: GroundRecord[] = [];
  const station = new GroundStation({ dict: d, eventTail, onRecord: (r) => recs.push(r) });
  const decoder = (station as unknown as { decoder: PacketDecoder }).decoder;
  const rep = newReport("ground station (GroundStation pushFrame/attachTransport/pushBytes)", decoder.maxPacket);
  // attachTransport-style input: a transport whose frames we deliver
  let deliver: (src: number, frame: Uint8Array) => void = () => { problem(rep, "attachTransport registered no handler"); };
  const link: Transport = {
    node: 100, send: () => {}, onFrame: (h) => { deliver = h; }, close: async () => {},
    stats: () => ({ framesOut: 0, framesIn: 0, bytesOut: 0, bytesIn: 0, dropped: {} }),
  };
  station.attachTransport(link);
  let telemetry = 0, rejects = 0, partial = 0;
  for (let i = 0; i < n; i++) {
    rep.inputs++;
    const samples = Array.from({ length: rng.int(1, 4) }, () => telemetrySample(rng, d, encs));
    const parts = samples.map((s) => s.bytes);
    const r = rng.next();
    if (r < 0.05) parts.push(idlePacket(rng.int(1, 30)));
    else if (r < 0.08) parts.push(encodePacket({ apid: (rng.int(0, 127) << 4) | 9, seqCount: 0, timeUs: 0, data: bytes(rng, rng.int(0, 20)) })); // a code the dictionary lacks
    const frame = Buffer.concat(parts);
    const clean = r >= 0.08 && rng.next() < 0.2;
    const input = clean ? frame : mutate(rng, frame)[1];
    recs = [];
    const how = rng.next();
    guard(rep, "GroundStation", () => {
      if (how < 0.5) deliver(rng.int(0, 127), input);
      else if (how < 0.8) {
        const out = station.pushFrame(input, rng.int(0, 127));
        if (out.length !== recs.length || out.some((x, k) => x !== recs[k])) problem(rep, "pushFrame's records differ from the ones given to onRecord");
      } else {
        for (let off = 0; off < input.length;) { const k = rng.int(1, 300); station.pushBytes(input.subarray(off, off + k)); off += k; rep.maxBuffered = Math.max(rep.maxBuffered, decoder.buffered); }
        if (rng.next() < 0.3) station.end();
      }
    }, () => null);
    rep.maxBuffered = Math.max(rep.maxBuffered, decoder.buffered);
    for (const rec of recs) {
      if (rec.type === "reject") { rejects++; continue; }
      telemetry++;
      rep.accepted++;
      if (rec.error) { partial++; inc(rep.reasons, partialReason(rec.error)); }
    }
    if (clean && how < 0.8) {
      const got = recs.filter((x) => x.type !== "reject") as TelemetryRecord[];
      if (recs.length !== got.length || got.length !== samples.length || got.some((x, k) => !sampleMatches(samples[k], x))) {
        problem(rep, `clean frame of ${samples.length} packets gave ${JSON.stringify(recs.map((x) => (x.type === "reject" ? x.reason : x.type)))}`);
      }
    }
  }
  // accounting: every packet is a record or a counted rejection; the views stay bounded
  const counted = Object.values(station.rejects).reduce((a, b) => a + b, 0);
  if (counted !== rejects) problem(rep, `rejects counted ${counted}, reported ${rejects}`);
  if (station.packets !== telemetry) problem(rep, `packets counted ${station.packets}, reported ${telemetry}`);
  if (station.events.length > eventTail) problem(rep, `event tail holds ${station.events.length} > ${eventTail}`);
  if (station.boards.size > 128) problem(rep, `${station.boards.size} boards`);
  for (const b of station.boards.values()) if (b.procs.size > 256 || b.links.size > 256) problem(rep, `board ${b.node}: ${b.procs.size} procs, ${b.links.size} links`);
  for (const [k, v] of Object.entries(station.rejects)) inc(rep.reasons, k, v);
  return rep;
}

// ---- signed images ----------------------------------------------------------------

const IMAGE_KINDS = ["truncated", "bad-magic", "unsupported-format", "malformed", "tampered", "unsigned", "unknown-key", "bad-signature", "manifest-invalid", "wasm-invalid"];
const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

function splitImage(img: Uint8Array): { header: ImageHeader; text: string; wasm: Uint8Array } {
  const hlen = new DataView(img.buffer, img.byteOffset, img.byteLength).getUint32(6, true);
  const text = Buffer.from(img.subarray(IMAGE_PREFIX, IMAGE_PREFIX + hlen)).toString("utf8");
  return { header: JSON.parse(text), text, wasm: img.subarray(IMAGE_PREFIX + hlen) };
}

/** Lays out an image from header text as given (canonical or not). */
function layout(text: string, wasm: Uint8Array, format = 1): Uint8Array {
  const head = Buffer.from(text, "utf8");
  const out = Buffer.alloc(IMAGE_PREFIX + head.length + wasm.length);
  out.write("GSUI", 0, "latin1");
  out.writeUInt16LE(format & 0xffff, 4);
  out.writeUInt32LE(head.length, 6);
  head.copy(out, IMAGE_PREFIX);
  out.set(wasm, IMAGE_PREFIX + head.length);
  return out;
}

export function fuzzImage(n: number, seed: number): TargetReport {
  const rng = new Rng(seed);
  const rep = newReport("signed image (verifyImage)");
  const wasmFile = wasmPath("estimator", "2.0.0");
  if (!existsSync(wasmFile)) throw new Error(`${wasmFile} is missing: run npm run build:examples`);
  const wasm = readFileSync(wasmFile);
  const manifest = JSON.parse(readFileSync(manifestPath("estimator", "2.0.0"), "utf8"));
  const [g1, g2, rogue] = [0, 1, 2].map(() => ed25519(rng));
  const trusted = { "ground-1": g1.publicKey, "ground-2": g2.publicKey };
  const valid = [
    signImage({ manifest, wasm, key: g1.privateKey, keyId: "ground-1" }),
    signImage({ manifest, wasm, key: g2.privateKey, keyId: "ground-2" }),
  ];
  const unsigned = splitImage(valid[0]).header;
  delete unsigned.sig;
  delete unsigned.keyId;
  const originals = [
    ...valid, valid[0], valid[0],
    signImage({ manifest, wasm, key: rogue.privateKey, keyId: "ground-1" }), // signed by another key under a trusted id
    signImage({ manifest, wasm, key: rogue.privateKey, keyId: "rogue" }),    // untrusted key id
    encodeImage(unsigned, wasm),
  ];
  const validHex = new Set(valid.map(hex));
  const parsed = new Map(originals.map((o) => [o, splitImage(o)]));
  const sigs = originals.map((o) => splitImage(o).header.sig).filter((s): s is string => !!s);

  /** A structure-aware mutation: a header field changed, the image laid out again. */
  const structured = (o: Uint8Array): Uint8Array => {
    const { header, text, wasm: w } = parsed.get(o)!;
    const h = JSON.parse(JSON.stringify(header)) as Record<string, unknown> & { manifest: Record<string, unknown> };
    const pick = <T,>(xs: T[]) => xs[rng.int(0, xs.length - 1)];
    switch (rng.int(0, 9)) {
      case 0: h.keyId = pick(["ground-1", "ground-2", "rogue", "__proto__", "constructor", "toString", "hasOwnProperty", "", "ground-1 ", undefined]); break;
      case 1: h.sig = pick([...sigs, undefined, "", "A".repeat(86) + "==", (h.sig as string ?? "") + "="]); break;
      case 2: { // one base64 character of the signature replaced, often the last one (it carries 2 unused bits)
        const s = (h.sig as string | undefined) ?? sigs[0];
        const at = rng.next() < 0.5 ? 85 : rng.int(0, 85);
        h.sig = s.slice(0, at) + B64[rng.int(0, 63)] + s.slice(at + 1);
        break;
      }
      case 3: h.size = pick([(h.size as number) + rng.int(1, 3), (h.size as number) - rng.int(1, 3), -1, 0.5, 2 ** 31, String(h.size), null]); break;
      case 4: { const s = h.sha256 as string; const at = rng.int(0, 63); h.sha256 = pick([s.slice(0, at) + "0123456789abcdef"[rng.int(0, 15)] + s.slice(at + 1), s.toUpperCase(), s.slice(1), 7]); break; }
      case 5: {
        const m = h.manifest;
        const r = rng.int(0, 4);
        if (r === 0) m.version = pick(["2.0.1", "1.0.0", "2.0.0-rc1", "x"]);
        else if (r === 1) m.name = pick(["controller", "", "estimator "]);
        else if (r === 2) delete m.ports;
        else if (r === 3) { const k = rng.int(1, 20000); return layout(text.replace('"manifest":{', `"manifest":{"a":${"[".repeat(k)}${"]".repeat(k)},`), w); } // deep nesting
        else h.manifest = pick([[] as unknown as Record<string, unknown>, { ...m, description: "é".repeat(rng.int(0, 300)) }]);
        break;
      }
      case 6: h.format = pick([0, 2, 65535, "1", 1.0]); break;
      case 7: h[pick(["x", "Sig", "sig ", "__proto__"])] = 1; break;
      case 8: { // non-canonical layouts of the same header: whitespace, key order, escapes
        const r = rng.int(0, 3);
        const t = r === 0 ? JSON.stringify(header, null, 1)
          : r === 1 ? JSON.stringify(Object.fromEntries(Object.entries(header).reverse()))
          : r === 2 ? text.replace(/"ground-(\d)"/, '"\\u0067round-$1"')
          : text.replace(/"size":(\d+)/, '"size":$1.0');
        return layout(t, w);
      }
      default: return layout(text, mutate(rng, w)[1], header.format); // header intact, wasm mutated
    }
    let t: string;
    try { t = canonicalJson(h); } catch { t = JSON.stringify(h); }
    return layout(t, w, typeof h.format === "number" ? h.format : 1);
  };

  for (let i = 0; i < n; i++) {
    rep.inputs++;
    const o = originals[rng.int(0, originals.length - 1)];
    const r = rng.next();
    let input: Uint8Array;
    if (r < 0.05) input = o;
    else if (r < 0.35) input = structured(o);
    else if (r < 0.7) { // byte mutations of the prefix and header, where the parsing is
      const hlen = o.length - parsed.get(o)!.wasm.length;
      input = Buffer.concat([mutate(rng, o.subarray(0, hlen))[1], o.subarray(hlen)]);
    } else if (r < 0.97) input = mutate(rng, o)[1];
    else input = bytes(rng, rng.int(0, 64));
    let res: ReturnType<typeof verifyImage> | undefined;
    try { res = verifyImage(input, trusted); } catch (e) { problem(rep, `verifyImage threw ${errText(e)} on ${input.length} bytes`); continue; }
    if (res.ok) {
      rep.accepted++;
      if (validHex.has(hex(input))) continue;
      // accepted bytes that were never signed: the same signature in another base64 spelling?
      const h = res.header;
      const v = valid.find((x) => {
        const vh = splitImage(x).header;
        return x.length === input.length && vh.keyId === h.keyId && vh.sig !== h.sig && Buffer.from(vh.sig!, "base64").equals(Buffer.from(h.sig!, "base64"))
          && same(input, x.map((b, k) => (k >= IMAGE_PREFIX && k < IMAGE_PREFIX + splitImage(x).text.length ? input[k] : b))) // wasm and prefix untouched
          && splitImage(input).text === splitImage(x).text.replace(vh.sig!, h.sig!);                                        // only "sig" spelt otherwise
      });
      if (v) knownHit(rep, BUG.imageSigPadding, `"sig" ending ${h.sig!.slice(-4)} verifies as the signature ending ${splitImage(v).header.sig!.slice(-4)}`);
      else problem(rep, `verified an image that was never signed (${input.length} bytes, sha256 ${createHash("sha256").update(input).digest("hex").slice(0, 16)})`);
      continue;
    }
    if (valid.includes(o) && input === o) problem(rep, `a signed original was refused: ${res.kind}: ${res.reason}`);
    if (!IMAGE_KINDS.includes(res.kind) || typeof res.reason !== "string" || !res.reason) problem(rep, `bad rejection ${JSON.stringify(res)}`);
    inc(rep.reasons, res.kind === "malformed" ? `malformed: ${res.reason.replace(/ \([\s\S]*$|: [\s\S]*$/, "").replace(/"[^"]*"/g, (q) => (/^"(format|keyId|manifest|sha256|sig|size)"$/.test(q) ? q : "…")).replace(/\d+/g, "N").slice(0, 70)}` : res.kind);
  }
  return rep;
}

// ---- telecommand guard: the signature path ----------------------------------------

export function fuzzTelecommandGuard(n: number, seed: number): TargetReport {
  const rng = new Rng(seed);
  const rep = newReport("telecommand guard (TelecommandGuard#check)");
  const [k1, k2, rogue] = [0, 1, 2].map(() => ed25519(rng));
  // as loadTrustedKeys builds it: a plain object, key id -> public key
  const trusted: Record<string, typeof k1.publicKey> = { ground: k1.publicKey, "ground-2": k2.publicKey };
  const priv: Record<string, typeof k1.privateKey> = { ground: k1.privateKey, "ground-2": k2.privateKey };
  const dir = mkdtempSync(join(tmpdir(), "gsu-fuzz-tc-"));
  const ops = Object.keys(OP) as Array<keyof typeof OP>;
  const last: Record<string, number> = { ground: 0, "ground-2": 0 };
  const pool: Uint8Array[] = [];
  const remember = (b: Uint8Array) => { if (pool.length < 64) pool.push(b); else pool[rng.int(0, 63)] = b; };
  const command = (keyId: string, seq: number, key = priv[keyId]): Uint8Array => {
    const tc: Telecommand = { op: ops[rng.int(0, ops.length - 1)], seq, timeMs: 1_700_000_000_000 + rng.int(0, 1e9), keyId, board: "b1", args: rng.next() < 0.5 ? {} : { component: "estimator", version: `2.0.${rng.int(0, 99)}`, allowDowngrade: rng.next() < 0.5 } };
    return encodeTelecommand(tc, key);
  };
  let refusals = 0;
  try {
    const guardObj = new TelecommandGuard(trusted, dir);
    const check = (input: Uint8Array, what: string, mayAccept: boolean): boolean => {
      let c: ReturnType<TelecommandGuard["check"]>;
      try { c = guardObj.check(input); } catch (e) {
        let keyId: string | undefined;
        try { keyId = decodeTelecommand(input).tc.keyId; } catch { /* not decodable */ }
        if (keyId !== undefined && keyId in Object.prototype) knownHit(rep, BUG.tcPrototypeKeyId, `key id ${JSON.stringify(keyId)}: ${errText(e)}`);
        else problem(rep, `${what}: check threw ${errText(e)}`);
        return false;
      }
      if (c.ok) {
        rep.accepted++;
        if (!mayAccept) problem(rep, `${what}: accepted ${c.tc.op} #${c.tc.seq} from '${c.tc.keyId}' (${input.length} bytes)`);
        return true;
      }
      refusals++;
      if (!["malformed", "unknown-key", "forged", "replayed"].includes(c.reason) || typeof c.detail !== "string") problem(rep, `bad refusal ${JSON.stringify(c)}`);
      return false;
    };
    // the pool starts with accepted commands from both trusted keys and forged / untrusted ones
    for (const keyId of ["ground", "ground-2", "ground", "ground-2"]) { const b = command(keyId, ++last[keyId]); if (!check(b, "seed", true)) problem(rep, "a fresh signed command was refused"); remember(b); }
    remember(command("ground", 1000, rogue.privateKey)); // forged: another key under a trusted id
    remember(command("rogue", 1, rogue.privateKey));     // untrusted key id
    const keyIds = ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf", "ground", "ground-2", "rogue", "", "Ground", "ground\u0000", "ground "];
    for (let i = 0; i < n; i++) {
      rep.inputs++;
      const r = rng.next();
      if (r < 0.004) {
        // a fresh, untouched command: the only kind that may be accepted
        const keyId = rng.next() < 0.5 ? "ground" : "ground-2";
        last[keyId] += rng.int(1, 3);
        const b = command(keyId, last[keyId]);
        if (!check(b, "fresh", true)) problem(rep, `a fresh signed command #${last[keyId]} from ${keyId} was refused`);
        remember(b);
      } else if (r < 0.05) check(pool[rng.int(0, pool.length - 1)], "replayed", false);
      else if (r < 0.15) {
        // the same command, signature kept, under another key id (parsed, so it reaches the key lookup)
        const b = pool[rng.int(0, pool.length - 1)];
        const at = 16 + (b[14] | (b[15] << 8));                      // key id length octet (u16 argument length is little endian)
        const key = Buffer.from(keyIds[rng.int(0, keyIds.length - 1)], "utf8");
        check(Buffer.concat([b.subarray(0, at), Uint8Array.of(key.length), key, b.subarray(at + 1 + b[at])]), "key id swapped", false);
      } else check(mutate(rng, pool[rng.int(0, pool.length - 1)])[1], "mutated", false);
    }
    const counted = Object.values(guardObj.refused).reduce((a, b) => a + b, 0);
    if (counted !== refusals) problem(rep, `refusals counted ${counted}, returned ${refusals}`);
    for (const [k, v] of Object.entries(guardObj.refused)) inc(rep.reasons, k, v);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rep;
}

/**
 * TelecommandGuard whose replay state is corrupt (fail closed, issue 10): every
 * input is refused (no command, no resync with a wrong or mutated challenge, no
 * revoked or untrusted key) until the one valid resync; after it, nothing signed
 * before the resync is accepted, and the state written parses with its floor.
 */
export function fuzzTelecommandResync(n: number, seed: number): TargetReport {
  const rng = new Rng(seed);
  const rep = newReport("telecommand guard, corrupt replay state (resync)");
  const [k1, old, rogue] = [0, 1, 2].map(() => ed25519(rng));
  const dir = mkdtempSync(join(tmpdir(), "gsu-fuzz-resync-"));
  const T = 1_800_000_000_000;
  const others = (Object.keys(OP) as Array<keyof typeof OP>).filter((o) => o !== "resync");
  const allowed = ["malformed", "unknown-key", "forged", "replay-state-corrupt", "wrong-board", "stale", "revoked", "bad-challenge"];
  try {
    writeFileSync(join(dir, "telecommand-seq.json"), rng.next() < 0.5 ? "" : "{\"ground\": ");
    const guard = new TelecommandGuard({ ground: k1.publicKey }, dir, { board: "b1", windowMs: 600_000, now: () => T, revoked: { old: "test" } });
    const challenge = guard.corrupt?.challenge;
    if (!challenge) { problem(rep, "a corrupt replay state was not noticed"); return rep; }
    const keys: Record<string, KeyObject> = { ground: k1.privateKey, old: old.privateKey, rogue: rogue.privateKey };
    const command = (o: Partial<Telecommand> = {}, key = Object.hasOwn(keys, o.keyId ?? "ground") ? keys[o.keyId ?? "ground"] : rogue.privateKey): Uint8Array => encodeTelecommand({
      op: "resync", seq: rng.int(1, 1000), timeMs: T - rng.int(0, 1000), keyId: "ground", board: "b1", args: { challenge }, ...o,
    }, key);
    // one hex digit changed (never to itself: that would be the valid challenge)
    const near = () => { const c = challenge.split(""); const i = rng.int(0, 31); c[i] = "0123456789abcdef"[("0123456789abcdef".indexOf(c[i]) + rng.int(1, 15)) % 16]; return c.join(""); };
    const pool: Uint8Array[] = [command()]; // the valid resync: only ever sent mutated, until the end
    let refusals = 0;
    for (let i = 0; i < n; i++) {
      rep.inputs++;
      const r = rng.next();
      let input: Uint8Array;
      if (r < 0.3) input = mutate(rng, pool[0])[1];
      else if (r < 0.45) input = command({ args: { challenge: rng.next() < 0.5 ? near() : rng.next() < 0.5 ? `${challenge} ` : [challenge] } });
      else if (r < 0.55) input = command({ op: others[rng.int(0, others.length - 1)] });
      else if (r < 0.65) input = command({ keyId: ["old", "rogue", "__proto__", "Ground"][rng.int(0, 3)] });
      else if (r < 0.72) input = command({ board: ["b2", "", "B1"][rng.int(0, 2)] || "x" });
      else if (r < 0.8) input = command({ timeMs: T + (rng.next() < 0.5 ? -1 : 1) * rng.int(600_001, 1e9) });
      else if (r < 0.9) input = command({}, rogue.privateKey);              // forged under the trusted id
      else input = mutate(rng, pool[rng.int(0, pool.length - 1)])[1];
      if (same(input, pool[0])) input = input.subarray(0, input.length - 1); // a mutation that changed nothing: the valid one is kept for the end
      if (input.length > 0 && rng.next() < 0.05) pool.push(input);
      let c: ReturnType<TelecommandGuard["check"]>;
      try { c = guard.check(input); } catch (e) { problem(rep, `check threw ${errText(e)}`); continue; }
      if (c.ok) {
        problem(rep, `accepted ${c.tc.op} #${c.tc.seq} from '${c.tc.keyId}' while the replay state is corrupt (${hex(input).slice(0, 80)})`);
        break;
      }
      refusals++;
      inc(rep.reasons, c.reason);
      if (!allowed.includes(c.reason) || typeof c.detail !== "string" || c.detail.length > 600) problem(rep, `bad refusal ${JSON.stringify(c).slice(0, 300)}`);
    }
    if (!guard.corrupt) return rep;
    // the valid resync, then a command signed before it
    const ok = guard.check(pool[0]);
    if (!ok.ok) problem(rep, `the valid resync was refused: ${ok.reason}: ${ok.detail}`);
    else {
      rep.accepted++;
      if (guard.corrupt) problem(rep, "still corrupt after an accepted resync");
      const before = guard.check(command({ op: "commit", seq: 1_000_000, timeMs: T - 5000 }));
      if (before.ok) problem(rep, "a command signed before the resync was accepted after it");
      const after = guard.check(command({ op: "commit", seq: 1_000_001, timeMs: T + 1 }));
      if (!after.ok) problem(rep, `a fresh command after the resync was refused: ${after.reason}`);
      const st = TelecommandGuard.problem(join(dir, "telecommand-seq.json"));
      if (typeof st === "string" || typeof st["@floorMs"] !== "number") problem(rep, `the replay state written by the resync does not parse with its floor: ${JSON.stringify(st)}`);
    }
    if (refusals === 0) problem(rep, "nothing was refused");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rep;
}

// ---- CanTransport end to end over MockCanBus --------------------------------------

function mutateCanFrame(rng: Rng, f: CanFrame): CanFrame {
  const g: CanFrame = { ...f, data: Uint8Array.from(f.data) };
  switch (rng.int(0, 8)) {
    case 0: if (g.data.length) g.data[rng.int(0, g.data.length - 1)] ^= 1 << rng.int(0, 7); break;
    case 1: g.id = (g.id ^ (1 << rng.int(0, 28))) >>> 0; break;
    case 2: g.data = g.data.subarray(0, rng.int(0, g.data.length)); break;
    case 3: g.ext = !g.ext; break;
    case 4: g.rtr = !g.rtr; break;
    case 5: if (g.data.length) g.data[g.data.length - 1] = rng.int(0, 255); break;   // tail byte
    case 6: g.id = [0x20000000 | g.id, -1, 2 ** 32, g.id & 0x7ff][rng.int(0, 3)]; break; // IDs no controller delivers
    case 7: g.data = bytes(rng, rng.int(9, 64)); break;                                 // beyond classic CAN
    default: g.data = bytes(rng, rng.int(0, 8));
  }
  return g;
}

export async function fuzzCanTransport(n: number, seed: number): Promise<TargetReport> {
  const rng = new Rng(seed);
  const maxTransfer = 512;
  const rep = newReport("CanTransport end to end (MockCanBus)", maxTransfer + 2);
  // A transfer-ID timeout far beyond the test's real duration: the transport's own
  // expiry timer (period timeout/1000 ms) never fires, so runs are deterministic;
  // the fake clock jumps past it now and then, and the harness calls expire().
  const timeout = 600_000_000;
  let now = 1;
  const clock = () => now;
  const net = new MockCanNetwork();
  const RX = 5;
  const rxSubjects = new Set([subjectFor(RX), subjectFor(0xff)]);
  const digest = (p: Uint8Array) => createHash("sha1").update(p).digest("base64");
  const sent = new Set<string>();          // (source, subject, payload) of every well-formed transfer put on the bus
  const seenSingle = new Set<string>();    // single-frame transfers as the receiver's bus saw them
  const seenPieces = new Set<string>();   // recent frames' payload pieces as the receiver's bus saw them (bounded)
  let framesSeen = 0;
  /** The receiver's view of the bus: our listener runs first; exceptions out of the transport become problems, not crashes. */
  const guarded = (name: string, record: boolean): CanBus => {
    const raw = net.attach(name);
    if (record) raw.onFrame((f) => {
      framesSeen++;
      if (f.ext && !f.rtr && f.data.length >= 2 && f.data.length <= 8) {
        if (seenPieces.size >= 100_000) seenPieces.clear();
        seenPieces.add(`${f.id & 0x7f}:${(f.id >>> 8) & 0x1fff}:${hex(f.data.subarray(0, -1))}`);
      }
      if (f.ext && !f.rtr && f.data.length >= 1 && f.data.length <= 8 && (f.data[f.data.length - 1] & (TAIL_SOT | TAIL_EOT)) === (TAIL_SOT | TAIL_EOT)) {
        seenSingle.add(`${f.id & 0x7f}:${(f.id >>> 8) & 0x1fff}:${hex(f.data.subarray(0, -1))}`);
      }
    });
    return {
      name, send: (f) => raw.send(f), close: () => raw.close(),
      onFrame: (cb) => raw.onFrame((f, t) => { try { cb(f, t); } catch (e) { problem(rep, `${name}: receive threw ${errText(e)}`); } }),
    };
  };
  const returned: Record<string, number> = {};
  const kinds: Record<string, number> = {};
  let pending: { source: number; payload: Uint8Array } | undefined;
  let delivered = 0, expired = 0, refusedBundled = 0;
  /** Every 7-byte piece of payload ++ CRC was on the wire from that source and subject: a corruption the CRC-16 cannot see, not a decoder fault. */
  const corruptedInTransit = (t: { source: number; subject: number; payload: Uint8Array }) => {
    const c = crc16(t.payload);
    const whole = Buffer.concat([t.payload, Uint8Array.of(c >> 8, c & 0xff)]);
    for (let off = 0; off < whole.length; off += 7) if (!seenPieces.has(`${t.source}:${t.subject}:${hex(whole.subarray(off, off + 7))}`)) return false;
    return true;
  };
  const onResult = (r: DecodeResult) => {
    inc(kinds, r.kind);
    if (r.kind === "drop") { inc(returned, r.reason); if (!(DROP_REASONS as readonly string[]).includes(r.reason)) problem(rep, `unknown drop reason ${r.reason}`); }
    if (r.kind !== "transfer") return;
    const t = r.transfer;
    if (pending) problem(rep, "a transfer was decoded but not delivered");
    // on a classic link a payload that starts like a CAN FD bundle or a compact transfer
    // (F0..FE, never a GSU frame's first byte) is refused, by design (docs/wire.md)
    if (isBundled(t.payload)) { refusedBundled++; return; }
    pending = { source: t.source, payload: t.payload };
    if (!rxSubjects.has(t.subject)) problem(rep, `delivered a transfer on subject ${t.subject}`);
    if (t.payload.length > maxTransfer) problem(rep, `delivered ${t.payload.length} bytes > ${maxTransfer}`);
    const wasSent = sent.has(`${t.source}:${t.subject}:${digest(t.payload)}`) || (t.frames === 1 && seenSingle.has(`${t.source}:${t.subject}:${hex(t.payload)}`));
    if (!wasSent && t.frames > 1 && corruptedInTransit(t)) inc(rep.reasons, "accepted: corrupted in transit, undetected by CRC-16 (~1 in 65536)");
    else if (!wasSent) problem(rep, `delivered a transfer never sent: src ${t.source}, subject ${t.subject}, ${t.payload.length} bytes in ${t.frames} frames`);
  };
  const rx = new CanTransport(guarded("rx", true), RX, { maxTransfer, transferIdTimeoutUs: timeout, now: clock, knownNodes: [1, 2, 3, 4, 6, 7], onResult });
  rx.onFrame((src, payload) => {
    delivered++;
    if (!pending || pending.source !== src || !same(pending.payload, payload)) problem(rep, `handler got src ${src}, ${payload.length} bytes, not the decoded transfer`);
    pending = undefined;
  });
  const rxDecoder = (rx as unknown as { decoder: CyphalDecoder }).decoder;
  const senders = [1, 2, 3].map((id) => new CanTransport(guarded(`node${id}`, false), id, { maxTransfer: 1024, transferIdTimeoutUs: timeout, now: clock }));
  const evil = net.attach("evil");
  const evilTid = new Map<number, number>();
  // the wire: loses, duplicates, delays (reorders) and corrupts frames at a rate set per input
  let tamperRate = 0;
  const held: CanFrame[] = [];
  net.tamper = (f) => {
    if (rng.next() >= tamperRate) return [f];
    switch (rng.int(0, 5)) {
      case 0: return [];
      case 1: return [f, f];
      case 2: held.push(f); return held.length > 8 ? held.splice(0, rng.int(1, held.length)) : [];
      case 3: return [f, ...held.splice(0, held.length)];
      default: return [mutateCanFrame(rng, f)];
    }
  };
  const history: CanFrame[] = [];
  const legit = () => {
    const s = senders[rng.int(0, senders.length - 1)];
    const dst = [RX, RX, BROADCAST, 7, s.node === 1 ? 2 : 1][rng.int(0, 4)];
    const size = rng.next() < 0.6 ? rng.int(0, 7) : rng.next() < 0.93 ? rng.int(8, 200) : rng.int(480, 1024); // some above the receiver's 512
    const p = bytes(rng, size);
    sent.add(`${s.node}:${subjectFor(dst === BROADCAST ? 0xff : dst)}:${digest(p)}`);
    guard(rep, "CanTransport.send", () => s.send(dst, p), () => null);
  };
  const evilTransfer = () => {
    const source = [1, 2, 3, 4, 5, 6, 7, 9][rng.int(0, 7)];
    const subject = [subjectFor(RX), subjectFor(0xff), subjectFor(6), 100][rng.int(0, 3)];
    const tid = (evilTid.get(source) ?? 0) + (rng.next() < 0.9 ? 1 : 0);
    evilTid.set(source, tid);
    const p = bytes(rng, rng.next() < 0.5 ? rng.int(0, 7) : rng.next() < 0.95 ? rng.int(8, 150) : rng.int(150, 600));
    let frames = encodeTransfer(p, { subject, source, transferId: tid, priority: rng.int(0, 7), maxTransfer: 1024 });
    if (rng.next() < 0.05) frames = frames.map((f) => ({ ...f, id: (f.id | (1 << 24)) >>> 0 })); // anonymous
    else sent.add(`${source}:${subject}:${digest(p)}`);
    for (const f of frames) evil.send(f);
  };
  const evilRandom = () => {
    for (let k = rng.int(1, 4); k > 0; k--) {
      const ext = rng.next() < 0.9, rtr = rng.next() < 0.05;
      const id = !ext ? rng.int(0, 0x7ff)
        : rng.next() < 0.7 ? makeMessageId({ priority: rng.int(0, 7), subject: [subjectFor(RX), subjectFor(0xff)][rng.int(0, 1)], source: rng.int(0, 9) })
        : rng.int(0, 0x1fffffff);
      evil.send({ id, ext, rtr, data: rtr ? new Uint8Array(0) : bytes(rng, rng.int(0, 8)) });
    }
  };
  const replay = () => { // frames seen earlier, again (in order or reversed)
    const k = rng.int(0, Math.max(0, history.length - 1));
    const fs = history.slice(k, k + rng.int(1, 12));
    if (rng.next() < 0.3) fs.reverse();
    for (const f of fs) evil.send(f);
  };
  try {
    for (let i = 0; i < n; i++) {
      rep.inputs++;
      now += rng.next() < 0.003 ? timeout + rng.int(1, 1e6) : rng.int(1, 3000);
      tamperRate = rng.next() < 0.5 ? 0 : [0.03, 0.2, 1][rng.int(0, 2)];
      const k = rng.int(0, 9);
      guard(rep, "injector", () => (k < 5 ? legit() : k < 7 ? evilTransfer() : k < 9 ? evilRandom() : replay()), () => null);
      if (rng.next() < 0.5) await net.settle();
      if (rng.next() < 0.002) expired += rxDecoder.expire(now);
      // the network records every frame; keep a short history for replays, not all of it
      for (const r of net.frames) if (history.length < 512) history.push(r.frame); else history[rng.int(0, 511)] = r.frame;
      net.frames.length = 0;
      const sessions = (rxDecoder as unknown as { sessions: Map<number, { partial?: { size: number } }> }).sessions;
      for (const s of sessions.values()) if (s.partial) rep.maxBuffered = Math.max(rep.maxBuffered, s.partial.size);
      if (sessions.size > 2 * 128) problem(rep, `${sessions.size} reassembly sessions`);
    }
    tamperRate = 0;
    for (const f of held.splice(0)) evil.send({ ...f, id: Math.min(Math.max(0, f.id), f.ext ? 0x1fffffff : 0x7ff), data: f.rtr ? new Uint8Array(0) : f.data.subarray(0, 8) });
    await net.settle();
  } finally {
    await Promise.all([rx, ...senders].map((t) => t.close()));
  }
  // accounting: every frame the receiver saw has one result; every drop is counted by reason
  const st = rx.stats(), cs = rx.canStats();
  const results = Object.values(kinds).reduce((a, b) => a + b, 0);
  if (cs.canFramesIn !== framesSeen || results !== framesSeen) problem(rep, `frames seen ${framesSeen}, counted ${cs.canFramesIn}, results ${results}`);
  if (st.framesIn !== delivered || (kinds.transfer ?? 0) !== delivered + refusedBundled) problem(rep, `transfers decoded ${kinds.transfer}, delivered ${delivered}, refused as bundled ${refusedBundled}, counted ${st.framesIn}`);
  // refused as a bundle or compact transfer on a classic link: counted as mode-mismatch, decoded as a transfer
  returned["mode-mismatch"] = (returned["mode-mismatch"] ?? 0) + refusedBundled;
  if (cs.ignored !== (kinds.ignored ?? 0)) problem(rep, `ignored counted ${cs.ignored}, returned ${kinds.ignored}`);
  for (const r of new Set([...Object.keys(st.dropped), ...Object.keys(returned)])) {
    if (r === "interrupted") continue; // counted when a new first frame discards a partial, not returned
    const want = (returned[r] ?? 0) + (r === "timeout" ? expired : 0);
    if ((st.dropped[r] ?? 0) !== want) problem(rep, `dropped.${r}: counted ${st.dropped[r] ?? 0}, returned ${want}`);
  }
  rep.accepted = delivered;
  for (const [k, v] of Object.entries(st.dropped)) inc(rep.reasons, k, v);
  inc(rep.reasons, "ignored (other subjects)", cs.ignored);
  return rep;
}

// ---- all --------------------------------------------------------------------------

/** Caps on a target's inputs where a full count does not fit the time budget (Ed25519 verification). */
export interface TargetLimits {
  /** Most inputs per target in the CI suite (test/fuzz.test.ts), whatever GSU_FUZZ_INPUTS asks. */
  ci?: number;
  /** Most inputs per target in `npm run fuzz`. */
  full?: number;
}

export type Target = [name: string, run: (n: number, seed: number) => TargetReport[] | Promise<TargetReport[]>, limits?: TargetLimits];

/** Every target with `perDecoder` inputs each (core header and runtime frame share theirs, and so do the three CCSDS decoders). */
export const TARGETS: Target[] = [
  ["serial", (n, s) => [fuzzSerial(n, s)]],
  ["core", (n, s) => fuzzCoreHeader(n, s)],
  ["cyphal", (n, s) => [fuzzCyphal(n, s)]],
  ["slcan", (n, s) => [fuzzSlcan(n, s)]],
  ["can-text", (n, s) => [fuzzCanText(n, s)]],
  ["board-mgmt", (n, s) => fuzzMgmt(n, s)],
  ["ccsds", (n, s) => fuzzCcsds(n, s)],
  ["telemetry-dictionary", (n, s) => [fuzzTelemetry(n, s)]],
  ["ground-station", (n, s) => [fuzzGround(n, s)]],
  ["signed-image", (n, s) => [fuzzImage(n, s)], { ci: 50_000 }], // ~0.1 ms an input (Ed25519, sha256, WebAssembly.validate)
  ["telecommand-guard", (n, s) => [fuzzTelecommandGuard(n, s)]],
  ["telecommand-resync", (n, s) => [fuzzTelecommandResync(n, s)], { ci: 5_000, full: 100_000 }], // ~0.75 ms an input (Ed25519 sign and verify)
  ["can-transport", async (n, s) => [await fuzzCanTransport(n, s)]],
];

/** Inputs a target gets when `n` per decoder are asked for. */
export const inputsFor = (t: Target, n: number, where: keyof TargetLimits): number => Math.min(n, t[2]?.[where] ?? n);

export async function fuzzAll(perDecoder: number, seed = 1): Promise<TargetReport[]> {
  const out: TargetReport[] = [];
  for (const [i, t] of TARGETS.entries()) out.push(...(await t[1](inputsFor(t, perDecoder, "full"), seed + i)));
  return out;
}
