// Cyphal/CAN v1.0 transport framing for GSU transfers, as pure functions and a
// sans-I/O reassembler (no sockets, no timers, no clock: the caller passes the
// time in). Layout follows the Cyphal Specification v1.0, section 4.2
// ("CAN bus transport layer"), and matches OpenCyphal libcanard / pycyphal.
// docs/wire.md, "GSU on CAN" documents every bit.
//
// 29-bit extended CAN ID of a *message* transfer (the only kind GSU sends):
//
//   28 27 26 | 25 | 24 | 23 | 22 21 | 20 ............ 8 | 7 | 6 ...... 0
//   priority |  0 | an |  0 |  1  1 |  subject-ID (13)  | 0 | source (7)
//
//   priority   0 = exceptional ... 4 = nominal ... 7 = optional
//   bit 25     service-not-message: 0 = message
//   bit 24     anonymous (we never send anonymous transfers, and drop them)
//   bit 23     reserved, 0 (a receiver drops frames with it set)
//   bits 22-21 reserved, 1 on transmit, ignored on receive
//   bit 7      reserved, 0 (a receiver drops frames with it set)
//
// Tail byte, the last data byte of every frame:
//
//   7 SOT start of transfer | 6 EOT end of transfer | 5 toggle | 4..0 transfer-ID
//
// The toggle is 1 in the first frame of a transfer and alternates after that.
// A transfer of at most 7 bytes is one frame: payload then tail, DLC = n + 1.
// A longer one is split in 7-byte pieces of (payload ++ CRC-16/CCITT-FALSE
// big-endian); every frame except the last carries exactly 7 + tail = 8 bytes.
// Classic CAN accepts every length 0..8, so no padding is ever inserted.
// CAN FD (mtu 64, Cyphal/CAN FD rules): 63 payload bytes + tail per frame; a frame
// length that no FD DLC represents (9..11, 13..15, ...) is rounded up to the next
// valid length (12, 16, 20, 24, 32, 48, 64) with zero padding bytes placed before
// the tail (single frame) or before the CRC (last frame of a multi-frame transfer,
// the padding inside the CRC), as libcanard does. The receiver keeps the padding:
// GSU's FD payloads say their own length (bundle.ts).
//
// Destination addressing (why message transfers, not service transfers):
// GSU frames go to one node or to all. We publish each frame as a Cyphal
// *message* on subject `base + dst` for a unicast to node dst (0..127), and on
// subject `base + 128` for BROADCAST. Messages carry broadcast natively;
// Cyphal services cannot be broadcast and imply a response GSU never sends,
// so a service-based mapping would need messages anyway and would confuse
// Cyphal tools that expect a reply. With one subject per destination a node's
// CAN controller can accept exactly its own traffic with two hardware
// acceptance filters (its subject and the broadcast subject) and yakut/pycyphal
// can subscribe to any node's inbox. The default base, 4096, keeps every GSU
// subject (4096..4224) inside Cyphal's unregulated range 0..6143.

export const CAN_EXT_MASK = 0x1fffffff;
export const MTU_CLASSIC = 8;
export const MTU_FD = 64;
/** The data lengths a CAN FD DLC can express (DLC 0..15). */
export const FD_LENGTHS: readonly number[] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64];
/** Smallest valid CAN FD data length >= n (n <= 64). */
export function fdLength(n: number): number {
  for (const l of FD_LENGTHS) if (l >= n) return l;
  throw new RangeError(`CAN FD: ${n} data bytes; an FD frame carries at most 64`);
}
/** DLC code (0..15) of a valid CAN FD data length. */
export function fdDlc(len: number): number {
  const i = FD_LENGTHS.indexOf(len);
  if (i < 0) throw new RangeError(`CAN FD: ${len} is not a valid FD data length (${FD_LENGTHS.join(", ")})`);
  return i;
}
/** Payload bytes per frame on classic CAN: 8 data bytes minus the tail byte. */
export const BYTES_PER_FRAME = MTU_CLASSIC - 1;
export const TRANSFER_ID_MODULO = 32;
export const NODE_ID_MAX = 127;
export const SUBJECT_ID_MAX = 8191;
/** Subject-IDs 0..6143 are the unregulated range of Cyphal v1.0. */
export const UNREGULATED_SUBJECT_MAX = 6143;
export const DEFAULT_SUBJECT_BASE = 4096;
/** Offset from the base of the subject that carries broadcasts. */
export const BROADCAST_SUBJECT_OFFSET = 128;
export const PRIORITY_NOMINAL = 4;
/** libcanard's and pycyphal's default transfer-ID timeout: 2 s. */
export const DEFAULT_TRANSFER_ID_TIMEOUT_US = 2_000_000;
/** Largest GSU transfer accepted by default (bytes of payload). */
export const DEFAULT_MAX_TRANSFER = 65_536;

