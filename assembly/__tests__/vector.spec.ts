// The vector forms of the wire (docs/wire.md "Vectors"): members on several boards.
import {
  decode, decodeBounds, decodeVec, decodeVecValues, encode, encodeBounds, encodeVec, hDirty, hEpoch,
  hErrAux, hIndex, hKind, hLen, HK_APP, HK_APPLY, HK_BEGIN, HK_BOUND, HK_PASSED_AT, VEC_MAX, vecMask,
  vecScalar, vErrMask,
} from "../codec";
import { E_HDR_KIND, E_HDR_NONCANONICAL, E_HDR_TRUNCATED } from "../constants";

const buf: usize = heap.alloc(256);
const P: usize = heap.alloc(VEC_MAX * 4);
const Q: usize = heap.alloc(VEC_MAX * 4);
const A: usize = heap.alloc(VEC_MAX * 4);
const B: usize = heap.alloc(VEC_MAX * 4);

function at(i: u32): u32 { return <u32>load<u8>(buf + i); }
function put(i: u32, b: u32): void { store<u8>(buf + i, <u8>b); }
function bytes(xs: i32[]): u32 { for (let i = 0; i < xs.length; i++) put(i, <u32>xs[i]); return xs.length; }
function clear(v: usize): void { memory.fill(v, 0, <usize>VEC_MAX * 4); }
function set(v: usize, j: u32, x: u32): void { store<u32>(v + <usize>j * 4, x); }
function get(v: usize, j: u32): u32 { return load<u32>(v + <usize>j * 4); }
function same(a: usize, b: usize): bool { return memory.compare(a, b, <usize>VEC_MAX * 4) == 0; }

describe("vector form", () => {
  it("a vector fits the scalar form iff only component 1 is nonzero", () => {
    clear(A);
    expect(vecScalar(A)).toBe(true);
    set(A, 0, 9);
    expect(vecScalar(A)).toBe(true);
    set(A, 15, 1);
    expect(vecScalar(A)).toBe(false);
    expect(vecMask(A)).toBe(0x8001);
  });
  it("writes the mask, then the nonzero components in slot order (docs/wire.md example (3, 5))", () => {
    clear(A); set(A, 0, 3); set(A, 1, 5);
    expect(encodeVec(buf, A)).toBe(3);
    expect(at(0)).toBe(0x03);
    expect(at(1)).toBe(0x03);
    expect(at(2)).toBe(0x05);
    clear(A); set(A, 2, 300);
    expect(encodeVec(buf, A)).toBe(3);
    expect(at(0)).toBe(0x04);
    expect(at(1)).toBe(0xAC);
    expect(at(2)).toBe(0x02);
  });
  it("round trips every mask of 16 slots with boundary values", () => {
    const vals: u32[] = [1, 127, 128, 16384, 0xFFFFFFFF];
    let bad = 0;
    for (let mask: u32 = 2; mask < 0x10000; mask += 257) {
      clear(A);
      for (let j: u32 = 0; j < VEC_MAX; j++) if (mask & (1 << j)) set(A, j, vals[(j + mask) % 5]);
      const n = encodeVec(buf, A);
      memory.fill(B, 0xAB, <usize>VEC_MAX * 4);
      if (decodeVec(buf, 0, n, B) != <i32>n || !same(A, B)) bad++;
    }
    expect(bad).toBe(0);
  });
  it("an application frame: the mask is the header's index, the components follow the route", () => {
    // 10 03 04 04 03 05: app, dirty, epoch 0, mask 3; wire 4, flags FLAG_VEC; (3, 5)
    const n = bytes([0x10, 0x03, 0x04, 0x04, 0x03, 0x05, 0xEE]);
    expect(decode(buf, n)).toBe(0);
    expect(hKind).toBe(HK_APP);
    expect(hIndex).toBe(3);
    expect(decodeVecValues(buf, hLen + 2, n, hIndex, B)).toBe(2);
    expect(get(B, 0)).toBe(3);
    expect(get(B, 1)).toBe(5);
    expect(get(B, 2)).toBe(0);
  });
  it("refuses what is not canonical: a mask of 0 or 1, a mask bit at or above 16, a listed 0", () => {
    expect(decodeVec(buf, 0, bytes([0x00]), B)).toBe(E_HDR_NONCANONICAL);
    expect(vErrMask).toBe(1);
    expect(decodeVec(buf, 0, bytes([0x01, 0x05]), B)).toBe(E_HDR_NONCANONICAL);
    expect(vErrMask).toBe(1);
    expect(decodeVec(buf, 0, bytes([0x80, 0x80, 0x04, 0x01]), B)).toBe(E_HDR_NONCANONICAL);
    expect(vErrMask).toBe(0);
    expect(decodeVec(buf, 0, bytes([0x03, 0x01, 0x00]), B)).toBe(E_HDR_NONCANONICAL);
    expect(vErrMask).toBe(0);
    expect(decodeVec(buf, 0, bytes([0x03, 0x01]), B)).toBe(E_HDR_TRUNCATED);
    expect(decodeVec(buf, 0, bytes([0x03, 0x01, 0x02]), B)).toBe(3);
  });
});

