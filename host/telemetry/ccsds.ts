// CCSDS Space Packets (CCSDS 133.0-B-2, Space Packet Protocol), the packet format
// F Prime and cFS ground tools decode. Pure encode/decode, no I/O.
//
// Primary header, 6 octets, big endian (bit 0 = most significant bit of octet 0):
//
//   bits  0-2   packet version number     000
//   bit   3     packet type               0 telemetry, 1 telecommand
//   bit   4     secondary header flag     1: a secondary header follows
//   bits  5-15  APID                      11 bits (0x7FF = idle packet)
//   bits 16-17  sequence flags            11 unsegmented (01 first, 00 continuation, 10 last)
//   bits 18-31  packet sequence count     14 bits, per APID, wraps at 16384
//   bits 32-47  packet data length        octets in the packet data field minus 1
//
// GSU's secondary header (6 octets, always present in GSU telemetry) is a CUC-like
// time code (CCSDS 301.0-B-4 unsegmented code, P-field not transmitted; it would be
// 0x2E: agency-defined epoch, 4 coarse octets, 2 fine octets):
//
//   octets 0-3  seconds since the board's epoch, u32 big endian
//   octets 4-5  sub-seconds in units of 2^-16 s, u16 big endian
//
// The epoch is the Unix epoch (1970-01-01T00:00:00Z, leap seconds not counted) on a
// real board, and the start of the run on the simulated testbed.
//
// Raw CCSDS has no sync marker, so a decoder that loses its place cannot find the
// next header: it relies on the link framing (serial envelope, Cyphal transfer) to
// deliver whole frames, each holding one or more packets back to back.

export const PRIMARY_HEADER_BYTES = 6;
export const TIME_BYTES = 6;
export const APID_MAX = 0x7ff;
export const IDLE_APID = 0x7ff;
export const SEQ_COUNT_MODULO = 1 << 14;
export const SEQ_UNSEGMENTED = 0b11;
/** Largest packet the format allows: 6 + 65536 octets. */
export const MAX_PACKET_BYTES = PRIMARY_HEADER_BYTES + 65536;

export interface PrimaryHeader {
  version: number;        // 3 bits, 0
  type: 0 | 1;            // 0 telemetry, 1 telecommand
  secondaryHeader: boolean;
  apid: number;           // 11 bits
  seqFlags: number;       // 2 bits
  seqCount: number;       // 14 bits
  dataLength: number;     // packet data field octets - 1
}

export class CcsdsError extends Error {
  constructor(message: string, readonly field: string) {
    super(message);
    this.name = "CcsdsError";
  }
}

const checkField = (name: string, v: number, max: number) => {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new CcsdsError(`CCSDS ${name} must be an integer in 0..${max}, not ${v}`, name);
};

/** The 6 primary header octets, bit exact per CCSDS 133.0-B-2 §4.1.3. */
export function encodePrimaryHeader(h: PrimaryHeader): Uint8Array {
  checkField("version", h.version, 7);
  checkField("type", h.type, 1);
  checkField("apid", h.apid, APID_MAX);
  checkField("seqFlags", h.seqFlags, 3);
  checkField("seqCount", h.seqCount, SEQ_COUNT_MODULO - 1);
  checkField("dataLength", h.dataLength, 0xffff);
  const b = new Uint8Array(PRIMARY_HEADER_BYTES);
  const id = (h.version << 13) | (h.type << 12) | ((h.secondaryHeader ? 1 : 0) << 11) | h.apid;
  const psc = (h.seqFlags << 14) | h.seqCount;
  b[0] = id >>> 8; b[1] = id & 0xff;
  b[2] = psc >>> 8; b[3] = psc & 0xff;
  b[4] = h.dataLength >>> 8; b[5] = h.dataLength & 0xff;
  return b;
}

/** Reads the primary header fields; `b` must hold at least 6 octets. */
export function decodePrimaryHeader(b: Uint8Array): PrimaryHeader {
  if (b.length < PRIMARY_HEADER_BYTES) throw new CcsdsError(`CCSDS primary header needs 6 octets, got ${b.length}`, "header");
  const id = (b[0] << 8) | b[1];
  const psc = (b[2] << 8) | b[3];
  return {
    version: id >>> 13, type: ((id >>> 12) & 1) as 0 | 1, secondaryHeader: ((id >>> 11) & 1) === 1, apid: id & APID_MAX,
    seqFlags: psc >>> 14, seqCount: psc & (SEQ_COUNT_MODULO - 1), dataLength: (b[4] << 8) | b[5],
  };
}

