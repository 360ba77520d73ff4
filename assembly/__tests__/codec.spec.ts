import {
  decode, encode, hAux, hErrAux, hDirty, hEpoch, hIndex, hKind, hLen,
  HK_APP, HK_APPLY, HK_BEGIN, HK_BOUND, HK_COUNTER, HK_LAST, HK_PASSED_AT, hasAux,
} from "../codec";
import {
  E_HDR_DIRTY, E_HDR_EMPTY, E_HDR_KIND, E_HDR_NONCANONICAL, E_HDR_OVERFLOW, E_HDR_TRUNCATED,
} from "../constants";

const buf: usize = heap.alloc(64);

function put(i: u32, b: u32): void { store<u8>(buf + i, <u8>b); }
function at(i: u32): u32 { return <u32>load<u8>(buf + i); }
// Writes bytes b0..b5 (those >= 0) at buf; returns how many.
function bytes(b0: i32, b1: i32 = -1, b2: i32 = -1, b3: i32 = -1, b4: i32 = -1, b5: i32 = -1, b6: i32 = -1): u32 {
  const a: i32[] = [b0, b1, b2, b3, b4, b5, b6];
  let n: u32 = 0;
  for (let i = 0; i < a.length; i++) { if (a[i] < 0) break; put(n++, <u32>a[i]); }
  return n;
}

describe("encode", () => {
  it("packs kind, dirty and epoch into byte 0 and the index as minimal LEB128", () => {
    expect(encode(buf, HK_APP, 1, 0, 5, 0)).toBe(2);
    expect(at(0)).toBe(0x15);
    expect(at(1)).toBe(0x00);
    expect(encode(buf, HK_APP, 0, 300, 3, 0)).toBe(3);
    expect(at(0)).toBe(0x03);
    expect(at(1)).toBe(0xAC);
    expect(at(2)).toBe(0x02);
  });
  it("appends the aux varint for PASSED_AT, BOUND, APPLY and COUNTER only", () => {
    expect(encode(buf, HK_PASSED_AT, 0, 300, 3, 127)).toBe(4);
    expect(at(0)).toBe(0x23);
    expect(at(3)).toBe(0x7F);
    expect(encode(buf, HK_COUNTER, 0, 128, 0, 3)).toBe(4);
    expect(at(0)).toBe(0xA0);
    expect(at(1)).toBe(0x80);
    expect(at(2)).toBe(0x01);
    expect(at(3)).toBe(0x03);
    expect(encode(buf, HK_BEGIN, 0, 7, 1, 99)).toBe(2);
    expect(hasAux(HK_APP)).toBe(false);
    expect(hasAux(HK_BEGIN)).toBe(false);
    expect(hasAux(HK_BOUND)).toBe(true);
    expect(hasAux(HK_APPLY)).toBe(true);
  });
  it("writes the maximal index in 5 bytes and the longest header in 11", () => {
    expect(encode(buf, HK_APP, 0, 0xFFFFFFFF, 15, 0)).toBe(6);
    expect(at(0)).toBe(0x0F);
    expect(at(1)).toBe(0xFF);
    expect(at(4)).toBe(0xFF);
    expect(at(5)).toBe(0x0F);
    expect(encode(buf, HK_APPLY, 0, 0xFFFFFFFF, 15, 0xFFFFFFFF)).toBe(11);
  });
  it("masks dirty to 1 bit and the epoch to 4 bits", () => {
    encode(buf, HK_APP, 3, 1, 0x1F, 0);
    expect(at(0)).toBe(0x1F);
  });
});

describe("decode round trips", () => {
  it("recovers every field for every kind, epoch and boundary value", () => {
    const vals: u32[] = [0, 1, 127, 128, 16383, 16384, 2097151, 2097152, 268435455, 268435456, 0xFFFFFFFF];
    let failures = 0;
    let cases = 0;
    for (let kind: u32 = 0; kind <= HK_LAST; kind++) {
      for (let vi = 0; vi < vals.length; vi++) {
        for (let ep: u32 = 0; ep < 16; ep += 5) {
          const dirty: u32 = kind == HK_APP ? <u32>(vi & 1) : 0;
          const aux = vals[vals.length - 1 - vi];
          const n = encode(buf, kind, dirty, vals[vi], ep, aux);
          const st = decode(buf, n);
          cases++;
          if (st != 0 || hKind != kind || hDirty != dirty || hIndex != vals[vi] || hEpoch != ep
              || hAux != (hasAux(kind) ? aux : 0) || hLen != n) failures++;
        }
      }
    }
    expect(cases).toBe(<i32>(HK_LAST + 1) * 11 * 4);
    expect(failures).toBe(0);
  });
  it("reports the header length when a payload follows", () => {
    const n = encode(buf, HK_APP, 1, 200, 9, 0);
    put(n, 0xEE); put(n + 1, 0xFF);
    expect(decode(buf, n + 2)).toBe(0);
    expect(hLen).toBe(n);
    expect(hIndex).toBe(200);
    expect(hDirty).toBe(1);
    expect(hEpoch).toBe(9);
  });
  it("accepts 0xFFFFFFFF written as FF FF FF FF 0F", () => {
    expect(decode(buf, bytes(0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F))).toBe(0);
    expect(hIndex).toBe(0xFFFFFFFF);
    expect(hLen).toBe(6);
  });
});