export const TAIL_SOT = 0x80;
export const TAIL_EOT = 0x40;
export const TAIL_TOGGLE = 0x20;
export const TAIL_TID_MASK = 0x1f;

const BIT_SERVICE = 1 << 25;
const BIT_ANONYMOUS = 1 << 24;
const BIT_R23 = 1 << 23;
const BITS_R22_R21 = 3 << 21;
const BIT_R7 = 1 << 7;

/** A classic CAN frame as seen by every bus in host/transport/can/. */
export interface CanFrame {
  /** 11-bit (ext = false) or 29-bit (ext = true) identifier. */
  id: number;
  ext: boolean;
  rtr: boolean;
  /** 0..8 bytes; empty for an RTR frame. */
  data: Uint8Array;
  /** RTR frames only: the DLC requested (0..8; default 0). */
  dlc?: number;
  /** A CAN FD frame (FDF bit): data 0..8, 12, 16, 20, 24, 32, 48 or 64 bytes. Absent: classic, or unknown (SocketCAN's binding does not say for frames of <= 8 bytes). */
  fd?: boolean;
  /** CAN FD only: the data phase at the data bitrate (BRS bit). */
  brs?: boolean;
}

// ---------------------------------------------------------------- CRC

const CRC_TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let b = 0; b < 8; b++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    t[i] = c;
  }
  return t;
})();

/** CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no xorout). check("123456789") = 0x29B1. */
export function crc16(data: Uint8Array, crc = 0xffff): number {
  for (let i = 0; i < data.length; i++) crc = ((crc << 8) & 0xffff) ^ CRC_TABLE[((crc >> 8) ^ data[i]) & 0xff];
  return crc;
}

// ---------------------------------------------------------------- IDs

export interface MessageId {
  priority: number;
  subject: number;
  source: number;
}

export function makeMessageId({ priority, subject, source }: MessageId): number {
  if (!Number.isInteger(priority) || priority < 0 || priority > 7) throw new RangeError(`cyphal: priority ${priority} is not 0..7`);
  if (!Number.isInteger(subject) || subject < 0 || subject > SUBJECT_ID_MAX) throw new RangeError(`cyphal: subject-ID ${subject} is not 0..${SUBJECT_ID_MAX}`);
  if (!Number.isInteger(source) || source < 0 || source > NODE_ID_MAX) throw new RangeError(`cyphal: node-ID ${source} is not 0..${NODE_ID_MAX} (Cyphal/CAN node-IDs are 7 bits)`);
  return ((priority << 26) | BITS_R22_R21 | (subject << 8) | source) >>> 0;
}

export type ParsedId =
  | { ok: true; priority: number; subject: number; source: number; anonymous: boolean }
  | { ok: false; reason: "not-cyphal" | "service" };

/** Parses a 29-bit ID as a Cyphal/CAN v1.0 message ID. */
export function parseMessageId(id: number): ParsedId {
  if (id < 0 || id > CAN_EXT_MASK) return { ok: false, reason: "not-cyphal" };
  if (id & BIT_SERVICE) return { ok: false, reason: "service" };
  if (id & (BIT_R23 | BIT_R7)) return { ok: false, reason: "not-cyphal" };
  return {
    ok: true,
    priority: (id >>> 26) & 7,
    subject: (id >>> 8) & SUBJECT_ID_MAX,
    source: id & NODE_ID_MAX,
    anonymous: (id & BIT_ANONYMOUS) !== 0,
  };
}