// ---- time ---------------------------------------------------------------------------------
/** Microseconds since the epoch -> 4 + 2 octet CUC-like time (sub-seconds rounded down). */
export function encodeTime(us: number): Uint8Array {
  if (!Number.isFinite(us) || us < 0) throw new CcsdsError(`time must be >= 0 microseconds, not ${us}`, "time");
  const sec = Math.floor(us / 1e6);
  if (sec > 0xffffffff) throw new CcsdsError(`time ${us} us overflows 32-bit seconds`, "time");
  const sub = Math.floor(((us - sec * 1e6) * 65536) / 1e6);
  const b = new Uint8Array(TIME_BYTES);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, sec);
  dv.setUint16(4, sub);
  return b;
}

/** CUC-like time octets -> microseconds (resolution 2^-16 s, about 15.3 us). */
export function decodeTime(b: Uint8Array): number {
  if (b.length < TIME_BYTES) throw new CcsdsError(`time code: ${b.length} octets, need ${TIME_BYTES}`, "time");
  const dv = new DataView(b.buffer, b.byteOffset, TIME_BYTES);
  return dv.getUint32(0) * 1e6 + Math.round((dv.getUint16(4) * 1e6) / 65536);
}

// ---- packets ------------------------------------------------------------------------------
export interface PacketFields {
  apid: number;
  seqCount: number;
  /** Time for the secondary header, microseconds since the epoch. */
  timeUs: number;
  /** User data (after the secondary header). */
  data: Uint8Array;
  /** Default 0 (telemetry). */
  type?: 0 | 1;
}

/** One telemetry packet: primary header, time secondary header, user data. */
export function encodePacket(p: PacketFields): Uint8Array {
  const n = TIME_BYTES + p.data.length;
  if (n > 65536) throw new CcsdsError(`packet data field of ${n} octets exceeds 65536`, "dataLength");
  const out = new Uint8Array(PRIMARY_HEADER_BYTES + n);
  out.set(encodePrimaryHeader({ version: 0, type: p.type ?? 0, secondaryHeader: true, apid: p.apid, seqFlags: SEQ_UNSEGMENTED, seqCount: p.seqCount, dataLength: n - 1 }), 0);
  out.set(encodeTime(p.timeUs), PRIMARY_HEADER_BYTES);
  out.set(p.data, PRIMARY_HEADER_BYTES + TIME_BYTES);
  return out;
}

/** Sequence counts per APID, 14 bits, wrapping (CCSDS 133.0-B-2 §4.1.3.4.3). */
export class SequenceCounter {
  private next = new Map<number, number>();
  take(apid: number): number {
    const n = this.next.get(apid) ?? 0;
    this.next.set(apid, (n + 1) % SEQ_COUNT_MODULO);
    return n;
  }
}

export interface DecodedPacket {
  header: PrimaryHeader;
  timeUs: number;
  data: Uint8Array;
  /** The whole packet as received. */
  raw: Uint8Array;
}

export type RejectReason =
  | "version"            // packet version number is not 000
  | "not-telemetry"      // packet type 1 (telecommand) on the telemetry path
  | "no-secondary-header"// GSU telemetry always carries the time secondary header
  | "segmented"          // sequence flags other than 11 (GSU never segments)
  | "short"              // data field shorter than the secondary header
  | "oversized"          // declared length above the decoder's limit
  | "unknown-apid"       // APID not accepted by the caller (skipped, length known)
  | "truncated"          // the frame or stream ended inside a packet
  | "desync";            // bytes after an untrusted header, before the next link frame

export type PacketEvent =
  | { kind: "packet"; packet: DecodedPacket }
  | { kind: "idle"; bytes: number }
  | { kind: "reject"; reason: RejectReason; detail: string; bytes: number };

export interface DecoderOptions {
  /** Largest whole packet accepted (default 4096 octets). */
  maxPacket?: number;
  /** Which APIDs this ground knows; others are skipped as unknown-apid. Default: all. */
  knownApid?: (apid: number) => boolean;
}

/**
 * Sans-I/O packet decoder over a byte stream holding packets back to back.
 * push() returns one event per packet, idle packet or rejection. A header it
 * cannot trust (bad version, oversized length) loses the packet boundary, so
 * the decoder discards everything buffered and waits for the caller to
 * resynchronise it with reset() at the next link frame; frame() does both.
 */
