// The piggybacked protocol header (docs/wire.md):
//   byte 0:  kind (3 bits) | dirty (1 bit) | recovery epoch mod 16 (4 bits)
//   then:    int_mSN_G^low as unsigned LEB128 (1-5 bytes, minimal form)
//   then, for PASSED_AT, BOUND and APPLY only: the ext bound as unsigned LEB128.
import {
  E_HDR_DIRTY, E_HDR_EMPTY, E_HDR_KIND, E_HDR_NONCANONICAL, E_HDR_OVERFLOW, E_HDR_TRUNCATED,
} from "./constants";

export const HK_APP: u32 = 0;        // application message
export const HK_PASSED_AT: u32 = 1;  // "passed AT"(v, vext)
export const HK_BEGIN: u32 = 2;      // recovery round: begin (index = the new epoch's number)
export const HK_BOUND: u32 = 3;      // recovery round: a core's bounds (v, vext)
export const HK_APPLY: u32 = 4;      // recovery round: the agreed V, Vext
export const HK_COUNTER: u32 = 5;    // a shared counter's new value (index), which in aux
export const HK_CONTROL: u32 = 6;    // end of guarded operation and other control (index = code)
export const HK_LAST: u32 = 6;

// @ts-ignore: decorator
@inline export function hasAux(kind: u32): bool {
  return kind == HK_PASSED_AT || kind == HK_BOUND || kind == HK_APPLY || kind == HK_COUNTER;
}

function putVarint(at: usize, v: u32): u32 {
  let n: u32 = 0;
  while (v >= 0x80) { store<u8>(at + n, <u8>(v & 0x7f) | 0x80); v >>= 7; n++; }
  store<u8>(at + n, <u8>v);
  return n + 1;
}

// Writes a header at `at`; returns its length (at most 11 bytes).
export function encode(at: usize, kind: u32, dirty: u32, index: u32, ep: u32, aux: u32): u32 {
  store<u8>(at, <u8>(((kind & 7) << 5) | ((dirty & 1) << 4) | (ep & 15)));
  let n: u32 = 1 + putVarint(at + 1, index);
  if (hasAux(kind)) n += putVarint(at + n, aux);
  return n;
}

export let hKind: u32 = 0;
export let hDirty: u32 = 0;
export let hEpoch: u32 = 0;
export let hIndex: u32 = 0;
export let hAux: u32 = 0;
export let hLen: u32 = 0;      // bytes the header took; the payload follows
export let hErrAux: u32 = 0;   // the last error was in the aux varint
let vOut: u32 = 0;

// Reads one varint at [at+pos, at+len); returns bytes used or a negative status.
function getVarint(at: usize, pos: u32, len: u32): i32 {
  let v: u32 = 0;
  for (let i: u32 = 0; i < 5; i++) {
    if (pos + i >= len) return E_HDR_TRUNCATED;
    const b = <u32>load<u8>(at + pos + i);
    if (i == 4 && b > 0x0f) return E_HDR_OVERFLOW;
    v |= (b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) {
      if (i > 0 && b == 0) return E_HDR_NONCANONICAL;
      vOut = v;
      return <i32>(i + 1);
    }
  }
  return E_HDR_OVERFLOW;
}

// Parses a header from [at, at+len). Returns 0 and sets h* globals, or a negative status.
export function decode(at: usize, len: u32): i32 {
  hErrAux = 0;
  if (len == 0) return E_HDR_EMPTY;
  const b0 = <u32>load<u8>(at);
  const kind = b0 >> 5, dirty = (b0 >> 4) & 1;
  if (kind > HK_LAST) return E_HDR_KIND;
  if (dirty != 0 && kind != HK_APP) return E_HDR_DIRTY;
  let pos: u32 = 1;
  let r = getVarint(at, pos, len);
  if (r < 0) return r;
  pos += <u32>r;
  const index = vOut;
  let aux: u32 = 0;
  if (hasAux(kind)) {
    r = getVarint(at, pos, len);
    if (r < 0) { hErrAux = 1; return r; }
    pos += <u32>r;
    aux = vOut;
  }
  hKind = kind; hDirty = dirty; hEpoch = b0 & 15; hIndex = index; hAux = aux; hLen = pos;
  return 0;
}
