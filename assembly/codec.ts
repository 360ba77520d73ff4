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

// ---- vectors (docs/wire.md "Vectors"; docs/protocol.md point 4) -------------------
// Members on several boards index their messages per member: an index is a vector
// over the cluster's member slots (VEC_MAX u32 components; component j-1 is slot j).
// Designed, not yet used by the core's rules: these are the wire forms the runtime
// will carry, and the specs pin them.
//   scalar form: one varint, component 1 (every other component 0): today's bytes;
//   vector form: a varint mask (bit j-1 iff component j is nonzero), then each
//                nonzero component as a varint, ascending. Used only when the
//                scalar form does not fit; a decoder refuses a mask of 0 or 1, a
//                mask bit at or above VEC_MAX, and a listed 0 (not canonical).
export const VEC_MAX: u32 = 16;

/** True when v fits the scalar form (components 2..VEC_MAX are 0). */
export function vecScalar(v: usize): bool {
  for (let j: u32 = 1; j < VEC_MAX; j++) if (load<u32>(v + <usize>j * 4) != 0) return false;
  return true;
}

/** The mask of v's nonzero components. */
export function vecMask(v: usize): u32 {
  let m: u32 = 0;
  for (let j: u32 = 0; j < VEC_MAX; j++) if (load<u32>(v + <usize>j * 4) != 0) m |= 1 << j;
  return m;
}

/** Writes v's nonzero components (the mask's, ascending) at `at`; returns the bytes written. */
export function encodeVecValues(at: usize, v: usize): u32 {
  let n: u32 = 0;
  for (let j: u32 = 0; j < VEC_MAX; j++) {
    const x = load<u32>(v + <usize>j * 4);
    if (x != 0) n += putVarint(at + n, x);
  }
  return n;
}

/** Writes v in vector form (mask, then components) at `at`; returns the bytes written. */
export function encodeVec(at: usize, v: usize): u32 {
  const n = putVarint(at, vecMask(v));
  return n + encodeVecValues(at + n, v);
}

/** Set when the last vector refusal was a non-canonical mask (0 or 1) rather than a listed 0 or a bad bit. */
export let vErrMask: u32 = 0;

/**
 * Reads the components of a vector whose mask is already known (an application
 * frame: the mask is the header's index, the components follow the route) from
 * [at+pos, at+len) into out (VEC_MAX u32, the others zeroed). Returns the bytes
 * used or a negative status; out is unspecified on a refusal.
 */
export function decodeVecValues(at: usize, pos: u32, len: u32, mask: u32, out: usize): i32 {
  vErrMask = 0;
  if (mask <= 1) { vErrMask = 1; return E_HDR_NONCANONICAL; }
  if ((mask >> VEC_MAX) != 0) return E_HDR_NONCANONICAL;
  memory.fill(out, 0, <usize>VEC_MAX * 4);
  let used: u32 = 0;
  for (let j: u32 = 0; j < VEC_MAX; j++) {
    if ((mask & (1 << j)) == 0) continue;
    const r = getVarint(at, pos + used, len);
    if (r < 0) return r;
    if (vOut == 0) return E_HDR_NONCANONICAL;
    store<u32>(out + <usize>j * 4, vOut);
    used += <u32>r;
  }
  return <i32>used;
}

/** Reads a vector in vector form (mask, then components) at [at+pos, at+len) into out. */
export function decodeVec(at: usize, pos: u32, len: u32, out: usize): i32 {
  const r = getVarint(at, pos, len);
  if (r < 0) return r;
  const s = decodeVecValues(at, pos + <u32>r, len, vOut, out);
  return s < 0 ? s : r + s;
}

// @ts-ignore: decorator
@inline function boundKind(kind: u32): bool { return kind == HK_PASSED_AT || kind == HK_BOUND || kind == HK_APPLY; }

/**
 * A passedAt (P, Q), bound or apply header with vector bounds: the scalar form
 * (encode(kind, 0, P[0], ep, Q[0])) when both fit it, otherwise byte 0 with the
 * dirty bit set, then P and Q in vector form (either may then be in any form the
 * vector form allows, a mask of 0 or 1 included: the dirty bit already says
 * "vector form"). Returns the length.
 */
export function encodeBounds(at: usize, kind: u32, ep: u32, P: usize, Q: usize): u32 {
  if (vecScalar(P) && vecScalar(Q)) return encode(at, kind, 0, load<u32>(P), ep, load<u32>(Q));
  store<u8>(at, <u8>(((kind & 7) << 5) | (1 << 4) | (ep & 15)));
  let n: u32 = 1 + putVarint(at + 1, vecMask(P));
  n += encodeVecValues(at + n, P);
  n += putVarint(at + n, vecMask(Q));
  return n + encodeVecValues(at + n, Q);
}

/**
 * Decodes a passedAt, bound or apply header in either form into P and Q (VEC_MAX
 * u32 each); sets hKind, hEpoch, hLen (hDirty = 1 for the vector form). Returns 0
 * or a negative status: E_HDR_KIND for another kind, E_HDR_NONCANONICAL for a
 * vector form whose bounds both fit the scalar form, or a listed 0.
 */
export function decodeBounds(at: usize, len: u32, P: usize, Q: usize): i32 {
  hErrAux = 0;
  if (len == 0) return E_HDR_EMPTY;
  const b0 = <u32>load<u8>(at);
  const kind = b0 >> 5, dirty = (b0 >> 4) & 1;
  if (!boundKind(kind)) return E_HDR_KIND;
  if (dirty == 0) {
    const st = decode(at, len);
    if (st < 0) return st;
    memory.fill(P, 0, <usize>VEC_MAX * 4);
    memory.fill(Q, 0, <usize>VEC_MAX * 4);
    store<u32>(P, hIndex);
    store<u32>(Q, hAux);
    return 0;
  }
  let pos: u32 = 1;
  let r = getVarint(at, pos, len);
  if (r < 0) return r;
  pos += <u32>r;
  let s = bodyOf(at, pos, len, vOut, P);
  if (s < 0) return s;
  pos += <u32>s;
  r = getVarint(at, pos, len);
  if (r < 0) { hErrAux = 1; return r; }
  pos += <u32>r;
  s = bodyOf(at, pos, len, vOut, Q);
  if (s < 0) { hErrAux = 1; return s; }
  pos += <u32>s;
  if (vecScalar(P) && vecScalar(Q)) return E_HDR_NONCANONICAL;
  hKind = kind; hDirty = 1; hEpoch = b0 & 15; hIndex = 0; hAux = 0; hLen = pos;
  return 0;
}

// Inside the bounds' vector form a mask of 0 or 1 is allowed (the other bound needs the form).
function bodyOf(at: usize, pos: u32, len: u32, mask: u32, out: usize): i32 {
  if (mask > 1) return decodeVecValues(at, pos, len, mask, out);
  memory.fill(out, 0, <usize>VEC_MAX * 4);
  if (mask == 0) return 0;
  const r = getVarint(at, pos, len);
  if (r < 0) return r;
  if (vOut == 0) return E_HDR_NONCANONICAL;
  store<u32>(out, vOut);
  return r;
}