export class PacketDecoder {
  readonly maxPacket: number;
  private buf = new Uint8Array(0);
  private lost = false;
  private known: (apid: number) => boolean;
  readonly counts = { packets: 0, idle: 0, rejected: {} as Record<string, number> };

  constructor(o: DecoderOptions = {}) {
    this.maxPacket = o.maxPacket ?? 4096;
    this.known = o.knownApid ?? (() => true);
  }

  /** Bytes buffered for an incomplete packet. */
  get buffered(): number { return this.buf.length; }

  push(chunk: Uint8Array): PacketEvent[] {
    const out: PacketEvent[] = [];
    if (this.lost) { this.reject(out, "desync", "discarded: no packet boundary since a bad header; waiting for the next link frame", chunk.length); return out; }
    const b = this.buf.length ? concat(this.buf, chunk) : chunk;
    let o = 0;
    while (b.length - o >= PRIMARY_HEADER_BYTES) {
      const h = decodePrimaryHeader(b.subarray(o));
      const total = PRIMARY_HEADER_BYTES + h.dataLength + 1;
      if (h.version !== 0) { this.loseSync(out, "version", `packet version ${h.version}, not 0`, b.length - o); o = b.length; break; }
      if (total > this.maxPacket) { this.loseSync(out, "oversized", `packet of ${total} octets exceeds ${this.maxPacket}`, b.length - o); o = b.length; break; }
      if (b.length - o < total) break;
      const raw = b.slice(o, o + total);
      o += total;
      if (h.apid === IDLE_APID) { this.counts.idle++; out.push({ kind: "idle", bytes: total }); continue; }
      if (h.type !== 0) { this.reject(out, "not-telemetry", `telecommand packet, APID ${h.apid}`, total); continue; }
      if (!h.secondaryHeader) { this.reject(out, "no-secondary-header", `APID ${h.apid} has no secondary header`, total); continue; }
      if (h.seqFlags !== SEQ_UNSEGMENTED) { this.reject(out, "segmented", `sequence flags ${h.seqFlags.toString(2).padStart(2, "0")}, APID ${h.apid}`, total); continue; }
      if (h.dataLength + 1 < TIME_BYTES) { this.reject(out, "short", `data field of ${h.dataLength + 1} octets is shorter than the ${TIME_BYTES}-octet time`, total); continue; }
      if (!this.known(h.apid)) { this.reject(out, "unknown-apid", `APID ${h.apid} (0x${h.apid.toString(16)})`, total); continue; }
      this.counts.packets++;
      out.push({ kind: "packet", packet: { header: h, timeUs: decodeTime(raw.subarray(6, 12)), data: raw.subarray(12), raw } });
    }
    this.buf = o < b.length ? b.slice(o) : new Uint8Array(0);
    return out;
  }

  /** End of a link frame or of the stream: a partial packet is truncated. Ready for the next frame. */
  end(): PacketEvent[] {
    const out: PacketEvent[] = [];
    if (this.buf.length && !this.lost) this.reject(out, "truncated", `${this.buf.length} octets of an incomplete packet`, this.buf.length);
    this.reset();
    return out;
  }

  /** Forgets the partial packet and the lost-sync state (the link framing found a boundary). */
  reset(): void { this.buf = new Uint8Array(0); this.lost = false; }

  /** Decodes one whole link frame (packets back to back). */
  frame(bytes: Uint8Array): PacketEvent[] {
    this.reset();
    return [...this.push(bytes), ...this.end()];
  }

  private loseSync(out: PacketEvent[], reason: RejectReason, detail: string, bytes: number): void {
    this.reject(out, reason, detail, bytes);
    this.lost = true;
  }
  private reject(out: PacketEvent[], reason: RejectReason, detail: string, bytes: number): void {
    this.counts.rejected[reason] = (this.counts.rejected[reason] ?? 0) + 1;
    out.push({ kind: "reject", reason, detail, bytes });
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const c = new Uint8Array(a.length + b.length);
  c.set(a, 0);
  c.set(b, a.length);
  return c;
}

/** An idle packet (APID 0x7FF) of `dataBytes` octets, e.g. to pad a fixed-size frame. */
export function idlePacket(dataBytes = 1): Uint8Array {
  const out = new Uint8Array(PRIMARY_HEADER_BYTES + Math.max(1, dataBytes));
  out.set(encodePrimaryHeader({ version: 0, type: 0, secondaryHeader: false, apid: IDLE_APID, seqFlags: SEQ_UNSEGMENTED, seqCount: 0, dataLength: out.length - 7 }));
  return out;
}