describe("bounds (passedAt, bound, apply) with vectors", () => {
  it("keeps today's bytes when both bounds fit the scalar form: 21 07 02", () => {
    clear(P); clear(Q); set(P, 0, 7); set(Q, 0, 2);
    expect(encodeBounds(buf, HK_PASSED_AT, 1, P, Q)).toBe(3);
    expect(at(0)).toBe(0x21);
    expect(at(1)).toBe(0x07);
    expect(at(2)).toBe(0x02);
    memory.fill(A, 0xAB, <usize>VEC_MAX * 4);
    expect(decodeBounds(buf, 3, A, B)).toBe(0);
    expect(same(A, P)).toBe(true);
    expect(same(B, Q)).toBe(true);
    expect(hDirty).toBe(0);
  });
  it("sets the dirty bit for the vector form: 31 03 02 07 02 01 is P = (2, 7), Q = (0, 1)", () => {
    clear(P); clear(Q); set(P, 0, 2); set(P, 1, 7); set(Q, 1, 1);
    expect(encodeBounds(buf, HK_PASSED_AT, 1, P, Q)).toBe(6);
    const want: u32[] = [0x31, 0x03, 0x02, 0x07, 0x02, 0x01];
    let bad = 0;
    for (let i = 0; i < want.length; i++) if (at(i) != want[i]) bad++;
    expect(bad).toBe(0);
    expect(decodeBounds(buf, 6, A, B)).toBe(0);
    expect(same(A, P)).toBe(true);
    expect(same(B, Q)).toBe(true);
    expect(hKind).toBe(HK_PASSED_AT);
    expect(hDirty).toBe(1);
    expect(hEpoch).toBe(1);
    expect(hLen).toBe(6);
  });
  it("allows one bound in scalar shape inside the vector form, and round trips bound and apply", () => {
    clear(P); clear(Q); set(P, 0, 4); set(Q, 0, 1); set(Q, 3, 2);
    const n = encodeBounds(buf, HK_BOUND, 0, P, Q);
    expect(at(0)).toBe(0x70);
    expect(at(1)).toBe(0x01); // P's mask 1 is allowed here: the dirty bit selects the form
    expect(decodeBounds(buf, n, A, B)).toBe(0);
    expect(same(A, P)).toBe(true);
    expect(same(B, Q)).toBe(true);
    clear(Q);
    set(P, 5, 1000);
    const m = encodeBounds(buf, HK_APPLY, 15, P, Q);
    expect(decodeBounds(buf, m, A, B)).toBe(0);
    expect(same(A, P)).toBe(true);
    expect(same(B, Q)).toBe(true);
    expect(hEpoch).toBe(15);
  });
  it("refuses a vector form whose bounds fit the scalar form, another kind, a listed 0, a truncated Q", () => {
    expect(decodeBounds(buf, bytes([0x30, 0x01, 0x07, 0x01, 0x02]), A, B)).toBe(E_HDR_NONCANONICAL);
    expect(decodeBounds(buf, bytes([0x30, 0x01, 0x00, 0x00]), A, B)).toBe(E_HDR_NONCANONICAL);
    expect(decodeBounds(buf, bytes([0x50, 0x03, 0x01, 0x01, 0x00]), A, B)).toBe(E_HDR_KIND);
    expect(decodeBounds(buf, bytes([0x10, 0x03, 0x01, 0x01, 0x00]), A, B)).toBe(E_HDR_KIND);
    expect(decodeBounds(buf, bytes([0x30, 0x03, 0x01, 0x01, 0x02]), A, B)).toBe(E_HDR_TRUNCATED);
    expect(hErrAux).toBe(1);
    expect(decodeBounds(buf, bytes([0x30, 0x03, 0x01, 0x01, 0x02, 0x05]), A, B)).toBe(0);
    // the core's header decoder still refuses the form (the rules do not use vectors yet)
    expect(decode(buf, 6)).toBeLessThan(0);
    expect(encode(buf, HK_BEGIN, 0, 3, 0, 0)).toBe(2);
    expect(decodeBounds(buf, 2, A, B)).toBe(E_HDR_KIND);
  });
});
