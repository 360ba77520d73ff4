// Bus time of one CAN frame, bit by bit: the frame's bits are built (identifier, control,
// data, CRC) and bit stuffing is computed on them exactly, not estimated. Used by the
// link benchmarks (scripts/bench-links-can.ts) to say what share of the bus the demo's
// payload takes. docs/wire.md, "Bus time", gives the layouts.
//
// Classic CAN, 29-bit identifier (ISO 11898-1 CBFF/CEFF data frame):
//   SOF 1 | ID-A 11 | SRR 1 | IDE 1 | ID-B 18 | RTR 1 | r1 1 | r0 1 | DLC 4 | data 8n | CRC 15
//   (all of these stuffed: after 5 equal bits, one complementary bit)
//   | CRC delimiter 1 | ACK 1 | ACK delimiter 1 | EOF 7 | intermission 3      (not stuffed)
// CAN FD, 29-bit identifier (FEFF), ISO 11898-1:2015:
//   nominal rate:  SOF 1 | ID-A 11 | SRR 1 | IDE 1 | ID-B 18 | RRS 1 | FDF 1 | res 1 | BRS 1
//   data rate:     ESI 1 | DLC 4 | data 8n                (dynamically stuffed, continuing from above)
//                  stuff count 4 | CRC 17 (n <= 16) or 21 | fixed stuff bits: one before the
//                  stuff count and one after every 4 bits (6 with CRC-17, 7 with CRC-21)
//                  | CRC delimiter 1
//   nominal rate:  ACK 1 | ACK delimiter 1 | EOF 7 | intermission 3
// Without BRS the data phase runs at the nominal rate. The bit rate switches at the sample
// points of BRS and of the CRC delimiter; here BRS counts at the nominal rate and the CRC
// delimiter at the data rate (the two halves roughly cancel).
import type { CanFrame } from "./cyphal.ts";

export interface FrameBits {
  /** Bits sent at the nominal (arbitration) rate, stuff bits included. */
  nominal: number;
  /** Bits sent at the data rate (CAN FD with BRS; else 0). */
  data: number;
  /** Stuff bits among them (dynamic; FD's fixed stuff bits included). */
  stuff: number;
}

export interface BusRates {
  /** Nominal (arbitration) bit rate, bit/s. */
  nominal: number;
  /** CAN FD data bit rate, bit/s (used for frames with BRS). */
  data: number;
}

function pushBits(out: number[], v: number, n: number): void {
  for (let i = n - 1; i >= 0; i--) out.push((v >>> i) & 1);
}

/** CRC-15/CAN (x^15+x^14+x^10+x^8+x^7+x^4+x^3+1, init 0) over a bit sequence. */
export function crc15Bits(bits: readonly number[]): number {
  let crc = 0;
  for (const b of bits) {
    const nxt = b ^ ((crc >> 14) & 1);
    crc = (crc << 1) & 0x7fff;
    if (nxt) crc ^= 0x4599;
  }
  return crc;
}

/** Stuff bits a transmitter inserts into `bits` (5 equal bits in a row, stuff bits counted in the run). `run`/`last` carry state across calls. */
function stuffCount(bits: readonly number[], st: { run: number; last: number }): number {
  let n = 0;
  for (const b of bits) {
    if (b === st.last) st.run++;
    else { st.last = b; st.run = 1; }
    if (st.run === 5) { n++; st.last = 1 - b; st.run = 1; }
  }
  return n;
}

/** The bits a classic extended (29-bit) data frame sends, stuff bits counted exactly. */
export function classicFrameBits(f: CanFrame): FrameBits {
  if (!f.ext) throw new RangeError("bits: only 29-bit frames are costed (GSU sends no 11-bit frames)");
  const n = f.data.length;
  if (n > 8) throw new RangeError(`bits: a classic frame carries at most 8 bytes, not ${n}`);
  const b: number[] = [0];
  pushBits(b, f.id >>> 18, 11);
  b.push(1, 1); // SRR, IDE
  pushBits(b, f.id & 0x3ffff, 18);
  b.push(f.rtr ? 1 : 0, 0, 0); // RTR, r1, r0
  pushBits(b, n, 4);
  if (!f.rtr) for (const x of f.data) pushBits(b, x, 8);
  pushBits(b, crc15Bits(b), 15);
  const stuff = stuffCount(b, { run: 0, last: -1 });
  return { nominal: b.length + stuff + 13, data: 0, stuff };
}

const FD_DLC: Record<number, number> = { 0: 0, 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 7, 8: 8, 12: 9, 16: 10, 20: 11, 24: 12, 32: 13, 48: 14, 64: 15 };

/** The bits a CAN FD extended data frame sends, split by rate, dynamic stuff bits counted exactly. */
export function fdFrameBits(f: CanFrame, brs = f.brs ?? true): FrameBits {
  const n = f.data.length;
  const dlc = FD_DLC[n];
  if (dlc === undefined) throw new RangeError(`bits: ${n} is not a CAN FD data length`);
  const arb: number[] = [0];
  pushBits(arb, f.id >>> 18, 11);
  arb.push(1, 1);
  pushBits(arb, f.id & 0x3ffff, 18);
  arb.push(0, 1, 0, brs ? 1 : 0); // RRS, FDF, res, BRS
  const dat: number[] = [0]; // ESI (error active)
  pushBits(dat, dlc, 4);
  for (const x of f.data) pushBits(dat, x, 8);
  const st = { run: 0, last: -1 };
  const sArb = stuffCount(arb, st), sDat = stuffCount(dat, st);
  const crcLen = n <= 16 ? 17 : 21;
  const fixed = crcLen === 17 ? 6 : 7;
  const crcField = 4 + crcLen + fixed + 1; // stuff count, CRC, fixed stuff bits, delimiter
  const nominal = arb.length + sArb + 12; // + ACK, ACK delimiter, EOF, intermission
  const data = dat.length + sDat + crcField;
  return brs ? { nominal, data, stuff: sArb + sDat + fixed } : { nominal: nominal + data, data: 0, stuff: sArb + sDat + fixed };
}

/** Bits of any frame (classic, or FD when f.fd). */
export function frameBits(f: CanFrame): FrameBits {
  return f.fd ? fdFrameBits(f) : classicFrameBits(f);
}

/** Seconds on the bus. */
export function busSeconds(b: FrameBits, r: BusRates): number {
  return b.nominal / r.nominal + b.data / r.data;
}
