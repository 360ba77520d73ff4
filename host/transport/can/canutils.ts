// can-utils text formats, byte for byte (linux-can/can-utils lib.c):
//   parse_canframe        -> parseCanFrame   (cansend's FRAME argument)
//   sprint_canframe       -> formatCanFrame  (compact: "123#DEADBEEF", used by candump -L)
//   sprint_long_canframe  -> CandumpFormatter (candump's default columns)
// CAN FD: `<can_id>##<flags>{data}` (flags one hex digit: 1 BRS, 2 ESI), lengths 0..8, 12,
// 16, 20, 24, 32, 48, 64, as can-utils writes and reads them. Error frames are rejected.
import { FD_LENGTHS, type CanFrame } from "./cyphal.ts";

const hex = (n: number, w: number): string => n.toString(16).toUpperCase().padStart(w, "0");
const CAN_ERR_FLAG = 0x20000000;

/** Parses cansend syntax: `123#DEADBEEF`, `1ABCDE01#11.22`, `123#R`, `123#R3`, `123#`. Throws with the reason. */
export function parseCanFrame(s: string): CanFrame {
  const bad = (why: string): never => { throw new Error(`bad CAN frame '${s}': ${why} (expected <can_id>#{data}, e.g. 123#DEADBEEF, 1ABCDE01#11.22, 123#R)`); };
  let idx: number;
  let ext: boolean;
  if (s.length >= 4 && s[3] === "#") { idx = 4; ext = false; }
  else if (s.length >= 9 && s[8] === "#") { idx = 9; ext = true; }
  else return bad("the CAN ID must be 3 (standard) or 8 (extended) hex digits followed by '#'");
  const idText = s.slice(0, idx - 1);
  if (!/^[0-9A-Fa-f]+$/.test(idText)) return bad(`'${idText}' is not hex`);
  const id = parseInt(idText, 16);
  if (ext && id & CAN_ERR_FLAG) return bad("error frames (CAN_ERR_FLAG) cannot be sent");
  if (ext && id > 0x1fffffff) return bad("extended IDs are at most 1FFFFFFF");
  if (!ext && id > 0x7ff) return bad("standard IDs are at most 7FF");
  const rest = s.slice(idx);
  if (rest[0] === "R" || rest[0] === "r") {
    const d = rest.slice(1);
    if (d === "") return { id, ext, rtr: true, data: new Uint8Array(0) };
    if (!/^[0-8]$/.test(d)) return bad(`RTR length '${d}' is not one digit 0..8`);
    return { id, ext, rtr: true, data: new Uint8Array(0), dlc: Number(d) };
  }
  let fdFlags = -1;
  let i = 0;
  if (rest[0] === "#") {
    if (!/^[0-9A-Fa-f]$/.test(rest[1] ?? "")) return bad("a CAN FD frame needs one hex flags digit after '##' (e.g. 1ABCDE01##1DEADBEEF: BRS)");
    fdFlags = parseInt(rest[1], 16);
    i = 2;
  }
  const bytes: number[] = [];
  while (i < rest.length) {
    if (rest[i] === ".") { i++; continue; }
    const pair = rest.slice(i, i + 2);
    if (!/^[0-9A-Fa-f]{2}$/.test(pair)) return bad(`data must be pairs of hex digits, got '${rest.slice(i)}'`);
    bytes.push(parseInt(pair, 16));
    i += 2;
  }
  if (fdFlags >= 0) {
    if (!FD_LENGTHS.includes(bytes.length)) return bad(`${bytes.length} data bytes is not a CAN FD length (${FD_LENGTHS.join(", ")})`);
    return { id, ext, rtr: false, data: Uint8Array.from(bytes), fd: true, brs: (fdFlags & 1) !== 0 };
  }
  if (bytes.length > 8) return bad(`${bytes.length} data bytes; classic CAN carries at most 8`);
  return { id, ext, rtr: false, data: Uint8Array.from(bytes) };
}

/** sprint_canframe: `123#DEADBEEF`, `1ABCDE01#1122`, `123#R` (`sep` puts dots between bytes). */
export function formatCanFrame(f: CanFrame, sep = false): string {
  let s = f.ext ? `${hex(f.id, 8)}#` : `${hex(f.id & 0x7ff, 3)}#`;
  if (f.rtr) {
    const dlc = f.dlc ?? 0;
    return s + (dlc > 0 && dlc <= 8 ? `R${dlc}` : "R");
  }
  if (f.fd) s += `#${f.brs ? 1 : 0}`;
  s += Array.from(f.data, (b) => hex(b, 2)).join(sep ? "." : "");
  return s;
}

/**
 * candump's default line: `  can0  123   [4]  DE AD BE EF`.
 * Like candump, once an extended frame has been printed, standard IDs are
 * indented to line up with 8-digit ones (`  can0       123   [4]  ...`).
 * The interface column is right-aligned to the longest name (`width`).
 */
export class CandumpFormatter {
  private indentSff = false;
  constructor(private width = 0) {}

  format(iface: string, f: CanFrame): string {
    if (f.ext) this.indentSff = true;
    return ` ${" "}${iface.padStart(this.width)}  ${longFrame(f, this.indentSff)}`;
  }
}

/** sprint_long_canframe without ASCII/binary views. */
export function longFrame(f: CanFrame, indentSff = false): string {
  let s = f.ext ? `${hex(f.id, 8)}  ` : indentSff ? `     ${hex(f.id & 0x7ff, 3)}  ` : `${hex(f.id & 0x7ff, 3)}  `;
  const len = f.rtr ? (f.dlc ?? 0) : f.data.length;
  s += f.fd ? `[${String(len).padStart(2, "0")}] ` : ` [${len}] `; // can-utils: "[%02d] " for FD
  if (f.rtr) return s + " remote request";
  for (const b of f.data) s += ` ${hex(b, 2)}`;
  return s;
}
