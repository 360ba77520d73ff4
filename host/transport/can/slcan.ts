// SLCAN (Lawicel CAN232/CANUSB ASCII protocol) codec: pure functions that build
// the commands a host sends, and a small stateful line parser for what an
// adapter sends back. No I/O here; bus.ts's SlcanBus does the serial port.
//
// Host -> adapter, every command ends with '\r':
//   O            open the channel            C            close the channel
//   Sn           bitrate n = 0..8 (table below, set while closed)
//   tiiildd..    standard data frame: 3 hex ID digits, 1 DLC digit, 2 hex per byte
//   Tiiiiiiiildd.. extended data frame: 8 hex ID digits, DLC, data
//   riiil        standard RTR frame      Riiiiiiiil   extended RTR frame
// CAN FD extension (CANable 2.0 firmware, python-can's slcan.py): the DLC is one hex digit
// 0..F (lengths 0..8, 12, 16, 20, 24, 32, 48, 64), and
//   diiil.. / Diiiiiiiil..   FD frame, no bit rate switch      (standard / extended ID)
//   biiil.. / Biiiiiiiil..   FD frame with bit rate switch (BRS)
//   Yn           data bitrate: Y2 = 2 Mbit/s, Y5 = 5 Mbit/s (after Sn, while closed)
// Adapter -> host:
//   '\r'         OK (acknowledges O, C, Sn, ...)
//   'z\r' 'Z\r'  OK for a transmitted t/r or T/R frame (Lawicel auto-poll mode)
//   BEL (0x07)   error: command refused or not understood
//   t/T/r/R lines as above for received frames, optionally followed by a
//   4-hex-digit millisecond timestamp (after 'Z1')
//   other lines  replies such as 'V1013' (version), 'NA123' (serial), 'F00' (status)
import { FD_LENGTHS, fdDlc, type CanFrame } from "./cyphal.ts";

export const SLCAN_BITRATES: readonly number[] = [10_000, 20_000, 50_000, 100_000, 125_000, 250_000, 500_000, 800_000, 1_000_000];
export const BEL = 0x07;
export const CR = 0x0d;
/** CAN FD data bitrates of the SLCAN 'Y' command (CANable 2.0, python-can): Y2, Y5. */
export const SLCAN_DATA_BITRATES: readonly number[] = [2_000_000, 5_000_000];
/** Longest valid classic line: 'T' + 8 ID + 1 DLC + 16 data + 4 timestamp. */
export const SLCAN_MAX_LINE = 30;
/** Longest valid line with the FD extension: 'B' + 8 ID + 1 DLC + 128 data + 4 timestamp. */
export const SLCAN_FD_MAX_LINE = 142;

export function dataBitrateCommand(bitrate: number): string {
  if (!SLCAN_DATA_BITRATES.includes(bitrate)) {
    throw new RangeError(`slcan: CAN FD data bitrate ${bitrate} is not one of ${SLCAN_DATA_BITRATES.join(", ")} bit/s (Y2, Y5)`);
  }
  return `Y${bitrate / 1_000_000}\r`;
}

export function bitrateCommand(bitrate: number): string {
  const n = SLCAN_BITRATES.indexOf(bitrate);
  if (n < 0) {
    throw new RangeError(`slcan: bitrate ${bitrate} is not one of the standard SLCAN rates (${SLCAN_BITRATES.join(", ")} bit/s: S0..S8)`);
  }
  return `S${n}\r`;
}
export const openCommand = (): string => "O\r";
export const closeCommand = (): string => "C\r";
export const listenOnlyCommand = (): string => "L\r";

const hex = (n: number, w: number): string => n.toString(16).toUpperCase().padStart(w, "0");

/** Encodes one frame as an SLCAN transmit command (t, T, r or R), '\r' included. */
export function encodeFrame(f: CanFrame): string {
  const max = f.ext ? 0x1fffffff : 0x7ff;
  if (!Number.isInteger(f.id) || f.id < 0 || f.id > max) throw new RangeError(`slcan: ID 0x${f.id.toString(16)} does not fit a ${f.ext ? 29 : 11}-bit identifier`);
  const id = f.ext ? hex(f.id, 8) : hex(f.id, 3);
  if (f.fd) {
    if (f.rtr) throw new RangeError("slcan: CAN FD has no remote frames");
    let s = `${f.brs ? (f.ext ? "B" : "b") : (f.ext ? "D" : "d")}${id}${fdDlc(f.data.length).toString(16).toUpperCase()}`;
    for (const b of f.data) s += hex(b, 2);
    return s + "\r";
  }
  if (f.data.length > 8) throw new RangeError(`slcan: ${f.data.length} data bytes; classic CAN carries at most 8`);
  const cmd = f.rtr ? (f.ext ? "R" : "r") : (f.ext ? "T" : "t");
  if (f.rtr) return `${cmd}${id}${f.dlc ?? 0}\r`;
  let s = `${cmd}${id}${f.data.length}`;
  for (const b of f.data) s += hex(b, 2);
  return s + "\r";
}

const HEX = /^[0-9A-Fa-f]*$/;

export type ParsedLine =
  | { type: "frame"; frame: CanFrame; timestamp?: number }
  | { type: "ack"; text: "" | "z" | "Z" }
  | { type: "reply"; text: string }
  | { type: "garbage"; text: string; reason: string };

