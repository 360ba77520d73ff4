// CRC-32/ISO-HDLC (the zlib/Ethernet CRC: poly 0x04C11DB7 reflected, init and
// xorout 0xFFFFFFFF; check value of "123456789" is 0xCBF43926).
// Node >= 20.15 has zlib.crc32 (native); older Node gets the table version below,
// which is also exported so tests can check the two agree.
import * as zlib from "node:zlib";

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** Table-driven CRC-32/ISO-HDLC; `crc` continues a previous result. */
export function crc32Table(data: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

type Crc32 = (data: Uint8Array, crc?: number) => number;
const native = (zlib as unknown as { crc32?: Crc32 }).crc32;

/** CRC-32/ISO-HDLC of `data`, native when the runtime has zlib.crc32. */
export const crc32: Crc32 = typeof native === "function" ? (d, c = 0) => native(d, c) >>> 0 : crc32Table;
export const crc32IsNative = typeof native === "function";