export function makeTail(sot: boolean, eot: boolean, toggle: boolean, transferId: number): number {
  return (sot ? TAIL_SOT : 0) | (eot ? TAIL_EOT : 0) | (toggle ? TAIL_TOGGLE : 0) | (transferId & TAIL_TID_MASK);
}

export function parseTail(b: number): { sot: boolean; eot: boolean; toggle: boolean; transferId: number } {
  return { sot: (b & TAIL_SOT) !== 0, eot: (b & TAIL_EOT) !== 0, toggle: (b & TAIL_TOGGLE) !== 0, transferId: b & TAIL_TID_MASK };
}

// ---------------------------------------------------------------- subjects

/** Subject carrying GSU frames for `dst` (a node 0..127 or 0xff = BROADCAST). */
export function subjectFor(dst: number, base = DEFAULT_SUBJECT_BASE): number {
  if (dst === 0xff) return base + BROADCAST_SUBJECT_OFFSET;
  if (!Number.isInteger(dst) || dst < 0 || dst > NODE_ID_MAX) throw new RangeError(`cyphal: destination node ${dst} does not fit a Cyphal/CAN node-ID (0..127, or 255 for broadcast)`);
  return base + dst;
}

/** Inverse of subjectFor: the destination node, 0xff for broadcast, or undefined for a foreign subject. */
export function destinationOf(subject: number, base = DEFAULT_SUBJECT_BASE): number | undefined {
  const off = subject - base;
  if (off === BROADCAST_SUBJECT_OFFSET) return 0xff;
  if (off >= 0 && off <= NODE_ID_MAX) return off;
  return undefined;
}

export function checkSubjectBase(base: number): void {
  if (!Number.isInteger(base) || base < 0 || base + BROADCAST_SUBJECT_OFFSET > UNREGULATED_SUBJECT_MAX) {
    throw new RangeError(`cyphal: subject base ${base} must keep base..base+128 inside the unregulated range 0..${UNREGULATED_SUBJECT_MAX}`);
  }
}

// ---------------------------------------------------------------- encoder

export interface EncodeOptions {
  priority?: number;
  subject: number;
  source: number;
  /** Taken modulo 32. */
  transferId: number;
  /** Refuse transfers longer than this (default DEFAULT_MAX_TRANSFER). */
  maxTransfer?: number;
  /** 8: classic CAN (default); 64: CAN FD frames (Cyphal/CAN FD rules, padding to valid FD lengths). */
  mtu?: 8 | 64;
  /** CAN FD only: set the BRS bit (data phase at the data bitrate; default true). */
  brs?: boolean;
}

/** Number of CAN frames a transfer of `size` payload bytes takes (mtu 8: classic, 64: FD). */
export function frameCount(size: number, mtu: 8 | 64 = 8): number {
  const per = mtu - 1;
  return size <= per ? 1 : Math.ceil((size + 2) / per);
}