describe("decode refusals", () => {
  it("empty input", () => {
    expect(decode(buf, 0)).toBe(E_HDR_EMPTY);
  });
  it("unknown kinds (above HK_LAST: kind 7; kind 6 too while it is unassigned)", () => {
    // kind 7 is never assigned
    expect(decode(buf, bytes(0xE0, 0x00))).toBe(E_HDR_KIND);
    expect(decode(buf, bytes(0xFF, 0x00, 0x00))).toBe(E_HDR_KIND);
    let refused: u32 = 0;
    for (let k: u32 = HK_LAST + 1; k <= 7; k++) {
      put(0, k << 5); put(1, 0); put(2, 0);
      if (decode(buf, 3) == E_HDR_KIND) refused++;
      put(0, (k << 5) | 0x15); // with dirty and epoch bits: kind is checked first
      if (decode(buf, 3) == E_HDR_KIND) refused++;
    }
    expect(refused).toBe((7 - HK_LAST) * 2);
    // every kind up to HK_LAST is accepted (HK_CONTROL = 6 was added to codec.ts)
    for (let k: u32 = 0; k <= HK_LAST; k++) {
      put(0, k << 5); put(1, 0); put(2, 0);
      expect(decode(buf, 3)).toBe(0);
      expect(hKind).toBe(k);
    }
  });
  it("a dirty bit on any kind but APP", () => {
    for (let k: u32 = 1; k <= HK_LAST; k++) {
      put(0, (k << 5) | 0x10); put(1, 0); put(2, 0);
      expect(decode(buf, 3)).toBe(E_HDR_DIRTY);
    }
    expect(decode(buf, bytes(0x10, 0x00))).toBe(0);
  });
  it("truncated varints", () => {
    expect(decode(buf, bytes(0x00))).toBe(E_HDR_TRUNCATED);             // no index
    expect(decode(buf, bytes(0x00, 0x80))).toBe(E_HDR_TRUNCATED);       // continuation, then nothing
    expect(decode(buf, bytes(0x00, 0xFF, 0xFF, 0xFF, 0xFF))).toBe(E_HDR_TRUNCATED);
    expect(decode(buf, bytes(0x20, 0x05))).toBe(E_HDR_TRUNCATED);       // PASSED_AT without aux
    expect(decode(buf, bytes(0x20, 0x05, 0x81))).toBe(E_HDR_TRUNCATED); // aux cut short
    // the length bounds the read even when more bytes sit in memory
    bytes(0x00, 0x81, 0x01);
    expect(decode(buf, 2)).toBe(E_HDR_TRUNCATED);
  });
  it("values above 32 bits", () => {
    expect(decode(buf, bytes(0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0x10))).toBe(E_HDR_OVERFLOW);
    expect(decode(buf, bytes(0x00, 0x80, 0x80, 0x80, 0x80, 0x80))).toBe(E_HDR_OVERFLOW); // 6th byte would follow
    expect(decode(buf, bytes(0x00, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00))).toBe(E_HDR_OVERFLOW);
    expect(decode(buf, bytes(0x60, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0x1F))).toBe(E_HDR_OVERFLOW); // aux
  });
  it("non-canonical (over-long) varints", () => {
    expect(decode(buf, bytes(0x00, 0x80, 0x00))).toBe(E_HDR_NONCANONICAL);
    expect(decode(buf, bytes(0x00, 0x81, 0x80, 0x00))).toBe(E_HDR_NONCANONICAL);
    expect(decode(buf, bytes(0x00, 0x80, 0x80, 0x80, 0x80, 0x00))).toBe(E_HDR_NONCANONICAL);
    expect(decode(buf, bytes(0x80, 0x01, 0x85, 0x00))).toBe(E_HDR_NONCANONICAL); // aux of APPLY
    expect(decode(buf, bytes(0x00, 0x00))).toBe(0); // a lone zero is canonical
  });
  it("a refused header leaves the last decoded fields untouched", () => {
    const n = encode(buf, HK_BOUND, 0, 42, 7, 43);
    expect(decode(buf, n)).toBe(0);
    expect(decode(buf, bytes(0x00, 0x80, 0x00))).toBe(E_HDR_NONCANONICAL);
    expect(hKind).toBe(HK_BOUND);
    expect(hIndex).toBe(42);
    expect(hAux).toBe(43);
    expect(hEpoch).toBe(7);
    expect(hLen).toBe(n);
  });
  it("hErrAux tells whether the error was in the aux varint", () => {
    expect(decode(buf, bytes(0x20, 0x05, 0x81))).toBe(E_HDR_TRUNCATED);
    expect(hErrAux).toBe(1);
    expect(decode(buf, bytes(0x20, 0x80))).toBe(E_HDR_TRUNCATED);
    expect(hErrAux).toBe(0);
    expect(decode(buf, bytes(0x20, 0x05, 0x80, 0x00))).toBe(E_HDR_NONCANONICAL);
    expect(hErrAux).toBe(1);
    expect(decode(buf, bytes(0x20, 0x05, 0x05))).toBe(0);
    expect(hErrAux).toBe(0);
  });
});