/** Parses one line (without its '\r'). A frame line with a bad length or non-hex digit is "garbage". */
export function parseLine(line: string): ParsedLine {
  if (line === "" || line === "z" || line === "Z") return { type: "ack", text: line };
  const c = line[0];
  if (c === "t" || c === "T" || c === "r" || c === "R") {
    const ext = c === "T" || c === "R";
    const rtr = c === "r" || c === "R";
    const idLen = ext ? 8 : 3;
    if (line.length < 1 + idLen + 1) return { type: "garbage", text: line, reason: "truncated frame" };
    const idText = line.slice(1, 1 + idLen);
    const dlcText = line[1 + idLen];
    const rest = line.slice(2 + idLen);
    if (!HEX.test(idText) || !/^[0-8]$/.test(dlcText) || !HEX.test(rest)) return { type: "garbage", text: line, reason: "not hex" };
    const id = parseInt(idText, 16);
    if (id > (ext ? 0x1fffffff : 0x7ff)) return { type: "garbage", text: line, reason: "identifier out of range" };
    const dlc = Number(dlcText);
    const dataLen = rtr ? 0 : dlc * 2;
    if (rest.length !== dataLen && rest.length !== dataLen + 4) return { type: "garbage", text: line, reason: `length does not match DLC ${dlc}` };
    const data = new Uint8Array(rtr ? 0 : dlc);
    for (let i = 0; i < data.length; i++) data[i] = parseInt(rest.slice(2 * i, 2 * i + 2), 16);
    const frame: CanFrame = rtr ? { id, ext, rtr, data, dlc } : { id, ext, rtr, data };
    return rest.length === dataLen + 4
      ? { type: "frame", frame, timestamp: parseInt(rest.slice(dataLen), 16) }
      : { type: "frame", frame };
  }
  if (c === "d" || c === "D" || c === "b" || c === "B") {
    const ext = c === "D" || c === "B";
    const idLen = ext ? 8 : 3;
    if (line.length < 1 + idLen + 1) return { type: "garbage", text: line, reason: "truncated frame" };
    const idText = line.slice(1, 1 + idLen), dlcText = line[1 + idLen], rest = line.slice(2 + idLen);
    if (!HEX.test(idText) || !/^[0-9A-Fa-f]$/.test(dlcText) || !HEX.test(rest)) return { type: "garbage", text: line, reason: "not hex" };
    const id = parseInt(idText, 16);
    if (id > (ext ? 0x1fffffff : 0x7ff)) return { type: "garbage", text: line, reason: "identifier out of range" };
    const len = FD_LENGTHS[parseInt(dlcText, 16)];
    if (rest.length !== 2 * len && rest.length !== 2 * len + 4) return { type: "garbage", text: line, reason: `length does not match FD DLC ${dlcText} (${len} bytes)` };
    const data = new Uint8Array(len);
    for (let i = 0; i < len; i++) data[i] = parseInt(rest.slice(2 * i, 2 * i + 2), 16);
    const frame: CanFrame = { id, ext, rtr: false, data, fd: true, brs: c === "b" || c === "B" };
    return rest.length === 2 * len + 4 ? { type: "frame", frame, timestamp: parseInt(rest.slice(2 * len), 16) } : { type: "frame", frame };
  }
  if (/^[\x20-\x7e]+$/.test(line)) return { type: "reply", text: line };
  return { type: "garbage", text: line, reason: "non-printable bytes" };
}

export type SlcanEvent = ParsedLine | { type: "error" };

/**
 * Stateful parser for the adapter -> host byte stream. Feed it chunks as they
 * arrive; it returns the events they complete. BEL is an event on its own
 * (adapters send it without '\r'). Garbage (non-printable bytes, unknown or
 * malformed lines, overlong runs without '\r') becomes a "garbage" event and
 * the parser resynchronises at the next '\r' or BEL.
 */
export class SlcanParser {
  private buf = "";
  private overflow = false;
  garbage = 0;
  errors = 0;
  /** maxLine: SLCAN_MAX_LINE (classic adapters), SLCAN_FD_MAX_LINE with the FD extension. */
  constructor(private readonly maxLine = SLCAN_MAX_LINE) {}

  push(chunk: Uint8Array | string): SlcanEvent[] {
    const out: SlcanEvent[] = [];
    const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("latin1");
    for (const ch of text) {
      const code = ch.charCodeAt(0);
      if (code === BEL) {
        if (this.buf.length > 0 || this.overflow) this.emitGarbage(out, "unterminated line before BEL");
        this.errors++;
        out.push({ type: "error" });
        continue;
      }
      if (code === CR) {
        if (this.overflow) this.emitGarbage(out, "line too long");
        else {
          const ev = parseLine(this.buf);
          if (ev.type === "garbage") this.garbage++;
          out.push(ev);
        }
        this.buf = "";
        this.overflow = false;
        continue;
      }
      if (code === 0x0a && this.buf.length === 0) continue; // tolerate "\r\n" line ends
      if (this.overflow) continue;
      this.buf += ch;
      if (this.buf.length > this.maxLine) this.overflow = true;
    }
    return out;
  }

  private emitGarbage(out: SlcanEvent[], reason: string): void {
    this.garbage++;
    out.push({ type: "garbage", text: this.buf, reason });
    this.buf = "";
    this.overflow = false;
  }
}