/** Splits one transfer into CAN frames (29-bit IDs, tail bytes, CRC on multi-frame; FD: padding to valid lengths). */
export function encodeTransfer(payload: Uint8Array, o: EncodeOptions): CanFrame[] {
  const max = o.maxTransfer ?? DEFAULT_MAX_TRANSFER;
  if (payload.length > max) throw new RangeError(`cyphal: transfer of ${payload.length} bytes exceeds the maximum of ${max}`);
  const id = makeMessageId({ priority: o.priority ?? PRIORITY_NOMINAL, subject: o.subject, source: o.source });
  const tid = o.transferId & TAIL_TID_MASK;
  const mtu = o.mtu ?? MTU_CLASSIC;
  if (mtu !== MTU_CLASSIC && mtu !== MTU_FD) throw new RangeError(`cyphal: mtu ${mtu} is neither 8 (classic CAN) nor 64 (CAN FD)`);
  const fd = mtu === MTU_FD;
  const per = mtu - 1;
  const mk = (data: Uint8Array): CanFrame => fd ? { id, ext: true, rtr: false, data, fd: true, brs: o.brs ?? true } : { id, ext: true, rtr: false, data };
  if (payload.length <= per) {
    const len = fd ? fdLength(payload.length + 1) : payload.length + 1;
    const data = new Uint8Array(len); // padding (FD) stays 0, between the payload and the tail
    data.set(payload);
    data[len - 1] = makeTail(true, true, true, tid);
    return [mk(data)];
  }
  // FD: the last frame is padded before the CRC (the padding inside the CRC) when the bytes
  // left plus CRC plus tail do not make a valid length; if the CRC straddles two frames,
  // the last frame holds 1 CRC byte + tail (length 2, valid): no padding.
  let body = payload;
  if (fd) {
    const rest = (payload.length + 2) % per; // bytes in the last frame before its tail (0: a full frame)
    if (rest >= 2) {
      const pad = fdLength(rest + 1) - (rest + 1);
      if (pad > 0) { body = new Uint8Array(payload.length + pad); body.set(payload); }
    }
  }
  const crc = crc16(body);
  const whole = new Uint8Array(body.length + 2);
  whole.set(body);
  whole[body.length] = crc >> 8; // CRC big-endian, after the payload (and padding)
  whole[body.length + 1] = crc & 0xff;
  const frames: CanFrame[] = [];
  let toggle = true;
  for (let off = 0; off < whole.length; off += per) {
    const piece = whole.subarray(off, Math.min(off + per, whole.length));
    const data = new Uint8Array(piece.length + 1);
    data.set(piece);
    data[piece.length] = makeTail(off === 0, off + per >= whole.length, toggle, tid);
    if (fd && data.length !== fdLength(data.length)) throw new Error(`cyphal: internal error: FD frame of ${data.length} bytes`);
    frames.push(mk(data));
    toggle = !toggle;
  }
  return frames;
}

// ---------------------------------------------------------------- decoder

export const DROP_REASONS = [
  "not-cyphal",        // 11-bit ID, RTR, no tail byte, reserved bit 23 or 7 set, service transfer
  "anonymous",         // anonymous message (no source node-ID to reply to)
  "unknown-node",      // source node-ID not in the configured set of known nodes
  "own-node-id",       // a frame claiming our own node-ID as source (node-ID collision)
  "missing-start",     // a continuation frame with no transfer in progress
  "bad-toggle",        // toggle bit out of sequence (duplicated or lost frame), or 0 in a first frame
  "wrong-transfer-id", // a continuation frame of another transfer than the one in progress
  "duplicate",         // a first frame repeating the last transfer-ID within the transfer-ID timeout
  "bad-frame-length",  // a non-last frame shorter than 8 bytes, or an empty frame of a multi-frame transfer
  "crc",               // CRC-16/CCITT-FALSE mismatch at the end of a multi-frame transfer
  "oversized",         // transfer longer than the configured maximum
  "timeout",           // a continuation frame arriving after the transfer-ID timeout; partial discarded
  "interrupted",       // a new transfer started before the one in progress ended; partial discarded
  "fd-mismatch",       // a CAN FD frame on a classic link, or a classic frame on an FD link (every node of a bus must use the same mode)
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export interface Transfer {
  source: number;
  subject: number;
  priority: number;
  transferId: number;
  payload: Uint8Array;
  /** Time (caller's units, µs by convention) of the first frame. */
  timestamp: number;
  /** Classic CAN frames it took. */
  frames: number;
}

export type DecodeResult =
  | { kind: "transfer"; transfer: Transfer }
  | { kind: "need-more" }
  | { kind: "drop"; reason: DropReason; detail?: string }
  /** A well-formed Cyphal frame on a subject this node does not listen to (not a fault on a shared bus). */
  | { kind: "ignored"; subject: number };

export interface DecoderOptions {
  /** This node's ID: frames with it as source are dropped ("own-node-id"). */
  self?: number;
  /** Subjects to reassemble; others are "ignored". Default: all. */
  accept?: (subject: number) => boolean;
  /** If given, sources outside it are dropped ("unknown-node"). */
  knownNodes?: Iterable<number>;
  /** Largest payload accepted (bytes). Default DEFAULT_MAX_TRANSFER. */
  maxTransfer?: number;
  /** Transfer-ID timeout, same units as the `now` passed to push(). Default 2 s in µs. */
  transferIdTimeout?: number;
  /** 8: classic CAN frames only (default); 64: CAN FD (non-last frames of 64 bytes, lengths valid FD lengths). */
  mtu?: 8 | 64;
  /**
   * Subjects whose transfer-IDs are a layer's sequence numbers (the link layer's sequenced
   * subjects): a repeated transfer-ID is not dropped here (the layer above drops duplicates
   * and must see a retransmission to acknowledge it again), and a first frame always starts
   * a new transfer. Default: none.
   */
  sequenced?: (subject: number) => boolean;
}

interface Partial {
  transferId: number;
  priority: number;
  toggle: boolean; // expected toggle of the next frame
  chunks: Uint8Array[];
  size: number;
  start: number;
  frames: number;
}

interface Session {
  lastTransferId: number;
  lastStart: number;
  partial?: Partial;
}

/**
 * Reassembles Cyphal/CAN message transfers, one session per (source node, subject).
 * push() returns an explicit result for every frame; every drop is counted by reason.
 * Memory is bounded: at most 128 sources x accepted subjects sessions, each
 * holding at most maxTransfer + 2 bytes.
 */
export class CyphalDecoder {
  readonly dropped: Record<string, number> = {};
  ignored = 0;
  private sessions = new Map<number, Session>();
  private readonly known?: Set<number>;
  private readonly max: number;
  private readonly timeout: number;
  private readonly mtu: number;

  constructor(private readonly o: DecoderOptions = {}) {
    this.mtu = o.mtu ?? MTU_CLASSIC;
    this.known = o.knownNodes ? new Set(o.knownNodes) : undefined;
    this.max = o.maxTransfer ?? DEFAULT_MAX_TRANSFER;
    this.timeout = o.transferIdTimeout ?? DEFAULT_TRANSFER_ID_TIMEOUT_US;
  }

  private drop(reason: DropReason, detail?: string): DecodeResult {
    this.dropped[reason] = (this.dropped[reason] ?? 0) + 1;
    return detail === undefined ? { kind: "drop", reason } : { kind: "drop", reason, detail };
  }

  /** Number of transfers being reassembled. */
  pending(): number {
    let n = 0;
    for (const s of this.sessions.values()) if (s.partial) n++;
    return n;
  }

  /** Discards partial transfers older than the transfer-ID timeout (each counted as "timeout"). */
  expire(now: number): number {
    let n = 0;
    for (const s of this.sessions.values()) {
      if (s.partial && now - s.partial.start > this.timeout) {
        s.partial = undefined;
        this.dropped.timeout = (this.dropped.timeout ?? 0) + 1;
        n++;
      }
    }
    return n;
  }

  /** Feeds one received CAN frame; `now` is the reception time (µs by convention). */
  push(f: CanFrame, now: number): DecodeResult {
    if (!f.ext || f.rtr) return this.drop("not-cyphal", f.rtr ? "RTR frame" : "11-bit identifier");
    const fdLink = this.mtu === MTU_FD;
    if (!fdLink && (f.fd === true || f.data.length > MTU_CLASSIC)) return this.drop("fd-mismatch", `a CAN FD frame (${f.data.length} bytes) on a classic CAN link`);
    if (fdLink && f.fd === false) return this.drop("fd-mismatch", `a classic CAN frame on a CAN FD link`);
    if (f.data.length < 1 || f.data.length > this.mtu || (fdLink && fdLength(f.data.length) !== f.data.length)) return this.drop("not-cyphal", `data length ${f.data.length}`);
    const id = parseMessageId(f.id);
    if (!id.ok) return this.drop("not-cyphal", id.reason === "service" ? "service transfer" : "reserved ID bits set");
    if (this.o.accept && !this.o.accept(id.subject)) {
      this.ignored++;
      return { kind: "ignored", subject: id.subject };
    }
    if (id.anonymous) return this.drop("anonymous");
    if (this.o.self !== undefined && id.source === this.o.self) return this.drop("own-node-id", `source ${id.source}`);
    if (this.known && !this.known.has(id.source)) return this.drop("unknown-node", `source ${id.source}`);

    const tail = parseTail(f.data[f.data.length - 1]);
    const body = f.data.subarray(0, f.data.length - 1);
    const key = (id.source << 13) | id.subject;
    let s = this.sessions.get(key);

    if (tail.sot) {
      if (!tail.toggle) return this.drop("bad-toggle", "first frame with toggle 0 (UAVCAN v0?)");
      const seqd = this.o.sequenced?.(id.subject) ?? false;
      if (s?.partial) {
        const p = s.partial;
        if (!seqd && p.transferId === tail.transferId && now - p.start <= this.timeout) return this.drop("duplicate", "repeated first frame");
        s.partial = undefined;
        this.dropped.interrupted = (this.dropped.interrupted ?? 0) + 1;
      }
      if (!seqd && s && s.lastTransferId === tail.transferId && now - s.lastStart <= this.timeout) {
        return this.drop("duplicate", `transfer-ID ${tail.transferId}`);
      }
      if (!s) { s = { lastTransferId: -1, lastStart: now }; this.sessions.set(key, s); }
      if (tail.eot) {
        if (body.length > this.max) return this.drop("oversized", `${body.length} > ${this.max}`);
        s.lastTransferId = tail.transferId;
        s.lastStart = now;
        return {
          kind: "transfer",
          transfer: { source: id.source, subject: id.subject, priority: id.priority, transferId: tail.transferId, payload: body.slice(), timestamp: now, frames: 1 },
        };
      }
      if (f.data.length !== this.mtu) return this.drop(fdLink && f.data.length === MTU_CLASSIC ? "fd-mismatch" : "bad-frame-length", `first frame of ${f.data.length} bytes${fdLink && f.data.length === MTU_CLASSIC ? " (a classic CAN transfer on a CAN FD link)" : ""}`);
      s.lastTransferId = tail.transferId;
      s.lastStart = now;
      s.partial = { transferId: tail.transferId, priority: id.priority, toggle: false, chunks: [body.slice()], size: body.length, start: now, frames: 1 };
      return { kind: "need-more" };
    }

    const p = s?.partial;
    if (!s || !p) return this.drop("missing-start", `transfer-ID ${tail.transferId}`);
    if (now - p.start > this.timeout) {
      s.partial = undefined;
      return this.drop("timeout", `transfer-ID ${p.transferId} started ${now - p.start} ago`);
    }
    if (tail.transferId !== p.transferId) return this.drop("wrong-transfer-id", `${tail.transferId}, expected ${p.transferId}`);
    if (tail.toggle !== p.toggle) return this.drop("bad-toggle", `expected toggle ${p.toggle ? 1 : 0}`);
    if (!tail.eot && f.data.length !== this.mtu) { s.partial = undefined; return this.drop("bad-frame-length", `middle frame of ${f.data.length} bytes`); }
    if (body.length === 0) { s.partial = undefined; return this.drop("bad-frame-length", "empty continuation frame"); }
    if (p.size + body.length > this.max + 2) { s.partial = undefined; return this.drop("oversized", `more than ${this.max} bytes`); }
    p.chunks.push(body.slice());
    p.size += body.length;
    p.frames++;
    p.toggle = !p.toggle;
    if (!tail.eot) return { kind: "need-more" };

    s.partial = undefined;
    const whole = new Uint8Array(p.size);
    let off = 0;
    for (const c of p.chunks) { whole.set(c, off); off += c.length; }
    if (whole.length < 2 || crc16(whole) !== 0) return this.drop("crc", `transfer-ID ${p.transferId} from ${id.source}`);
    return {
      kind: "transfer",
      transfer: { source: id.source, subject: id.subject, priority: p.priority, transferId: p.transferId, payload: whole.slice(0, whole.length - 2), timestamp: p.start, frames: p.frames },
    };
  }
}
